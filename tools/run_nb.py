"""Execute notebooks in place, storing their outputs (tools/run_nb.sh also cleans them and exports the library).
Cells nbdev skips (`#| eval: false`, settings.ini's test flags such as `#| slow`) keep their stored outputs, unless
--slow is given: then flagged cells run too (`eval: false` ones never). With --memory the notebook is not saved:
the kernel's resident memory is printed after each cell that grew it by more than 50 MB, to see where it goes.
    Usage: python tools/run_nb.py [--slow] [--memory] NB.ipynb ..."""
import sys
from pathlib import Path

import nbformat, psutil
from nbclient import NotebookClient
from nbdev.config import get_config
from nbdev.process import extract_directives


class SkippingClient(NotebookClient):
    "Runs a notebook's cells but those with a directive in `skip` (their stored outputs stay); `memory`: prints the growth."
    def __init__(self, nb, skip, memory=False, **kwargs):
        super().__init__(nb, **kwargs)
        self.skip, self.memory, self.last, self.peak = skip, memory, 0, 0

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        d = {k.rstrip(':'): v for k, v in extract_directives(cell, remove=False).items()} if cell.cell_type == 'code' else {}
        if d.get('eval') == ['false'] or self.skip & d.keys(): return cell
        out = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self.memory and cell.cell_type == 'code':
            rss = psutil.Process(self.km.provisioner.process.pid).memory_info().rss
            if rss - self.last > 50 * 2**20:
                first = next((l for l in cell.source.splitlines() if l.strip() and not l.startswith('#|')), '')
                print(f'cell {cell_index:3d}: {rss / 2**30:5.2f} GB (+{(rss - self.last) / 2**20:6.0f} MB)  {first[:80]}', flush=True)
            self.last, self.peak = rss, max(self.peak, rss)
        return out


def main(args):
    flags = set() if '--slow' in args else set(get_config().tst_flags.split())
    for path in [Path(a) for a in args if not a.startswith('--')]:
        nb = nbformat.read(path, as_version=4)
        client = SkippingClient(nb, flags, '--memory' in args, timeout=3600, kernel_name='python3',
                                resources={'metadata': {'path': str(path.parent)}})
        client.execute()
        if client.memory: print(f'{path.name}: peak {client.peak / 2**30:.2f} GB after a cell')
        else: nbformat.write(nb, path)


if __name__ == '__main__': main(sys.argv[1:])
