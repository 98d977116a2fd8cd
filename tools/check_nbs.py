"""Every check CI runs, in nbdev's own order, ending with a line `N passed, N failed`.

1. `nbdev_clean` leaves the notebooks unchanged (they were committed clean);
2. `nbdev_export` leaves `accel_sgd/` unchanged (library and notebooks in sync);
3. every notebook runs (nbdev's `test_nb`, the function behind `nbdev_test`), one result per notebook;
4. README.md is generated from nbs/index.ipynb; the docs site builds and passes its browser test.

Usage: python tools/check_nbs.py [glob ...]   (a glob restricts step 3 to matching notebooks)
"""
import hashlib, multiprocessing, os, subprocess, sys, threading, time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
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
    "Run one notebook with nbdev's `test_nb` in this (fresh) process: its result, seconds, and this process's id."
    from nbdev.test import test_nb
    ok, secs = test_nb(path, skip_flags=skip_flags, basepath=basepath)
    return ok, secs, os.getpid()


class TreeMemory:
    """Samples the memory of this process and all its descendants; `peak` is the largest sum seen, `at_peak` the
    processes that made it up, `subtree_peak[pid]` the largest sum seen for each child and its descendants.
    Each process counts its proportional set size (PSS: a page shared by k processes counts 1/k in each), so
    that the sum is the memory the tree really holds: summing resident sizes would count torch's libraries
    and every forked worker's copy-on-write pages once per process."""
    def __init__(self, every:float=0.5):
        self.peak, self.at_peak, self.busy_at_peak, self.subtree_peak = 0, [], [], {}
        self.busy = lambda: []  # names of the jobs under way, reported with the peak
        self.every, self._stop, self.failed_samples = every, threading.Event(), 0
        self._thread = threading.Thread(target=self._run, daemon=True)
    def _sample(self):
        me, sizes, total = psutil.Process(), [], 0
        try: own = me.memory_full_info().pss
        except psutil.Error: own = 0
        sizes.append((own, 'this script'))
        for child in me.children():
            subtree = 0
            try: tree = [child, *child.children(recursive=True)]
            except psutil.Error: continue          # it ended while being listed
            for p in tree:
                try: n = p.memory_full_info().pss; sizes.append((n, _label(p))); subtree += n
                except psutil.Error: pass
            self.subtree_peak[child.pid] = max(self.subtree_peak.get(child.pid, 0), subtree)
        total = sum(n for n, _ in sizes)
        if total > self.peak: self.peak, self.at_peak, self.busy_at_peak = total, sorted(sizes, reverse=True), self.busy()
    def _run(self):
        while not self._stop.wait(self.every):
            try: self._sample()
            except Exception as e:   # e.g. a process ended mid-sample: the next sample counts again
                self.failed_samples += 1
                self.first_failure = getattr(self, 'first_failure', None) or repr(e)
    def __enter__(self): self._thread.start(); return self
    def __exit__(self, *exc): self._stop.set(); self._thread.join()


def _label(p) -> str:
    "A short name for process `p`: its command line's first words."
    try: cmd = p.cmdline()
    except psutil.Error: return '?'
    return ' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd[:3]))[:60]


# Notebooks that start training processes of their own (torchrun workers, `accel-sgd` runs, bench scripts):
# two of them at once would hold four trainings in memory, so at most one of them runs at a time.
STARTS_PROCESSES = {'05_distributed.ipynb', '07_cli.ipynb', '06_benchmarks.ipynb', '07a_main.ipynb'}


def gb(n:int) -> str: return f'{n / 2**30:.1f} GB'


def run_notebooks(globs, record, tree):
    """Test the notebooks matching `globs`, two at a time, each in a fresh process (a worker that ran one notebook
    would keep its memory for the next), calling `record` as each finishes; `tree` (a `TreeMemory`) watches their memory."""
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
    pending, running = list(files), {}
    def next_file():
        "The biggest pending notebook, but never a second one that starts processes of its own."
        busy = any(f.name in STARTS_PROCESSES for f in running.values())
        return next((f for f in pending if not (busy and f.name in STARTS_PROCESSES)), None)
    with ProcessPoolExecutor(n_workers, mp_context=ctx, max_tasks_per_child=1) as pool:
        tree.busy = lambda: [f.name for f in list(running.values())]
        while pending or running:
            while len(running) < n_workers and (f := next_file()) is not None:
                pending.remove(f)
                running[pool.submit(_test_one, f, cfg.tst_flags.split(), str(cfg.config_path))] = f
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                f = running.pop(fut)
                try: ok, secs, pid = fut.result()
                except Exception as e: record(f.name, [f'the test process died: {e!r}']); continue
                record(f'{f.name} ({secs:.0f} s, peak {gb(tree.subtree_peak.get(pid, 0))})',
                       [] if ok else ['a cell raised; its traceback is printed above'])


def main():
    globs = sys.argv[1:]
    outcomes = []  # (name, passed, detail)

    def record(name, problems):
        outcomes.append((name, not problems, problems))
        status = 'ok' if not problems else 'FAILED'
        print(f'{status:>6}  {name}', flush=True)
        for p in problems: print(f'        {p}', flush=True)

    t0 = time.time()
    with TreeMemory() as tree:
        tree.busy = lambda: ['nbdev_clean, nbdev_export']
        changed = changed_by([str(BIN/'nbdev_clean')], [ROOT/'nbs'])
        record('nbdev_clean leaves the notebooks unchanged',
               [f'cleaned: {f} (run nbdev_clean and commit)' for f in changed])
        changed = changed_by([str(BIN/'nbdev_export')], [ROOT/'accel_sgd'])
        record('nbdev_export leaves accel_sgd/ unchanged',
               [f'out of sync: {f} (run nbdev_export and commit; never edit accel_sgd/ by hand)' for f in changed])

        run_notebooks(globs, record, tree)

        if not globs:
            for cmd in EXTRA_CHECKS:
                if not (ROOT/cmd[0]).exists(): continue
                tree.busy = lambda: [cmd[0]]
                res = subprocess.run([sys.executable, *cmd], cwd=ROOT)
                record(' '.join(cmd), [] if res.returncode == 0 else [f'exit code {res.returncode}'])
    print(f'\npeak memory of all the checks (all processes together, PSS): {gb(tree.peak)}, while running '
          f"{', '.join(tree.busy_at_peak)}: " + ', '.join(f'{gb(n)} {name}' for n, name in tree.at_peak[:6]), flush=True)
    if tree.failed_samples: print(f"({tree.failed_samples} memory samples failed, the first with {tree.first_failure})", flush=True)

    n_fail = sum(not ok for _, ok, _ in outcomes)
    print(f'checks took {time.time()-t0:.0f} s')
    print(f'{len(outcomes)-n_fail} passed, {n_fail} failed')
    sys.exit(1 if n_fail else 0)


if __name__ == '__main__': main()
