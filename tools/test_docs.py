"""The docs site's checks: every page of `_docs/` opened in Debian's Chromium by Playwright at 1280 x 900 and 390 x 844 px,
once it has settled (never a fixed sleep), judged against its notebook (tools/build_docs.py's manifest) and the library's
API (`__all__`, nbdev's `_modidx.py`); then what no page can show.   python tools/test_docs.py [--no-build] [pytest args]"""
from __future__ import annotations
import ast, functools, http.server, importlib, importlib.util, inspect, json, os, re, shutil, sys, threading, time, zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest
from fastcore.docments import docments

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402
from build_docs import lib_object  # noqa: E402

if __name__ == '__main__':      # build, then this file under pytest. Exit status: pytest's, 1 if the build failed, 2 with no browser
    t0 = time.time()
    try: '--no-build' in sys.argv or build_docs.build(quiet=True)
    except SystemExit as e: sys.exit(print(f'docs build FAILED: {e}') or 1)
    if importlib.util.find_spec('playwright') is None: sys.exit(print('BROWSER TEST NOT RUN: no Playwright (pip install -e ".[dev]")') or 2)
    rc = pytest.main(['-q', '-p', 'no:cacheprovider', '--tb=short', '-rfE', '-s', '-W', 'ignore::DeprecationWarning', '--rootdir', str(ROOT),
                      __file__, *[a for a in sys.argv[1:] if a != '--no-build']])
    sys.exit(print(f'docs: {time.time() - t0:.1f} s; screenshots in _docs/_screens/; pytest exit code {int(rc)}') or int(rc))

SITE, SCREENS, MANIFEST_FILE = build_docs.OUT, build_docs.OUT/'_screens', build_docs.SRC/'manifest.json'
if not MANIFEST_FILE.exists(): pytest.exit('no docs site to test (no _proc/_sphinx/manifest.json): `make docs` first', 2)
MANIFEST = json.loads(MANIFEST_FILE.read_text())
PAGES, BY_PAGE = [p['page'] for p in MANIFEST['pages']], {p['page']: p for p in MANIFEST['pages']}
VIEWPORTS = {'desktop': {'width': 1280, 'height': 900}, 'phone': {'width': 390, 'height': 844}}
MIN_CODE_CHARS, MIN_DETAIL_CHARS = 110, 15     # a code line at 1280 px (the course's run to ~110); a Details line, any width
LIB = importlib.import_module('accel_sgd._modidx').d


def documented():
    "[(name, doc link, kind)]: each module's `__all__` callables nbdev indexes, and the public documented methods of those classes."
    out, classes = [], set()
    for mod, syms in LIB['syms'].items():
        for name in getattr(importlib.import_module(mod), '__all__', []):
            if callable(obj := getattr(importlib.import_module(mod), name)) and f'{mod}.{name}' in syms:
                out.append((f'{mod}.{name}', syms[f'{mod}.{name}'][0], 'class' if inspect.isclass(obj) else 'function'))
                if inspect.isclass(obj): classes.add(name)
    for mod, syms in LIB['syms'].items():
        for full, (link, _) in syms.items():
            cls, _, meth = full[len(mod) + 1:].rpartition('.')
            f = lib_object(full) if cls in classes and not meth.startswith('_') else None
            if inspect.isfunction(getattr(f, '__func__', f)) and getattr(f, '__doc__', None): out.append((f'{cls}.{meth}', link, 'method'))
    return out


API = documented()
def qual(name, kind): return name if kind == 'method' else name.rsplit('.', 1)[-1]
def fmt(items, n=8): return ''.join(f'\n    {i}' for i in items[:n]) + (f'\n    ... and {len(items) - n} more' if len(items) > n else '')
def norm(s):
    "Titles compared as text: code marks and stars dropped, smart quotes and dashes made plain, spaces squeezed."
    s = (s or '').translate(str.maketrans({'‘': "'", '’': "'", '“': '"', '”': '"', '–': '-', '—': '-'}))
    return re.sub(r'\s+', ' ', re.sub(r'-{2,}', '-', re.sub(r'[`*]', '', s))).strip()


@functools.lru_cache(maxsize=None)
def ids_in(f: Path): return frozenset(re.findall(r'\bid="([^"]+)"', f.read_text(encoding='utf-8', errors='replace')))
def resolves(href: str, origin: str) -> str | None:
    "What is missing for an internal link (the page, or the #anchor on it), or None."
    u = urlsplit(href)
    f = SITE/(unquote(u.path).lstrip('/') or 'index.html')
    f = f/'index.html' if f.is_dir() else f
    if not f.exists(): return f'missing page: {href[len(origin):]}'
    if u.fragment and f.suffix == '.html' and unquote(u.fragment) not in ids_in(f): return f'missing anchor: {href[len(origin):]}'


# --- the server, the browser, one report per page and width --------------------------------------------------------------
@pytest.fixture(scope='session')
def base_url():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(SITE)))
    server.daemon_threads, server.handle_error = True, lambda *a: None    # a browser dropping a connection is not news
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}/'
    server.shutdown()


@pytest.fixture(scope='session')
def tab():
    "A tab per width in Debian's Chromium (no browser download), scrollbars drawn as a reader sees them."
    exe = next(filter(None, map(shutil.which, [os.environ.get('CHROMIUM') or 'chromium', 'chromium', 'chromium-browser', 'google-chrome'])), None)
    if not exe: pytest.exit("no Chromium here: `make browser` installs Debian's (as root), or set $CHROMIUM", 2)
    for old in SCREENS.rglob('*.png'): old.unlink()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b, tabs = p.chromium.launch(executable_path=exe, args=['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
                                    ignore_default_args=['--hide-scrollbars']), {}
        def get(vp):     # a loaded machine is slow: each wait is for a state, with a long limit
            if vp not in tabs: tabs[vp] = b.new_page(viewport=VIEWPORTS[vp], is_mobile=vp == 'phone', has_touch=vp == 'phone'); tabs[vp].set_default_timeout(120_000)
            return tabs[vp]
        yield get
        b.close()


REPORT_JS = (ROOT/'tools'/'docs_report.js').read_text(encoding='utf-8')
SETTLED_JS = """async () => { if (window.MathJax?.startup?.promise) await MathJax.startup.promise;
  await Promise.all([...document.images].map(i => i.decode().catch(() => null))); await document.fonts.ready; }"""
# Chromium may draw no scrollbar on a box that overflows only after its first layout (a slow load): lay it out again, ask again.
SCROLLBARS_JS = """() => [...document.querySelectorAll('article pre')].filter(p => p.checkVisibility() && p.scrollWidth > p.clientWidth + 2
  && p.offsetHeight - p.clientHeight < 4).map(p => { p.style.overflowX = 'scroll'; p.offsetHeight; p.style.overflowX = ''; }).length === 0"""


def open_page(pg, base: str, name: str, vp: str) -> dict:
    "Load a page, wait for it to settle, read its report, keep a screenshot (the whole page at 1280 px, the first screen on a phone)."
    origin, ev = base.rstrip('/'), {'outside': [], 'http': [], 'failed': [], 'errors': []}
    handlers = {'request': lambda r: r.url.startswith((origin, 'data:', 'blob:', 'about:')) or ev['outside'].append(r.url),
                'response': lambda r: r.status < 400 or ev['http'].append(f'HTTP {r.status} for {r.url}'),
                'requestfailed': lambda r: 'ERR_ABORTED' in (r.failure or 'ERR_ABORTED') or ev['failed'].append(f'{r.url}: {r.failure}'),
                'pageerror': lambda e: ev['errors'].append(str(e))}
    for k, h in handlers.items(): pg.on(k, h)
    t0 = time.time()
    try:
        resp = pg.goto(base + name, wait_until='load', timeout=180_000)
        pg.evaluate(SETTLED_JS)
        try: pg.wait_for_function(SCROLLBARS_JS, timeout=15_000)
        except Exception: pass      # never drawn: the check says where
        rep = {**pg.evaluate(REPORT_JS), **ev, 'origin': origin, 'status': resp and resp.status, 'seconds': time.time() - t0}
        shot = SCREENS/('' if vp == 'desktop' else vp)/(Path(name).stem + '.png')
        shot.parent.mkdir(parents=True, exist_ok=True)
        try:
            whole = {'x': 0, 'y': 0, 'width': 1280, 'height': min(rep['height'], 80_000)}    # at most what Chromium captures in one image
            pg.screenshot(path=shot, full_page=vp == 'desktop', clip=whole if vp == 'desktop' else None)
            rep['screenshot'] = shot
        except Exception as e: rep['screenshot_error'] = f'{type(e).__name__}: {str(e).splitlines()[0]}'
    finally:
        for k, h in handlers.items(): pg.remove_listener(k, h)
    return rep


@pytest.fixture(scope='session')
def report(tab, base_url):
    "Each page opened once per width, when a test first asks (one that failed to open fails its later tests at once)."
    done = {}
    def get(name, vp='desktop'):
        if (vp, name) not in done:
            try: done[vp, name] = open_page(tab(vp), base_url, name, vp)
            except Exception as e: done[vp, name] = f'{type(e).__name__}: {str(e).splitlines()[0]}'; raise
        if isinstance(done[vp, name], str): pytest.fail(f'{name} could not be opened at {vp} width: {done[vp, name]}', pytrace=False)
        return done[vp, name]
    yield get
    for (vp, name), r in done.items():
        if isinstance(r, dict): print(f"  {vp:<8} {name:<22} {len(r['api']):>3} API blocks {len(r['folds']):>3} folds {r['height']:>6} px {r['seconds']:>5.1f} s")


# --- the site as a whole -------------------------------------------------------------------------------------------------
def test_every_notebook_has_a_page():
    from nbdev.doclinks import nbglob
    nbs = {Path(f).name for f in nbglob(ROOT/'nbs')}
    assert nbs == set(MANIFEST['notebooks']), f'notebooks without a page: {sorted(nbs - set(MANIFEST["notebooks"]))}'


@pytest.mark.parametrize('vp', VIEWPORTS)
def test_header_buttons(vp, tab, base_url):
    "The chapter list holds every page in course order: in view at 1280 px, opened by the header's button on a phone. The other button opens the page's contents."
    pg, nav = tab(vp), tab(vp).locator('nav.bd-docs-nav')
    pg.goto(base_url + 'learner.html', wait_until='load')
    if vp == 'phone':
        assert not nav.is_visible(), 'the chapter list covers the page before it is asked for'
        pg.locator('button.primary-toggle:visible').first.click()
    nav.locator('a').first.wait_for(state='visible', timeout=60_000)
    assert [norm(t) for t in nav.locator('a').all_inner_texts()] == [norm(p['title']) for p in MANIFEST['pages']]
    if vp == 'phone': pg.screenshot(path=SCREENS/'phone'/'_sidebar.png')
    pg.goto(base_url + 'learner.html', wait_until='load')
    pg.locator('button.secondary-toggle:visible').first.click()
    pg.locator('dialog#pst-secondary-sidebar-modal[open] nav.page-toc a').first.wait_for(state='visible', timeout=60_000)


def search(pg, base_url, query: str) -> list[dict]:
    "The search page's results for `query`, once every result and its snippet is shown."
    pg.goto(base_url + 'search.html?q=' + query, wait_until='load')
    pg.wait_for_function("document.querySelector('#search-results p.search-summary')?.textContent.includes('finished') && [...document.querySelectorAll("
                         "'ul.search > li:is(.kind-text, .kind-title, .kind-index)')].every(li => li.querySelector('p.context'))", timeout=90_000)
    return pg.evaluate("() => [...document.querySelectorAll('ul.search > li')].map(li => ({href: li.querySelector('a').getAttribute('href'), "
                       "title: li.querySelector('a').textContent, snippet: li.querySelector('p.context')?.textContent || null}))")


@pytest.mark.parametrize('vp', VIEWPORTS)
@pytest.mark.parametrize('query, first', [('Learner.fit', 'accel_sgd.Learner.fit'), ('adam', 'accel_sgd.adam'), ('Learner', 'accel_sgd.Learner')])
def test_search_ranks_the_api_first(vp, query, first, tab, base_url):
    "An API entry whose name is the query is the first result, ahead of the pages that mention it, and its link resolves."
    res = search(tab(vp), base_url, query)
    assert res and res[0]['title'] == first, f'results for {query!r}:' + fmt([f"{r['title']} -> {r['href']}" for r in res])
    assert not resolves(f"{base_url}{res[0]['href']}", base_url.rstrip('/'))
    if vp == 'phone' and query == 'Learner.fit': tab(vp).screenshot(path=SCREENS/'phone'/'_search.png')


@pytest.mark.parametrize('vp', VIEWPORTS)
def test_search_snippets_come_from_the_article(vp, tab, base_url):
    "A result's snippet is text of the page's article (or of the section found), not of the page's contents list beside it."
    has = """async ([href, snippet]) => { const flat = s => s.replace(/^\\.\\.\\.|\\.\\.\\.$/g, '').replace(/[\\s#¶]+/g, '');
      const doc = new DOMParser().parseFromString(await (await fetch(href)).text(), 'text/html');
      return flat(doc.querySelector('article').textContent).includes(flat(snippet)); }"""
    bad = [f"{r['title']}: {r['snippet'][:100]!r}" for r in search(tab(vp), base_url, 'optimizer')
           if r['snippet'] and not tab(vp).evaluate(has, [r['href'].split('#')[0], r['snippet']])]
    assert not bad, 'snippets that are not text of the article:' + fmt(bad)


def test_objects_inv_and_index_list_the_api():
    "objects.inv (what other projects link with) and the Index hold every function, class and method at its block, and `accel_sgd.Learner`."
    inv = {m[1]: (m[2], m[3].replace('$', m[1])) for m in re.finditer(r'^(\S+) (py:\w+) -?\d+ (\S+)',
           zlib.decompress((SITE/'objects.inv').read_bytes().split(b'\n', 4)[4]).decode(), re.M)}
    where = lambda n, link, kind, pairs: any(a.endswith('.' + qual(n, kind)) and p == link.partition('#')[0] for p, a in pairs)
    missing = [n for n, link, kind in API if not where(n, link, kind, [(u.partition('#')[0], k) for k, (_, u) in inv.items() if '#' in u])]
    assert not missing, 'not in objects.inv, or not at their page:' + fmt(missing)
    assert inv.get('accel_sgd.Learner', ('',))[0] == 'py:class', 'accel_sgd.Learner is not in objects.inv'
    bad = [f'{k} -> {uri}' for k, (_, uri) in inv.items() if resolves('http://x/' + uri, 'http://x')]
    assert not bad, 'objects.inv points to missing places:' + fmt(bad)
    links = re.findall(r'href="([\w.-]+\.html)#([\w.]+)"', (SITE/'genindex.html').read_text(encoding='utf-8'))
    assert not (missing := [n for n, link, kind in API if not where(n, link, kind, links)]), 'not in the Index:' + fmt(missing)


@pytest.mark.parametrize('name, link, kind', API, ids=[a[0].replace('accel_sgd.', '') for a in API])
def test_api_has_its_block(name, link, kind, report):
    "Every `__all__` function and class and each documented public method of those classes has its block where `_modidx.py` links it."
    page, _, anchor = link.partition('#')
    assert page in BY_PAGE, f'_modidx.py links {name} to {page}, which the site does not have'
    block = next((a for a in report(page)['api'] if a['id'] == anchor), None)
    assert block, f"no API block at {link} (is its show_doc hidden, or the cell not exported?)"
    assert (block['heading'], '/blob/' in (block['source'] or '')) == (qual(name, kind), True), '(heading, links to its source)'


@pytest.mark.parametrize('name', ['Learner.fit', 'Learner.lr_find', 'RecorderPlots.plot_loss', 'Optimizer.step'])
def test_methods_a_user_calls_are_documented(name, report):
    "The methods the course has its readers call: each a block with a parameter table (Type / Default / Details)."
    link = next((l for n, l, k in API if n == name), None)
    assert link, f'{name} is not a documented public method of an exported class (no docstring?)'
    block = next((a for a in report(link.partition('#')[0])['api'] if a['heading'] == name), None)
    assert block and block['table_head'][-1:] == ['Details'], f'{name}: no block with a parameter table'


# --- each page at each width: a table of checks, each giving its problems ------------------------------------------------
def lib_params(meta: dict | None) -> list[tuple[str, bool]] | None:
    "The parameters `inspect.signature` gives the library's object behind an API block, each with whether fastcore's docments has a comment for it."
    obj = lib_object(meta['object']) if meta and meta.get('object') else None
    if obj is None: return None
    try: ps = list(inspect.signature(obj).parameters.values())
    except (ValueError, TypeError): return []
    try: docs = docments(obj, args_kwargs=True)
    except Exception: docs = {}     # no source to read: tools/api_doc.py shows no comments either
    return [({p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '') + p.name, bool(docs.get(p.name)))
            for p in ps[int(bool(meta['method'] and ps and ps[0].name in ('self', 'cls'))):]]


def shown_names(sig: str) -> list[str] | None:
    "The parameters a signature line shows, read by Python's parser (None: it is not a signature Python reads)."
    sig = functools.reduce(lambda s, _: re.sub(r'<[^<>\n]*>', '...', s), '12', re.sub(r'^(async def|class)\b', 'def', sig.strip()))   # `<factory>`
    try: a = ast.parse(sig + ': pass').body[0].args
    except (SyntaxError, IndexError, AttributeError): return None
    return [x.arg for x in a.posonlyargs + a.args] + ['*' + v.arg for v in [a.vararg] if v] + [x.arg for x in a.kwonlyargs] + ['**' + v.arg for v in [a.kwarg] if v]


def signatures(rep, meta, vp):
    "Each block shows a signature (`def`, `class`), no comment in it, with the parameters `inspect.signature` gives its object."
    bad, apis = [], {a['anchor']: a for a in meta['api']}
    for b in rep['api']:
        sig, ps = b['signature'].strip(), lib_params(apis.get(b['id']))
        if not sig.startswith(('def ', 'class ', 'async def ')): bad.append(f"#{b['id']}: no signature: {sig[:60]!r}"); continue
        if re.search(r'\s#\s', sig): bad.append(f"#{b['id']}: a comment inside the signature: {sig[:80]!r}")
        if ps is None or (not ps and re.fullmatch(r'class \w+\([\w., ]*\)', sig)) or (not ps and sig.endswith('(...)')): continue
        if (shown := shown_names(sig)) != (names := [n for n, _ in ps]): bad.append(f"#{b['id']}: the signature shows {shown}, the object {names}")
    return bad


def tables(rep, meta, vp):
    "A block of a callable with parameters has a table (Type / Default / Details), one row per parameter, its Details the comment docments reads."
    apis, bad = {a['anchor']: a for a in meta['api']}, []
    for b in rep['api']:
        if not (ps := lib_params(apis.get(b['id']))): continue
        rows = [(n, bool(details)) for n, details in b['table_rows'] if n != 'Returns']
        if b['table_head'][-1:] != ['Details']: bad.append(f"#{b['id']}: no parameter table")
        elif rows != ps: bad.append(f"#{b['id']}: table rows (name, has details) {rows}, parameters (name, has a comment) {ps}")
    return bad


def folds(rep, meta, vp):
    "`#| code-fold: true` cells and `<!-- fold -->` markdown cells are closed <details>, a code cell's output folded with it unless `#| fold-output: false`."
    got = rep['folds']
    return ([f"{len(meta['folds'])} folds in the notebook, {len(got)} on the page"] * (len(got) < len(meta['folds']))
            + [f"open by default: {f['summary']}" for f in got if f['open'] or f['shown']]
            + [f"no fold labelled {w['summary']!r} (with its output: {w['kind'] == 'code+output'}) for {w['first']!r}" for w in meta['folds']
               if not any(f['summary'] == w['summary'] and (f['output'] or w['kind'] != 'code+output') for f in got)])


def stored_outputs(rep, meta, vp):
    "The site shows stored outputs: a notebook with code has some, and a cell that calls print() at its top level shows what it printed."
    import nbformat
    code = [c for c in nbformat.read(build_docs.PROC/meta['notebook'], as_version=4).cells if c.cell_type == 'code' and build_docs.cell_options(c.source)[1].strip()]
    def prints(src):
        try: tree = ast.parse(src)
        except SyntaxError: return False     # magics, shell lines
        scoped = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) for n in ast.walk(f)}
        return any(isinstance(n, ast.Call) and getattr(n.func, 'id', None) == 'print' and id(n) not in scoped for n in ast.walk(tree))
    run = f"(run `tools/run_nb.sh nbs/{meta['notebook']}`)"
    return ([f"{len(code)} code cells and no stored output {run}"] * (len(code) >= 3 and not any(c.outputs for c in code))
            + [f'calls print() but has no stored output {run}: {c.source.strip().splitlines()[0][:80]}' for c in code
               if not c.outputs and prints(build_docs.cell_options(c.source)[1])])


RAW_MATH = r'\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|(?<![\\$\w])\$[^\s$][^$\n]*?(?<![\s\\])\$(?![\d$])'   # `$x$`: pandoc's rule, as dollarmath
LEFTOVERS = r'.{0,30}(?::::|\{target=|\{\.callout|#\|\s|\{\{<|\|\s*:?-{3,}:?\s*\|).{0,30}'
STRAY = re.compile(r'<matplotlib\.[\w.]+ (object )?at 0x|<Figure size \d+x\d+|^\s*Text\(-?[\d.]+, -?[\d.]+, ', re.M)
FOREIGN = re.compile(r"(PyTorch|[Tt]orch|fastai|Lightning|Keras|JAX|timm)['’]s\s*$")
PAGE_CHECKS = {      # check -> (report, manifest entry, width) -> problems
    'loads with its title': lambda r, m, vp: [f"HTTP {r['status']}"] * (r['status'] != 200) + [f"<title> is {r['title']!r}"] * (not norm(r['title']).startswith(norm(m['title'])))
        + [f"<h1>s are {r['h1s']}, expected one, the title"] * ([norm(h) for h in r['h1s']] != [norm(m['title'])]),
    'offline, loads cleanly': lambda r, m, vp: [f'requests {u} from outside the site (it must work offline)' for u in r['outside']] + r['http']
        + [f'failed to load {f}' for f in r['failed']] + [f'a script threw: {e}' for e in r['errors']],
    'images decode': lambda r, m, vp: [src[:120] for src, w in r['images'] if w <= 0],
    'internal links resolve': lambda r, m, vp: sorted({p for h in r['links'] if h.startswith(r['origin']) and (p := resolves(h, r['origin']))}),
    "other libraries' names link to their docs": lambda r, m, vp: [f'{before[-20:]}{text} -> {href}' for before, text, href in r['internal']
        if FOREIGN.search(before) or text.strip().startswith('torch.')],
    'notebook committed with outputs': stored_outputs,
    'maths typeset': lambda r, m, vp: [f"{r['mjx_errors']} MathJax errors"] * bool(r['mjx_errors'])
        + [f'a $ beside maths: {s}' for s in r['stray_dollars']] + [f'maths and its punctuation may part: {s}' for s in r['loose_punctuation']]
        + [f'raw LaTeX left: ...{x.group(0)}...' for x in re.finditer(f'.{{0,40}}({RAW_MATH}).{{0,40}}', r['text'])][:3],
    'no notebook syntax left': lambda r, m, vp: [x.group(0) for x in re.finditer(LEFTOVERS, r['text'])]
        + [f"a code cell shows `#|`: {c['first']}" for c in r['code'] if c['cell'] and re.search(r'^\s*#\s*\|', c['text'], re.M)],
    'code shows code, not markdown links': lambda r, m, vp: [c['first'] for c in r['code'] if re.search(r'\[`[^`\]\n]+`\]\([^)\s]*\)', c['text'])],
    'page does not scroll sideways': lambda r, m, vp: [f"{r['scroll_width']} px wide on a {VIEWPORTS[vp]['width']} px screen"]   # a phone widens its window
        * (r['scroll_width'] > min(r['inner_width'], VIEWPORTS[vp]['width']) + 1),
    'code lines never wrap': lambda r, m, vp: [f"wraps: {c['first']}" for c in r['code'] if c['wraps']]
        + [f"scrolls with no scrollbar drawn: {c['first']} ({c['sizes']})" for c in r['code'] if c['scrolls'] and not c['bar']]
        + [f"code blocks hold {r['code_chars']} characters a line"] * (vp == 'desktop' and (r['code_chars'] or MIN_CODE_CHARS) < MIN_CODE_CHARS),
    'nothing cut off': lambda r, m, vp: r['cut_off'],
    'parameter details readable': lambda r, m, vp: [f"a Details cell holds {r['details_chars']} characters a line"] * ((r['details_chars'] or MIN_DETAIL_CHARS) < MIN_DETAIL_CHARS),
    'no stray reprs': lambda r, m, vp: [f'{t.strip()[:70]}  (cell: {c})' for t, c in r['outputs'] if STRAY.search(t)],
    'API signatures': signatures, 'API parameter tables': tables,
    'API source links': lambda r, m, vp: [f"#{b['id']}" for b in r['api'] if not (b['source'] and '/blob/' in b['source'])],
    'method blocks have a docstring': lambda r, m, vp: [b['heading'] for b in r['api'] if '.' in (b['heading'] or '') and not b['doc']],
    'folds closed': folds,
    'screenshot taken': lambda r, m, vp: [r['screenshot_error']] if 'screenshot_error' in r else ['empty'] * (r['screenshot'].stat().st_size <= 1000),
}


@pytest.mark.parametrize('vp', VIEWPORTS)
@pytest.mark.parametrize('name', PAGES)
def test_page(name, vp, report):
    "Every check of PAGE_CHECKS on one page at one width."
    rep, meta = report(name, vp), BY_PAGE[name]
    bad = {check: p for check, f in PAGE_CHECKS.items() if (p := f(rep, meta, vp))}
    assert not bad, ''.join(f'\n  {check}:' + fmt(p) for check, p in bad.items())


# --- what the page checks cannot see: the build's intent where it decides what a page should show ---------------------------
def test_foreign_names():
    "\"PyTorch's `SGD`\" and `torch.x` link to PyTorch's documentation, \"fastai's\" names to nothing (the pages show only where they link)."
    docs = 'https://docs.pytorch.org/docs/stable/generated/'
    given = "PyTorch's [`SGD`](a.html#sgd) and torch's `OneCycleLR`, fastai's [`Learner`](l.html#learner), `torch.optim.AdamW`"
    assert build_docs.foreign_names(given) == (
        f"PyTorch's [`SGD`]({docs}torch.optim.SGD.html) and torch's [`OneCycleLR`]({docs}torch.optim.lr_scheduler.OneCycleLR.html), "
        f"fastai's `Learner`, [`torch.optim.AdamW`]({docs}torch.optim.AdamW.html)")


def test_notebook_conversion():
    "Folds become closed <details> (a code cell's output folded with it unless `fold-output: false`), as the folds check expects; empty results go."
    from nbformat.v4 import new_code_cell as code, new_markdown_cell, new_notebook, new_output as output
    nb = new_notebook(cells=[new_markdown_cell('<!-- fold: Show the answer to 3 -->\nBecause $x$.'),
        code('#| code-fold: true\n#| code-summary: "Show the solution"\nprint(1)', outputs=[output('stream', name='stdout', text='1\n')]),
        code('#| code-fold: true\n#| fold-output: false\nassert True\nprint(2)', outputs=[output('stream', name='stdout', text='2\n')]),
        code('ax.plot(x)', outputs=[output('execute_result', data={}, execution_count=1)])])
    out, info = build_docs.convert_notebook(nb, lambda u: u, lambda m: None)
    assert out.cells[0].source.startswith('<details class="admonition hide above-input fold">') and 'Because' in out.cells[0].source
    assert out.cells[1].metadata['tags'] == ['hide-cell'] and out.cells[1].metadata['mystnb'] == {'code_prompt_show': 'Show the solution', 'code_prompt_hide': 'Hide the solution'}
    assert out.cells[2].metadata['tags'] == ['hide-input'] and [f['kind'] for f in info['folds']] == ['markdown', 'code+output', 'code']
    assert out.cells[3].outputs == []      # an empty result is dropped


def test_layers_check(tmp_path, capsys):
    "tools/check_layers.py passes a package that follows its map, and names each upward import, lazy or not (a circle has one)."
    import check_layers
    (tmp_path/'CONTRIBUTING.md').write_text('| module | notebook | holds | imports |\n|---|---|---|---|\n'
                                            '| `a` | 00 | x | torch |\n| `b` | 01 | y | a |\n| `c` | 02 | z | everything above |\n')
    (lib := tmp_path/'accel_sgd').mkdir()
    for mod, src in {'a': 'import torch\n', 'b': 'from .a import x\n', 'c': 'from accel_sgd import a, b\n'}.items(): (lib/f'{mod}.py').write_text(src)
    assert check_layers.main(lib, tmp_path/'CONTRIBUTING.md') == 0
    (lib/'a.py').write_text('def f():\n    from . import b\nLATER = {"g": "accel_sgd.c"}\n')
    assert check_layers.main(lib, tmp_path/'CONTRIBUTING.md') == 1
    out = capsys.readouterr().out
    assert 'UPWARD   a -> b' in out and "UPWARD   a -> c  (accel_sgd/a.py: line 3 string 'accel_sgd.c')" in out
    (lib/'a.py').write_text('import importlib\nimportlib.import_module(".b", "accel_sgd")\n'); (lib/'d.py').write_text('')
    assert check_layers.main(lib, tmp_path/'CONTRIBUTING.md') == 1
    out = capsys.readouterr().out
    assert 'UPWARD   a -> b  (accel_sgd/a.py: line 2 import_module)' in out and 'd: accel_sgd/d.py is not in the map' in out
