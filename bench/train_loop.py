"""One epoch (a training pass, then a validation pass measuring loss and accuracy) of the same model,
data and optimizer through three training loops: a bare PyTorch loop written by hand, accel_sgd's
Learner, and fastai's Learner; each also through the data path it would normally use. The course's
CNN (`benchlib.course_cnn`: `course_model` at twice its default width) on Fashion-MNIST, batches of
1024, torch.optim.AdamW(lr=1e-3, eps=1e-5) for all (fastai's through its OptimWrapper), no progress bars. The variants run in this one process, interleaved
epoch by epoch, each after one warm-up epoch; the table shows medians and ratios to the bare loop
over in-memory slices.

    python bench/train_loop.py [--reps 7] [--bs 1024] [--threads N] [--device cpu|cuda] [--lock]

--lock takes /tmp/accel_sgd_bench.lock around each timed epoch (instead of running the whole script
under `flock`, which would hold the lock between epochs too)."""
import argparse, json, sys, time
from functools import partial
from pathlib import Path

import torch, torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import add_run_args, bench_lock, course_cnn, import_fastai, loader_dls, machine, median, progress, start_run, subset_dls, sync
from learner_overhead import BareLoop
from accel_sgd.data import fashion_mnist_dls
from accel_sgd.callbacks import MetricsCB
from accel_sgd.learner import DeviceCB, Learner


def variants(bs:int, device, subset:int|None=None):
    "name -> (data path, a function that trains one epoch). Every model starts from the same seeded weights."
    opt_func = partial(torch.optim.AdamW, eps=1e-5)
    def ours(): return subset_dls(fashion_mnist_dls(bs, device=device), subset, subset)
    def loaders(fastai=False): return subset_dls(loader_dls(bs, device, fastai=fastai), subset, subset)
    out = {}
    model = course_cnn(0)
    bare = BareLoop(model, ours(), opt_func(model.parameters(), lr=1e-3), device)
    out['bare loop'] = ('in-memory slices (TensorLoader)', bare.epoch, lambda: bare.model)
    model = course_cnn(0)
    bare_dl = BareLoop(model, loaders(), opt_func(model.parameters(), lr=1e-3), device)
    out['bare loop, torch DataLoader'] = ('torch DataLoader(TensorDataset)', bare_dl.epoch, lambda: bare_dl.model)
    learn = Learner(course_cnn(0), ours(), F.cross_entropy, lr=1e-3, opt_func=opt_func, cbs=[DeviceCB(device), MetricsCB()])
    out['accel_sgd Learner'] = ('in-memory slices (TensorLoader)', lambda: learn.fit(1), lambda: learn.model)
    if import_fastai() is not None:
        from fastai.data.core import DataLoaders as FastaiDataLoaders
        from fastai.learner import Learner as FastaiLearner
        from fastai.metrics import accuracy
        from fastai.optimizer import OptimWrapper
        def fastai_learner(dls):
            learn = FastaiLearner(dls, course_cnn(0).to(device), loss_func=F.cross_entropy, metrics=accuracy,
                                  opt_func=partial(OptimWrapper, opt=opt_func), lr=1e-3)
            def epoch():
                with learn.no_bar(), learn.no_logging(): learn.fit(1, lr=1e-3)
            return learn, epoch
        fa, fa_epoch = fastai_learner(loaders(fastai=True))
        out['fastai Learner'] = ('fastai DataLoader(TensorDataset)', fa_epoch, lambda: fa.model)
        fa_ours = ours()
        fa2, fa2_epoch = fastai_learner(FastaiDataLoaders(fa_ours.train, fa_ours.valid))
        out['fastai Learner, in-memory slices'] = ('in-memory slices (TensorLoader)', fa2_epoch, lambda: fa2.model)
    return out


def run(reps:int=7, bs:int=1024, device='cpu', lock:bool=False, subset:int|None=None) -> dict:
    "Median seconds per epoch of each variant, interleaved; and whether the bare loop and the Learner computed the same weights."
    device = torch.device(device)
    impls = variants(bs, device, subset)
    def timed(epoch):
        "Wall-clock and CPU seconds (this process, all its threads: less sensitive to other processes) of one epoch."
        with bench_lock(lock):
            sync(device); start, cpu = time.perf_counter(), time.process_time()
            epoch(); sync(device)
            return time.perf_counter() - start, time.process_time() - cpu
    for name, (_, epoch, _) in impls.items():
        progress(f'train_loop: warm-up epoch, {name}')
        timed(epoch)
    same = all(torch.equal(p, q) for p, q in zip(impls['bare loop'][2]().state_dict().values(),
                                                  impls['accel_sgd Learner'][2]().state_dict().values()))
    times = {name: [] for name in impls}
    for rep in range(reps):
        progress(f'train_loop: rep {rep + 1}/{reps}, one epoch of each of the {len(impls)} variants')
        for name, (_, epoch, _) in impls.items(): times[name].append(timed(epoch))
    wall = {name: median([t[0] for t in ts]) for name, ts in times.items()}
    cpu = {name: median([t[1] for t in ts]) for name, ts in times.items()}
    rows = [{'variant': name, 'data path': impls[name][0], 'seconds': wall[name], 'ratio': wall[name] / wall['bare loop'],
             'cpu seconds': cpu[name], 'cpu ratio': cpu[name] / cpu['bare loop'], 'all': ts} for name, ts in times.items()]
    return {'rows': rows, 'same_weights': same, 'machine': machine(device), 'reps': reps, 'bs': bs}


def table(result) -> str:
    lines = ['| training loop | data path | wall s per epoch | ratio to bare loop | CPU s per epoch | CPU ratio |', '|---|---|---|---|---|---|']
    lines += [f"| {r['variant']} | {r['data path']} | {r['seconds']:.2f} | {r['ratio']:.2f}x | {r['cpu seconds']:.2f} | {r['cpu ratio']:.2f}x |"
              for r in result['rows']]
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--reps', type=int, default=7, help='timed epochs per variant, interleaved (after a warm-up epoch each)')
    ap.add_argument('--bs', type=int, default=1024)
    add_run_args(ap, 'take the bench lock around each timed epoch')
    args = ap.parse_args()
    start_run(args)
    result = run(args.reps, args.bs, args.device, args.lock)
    print(f"{result['machine']}; one epoch = 59 training + 5 validation batches of {args.bs} (60,000 + 10,000 images); "
          f"median of {args.reps}, interleaved; "
          "CPU time is this process's, all threads (less sensitive to other processes on a busy machine)")
    print(table(result))
    print(f"after the warm-up epoch the bare loop and the accel_sgd Learner hold {'identical' if result['same_weights'] else 'DIFFERENT'} weights")
    if args.json: Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == '__main__': main()
