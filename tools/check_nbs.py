"""Every check CI runs, in nbdev's own order, ending with a line `N passed, N failed`.

1. `nbdev_clean` leaves the notebooks unchanged (they were committed clean);
2. `nbdev_export` leaves `accel_sgd/` unchanged (library and notebooks in sync);
3. every notebook runs (nbdev's `test_nb`, the function behind `nbdev_test`), one result per notebook;
4. README.md is generated from nbs/index.ipynb; the docs site builds and passes its browser test.

Usage: python tools/check_nbs.py [glob ...]   (a glob restricts step 3 to matching notebooks)
"""
import hashlib, multiprocessing, os, resource, subprocess, sys, threading, time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Commands run after the notebooks; each prints its own detail and exits non-zero on failure.
EXTRA_CHECKS = [['tools/make_readme.py', '--check'],   # README.md is what nbs/index.ipynb generates
                ['tools/check_package.py'],             # the wheel's metadata: classifiers, licence, URLs, links
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


def _test_one(path, skip_flags, basepath):
    """Run one notebook with nbdev's `test_nb` in this (fresh) process: its result, seconds, and the peak resident
    memory in bytes of this process and of the largest subprocess it started (e.g. a torchrun worker)."""
    from nbdev.test import test_nb
    ok, secs = test_nb(path, skip_flags=skip_flags, basepath=basepath)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024        # Linux reports KiB
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return ok, secs, own, kids


class TreeMemory:
    "Samples the resident memory of this process and all its descendants; `peak` is the largest sum seen."
    def __init__(self, every:float=0.5):
        self.peak, self.every, self._stop = 0, every, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
    def _sample(self):
        me = psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try: total += p.memory_info().rss
            except psutil.Error: pass
        self.peak = max(self.peak, total)
    def _run(self):
        while not self._stop.wait(self.every): self._sample()
    def __enter__(self): self._thread.start(); return self
    def __exit__(self, *exc): self._stop.set(); self._thread.join()


def gb(n:int) -> str: return f'{n / 2**30:.1f} GB'


def run_notebooks(globs, record):
    """Test the notebooks matching `globs`, two at a time, each in a fresh process (a worker that ran one notebook
    would keep its memory for the next), calling `record` as each finishes. Returns the peak memory of the tree."""
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    cfg = get_config()
    files = sorted({f.absolute() for g in (globs or ['*.ipynb']) for f in nbglob(file_glob=g, as_path=True)})
    if not files: raise SystemExit(f"no notebook in {cfg.nbs_path} matches {' '.join(globs)}: nothing was tested")
    # Two notebooks at a time on a 2-core machine, each with one intra-op thread, beats
    # one notebook with two threads: most notebook time is Python and small tensors.
    n_workers = int(os.environ.get('NB_WORKERS', min(os.cpu_count() or 1, 2)))
    os.environ.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // n_workers)))
    os.chdir(cfg.nbs_path)
    # The biggest notebooks (most outputs: the longest runs) first, so that the last to finish is a short one.
    files.sort(key=lambda f: f.stat().st_size, reverse=True)
    print(f'testing {len(files)} notebooks, {n_workers} at a time, {os.environ["OMP_NUM_THREADS"]} thread(s) each', flush=True)
    ctx = multiprocessing.get_context('spawn')
    with TreeMemory() as tree, ProcessPoolExecutor(n_workers, mp_context=ctx, max_tasks_per_child=1) as pool:
        futures = {pool.submit(_test_one, f, cfg.tst_flags.split(), str(cfg.config_path)): f for f in files}
        for fut in as_completed(futures):
            f = futures[fut]
            try: ok, secs, own, kids = fut.result()
            except Exception as e: record(f.name, [f'the test process died: {e!r}']); continue
            memory = f'peak {gb(own)}' + (f', subprocesses {gb(kids)}' if kids > 2**28 else '')
            record(f'{f.name} ({secs:.0f} s, {memory})', [] if ok else ['a cell raised; its traceback is printed above'])
    return tree.peak


def main():
    globs = sys.argv[1:]
    outcomes = []  # (name, passed, detail)

    def record(name, problems):
        outcomes.append((name, not problems, problems))
        status = 'ok' if not problems else 'FAILED'
        print(f'{status:>6}  {name}', flush=True)
        for p in problems: print(f'        {p}', flush=True)

    t0 = time.time()
    changed = changed_by([str(BIN/'nbdev_clean')], [ROOT/'nbs'])
    record('nbdev_clean leaves the notebooks unchanged',
           [f'cleaned: {f} (run nbdev_clean and commit)' for f in changed])
    changed = changed_by([str(BIN/'nbdev_export')], [ROOT/'accel_sgd'])
    record('nbdev_export leaves accel_sgd/ unchanged',
           [f'out of sync: {f} (run nbdev_export and commit; never edit accel_sgd/ by hand)' for f in changed])

    peak = run_notebooks(globs, record)
    print(f'        peak memory of the notebook runs (all processes together): {gb(peak)}', flush=True)

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
