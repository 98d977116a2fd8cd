"""The best test accuracy in a fixed budget of CPU time: a ResNet (`resnet`, blocks of 8 to
256 channels, GeneralRelu) trained on Fashion-MNIST with the augmentation of the course's later
notebooks done on the batch, on the device (`BatchAugmentCB`: each image shifted by up to `--pad`
pixels, flipped left-right with probability 0.5, and with probability `--erase` a random rectangle
replaced by noise), with the fastest settings of this library (bf16 autocast, channels_last,
in-memory loader), Adam (decoupled weight decay) and 1cycle. Prints the test accuracy after every
epoch, and at the end with test-time augmentation (`learn.tta()`: the average of the predicted
probabilities for each test image and its mirror image).

    python bench/resnet.py [--epochs 18] [--bs 512] [--lr 1e-2] [--threads N] [--device cpu|cuda] [--lock]
"""
import argparse, json, sys, time
from functools import partial
from pathlib import Path

import torch, torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import ACT, add_run_args, bench_lock, machine, progress, start_run, subset_dls, sync
from accel_sgd.data import fashion_mnist_dls
from accel_sgd.augment import BatchAugmentCB, random_crop, random_erase, random_flip
from accel_sgd.models import resnet
from accel_sgd.speed import ChannelsLastCB, CompileCB
from accel_sgd.init import init_weights
from accel_sgd.callbacks import MetricsCB, MixedPrecision
from accel_sgd.learner import Callback, DeviceCB, Learner
from accel_sgd.optimizer import adam
from accel_sgd.schedules import OneCycleCB


class EpochLog(Callback):
    "Print each epoch's row as it ends (long runs should show progress), with the time since the fit started."
    order, in_lr_find = 100, False   # it belongs to the fit: the prediction passes of `learn.tta` leave it out
    def __init__(self, device, log=print): self.device, self.log = device, log
    def before_fit(self): sync(self.device); self.start = time.perf_counter()
    def after_epoch(self):
        sync(self.device)
        row = self.learn.history[-1]
        row['elapsed'] = time.perf_counter() - self.start
        progress(f"resnet: epoch {row['epoch'] + 1}/{self.learn.n_epochs} done, test accuracy {row['valid_accuracy']:.4f}")
        self.log(f"| {row['epoch'] + 1} | {row['train_loss']:.4f} | {row['train_accuracy']:.4f} | {row['valid_loss']:.4f} | "
                 f"{row['valid_accuracy']:.4f} | {row['time']:.0f} | {row['elapsed'] / 60:.1f} |")


def run(epochs:int=18, bs:int=512, lr:float=1e-2, nfs=(8, 16, 32, 64, 128, 256), pad:int=1, erase:float=0.25,
        wd:float=0.01, device='cpu', precision:str='bf16', compile:bool=False, lock:bool=False, seed:int=0,
        subset:int|None=None, log=print) -> dict:
    device = torch.device(device)
    dls = subset_dls(fashion_mnist_dls(bs, device=device, seed=seed, valid_bs=1000, drop_last=True), subset)
    torch.manual_seed(seed)
    model = resnet(nfs, act=ACT).apply(partial(init_weights, leaky=0.1))
    tfms = [partial(random_crop, pad=pad)] if pad else []
    tfms += [random_flip] + ([partial(random_erase, p=erase)] if erase else [])
    cbs = [DeviceCB(device), MetricsCB(), OneCycleCB(lr), BatchAugmentCB(*tfms), ChannelsLastCB(), EpochLog(device, log)]
    if precision != 'fp32': cbs.append(MixedPrecision(precision))
    if compile: cbs.append(CompileCB())
    learn = Learner(model, dls, F.cross_entropy, lr=lr, opt_func=partial(adam, wd=wd), cbs=cbs)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"{machine(device)}; ResNet {nfs}, {n_params:,} parameters; {epochs} epochs, bs {bs}, 1cycle lr {lr:g}, "
        f"Adam wd {wd:g}, {precision}, channels_last{', compiled' if compile else ''}; augmentation: {cbs[3]!r}")
    log('| epoch | train loss | train accuracy | test loss | test accuracy | epoch s | elapsed min |')
    log('|---|---|---|---|---|---|---|')
    with bench_lock(lock):
        start = time.perf_counter()
        learn.fit(epochs)
        sync(device); seconds = time.perf_counter() - start
        probs, targets = learn.tta()   # flip TTA, through the learner's callbacks (device, precision, channels_last)
        plain, tta = learn.history[-1]['valid_accuracy'], (probs.argmax(1) == targets).float().mean().item()
    log(f"\n{epochs} epochs in {seconds / 60:.1f} min ({seconds / epochs:.0f} s per epoch): test accuracy {plain:.4f}, "
        f"{tta:.4f} with flip TTA")
    return {'history': learn.history, 'seconds': seconds, 'test_accuracy': plain, 'tta_accuracy': tta, 'params': n_params,
            'epochs': epochs, 'machine': machine(device)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--epochs', type=int, default=18)
    ap.add_argument('--bs', type=int, default=512)
    ap.add_argument('--lr', type=float, default=1e-2)
    ap.add_argument('--wd', type=float, default=0.01)
    ap.add_argument('--nfs', type=int, nargs='+', default=[8, 16, 32, 64, 128, 256])
    ap.add_argument('--pad', type=int, default=1, help='random crop: the largest shift in pixels (0: none)')
    ap.add_argument('--erase', type=float, default=0.25, help='random erasing: the probability per image (0: none)')
    ap.add_argument('--precision', default='bf16', choices=['fp32', 'bf16', 'fp16'])
    ap.add_argument('--compile', action='store_true')
    add_run_args(ap, 'hold the bench lock for the whole run')
    args = ap.parse_args()
    start_run(args)
    result = run(args.epochs, args.bs, args.lr, tuple(args.nfs), args.pad, args.erase, args.wd, args.device, args.precision,
                 args.compile, args.lock, log=lambda s: print(s, flush=True))
    if args.json: Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == '__main__': main()
