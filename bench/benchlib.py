"""What the benchmark scripts in bench/ share: the machine they ran on, the lock that keeps two timing
runs from overlapping, progress lines on stderr, the models (the course's CNN from the library, and a
deeper one) and the two data paths (in-memory slices, and a DataLoader over a TensorDataset as fastai
and plain PyTorch use), cutting either down to a few images for a quick check, and a quiet import of fastai."""
import contextlib, fcntl, os, platform, random, statistics, sys, time, warnings
from functools import partial
from types import SimpleNamespace

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from accel_sgd.data import fashion_mnist_dls, load_fashion_mnist
from accel_sgd.init import init_weights
from accel_sgd.models import GeneralRelu, conv, course_model, get_model

LOCK = '/tmp/accel_sgd_bench.lock'


@contextlib.contextmanager
def bench_lock(enabled:bool, path:str=LOCK):
    "Hold the benchmark lock (the one `flock /tmp/accel_sgd_bench.lock` takes) while timing, if `enabled`."
    if not enabled:
        yield; return
    with open(path, 'a') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try: yield
        finally: fcntl.flock(f, fcntl.LOCK_UN)


def machine(device) -> str:
    "One line saying where the numbers come from."
    device = torch.device(device)
    if device.type == 'cuda': where = torch.cuda.get_device_name(device)
    else: where = f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    return (f"torch {torch.__version__}, {where}, {torch.get_num_threads()} torch threads, "
            f"load average {load:.1f} at the start")


def add_run_args(ap, lock_help:str='take the bench lock around each timed run'):
    "The options every timing script takes: --device, --threads, --lock and --json."
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument('--lock', action='store_true', help=lock_help)
    ap.add_argument('--json', default=None, help='also write the results to this file')


def start_run(args):
    "Apply --threads, and quiet the warnings that would interleave with the tables."
    if args.threads: torch.set_num_threads(args.threads)
    warnings.filterwarnings('ignore')


def sync(device):
    "Wait for the GPU to finish what it was given (a timer must not stop before the work it times); nothing on a CPU."
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()


_START = time.perf_counter()
show_progress = True   # set to False to run the scripts' functions quietly (as the benchmarks notebook does)

def progress(*parts):
    "A line on stderr saying where a long run is (stdout holds the results), with the seconds since the script started."
    if show_progress: print(f"[{time.perf_counter() - _START:7.1f} s]", *parts, file=sys.stderr, flush=True)


def subset_dls(dls, n_train:int|None=None, n_valid:int|None=None):
    """Keep only the first `n_train` training and `n_valid` validation items of `dls` (None: all), in place, for a
    quick check rather than a benchmark. Works on this library's in-memory loaders and on torch's and fastai's
    DataLoaders over a TensorDataset; returns `dls`."""
    for dl, n in ((dls.train, n_train), (dls.valid, n_valid)):
        if n is None: continue
        if hasattr(dl, 'x') and hasattr(dl, 'y'): dl.x, dl.y = dl.x[:n], dl.y[:n]    # accel_sgd's TensorLoader
        elif isinstance(getattr(dl, 'dataset', None), TensorDataset):
            dl.dataset.tensors = tuple(t[:n] for t in dl.dataset.tensors)
            if hasattr(dl, 'n'): dl.n = len(dl.dataset)                              # fastai's loader caches its length
        else: raise TypeError(f"subset_dls: cannot cut {type(dl).__name__} down; expected a TensorLoader or a DataLoader over a TensorDataset")
    return dls


def median(xs): return statistics.median(xs)


ACT = partial(GeneralRelu, leak=0.1, sub=0.4)
COURSE_NFS = (1, 16, 32, 64, 128)   # twice course_model's default width: the width chapter 03b trains to 90%

def course_cnn(seed:int):
    "The course's CNN, `accel_sgd.models.course_model`, at twice its default width (`COURSE_NFS`); seeded."
    return course_model(seed, nfs=COURSE_NFS)

def deeper_cnn(seed:int):
    "The course's deeper plain CNN (notebook 13): a stride-1 stem, then stride-2 blocks of 16 to 128 channels; seeded."
    torch.manual_seed(seed)
    model = nn.Sequential(conv(1, 8, stride=1, act=ACT, norm=nn.BatchNorm2d),
                          *get_model(ACT, nfs=(8, 16, 32, 64, 128), norm=nn.BatchNorm2d))
    return model.apply(partial(init_weights, leaky=0.1))

MODELS = {'course': course_cnn, 'deeper': deeper_cnn}


def loader_dls(bs:int, device, seed:int=42, fastai:bool=False, valid_bs:int|None=None, drop_last:bool=False):
    """Fashion-MNIST, normalised like `fashion_mnist_dls`, through a DataLoader over a TensorDataset: torch's, or
    fastai's (which moves the batches to `device` itself). Training shuffled, validation in batches of `valid_bs` (2*bs)."""
    valid_bs = valid_bs or 2 * bs
    ours = fashion_mnist_dls(bs, device='cpu')
    fm = load_fashion_mnist()
    norm = lambda x: (x[:, None].float() / 255 - ours.train.mean) / ours.train.std
    train, valid = TensorDataset(norm(fm.x_train), fm.y_train), TensorDataset(norm(fm.x_test), fm.y_test)
    if fastai:
        from fastai.data.core import DataLoaders as FastaiDataLoaders
        from fastai.data.load import DataLoader as FastaiDataLoader
        torch.manual_seed(seed); random.seed(seed)   # fastai's DataLoader draws its shuffling seed from Python's random
        return FastaiDataLoaders(FastaiDataLoader(train, bs=bs, shuffle=True, drop_last=drop_last), FastaiDataLoader(valid, bs=valid_bs),
                                 device=torch.device(device))
    g = torch.Generator().manual_seed(seed)
    return SimpleNamespace(train=DataLoader(train, batch_size=bs, shuffle=True, generator=g, drop_last=drop_last),
                           valid=DataLoader(valid, batch_size=valid_bs))


def import_fastai():
    "fastai's modules used here, imported without their deprecation warnings; None when fastai is not installed."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            import fastai, fastai.learner, fastai.optimizer, fastai.metrics, fastai.callback.schedule, fastai.callback.channelslast
        return fastai
    except ImportError: return None
