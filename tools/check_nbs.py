"""Every check CI runs, in nbdev's own order, ending with a line `N passed, N failed`.

1. `nbdev_clean` leaves the notebooks unchanged (they were committed clean);
2. `nbdev_export` leaves `accel_sgd/` unchanged (library and notebooks in sync);
3. every notebook runs (nbdev's `test_nb`, the function behind `nbdev_test`), one result per notebook;
4. README.md is generated from nbs/index.ipynb; the docs site builds and passes its browser test.

Usage: python tools/check_nbs.py [glob ...]   (a glob restricts step 3 to matching notebooks)
"""
import hashlib, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Commands run after the notebooks; each prints its own detail and exits non-zero on failure.
EXTRA_CHECKS = [['tools/make_readme.py', '--check'],   # README.md is what nbs/index.ipynb generates
                ['tools/docs_test.py']]                 # the docs site, built and tested in a browser


def snapshot(paths):
    "Content hash of every file under `paths`, to see what a command changed."
    files = {}
    for base in paths:
        for p in sorted(Path(base).rglob('*')):
            if p.is_file() and '__pycache__' not in p.parts and '.ipynb_checkpoints' not in p.parts:
                files[str(p.relative_to(ROOT))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return files


def changed_by(cmd, paths):
    "Run `cmd` and return the files under `paths` that it created, changed or removed."
    before = snapshot(paths)
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if res.returncode != 0: return [f'{cmd[0]} failed:\n{res.stdout}{res.stderr}']
    after = snapshot(paths)
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def run_notebooks(globs):
    from fastcore.parallel import parallel
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    from nbdev.test import test_nb
    cfg = get_config()
    files = sorted({f.absolute() for g in (globs or ['*.ipynb']) for f in nbglob(file_glob=g, as_path=True)})
    if not files: raise SystemExit(f"no notebook in {cfg.nbs_path} matches {' '.join(globs)}: nothing was tested")
    # Two notebooks at a time on a 2-core machine, each with one intra-op thread, beats
    # one notebook with two threads: most notebook time is Python and small tensors.
    n_workers = int(os.environ.get('NB_WORKERS', min(os.cpu_count() or 1, 4)))
    os.environ.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // n_workers)))
    os.chdir(cfg.nbs_path)
    results = parallel(test_nb, files, skip_flags=cfg.tst_flags.split(), n_workers=n_workers,
                       basepath=cfg.config_path, pause=0.01)
    return [(f.name, ok, t) for f, (ok, t) in zip(files, results)]


def main():
    globs = sys.argv[1:]
    outcomes = []  # (name, passed, detail)

    def record(name, problems):
        outcomes.append((name, not problems, problems))
        status = 'ok' if not problems else 'FAILED'
        print(f'{status:>6}  {name}')
        for p in problems: print(f'        {p}')

    t0 = time.time()
    changed = changed_by([str(BIN/'nbdev_clean')], [ROOT/'nbs'])
    record('nbdev_clean leaves the notebooks unchanged',
           [f'cleaned: {f} (run nbdev_clean and commit)' for f in changed])
    changed = changed_by([str(BIN/'nbdev_export')], [ROOT/'accel_sgd'])
    record('nbdev_export leaves accel_sgd/ unchanged',
           [f'out of sync: {f} (run nbdev_export and commit; never edit accel_sgd/ by hand)' for f in changed])

    for name, ok, secs in run_notebooks(globs):
        record(f'{name} ({secs:.0f} s)', [] if ok else ['a cell raised; its traceback is printed above'])

    if not globs:
        for cmd in EXTRA_CHECKS:
            if not (ROOT/cmd[0]).exists(): continue
            res = subprocess.run([sys.executable, *cmd], cwd=ROOT)
            record(' '.join(cmd), [] if res.returncode == 0 else [f'exit code {res.returncode}'])

    n_fail = sum(not ok for _, ok, _ in outcomes)
    print(f'\nchecks took {time.time()-t0:.0f} s')
    print(f'{len(outcomes)-n_fail} passed, {n_fail} failed')
    sys.exit(1 if n_fail else 0)


if __name__ == '__main__': main()
