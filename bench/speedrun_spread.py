"""Why the same speedrun run takes 4.1 s one time and 7.4 s the next: one record, run k times in one process,
under one condition at a time, with each candidate cause of the spread measured rather than guessed.

    python bench/speedrun_spread.py [--target 0.90] [--runs 5] [--threads N] [--only COND ...]
                                    [--interleave] [--n-train N] [--json FILE]

Each condition runs in a process of its own (this script with `--child COND`), since some of them (inductor's
compile threads, the allocator) must be set before torch is imported. The child warms the record up once, as
`accel-sgd speedrun` does, then runs it `--runs` times with seed 0: the same work every time, so whatever
varies is the machine. With `--interleave`, R runs before each run of the record, as in the command.

For every timed run it records:
- `seconds`, and `cpu_seconds` (user + system, all threads): wall time well above cpu / threads means that
  threads waited, for a core, for each other or for memory;
- `involuntary_switches` (getrusage): times the kernel took a core away, mostly to give it to another process;
- `minor_faults`: pages touched for the first time, e.g. memory the allocator gave back to the OS and maps again;
- `child_cpu_seconds`: CPU time of the process's descendants, such as inductor's compile workers; any during a
  timed run means compiling went on after the warm-up;
- `compiled_graphs`: graphs torch.compile made during the run (a recompile for a shape or guard the warm-up
  did not see); read from `torch._dynamo.utils.counters`, a diagnostic counter, not an API;
- `load_before`, `load_after`: the 1-minute load average around the run (other tenants).

The conditions, each one change from the baseline:
- `baseline`: the record as `accel-sgd speedrun` runs it, one torch thread per core;
- `compile_threads_1`: TORCHINDUCTOR_COMPILE_THREADS=1, so inductor compiles in this process, with no pool of
  compile worker processes left running after the warm-up;
- `no_gc`: Python's garbage collector off during each timed run (a collection just before it);
- `malloc_keep`: glibc keeps what is freed (GLIBC_TUNABLES: allocations up to 32 MiB from the heap, never
  trimmed), so the activations of a step are not unmapped and faulted in again at every step;
- `omp_passive`: OMP_WAIT_POLICY=PASSIVE, OpenMP threads sleep at the end of an operation instead of spinning;
- `one_thread`: one torch thread, no OpenMP team to keep in step.

The summary gives, per condition, the runs' median and spread (the largest distance from the median, as a
share of it), the first run against the median of the rest, and the mean of each measure. Linux only (/proc).
The numbers mean something on a quiet machine only: check the load averages it prints.
"""
import argparse, json, os, resource, statistics, subprocess, sys, time

CONDITIONS = {
    'baseline': {},
    'compile_threads_1': {'TORCHINDUCTOR_COMPILE_THREADS': '1'},
    'no_gc': {},
    'malloc_keep': {'GLIBC_TUNABLES': 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184'},
    'omp_passive': {'OMP_WAIT_POLICY': 'PASSIVE'},
    'one_thread': {},
}
TICKS = os.sysconf('SC_CLK_TCK')


def descendants_cpu(root:int) -> float:
    "CPU seconds (user + system) of the processes below `root`, read from /proc."
    parent, cpu = {}, {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit(): continue
        try:
            with open(f'/proc/{entry}/stat') as f: fields = f.read().rsplit(')', 1)[1].split()
        except OSError: continue   # ended while we looked
        parent[int(entry)], cpu[int(entry)] = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0., [root]
    while todo:
        pid = todo.pop()
        for child, ppid in parent.items():
            if ppid == pid: total += cpu[child]; todo.append(child)
    return total


def snapshot() -> dict:
    import torch._dynamo.utils as dynamo_utils
    use = resource.getrusage(resource.RUSAGE_SELF)
    return {'time': time.perf_counter(), 'cpu': use.ru_utime + use.ru_stime, 'nivcsw': use.ru_nivcsw, 'minflt': use.ru_minflt,
            'children': descendants_cpu(os.getpid()), 'load': os.getloadavg()[0],
            'graphs': dynamo_utils.counters['stats']['unique_graphs']}


def measured(before:dict, after:dict) -> dict:
    return {'seconds': after['time'] - before['time'], 'cpu_seconds': after['cpu'] - before['cpu'],
            'involuntary_switches': after['nivcsw'] - before['nivcsw'], 'minor_faults': after['minflt'] - before['minflt'],
            'child_cpu_seconds': after['children'] - before['children'], 'compiled_graphs': after['graphs'] - before['graphs'],
            'load_before': before['load'], 'load_after': after['load']}


def child(args):
    "Warm the record up, then time `args.runs` runs of it; print one JSON line."
    import gc, logging, torch
    from accel_sgd.speedrun import (recipe_learner, record_for, reference_recipe, run_recipe, speedrun_data, test_accuracy,
                                    warmup_data)
    logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)
    torch.set_num_threads(1 if args.child == 'one_thread' else args.threads)
    recipe, data = record_for(args.target), speedrun_data(n_train=args.n_train)
    before = snapshot()
    learn = recipe_learner(recipe, 0, warmup_data(recipe, data))   # the warm-up of `run_recipe`, measured apart
    learn.fit(1, valid=False); test_accuracy(learn, recipe.tta)
    if args.interleave: run_recipe(reference_recipe(), 0, data, warmup=True)
    warmup, runs = measured(before, snapshot()), []
    for _ in range(args.runs):
        if args.interleave: run_recipe(reference_recipe(), 0, data, warmup=False)
        if args.child == 'no_gc': gc.collect(); gc.disable()
        before = snapshot()
        acc, _, _ = run_recipe(recipe, 0, data, warmup=False)
        runs.append({**measured(before, snapshot()), 'accuracy': acc})
        gc.enable()
    print(json.dumps({'condition': args.child, 'threads': torch.get_num_threads(), 'warmup': warmup, 'runs': runs}))


def summary(result:dict) -> str:
    secs = [r['seconds'] for r in result['runs']]
    median = statistics.median(secs)
    spread = max(abs(t - median) for t in secs) / median
    rest = statistics.median(secs[1:]) if len(secs) > 1 else secs[0]
    mean = lambda key: statistics.mean(r[key] for r in result['runs'])
    return (f"| {result['condition']} | {result['threads']} | {', '.join(f'{t:.2f}' for t in secs)} | {median:.2f} | +-{spread:.0%} | "
            f"{secs[0] / rest:.2f} | {mean('cpu_seconds') / median:.2f} | {mean('involuntary_switches'):.0f} | "
            f"{mean('minor_faults'):.0f} | {mean('child_cpu_seconds'):.2f} | {mean('compiled_graphs'):.1f} | "
            f"{min(r['load_before'] for r in result['runs']):.1f}-{max(r['load_after'] for r in result['runs']):.1f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--target', type=float, default=0.90, help='the record to run: 0.90, 0.92 or 0.94 (default 0.90)')
    ap.add_argument('--runs', type=int, default=5, help='timed runs per condition, after the warm-up (default 5)')
    ap.add_argument('--threads', type=int, default=os.cpu_count(), help='torch threads (default: one per core)')
    ap.add_argument('--only', nargs='*', choices=list(CONDITIONS), default=None, help='the conditions to run (default: all)')
    ap.add_argument('--interleave', action='store_true', help='run R before each run of the record, as `accel-sgd speedrun` does')
    ap.add_argument('--n-train', type=int, default=None, help='train on the first N images only (a quick check of this script)')
    ap.add_argument('--json', default=None, help='write every measurement here')
    ap.add_argument('--child', choices=list(CONDITIONS), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.runs < 1 or args.threads < 1: ap.error('--runs and --threads must be at least 1')
    if args.child: return child(args)
    results = []
    print(f"load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    print("| condition | threads | seconds of each run | median s | spread | first / rest | cpu s / wall s | involuntary "
          "switches | minor faults | compile workers' cpu s | graphs compiled | load |\n" + "|---" * 12 + "|", flush=True)
    for name in args.only or CONDITIONS:
        cmd = [sys.executable, os.path.abspath(__file__), '--child', name, '--target', str(args.target), '--runs', str(args.runs),
               '--threads', str(args.threads)] + (['--interleave'] if args.interleave else []) + \
              (['--n-train', str(args.n_train)] if args.n_train else [])
        out = subprocess.run(cmd, env={**os.environ, **CONDITIONS[name]}, capture_output=True, text=True)
        if out.returncode: sys.exit(f"condition {name} failed:\n{out.stderr[-3000:]}")
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(summary(results[-1]), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        from accel_sgd.speedrun import cpu_description   # the machine, beside its numbers
        with open(args.json, 'w') as f:
            json.dump({'cpu': cpu_description(), 'target': args.target, 'runs': args.runs, 'results': results}, f, indent=1)


if __name__ == '__main__': main()
