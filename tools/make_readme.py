"""Generate README.md from nbs/index.ipynb, by the docs site's own pipeline (tools/build_docs.py):
nbdev's processing (`proc_nbs`: directives applied, hidden cells removed, frontmatter parsed),
the same Quarto conversions as the site (callouts become GitHub alerts, `{target=...}` dropped,
`#| echo: false` and friends applied), then nbconvert to GitHub-flavoured markdown.
Links to other notebooks point at `nbs/NN_name.ipynb`, which GitHub renders.
`--check` exits 1 when README.md differs from what would be generated."""
import re, sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from nbdev.config import get_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import PROC, class_names, convert_notebook, process_notebooks  # noqa: E402


def render_readme() -> str:
    cfg = get_config()
    failed = process_notebooks(cfg)
    if cfg.readme_nb in failed: raise SystemExit(f'nbdev could not process {cfg.readme_nb}: {failed[cfg.readme_nb]}')
    nbs_dir = cfg.nbs_path.relative_to(cfg.config_path).as_posix()
    notebooks = {p.name for p in cfg.nbs_path.glob('*.ipynb')}

    # nbdev links a name in backticks to its page on the docs host (settings.ini's doc_host), which a
    # reader of the README may not have: such a link goes to the notebook that defines the name instead
    docs_url = cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/'
    page_nb = {re.sub(r'^\d+[a-z]?_', '', Path(n).stem): n for n in notebooks}

    def target(url: str) -> str:   # a notebook's link, made to work from the repository root
        path, hash_, anchor = url.partition('#')
        if url.startswith(docs_url) and Path(path).stem in page_nb:
            return f'{nbs_dir}/{page_nb[Path(path).stem]}'
        if not re.match(r'^[a-z][a-z0-9+.-]*:|^[#/]', url) and Path(path).name in notebooks:
            return f'{nbs_dir}/{Path(path).name}{hash_}{anchor}'
        return url

    problems = []
    nb, _ = convert_notebook(nbformat.read(PROC/cfg.readme_nb, as_version=4), target,
                             class_names(cfg.lib_path), problems.append, gfm=True)
    for p in problems: print(f'README: {p}', file=sys.stderr)
    exporter = MarkdownExporter()
    exporter.register_preprocessor(TagRemovePreprocessor(
        remove_cell_tags={'remove-cell'}, remove_input_tags={'remove-input'},
        remove_all_outputs_tags={'remove-output'}), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    note = (f'<!-- Generated from {nbs_dir}/{cfg.readme_nb} by tools/make_readme.py: '
            'edit the notebook, not this file. -->\n\n')
    return note + re.sub(r'\n{3,}', '\n\n', body).strip() + '\n'


if __name__ == '__main__':
    readme = get_config().config_path/'README.md'
    text = render_readme()
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            print('README.md is not what nbs/index.ipynb generates: run `python tools/make_readme.py` and commit')
            sys.exit(1)
        print('README.md matches nbs/index.ipynb')
    else:
        readme.write_text(text)
        print(f'wrote {readme}')
