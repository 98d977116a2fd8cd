"""The Fashion-MNIST speedrun side by side in one run: the reference R (the course's recipe), every step of
`accel_sgd.speedrun.ABLATION` (the 90%, 92% and 94% records are steps of it),
and fastai 2's Learner on R's recipe. Runs interleave seed by seed, so
that R is timed under the same conditions as everything it is compared with; every time is also given as a
multiple of R (the median over R's runs), with the spread of the runs (the largest distance of a run from the
median, as a share of it).

Every recipe runs once per seed, 5 seeds by default, so that each record is timed at least 5 times. Seeds rather
than repeats of one seed: a seed changes a run's random draws, not its work (the same shapes and the same number
of steps), so five seeds time the same arithmetic five times, and give five accuracies besides. The goals state
the mean test accuracy over 3 seeds: the table gives the mean over seeds 0, 1, 2 beside the mean over all.

Each recipe also states its model FLOPs for the whole run (`recipe_flops`) and their rate at its median time as a
share of the matrix-multiply peak in the recipe's precision (`matmul_peak`: 2048 x 2048, the bench's threads),
measured in the same process before the first run and after the last; the larger of the two is the peak.

    python bench/speedrun.py [--seeds 5] [--threads N] [--valid] [--only NAME ...] [--no-fastai] [--json FILE]
"""
import argparse, json, os, random, statistics, time
from dataclasses import asdict, replace

import torch, torch.nn.functional as F

from accel_sgd.speedrun import (ABLATION, DTYPES, RECORDS, cpu_description, matmul_peak, recipe_flops, recipe_precision,
                                run_recipe, speedrun_data, spread)
from accel_sgd.models import course_model


def fastai_reference(seed:int, data, lr:float=6e-2, epochs:int=5, bs:int=1024):
    "R's recipe in fastai 2 (its Learner, DataLoader, Adam and fit_one_cycle): (test accuracy, seconds); None without fastai."
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            from fastai.data.core import DataLoaders
            from fastai.data.load import DataLoader
            from fastai.learner import Learner
            from fastai.metrics import accuracy
            from fastai.optimizer import Adam
            import fastai.callback.schedule  # noqa: F401  (adds fit_one_cycle)
    except ImportError: return None
    x, y, xt, yt = data
    start = time.perf_counter()
    torch.manual_seed(seed); random.seed(seed)
    dls = DataLoaders(DataLoader(list(zip(x, y)), bs=bs, shuffle=True, drop_last=True), DataLoader(list(zip(xt, yt)), bs=2000))
    learn = Learner(dls, course_model(seed), loss_func=F.cross_entropy, metrics=accuracy, opt_func=Adam, wd=0.01)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr)
    return float(learn.recorder.values[-1][-1]), time.perf_counter() - start


def peaks(precisions, threads) -> dict:
    "The matrix-multiply peak (FLOP/s) in each precision, with `threads` threads."
    return {p: matmul_peak(DTYPES[p], threads=threads) for p in precisions}


def table(runs, recipes, flops, peak, ref) -> list[dict]:
    "One row per recipe: accuracy over seeds 0-2 and over all, median seconds, x R, spread, model FLOPs, share of the peak."
    rows = []
    for n in dict.fromkeys(r['name'] for r in runs):
        mine = [r for r in runs if r['name'] == n]
        secs = [r['seconds'] for r in mine]
        t, precision = statistics.median(secs), recipe_precision(recipes.get(n, recipes['reference R']), 'cpu')
        rows.append({'name': n, 'seeds': len(mine), 'accuracy_3': statistics.mean(r['accuracy'] for r in mine if r['seed'] < 3),
                     'accuracy': statistics.mean(r['accuracy'] for r in mine), 'median_seconds': t, 'ratio': t / ref,
                     'spread': spread(secs), 'flops': flops[n], 'precision': precision, 'peak_share': flops[n] / t / peak[precision]})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=5, help='seeds 0..N-1 for every recipe (default 5: a record timed 5 times)')
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--valid', action='store_true', help='measure on the validation split (the last 10,000 training images)')
    ap.add_argument('--only', nargs='*', default=None, help='names of the recipes to run (default: all)')
    ap.add_argument('--no-fastai', action='store_true')
    ap.add_argument('--json', default=None, help='write the results here')
    args = ap.parse_args(argv)
    if args.seeds < 1: ap.error(f"--seeds must be at least 1, got {args.seeds}")
    if args.seeds < 5: print(f"note: {args.seeds} seed(s): fewer than the 5 runs a record's time and spread need", flush=True)
    torch.set_num_threads(args.threads)
    recipes = {r.name: r for r in ABLATION}
    recipes = {n: r for n, r in recipes.items() if args.only is None or n in args.only or n == 'reference R'}
    load_start = os.getloadavg()[0]
    print(f"CPU: {cpu_description()}; {torch.get_num_threads()} threads; load average {load_start:.1f} at the start", flush=True)
    data = speedrun_data(valid=args.valid)
    flops = {n: recipe_flops(r, len(data[0]), len(data[2])) for n, r in recipes.items()}
    flops['fastai R'] = flops['reference R']   # the same model, steps and test set
    precisions = sorted({recipe_precision(r, 'cpu') for r in recipes.values()})
    peak_start = peaks(precisions, args.threads)
    runs, warmed = [], set()
    for seed in range(args.seeds):
        for name, recipe in recipes.items():
            acc, secs, warm = run_recipe(recipe, seed, data, warmup=name not in warmed)
            warmed.add(name)
            runs.append({'name': name, 'seed': seed, 'accuracy': acc, 'seconds': secs, 'warmup': warm, 'load': os.getloadavg()[0]})
            print(f"seed {seed} {name:28} accuracy {acc:.4f} {secs:6.1f} s (warm-up {warm:.1f} s)", flush=True)
        if not args.no_fastai:
            out = fastai_reference(seed, data)
            if out is not None:
                runs.append({'name': 'fastai R', 'seed': seed, 'accuracy': out[0], 'seconds': out[1], 'warmup': 0., 'load': os.getloadavg()[0]})
                print(f"seed {seed} {'fastai R':28} accuracy {out[0]:.4f} {out[1]:6.1f} s", flush=True)
    peak_end = peaks(precisions, args.threads)
    peak = {p: max(peak_start[p], peak_end[p]) for p in precisions}
    ref = statistics.median(r['seconds'] for r in runs if r['name'] == 'reference R')
    print(f"\nR = {ref:.1f} s (median of {args.seeds}); load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print('matrix-multiply peak, 2048x2048, ' + ', '.join(f"{p}: {peak_start[p] / 1e9:.1f} GFLOP/s before the runs, "
                                                            f"{peak_end[p] / 1e9:.1f} after" for p in precisions))
    rows = table(runs, recipes, flops, peak, ref)
    print("| recipe | mean accuracy, seeds 0-2 | mean accuracy, all seeds | median s | x R | spread | model TFLOP | share of the peak |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        records = [rec.name for rec in RECORDS.values() if r['name'] in recipes and replace(rec, name=r['name']) == recipes[r['name']]]
        print(f"| {r['name']}{' (' + ', '.join(records) + ')' if records else ''} | {r['accuracy_3']:.4f} | {r['accuracy']:.4f} | "
              f"{r['median_seconds']:.1f} | {r['ratio']:.2f} | +-{r['spread']:.0%} | {r['flops'] / 1e12:.3f} | "
              f"{r['peak_share']:.0%} of {r['precision']} |")
    if args.json:
        result = {'cpu': cpu_description(), 'threads': torch.get_num_threads(), 'split': 'validation' if args.valid else 'test',
                  'seeds': args.seeds, 'load_start': load_start, 'load_end': os.getloadavg()[0], 'reference_seconds': ref,
                  'peak_flops_start': peak_start, 'peak_flops_end': peak_end, 'rows': rows,
                  'recipes': {n: asdict(r) for n, r in recipes.items()}, 'runs': runs}
        with open(args.json + '.tmp', 'w') as f: json.dump(result, f, indent=1)
        os.replace(args.json + '.tmp', args.json)


if __name__ == '__main__': main()
