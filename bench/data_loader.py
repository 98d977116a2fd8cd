"""One epoch of Fashion-MNIST training batches (shuffled, batch size 1024, the data already loaded as tensors),
four ways, side by side in one run and interleaved, so that a change in the machine's load hits all alike:

- the floor: one `out.copy_(x)` of the training set's uint8 pixels into a preallocated float32 tensor, the bytes
  any loader must move (read each pixel once, write it once as float32);
- a plain batched gather, `x.index_select(0, idx).float()` per batch, with nothing else (no normalisation, no labels);
- accel_sgd's `TensorLoader` (gathered, converted and normalised batches, with their labels);
- torch's `DataLoader` over a `TensorDataset` of the already normalised images, with its default collation.

Prints each one's median time, the spread of its times (the interquartile range, as a share of the median),
its ratio to the floor, and the two ratios that matter: TensorLoader / floor and DataLoader / TensorLoader."""
import argparse, statistics, sys, time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import machine, progress, sync
from accel_sgd.data import fashion_mnist_dls, load_fashion_mnist


def epoch(batches, device):
    "A function that runs through one epoch of `batches` (an iterable, or a function returning one)."
    def run():
        for xb, yb in (batches() if callable(batches) else batches): pass
        sync(device)
    return run


def quartiles(ts):
    "The 25th, 50th and 75th percentiles of `ts`."
    q1, q2, q3 = statistics.quantiles(ts, n=4, method='inclusive')
    return q1, q2, q3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--reps', type=int, default=21, help='epochs timed per way (default 21)')
    ap.add_argument('--bs', type=int, default=1024)
    ap.add_argument('--device', default='cpu', help="where the data lives: cpu (default) or cuda")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    ours = fashion_mnist_dls(bs=args.bs, device=device).train
    fm = load_fashion_mnist()
    x_u8, bs = ours.x, args.bs                           # the uint8 images (N, 1, 28, 28) as the loader holds them
    out, perm = torch.empty(x_u8.shape, device=device), ours.order(0)
    def floor():
        out.copy_(x_u8); sync(device)
    def gather():
        for i in range(0, len(perm), bs): yield x_u8.index_select(0, perm[i:i + bs]).float(), None
    x_norm = ((fm.x_train[:, None].float() / 255 - ours.mean) / ours.std).to(device)
    torch_dl = DataLoader(TensorDataset(x_norm, fm.y_train.to(device)), batch_size=bs, shuffle=True)
    runs = {'one copy, uint8 -> float32 (the floor)': floor,
            'index_select(...).float() per batch': epoch(gather, device),
            'TensorLoader (accel_sgd)': epoch(ours, device),
            'DataLoader(TensorDataset), default collate': epoch(torch_dl, device)}
    times = {k: [] for k in runs}
    for run in runs.values(): run()                      # warm-up
    for rep in range(args.reps):                         # interleaved, so drift hits all alike
        progress(f'data_loader: rep {rep + 1}/{args.reps}, one epoch each way')
        for k, run in runs.items():
            t0 = time.perf_counter(); run(); times[k].append(time.perf_counter() - t0)
    stats = {k: quartiles(ts) for k, ts in times.items()}
    base = stats['one copy, uint8 -> float32 (the floor)'][1]
    print(f"one epoch of {len(x_u8):,} images in batches of {bs} on {device}: median of {args.reps}, interleaved")
    print(machine(device))
    print(f"{'way':46} {'median ms':>10} {'IQR ms':>15} {'spread':>7} {'/ floor':>8}")
    for k, (q1, q2, q3) in stats.items():
        print(f"{k:46} {q2*1000:10.1f} {f'{q1*1000:.1f}-{q3*1000:.1f}':>15} {(q3 - q1)/q2:6.0%} {q2/base:7.2f}x")
    loader, torch_time = stats['TensorLoader (accel_sgd)'][1], stats['DataLoader(TensorDataset), default collate'][1]
    print(f"TensorLoader / floor: {loader/base:.2f}x;  DataLoader / TensorLoader: {torch_time/loader:.1f}x")


if __name__ == '__main__': main()
