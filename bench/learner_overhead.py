"""What the Learner costs over a hand-written loop: one epoch (a training pass, then a validation pass
measuring loss and accuracy) of the course's CNN (`benchlib.course_cnn`: `course_model` at twice its default
width) on Fashion-MNIST with AdamW, batches of 1024, through
a bare PyTorch loop and through `Learner` two ways: with all its default callbacks (TrainCB, DeviceCB, MetricsCB,
RecorderCB and ProgressCB, the bars drawn as on a terminal into a buffer), and with TrainCB, DeviceCB and MetricsCB
alone. All run in this one process, interleaved epoch by epoch so that load from elsewhere hits them alike;
the script prints the medians and their ratio (goal: at most 1.03).

`--baseline DIR` times a second copy of the package too (DIR holds its `accel_sgd` folder, e.g. a
`git worktree` of another commit), with TrainCB, DeviceCB and MetricsCB (and the defaults that copy adds), in the
same interleaved loop, so that a change to the Learner is measured side by side with the code before it.

Run it under `flock /tmp/accel_sgd_bench.lock python bench/learner_overhead.py` so that two timing
scripts never run at once."""
import argparse, importlib, importlib.util, io, statistics, sys, time
from contextlib import redirect_stdout
from functools import partial
from pathlib import Path

import torch, torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import course_cnn, progress, sync
from accel_sgd.data import fashion_mnist_dls
from accel_sgd.callbacks import MetricsCB, ProgressCB, RecorderCB
from accel_sgd.learner import DeviceCB, Learner


class BareLoop:
    "The loop as one would write it by hand: the same steps, loss and accuracy summed on the device, read once per pass."
    def __init__(self, model, dls, opt, device):
        self.model, self.dls, self.opt, self.device = model.to(device), dls, opt, device
        self.history = []

    def _pass(self, dl, training):
        self.model.train(training)
        loss_sum, correct, count = torch.zeros((), device=self.device), torch.zeros((), device=self.device), 0
        with torch.set_grad_enabled(training):
            for xb, yb in dl:
                xb, yb = xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)
                preds = self.model(xb)
                loss = F.cross_entropy(preds, yb)
                if training:
                    loss.backward()
                    self.opt.step()
                    self.opt.zero_grad()
                loss_sum += loss.detach() * len(yb)
                correct += (preds.argmax(1) == yb).sum()
                count += len(yb)
        return (loss_sum / count).item(), (correct / count).item()

    def epoch(self):
        train, valid = self._pass(self.dls.train, True), self._pass(self.dls.valid, False)
        self.history.append({'train_loss': train[0], 'train_accuracy': train[1], 'valid_loss': valid[0], 'valid_accuracy': valid[1]})


def load_baseline(path):
    "The `learner` and `callbacks` modules of another copy of the package (the `accel_sgd` folder in `path`), as `accel_sgd_baseline`."
    pkg = Path(path)
    if (pkg / 'accel_sgd' / '__init__.py').exists(): pkg = pkg / 'accel_sgd'
    if not (pkg / '__init__.py').exists(): raise SystemExit(f"--baseline: no accel_sgd package in {path}")
    spec = importlib.util.spec_from_file_location('accel_sgd_baseline', pkg / '__init__.py', submodule_search_locations=[str(pkg)])
    module = importlib.util.module_from_spec(spec)
    sys.modules['accel_sgd_baseline'] = module
    spec.loader.exec_module(module)
    return importlib.import_module('accel_sgd_baseline.learner'), importlib.import_module('accel_sgd_baseline.callbacks')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--reps', type=int, default=9, help='epochs timed per variant (after one warm-up epoch each)')
    ap.add_argument('--bs', type=int, default=1024)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch\'s choice)')
    ap.add_argument('--baseline', default=None, help='a folder holding another copy of the accel_sgd package, timed side by side')
    args = ap.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    opt_func = partial(torch.optim.AdamW, lr=1e-3, eps=1e-5)

    bare_model = course_cnn(0)
    bare = BareLoop(bare_model, fashion_mnist_dls(args.bs, device=device), opt_func(bare_model.parameters()), device)
    def learner(*cbs): return Learner(course_cnn(0), fashion_mnist_dls(args.bs, device=device), F.cross_entropy,
                                      opt_func=partial(torch.optim.AdamW, eps=1e-5), lr=1e-3, cbs=[DeviceCB(device), *cbs])
    learn = learner(ProgressCB(mode='console'))   # every default; bars drawn as on a terminal (into a buffer)
    learners = {'Learner (all defaults)': learn,
                'Learner (TrainCB+DeviceCB+MetricsCB)': learner().remove_cbs(RecorderCB, ProgressCB)}
    if args.baseline:
        base_learner, base_callbacks = load_baseline(args.baseline)
        learners['baseline Learner (--baseline)'] = base_learner.Learner(
            course_cnn(0), fashion_mnist_dls(args.bs, device=device), F.cross_entropy, opt_func=partial(torch.optim.AdamW, eps=1e-5),
            lr=1e-3, cbs=[base_learner.DeviceCB(device), base_callbacks.MetricsCB()])

    def timed(run):
        "Wall-clock and CPU (this process, all threads) seconds of `run()`, its printing (bars, tables) kept in a buffer."
        sync(device); wall, cpu = time.perf_counter(), time.process_time()
        with redirect_stdout(io.StringIO()): run()
        sync(device)
        return time.perf_counter() - wall, time.process_time() - cpu
    def time_bare(): return timed(bare.epoch)

    time_bare()   # warm-up; all have now trained one identical epoch
    for one in learners.values(): timed(lambda: one.fit(1))
    same = all(all(torch.equal(p, q) for p, q in zip(bare.model.state_dict().values(), one.model.state_dict().values()))
               for one in learners.values())
    print(f"after the warm-up epoch: weights {'identical' if same else 'DIFFERENT'}; valid accuracy "
          f"bare {bare.history[-1]['valid_accuracy']:.4f}, "
          + ', '.join(f"{name} {one.history[-1]['valid_accuracy']:.4f}" for name, one in learners.items()))
    times = {'bare loop': [], **{name: [] for name in learners}}
    for rep in range(args.reps):   # interleaved, so drift in the machine's load hits all alike
        progress(f'learner_overhead: rep {rep + 1}/{args.reps}, one epoch of each loop')
        times['bare loop'].append(time_bare())
        for name, one in learners.items(): times[name].append(timed(lambda: one.fit(1)))

    n_batches = len(learn.dls.train) + len(learn.dls.valid)
    print(f"one epoch ({len(learn.dls.train)} training + {len(learn.dls.valid)} validation batches, bs {args.bs}, "
          f"{device}, {torch.get_num_threads()} threads), median of {args.reps}; wall clock, and CPU time of this "
          "process (less sensitive to other processes on a busy machine):")
    print(f"{'variant':40} {'wall s':>8} {'ratio':>6} {'cpu s':>8} {'ratio':>6}   (ratios to the bare loop)")
    medians = {name: [statistics.median(t[i] for t in ts) for i in (0, 1)] for name, ts in times.items()}
    base = medians['bare loop']
    for name, (wall, cpu) in medians.items():
        print(f"{name:40} {wall:8.3f} {wall / base[0]:6.3f} {cpu:8.3f} {cpu / base[1]:6.3f}")
    for name, ts in times.items(): print(f"  {name} wall s per epoch: {' '.join(f'{t[0]:.2f}' for t in ts)}")
    for name in learners:
        if name.startswith('baseline'): continue
        wall, cpu = medians[name]
        print(f"{name}: overhead per batch {(wall - base[0]) / n_batches * 1e6:.0f} us wall, {(cpu - base[1]) / n_batches * 1e6:.0f} us cpu; "
              f"ratio {wall / base[0]:.3f} wall, {cpu / base[1]:.3f} cpu (goal <= 1.03)")
        if args.baseline:
            bw, bc = medians['baseline Learner (--baseline)']
            print(f"  / the baseline's Learner: {wall / bw:.3f} wall, {cpu / bc:.3f} cpu")
    if not same: raise SystemExit("the loops did not compute the same weights")


if __name__ == '__main__': main()
