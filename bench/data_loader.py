"""One epoch of Fashion-MNIST training batches: accel_sgd's in-memory TensorLoader vs torch's
DataLoader over a TensorDataset with default collation (both shuffled, batch size 1024, the
data already loaded as tensors), measured side by side in one run, interleaved, medians."""
import argparse, statistics, sys, time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import progress
from accel_sgd.data import fashion_mnist_dls, load_fashion_mnist


def epoch_time(dl):
    t0 = time.perf_counter()
    for xb, yb in dl: pass
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--reps', type=int, default=15, help='epochs timed per loader')
    ap.add_argument('--bs', type=int, default=1024)
    args = ap.parse_args()
    torch.manual_seed(0)
    ours = fashion_mnist_dls(bs=args.bs, device='cpu').train
    fm = load_fashion_mnist()
    x = (fm.x_train[:, None].float() / 255 - ours.mean) / ours.std
    loaders = {'TensorLoader (accel_sgd)': ours,
               'DataLoader(TensorDataset), default collate': DataLoader(TensorDataset(x, fm.y_train), batch_size=args.bs, shuffle=True)}
    times = {k: [] for k in loaders}
    for dl in loaders.values(): epoch_time(dl)            # warm-up
    for rep in range(args.reps):                             # interleaved, so drift hits both alike
        progress(f'data_loader: rep {rep + 1}/{args.reps}, one epoch of each loader')
        for k, dl in loaders.items(): times[k].append(epoch_time(dl))
    base = statistics.median(times['TensorLoader (accel_sgd)'])
    print(f"one epoch of {len(fm.x_train):,} images in batches of {args.bs}, median of {args.reps} ({torch.get_num_threads()} threads)")
    print(f"{'loader':46} {'median ms':>10} {'ratio':>7}")
    for k, ts in times.items():
        m = statistics.median(ts)
        print(f"{k:46} {m*1000:10.1f} {m/base:6.1f}x")


if __name__ == '__main__': main()
