"""What the Learner costs over a hand-written loop: one epoch (a training pass, then a validation pass
measuring loss and accuracy) of the course's CNN (`benchlib.course_cnn`: `course_model` at twice its default
width) on Fashion-MNIST with AdamW, batches of 1024, through
a bare PyTorch loop and through `Learner` with its default callbacks (TrainCB, DeviceCB) plus MetricsCB.
Both run in this one process, interleaved epoch by epoch so that load from elsewhere hits both alike;
the script prints the medians and their ratio (goal: at most 1.03).

Run it under `flock /tmp/accel_sgd_bench.lock python bench/learner_overhead.py` so that two timing
scripts never run at once."""
import argparse, statistics, sys, time
from functools import partial
from pathlib import Path

import torch, torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import course_cnn, progress, sync
from accel_sgd.data import fashion_mnist_dls
from accel_sgd.callbacks import MetricsCB
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--reps', type=int, default=9, help='epochs timed per variant (after one warm-up epoch each)')
    ap.add_argument('--bs', type=int, default=1024)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch\'s choice)')
    args = ap.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    opt_func = partial(torch.optim.AdamW, lr=1e-3, eps=1e-5)

    bare_model = course_cnn(0)
    bare = BareLoop(bare_model, fashion_mnist_dls(args.bs, device=device), opt_func(bare_model.parameters()), device)
    learn = Learner(course_cnn(0), fashion_mnist_dls(args.bs, device=device), F.cross_entropy,
                    opt_func=partial(torch.optim.AdamW, eps=1e-5), lr=1e-3, cbs=[DeviceCB(device), MetricsCB()])

    def timed(run):
        "Wall-clock and CPU (this process, all threads) seconds of `run()`."
        sync(device); wall, cpu = time.perf_counter(), time.process_time()
        run(); sync(device)
        return time.perf_counter() - wall, time.process_time() - cpu
    def time_bare(): return timed(bare.epoch)
    def time_learner(): return timed(lambda: learn.fit(1))

    time_bare(); time_learner()   # warm-up; both have now trained one identical epoch
    same = all(torch.equal(p, q) for p, q in zip(bare.model.state_dict().values(), learn.model.state_dict().values()))
    row_bare, row_learn = bare.history[-1], learn.history[-1]
    print(f"after the warm-up epoch: weights {'identical' if same else 'DIFFERENT'}; valid accuracy "
          f"bare {row_bare['valid_accuracy']:.4f}, learner {row_learn['valid_accuracy']:.4f}")
    times = {'bare loop': [], 'Learner (TrainCB+DeviceCB+MetricsCB)': []}
    for rep in range(args.reps):   # interleaved, so drift in the machine's load hits both alike
        progress(f'learner_overhead: rep {rep + 1}/{args.reps}, one epoch of each loop')
        times['bare loop'].append(time_bare())
        times['Learner (TrainCB+DeviceCB+MetricsCB)'].append(time_learner())

    n_batches = len(learn.dls.train) + len(learn.dls.valid)
    print(f"one epoch ({len(learn.dls.train)} training + {len(learn.dls.valid)} validation batches, bs {args.bs}, "
          f"{device}, {torch.get_num_threads()} threads), median of {args.reps}; wall clock, and CPU time of this "
          "process (less sensitive to other processes on a busy machine):")
    print(f"{'variant':40} {'wall s':>8} {'ratio':>6} {'cpu s':>8} {'ratio':>6}")
    medians = {name: [statistics.median(t[i] for t in ts) for i in (0, 1)] for name, ts in times.items()}
    base = medians['bare loop']
    for name, (wall, cpu) in medians.items():
        print(f"{name:40} {wall:8.3f} {wall / base[0]:6.3f} {cpu:8.3f} {cpu / base[1]:6.3f}")
    for name, ts in times.items(): print(f"  {name} wall s per epoch: {' '.join(f'{t[0]:.2f}' for t in ts)}")
    wall, cpu = medians['Learner (TrainCB+DeviceCB+MetricsCB)']
    print(f"overhead per batch: {(wall - base[0]) / n_batches * 1e6:.0f} us wall, {(cpu - base[1]) / n_batches * 1e6:.0f} us cpu; "
          f"ratio {wall / base[0]:.3f} wall, {cpu / base[1]:.3f} cpu (goal <= 1.03)")
    if not same: raise SystemExit("the two loops did not compute the same weights")


if __name__ == '__main__': main()
