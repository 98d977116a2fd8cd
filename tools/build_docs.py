"""Build the docs site into `_docs/` from the notebooks and their stored outputs, without Quarto.

    python tools/build_docs.py [--force]      (what `make docs` runs)

1. nbdev's own processing, as `nbdev_docs` does it before Quarto: `refresh_quarto_yml`,
   `_build_modidx`, then `proc_nbs` writes `_proc/` (show_doc API blocks rendered, hidden and
   exported cells removed, frontmatter parsed). show_doc draws with tools/api_doc.py's renderer
   (real signatures, parameter tables, a block per public method). It is cached: only changed
   notebooks are redone (all of them when `_modidx.py` or tools/api_doc.py changes).
2. Each processed notebook becomes one page in `_proc/_sphinx/`, named like nbdev names it
   (`00_data.ipynb` -> `data.html`, the names in `_modidx.py`'s doc links), with Quarto's
   notation turned into MyST: frontmatter -> title and description, `#| echo: false` ->
   `remove-input`, `#| code-fold: true` and `<!-- fold -->` markdown cells -> closed folds,
   show_doc output -> API blocks, callouts -> admonitions, `---` rules, `{target="_blank"}`
   attributes, links to notebooks and to the doc host made relative, names of other libraries
   ("PyTorch's `SGD`") linked to their own docs, a plot's stray `<matplotlib...>` repr dropped.
3. A local MathJax 3 (the npm package, fetched once with `npm pack` into a cache) is served
   from `_static/mathjax/`: the site needs no network to typeset its maths.
4. Sphinx + myst-nb (execution off) + sphinx-book-theme write the HTML into `_docs/`.

Writes `_proc/_sphinx/manifest.json` (pages in course order, titles, API blocks, folds, the
exported symbols and their public methods) for tools/test_docs.py. Exits non-zero if a step
fails or Sphinx warns.
"""
from __future__ import annotations
import ast, functools, hashlib, json, os, re, shutil, subprocess, sys, tarfile, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nb_directives import is_false, is_true, split_directives  # noqa: E402  (one `#|` parser, shared with run_nb.py)
from api_doc import public_method_names  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT/'docs_src'
PROC = ROOT/'_proc'
SRC = PROC/'_sphinx'            # the Sphinx sources this script writes (gitignored with _proc/)
DOCTREES = PROC/'_doctrees'
HTML = PROC/'_html'             # Sphinx writes here (myst-nb puts its images beside it), then
OUT = ROOT/'_docs'              # the site is mirrored into _docs/ (keeping the test's _screens/)
MATHJAX_VERSION = '3.2.2'
# What the site needs from the mathjax package: the TeX + CommonHTML component, its fonts, the
# TeX extensions it autoloads, and the accessibility parts its menu loads on demand.
MATHJAX_PARTS = ['tex-chtml.js', 'output/chtml/fonts/woff-v2', 'input/tex/extensions', 'ui', 'a11y', 'sre']


def log(msg): print(f'[docs] {msg}', flush=True)


# --------------------------------------------------------------------------------------------
# Quarto notation -> MyST. Pure functions on strings, shared with tools/make_readme.py.
# --------------------------------------------------------------------------------------------
_re_fence = re.compile(r'^\s*(`{3,}|~{3,})')


def map_text_lines(md: str, f) -> str:
    "Apply `f` to the lines of `md` outside fenced code blocks (f: list of lines -> list of lines)."
    out, chunk, fence = [], [], None
    for line in md.split('\n'):
        m = _re_fence.match(line)
        if fence is None and m:
            out += f(chunk); chunk = []; fence = m.group(1); out.append(line)
        elif fence is not None:
            out.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):].strip():
                fence = None
        else: chunk.append(line)
    return '\n'.join(out + f(chunk))


_re_link = re.compile(r'(\]\()([^)\s]+)((?:\s+"[^"]*")?\))')
_re_href = re.compile(r'''(\bhref=["'])([^"']+)(["'])''')
_re_attrs_after_link = re.compile(r'(\]\([^)]*\))\{[^}\n]*\}')
_re_heading_attrs = re.compile(r'^(#{1,6}\s.*?)\s*\{[^}\n]*\}\s*$')
_re_div_open = re.compile(r'^(:{3,})\s*\{([^}]*)\}\s*$|^(:{3,})\s*([\w-]+)\s*$')
_re_div_close = re.compile(r'^:{3,}\s*$')
_re_rule = re.compile(r'^\s{0,3}(-{3,}|\*{3,}|_{3,})\s*$')
CALLOUTS = {'note', 'tip', 'warning', 'important', 'caution'}


_re_code_span = re.compile(r'(`+).+?\1')
_re_inline_math_punct = re.compile(r'(?<![\\$])(\$[^\s$][^$]*?(?<![\s\\])\$)(?![\d$])([,.;:!?)]+)')


def keep_math_with_punctuation(line: str) -> str:
    "`$B$,` -> `<span class=\"nowrap\">$B$,</span>`: typeset maths is an inline block, and a line may break before its comma."
    parts, last = [], 0
    for m in _re_code_span.finditer(line):
        parts.append(_re_inline_math_punct.sub(r'<span class="nowrap">\1\2</span>', line[last:m.start()]))
        parts.append(m.group(0)); last = m.end()
    parts.append(_re_inline_math_punct.sub(r'<span class="nowrap">\1\2</span>', line[last:]))
    return ''.join(parts)


def rewrite_links(md: str, target) -> str:
    "Rewrite every markdown link and html href target with `target(url) -> url`."
    md = _re_link.sub(lambda m: m.group(1) + target(m.group(2)) + m.group(3), md)
    return _re_href.sub(lambda m: m.group(1) + target(m.group(2)) + m.group(3), md)


def _fenced_divs(lines, warn):
    "Parse pandoc fenced divs (`::: {.callout-note}` ... `:::`) into a tree of str lines and dict nodes."
    root = {'attrs': None, 'body': []}; stack = [root]
    for line in lines:
        m = _re_div_open.match(line)
        if m:
            node = {'attrs': (m.group(2) if m.group(2) is not None else '.' + m.group(4)).strip(), 'body': []}
            stack[-1]['body'].append(node); stack.append(node)
        elif _re_div_close.match(line) and len(stack) > 1: stack.pop()
        else: stack[-1]['body'].append(line)
    if len(stack) > 1: warn(f'unclosed fenced div `::: {{{stack[-1]["attrs"]}}}`')
    return root['body']


def _depth(body): return max([1 + _depth(n['body']) for n in body if isinstance(n, dict)], default=0)


def _render_divs(body, warn, admonition) -> list[str]:
    out = []
    for node in body:
        if isinstance(node, str): out.append(node); continue
        attrs, inner = node['attrs'], list(node['body'])
        kind = re.search(r'\.callout-(\w+)', attrs)
        if not kind:   # a layout div (columns, margins, panels): keep its content, drop the fence
            warn(f'fenced div `::: {{{attrs}}}` has no equivalent here: its content is shown plainly')
            out += _render_divs(inner, warn, admonition); continue
        kind = kind.group(1) if kind.group(1) in CALLOUTS else 'note'
        title = re.search(r'title="([^"]*)"', attrs)
        title = title.group(1) if title else None
        first = next((i for i, l in enumerate(inner) if not (isinstance(l, str) and not l.strip())), None)
        if title is None and first is not None and isinstance(inner[first], str) and re.match(r'#{1,6}\s', inner[first]):
            title = inner.pop(first).lstrip('#').strip()   # Quarto takes a leading heading as the title
        out += admonition(kind, title, _render_divs(inner, warn, admonition), _depth(node['body']))
    return out


def myst_admonition(kind, title, lines, depth):
    colons = ':' * (3 + depth)
    head = [f'{colons}{{admonition}} {title}', f':class: {kind}'] if title else [f'{colons}{{{kind}}}']
    return ['', *head, *lines, colons, '']


def gfm_alert(kind, title, lines, depth):
    "A GitHub alert (`> [!NOTE]`), for the README."
    body = ([f'**{title}**', ''] if title else []) + lines
    while body and not body[-1].strip(): body.pop()
    return ['', f'> [!{kind.upper()}]', *[f'> {l}'.rstrip() for l in body], '']


def quarto_to_myst(md: str, target=lambda u: u, warn=print, admonition=myst_admonition) -> str:
    "Convert the Quarto-isms of a markdown cell: fenced-div callouts, rules, attribute braces, links."
    def fix(lines):
        lines = _render_divs(_fenced_divs(lines, warn), warn, admonition)
        out = []
        for i, line in enumerate(lines):
            prev_blank = i == 0 or not lines[i-1].strip()
            if _re_rule.match(line) and prev_blank and admonition is myst_admonition:
                out += ['<hr class="rule">', '']     # a transition would upset docutils' sections
                continue
            line = _re_heading_attrs.sub(r'\1', line)
            line = _re_attrs_after_link.sub(r'\1', line)
            out.append(keep_math_with_punctuation(line) if admonition is myst_admonition else line)
        return out
    return rewrite_links(map_text_lines(md, fix), target)


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------
def class_names(lib: Path) -> set[str]:
    "Qualified names of the classes defined in the library."
    names = set()
    for py in lib.rglob('*.py'):
        try: tree = ast.parse(py.read_text(encoding='utf-8'))
        except SyntaxError: continue
        def walk(body, prefix=''):
            for node in body:
                if isinstance(node, ast.ClassDef):
                    names.add(prefix + node.name); walk(node.body, prefix + node.name + '.')
        walk(tree.body)
    return names


_re_code_link = re.compile(r'\[(`+)([^`\]]+?)\1\]\([^)\s]*\)')


def unlink_code(md: str) -> str:
    "nbdev links backticked names on every line of show_doc's markdown, code blocks too: `[`x`](url)` -> `x` inside fences."
    out, fence = [], None
    for line in md.split('\n'):
        m = _re_fence.match(line)
        if fence is None and m: fence = m.group(1)
        elif fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence): fence = None
            else: line = _re_code_link.sub(r'\2', line)
        out.append(line)
    return '\n'.join(out)


# --- names of other libraries: "PyTorch's `SGD`" is torch.optim.SGD, not the course's SGD --------
PYTORCH_DOCS = 'https://docs.pytorch.org/docs/stable/'
TORCH_NAMESPACES = ['torch.optim', 'torch.optim.lr_scheduler', 'torch.nn', 'torch.nn.functional', 'torch.utils.data',
                    'torch.amp', 'torch.nn.parallel', 'torch.distributed', 'torch.func', 'torch']
TORCH_PAGES = {'torch.utils.data.': 'data.html', 'torch.amp.': 'amp.html', 'torch.distributed.': 'distributed.html'}
OTHER_LIBS = r'fastai|Lightning|Keras|JAX|Optax|timm|NumPy|numpy|TensorFlow|scikit-learn|sklearn|Hugging Face|transformers'
_re_owned = re.compile(rf"\b(PyTorch|[Tt]orch|{OTHER_LIBS})(['’]s\s+)(?:\[`([\w.]+)(\(\))?`\]\(([^)\s]+)\)|`([\w.]+)(\(\))?`(?!\]))")
_re_torch_name = re.compile(r'(?<![\[\w`])`(torch\.[\w.]+)(\(\))?`(?!\]|\()')


@functools.lru_cache(maxsize=None)
def torch_doc_url(name: str) -> str | None:
    "PyTorch's documentation page for `name` (`SGD`, `OneCycleLR`, `torch.optim.AdamW`...), if torch has it."
    import importlib
    cands = [name] if name.startswith('torch.') else [f'{ns}.{name}' for ns in TORCH_NAMESPACES]
    for qual in cands:
        mod, _, attr = qual.rpartition('.')
        obj = None
        for i in range(len(mod.split('.')), 0, -1):     # the longest importable module prefix
            head, rest = '.'.join(qual.split('.')[:i]), qual.split('.')[i:]
            try: obj = importlib.import_module(head)
            except ImportError: continue
            try:
                for a in rest: obj = getattr(obj, a)
            except AttributeError: obj = None
            break
        if obj is None or (name.startswith('torch.') and type(obj).__name__ == 'module' and qual.count('.') < 2): continue
        if type(obj).__name__ == 'module': return None
        page = next((p for pre, p in TORCH_PAGES.items() if qual.startswith(pre) and qual.count('.') == pre.count('.')), None)
        return PYTORCH_DOCS + (f'{page}#{qual}' if page else f'generated/{qual}.html')
    return None


def foreign_names(md: str) -> str:
    """A name that belongs to another library is not linked to this one's API: "PyTorch's `SGD`" and
    `torch.optim.SGD` link to PyTorch's documentation; "fastai's `Learner`" is plain code."""
    def owned(m):
        lib, sep = m.group(1), m.group(2)
        name, parens = (m.group(3), m.group(4)) if m.group(3) else (m.group(6), m.group(7))
        code = f'`{name}{parens or ""}`'
        url = torch_doc_url(name) if lib.lower() in ('pytorch', 'torch') else None
        return f'{lib}{sep}[{code}]({url})' if url else f'{lib}{sep}{code}'
    def qualified(m):
        url = torch_doc_url(m.group(1))
        return f'[{m.group(0)}]({url})' if url else m.group(0)
    def fix(lines):
        text = _re_owned.sub(owned, '\n'.join(lines))    # "PyTorch's" may end one line and its name start the next
        parts, last = [], 0     # `torch.x` outside existing links
        for lm in re.finditer(r'\[[^\]]*\]\([^)]*\)', text):
            parts.append(_re_torch_name.sub(qualified, text[last:lm.start()])); parts.append(lm.group(0)); last = lm.end()
        parts.append(_re_torch_name.sub(qualified, text[last:]))
        return ''.join(parts).split('\n') if lines else lines
    return map_text_lines(md, fix)


# --- folds ----------------------------------------------------------------------------------
_re_md_fold = re.compile(r'^\s*<!--\s*fold(?:\s*:\s*(.*?))?\s*-->[ \t]*\n?')


def hide_prompt(show: str) -> str:
    "The summary of an open fold: 'Show the solution' -> 'Hide the solution'."
    return re.sub(r'^Show\b', 'Hide', show) if re.match(r'Show\b', show) else show


def fold_markdown(src: str, warn, gfm: bool = False) -> tuple[str, bool]:
    """A markdown cell whose first line is `<!-- fold -->` (or `<!-- fold: Show the answer -->`) ->
    the rest of the cell inside a closed <details> (what it says, else 'Show the answer')."""
    m = _re_md_fold.match(src)
    if not m: return src, False
    summary, body = (m.group(1) or 'Show the answer').strip(), src[m.end():].strip('\n')
    if re.search(r'^#{1,6}\s', body, re.M): warn('a folded markdown cell holds a heading: headings cannot be folded')
    if gfm: return f'<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>', True
    head = ('<details class="admonition hide above-input fold">\n<summary aria-label="Toggle hidden content">\n'
            f'<p class="collapsed admonition-title">{summary}</p>\n'
            f'<p class="expanded admonition-title">{hide_prompt(summary)}</p>\n</summary>')
    return f'{head}\n\n{body}\n\n</details>', True


# --- stray reprs ----------------------------------------------------------------------------
_re_stray_repr = re.compile(r'^\s*(\[?\s*<(matplotlib\.|Figure size|Axes:)[^\n]*>\s*(,\s*<[^\n]*>\s*)*\]?'
                            r'|Text\(-?[\d.e-]+, -?[\d.e-]+, .*\)|\((-?[\d.e+-]+, )+-?[\d.e+-]+\))\s*$', re.S)


def stray_repr(o) -> str | None:
    "The text of an execute_result that is only the repr of a plotting call's return value (`<matplotlib.legend.Legend ...>`)."
    if o.get('output_type') != 'execute_result': return None
    data = o.get('data', {})
    if set(data) - {'text/plain'}: return None
    txt = data.get('text/plain', '')
    txt = ''.join(txt) if isinstance(txt, list) else txt
    return txt if _re_stray_repr.match(txt) and ('matplotlib' in txt or 'Figure' in txt or 'Axes' in txt or 'Text(' in txt) else None


def has_image(outputs) -> bool:
    return any(o.get('output_type') in ('display_data', 'execute_result') and any(k.startswith('image/') for k in o.get('data', {}))
               for o in outputs)


# --- show_doc's output -> API blocks --------------------------------------------------------
_re_showdoc_md = re.compile(
    r'^\s*(?:---\s*\n)?\s*(?:\[source\]\(([^)]+)\)\{[^}]*\}\s*\n)?\s*(#{1,6}) (.+?)\n(.*)$', re.S)
_re_showdoc_split = re.compile(r'\n---[ \t]*\n(?=\s*(?:\[source\]\(|#{1,6} ))')


def _api_chunk(md: str, target) -> tuple[str, dict]:
    m = _re_showdoc_md.match(md)
    if not m: raise ValueError(f'unexpected show_doc output:\n{md}')
    source, hashes, name, rest = m.groups()
    name = name.strip()
    anchor = name.lower()            # the anchor nbdev puts in _modidx.py's doc links
    body = unlink_code(rest).strip()
    body = foreign_names(rewrite_links(_re_attrs_after_link.sub(r'\1', body), target))
    sig = re.search(r'```python\n(.*?)\n```', body, re.S)
    sig = sig.group(1) if sig else ''
    table = re.search(r'^\|.*\*\*Details\*\*.*\|\n\|[- |]+\|\n((?:\|.*\|\n?)+)', body, re.M)
    rows = [r.split('|')[1].strip().replace('\\', '') for r in table.group(1).strip('\n').split('\n')] if table else []
    params = [r for r in rows if r != '**Returns**']
    fence = '`' * max(4, 1 + max((len(r) for r in re.findall(r'`+', body)), default=0))
    src_link = f'<a class="api-source reference external" href="{source}" target="_blank" rel="noopener">source</a>\n\n' if source else ''
    # docs_src/conf.py gives the heading's section the id `anchor` (nbdev's, as in _modidx.py's links)
    heading = re.sub(r'(?<!\\)_', r'\\_', name)     # `__getattr__` is not **getattr**
    md = f'{hashes} {heading}\n\n{fence}{{container}} api-block\n{src_link}{body}\n{fence}\n'
    # the object, for the test to compare with `inspect.signature`: its module from the source link
    mod = re.search(r'/blob/[^/]+/(.+?)\.py#L\d+$', source or '')
    obj = [mod.group(1).replace('/', '.'), name] if mod else None
    return md, {'name': name, 'anchor': anchor, 'source': source, 'level': len(hashes), 'params': params,
                'signature': sig, 'object': obj, 'method': bool(re.search(r'(^|\.)[A-Z]\w*\.\w+$', name))}


def api_block(md: str, classes: set[str] = frozenset(), target=lambda u: u) -> tuple[str, list[dict]]:
    """show_doc's markdown (tools/api_doc.py's: a block, then one per public method of a class) ->
    anchored headings, each with a bordered `api-block` container; and the facts about each."""
    chunks = [c for c in _re_showdoc_split.split(md) if c.strip()]
    out = [_api_chunk(c, target) for c in chunks]
    return '\n'.join(m for m, _ in out), [i for _, i in out]


def has_math(md: str) -> bool:
    "Does markdown hold LaTeX (dollar or \\begin{} maths outside code)?"
    prose = re.sub(r'^\s*(`{3,}|~{3,}).*?^\s*\1', '', md, flags=re.S | re.M)   # fenced code
    prose = re.sub(r'(`+).+?\1', '', prose, flags=re.S)      # inline code
    # pandoc's rule for $: a non-space right after the opening one and right before the closing
    # one, which is not followed by a digit (so `$5 and $10` is not maths)
    return bool(re.search(r'\$\$.+?\$\$|(?<![\\$])\$[^\s$][^$]*?(?<![\s\\])\$(?![\d$])|\\begin\{', prose, re.S))


def page_name(nb_path: Path, front: dict) -> str:
    "The page's file name without `.html`: nbdev's (frontmatter `output-file`, else the number prefix dropped)."
    if front.get('output-file'): return Path(front['output-file']).with_suffix('').name
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb_path.stem.lower())


def convert_notebook(nb, target, classes: set[str] = frozenset(), warn=print, gfm: bool = False,
                     where: str = '') -> tuple[object, dict]:
    """One processed notebook -> the notebook myst-nb renders (or, `gfm`, the one the README is
    written from), and the facts the browser test checks."""
    import nbformat
    cells, info = [], {'title': None, 'description': None, 'api': [], 'math': False, 'code_cells': 0, 'outputs': 0,
                       'silent_prints': [], 'folds': [], 'stripped_reprs': []}
    admonition = gfm_alert if gfm else myst_admonition
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type == 'raw':
            src = cell.source.strip()
            if src.startswith('---') and info['title'] is None:     # nbdev's frontmatter
                import yaml
                front = yaml.safe_load(src.strip('-')) or {}
                info['title'], info['description'] = front.get('title'), front.get('description')
                head = f'# {info["title"]}\n' if info['title'] else ''
                if info['description']:
                    head += (f'\n> {info["description"]}\n' if gfm else
                             f'\n```{{container}} page-description\n{info["description"]}\n```\n')
                if head: cells.append(nbformat.v4.new_markdown_cell(head))
            elif src: warn('a raw cell is not shown (raw cells have no HTML form)')
            continue
        if cell.cell_type == 'markdown':
            if 'THIS FILE WAS AUTOGENERATED' in cell.source: continue
            src, folded = fold_markdown(cell.source, warn, gfm)
            src = quarto_to_myst(src, target, warn, admonition)
            if not gfm: src = foreign_names(src)
            if folded:
                info['folds'].append({'kind': 'markdown', 'summary': _re_md_fold.match(cell.source).group(1) or 'Show the answer',
                                      'first': re.sub(r'\s+', ' ', cell.source[_re_md_fold.match(cell.source).end():]).strip()[:60]})
            if has_math(src): info['math'] = True
            if info['title'] is None and (m := re.match(r'#\s+(.+)', src)): info['title'] = m.group(1).strip()
            new = nbformat.v4.new_markdown_cell(src)
            if cell.get('attachments'): new['attachments'] = cell['attachments']
            cells.append(new); continue
        # code cells
        opts, src = split_directives(cell.source)
        if is_false(opts.get('include')): continue
        tags = set(cell.metadata.get('tags', []))
        outputs = list(cell.get('outputs', []))
        if is_false(opts.get('warning')):
            outputs = [o for o in outputs if not (o.output_type == 'stream' and o.name == 'stderr')]
        if has_image(outputs):    # `ax.legend()` as a cell's last line: its repr beside the plot it drew
            for o in [o for o in outputs if stray_repr(o)]:
                info['stripped_reprs'].append({'cell': idx, 'repr': stray_repr(o).strip()[:80], 'first_line': src.split('\n')[0][:80]})
                warn(f'cell {idx} ({src.split(chr(10))[0][:50]!r}) shows {stray_repr(o).strip()[:50]!r} beside its plot: '
                     'end its last line with `;` (left out of the page)')
                outputs.remove(o)
        if opts.get('output') == 'asis':     # markdown outputs become part of the page
            rest = []
            for o in outputs:
                md = o.get('data', {}).get('text/markdown') if o.output_type in ('execute_result', 'display_data') else None
                if md is None: rest.append(o); continue
                md = ''.join(md) if isinstance(md, list) else md
                if re.match(r'\s*(---\s*)?(\[source\]\([^)]*\)\{[^}]*\}\s*)?#{1,6} ', md) and 'show_doc' in src:
                    if gfm: md = rewrite_links(_re_attrs_after_link.sub(r'\1', unlink_code(md)), target)
                    else:
                        md, apis = api_block(md, classes, target)
                        info['api'] += apis
                else:
                    md = quarto_to_myst(unlink_code(md), target, warn, admonition)
                    if not gfm: md = foreign_names(md)
                if opts.get('echo') != 'false' and src:
                    cells.append(nbformat.v4.new_code_cell(src, metadata={'tags': ['remove-output']}))
                    src = ''
                cells.append(nbformat.v4.new_markdown_cell(md))
            if not rest: continue
            outputs = rest
        if is_false(opts.get('echo')) or not src.strip(): tags.add('remove-input')
        if is_false(opts.get('output')): tags.add('remove-output')
        meta = {}
        fold = is_true(opts.get('code-fold')) and src.strip() and 'remove-input' not in tags
        if fold:     # Quarto's code fold; here the output is folded with the code unless `#| fold-output: false`
            summary = opts.get('code-summary') or 'Show code'
            fold_output = not is_false(opts.get('fold-output')) and bool(outputs) and 'remove-output' not in tags
            tags.add('hide-cell' if fold_output else 'hide-input')
            meta['mystnb'] = {'code_prompt_show': summary, 'code_prompt_hide': hide_prompt(summary)}
            info['folds'].append({'kind': 'code+output' if fold_output else 'code', 'summary': summary,
                                  'first': src.strip().split('\n')[0][:60]})
        if tags: meta['tags'] = sorted(tags)
        if opts.get('fig-cap') or opts.get('fig-alt'):
            mystnb = meta.setdefault('mystnb', {})
            if opts.get('fig-cap'): mystnb['figure'] = {'caption': opts['fig-cap']}
            if opts.get('fig-alt'): mystnb['image'] = {'alt': opts['fig-alt']}
        for o in outputs:   # widgets have no state in a static page
            if 'data' in o: o['data'].pop('application/vnd.jupyter.widget-view+json', None)
        outputs = [o for o in outputs if o.output_type not in ('execute_result', 'display_data') or o.get('data')]
        if not src.strip() and not outputs: continue
        new = nbformat.v4.new_code_cell(src, metadata=meta)
        new.outputs, new.execution_count = outputs, cell.get('execution_count')
        info['code_cells'] += bool(src.strip()); info['outputs'] += len(outputs)
        if not outputs and prints_at_top_level(src): info['silent_prints'].append(src.strip().split('\n')[0][:80])
        cells.append(new)
    new_nb = nbformat.v4.new_notebook(cells=cells)
    new_nb.metadata = {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'},
                       'language_info': {'name': 'python', 'pygments_lexer': 'ipython3'}}
    return new_nb, info


_re_page_anchor = re.compile(r'(\]\(|href=")([\w.-]+\.html)#([^)"\s]+)')
_re_code_page_link = re.compile(r'\[(`+[^`\]]+`+)\]\(([\w.-]+\.html)#([^)\s]+)\)')


def method_links_to_class(md: str, api_anchors: dict, where: str, sym_anchors: dict | None = None) -> str:
    """nbdev links every backticked `Class.method` to `#class.method`, which exists only if that
    method has an API block; otherwise the link goes to the class's block. A name nbdev links that
    has no block at all (a private helper, a module's `__getattr__`) is left as plain code."""
    def fix(m):
        page, anchor = m.group(2), m.group(3)
        if page in api_anchors and anchor not in api_anchors[page] and '.' in anchor:
            owner = anchor.rsplit('.', 1)[0]
            if owner in api_anchors[page]:
                log(f'{where}: `{anchor}` has no API block (no show_doc for it): its links go to `{owner}`')
                return f'{m.group(1)}{page}#{owner}'
        return m.group(0)
    def unlink(m):
        code, page, anchor = m.groups()
        if (sym_anchors and anchor in sym_anchors.get(page, ()) and page in api_anchors
                and anchor not in api_anchors[page]):
            log(f'{where}: {code} has no API block on {page}: shown unlinked')
            return code
        return m.group(0)
    return _re_code_page_link.sub(unlink, _re_page_anchor.sub(fix, md))


def prints_at_top_level(src: str) -> bool:
    "Does this cell call print() outside any def/class (so running it must show something)?"
    try: tree = ast.parse(src)
    except SyntaxError: return False     # magics, shell lines
    def walk(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)): continue
            if isinstance(child, ast.Call) and getattr(child.func, 'id', None) == 'print': return True
            if walk(child): return True
        return False
    return walk(tree)


def course_order(nbs: list[Path], readme_nb: str) -> list[Path]:
    "The index (README) notebook first, then the others by file name (00_, 01_, ...)."
    return sorted(nbs, key=lambda p: (p.name != readme_nb, p.name))


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding='utf-8') == text: return False
    path.parent.mkdir(parents=True, exist_ok=True); path.write_text(text, encoding='utf-8'); return True


def git_ignored(folder: Path) -> set[Path]:
    "The files under `folder` that git ignores (none when this is not a git checkout)."
    res = subprocess.run(['git', 'ls-files', '--others', '--ignored', '--exclude-standard', '-z', '.'],
                         cwd=folder, capture_output=True, text=True)
    if res.returncode: return set()
    return {folder/p for p in res.stdout.split('\0') if p}


def make_sources(cfg, failed: dict = {}) -> dict:
    """Write the Sphinx sources from `_proc/`; return the manifest (pages in order, titles, API
    blocks; the notebooks in `failed`, which nbdev could not process, are left out)."""
    import nbformat, yaml
    from nbdev.doclinks import nbglob
    nbs = course_order([PROC/p.relative_to(cfg.nbs_path) for p in nbglob(cfg.nbs_path, func=Path)
                        if p.name not in failed and (PROC/p.relative_to(cfg.nbs_path)).exists()], cfg.readme_nb)
    # page names first: links between pages are rewritten with them
    fronts, names = {}, {}
    for p in nbs:
        nb = nbformat.read(p, as_version=4)
        raw = next((c.source for c in nb.cells if c.cell_type == 'raw' and c.source.strip().startswith('---')), '')
        fronts[p] = yaml.safe_load(raw.strip().strip('-')) or {} if raw else {}
        names[p] = 'index' if p.name == cfg.readme_nb else page_name(p, fronts[p])
    dupes = {n for n in names.values() if list(names.values()).count(n) > 1}
    if dupes: raise SystemExit(f'two notebooks would make the same page {sorted(dupes)}: rename one')
    by_nb = {p.name: n for p, n in names.items()}
    doc_url = (cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/')).rstrip('/') + '/'

    def target(url: str) -> str:
        if url.startswith(doc_url): return url[len(doc_url):] or 'index.html'
        if re.match(r'^[a-z][a-z0-9+.-]*:|^#|^/', url): return url
        path, hash_, anchor = url.partition('#')
        if Path(path).name in by_nb: return by_nb[Path(path).name] + '.html' + hash_ + anchor
        return url

    classes = class_names(cfg.lib_path)
    manifest, keep, pages = {'pages': []}, {'manifest.json'}, []
    for p in nbs:
        problems = []
        nb, info = convert_notebook(nbformat.read(p, as_version=4), target, classes, problems.append)
        for msg in problems: log(f'{p.name}: {msg}')
        if names[p] == 'index':     # the sidebar: every page, in course order
            toc = '\n'.join(names[q] for q in nbs if names[q] != 'index')
            nb.cells.append(nbformat.v4.new_markdown_cell(f'```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```'))
        pages.append((p, nb))
        manifest['pages'].append({'page': f'{names[p]}.html', 'notebook': p.name,
                                  'title': info['title'] or names[p], 'description': info['description'],
                                  'math': info['math'], 'api': info['api'],
                                  'code_cells': info['code_cells'], 'outputs': info['outputs'],
                                  'silent_prints': info['silent_prints'], 'folds': info['folds'],
                                  'stripped_reprs': info['stripped_reprs']})
    api_anchors = {pg['page']: {a['anchor'] for a in pg['api']} for pg in manifest['pages']}
    sym_anchors = {}      # page -> the anchors nbdev links names to (_modidx.py's doc links)
    for sym in doc_links(cfg):
        page, _, anchor = sym.partition('#')
        sym_anchors.setdefault(page, set()).add(anchor)
    for p, nb in pages:
        for cell in nb.cells:
            if cell.cell_type == 'markdown':
                cell.source = method_links_to_class(cell.source, api_anchors, p.name, sym_anchors)
        write_if_changed(SRC/f'{names[p]}.ipynb', nbformat.writes(nb))
        keep.add(f'{names[p]}.ipynb')
    # files the notebooks refer to (images...): what is in nbs/ beside them, as proc_nbs copies
    # it, less what git ignores (run outputs, checkpoints)
    ignored = git_ignored(cfg.nbs_path)
    for f in cfg.nbs_path.rglob('*'):
        rel = f.relative_to(cfg.nbs_path)
        if (f.is_file() and f.suffix not in ('.ipynb', '.yml', '.py') and f not in ignored
                and not any(part[0] in '._' for part in rel.parts)):
            keep.add(str(rel))
            if not (SRC/rel).exists() or (SRC/rel).read_bytes() != f.read_bytes():
                (SRC/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, SRC/rel)
    for f in sorted(SRC.rglob('*'), reverse=True):   # notebooks and files that went away
        if f.is_file() and str(f.relative_to(SRC)) not in keep: f.unlink()
        elif f.is_dir() and not any(f.iterdir()): f.rmdir()
    manifest['exported'] = exported_symbols(cfg)
    manifest['failed'] = dict(failed)
    write_if_changed(SRC/'manifest.json', json.dumps(manifest, indent=1))
    return manifest


def doc_links(cfg) -> list[str]:
    "Every doc link in `_modidx.py` (`page.html#anchor`): where nbdev links the names it knows."
    import importlib
    sys.path.insert(0, str(cfg.config_path))
    modidx = importlib.reload(importlib.import_module(f'{cfg.lib_name}._modidx'))
    return [v[0] for syms in modidx.d['syms'].values() for v in syms.values() if isinstance(v, tuple) and '#' in v[0]]


def exported_symbols(cfg) -> list[dict]:
    """Each module's `__all__`, with its kind and the doc page nbdev's `_modidx.py` gives it, and for
    a class its public methods (with theirs)."""
    import importlib
    sys.path.insert(0, str(cfg.config_path))
    modidx = importlib.import_module(f'{cfg.lib_name}._modidx')
    importlib.reload(modidx)
    syms, patched = [], {}      # patched: class name -> [(module, method)] from `@patch def m(self:Class)`
    for py in sorted(cfg.lib_path.glob('*.py')):
        if py.name.startswith('_'): continue
        for f in ast.parse(py.read_text(encoding='utf-8')).body:
            if not isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) or f.name.startswith('_') or not ast.get_docstring(f): continue
            decos = [d.func if isinstance(d, ast.Call) else d for d in f.decorator_list]
            if not any(getattr(d, 'id', getattr(d, 'attr', None)) == 'patch' for d in decos) or not f.args.args: continue
            anno = f.args.args[0].annotation
            owners = anno.elts if isinstance(anno, ast.Tuple) else [anno]
            for o in owners:
                if isinstance(o, ast.Name): patched.setdefault(o.id, []).append((f'{cfg.lib_name}.{py.stem}', f.name))
    for py in sorted(cfg.lib_path.glob('*.py')):
        if py.name.startswith('_'): continue
        tree = ast.parse(py.read_text(encoding='utf-8'))
        kinds = {n.name: 'class' if isinstance(n, ast.ClassDef) else 'function'
                 for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                      and any(getattr(t, 'id', None) == '__all__' for t in n.targets)), [])
        mod = f'{cfg.lib_name}.{py.stem}'
        for name in names:
            doc = modidx.d['syms'].get(mod, {}).get(f'{mod}.{name}')
            methods = []
            for m in public_method_names(classes[name]) if name in classes else []:
                mdoc = modidx.d['syms'].get(mod, {}).get(f'{mod}.{name}.{m}')
                methods.append({'name': f'{name}.{m}', 'doc': mdoc[0] if mdoc else None})
            for pmod, m in patched.get(name, []) if name in classes else []:
                mdoc = modidx.d['syms'].get(pmod, {}).get(f'{pmod}.{name}.{m}')
                if not any(x['name'] == f'{name}.{m}' for x in methods):
                    methods.append({'name': f'{name}.{m}', 'doc': mdoc[0] if mdoc else None, 'patched_in': pmod})
            syms.append({'module': mod, 'name': name, 'kind': kinds.get(name, 'data'),
                         'doc': doc[0] if doc else None, 'methods': methods})
    return syms


# --------------------------------------------------------------------------------------------
# MathJax, fetched from the npm registry once
# --------------------------------------------------------------------------------------------
def mathjax_dir() -> Path:
    "A local copy of MathJax's es5 build: $ACCEL_SGD_MATHJAX, or fetched with `npm pack` into the cache."
    if os.environ.get('ACCEL_SGD_MATHJAX'):
        d = Path(os.environ['ACCEL_SGD_MATHJAX'])
        if not (d/'tex-chtml.js').exists(): raise SystemExit(f'ACCEL_SGD_MATHJAX={d} has no tex-chtml.js')
        return d
    cache = Path(os.environ.get('XDG_CACHE_HOME', Path.home()/'.cache'))/'accel_sgd'/f'mathjax-{MATHJAX_VERSION}'
    if (cache/'tex-chtml.js').exists(): return cache
    npm = shutil.which('npm')
    if not npm:
        raise SystemExit('MathJax is needed for the maths and `npm` is not installed: install Node.js '
                         '(`apt-get install -y npm`), or set ACCEL_SGD_MATHJAX to a MathJax 3 es5 directory')
    log(f'fetching mathjax@{MATHJAX_VERSION} from the npm registry (once)')
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run([npm, 'pack', f'mathjax@{MATHJAX_VERSION}', '--silent'], cwd=tmp,
                             capture_output=True, text=True)
        tgz = next(Path(tmp).glob('mathjax-*.tgz'), None)
        if res.returncode or not tgz:
            raise SystemExit(f'npm pack mathjax@{MATHJAX_VERSION} failed:\n{res.stdout}{res.stderr}')
        with tarfile.open(tgz) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith('package/es5/')]
            tar.extractall(tmp, members=members, filter='data')
        es5, part = Path(tmp)/'package'/'es5', cache.with_name(cache.name + '.part')
        shutil.rmtree(part, ignore_errors=True)
        for rel in MATHJAX_PARTS:
            s, d = es5/rel, part/rel
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(s, d) if s.is_dir() else shutil.copy2(s, d)
        shutil.rmtree(cache, ignore_errors=True); part.rename(cache)
    return cache


# --------------------------------------------------------------------------------------------
def _hint(err: str) -> str:
    "What to change in a notebook whose cell failed under nbdev's docs processing."
    src = err.split(':\n', 1)[-1]
    if "__name__ == '__main__'" in src or '__name__ == "__main__"' in src:
        return ("\n  hint: nbdev's docs processing runs every exported cell; mark the `if __name__ == '__main__'` "
                "cell `#| eval: false` (it is still exported)")
    if re.search(r'^\s*(import|from)\s', src, re.M):
        return ("\n  hint: nbdev's docs processing runs every cell that contains an import: put the imports "
                "in a cell of their own")
    return ''


def process_notebooks(cfg, force: bool = False) -> dict:
    """nbdev's docs processing into `_proc/`, as `nbdev_docs` runs it before Quarto (`proc_nbs`'s
    steps, one notebook at a time, so that one that fails does not stop the others); cached.
    Returns {notebook name: error message} for the notebooks nbdev could not process."""
    from nbdev.quarto import refresh_quarto_yml
    from nbdev.doclinks import _build_modidx, nbglob
    import nbdev.serve, nbdev.serve_drv
    refresh_quarto_yml()          # nbs/nbdev.yml (and _quarto.yml if missing): Quarto's view of the site
    _build_modidx()               # the doc links that show_doc, the pages and the test use
    # Only notebooks newer than their processed copy are redone, but show_doc's links come from
    # _modidx.py: when that changes, every notebook is processed again (as when settings.ini or
    # nbdev changes, proc_nbs's own rule).
    # The API blocks are drawn by tools/api_doc.py: a change there is a change of every page too.
    modidx = (cfg.lib_path/'_modidx.py').read_bytes() if (cfg.lib_path/'_modidx.py').exists() else b''
    modidx += hashlib.sha256((Path(__file__).parent/'api_doc.py').read_bytes()).hexdigest().encode()
    stamp = PROC/'_modidx.stamp'
    if not stamp.exists() or stamp.read_bytes() != modidx: force = True
    PROC.mkdir(parents=True, exist_ok=True)
    cache_mtime = PROC.stat().st_mtime
    if force or cache_mtime < max(cfg.config_file.stat().st_mtime, Path(nbdev.serve.__file__).stat().st_mtime):
        for f in PROC.glob('*'):
            if f.is_file(): f.unlink()
        cache_mtime = 0
    ignored = git_ignored(cfg.nbs_path)
    files = [f for f in nbglob(cfg.nbs_path, func=Path, file_glob='', file_re='') if f not in ignored]
    files += [f for f in [cfg.nbs_path/'_quarto.yml'] if f.exists()]
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    failed = {}
    import api_doc
    api_doc.install()          # show_doc draws signatures, parameter tables and method blocks (tools/api_doc.py)
    for f in files:            # in-process: ~3x faster than proc_nbs's spawned workers
        job = nbdev.serve._proc_file(f, cache=PROC, path=cfg.nbs_path, mtime=cache_mtime)
        if not job: continue
        if f.suffix == '.ipynb':   # methods the notebook documents itself get no second block under their class
            try: api_doc.EXPLICIT = api_doc.explicit_show_docs(c.get('source', '') if isinstance(c.get('source'), str)
                                                                else ''.join(c.get('source', []))
                                                                for c in json.loads(f.read_text(encoding='utf-8'))['cells'])
            except (ValueError, KeyError): api_doc.EXPLICIT = set()
        try: nbdev.serve_drv.main(job)
        except Exception as e:
            os.environ.pop('IN_TEST', None)
            job[1].unlink(missing_ok=True)      # no stale page for a notebook that fails
            cause = e.__cause__ or e
            failed[f.name] = f'{e}\n  -> {type(cause).__name__}: {cause}' + _hint(str(e))
            log(f'nbdev could not process {f.name}: {failed[f.name]}')
    for f in files:            # failures from earlier runs, whose notebook has not changed since
        if f.suffix == '.ipynb' and not (PROC/f.name).exists() and f.name not in failed:
            failed[f.name] = 'nbdev could not process it (see the log above)'
    PROC.touch()
    stamp.write_bytes(modidx)
    return failed


def mirror(src: Path, dst: Path, keep=()):
    "Make `dst` hold exactly the files of `src` (copying only what changed), leaving the `keep` folders alone."
    dst.mkdir(parents=True, exist_ok=True)
    want = {f.relative_to(src) for f in src.rglob('*') if f.is_file()}
    for f in sorted(dst.rglob('*'), reverse=True):
        rel = f.relative_to(dst)
        if rel.parts[0] in keep: continue
        if f.is_file() and rel not in want: f.unlink()
        elif f.is_dir() and not any(f.iterdir()): f.rmdir()
    for rel in want:
        s, d = src/rel, dst/rel
        if d.exists() and d.stat().st_size == s.stat().st_size and d.stat().st_mtime >= s.stat().st_mtime: continue
        d.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(s, d)


def build(force: bool = False, quiet: bool = False, keep_going: bool = False) -> dict:
    """Every step; returns the manifest. Raises SystemExit with a message when a step fails
    (`keep_going`: a notebook nbdev cannot process is left out and listed in manifest['failed'])."""
    os.chdir(ROOT)
    from nbdev.config import get_config
    cfg = get_config()
    t0 = time.time()
    failed = process_notebooks(cfg, force)
    t1 = time.time()
    SRC.mkdir(parents=True, exist_ok=True)
    manifest = make_sources(cfg, failed)
    static = PROC/'_static_mathjax'
    mj = mathjax_dir()
    if not (static/'mathjax'/'tex-chtml.js').exists():
        shutil.rmtree(static, ignore_errors=True); shutil.copytree(mj, static/'mathjax')
    os.environ['ACCEL_SGD_DOCS_STATIC'] = str(static)
    t2 = time.time()
    from sphinx.cmd.build import build_main
    warnings = PROC/'sphinx-warnings.txt'
    args = ['-b', 'html', '-c', str(CONF_DIR), '-d', str(DOCTREES), '-w', str(warnings), '--keep-going',
            '-j', '1', *(['-q'] if quiet else []), *(['-E'] if force else []), str(SRC), str(HTML)]
    rc = build_main(args)
    text = warnings.read_text() if warnings.exists() else ''
    mirror(HTML, OUT, keep={'_screens'})
    t3 = time.time()
    log(f'{len(manifest["pages"])} pages into {OUT.relative_to(ROOT)}/ in {t3-t0:.1f} s '
        f'(nbdev processing {t1-t0:.1f} s, sources {t2-t1:.1f} s, sphinx {t3-t2:.1f} s)')
    if rc or text.strip():
        raise SystemExit(f'sphinx-build failed (exit {rc}) or warned:\n{text}')
    if failed and not keep_going:
        raise SystemExit('nbdev could not process ' + ', '.join(failed) + ': their pages are missing\n' +
                         '\n'.join(f'{k}: {v}' for k, v in failed.items()))
    (OUT/'.nojekyll').touch()
    return manifest


if __name__ == '__main__':
    build(force='--force' in sys.argv, quiet='--quiet' in sys.argv)
