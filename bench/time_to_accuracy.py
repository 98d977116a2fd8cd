"""Seconds to a target test accuracy on Fashion-MNIST: the course's CNN (`benchlib.course_cnn`, twice
its default width) to 90%, a deeper CNN (the course's notebook 13, stride-1 stem) to 92%. The same recipe for every variant: the model's seeded
weights, batches of 512 (the last partial training batch dropped), Adam with decoupled weight decay
0.01 (mom 0.9, sqr_mom 0.99, eps 1e-5 and wd 0.01 are fastai's defaults; this library's `adam` shares the
first three and is given wd=0.01), 1cycle to `--lr` over `--epochs` epochs, the test set measured after every epoch. What changes is how the
work is done:

- accel_sgd's Learner over in-memory slices, in fp32; with bf16 autocast (`MixedPrecision`); plus
  `channels_last` (`ChannelsLastCB`); plus `torch.compile` (`CompileCB`);
- fastai's Learner (`fit_one_cycle`, its own `Adam`, weight decay on every parameter like ours) over
  its DataLoader, in fp32, and with its `ChannelsLast` callback. fastai's `MixedPrecision` autocasts
  on CUDA only, so on a CPU fastai has no bf16 to offer.

Time to target = wall time from the start of the fit (compilation included) to the end of the first
validation pass whose accuracy reaches the target. The variants of one model run interleaved, `--reps`
times; the table shows medians.

    python bench/time_to_accuracy.py [--models course deeper] [--reps 1] [--threads N] [--device cpu|cuda] [--lock]
"""
import argparse, json, sys, time
from functools import partial
from pathlib import Path

import torch, torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import MODELS, add_run_args, bench_lock, import_fastai, loader_dls, machine, median, progress, start_run, subset_dls, sync
from accel_sgd.data import fashion_mnist_dls
from accel_sgd.speed import ChannelsLastCB, CompileCB
from accel_sgd.callbacks import MetricsCB, MixedPrecision
from accel_sgd.learner import Callback, DeviceCB, Learner
from accel_sgd.optimizer import adam
from accel_sgd.schedules import OneCycleCB

# model -> (target accuracy, epochs, peak learning rate)
RECIPES = {'course': (0.90, 6, 6e-2), 'deeper': (0.92, 6, 6e-2)}
OURS = {'fp32': (), 'bf16': ('bf16',), 'bf16 + channels_last': ('bf16', 'channels_last'),
        'bf16 + channels_last + compile': ('bf16', 'channels_last', 'compile'), 'fp32 + compile': ('compile',)}
FASTAI = {'fastai fp32': (), 'fastai channels_last': ('channels_last',)}
VARIANTS = list(OURS) + list(FASTAI)
VALID_BS = 1000   # 10 equal batches: one shape for a compiled model to see


class Clock(Callback):
    "Wall-clock and CPU seconds since the fit started, at the end of every epoch (after the validation pass)."
    order = 100
    def __init__(self, device): self.device, self.times, self.cpu_times = device, [], []
    def before_fit(self): sync(self.device); self.start, self.cpu_start = time.perf_counter(), time.process_time()
    def after_epoch(self):
        sync(self.device)
        self.times.append(time.perf_counter() - self.start); self.cpu_times.append(time.process_time() - self.cpu_start)


def train_ours(model:str, settings:tuple, epochs:int, lr:float, bs:int, device, seed:int=0, subset:int|None=None):
    "(seconds at the end of each epoch, test accuracy after each epoch) for accel_sgd's Learner with `settings`."
    dls = subset_dls(fashion_mnist_dls(bs, device=device, seed=seed, valid_bs=VALID_BS, drop_last=True), subset)
    clock = Clock(device)
    cbs = [DeviceCB(device), MetricsCB(), OneCycleCB(lr), clock]
    if 'bf16' in settings: cbs.append(MixedPrecision('bf16'))
    if 'channels_last' in settings: cbs.append(ChannelsLastCB())
    if 'compile' in settings: cbs.append(CompileCB())
    learn = Learner(MODELS[model](seed), dls, F.cross_entropy, lr=lr, opt_func=partial(adam, wd=0.01), cbs=cbs)
    learn.fit(epochs)
    return clock.times, clock.cpu_times, [row['valid_accuracy'] for row in learn.history]


def train_fastai(model:str, settings:tuple, epochs:int, lr:float, bs:int, device, seed:int=0, subset:int|None=None):
    "The same for fastai's Learner with `fit_one_cycle`."
    from fastai.callback.core import Callback as FastaiCallback
    from fastai.callback.channelslast import ChannelsLast
    from fastai.learner import Learner as FastaiLearner
    from fastai.metrics import accuracy
    from fastai.optimizer import Adam as FastaiAdam
    class FastaiClock(FastaiCallback):
        order = 100
        def before_fit(self): sync(device); self.start, self.cpu_start, self.times, self.cpu_times = time.perf_counter(), time.process_time(), [], []
        def after_epoch(self):
            sync(device)
            self.times.append(time.perf_counter() - self.start); self.cpu_times.append(time.process_time() - self.cpu_start)
    dls = subset_dls(loader_dls(bs, device, seed=seed, fastai=True, valid_bs=VALID_BS, drop_last=True), subset)
    clock = FastaiClock()
    cbs = [clock] + ([ChannelsLast()] if 'channels_last' in settings else [])
    learn = FastaiLearner(dls, MODELS[model](seed), loss_func=F.cross_entropy, metrics=accuracy, opt_func=FastaiAdam,
                          wd_bn_bias=True, cbs=cbs)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr)
    return clock.times, clock.cpu_times, [float(values[-1]) for values in learn.recorder.values]


def run(models=('course', 'deeper'), variants=VARIANTS, reps:int=1, bs:int=512, device='cpu', lock:bool=False,
        recipes=None, log=print) -> dict:
    "Every variant of every model, `reps` times interleaved: their per-epoch clocks and accuracies."
    recipes = {**RECIPES, **(recipes or {})}
    device = torch.device(device)
    has_fastai = import_fastai() is not None
    variants = [v for v in variants if v in OURS or has_fastai]
    results = {}
    for model in models:
        target, epochs, lr = recipes[model]
        runs = {v: [] for v in variants}
        for rep in range(reps):
            for i, v in enumerate(variants):
                progress(f'time_to_accuracy: {model} CNN, rep {rep + 1}/{reps}, variant {i + 1}/{len(variants)} ({v}): {epochs} epochs')
                with bench_lock(lock):
                    train = train_ours if v in OURS else train_fastai
                    times, cpu_times, accs = train(model, {**OURS, **FASTAI}[v], epochs, lr, bs, device, seed=rep)
                reached = next((i for i, a in enumerate(accs) if a >= target), None)
                runs[v].append({'times': times, 'cpu_times': cpu_times, 'accs': accs,
                                'epochs_to_target': None if reached is None else reached + 1,
                                'seconds_to_target': None if reached is None else times[reached],
                                'cpu_seconds_to_target': None if reached is None else cpu_times[reached]})
                log(f"  {model} rep {rep} {v}: accuracy {' '.join(f'{a:.4f}' for a in accs)}; "
                    f"{times[-1]:.1f} s; target {'reached at epoch ' + str(reached + 1) if reached is not None else 'not reached'}")
        results[model] = {'target': target, 'epochs': epochs, 'lr': lr, 'runs': runs}
    return {'results': results, 'machine': machine(device), 'reps': reps, 'bs': bs}


def summarise(model_result) -> list[dict]:
    "One row per variant: medians over the repeats."
    rows, base = [], None
    for v, runs in model_result['runs'].items():
        first = median([r['times'][0] for r in runs])
        hits = [r['seconds_to_target'] for r in runs if r['seconds_to_target'] is not None]
        cpu_hits = [r['cpu_seconds_to_target'] for r in runs if r['cpu_seconds_to_target'] is not None]
        row = {'variant': v, 'first epoch s': first, 's per later epoch': median([b - a for r in runs for a, b in zip(r['times'], r['times'][1:])] or [float('nan')]),
               'reached': f"{len(hits)}/{len(runs)}", 'epochs to target': median([r['epochs_to_target'] for r in runs if r['epochs_to_target']]) if hits else None,
               's to target': median(hits) if hits else None, 'CPU s to target': median(cpu_hits) if cpu_hits else None,
               'final accuracy': median([r['accs'][-1] for r in runs]),
               'total s': median([r['times'][-1] for r in runs])}
        if v == 'fp32': base = row
        rows.append(row)
    for row in rows:
        row['vs fp32'] = row['total s'] / base['total s'] if base else None
    return rows


def table(result) -> str:
    out = []
    for model, res in result['results'].items():
        out.append(f"\n{model} model, target {res['target']:.0%}, {res['epochs']} epochs of 1cycle to lr {res['lr']:g}, "
                   f"bs {result['bs']}, median of {result['reps']}:")
        out.append('| variant | first epoch (s) | later epochs (s each) | total (s) | total vs fp32 | final test accuracy | '
                   'reached target | epochs to target | seconds to target | CPU seconds to target |')
        out.append('|---|---|---|---|---|---|---|---|---|---|')
        for r in summarise(res):
            fmt = lambda v, f: '-' if v is None else f.format(v)
            out.append(f"| {r['variant']} | {r['first epoch s']:.1f} | {r['s per later epoch']:.1f} | {r['total s']:.1f} | "
                       f"{fmt(r['vs fp32'], '{:.2f}x')} | {r['final accuracy']:.4f} | {r['reached']} | {fmt(r['epochs to target'], '{:g}')} | "
                       f"{fmt(r['s to target'], '{:.1f}')} | {fmt(r['CPU s to target'], '{:.1f}')} |")
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--models', nargs='+', default=list(RECIPES), choices=list(RECIPES))
    ap.add_argument('--variants', nargs='+', default=VARIANTS, choices=VARIANTS)
    ap.add_argument('--reps', type=int, default=1, help='runs of each variant, interleaved (seeds 0, 1, ...)')
    ap.add_argument('--epochs', type=int, default=None, help='override the recipe\'s epochs')
    ap.add_argument('--bs', type=int, default=512)
    add_run_args(ap, 'take the bench lock around each training run')
    args = ap.parse_args()
    start_run(args)
    recipes = {m: (t, args.epochs, lr) for m, (t, e, lr) in RECIPES.items()} if args.epochs else None
    print(machine(args.device), flush=True)
    result = run(args.models, args.variants, args.reps, args.bs, args.device, args.lock, recipes,
                 log=lambda s: print(s, flush=True))
    print(table(result))
    if args.json: Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == '__main__': main()
