"""Where a notebook's memory goes: run it cell by cell (as tools/run_nb.py does, `#| slow` cells skipped) and print
the kernel's resident memory after each cell that grew it by more than a threshold, with the cell's first line.
The notebook file is not changed; it runs in nbs/ wherever it is.   Usage: python tools/nb_memory.py NB.ipynb [--min-mb 50]"""
import sys
from pathlib import Path

import nbformat
import psutil
from nbdev.config import get_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_nb import SkippingClient  # noqa: E402


class MeasuringClient(SkippingClient):
    "Runs the notebook like `SkippingClient` and records the kernel's RSS after each cell."
    def __init__(self, nb, skip, min_bytes, **kwargs):
        super().__init__(nb, skip, **kwargs)
        self.min_bytes, self.last, self.peak = min_bytes, 0, 0
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        out = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell.cell_type != 'code': return out
        rss = psutil.Process(self.km.provisioner.process.pid).memory_info().rss
        self.peak = max(self.peak, rss)
        if rss - self.last > self.min_bytes:
            first = next((l for l in cell.source.splitlines() if l.strip() and not l.startswith('#|')), '')
            print(f'cell {cell_index:3d}: {rss / 2**30:5.2f} GB (+{(rss - self.last) / 2**20:6.0f} MB)  {first[:80]}', flush=True)
        self.last = rss
        return out


def main():
    args = sys.argv[1:]
    min_mb = float(args[args.index('--min-mb') + 1]) if '--min-mb' in args else 50.
    path = Path(next(a for a in args if a.endswith('.ipynb')))
    nb = nbformat.read(path, as_version=4)
    client = MeasuringClient(nb, set(get_config().tst_flags.split()), int(min_mb * 2**20), timeout=3600,
                             kernel_name='python3', resources={'metadata': {'path': str(get_config().nbs_path)}})
    client.execute()
    print(f'{path.name}: peak {client.peak / 2**30:.2f} GB after a cell')


if __name__ == '__main__': main()
