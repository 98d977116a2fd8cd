"""How far `lr_find`'s suggestions land from the best peak learning rate of real training runs, on set-ups
that differ in model (the course CNN, an MLP, a small ResNet, the CNN with LayerNorm, the CNN twice as wide),
optimizer (adam, sgd with and without momentum, lion, rmsprop) and batch size. The default rule was chosen on
the course CNN with adam (TUNED); the table counts how often each rule is within 2x on the others.

For each set-up (a model, an optimizer, a batch size, a training budget), all seeded, with 3 seeds (--seeds):

1. `lr_find` with its default arguments on the set-up's training images, once per seed; the curves (the lr and
   the loss of every step) are stored, so that any suggestion rule can be read off it later without training again.
2. A sweep of short training runs: 1cycle (`fit_one_cycle`) for the set-up's epochs at each peak rate of a
   grid of powers 10^(k/4) (1.78x apart), each seed's weights and batches the same for every rate. Training images come
   from the first 50,000 training images; accuracy is measured on the last 5,000 (a validation split: the
   test set is never looked at). The grid spans 2 grid steps either side of the grid rate nearest the
   curve's minimum, and grows at an end while the best rate is at that end (by 6 rates at most). The sweep's best
   rate is the grid rate with the highest validation accuracy, averaged over the seeds.
3. Each suggestion rule of `LRFindResult` (all of them, the default included) read off each stored curve,
   the median over the seeds, and its ratio to the best rate, max(s/b, b/s): 1 is the best rate; the goal for the default is at most 2.
   One more training run at each suggestion listed by --train-at gives its accuracy.

    OMP_NUM_THREADS=1 python bench/lr_find_suggestion.py --json bench/results/lr_find_suggestion.json [--setups NAME ...]
    python bench/lr_find_suggestion.py --json FILE --rescore   # the current rules on the stored curves, no training
    python bench/lr_find_suggestion.py --json /tmp/q.json --quick   # a check that it runs: 2,000 images, 3 rates

The JSON is written after every training run, and a run already in it (same set-up, same rate) is not
repeated: an interrupted bench goes on where it stopped. Budgets are those of a short real run (50,000 images
for 3 epochs; fewer images for the slower models), so the bench takes about an hour of one CPU thread per three
set-ups (two processes with --setups and two JSON files split it); each set-up's 'seconds' are in the JSON.
"""
import argparse, json, math, os, statistics, sys, time
from functools import partial
from pathlib import Path

import torch, torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import ACT, machine, progress
from accel_sgd.callbacks import MetricsCB
from accel_sgd.data import DataLoaders, TensorLoader, load_fashion_mnist
from accel_sgd.learner import Learner
from accel_sgd.lr_finder import LRFindResult
from accel_sgd.models import LayerNorm, course_model, resnet
from accel_sgd.optimizer import adam, lion, rmsprop, sgd
import accel_sgd.schedules   # adds Learner.fit_one_cycle

N_TRAIN, N_VALID = 50_000, 5_000   # training images come from the first 50,000; the last 5,000 validate
GRID_STEP = 0.25                    # decades between the sweep's rates


def mlp(seed:int):
    "Three linear layers (784 -> 256 -> 128 -> 10) with ReLUs, PyTorch's default initialisation; seeded."
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

def small_resnet(seed:int):
    "The library's `resnet` with blocks of 8, 16, 32 and 64 channels and the course's GeneralRelu; seeded."
    torch.manual_seed(seed)
    return resnet((8, 16, 32, 64), act=ACT)

MODELS = {'course': course_model,                                          # 30k parameters, BatchNorm
          'course_wide': partial(course_model, nfs=(1, 16, 32, 64, 128)),   # twice as wide, 109k
          'course_layernorm': partial(course_model, norm=LayerNorm),       # LayerNorm in place of BatchNorm
          'mlp': mlp, 'resnet': small_resnet}
# (factory, whether it has a momentum for 1cycle to cycle); the library's optimizers, uncompiled
OPTIMIZERS = {'adam': (partial(adam, wd=0.01), True), 'sgd_mom': (partial(sgd, mom=0.9), True), 'sgd': (sgd, False),
              'rmsprop': (rmsprop, False), 'lion': (lion, True)}

SETUPS = {   # name: model, optimizer, batch size, training images, epochs: the budgets of a real short run, smaller where the model is slow
    'course_adam':    dict(model='course', opt='adam', bs=128, n_train=50_000, epochs=3),
    'course_sgd_mom': dict(model='course', opt='sgd_mom', bs=128, n_train=50_000, epochs=3),
    'mlp_adam':       dict(model='mlp', opt='adam', bs=128, n_train=50_000, epochs=3),
    'mlp_sgd':        dict(model='mlp', opt='sgd', bs=64, n_train=50_000, epochs=3),
    'resnet_sgd_mom': dict(model='resnet', opt='sgd_mom', bs=128, n_train=10_000, epochs=2),
    'layernorm_lion': dict(model='course_layernorm', opt='lion', bs=128, n_train=20_000, epochs=3),
    'wide_rmsprop':   dict(model='course_wide', opt='rmsprop', bs=256, n_train=20_000, epochs=3),
}
TUNED = ('course_adam',)   # the set-up the default rule was chosen on (the course's model and optimizer); the others were not looked at
SEEDS = (0, 1, 2)   # each rate is trained with each seed (weights and batch order); each seed's lr_find is stored too (--seeds)


def split_dls(fm, bs:int, n_train:int, seed:int) -> DataLoaders:
    "The first `n_train` of the first 50,000 training images, shuffled, and the last 10,000 for validation, normalised with the training part's statistics."
    x_train, y_train = fm.x_train[:N_TRAIN][:n_train, None], fm.y_train[:N_TRAIN][:n_train]
    pixels = fm.x_train[:N_TRAIN].float().div_(255)
    kw = dict(mean=pixels.mean().item(), std=pixels.std().item())
    return DataLoaders(TensorLoader(x_train, y_train, bs, shuffle=True, seed=seed, **kw),
                       TensorLoader(fm.x_train[-N_VALID:, None], fm.y_train[-N_VALID:], 2048, **kw))

def make_learner(setup:dict, fm, seed:int, cbs=()) -> Learner:
    "A fresh learner for `setup`: the model and the loaders seeded with `seed`, the optimizer uncompiled."
    opt_func = partial(OPTIMIZERS[setup['opt']][0], compile=False)
    return Learner(MODELS[setup['model']](seed), split_dls(fm, setup['bs'], setup['n_train'], seed), F.cross_entropy,
                   lr=1e-3, opt_func=opt_func, cbs=list(cbs))

def finite(x): return x if x is not None and math.isfinite(x) else None   # JSON has no NaN

def train_at(setup:dict, fm, lr:float, seed:int) -> dict:
    "One 1cycle run peaking at `lr`; the last epoch's losses and validation accuracy."
    learn = make_learner(setup, fm, seed, [MetricsCB()])
    start = time.perf_counter()
    learn.fit_one_cycle(setup['epochs'], lr, moms=(0.95, 0.85, 0.95) if OPTIMIZERS[setup['opt']][1] else None)
    last = learn.history[-1]
    return {'lr': lr, 'seed': seed, 'valid_accuracy': last['valid_accuracy'], 'valid_loss': finite(last['valid_loss']),
            'train_loss': finite(last['train_loss']), 'seconds': round(time.perf_counter() - start, 1)}


def grid_rate(lr:float) -> int: return round(math.log10(lr) / GRID_STEP)   # the index k of the grid rate 10^(k/4) nearest lr
def rate(k:int) -> float: return float(f"{10 ** (k * GRID_STEP):.4g}")

def runs_at(runs, lr) -> list[dict]: return [r for r in runs if math.isclose(r['lr'], lr, rel_tol=1e-6)]

def mean_accuracy(runs, lr) -> float|None:
    "The validation accuracy at `lr`, averaged over the seeds (None until every seed has run)."
    accs = [r['valid_accuracy'] for r in runs_at(runs, lr)]
    return sum(accs) / len(accs) if len(accs) == len(SEEDS) else None

def sweep(record:dict) -> dict[float, float]:
    "The grid's rates and their mean validation accuracy, in order of rate."
    grid = sorted({r['lr'] for r in record['runs'] if r['grid']})
    return {lr: mean_accuracy(record['runs'], lr) for lr in grid}

def best_rate(record:dict) -> float:
    "The grid rate with the highest mean validation accuracy."
    accs = sweep(record)
    return max((lr for lr in accs if accs[lr] is not None), key=accs.get)

def off_by(lr:float, best:float) -> float: return round(max(lr / best, best / lr), 3)

def score(record:dict):
    "The suggestions of the library's current rules on each seed's stored curve, their median over the seeds, and its ratio to the sweep's best rate."
    best = record['best_lr'] = best_rate(record)
    record['best_accuracy'] = sweep(record)[best]
    record['best_at_end'] = best in (min(sweep(record)), max(sweep(record)))   # then the true best may lie further out
    for curve in record['finder']:
        found = LRFindResult(curve['lrs'], curve['losses'], curve['stopped'])
        curve['suggestions'] = dict(found.suggestions)
        curve['ratios'] = {k: off_by(v, best) for k, v in found.suggestions.items()}
    record['default'] = LRFindResult.default
    record['suggestions'] = {k: statistics.median_low(c['suggestions'][k] for c in record['finder']) for k in record['finder'][0]['suggestions']}
    record['ratios'] = {k: off_by(v, best) for k, v in record['suggestions'].items()}
    record['accuracy_at'] = {k: mean_accuracy(record['runs'], v) for k, v in record['suggestions'].items()}


def train_missing(name, setup, fm, record, lr, grid, save):
    "Train at `lr` with each seed that has not run there yet."
    for seed in SEEDS:
        if any(r['seed'] == seed for r in runs_at(record['runs'], lr)): continue
        progress(f"{name}: training at {lr:.3g}, seed {seed}")
        record['runs'].append({**train_at(setup, fm, lr, seed), 'grid': grid}); save()
        progress(f"{name}:   accuracy {record['runs'][-1]['valid_accuracy']:.4f} ({record['runs'][-1]['seconds']} s)")
    for r in runs_at(record['runs'], lr): r['grid'] = r['grid'] or grid


def run_setup(name:str, setup:dict, fm, record:dict, save, train_rules, half:int=4, max_grow:int=4):
    "Fill `record` for set-up `name`: the finder's curves, the sweep (`half` grid rates either side of the centre, grown at an end while the best is there), the runs at the suggestions."
    config = {k: setup[k] for k in ('model', 'opt', 'bs', 'n_train', 'epochs')}
    if record.get('config') != config: record.clear()   # a changed set-up starts again
    record.update(config=config, seeds=list(SEEDS))
    record.setdefault('runs', []); record.setdefault('finder', [])
    for seed in SEEDS[len(record['finder']):]:
        progress(f"{name}: lr_find, seed {seed}")
        learn, start = make_learner(setup, fm, seed), time.perf_counter()
        found = learn.lr_find(show_plot=False)
        record['finder'].append({'seed': seed, 'lrs': found.lrs, 'losses': found.losses, 'stopped': found.stopped,
                                 'seconds': round(time.perf_counter() - start, 1)}); save()
    minimum = LRFindResult(**{k: record['finder'][0][k] for k in ('lrs', 'losses', 'stopped')}).suggestions['minimum']
    ks = sorted(set(range(grid_rate(minimum) - half, grid_rate(minimum) + half + 1)) | {grid_rate(lr) for lr in sweep(record)})
    grown = len(ks) - (2 * half + 1)   # a resumed sweep counts the rates it has grown already
    while True:
        for k in ks: train_missing(name, setup, fm, record, rate(k), True, save)
        best = grid_rate(best_rate(record))
        if grown >= max_grow or min(ks) < best < max(ks): break
        ks, grown = ks + [best - 1 if best == min(ks) else best + 1], grown + 1
    score(record)
    for rule in train_rules: train_missing(name, setup, fm, record, record['suggestions'][rule], False, save)
    score(record)
    record['seconds'] = round(sum(c['seconds'] for c in record['finder']) + sum(r['seconds'] for r in record['runs']), 1)
    save()


def table(results:dict) -> str:
    "One row per set-up: the best rate and its accuracy, each rule's ratio to it (the median suggestion over the seeds' lr_find), the accuracy at the default suggestion."
    rules = list(next(iter(results.values()))['ratios'])
    lines = [f"{'set-up':18} {'best lr':>8} {'acc':>6}  " + ' '.join(f"{r:>8}" for r in rules) + f"  {'acc at default':>14}"]
    for name, rec in results.items():
        acc = rec['accuracy_at'][rec['default']]
        lines.append(f"{name + (' *' if name in TUNED else ''):18} {rec['best_lr']:7.3g}{'!' if rec['best_at_end'] else ' '} {rec['best_accuracy']:6.4f}  "
                     + ' '.join(f"{rec['ratios'][r]:7.2f}x" for r in rules) + f"  {'not run' if acc is None else f'{acc:.4f}':>14}")
    untuned = [name for name in results if name not in TUNED]
    for rule in rules:
        within = [name for name in untuned if results[name]['ratios'][rule] <= 2]
        lines.append(f"{rule:>8}{' (default)' if rule == LRFindResult.default else ''}: within 2x of the best rate on "
                     f"{len(within)} of the {len(untuned)} set-ups it was not chosen on")
    lines.append(f"(* the set-up the default was chosen on; ! the best rate is at an end of the grid; mean validation accuracy over {len(SEEDS)} seed(s))")
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--json', required=True, help='the results file: read first (finished runs are kept), written after every run')
    ap.add_argument('--setups', nargs='+', choices=list(SETUPS), default=list(SETUPS), help='which set-ups (default: all)')
    ap.add_argument('--train-at', nargs='*', default=None, help="rules whose suggestion gets a training run too (default: 'edge' and the default rule)")
    ap.add_argument('--rescore', action='store_true', help="only read the stored curves again with the library's current rules")
    ap.add_argument('--seeds', type=int, default=3, help='seeds per rate and lr_find curves per set-up (default: %(default)s)')
    ap.add_argument('--quick', action='store_true', help='a check that the script runs: 2,000 images, 1 epoch, 3 rates (and 1 more at an end)')
    args = ap.parse_args()
    global SEEDS
    SEEDS = tuple(range(args.seeds))
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 1)))
    path = Path(args.json)
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault('setups', {})
    data['tuned'] = list(TUNED)
    save = lambda: path.write_text(json.dumps(data, indent=1) + '\n')
    if args.rescore:
        for rec in data['setups'].values(): score(rec)
        save(); print(table(data['setups'])); return
    data['machine'] = machine('cpu')
    fm = load_fashion_mnist()
    train_rules = list(dict.fromkeys(['edge', LRFindResult.default] if args.train_at is None else args.train_at))
    for name in args.setups:
        setup = dict(SETUPS[name])
        if args.quick: setup.update(n_train=2000, epochs=1)
        record = data['setups'].setdefault(name, {})
        run_setup(name, setup, fm, record, save, train_rules, *((1, 1) if args.quick else (2, 6)))
        progress(f"{name}: done in {record['seconds']:.0f} s")
    print(data['machine']); print(table({k: data['setups'][k] for k in args.setups}))

if __name__ == '__main__': main()
