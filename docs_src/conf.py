"""Sphinx configuration for the docs site, built by tools/build_docs.py (`make docs`).

The sources are not here: tools/build_docs.py writes them, one notebook per page, from nbdev's
processed notebooks (`_proc/`) into `_proc/_sphinx/` and passes the values below through the
environment. Notebooks are never executed: each page shows the outputs stored in its notebook.
"""
import os
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ini = ConfigParser(delimiters=['='])
ini.read(ROOT/'settings.ini', encoding='utf-8')
ini = ini['DEFAULT']

project = ini['title']
author = ini['author']
copyright = ini['copyright']
release = version = ini['version']

extensions = ['myst_nb']
exclude_patterns = ['_build', '**.ipynb_checkpoints']
root_doc = 'index'
language = 'en'

# --- notebooks: stored outputs only, never executed -------------------------------------------
nb_execution_mode = 'off'
nb_merge_streams = True                      # consecutive prints show as one block
nb_output_stderr = 'show'
nb_render_markdown_format = 'myst'            # markdown outputs (display(Markdown(...))) get tables and maths
nb_number_source_lines = False
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence', 'html_image', 'html_admonition']
myst_dmath_allow_space = False              # pandoc's rule: `$5 and $10` is not maths
myst_dmath_allow_digits = False
myst_dmath_double_inline = True              # `$$...$$` inside a paragraph is display maths, as in Quarto

myst_all_links_external = True               # links stay plain hrefs, as Quarto writes them;
                                             # the browser test checks that every one resolves
myst_heading_anchors = 0
suppress_warnings = ['myst.header']          # show_doc's `###` right under a `#` title is fine

# --- maths: a local MathJax 3, no CDN ----------------------------------------------------------
mathjax_path = 'mathjax/tex-chtml.js'        # relative to _static; build_docs.py puts it there
mathjax3_config = {
    'tex': {'inlineMath': [['\\(', '\\)']], 'displayMath': [['\\[', '\\]']]},
    'options': {'ignoreHtmlClass': 'tex2jax_ignore'},
}

# --- HTML -------------------------------------------------------------------------------------
html_theme = 'sphinx_book_theme'
html_title = ini['title']
html_static_path = ['_static'] + [p for p in [os.environ.get('ACCEL_SGD_DOCS_STATIC')] if p]
html_css_files = ['custom.css']
html_js_files = ['site.js']                # the header's sidebar buttons; search snippets from the article
html_search_scorer = str(Path(__file__).parent/'search_scorer.js')   # API entries first for their names
html_copy_source = False                     # the notebooks are in the repository
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    'repository_url': ini['git_url'],
    'repository_branch': ini['branch'],
    'path_to_docs': ini['nbs_path'],
    'use_repository_button': True,
    'use_download_button': False,
    'use_fullscreen_button': False,
    'home_page_in_toc': True,
    'show_navbar_depth': 1,
    'show_toc_level': 2,
    'navigation_with_keys': False,
    'pygments_light_style': 'tango',
    'pygments_dark_style': 'monokai',
}
html_context = {'default_mode': 'light'}
myst_update_mathjax = True
suppress_warnings += ['myst.mathjax']        # myst adds its own classes to processHtmlClass: expected
html_favicon = '_static/favicon.svg'

# --- API blocks: the section of each show_doc heading gets nbdev's anchor as its id ---------
# nbdev links to `page.html#learner.fit` (the name, lowercased: see _modidx.py); docutils would
# call that section `learner-fit`. The docutils id stays as a second id, so both work. When a
# prose heading already has that id ("## Hooks" above `Hooks`'s block), the API block wins it:
# the `Hooks` links all over the course mean the reference.
def _api_anchors(app, doctree):
    from docutils import nodes
    owner = {i: n for n in doctree.findall(nodes.Element) for i in n.get('ids', [])}
    for block in doctree.findall(nodes.container):
        sec = block.parent
        if 'api-block' not in block['classes'] or not isinstance(sec, nodes.section): continue
        title = next(iter(sec.findall(nodes.title)), None)
        if title is None: continue
        anchor = title.astext().strip().lower()
        other = owner.get(anchor)
        if other is not None and other is not sec:
            if any('api-block' in c['classes'] for c in other.findall(nodes.container)
                   if c.parent is other): continue          # two blocks for one name: first wins
            new = next(f'{anchor}-{k}' for k in range(1, 1000) if f'{anchor}-{k}' not in owner)
            other['ids'][other['ids'].index(anchor)] = new
            owner[new] = other
        if anchor in sec['ids']: sec['ids'].remove(anchor)
        sec['ids'].insert(0, anchor); owner[anchor] = sec

# --- Quarto's heading ids too: a link written for the nbdev/Quarto site (`#finding-the-files-
# load_fashion_mnist`: pandoc keeps `_` and `.`) also works here, where docutils says `load-fashion-mnist`.
def _pandoc_id(text):
    import re
    s = re.sub(r'[^\w\s.-]', '', text.strip().lower())
    return re.sub(r'^[^a-z]+', '', re.sub(r'\s+', '-', s))

def _quarto_ids(app, doctree):
    from docutils import nodes
    owner = {i for n in doctree.findall(nodes.Element) for i in n.get('ids', [])}
    for sec in doctree.findall(nodes.section):
        title = next(iter(sec.findall(nodes.title)), None)
        qid = _pandoc_id(title.astext()) if title is not None else ''
        if qid and qid not in owner: sec['ids'].append(qid); owner.add(qid)

def setup(app):
    app.connect('doctree-read', _api_anchors, priority=100)   # before the TOC is collected
    app.connect('doctree-read', _quarto_ids, priority=101)
