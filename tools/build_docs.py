"""The docs site in `_docs/`, from the notebooks' stored outputs, without Quarto: `python tools/build_docs.py [--force] [--quiet]`.
1. nbdev's `proc_nbs` (what `nbdev_docs` runs before Quarto) writes `_proc/`, show_doc drawn by tools/api_doc.py (nbdev's
   `renderer` setting, in nbdev's user config for the build only); 2. each notebook becomes a page in `_proc/_sphinx/`, named as
   nbdev names it (`00_data.ipynb` -> `data.html`), Quarto's notation turned into MyST; `manifest.json` says what each page
   should show (tools/test_docs.py); 3. Sphinx + myst-nb + sphinx-book-theme (docs_src/conf.py), MathJax served from the site.
Exits non-zero when a step fails or Sphinx warns."""
from __future__ import annotations
import functools, hashlib, importlib, json, os, pydoc, re, shutil, subprocess, sys, tarfile, tempfile, time
from pathlib import Path
import nbformat, yaml
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
PROC, SRC, HTML, OUT = ROOT/'_proc', ROOT/'_proc'/'_sphinx', ROOT/'_proc'/'_html', ROOT/'_docs'
MATHJAX, MATHJAX_PARTS = '3.2.2', ['tex-chtml.js', 'output/chtml/fonts/woff-v2', 'input/tex/extensions', 'ui', 'a11y', 'sre']
def log(msg): print(f'[docs] {msg}', flush=True)


def lib_object(path: str):
    "The object at a dotted path (`torch.optim.SGD`, `accel_sgd.learner.Learner.fit`), or None (pydoc's lookup)."
    try: return pydoc.locate(path)
    except pydoc.ErrorDuringImport: return None      # `torch.optim.__init__` is a file, not a module to import


# --- Quarto's notation -> MyST, on markdown strings (tools/make_readme.py uses them too) ---------------------------------
_re_fence, _re_directive = re.compile(r'^\s*(`{3,}|~{3,})'), re.compile(r'^\s*#\s*\|')


def map_text_lines(md: str, f=lambda lines: lines, code=lambda line: line) -> str:
    "`f` (lines -> lines) on each run of lines outside fenced code blocks, `code` on each line inside."
    out, chunk, fence = [], [], None
    for line in md.split('\n'):
        m = _re_fence.match(line)
        if fence is None and m: out += f(chunk) + [line]; chunk, fence = [], m.group(1)
        elif fence is None: chunk.append(line)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):]: out.append(line); fence = None
        else: out.append(code(line))
    return '\n'.join(out + f(chunk))


def cell_options(source: str) -> tuple[dict[str, str], str]:
    "A code cell's `#|` options by nbdev's parser (`extract_directives`: `#| code-fold: true` -> {'code-fold': 'true'}), and its code."
    from execnb.nbio import mk_cell
    from nbdev.process import extract_directives, first_code_ln
    opts = {k.rstrip(':'): ' '.join(v).strip('"\'') for k, v in extract_directives(mk_cell(source), remove=False).items()}
    lines = source.split('\n')
    n = first_code_ln(lines)
    return opts, '\n'.join(l for i, l in enumerate(lines) if n is not None and i >= n or not _re_directive.match(l)).strip('\n')


_re_links = [re.compile(r'(\]\()([^)\s]+)((?:\s+"[^"]*")?\))'), re.compile(r'''(\bhref=["'])([^"']+)(["'])''')]
_re_math_punct = re.compile(r'(?<![\\$])(\$[^\s$][^$]*?(?<![\s\\])\$)(?![\d$])([,.;:!?)]+)')
_re_code_link = re.compile(r'\[(`+)([^`\]]+?)\1\]\([^)\s]*\)')


def rewrite_links(md: str, target) -> str: return functools.reduce(lambda md, r: r.sub(lambda m: m[1] + target(m[2]) + m[3], md), _re_links, md)
def unlink_code(md: str) -> str: return map_text_lines(md, code=lambda line: _re_code_link.sub(r'\2', line))   # nbdev links names in code too


def quarto_to_myst(md: str, target=lambda u: u, gfm: bool = False) -> str:
    "Links through `target`; for the site, `$B$,` kept on one line with its punctuation (typeset maths is an inline block)."
    def maths(line): return ''.join(p if i % 3 else _re_math_punct.sub(r'<span class="nowrap">\1\2</span>', p)
                                    for i, p in enumerate(re.split(r'((`+).+?\2)', line)) if i % 3 != 2)
    return rewrite_links(md if gfm else map_text_lines(md, lambda lines: list(map(maths, lines))), target)


# --- names of other libraries: "PyTorch's `SGD`" is torch.optim.SGD, not the course's SGD --------------------------------
TORCH_NAMESPACES = ['torch.optim', 'torch.optim.lr_scheduler', 'torch.nn', 'torch.nn.functional', 'torch.utils.data', 'torch.amp',
                    'torch.nn.parallel', 'torch.distributed', 'torch.func', 'torch']
TORCH_PAGES = {'torch.utils.data.': 'data.html', 'torch.amp.': 'amp.html', 'torch.distributed.': 'distributed.html'}
OTHER_LIBS = r'fastai|Lightning|Keras|JAX|Optax|timm|NumPy|numpy|TensorFlow|scikit-learn|sklearn|Hugging Face|transformers'
_re_owned = re.compile(rf"\b(PyTorch|[Tt]orch|{OTHER_LIBS})(['’]s\s+)(?:\[`([\w.]+)(\(\))?`\]\(([^)\s]+)\)|`([\w.]+)(\(\))?`(?!\]))")
_re_torch_name = re.compile(r'(?<![\[\w`])`(torch\.[\w.]+)(\(\))?`(?!\]|\()')


@functools.lru_cache(maxsize=None)
def torch_doc_url(name: str) -> str | None:
    "PyTorch's documentation page for `name` (`SGD`, `OneCycleLR`, `torch.optim.AdamW`...), if torch has such an object."
    for qual in [name] if name.startswith('torch.') else [f'{ns}.{name}' for ns in TORCH_NAMESPACES]:
        if (obj := lib_object(qual)) is None or type(obj).__name__ == 'module': continue
        page = next((p for pre, p in TORCH_PAGES.items() if qual.startswith(pre) and qual.count('.') == pre.count('.')), None)
        return 'https://docs.pytorch.org/docs/stable/' + (f'{page}#{qual}' if page else f'generated/{qual}.html')


def foreign_names(md: str) -> str:
    "After \"PyTorch's\" a name, and any `torch.x`, links to PyTorch's documentation; after \"fastai's\" (and others') it is plain code."
    def owned(m):
        lib, sep, name, parens = m.group(1, 2, 3, 4) if m[3] else m.group(1, 2, 6, 7)
        url, code = torch_doc_url(name) if lib.lower() in ('pytorch', 'torch') else None, f'`{name}{parens or ""}`'
        return f'{lib}{sep}[{code}]({url})' if url else f'{lib}{sep}{code}'
    def fix(lines):     # "PyTorch's" may end one line and its name start the next; `torch.x` only outside links
        parts = re.split(r'(\[[^\]]*\]\([^)]*\))', _re_owned.sub(owned, '\n'.join(lines)))
        return ''.join(p if i % 2 else _re_torch_name.sub(lambda m: f'[{m[0]}]({u})' if (u := torch_doc_url(m[1])) else m[0], p)
                       for i, p in enumerate(parts)).split('\n') if lines else lines
    return map_text_lines(md, fix)


# --- folds, API blocks -------------------------------------------------------------------------------------
_re_md_fold = re.compile(r'^\s*<!--\s*fold(?:\s*:\s*(.*?))?\s*-->[ \t]*\n?')
_re_api = re.compile(r'^(#{1,6}) ([^\n]+)\n\n(`{4,})\{container\} api-block\n(.*?)\n\3$', re.M | re.S)


def api_blocks(md: str, target, seen: set) -> tuple[str, list[dict]]:
    "tools/api_doc.py's blocks as markdown cells are, links kept out of code, one already on the page (a method in its class) left out; their facts."
    out, info = [], []
    for m in _re_api.finditer(md):
        hashes, heading, _, body = m.groups()
        if (name := heading.replace('\\_', '_')).lower() in seen: continue
        seen.add(name.lower())
        full = (re.findall(r'^:canonical: (\S+)', body, re.M) or [f"{m}.{name}" for m in re.findall(r'^:module: (\S+)', body, re.M)] or [None])[0]
        info.append({'name': name, 'anchor': name.lower(), 'level': len(hashes), 'method': '{py:method}' in body, 'object': full})
        out.append(m[0].replace(body, foreign_names(quarto_to_myst(unlink_code(body), target))))
    return '\n\n'.join(out), info


def page_name(nb: Path) -> str: return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb.stem.lower())     # as nbdev's doc links name it


def convert_notebook(nb, target, warn=print, gfm: bool = False) -> tuple[object, dict]:
    "A processed notebook -> the notebook myst-nb renders (`gfm`: the README's), and the facts the browser test checks."
    cells, seen, info = [], set(), {'title': None, 'api': [], 'folds': []}
    md_cell = lambda s: cells.append(nbformat.v4.new_markdown_cell(s))
    markdown = lambda md: quarto_to_myst(md, target, gfm) if gfm else foreign_names(quarto_to_myst(md, target))
    for cell in nb.cells:
        if cell.cell_type == 'raw':
            if (src := cell.source.strip()).startswith('---') and info['title'] is None:     # nbdev's frontmatter, from `# Title` / `> description`
                front = yaml.safe_load(src.strip('-')) or {}
                info['title'], desc = front.get('title'), front.get('description')
                md_cell(f"# {info['title']}\n" + (f'\n> {desc}\n' if gfm else f'\n```{{container}} page-description\n{desc}\n```\n') * bool(desc))
            elif src: warn('a raw cell is not shown (raw cells have no HTML form)')
        elif cell.cell_type == 'markdown' and 'THIS FILE WAS AUTOGENERATED' not in cell.source:
            src, m = cell.source, _re_md_fold.match(cell.source)     # `<!-- fold: Show the answer to 3 -->`: the rest in a closed <details>
            if m:
                summary, body = (m[1] or 'Show the answer').strip(), src[m.end():].strip('\n')
                hide = re.sub(r'^Show\b', 'Hide', summary)
                if re.search(r'^#{1,6}\s', body, re.M): warn('a folded markdown cell holds a heading: headings cannot be folded')
                src = (f'<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>' if gfm else '<details class="admonition hide above-input fold">\n'
                       f'<summary aria-label="Toggle hidden content">\n<p class="collapsed admonition-title">{summary}</p>\n<p class="expanded '
                       f'admonition-title">{hide}</p>\n</summary>\n\n{body}\n\n</details>')
                info['folds'].append({'kind': 'markdown', 'summary': summary, 'first': ' '.join(body.split())[:60]})
            src = markdown(src)
            if info['title'] is None and (m := re.match(r'#\s+(.+)', src)): info['title'] = m[1].strip()
            md_cell(src)
        elif cell.cell_type == 'code':
            opts, src = cell_options(cell.source)
            tags, outputs, meta = set(cell.metadata.get('tags', [])), list(cell.get('outputs', [])), {}
            if opts.get('output') == 'asis':      # markdown outputs (show_doc's) become part of the page
                for o in [o for o in outputs if 'text/markdown' in o.get('data', {})]:
                    md, outputs = ''.join(o['data']['text/markdown']), [p for p in outputs if p is not o]
                    if _re_api.search(md) and not gfm: md, apis = api_blocks(md, target, seen); info['api'] += apis
                    else: md = markdown(unlink_code(md))
                    if md.strip(): md_cell(md)
                if not outputs: continue
            if opts.get('echo') == 'false' or not src.strip(): tags.add('remove-input')
            if opts.get('code-fold') == 'true' and src.strip() and 'remove-input' not in tags:   # folded with its output unless fold-output: false
                summary, with_output = opts.get('code-summary') or 'Show code', opts.get('fold-output') != 'false' and bool(outputs) and 'remove-output' not in tags
                tags.add('hide-cell' if with_output else 'hide-input')
                meta['mystnb'] = {'code_prompt_show': summary, 'code_prompt_hide': re.sub(r'^Show\b', 'Hide', summary)}
                info['folds'].append({'kind': 'code+output' if with_output else 'code', 'summary': summary, 'first': src.strip().split('\n')[0][:60]})
            if tags: meta['tags'] = sorted(tags)
            if (outputs := [o for o in outputs if o.output_type not in ('execute_result', 'display_data') or o.get('data')]) or src.strip():
                cells.append(nbformat.v4.new_code_cell(src, metadata=meta, outputs=outputs, execution_count=cell.get('execution_count')))
    for i, c in enumerate(cells): c.id = f'c{i}'     # the same page gives the same file: Sphinx rereads only what changed
    return nbformat.v4.new_notebook(cells=cells, metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'},
                                                           'language_info': {'name': 'python', 'pygments_lexer': 'ipython3'}}), info


_re_page_anchor, _re_code_page_link = re.compile(r'(\]\(|href=")([\w.-]+\.html)#([^)"\s]+)'), re.compile(r'\[(`+[^`\]]+`+)\]\(([\w.-]+\.html)#([^)\s]+)\)')


def method_links_to_class(md: str, api_anchors: dict, sym_anchors: dict) -> str:
    "nbdev's link to `#class.method` goes to the class's block when the method has none; a name nbdev links that has no block is plain code."
    def fix(m): return f'{m[1]}{m[2]}#{m[3].rsplit(".", 1)[0]}' if '.' in m[3] and m[3] not in api_anchors.get(m[2], ()) and m[3].rsplit('.', 1)[0] in api_anchors.get(m[2], ()) else m[0]
    def unlink(m): return m[1] if m[3] in sym_anchors.get(m[2], ()) and m[3] not in api_anchors.get(m[2], {m[3]}) else m[0]
    return _re_code_page_link.sub(unlink, _re_page_anchor.sub(fix, md))


def write_if_changed(path: Path, text: str):
    if not path.exists() or path.read_text(encoding='utf-8') != text: path.parent.mkdir(parents=True, exist_ok=True); path.write_text(text, encoding='utf-8')
def doc_url(cfg) -> str: return (cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/')).rstrip('/') + '/'


def make_sources(cfg) -> dict:
    "The Sphinx sources from `_proc/` (the index first, then the chapters by name); returns the manifest."
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
            nb.cells.append(nbformat.v4.new_markdown_cell('```{toctree}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(names[q] for q in nbs if names[q] != 'index') + '\n```'))
        pages.append((names[p], nb))
        manifest['pages'].append({'page': f'{names[p]}.html', 'notebook': p.name, **info, 'title': info['title'] or names[p]})
    api, syms = {pg['page']: {a['anchor'] for a in pg['api']} for pg in manifest['pages']}, {}
    for page, _, anchor in (v[0].partition('#') for mod in importlib.import_module(f'{cfg.lib_name}._modidx').d['syms'].values() for v in mod.values()):
        syms.setdefault(page, set()).add(anchor)
    for name, nb in pages:
        for c in nb.cells: c.source = method_links_to_class(c.source, api, syms) if c.cell_type == 'markdown' else c.source
        write_if_changed(SRC/f'{name}.ipynb', nbformat.writes(nb))
    for rel in subprocess.run(['git', 'ls-files', '-z', '.'], cwd=cfg.nbs_path, capture_output=True, text=True).stdout.split('\0'):
        if rel and not rel.endswith(('.ipynb', '.yml')): (SRC/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(cfg.nbs_path/rel, SRC/rel)
    for f in SRC.glob('*.ipynb'): f.stem in names.values() or f.unlink()
    write_if_changed(SRC/'manifest.json', json.dumps(manifest, indent=1))
    return manifest


def mathjax_dir() -> Path:
    "MathJax 3's es5 build, the parts the site uses: $ACCEL_SGD_MATHJAX, or fetched once with `npm pack` into the user's cache."
    if os.environ.get('ACCEL_SGD_MATHJAX'): return Path(os.environ['ACCEL_SGD_MATHJAX'])
    cache = Path(os.environ.get('XDG_CACHE_HOME', Path.home()/'.cache'))/'accel_sgd'/f'mathjax-{MATHJAX}'
    if (cache/'tex-chtml.js').exists(): return cache
    log(f'fetching mathjax@{MATHJAX} from the npm registry (once)')
    with tempfile.TemporaryDirectory() as tmp:
        if not shutil.which('npm') or subprocess.run(['npm', 'pack', f'mathjax@{MATHJAX}', '--silent'], cwd=tmp).returncode:
            raise SystemExit('MathJax could not be fetched with `npm pack` (`make docs` installs npm, as root; or set ACCEL_SGD_MATHJAX to a MathJax 3 es5 directory)')
        with tarfile.open(next(Path(tmp).glob('*.tgz'))) as tar:
            tar.extractall(tmp, [m for m in tar.getmembers() if any(m.name.startswith(f'package/es5/{p}') for p in MATHJAX_PARTS)], filter='data')
        shutil.rmtree(cache.with_suffix('.part'), ignore_errors=True)
        shutil.copytree(Path(tmp)/'package'/'es5', cache.with_suffix('.part')); cache.with_suffix('.part').rename(cache)
    return cache


def process(cfg, force: bool = False):
    "nbdev's docs processing into `_proc/` (`proc_nbs` here), all notebooks again when `_modidx.py` or api_doc.py changed."
    from nbdev.quarto import proc_nbs, refresh_quarto_yml
    refresh_quarto_yml()          # nbs/nbdev.yml (and _quarto.yml if missing): Quarto's view of the site stays valid
    stamp = hashlib.sha256((cfg.lib_path/'_modidx.py').read_bytes() + (ROOT/'tools'/'api_doc.py').read_bytes()).hexdigest()
    force, env = force or not (PROC/'_stamp').exists() or (PROC/'_stamp').read_text() != stamp, dict(os.environ)
    sys.path.insert(0, str(ROOT/'tools'))
    with tempfile.TemporaryDirectory() as user:       # nbdev reads settings from $XDG_CONFIG_DIRS/nbdev/settings.ini too
        (Path(user)/'nbdev').mkdir()
        (Path(user)/'nbdev'/'settings.ini').write_text('[DEFAULT]\nrenderer = api_doc.ApiDocRenderer\n')
        os.environ.update(XDG_CONFIG_DIRS=os.pathsep.join([user, os.environ.get('XDG_CONFIG_DIRS', '/etc/xdg')]), OMP_NUM_THREADS='1')
        get_config.cache_clear()
        try: proc_nbs(n_workers=0, force=force)
        except Exception as e: raise SystemExit(f'nbdev could not process the notebooks: {type(e).__name__}: {e}\n(nbdev runs each cell that holds an '
                                                "import: keep imports in cells of their own; an `if __name__ == '__main__'` cell needs `#| eval: false`)")
        finally: os.environ.clear(); os.environ.update(env); get_config.cache_clear()
    (PROC/'_stamp').write_text(stamp)


def build(force: bool = False, quiet: bool = False) -> dict:
    "Every step; returns the manifest. SystemExit with the reason when a step fails or Sphinx warns."
    os.chdir(ROOT)
    cfg, t0 = get_config(), time.time()
    process(cfg, force)
    manifest, static, warnings = make_sources(cfg), PROC/'_static_mathjax', PROC/'sphinx-warnings.txt'
    if not (static/'mathjax'/'tex-chtml.js').exists(): shutil.copytree(mathjax_dir(), static/'mathjax', dirs_exist_ok=True)
    os.environ['ACCEL_SGD_DOCS_STATIC'] = str(static)
    from sphinx.cmd.build import build_main
    rc = build_main(['-b', 'html', '-c', str(ROOT/'docs_src'), '-d', str(PROC/'_doctrees'), '-w', str(warnings), '--keep-going',
                     *(['-q'] if quiet else []), *(['-E'] if force else []), str(SRC), str(HTML)])
    for f in OUT.glob('*') if OUT.exists() else []:     # _docs/ is the site, and the browser test's _screens/
        if f.name != '_screens': shutil.rmtree(f) if f.is_dir() else f.unlink()
    shutil.copytree(HTML, OUT, dirs_exist_ok=True)
    (OUT/'.nojekyll').touch()
    log(f"{len(manifest['pages'])} pages into {OUT.relative_to(ROOT)}/ in {time.time() - t0:.1f} s")
    if rc or warnings.read_text().strip(): raise SystemExit(f'sphinx-build failed (exit {rc}) or warned:\n{warnings.read_text()}')
    return manifest


if __name__ == '__main__': build(force='--force' in sys.argv, quiet='--quiet' in sys.argv)
