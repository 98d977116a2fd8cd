"""One optimizer step, timed side by side: torch's three implementations (per-parameter loop, foreach,
fused), fastai's Optimizer, and accel_sgd's framework (uncompiled and compiled), for SGD with momentum,
RMSProp, Adam, AdamW, RAdam, Lion and Schedule-Free AdamW, on two sets of parameters: the course
model's and a large one (6.5M parameters in 100 tensors). Every implementation steps its own copy of
the same parameters and gradients; the steps are interleaved (one step of each in turn), so that
whatever else the machine is doing hits all of them alike; the table shows medians.

The ratio column divides our time by torch's fastest implementation of the same update: the fused
kernel where torch has one, otherwise the faster of its loop and foreach versions; Lion and
Schedule-Free AdamW, which torch does not have, are compared with fused AdamW.

A second table times what a training loop does around the step, for AdamW: `zero_grad()`, a backward
pass that writes every gradient (of a cheap loss, the same for all), and `step()`. torch's `zero_grad`
sets the gradients to None, and so does ours by default (a parameter that gets no new gradient is then
not stepped); the backward pass makes new gradients, which our step copies into its flat buffer. With
`set_to_none=False` the gradients stay views of the buffer and the backward pass adds into them.

    python bench/optimizer_step.py [--steps 200] [--threads N] [--sizes course large] [--no-cycle]
"""
import argparse, os, platform, statistics, time, warnings
from functools import partial

import torch
from torch import nn

from accel_sgd.models import course_model
from accel_sgd.optimizer import adam, lion, radam, rmsprop, schedule_free_adamw, sgd


def course_shapes():
    "The parameter shapes of the course's CNN (BatchNorm, GeneralRelu)."
    return [tuple(p.shape) for p in course_model(0).parameters()]

def large_shapes(): return [(360, 360), (360,)] * 50   # 6,498,000 parameters in 100 tensors

SIZES = {'course': course_shapes, 'large': large_shapes}

def make_params(shapes, seed=0):
    "Parameters of `shapes` with gradients, the same for every call with the same seed."
    g = torch.Generator().manual_seed(seed)
    params = [nn.Parameter(torch.randn(s, generator=g)) for s in shapes]
    for p in params: p.grad = torch.randn(p.shape, generator=g)
    return params

def fastai_optimizers():
    "fastai's optimizers, when fastai is installed."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            import fastai.optimizer as fo
    except ImportError: return {}
    return {'sgd': partial(fo.SGD, lr=1e-3, mom=0.9), 'rmsprop': partial(fo.RMSProp, lr=1e-3, sqr_mom=0.99),
            'adam': partial(fo.Adam, lr=1e-3, decouple_wd=False), 'adamw': partial(fo.Adam, lr=1e-3, wd=0.01),
            'radam': partial(fo.RAdam, lr=1e-3)}

def rows():
    "For each optimizer: torch's implementations (None where torch has none), fastai's and ours."
    T = torch.optim
    fa = fastai_optimizers()
    def torch_impls(cls, fused=True, **kw):
        impls = {'torch loop': partial(cls, foreach=False, **kw), 'torch foreach': partial(cls, foreach=True, **kw)}
        if fused: impls['torch fused'] = partial(cls, fused=True, **kw)
        return impls
    adamw_fused = partial(T.AdamW, lr=1e-3, fused=True)
    return {
        'SGD + momentum': (torch_impls(T.SGD, lr=1e-3, momentum=0.9), fa.get('sgd'), partial(sgd, lr=1e-3, mom=0.9), None),
        'RMSProp': (torch_impls(T.RMSprop, fused=False, lr=1e-3, alpha=0.99, eps=1e-5), fa.get('rmsprop'), partial(rmsprop, lr=1e-3), None),
        'Adam (L2)': (torch_impls(T.Adam, lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01), fa.get('adam'),
                      partial(adam, lr=1e-3, wd=0.01, decouple_wd=False), None),
        'AdamW': (torch_impls(T.AdamW, lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01), fa.get('adamw'), partial(adam, lr=1e-3, wd=0.01), None),
        'RAdam': (torch_impls(T.RAdam, fused=False, lr=1e-3, betas=(0.9, 0.99), eps=1e-5), fa.get('radam'), partial(radam, lr=1e-3), None),
        'Lion': ({}, None, partial(lion, lr=1e-4, wd=0.1), adamw_fused),
        'Schedule-Free AdamW': ({}, None, partial(schedule_free_adamw, lr=1e-3, warmup=10), adamw_fused),
    }

def time_steps(impls:dict, n_steps:int, n_warmup:int=10) -> dict:
    "Median seconds per `step()` of each optimizer in `impls`, interleaved."
    for opt in impls.values():
        for _ in range(n_warmup): opt.step()
    times = {name: [] for name in impls}
    for _ in range(n_steps):
        for name, opt in impls.items():
            start = time.perf_counter(); opt.step(); times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}

COLUMNS = ['torch loop', 'torch foreach', 'torch fused', 'fastai', 'ours', 'ours compiled']

def fmt(seconds):
    if seconds is None: return '-'
    return f'{seconds * 1e6:.0f} us' if seconds < 1e-3 else f'{seconds * 1e3:.2f} ms'

def bench_size(size:str, n_steps:int):
    shapes = SIZES[size]()
    n = sum(torch.Size(s).numel() for s in shapes)
    print(f"\n{size}: {n:,} parameters in {len(shapes)} tensors; median of {n_steps} steps, {torch.get_num_threads()} threads")
    header = ['optimizer'] + COLUMNS + ['ours / torch best', 'compiled / torch best', 'first compiled step']
    print('| ' + ' | '.join(header) + ' |'); print('|' + '---|' * len(header))
    for name, (torch_impls, fastai_impl, ours, reference) in rows().items():
        impls = {k: make(make_params(shapes)) for k, make in torch_impls.items()}
        if fastai_impl is not None: impls['fastai'] = fastai_impl(make_params(shapes))
        impls['ours'] = ours(make_params(shapes), compile=False)
        compiled = ours(make_params(shapes), compile=True)
        compiled.step()                       # the first step is uncompiled: it makes the state
        start = time.perf_counter(); compiled.step(); first = time.perf_counter() - start
        impls['ours compiled'] = compiled
        if reference is not None: impls['reference'] = reference(make_params(shapes))
        t = time_steps(impls, n_steps)
        best = t['reference'] if reference is not None else t.get('torch fused', min(t['torch loop'], t['torch foreach']))
        label = name + (' (vs fused AdamW)' if reference is not None else '')
        cells = [fmt(t.get(c)) for c in COLUMNS] + [f"{t['ours'] / best:.2f}x", f"{t['ours compiled'] / best:.2f}x", f'{first:.1f} s']
        print(f"| {label} | " + ' | '.join(cells) + ' |', flush=True)
        del impls, compiled

def bench_cycle(size:str, n_steps:int):
    "zero_grad, a backward pass writing every gradient, and step (AdamW): torch fused, ours with set_to_none True and False."
    shapes = SIZES[size]()
    impls = {'torch fused': (partial(torch.optim.AdamW, lr=1e-3, fused=True), True),
             'ours, set_to_none=True (default)': (partial(adam, lr=1e-3, wd=0.01), True),   # torch's AdamW's weight decay
             'ours, set_to_none=False': (partial(adam, lr=1e-3, wd=0.01), False)}
    runs = {}
    for name, (make, set_to_none) in impls.items():
        params = make_params(shapes)
        g = torch.Generator().manual_seed(1)
        targets = [torch.randn(p.shape, generator=g) for p in params]
        runs[name] = (params, targets, make(params), set_to_none)
    def cycle(params, targets, opt, set_to_none):
        opt.zero_grad(set_to_none=set_to_none)
        sum((p * t).sum() for p, t in zip(params, targets)).backward()   # autograd writes every gradient
        opt.step()
    times = {name: [] for name in runs}
    for _ in range(10):
        for run in runs.values(): cycle(*run)
    for _ in range(n_steps):
        for name, run in runs.items():
            start = time.perf_counter(); cycle(*run); times[name].append(time.perf_counter() - start)
    t = {name: statistics.median(ts) for name, ts in times.items()}
    default, in_place = t['ours, set_to_none=True (default)'], t['ours, set_to_none=False']
    cells = [fmt(t[name]) for name in runs] + [f"{default / in_place:.2f}x", f"{default / t['torch fused']:.2f}x"]
    print(f"| {size} | " + ' | '.join(cells) + ' |', flush=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=200, help='timed steps per implementation')
    ap.add_argument('--threads', type=int, default=None, help='torch intra-op threads (default: torch\'s)')
    ap.add_argument('--sizes', nargs='+', default=list(SIZES), choices=list(SIZES))
    ap.add_argument('--no-cycle', action='store_true', help='leave out the zero_grad + backward + step table')
    args = ap.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()} CPU with {os.cpu_count()} cores, "
          f"torch's CPU kernels for {torch.backends.cpu.get_cpu_capability()}")
    for size in args.sizes: bench_size(size, args.steps)
    if args.no_cycle: return
    print(f"\nAdamW: zero_grad(), a backward pass that writes every gradient, step(); median of {args.steps} cycles, "
          f"{torch.get_num_threads()} threads")
    header = ['parameters', 'torch fused', 'ours, set_to_none=True (default)', 'ours, set_to_none=False',
              'True / False', 'ours (default) / torch fused']
    print('| ' + ' | '.join(header) + ' |'); print('|' + '---|' * len(header))
    for size in args.sizes: bench_cycle(size, args.steps)

if __name__ == '__main__': main()
