"""The Fashion-MNIST speedrun side by side in one run: the reference R (the course's recipe), every step of
`accel_sgd.speedrun.ABLATION` (the 90%, 92% and 94% records are steps of it),
and fastai 2's Learner on R's recipe. Runs interleave seed by seed, so
that R is timed under the same conditions as everything it is compared with; every time is also given as a
multiple of R (the median over R's runs).

    python bench/speedrun.py [--seeds 3] [--threads N] [--valid] [--only NAME ...] [--no-fastai] [--json FILE]
"""
import argparse, json, os, random, statistics, time
from dataclasses import asdict, replace

import torch, torch.nn.functional as F

from accel_sgd.speedrun import ABLATION, RECORDS, cpu_description, run_recipe, speedrun_data
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--valid', action='store_true', help='measure on the validation split (the last 10,000 training images)')
    ap.add_argument('--only', nargs='*', default=None, help='names of the recipes to run (default: all)')
    ap.add_argument('--no-fastai', action='store_true')
    ap.add_argument('--with-94', action='store_true', help='no effect: the 94%% record is a step of ABLATION, run with the others')
    ap.add_argument('--json', default=None, help='write the results here')
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    recipes = {r.name: r for r in ABLATION}
    recipes = {n: r for n, r in recipes.items() if args.only is None or n in args.only or n == 'reference R'}
    load_start = os.getloadavg()[0]
    print(f"CPU: {cpu_description()}; {torch.get_num_threads()} threads; load average {load_start:.1f} at the start", flush=True)
    data = speedrun_data(valid=args.valid)
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
    ref = statistics.median(r['seconds'] for r in runs if r['name'] == 'reference R')
    print(f"\nR = {ref:.1f} s (median of {args.seeds}); load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print("| recipe | mean accuracy | median s | x R |\n|---|---|---|---|")
    names = list(dict.fromkeys(r['name'] for r in runs))
    for n in names:
        mine = [r for r in runs if r['name'] == n]
        t = statistics.median(r['seconds'] for r in mine)
        records = [rec.name for rec in RECORDS.values() if n in recipes and replace(rec, name=n) == recipes[n]]
        print(f"| {n}{' (' + ', '.join(records) + ')' if records else ''} | {statistics.mean(r['accuracy'] for r in mine):.4f} | {t:.1f} | {t/ref:.2f} |")
    if args.json:
        result = {'cpu': cpu_description(), 'threads': torch.get_num_threads(), 'split': 'validation' if args.valid else 'test',
                  'seeds': args.seeds, 'load_start': load_start, 'load_end': os.getloadavg()[0], 'reference_seconds': ref,
                  'recipes': {n: asdict(r) for n, r in recipes.items()}, 'runs': runs}
        with open(args.json + '.tmp', 'w') as f: json.dump(result, f, indent=1)
        os.replace(args.json + '.tmp', args.json)


if __name__ == '__main__': main()
