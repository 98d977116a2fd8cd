"""Execute notebooks in place, storing their outputs (tools/run_nb.sh also cleans them and exports the library).
Cells nbdev skips (`#| eval: false`, settings.ini's test flags such as `#| slow`) keep their stored outputs, unless
--slow is given: then flagged cells run too (`eval: false` ones never). With --memory the notebook is not saved:
the kernel's resident memory is printed after each cell that grew it by more than 50 MB, to see where it goes.
With --learner a notebook runs as Run All runs it in a learner's Jupyter (every cell, `#| slow` ones showing their stored
outputs through the chapter's first cell, `setup_run_all`; no project needed) and is not saved; a failing cell's output
is printed with its error (tools/check_nbs.py --outside). --store writes accel_sgd/stored_outputs.json: the outputs of
every `#| slow` cell of nbs/, which Run All shows instead of running them (accel_sgd.core.setup_run_all).
    Usage: python tools/run_nb.py [--slow | --learner] [--memory] NB.ipynb ... | --store"""
import json, os, sys, tempfile
from pathlib import Path

import nbformat, psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbdev.process import extract_directives
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]


class SkippingClient(NotebookClient):
    "Runs a notebook's cells but those with a directive in `skip` or `eval: false` (their stored outputs stay)."
    def __init__(self, nb, skip, memory=False, eval_false=False, **kwargs):
        super().__init__(nb, **kwargs)
        self.skip, self.memory, self.eval_false, self.last, self.peak = skip, memory, eval_false, 0, 0

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        d = {k.rstrip(':'): v for k, v in extract_directives(cell, remove=False).items()} if cell.cell_type == 'code' else {}
        if self.skip & d.keys() or (d.get('eval') == ['false'] and not self.eval_false): return cell
        out = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self.memory and cell.cell_type == 'code':
            rss = psutil.Process(self.km.provisioner.process.pid).memory_info().rss
            if rss - self.last > 50 * 2**20:
                first = next((l for l in cell.source.splitlines() if l.strip() and not l.startswith('#|')), '')
                print(f'cell {cell_index:3d}: {rss / 2**30:5.2f} GB (+{(rss - self.last) / 2**20:6.0f} MB)  {first[:80]}', flush=True)
            self.last, self.peak = rss, max(self.peak, rss)
        return out


def store(out=ROOT/'accel_sgd'/'stored_outputs.json'):
    "Write the outputs of the `#| slow` cells of every notebook in nbs/ to `out`: {notebook: {cell key: outputs}}."
    sys.path.insert(0, str(ROOT)); from accel_sgd.core import cell_key, is_slow   # this checkout's, whatever is installed
    stored = {f.stem: {cell_key(c.source): [{k: v for k, v in o.items() if k != 'execution_count'} for o in c.outputs if o.output_type != 'error']
                       for c in nbformat.read(f, as_version=4).cells if c.cell_type == 'code' and is_slow(c.source)} for f in sorted((ROOT/'nbs').glob('*.ipynb'))}
    out.write_text(json.dumps({k: v for k, v in stored.items() if v}, indent=0, sort_keys=True) + '\n')


def main(args):
    if '--store' in args: return store()
    learner, save = '--learner' in args, not ({'--learner', '--memory'} & set(args))
    if '--slow' in args: os.environ['ACCEL_SGD_RUN_SLOW'] = '1'     # the kernel's setup_run_all then leaves slow cells be
    if not learner: from nbdev.config import get_config; skip = set() if '--slow' in args else set(get_config().tst_flags.split())
    for path in [Path(a) for a in args if not a.startswith('--')]:
        nb = nbformat.read(path, as_version=4)
        if learner: skip = set() if any('import setup_run_all' in c.source for c in nb.cells) else {'slow'}   # as Run All runs it
        # The kernel talks over Unix sockets in a directory of its own: TCP ports chosen by two kernels starting at once can collide
        sockets = tempfile.TemporaryDirectory(prefix='nbk')
        ipc = Config({'KernelManager': {'transport': 'ipc', 'ip': os.path.join(sockets.name, 'kernel')}})
        client = SkippingClient(nb, skip, '--memory' in args, learner, timeout=3600, kernel_name='python3', config=ipc,
                                resources={'metadata': {'path': str(path.parent)}})
        first = [(c, list(c.outputs)) for c in nb.cells if '--slow' in args and 'import setup_run_all' in c.source]
        try:
            with sockets: client.execute()
        except CellExecutionError:
            failed = next((c for c in reversed(nb.cells) if c.get('outputs') and any(o.output_type == 'error' for o in c.outputs)), None)
            if learner and failed: print(f'{path.name}: the failing cell printed:\n' + ''.join(o.get('text', '') for o in failed.outputs), file=sys.stderr)
            raise
        if client.memory: print(f'{path.name}: peak {client.peak / 2**30:.2f} GB after a cell')
        for c, outputs in first: c.outputs = outputs    # the first cell's note says what Run All does, not what --slow did
        if save: nbformat.write(nb, path)


if __name__ == '__main__': main(sys.argv[1:])
