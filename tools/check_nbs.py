"""Every check CI runs (`make test`), in nbdev's order, ending with the line `N passed, N failed`.
1. `nbdev_clean` changes no notebook, `nbdev_export` and `tools/run_nb.py --store` nothing in accel_sgd/ (what git's diff says each command changed);
2. every notebook runs in a fresh process, two at a time, with its time and peak memory: nbdev's `test_nb` in nbs/
   (`#| slow` cells skipped). With ACCEL_SGD_OUTSIDE=1 (or --outside) they run as a learner runs them instead: copied
   alone into a temporary directory, every cell in a Jupyter kernel as Run All runs it (tools/run_nb.py --learner),
   against the package built as a wheel and installed
   in an environment that holds only the wheel (the dependencies are the .venv's, reached through a .pth file, so its
   editable install of the repository is not active);
3. README.md is nbs/index.ipynb's, the wheel's metadata, the imports follow CONTRIBUTING.md's map, the docs site passes.
Usage: python tools/check_nbs.py [--outside] [glob ...]   (a glob runs the matching notebooks only, and no step 3)"""
import os, shutil, subprocess, sys, sysconfig, tempfile, time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
EXTRA_CHECKS = [['tools/make_readme.py', '--check'], ['tools/check_package.py'], ['tools/check_layers.py'], ['tools/test_docs.py']]
# Notebooks that start trainings of their own (torchrun workers, `accel-sgd` runs): never two of them at once
STARTS_PROCESSES = {'05_distributed.ipynb', '05a_launcher.ipynb', '07_cli.ipynb', '07a_main.ipynb', '07b_run.ipynb', '06_benchmarks.ipynb'}
IN_REPO = ("import sys; from pathlib import Path; from nbdev.config import get_config; from nbdev.test import test_nb; cfg = get_config(); "
           "sys.exit(0 if test_nb(Path(sys.argv[1]), skip_flags=cfg.tst_flags.split(), basepath=str(cfg.config_path))[0] else 1)")
PROBE = "import accel_sgd, os, sys; print(accel_sgd.__file__); print(*sys.path, sep='\\n')"


def gb(n: int) -> str: return f'{n / 2**30:.1f} GB'


def changed_by(cmd: list, path: str) -> list:
    "Run `cmd`; the files under `path` it changed, by git's diff against the tree as it was (a tree that was not clean stays comparable)."
    git = lambda *a: subprocess.run(['git', *a], cwd=ROOT, capture_output=True, text=True).stdout.split()
    base, untracked = (git('stash', 'create') or ['HEAD'])[0], lambda: set(git('ls-files', '--others', '--exclude-standard', '--', path))
    before, res = untracked(), subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if res.returncode: return [f'{cmd[0]} failed:\n{res.stdout}{res.stderr}']
    return sorted(set(git('diff', '--name-only', base, '--', path)) | (untracked() ^ before))


def run_notebooks(files, cmd, cwd, env, record) -> int:
    """Run `cmd + [notebook]` for each file, in `cwd`, two at a time (the biggest first, so a short one ends the run), each
    one's processes sampled every half second for their proportional memory (PSS: a page shared by k processes counts 1/k
    in each, so a sum is what the machine holds). Returns the largest sum over all of them."""
    n = int(os.environ.get('NB_WORKERS', min(os.cpu_count() or 1, 2)))
    env.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // n)))    # one thread each: notebooks are mostly Python
    print(f'testing {len(files)} notebooks in {cwd}, {n} at a time, {env["OMP_NUM_THREADS"]} thread(s) each', flush=True)
    pending, running, total = sorted(files, key=lambda f: f.stat().st_size, reverse=True), {}, 0
    while pending or running:
        while len(running) < n:
            busy = any(f.name in STARTS_PROCESSES for f, _, _ in running.values())
            if (f := next((f for f in pending if not (busy and f.name in STARTS_PROCESSES)), None)) is None: break
            pending.remove(f)
            running[psutil.Popen([*cmd, str(cwd/f.name)], cwd=cwd, env=env)] = [f, time.time(), 0]
        gone, _ = psutil.wait_procs(list(running), timeout=0.5)
        now = 0
        for p, job in running.items():
            try: now += (pss := sum(q.memory_full_info().pss for q in [p, *p.children(recursive=True)]))
            except psutil.Error: continue       # a process ended while it was read: the next sample counts
            job[2] = max(job[2], pss)
        total = max(total, now)
        for p in gone:
            f, t0, peak = running.pop(p)
            record(f'{f.name} ({time.time() - t0:.0f} s, peak {gb(peak)})', [] if p.returncode == 0 else ['a cell raised; its traceback is printed above'])
    return total


def outside_env(tmp: Path):
    """A new environment in `tmp/env` holding only the wheel of this checkout, with the .venv's packages for its
    dependencies (a .pth line: the .venv's own .pth files, its editable install among them, are not read); checked."""
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--quiet', '-w', str(tmp/'wheel'), str(ROOT)], check=True)
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(tmp/'env')], check=True)
    py = tmp/'env'/'bin'/'python'
    site = Path(subprocess.run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], capture_output=True, text=True).stdout.strip())
    (site/'_course_deps.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    env['PATH'] = f"{py.parent}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run([py, '-m', 'pip', 'install', '--no-deps', '--no-index', '--ignore-installed', '--quiet', *map(str, (tmp/'wheel').glob('*.whl'))],
                   env=env, check=True)      # the .venv's own (editable) accel_sgd is not this environment's: ignored
    probe = subprocess.run([py, '-c', PROBE], cwd=tmp/'nbs', env=env, capture_output=True, text=True)
    found = (probe.stdout or probe.stderr).split('\n')
    repo = [p for p in found[1:] if p and Path(p).resolve().is_relative_to(ROOT.resolve()) and 'site-packages' not in p]
    if not found[0].startswith(str(site)) or repo:
        raise SystemExit(f'the outside environment is not clean: accel_sgd from {found[0]!r}, repository paths {repo}')
    print(f'outside the repository: {tmp/"nbs"}, accel_sgd from {found[0]}', flush=True)
    return [str(py), str(ROOT/'tools'/'run_nb.py'), '--learner'], env     # the kernel sees the temporary directory only


def main(args):
    outside = '--outside' in args or os.environ.get('ACCEL_SGD_OUTSIDE', '') not in ('', '0')
    globs, outcomes, t0 = [a for a in args if a != '--outside'], [], time.time()
    def record(name, problems):
        outcomes.append(not problems)
        print(f"{'ok' if not problems else 'FAILED':>6}  {name}", flush=True)
        for p in problems: print(f'        {p}', flush=True)
    bin_ = Path(sys.executable).parent
    record('nbdev_clean leaves the notebooks unchanged', [f'cleaned: {f} (run nbdev_clean and commit)' for f in changed_by([str(bin_/'nbdev_clean')], 'nbs')])
    record('nbdev_export leaves accel_sgd/ unchanged', [f'out of sync: {f} (run nbdev_export and commit; never edit accel_sgd/ by hand)'
                                                       for f in changed_by([str(bin_/'nbdev_export')], 'accel_sgd')])
    record('tools/run_nb.py --store leaves accel_sgd/stored_outputs.json unchanged', [f'out of sync: {f} (run tools/run_nb.py --store and commit)'
                                                       for f in changed_by([sys.executable, 'tools/run_nb.py', '--store'], 'accel_sgd')])
    files = sorted({f for g in globs or ['*.ipynb'] for f in (ROOT/'nbs').glob(g) if f.suffix == '.ipynb' and not f.name.startswith(('_', '.'))})
    if not files: raise SystemExit(f"no notebook in nbs/ matches {' '.join(globs)}: nothing was tested")
    with tempfile.TemporaryDirectory(prefix='accel_sgd_course_') as tmp:
        try:
            if outside:
                (Path(tmp)/'nbs').mkdir()
                for f in files: shutil.copy2(f, Path(tmp)/'nbs'/f.name)
                cmd, env = outside_env(Path(tmp))
                peak = run_notebooks(files, cmd, Path(tmp)/'nbs', env, record)
            else: peak = run_notebooks(files, [sys.executable, '-c', IN_REPO], ROOT/'nbs', dict(os.environ), record)
            print(f'peak memory of the notebooks (all their processes together, PSS): {gb(peak)}', flush=True)
        except (SystemExit, subprocess.CalledProcessError) as e: record('the environment outside the repository', [str(e)])
    for cmd in EXTRA_CHECKS if not globs else []:
        res = subprocess.run([sys.executable, *cmd], cwd=ROOT)
        record(' '.join(cmd), [] if res.returncode == 0 else [f'exit code {res.returncode}'])
    print(f'checks took {time.time() - t0:.0f} s')
    print(f'{sum(outcomes)} passed, {len(outcomes) - sum(outcomes)} failed')
    sys.exit(0 if all(outcomes) else 1)


if __name__ == '__main__': main(sys.argv[1:])
