"""Execute a notebook in place, storing its outputs. Cells nbdev would skip (`#| eval: false`, and the test
flags of settings.ini such as `#| slow`) keep the outputs they have unless --slow is given, in which case the
flagged cells run too (`eval: false` cells never run).   Usage: python tools/run_nb.py [--slow] NB.ipynb"""
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbdev.config import get_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nb_directives import directives, is_false  # noqa: E402  the `#|` parser tools/build_docs.py uses too


class SkippingClient(NotebookClient):
    "Runs a notebook's cells except those with a directive in `skip` (their stored outputs are kept)."
    def __init__(self, nb, skip, **kwargs):
        super().__init__(nb, **kwargs)
        self.skip = skip
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        d = directives(cell.source) if cell.cell_type == 'code' else {}
        if is_false(d.get('eval')) or self.skip & d.keys(): return cell
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)


def main():
    args = sys.argv[1:]
    run_slow = '--slow' in args
    paths = [Path(a) for a in args if a != '--slow']
    flags = set() if run_slow else set(get_config().tst_flags.split())
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        SkippingClient(nb, flags, timeout=3600, kernel_name='python3',
                       resources={'metadata': {'path': str(path.parent)}}).execute()
        nbformat.write(nb, path)


if __name__ == '__main__': main()
