"""Build the docs site into `_docs/` from the notebooks' stored outputs, without Quarto: `python tools/build_docs.py [--force]`.

1. nbdev's docs processing, the step `nbdev_docs` runs before Quarto (`proc_nbs`, in this process), writes `_proc/`:
   hidden cells removed, show_doc blocks drawn by tools/api_doc.py (nbdev's `renderer` setting, given in nbdev's user
   config for the build only). Only changed notebooks are redone (all when settings.ini, `_modidx.py` or api_doc.py change).
2. Each becomes one page in `_proc/_sphinx/`, named as nbdev names it (`00_data.ipynb` -> `data.html`), Quarto's
   notation turned into MyST (`convert_notebook`); `manifest.json` says what each page should show, for tools/test_docs.py.
3. Sphinx + myst-nb (never executing) + sphinx-book-theme, configured by docs_src/conf.py, write `_docs/`, with MathJax 3
   served from the site (the npm package, fetched once). Exits non-zero if a step fails or Sphinx warns.
"""
from __future__ import annotations
import functools, hashlib, importlib, json, os, re, shutil, subprocess, sys, tarfile, tempfile, time
from pathlib import Path

import nbformat, yaml
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
PROC, SRC, HTML, OUT = ROOT/'_proc', ROOT/'_proc'/'_sphinx', ROOT/'_proc'/'_html', ROOT/'_docs'
MATHJAX, MATHJAX_PARTS = '3.2.2', ['tex-chtml.js', 'output/chtml/fonts/woff-v2', 'input/tex/extensions', 'ui', 'a11y', 'sre']


def log(msg): print(f'[docs] {msg}', flush=True)


def lib_object(path: str):
    "The object at a dotted path (`torch.optim.SGD`, `accel_sgd.learner.Learner.fit`): the longest importable module, then attributes; or None."
    parts = path.split('.')
    for i in range(len(parts), 0, -1):
        try: return functools.reduce(getattr, parts[i:], importlib.import_module('.'.join(parts[:i])))
        except ImportError: continue
        except AttributeError: return None


# --- Quarto's notation -> MyST: functions on strings (tools/make_readme.py uses them too) --------------------
_re_fence = re.compile(r'^\s*(`{3,}|~{3,})')
_re_directive = re.compile(r'^\s*#\s*\|')


def map_text_lines(md: str, f=lambda lines: lines, code=lambda line: line) -> str:
    "`f` (list of lines -> list of lines) on each run of lines of `md` outside fenced code blocks, `code` on each line inside."
    out, chunk, fence = [], [], None
    for line in md.split('\n'):
        m = _re_fence.match(line)
        if fence is None and m: out += f(chunk) + [line]; chunk, fence = [], m.group(1)
        elif fence is None: chunk.append(line)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):]: out.append(line); fence = None
        else: out.append(code(line))
    return '\n'.join(out + f(chunk))


def cell_options(source: str) -> tuple[dict[str, str], str]:
    "A code cell's `#|` options by nbdev's rule (`extract_directives`: `#| code-fold: true` -> {'code-fold': 'true'}), and its code."
    from execnb.nbio import mk_cell
    from nbdev.process import extract_directives, first_code_ln
    opts = {k.rstrip(':'): ' '.join(v).strip('"\'') for k, v in extract_directives(mk_cell(source), remove=False).items()}
    lines = source.split('\n')
    n = first_code_ln(lines)
    n = len(lines) if n is None else n
    return opts, '\n'.join(l for i, l in enumerate(lines) if i >= n or not _re_directive.match(l)).strip('\n')


_re_link = re.compile(r'(\]\()([^)\s]+)((?:\s+"[^"]*")?\))')
_re_href = re.compile(r'''(\bhref=["'])([^"']+)(["'])''')
_re_attrs_after_link = re.compile(r'(\]\([^)]*\))\{[^}\n]*\}')
_re_rule = re.compile(r'^\s{0,3}(-{3,}|\*{3,}|_{3,})\s*$')
_re_math_punct = re.compile(r'(?<![\\$])(\$[^\s$][^$]*?(?<![\s\\])\$)(?![\d$])([,.;:!?)]+)')


def keep_math_with_punctuation(line: str) -> str:
    "`$B$,` -> `<span class=\"nowrap\">$B$,</span>`: typeset maths is an inline block, and a line may break before its comma."
    parts = re.split(r'((`+).+?\2)', line)
    return ''.join(p if i % 3 else _re_math_punct.sub(r'<span class="nowrap">\1\2</span>', p) for i, p in enumerate(parts) if i % 3 != 2)


def rewrite_links(md: str, target) -> str:
    "Rewrite every markdown link and html href with `target(url) -> url`."
    return functools.reduce(lambda md, r: r.sub(lambda m: m.group(1) + target(m.group(2)) + m.group(3), md), [_re_link, _re_href], md)


def quarto_to_myst(md: str, target=lambda u: u, gfm: bool = False) -> str:
    "A markdown cell's Quarto-isms: `---` rules, `{target=...}` attributes, links (and maths kept with its punctuation)."
    def fix(lines):     # a `---` rule after a blank line becomes <hr> (a transition would upset docutils' sections)
        out = []
        for i, line in enumerate(lines):
            if not gfm and _re_rule.match(line) and (i == 0 or not lines[i - 1].strip()): out += ['<hr class="rule">', '']
            else: out.append(_re_attrs_after_link.sub(r'\1', line) if gfm else keep_math_with_punctuation(_re_attrs_after_link.sub(r'\1', line)))
        return out
    return rewrite_links(map_text_lines(md, fix), target)


_re_code_link = re.compile(r'\[(`+)([^`\]]+?)\1\]\([^)\s]*\)')


def unlink_code(md: str) -> str:
    "nbdev links backticked names on every line of show_doc's markdown, code blocks too: `[`x`](url)` -> `x` inside fences."
    return map_text_lines(md, code=lambda line: _re_code_link.sub(r'\2', line))


# --- names of other libraries: "PyTorch's `SGD`" is torch.optim.SGD, not the course's SGD ----------------------
PYTORCH_DOCS = 'https://docs.pytorch.org/docs/stable/'
TORCH_NAMESPACES = ['torch.optim', 'torch.optim.lr_scheduler', 'torch.nn', 'torch.nn.functional', 'torch.utils.data',
                    'torch.amp', 'torch.nn.parallel', 'torch.distributed', 'torch.func', 'torch']
TORCH_PAGES = {'torch.utils.data.': 'data.html', 'torch.amp.': 'amp.html', 'torch.distributed.': 'distributed.html'}
OTHER_LIBS = r'fastai|Lightning|Keras|JAX|Optax|timm|NumPy|numpy|TensorFlow|scikit-learn|sklearn|Hugging Face|transformers'
_re_owned = re.compile(rf"\b(PyTorch|[Tt]orch|{OTHER_LIBS})(['’]s\s+)(?:\[`([\w.]+)(\(\))?`\]\(([^)\s]+)\)|`([\w.]+)(\(\))?`(?!\]))")
_re_torch_name = re.compile(r'(?<![\[\w`])`(torch\.[\w.]+)(\(\))?`(?!\]|\()')


@functools.lru_cache(maxsize=None)
def torch_doc_url(name: str) -> str | None:
    "PyTorch's documentation page for `name` (`SGD`, `OneCycleLR`, `torch.optim.AdamW`...), if torch has such an object."
    for qual in [name] if name.startswith('torch.') else [f'{ns}.{name}' for ns in TORCH_NAMESPACES]:
        obj = lib_object(qual)
        if obj is None or type(obj).__name__ == 'module': continue
        page = next((p for pre, p in TORCH_PAGES.items() if qual.startswith(pre) and qual.count('.') == pre.count('.')), None)
        return PYTORCH_DOCS + (f'{page}#{qual}' if page else f'generated/{qual}.html')
    return None


def foreign_names(md: str) -> str:
    """A name of another library does not link into this site's API: "PyTorch's `SGD`" and `torch.optim.SGD` link to
    PyTorch's documentation, "fastai's `Learner`" is plain code."""
    def owned(m):
        lib, sep, name, parens = m.group(1, 2, 3, 4) if m.group(3) else m.group(1, 2, 6, 7)
        url, code = torch_doc_url(name) if lib.lower() in ('pytorch', 'torch') else None, f'`{name}{parens or ""}`'
        return f'{lib}{sep}[{code}]({url})' if url else f'{lib}{sep}{code}'
    def qualified(m): return f'[{m.group(0)}]({url})' if (url := torch_doc_url(m.group(1))) else m.group(0)
    def fix(lines):
        text = _re_owned.sub(owned, '\n'.join(lines))     # "PyTorch's" may end one line and its name start the next
        parts = re.split(r'(\[[^\]]*\]\([^)]*\))', text)   # `torch.x` outside existing links
        return ''.join(p if i % 2 else _re_torch_name.sub(qualified, p) for i, p in enumerate(parts)).split('\n') if lines else lines
    return map_text_lines(md, fix)


# --- folds, stray reprs, API blocks ----------------------------------------------------------------------------
_re_md_fold = re.compile(r'^\s*<!--\s*fold(?:\s*:\s*(.*?))?\s*-->[ \t]*\n?')


def fold_markdown(src: str, warn, gfm: bool = False) -> tuple[str, str | None]:
    "A markdown cell starting `<!-- fold -->` (or `<!-- fold: Show the answer to 3 -->`): the rest in a closed <details>, and its label."
    m = _re_md_fold.match(src)
    if not m: return src, None
    summary, body = (m.group(1) or 'Show the answer').strip(), src[m.end():].strip('\n')
    hide = re.sub(r'^Show\b', 'Hide', summary)
    if re.search(r'^#{1,6}\s', body, re.M): warn('a folded markdown cell holds a heading: headings cannot be folded')
    if gfm: return f'<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>', summary
    return ('<details class="admonition hide above-input fold">\n<summary aria-label="Toggle hidden content">\n'
            f'<p class="collapsed admonition-title">{summary}</p>\n<p class="expanded admonition-title">{hide}</p>\n'
            f'</summary>\n\n{body}\n\n</details>'), summary


_re_stray_repr = re.compile(r'^\s*(\[?\s*<(matplotlib\.|Figure size|Axes:)[^\n]*>\s*(,\s*<[^\n]*>\s*)*\]?'
                            r'|Text\(-?[\d.e-]+, -?[\d.e-]+, .*\)|\((-?[\d.e+-]+, )+-?[\d.e+-]+\))\s*$', re.S)


def stray_repr(o) -> str | None:
    "The text of an execute_result that is only the repr of a plotting call's value (`<matplotlib.legend.Legend ...>`)."
    txt = ''.join(o.get('data', {}).get('text/plain', '')) if o.get('output_type') == 'execute_result' and set(o.get('data', {})) == {'text/plain'} else ''
    return txt if _re_stray_repr.match(txt) and re.search('matplotlib|Figure|Axes|Text\\(', txt) else None


_re_api = re.compile(r'^(#{1,6}) ([^\n]+)\n\n(`{4,})\{container\} api-block\n(.*?)\n\3$', re.M | re.S)


def api_blocks(md: str, target, seen: set) -> tuple[str, list[dict]]:
    """tools/api_doc.py's blocks: links made relative and kept out of code, a block already on the page (a method
    shown inside its class) left out; and the facts about each, for the test."""
    out, info = [], []
    for m in _re_api.finditer(md):
        hashes, heading, _, body = m.groups()
        if (name := heading.replace('\\_', '_')).lower() in seen: continue
        seen.add(name.lower())
        full = (re.findall(r'^:canonical: (\S+)', body, re.M) or [f"{m}.{name}" for m in re.findall(r'^:module: (\S+)', body, re.M)] or [None])[0]
        info.append({'name': name, 'anchor': name.lower(), 'level': len(hashes), 'method': '{py:method}' in body, 'object': full})
        out.append(m.group(0).replace(body, foreign_names(rewrite_links(unlink_code(body), target))))
    return '\n\n'.join(out), info


# --- one notebook -> one page --------------------------------------------------------------------------------
def has_math(md: str) -> bool:
    "Does markdown hold LaTeX (`$...$` by pandoc's rule, so `$5 and $10` is not maths; `$$`; `\\begin{}`) outside code?"
    prose = re.sub(r'(`+).+?\1', '', re.sub(r'^\s*(`{3,}|~{3,}).*?^\s*\1', '', md, flags=re.S | re.M), flags=re.S)   # code left out
    return bool(re.search(r'\$\$.+?\$\$|(?<![\\$])\$[^\s$][^$]*?(?<![\s\\])\$(?![\d$])|\\begin\{', prose, re.S))


def page_name(nb: Path) -> str:
    "The page's file name without `.html`, as nbdev's doc links name it: the number prefix dropped."
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb.stem.lower())


def convert_notebook(nb, target, warn=print, gfm: bool = False) -> tuple[object, dict]:
    """A processed notebook -> the notebook myst-nb renders (`gfm`: the one the README is written from), and the facts
    the browser test checks."""
    cells, seen = [], set()
    info = {'title': None, 'api': [], 'math': False, 'folds': [], 'stripped_reprs': []}
    md_cell = lambda s: cells.append(nbformat.v4.new_markdown_cell(s))
    markdown = lambda md: quarto_to_myst(md, target, gfm) if gfm else foreign_names(quarto_to_myst(md, target))
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type == 'raw':
            src = cell.source.strip()
            if src.startswith('---') and info['title'] is None:     # nbdev's frontmatter, from the `# Title` / `> description` cell
                front = yaml.safe_load(src.strip('-')) or {}
                info['title'], desc = front.get('title'), front.get('description')
                md_cell(f"# {info['title']}\n" + (f'\n> {desc}\n' if gfm else f'\n```{{container}} page-description\n{desc}\n```\n') * bool(desc))
            elif src: warn('a raw cell is not shown (raw cells have no HTML form)')
            continue
        if cell.cell_type == 'markdown':
            if 'THIS FILE WAS AUTOGENERATED' in cell.source: continue
            src, fold = fold_markdown(cell.source, warn, gfm)
            src = markdown(src)
            if fold: info['folds'].append({'kind': 'markdown', 'summary': fold, 'first': ' '.join(cell.source.split('-->', 1)[-1].split())[:60]})
            info['math'] |= has_math(src)
            if info['title'] is None and (m := re.match(r'#\s+(.+)', src)): info['title'] = m.group(1).strip()
            md_cell(src); continue
        opts, src = cell_options(cell.source)
        if opts.get('include') == 'false': continue
        tags, outputs, meta = set(cell.metadata.get('tags', [])), list(cell.get('outputs', [])), {}
        if opts.get('warning') == 'false': outputs = [o for o in outputs if o.get('name') != 'stderr']
        if any(k.startswith('image/') for o in outputs for k in o.get('data', {})):    # `ax.legend()` last: its repr beside the plot
            for o in [o for o in outputs if stray_repr(o)]:
                info['stripped_reprs'].append({'cell': idx, 'repr': stray_repr(o).strip()[:80], 'first_line': src.split('\n')[0][:80]})
                warn(f"cell {idx} shows {stray_repr(o).strip()[:50]!r} beside its plot: end its last line with `;` (left out of the page)")
                outputs.remove(o)
        if opts.get('output') == 'asis':      # markdown outputs (show_doc's) become part of the page
            for o in [o for o in outputs if 'text/markdown' in o.get('data', {})]:
                md, outputs = ''.join(o['data']['text/markdown']), [p for p in outputs if p is not o]
                if _re_api.search(md) and not gfm: md, apis = api_blocks(md, target, seen); info['api'] += apis
                else: md = markdown(unlink_code(md))
                if md.strip(): md_cell(md)
            if not outputs: continue
        if opts.get('echo') == 'false' or not src.strip(): tags.add('remove-input')
        if opts.get('output') == 'false': tags.add('remove-output')
        if opts.get('code-fold') == 'true' and src.strip() and 'remove-input' not in tags:   # folded with its output unless fold-output: false
            summary = opts.get('code-summary') or 'Show code'
            with_output = opts.get('fold-output') != 'false' and bool(outputs) and 'remove-output' not in tags
            tags.add('hide-cell' if with_output else 'hide-input')
            meta['mystnb'] = {'code_prompt_show': summary, 'code_prompt_hide': re.sub(r'^Show\b', 'Hide', summary)}
            info['folds'].append({'kind': 'code+output' if with_output else 'code', 'summary': summary, 'first': src.strip().split('\n')[0][:60]})
        if tags: meta['tags'] = sorted(tags)
        for o in outputs: o.get('data', {}).pop('application/vnd.jupyter.widget-view+json', None)    # no widget state here
        outputs = [o for o in outputs if o.output_type not in ('execute_result', 'display_data') or o.get('data')]
        if not src.strip() and not outputs: continue
        new = nbformat.v4.new_code_cell(src, metadata=meta)
        new.outputs, new.execution_count = outputs, cell.get('execution_count')
        cells.append(new)
    return nbformat.v4.new_notebook(cells=cells, metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'},
                                                           'language_info': {'name': 'python', 'pygments_lexer': 'ipython3'}}), info


_re_page_anchor = re.compile(r'(\]\(|href=")([\w.-]+\.html)#([^)"\s]+)')
_re_code_page_link = re.compile(r'\[(`+[^`\]]+`+)\]\(([\w.-]+\.html)#([^)\s]+)\)')


def method_links_to_class(md: str, api_anchors: dict, sym_anchors: dict) -> str:
    """nbdev links every backticked `Class.method` to `#class.method`, which exists only if that method has a block: else
    the link goes to its class's block. A name nbdev links that has no block at all (a private helper) is plain code."""
    def fix(m):
        opening, page, anchor = m.groups()
        owner, have = anchor.rsplit('.', 1)[0], api_anchors.get(page, ())
        return f'{opening}{page}#{owner}' if '.' in anchor and anchor not in have and owner in have else m.group(0)
    def unlink(m):
        code, page, anchor = m.groups()
        return code if anchor in sym_anchors.get(page, ()) and anchor not in api_anchors.get(page, {anchor}) else m.group(0)
    return _re_code_page_link.sub(unlink, _re_page_anchor.sub(fix, md))


def write_if_changed(path: Path, text: str):
    if not path.exists() or path.read_text(encoding='utf-8') != text:
        path.parent.mkdir(parents=True, exist_ok=True); path.write_text(text, encoding='utf-8')


def doc_url(cfg) -> str: return (cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/')).rstrip('/') + '/'


def make_sources(cfg) -> dict:
    "Write the Sphinx sources from `_proc/` (the index first, then the chapters by name); return the manifest."
    nbs = sorted(PROC.glob('*.ipynb'), key=lambda p: (p.name != cfg.readme_nb, p.name))
    names = {p: 'index' if p.name == cfg.readme_nb else page_name(p) for p in nbs}
    by_nb = {p.name: n for p, n in names.items()}
    def target(url: str) -> str:     # the doc host's pages and links to notebooks -> this site's pages
        if url.startswith(doc_url(cfg)): return url[len(doc_url(cfg)):] or 'index.html'
        path, hash_, anchor = url.partition('#')
        return by_nb[path] + '.html' + hash_ + anchor if path in by_nb else url
    manifest, pages = {'pages': [], 'notebooks': sorted(by_nb)}, []
    for p in nbs:
        nb, info = convert_notebook(nbformat.read(p, as_version=4), target, lambda msg: log(f'{p.name}: {msg}'))
        if names[p] == 'index':     # the sidebar: every page, in course order
            toc = '\n'.join(names[q] for q in nbs if names[q] != 'index')
            nb.cells.append(nbformat.v4.new_markdown_cell(f'```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```'))
        pages.append((names[p], nb))
        manifest['pages'].append({'page': f'{names[p]}.html', 'notebook': p.name, **info, 'title': info['title'] or names[p]})
    api = {pg['page']: {a['anchor'] for a in pg['api']} for pg in manifest['pages']}
    syms = {}      # page -> the anchors nbdev's doc links point to
    for page, _, anchor in (v[0].partition('#') for mod in importlib.import_module(f'{cfg.lib_name}._modidx').d['syms'].values() for v in mod.values()):
        syms.setdefault(page, set()).add(anchor)
    for name, nb in pages:
        for c in nb.cells:
            if c.cell_type == 'markdown': c.source = method_links_to_class(c.source, api, syms)
        write_if_changed(SRC/f'{name}.ipynb', nbformat.writes(nb))
    for rel in subprocess.run(['git', 'ls-files', '-z', '.'], cwd=cfg.nbs_path, capture_output=True, text=True).stdout.split('\0'):
        if rel and not rel.endswith(('.ipynb', '.yml')): (SRC/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(cfg.nbs_path/rel, SRC/rel)
    for f in SRC.glob('*.ipynb'): f.stem in names.values() or f.unlink()
    write_if_changed(SRC/'manifest.json', json.dumps(manifest, indent=1))
    return manifest


# --- the steps ---------------------------------------------------------------------------------------------------
def mathjax_dir() -> Path:
    "MathJax 3's es5 build, the parts the site uses: $ACCEL_SGD_MATHJAX, or fetched once with `npm pack` into the user's cache."
    if os.environ.get('ACCEL_SGD_MATHJAX'): return Path(os.environ['ACCEL_SGD_MATHJAX'])
    cache = Path(os.environ.get('XDG_CACHE_HOME', Path.home()/'.cache'))/'accel_sgd'/f'mathjax-{MATHJAX}'
    if (cache/'tex-chtml.js').exists(): return cache
    log(f'fetching mathjax@{MATHJAX} from the npm registry (once)')
    with tempfile.TemporaryDirectory() as tmp:
        if not shutil.which('npm') or subprocess.run(['npm', 'pack', f'mathjax@{MATHJAX}', '--silent'], cwd=tmp).returncode:
            raise SystemExit('MathJax could not be fetched with `npm pack` (`make docs` installs npm, as root; or set '
                             'ACCEL_SGD_MATHJAX to a MathJax 3 es5 directory)')
        with tarfile.open(next(Path(tmp).glob('*.tgz'))) as tar:
            tar.extractall(tmp, [m for m in tar.getmembers() if any(m.name.startswith(f'package/es5/{p}') for p in MATHJAX_PARTS)], filter='data')
        shutil.rmtree(cache.with_suffix('.part'), ignore_errors=True)
        shutil.copytree(Path(tmp)/'package'/'es5', cache.with_suffix('.part')); cache.with_suffix('.part').rename(cache)
    return cache


def process(cfg, force: bool = False):
    "nbdev's docs processing into `_proc/` (`proc_nbs` in this process), tools/api_doc.py drawing show_doc."
    from nbdev.quarto import proc_nbs, refresh_quarto_yml
    refresh_quarto_yml()          # nbs/nbdev.yml (and _quarto.yml if missing): Quarto's view of the site stays valid
    stamp = hashlib.sha256((cfg.lib_path/'_modidx.py').read_bytes() + (ROOT/'tools'/'api_doc.py').read_bytes()).hexdigest()
    force = force or not (PROC/'_stamp').exists() or (PROC/'_stamp').read_text() != stamp    # show_doc's links or drawing changed
    sys.path.insert(0, str(ROOT/'tools'))
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as user:       # nbdev reads settings from $XDG_CONFIG_DIRS/nbdev/settings.ini too
        (Path(user)/'nbdev').mkdir()
        (Path(user)/'nbdev'/'settings.ini').write_text('[DEFAULT]\nrenderer = api_doc.ApiDocRenderer\n')
        os.environ.update(XDG_CONFIG_DIRS=os.pathsep.join([user, os.environ.get('XDG_CONFIG_DIRS', '/etc/xdg')]), OMP_NUM_THREADS='1')
        get_config.cache_clear()
        try: proc_nbs(n_workers=0, force=force)
        except Exception as e:
            raise SystemExit(f'nbdev could not process the notebooks: {type(e).__name__}: {e}\n(nbdev runs each cell that holds an '
                             "import: keep imports in cells of their own; an `if __name__ == '__main__'` cell needs `#| eval: false`)")
        finally: os.environ.clear(); os.environ.update(env); get_config.cache_clear()
    (PROC/'_stamp').write_text(stamp)


def build(force: bool = False, quiet: bool = False) -> dict:
    "Every step; returns the manifest. SystemExit with the reason when a step fails or Sphinx warns."
    os.chdir(ROOT)
    cfg, t0 = get_config(), time.time()
    process(cfg, force)
    manifest, t1 = make_sources(cfg), time.time()
    static = PROC/'_static_mathjax'
    if not (static/'mathjax'/'tex-chtml.js').exists(): shutil.copytree(mathjax_dir(), static/'mathjax', dirs_exist_ok=True)
    os.environ['ACCEL_SGD_DOCS_STATIC'] = str(static)
    from sphinx.cmd.build import build_main
    warnings = PROC/'sphinx-warnings.txt'
    rc = build_main(['-b', 'html', '-c', str(ROOT/'docs_src'), '-d', str(PROC/'_doctrees'), '-w', str(warnings), '--keep-going',
                     *(['-q'] if quiet else []), *(['-E'] if force else []), str(SRC), str(HTML)])
    for f in OUT.glob('*') if OUT.exists() else []:     # _docs/ is the site, and the browser test's _screens/
        if f.name != '_screens': shutil.rmtree(f) if f.is_dir() else f.unlink()
    shutil.copytree(HTML, OUT, dirs_exist_ok=True)
    (OUT/'.nojekyll').touch()
    log(f"{len(manifest['pages'])} pages into {OUT.relative_to(ROOT)}/ in {time.time() - t0:.1f} s (nbdev and MyST {t1 - t0:.1f} s)")
    if rc or warnings.read_text().strip(): raise SystemExit(f'sphinx-build failed (exit {rc}) or warned:\n{warnings.read_text()}')
    return manifest


if __name__ == '__main__':
    build(force='--force' in sys.argv, quiet='--quiet' in sys.argv)
