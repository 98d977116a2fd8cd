"""README.md from nbs/index.ipynb, by the docs site's own steps (tools/build_docs.py): nbdev's processing, the same
conversions as the site's pages (folds become <details>, `#| echo: false` and friends applied), then nbconvert to
GitHub-flavoured markdown. Links to the doc host's pages go to the notebooks (`nbs/01_learner.ipynb`), which GitHub
renders.   python tools/make_readme.py [--check]   (--check: exit 1 when README.md is not what would be written)"""
import re, sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from nbdev.config import get_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import PROC, convert_notebook, doc_url, page_name, process  # noqa: E402


def render_readme() -> str:
    cfg = get_config()
    process(cfg)
    nbs_dir = cfg.nbs_path.relative_to(cfg.config_path).as_posix()
    by_page = {page_name(p): p.name for p in cfg.nbs_path.glob('*.ipynb')}
    def target(url: str) -> str:      # the doc host's pages and other notebooks, as files of the repository
        path, hash_, anchor = url.partition('#')
        page = path[len(doc_url(cfg)):].removesuffix('.html') if url.startswith(doc_url(cfg)) else None
        if page in by_page: return f'{nbs_dir}/{by_page[page]}'
        return f'{nbs_dir}/{path}{hash_}{anchor}' if path in by_page.values() else url
    nb, _ = convert_notebook(nbformat.read(PROC/cfg.readme_nb, as_version=4), target, lambda m: print(f'README: {m}', file=sys.stderr), gfm=True)
    exporter = MarkdownExporter()
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={'remove-cell'}, remove_input_tags={'remove-input'},
                                                         remove_all_outputs_tags={'remove-output'}), enabled=True)
    body = re.sub(r'<style>.*?</style>\s*', '', exporter.from_notebook_node(nb)[0], flags=re.S)   # progress bars' CSS: GitHub shows it as text
    body = re.sub(r'\n{3,}', '\n\n', body).strip()
    return f'<!-- Generated from {nbs_dir}/{cfg.readme_nb} by tools/make_readme.py: edit the notebook, not this file. -->\n\n{body}\n'


if __name__ == '__main__':
    readme, text = get_config().config_path/'README.md', render_readme()
    if '--check' not in sys.argv: readme.write_text(text); print(f'wrote {readme}')
    elif readme.exists() and readme.read_text() == text: print('README.md matches nbs/index.ipynb')
    else: sys.exit('README.md is not what nbs/index.ipynb generates: run `python tools/make_readme.py` and commit')
