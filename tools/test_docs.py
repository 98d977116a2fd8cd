"""The docs site's checks: pytest over each page opened in headless Chromium by Playwright, at 1280 x 900 px and at a
phone's 390 x 844 px.   python tools/test_docs.py [--no-build] [pytest options]   (what `make test` runs)

The site in `_docs/` (tools/build_docs.py, whose `_proc/_sphinx/manifest.json` lists the pages, their titles, API
blocks and folds) is served on localhost and opened in Debian's Chromium through Playwright (`executable_path`: no
browser download). Each page is loaded once per width; the test waits for it to settle (maths typeset, images,
fonts, scrollbars drawn), reads a report from its DOM (tools/docs_report.js) and takes a screenshot into
`_docs/_screens/` (the whole page at 1280 px, the first screen on the phone). What the library documents is
read from the library itself (`__all__`, nbdev's `_modidx.py`). The converters' own tests need no browser.
Exit status: pytest's, 1 if the build failed, 2 if no browser could run (it never passes silently).
"""
from __future__ import annotations
import ast, base64, functools, http.server, importlib, inspect, json, os, re, shutil, sys, threading, time, zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402

SITE, SCREENS = build_docs.OUT, build_docs.OUT/'_screens'
VIEWPORTS = {'desktop': {'width': 1280, 'height': 900}, 'phone': {'width': 390, 'height': 844}}
MIN_CODE_CHARS = 110        # a code block holds this many characters a line at 1280 px (the course's lines run to ~110)
MIN_DETAIL_CHARS = 15       # a parameter's Details hold this many characters a line, at any width
MANIFEST = json.loads((build_docs.SRC/'manifest.json').read_text()) if (build_docs.SRC/'manifest.json').exists() else None
if MANIFEST is None: pytest.exit('no docs site to test (no _proc/_sphinx/manifest.json): run `python tools/test_docs.py`', 2)
PAGES = [p['page'] for p in MANIFEST['pages']]
BY_PAGE = {p['page']: p for p in MANIFEST['pages']}
LIB = importlib.import_module('accel_sgd._modidx').d
pages = pytest.mark.parametrize('name', PAGES)
widths = pytest.mark.parametrize('vp', list(VIEWPORTS))


lib_object = build_docs.lib_object


def documented():
    "The library's API, by nbdev's index: [(dotted name, doc link, kind)] for each module's `__all__` and the public documented methods of those classes."
    out, classes = [], set()
    for mod, syms in LIB['syms'].items():
        names = getattr(importlib.import_module(mod), '__all__', [])
        for name in names:
            obj = getattr(importlib.import_module(mod), name)
            if callable(obj) and f'{mod}.{name}' in syms:
                out.append((f'{mod}.{name}', syms[f'{mod}.{name}'][0], 'class' if inspect.isclass(obj) else 'function'))
                if inspect.isclass(obj): classes.add(name)
    for mod, syms in LIB['syms'].items():
        for full, (link, _) in syms.items():
            cls, _, meth = full[len(mod) + 1:].rpartition('.')
            f = lib_object(f'{mod}.{cls}.{meth}') if cls in classes and not meth.startswith('_') else None
            if inspect.isfunction(getattr(f, '__func__', f)) and getattr(f, '__doc__', None): out.append((f'{cls}.{meth}', link, 'method'))
    return out


API = documented()


def fmt(items, n=8) -> str:
    items = list(items)
    return '\n    ' + '\n    '.join(map(str, items[:n])) + (f'\n    ... and {len(items) - n} more' if len(items) > n else '')


def norm(s: str) -> str:
    "Titles compared as text: code marks and stars dropped, smart quotes and dashes made plain, spaces squeezed."
    s = (s or '').translate(str.maketrans({'‘': "'", '’': "'", '“': '"', '”': '"', '–': '-', '—': '-'}))
    return re.sub(r'\s+', ' ', re.sub(r'-{2,}', '-', re.sub(r'[`*]', '', s))).strip()


# --- the server, the browser, one report per page and width ---------------------------------------------------
@pytest.fixture(scope='session')
def base_url():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        def handle_error(self, *a): pass    # a browser dropping a connection is not news
    server = Server(('127.0.0.1', 0), functools.partial(Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}/'
    server.shutdown()


@pytest.fixture(scope='session')
def browser():
    "Debian's Chromium, driven by Playwright; scrollbars drawn as a reader sees them."
    exe = next((shutil.which(c) for c in [os.environ.get('CHROMIUM') or '', 'chromium', 'chromium-browser', 'google-chrome'] if c and shutil.which(c)), None)
    if not exe: pytest.exit("no Chromium here: `make browser` installs Debian's (as root), or set $CHROMIUM", 2)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
                              ignore_default_args=['--hide-scrollbars'])
        yield b
        b.close()


@pytest.fixture(scope='session')
def pages_at(browser):
    "One browser tab per width, opened when first asked for."
    tabs = {}
    def tab(vp):
        if vp not in tabs: tabs[vp] = browser.new_page(viewport=VIEWPORTS[vp], is_mobile=vp == 'phone', has_touch=vp == 'phone')
        return tabs[vp]
    yield tab
    for t in tabs.values(): t.close()


REPORT_JS = (ROOT/'tools'/'docs_report.js').read_text(encoding='utf-8')
SETTLED_JS = """async () => { if (window.MathJax?.startup?.promise) await MathJax.startup.promise;
  await Promise.all([...document.images].map(i => i.decode().catch(() => null))); await document.fonts.ready; }"""
# Every code block wider than its box shows its scrollbar. Chromium now and then leaves a box that overflows only after
# its first layout (a slow first load) without one until its next layout: a box found so is laid out again, and asked again.
SCROLLBARS_JS = """() => [...document.querySelectorAll('article pre')].filter(p => p.checkVisibility() && p.scrollWidth > p.clientWidth + 2
  && p.offsetHeight - p.clientHeight < 4).map(p => { p.style.overflowX = 'scroll'; p.offsetHeight; p.style.overflowX = ''; }).length === 0"""


class Reports:
    "Opens each page once per width (the first time a test asks), waits for it to settle, and keeps what it found."
    def __init__(self, tab, base):
        self.tab, self.base, self.done, self.broken = tab, base, {}, {}
        SCREENS.mkdir(parents=True, exist_ok=True)
        for old in SCREENS.rglob('*.png'): old.unlink()

    def __call__(self, name: str, vp: str = 'desktop') -> dict:
        key = (vp, name)
        if key in self.broken: pytest.fail(f'{name} could not be opened at {vp} width: {self.broken[key]}', pytrace=False)
        if key not in self.done:
            try: self.done[key] = self._open(name, vp)
            except Exception as e:
                self.broken[key] = f'{type(e).__name__}: {str(e).splitlines()[0]}'
                raise
        return self.done[key]

    def _open(self, name: str, vp: str) -> dict:
        pg, origin, ev = self.tab(vp), self.base.rstrip('/'), {'outside': [], 'http': [], 'failed': [], 'errors': []}
        handlers = {'request': lambda r: r.url.startswith((origin, 'data:', 'blob:', 'about:')) or ev['outside'].append(r.url),
                    'response': lambda r: r.status < 400 or ev['http'].append(f'HTTP {r.status} for {r.url}'),
                    'requestfailed': lambda r: 'ERR_ABORTED' in (r.failure or 'ERR_ABORTED') or ev['failed'].append(f'{r.url}: {r.failure}'),
                    'pageerror': lambda e: ev['errors'].append(str(e))}
        for k, h in handlers.items(): pg.on(k, h)
        t0 = time.time()
        try:
            resp = pg.goto(self.base + name, wait_until='load', timeout=180_000)
            pg.evaluate(SETTLED_JS)
            try: pg.wait_for_function(SCROLLBARS_JS, timeout=15_000)     # a scrollbar is drawn a frame after layout
            except Exception: pass                                         # never drawn: the report says where
            rep = pg.evaluate(REPORT_JS)
            rep.update(ev, status=resp.status if resp else None, seconds=round(time.time() - t0, 2))
            shot = SCREENS/('' if vp == 'desktop' else vp)/(Path(name).stem + '.png')
            shot.parent.mkdir(exist_ok=True)
            try:
                if vp == 'desktop':     # Chromium's own capture with its fast PNG encoding: twice Playwright's speed on 50,000 px pages
                    cdp = pg.context.new_cdp_session(pg)
                    data = cdp.send('Page.captureScreenshot', {'format': 'png', 'optimizeForSpeed': True, 'captureBeyondViewport': True,
                                    'clip': {'x': 0, 'y': 0, 'width': VIEWPORTS[vp]['width'], 'height': min(rep['height'], 80_000), 'scale': 1}})
                    shot.write_bytes(base64.b64decode(data['data'])); cdp.detach()
                else: pg.screenshot(path=shot)
                rep['screenshot'] = str(shot)
            except Exception as e: rep['screenshot_error'] = f'{type(e).__name__}: {str(e).splitlines()[0]}'
        finally:
            for k, h in handlers.items(): pg.remove_listener(k, h)
        return rep

    def summary(self):
        for (vp, name), r in sorted(self.done.items(), key=lambda kv: (kv[0][0] != 'desktop', PAGES.index(kv[0][1]) if kv[0][1] in PAGES else 99)):
            print(f"  {vp:<8} {name:<22} {len(r['images']):>3} images {len(r['links']):>4} links {r['mjx']:>4} formulas "
                  f"{len(r['api']):>3} API blocks {len(r['folds']):>3} folds {len(r['scrolling_code']):>3} code blocks scroll "
                  f"{r['height']:>6} px tall {r['seconds']:>5.1f} s")


@pytest.fixture(scope='session')
def report(pages_at, base_url):
    r = Reports(pages_at, base_url)
    yield r
    r.summary()


@functools.lru_cache(maxsize=None)
def ids_in(html_file: Path) -> frozenset:
    return frozenset(re.findall(r'\bid="([^"]+)"', html_file.read_text(encoding='utf-8', errors='replace')))


def resolves(href: str, origin: str) -> str | None:
    "What is missing for an internal link (the page, or the #anchor on it), or None."
    u = urlsplit(href)
    f = SITE/(unquote(u.path).lstrip('/') or 'index.html')
    f = f/'index.html' if f.is_dir() else f
    if not f.exists(): return f'missing page: {href[len(origin):]}'
    if u.fragment and f.suffix == '.html' and unquote(u.fragment) not in ids_in(f): return f'missing anchor: {href[len(origin):]}'


# --- the site as a whole -----------------------------------------------------------------------------------------
def test_every_notebook_has_a_page():
    from nbdev.doclinks import nbglob
    nbs = {Path(f).name for f in nbglob(ROOT/'nbs')}
    assert nbs == set(MANIFEST['notebooks']), f'notebooks without a page: {sorted(nbs - set(MANIFEST["notebooks"]))}'


@widths
def test_sidebar_lists_every_page_in_course_order(vp, pages_at, base_url):
    "The chapter list: in view at 1280 px; on a phone the header's button opens it. Every page, in course order."
    pg = pages_at(vp)
    pg.goto(base_url + 'learner.html', wait_until='load')
    if vp == 'phone':
        assert not pg.locator('nav.bd-docs-nav').is_visible(), 'the chapter list covers the page before it is asked for'
        pg.locator('button.primary-toggle:visible').first.click()
    nav = pg.locator('nav.bd-docs-nav')
    nav.locator('a').first.wait_for(state='visible', timeout=10_000)
    assert [norm(t) for t in nav.locator('a').all_inner_texts()] == [norm(p['title']) for p in MANIFEST['pages']]
    if vp == 'phone': pg.screenshot(path=SCREENS/'phone'/'_sidebar.png')


@widths
def test_contents_drawer_opens(vp, pages_at, base_url):
    "The page's contents: the header's button opens them, with the page's sections."
    pg = pages_at(vp)
    pg.goto(base_url + 'learner.html', wait_until='load')
    pg.locator('button.secondary-toggle:visible').first.click()
    pg.locator('dialog#pst-secondary-sidebar-modal[open] nav.page-toc a').first.wait_for(state='visible', timeout=10_000)


SEARCH_JS = """() => [...document.querySelectorAll('ul.search > li')].map(li => ({href: li.querySelector('a').getAttribute('href'),
  kind: li.className, title: li.querySelector('a').textContent, snippet: (li.querySelector('p.context') || {}).textContent || null}))"""


def search(pg, base_url, query: str) -> list[dict]:
    "The search page's results for `query`, once every result and its snippet is shown."
    pg.goto(base_url + 'search.html?q=' + query, wait_until='load')
    pg.wait_for_function("document.querySelector('#search-results p.search-summary')?.textContent.includes('finished') "
                         "&& [...document.querySelectorAll('ul.search > li:is(.kind-text, .kind-title, .kind-index)')].every(li => li.querySelector('p.context'))",
                         timeout=30_000)
    return pg.evaluate(SEARCH_JS)


@widths
@pytest.mark.parametrize('query, first', [('Learner.fit', 'accel_sgd.Learner.fit'), ('adam', 'accel_sgd.adam'), ('Learner', 'accel_sgd.Learner')])
def test_search_ranks_the_api_first(vp, query, first, pages_at, base_url):
    "An API entry whose name is the query is the first result, ahead of the pages that mention it."
    res = search(pages_at(vp), base_url, query)
    assert res and res[0]['title'] == first, f'results for {query!r}:' + fmt(f"{r['title']} -> {r['href']}" for r in res)
    assert not resolves(f"{base_url}{res[0]['href']}", base_url.rstrip('/'))
    if vp == 'phone' and query == 'adam': pages_at(vp).screenshot(path=SCREENS/'phone'/'_search.png')


ARTICLE_HAS_JS = """async ([href, snippet]) => {
  const doc = new DOMParser().parseFromString(await (await fetch(href)).text(), 'text/html');
  const flat = s => s.replace(/^\\.\\.\\.|\\.\\.\\.$/g, '').replace(/[\\s#¶]+/g, '');
  return flat(doc.querySelector('article').textContent).includes(flat(snippet)); }"""


@widths
def test_search_snippets_come_from_the_article(vp, pages_at, base_url):
    "A result's snippet is text of the page's article (or of the section found), not of the page's contents list beside it."
    pg = pages_at(vp)
    bad = [f"{r['title']}: {r['snippet'][:100]!r}" for r in search(pg, base_url, 'optimizer')
           if r['snippet'] and not pg.evaluate(ARTICLE_HAS_JS, [r['href'].split('#')[0], r['snippet']])]
    assert not bad, 'snippets that are not text of the article:' + fmt(bad)


def qual(name: str, kind: str) -> str: return name if kind == 'method' else name.rsplit('.', 1)[-1]


def test_objects_inv_lists_the_api():
    "objects.inv (what other projects link with) holds every function, class and method, at its block, and the package-level names."
    lines = (SITE/'objects.inv').read_bytes().split(b'\n', 4)
    inv = {m.group(1): (m.group(2), m.group(3).replace('$', m.group(1))) for m in
           re.finditer(r'^(\S+) (py:\w+) -?\d+ (\S+)', zlib.decompress(lines[4]).decode(), re.M)}
    missing = [n for n, link, kind in API if not any(k.endswith('.' + qual(n, kind)) and uri.startswith(link.partition('#')[0] + '#')
                                                      for k, (_, uri) in inv.items())]
    assert not missing, 'not in objects.inv, or not at their page:' + fmt(missing)
    assert inv.get('accel_sgd.Learner', ('',))[0] == 'py:class', 'accel_sgd.Learner is not in objects.inv'
    bad = [f'{k} -> {uri}' for k, (_, uri) in inv.items() if resolves('http://x/' + uri, 'http://x')]
    assert not bad, 'objects.inv points to missing places:' + fmt(bad)


def test_index_page_lists_the_api():
    "The Index (genindex.html) links every function, class and method."
    links = re.findall(r'href="([\w.-]+\.html)#([\w.]+)"', (SITE/'genindex.html').read_text(encoding='utf-8'))
    missing = [n for n, link, kind in API if not any(p == link.partition('#')[0] and a.endswith('.' + qual(n, kind)) for p, a in links)]
    assert not missing, 'not in the Index:' + fmt(missing)


@pytest.mark.parametrize('name, link, kind', API, ids=[a[0].replace('accel_sgd.', '') for a in API])
def test_api_has_its_block(name, link, kind, report):
    "Every function and class in a module's `__all__`, and every documented public method of those classes, has its block where `_modidx.py` links it."
    page, _, anchor = link.partition('#')
    assert page in BY_PAGE, f'_modidx.py links {name} to {page}, which the site does not have'
    block = next((a for a in report(page)['api'] if a['id'] == anchor), None)
    assert block, f"no API block at {link} (is its show_doc hidden, or the cell not exported?)"
    assert block['heading'] == qual(name, kind)
    assert block['source'] and '/blob/' in block['source'], 'its API block has no link to the source'


@pytest.mark.parametrize('name', ['Learner.fit', 'Learner.lr_find', 'RecorderCB.plot_loss', 'Optimizer.step'])
def test_methods_a_user_calls_are_documented(name, report):
    "The methods the course has its readers call: each a block with a parameter table (Type / Default / Details)."
    link = next((l for n, l, k in API if n == name), None)
    assert link, f'{name} is not a documented public method of an exported class (no docstring?)'
    block = next((a for a in report(link.partition('#')[0])['api'] if a['heading'] == name), None)
    assert block and block['table_head'][-1:] == ['Details'], f'{name}: no block with a parameter table'


# --- each page -------------------------------------------------------------------------------------------------
@pages
def test_loads_with_its_title(name, report):
    rep, title = report(name), norm(BY_PAGE[name]['title'])
    assert rep['status'] == 200
    assert norm(rep['title']).startswith(title), f"<title> is {rep['title']!r}, expected the notebook's title"
    assert [norm(h) for h in rep['h1s']] == [title], 'expected one <h1>, the title'


@pages
def test_stays_offline_and_loads_cleanly(name, report):
    "Every request stays on localhost (nothing from a CDN) and succeeds; no script throws."
    rep = report(name)
    problems = ([f'requests {u} from outside the site (the docs must work offline)' for u in rep['outside']]
                + rep['http'] + [f'failed to load {f}' for f in rep['failed']] + [f'a script threw: {e}' for e in rep['errors']])
    assert not problems, fmt(problems)


@pages
def test_images_decode(name, report):
    bad = [i['src'][:120] for i in report(name)['images'] if i['w'] <= 0]
    assert not bad, 'images that do not decode:' + fmt(bad)


@pages
def test_internal_links_resolve(name, report, base_url):
    "No link to a missing page or a missing #anchor."
    origin = base_url.rstrip('/')
    bad = {r for href in report(name)['links'] if href.startswith(origin) and (r := resolves(href, origin))}
    assert not bad, fmt(sorted(bad))


@pages
def test_other_libraries_names_link_to_their_docs(name, report):
    "\"PyTorch's `SGD`\" and `torch.optim.SGD` do not link to this library's own `SGD`."
    bad = report(name)['foreign_internal']
    assert not bad, 'a name of another library links into this site:' + fmt(bad)


def prints_at_top_level(src: str) -> bool:
    "Does this cell call print() outside any def/class (so running it must show something)?"
    try: tree = ast.parse(src)
    except SyntaxError: return False     # magics, shell lines
    scoped = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) for n in ast.walk(f)}
    return any(isinstance(n, ast.Call) and getattr(n.func, 'id', None) == 'print' and id(n) not in scoped for n in ast.walk(tree))


@pages
def test_notebook_was_committed_with_outputs(name):
    "The site shows stored outputs: a notebook with code has some, and a cell that prints shows what it printed."
    import nbformat
    nb = BY_PAGE[name]['notebook']
    code = [c for c in nbformat.read(build_docs.PROC/nb, as_version=4).cells if c.cell_type == 'code' and build_docs.cell_options(c.source)[1].strip()]
    assert len(code) < 3 or any(c.outputs for c in code), f"{nb} has {len(code)} code cells and no stored output: run `tools/run_nb.sh nbs/{nb}`"
    silent = [c.source.strip().split('\n')[0][:80] for c in code if not c.outputs and prints_at_top_level(build_docs.cell_options(c.source)[1])]
    assert not silent, f"cells of {nb} call print() but have no stored output (run `tools/run_nb.sh nbs/{nb}`):" + fmt(silent)


@pages
def test_maths_is_typeset(name, report):
    rep = report(name)
    if BY_PAGE[name]['math']: assert rep['mjx'] > 0, 'the notebook has LaTeX but the page has no typeset maths'
    assert rep['mjx_errors'] == 0, f"{rep['mjx_errors']} MathJax errors (bad LaTeX?)"
    assert not rep['raw_math'], f"raw LaTeX delimiters left in the text: ...{rep['raw_math_at']}..."
    assert not rep['stray_dollars'], 'a `$` is left beside typeset maths (unbalanced $ or $$?):' + fmt(rep['stray_dollars'])


@pages
def test_no_notebook_syntax_left(name, report):
    "No Quarto syntax (`:::`, `{target=`) in the text, no `#|` directive in the code."
    rep = report(name)
    assert not rep['leftovers'], 'Quarto/markdown syntax shown as text:' + fmt(rep['leftovers'])
    assert not rep['code_directives'], f"{rep['code_directives']} code cells still show `#|` directives"


@pages
def test_code_shows_code_not_markdown(name, report):
    bad = report(name)['markdown_in_code']
    assert not bad, 'code blocks that show markdown links (nbdev links names in code too):' + fmt(bad)


@pages
@widths
def test_page_does_not_scroll_sideways(name, vp, report):
    rep, width = report(name, vp), VIEWPORTS[vp]['width']     # a phone widens its window to the page: the screen's width counts
    assert rep['scroll_width'] <= min(rep['inner_width'], width) + 1, f"the page is {rep['scroll_width']} px wide on a {width} px screen"


@pages
@widths
def test_code_lines_never_wrap(name, vp, report):
    """A code line is never folded onto the next (it would read as wrong indentation): a block wider than the column
    scrolls, with its scrollbar drawn, and at 1280 px the column holds MIN_CODE_CHARS characters, so few need to."""
    rep = report(name, vp)
    assert not rep['wrapping_code'], 'code blocks whose long lines wrap:' + fmt(rep['wrapping_code'])
    hidden = [c['first'] for c in rep['scrolling_code'] if not c['scrollbar']]
    assert not hidden, 'code blocks that hide their long lines with no scrollbar drawn:' + fmt(hidden)
    if vp == 'desktop' and rep['code_chars'] is not None:
        assert rep['code_chars'] >= MIN_CODE_CHARS, f"code blocks hold {rep['code_chars']} characters a line"


@pages
@widths
def test_nothing_is_cut_off(name, vp, report):
    "Tables, images, maths and outputs fit in the column or scroll in a box that draws its scrollbar."
    bad = report(name, vp)['cut_off']
    assert not bad, 'content wider than the column, cut off or without a scrollbar:' + fmt(bad)


@pages
@widths
def test_parameter_details_are_readable(name, vp, report):
    "A parameter table's Details column is never squeezed: each row's details hold MIN_DETAIL_CHARS characters a line."
    chars = report(name, vp)['details_chars']
    assert chars is None or chars >= MIN_DETAIL_CHARS, f'a Details cell holds {chars} characters a line'


@pages
def test_no_stray_reprs(name, report):
    "No `<matplotlib.legend.Legend at 0x...>`, `Text(0.5, 1.0, ...)` in the outputs: a plot's last line ends with `;`."
    assert not report(name)['stray_reprs'], 'outputs that show the repr of a plotting call:' + fmt(report(name)['stray_reprs'])
    if BY_PAGE[name]['stripped_reprs']:
        import warnings
        warnings.warn(f"{BY_PAGE[name]['notebook']}: {len(BY_PAGE[name]['stripped_reprs'])} cell(s) print a plot's repr beside it "
                      f"(left out of the page): first {BY_PAGE[name]['stripped_reprs'][0]['first_line']!r}")


def split_params(inner: str) -> list[str]:
    "A signature's parameter list split at its top-level commas."
    parts, depth, quote, cur = [], 0, None, ''
    for ch in inner:
        if quote: quote = None if ch == quote else quote
        elif ch in '\'"': quote = ch
        elif ch in '([{': depth += 1
        elif ch in ')]}': depth -= 1
        elif ch == ',' and depth == 0: parts.append(cur); cur = ''; continue
        cur += ch
    return [p.strip() for p in parts + [cur] if p.strip()]


def signature_names(meta: dict | None) -> list[str] | None:
    "The parameters `inspect.signature` gives the library's object behind an API block (None: not known)."
    obj = lib_object(meta['object']) if meta and meta.get('object') else None
    if obj is None: return None
    try: ps = list(inspect.signature(obj).parameters.values())
    except (ValueError, TypeError): return []
    if meta['method'] and ps and ps[0].name in ('self', 'cls'): ps = ps[1:]
    return [('*' if p.kind == p.VAR_POSITIONAL else '**' if p.kind == p.VAR_KEYWORD else '') + p.name for p in ps]


@pages
def test_api_blocks_have_real_signatures(name, report):
    """Each API block shows a signature (`def`, `class`) with no comment in it (the comments are in the table), with
    the parameters `inspect.signature` gives the library's object."""
    bad, apis = [], {a['anchor']: a for a in BY_PAGE[name]['api']}
    for block in report(name)['api']:
        sig = block['signature'].strip()
        if not sig.startswith(('def ', 'class ', 'async def ')): bad.append(f"#{block['id']}: no signature: {sig[:60]!r}"); continue
        if re.search(r'\s#\s', sig): bad.append(f"#{block['id']}: a comment inside the signature: {sig[:80]!r}")
        names, inner = signature_names(apis.get(block['id'])), sig.split('(', 1)[1].rsplit(')', 1)[0] if '(' in sig else ''
        if names is None or (not names and sig.startswith('class ') and re.fullmatch(r'[\w.]+(, [\w.]+)*', inner or 'x')): continue
        shown = [m.group(0) for p in split_params(inner) if (m := re.match(r'\*{0,2}\w+', p))]
        if shown != names: bad.append(f"#{block['id']}: the signature shows {shown}, the object takes {names}")
    assert not bad, fmt(bad)


@pages
def test_api_blocks_have_parameter_tables(name, report):
    "A block of a callable with parameters has a table (Type / Default / Details), one row per parameter."
    bad, apis = [], {a['anchor']: a for a in BY_PAGE[name]['api']}
    for block in report(name)['api']:
        names = signature_names(apis.get(block['id']))
        if not names: continue
        if block['table_head'][-1:] != ['Details']: bad.append(f"#{block['id']}: no parameter table"); continue
        if [r for r in block['table_rows'] if r != 'Returns'] != names: bad.append(f"#{block['id']}: table rows {block['table_rows']}, parameters {names}")
    assert not bad, fmt(bad)


@pages
def test_api_blocks_link_to_their_source(name, report):
    bad = [f"#{b['id']}" for b in report(name)['api'] if not (b['source'] and '/blob/' in b['source'])]
    assert not bad, 'API blocks with no link to the source:' + fmt(bad)


@pages
def test_method_blocks_say_something(name, report):
    "A method has a block only with a docstring (an event method such as `after_epoch` with none has no empty section)."
    bad = [b['heading'] for b in report(name)['api'] if '.' in (b['heading'] or '') and not b['doc']]
    assert not bad, 'method blocks with no docstring:' + fmt(bad)


@pytest.mark.parametrize('name', [p['page'] for p in MANIFEST['pages'] if p['folds']])
def test_folds_are_closed(name, report):
    """`#| code-fold: true` cells and `<!-- fold -->` markdown cells are <details>, closed, their content hidden; a
    cell's output is folded with it unless `#| fold-output: false`."""
    folds, want = report(name)['folds'], BY_PAGE[name]['folds']
    assert len(folds) >= len(want), f'{len(want)} folds in the notebook, {len(folds)} on the page'
    assert not [f for f in folds if f['open'] or f['content_visible']], 'folds open by default:' + fmt(f['summary'] for f in folds if f['open'] or f['content_visible'])
    for w in want:
        assert any(f['summary'] == w['summary'] and (f['has_output'] or w['kind'] != 'code+output') for f in folds), \
            f"no fold labelled {w['summary']!r} (with its output: {w['kind'] == 'code+output'}) for {w['first']!r}"


@pages
@widths
def test_screenshot_taken(name, vp, report):
    rep = report(name, vp)
    assert not rep.get('screenshot_error'), rep.get('screenshot_error')
    assert Path(rep['screenshot']).stat().st_size > 1000


# --- the tools' own tests (no browser) -------------------------------------------------------------------------
def test_rules_attributes_links():
    from build_docs import quarto_to_myst
    assert quarto_to_myst('[a](x.ipynb#f){target="_blank"}', lambda u: u.replace('x.ipynb', 'x.html')) == '[a](x.html#f)'
    assert quarto_to_myst('Text\n\n---\n\nMore') == 'Text\n\n<hr class="rule">\n\n\nMore'
    assert quarto_to_myst('Title\n---') == 'Title\n---' and quarto_to_myst('```\n---\n```') == '```\n---\n```'


def test_maths_detection():
    from build_docs import has_math, quarto_to_myst
    assert [has_math(s) for s in ['$a_i$', '$$x$$', '`$HOME`', 'costs $5 and $10', '```\n$x$\n```', '\\begin{align}']] == \
        [True, True, False, False, False, True]
    assert quarto_to_myst('size $B$, then `$x$,` and $5, $a$') == 'size <span class="nowrap">$B$,</span> then `$x$,` and $5, $a$'


def test_directives_are_nbdevs():
    "tools/run_nb.py and the build read `#|` lines with nbdev's own parser (`extract_directives`)."
    import run_nb
    from nbdev.process import extract_directives
    assert run_nb.extract_directives is extract_directives and 'extract_directives' in inspect.getsource(build_docs.cell_options)
    assert build_docs.cell_options('#| echo: false\n#|output: asis\nshow_doc(f)') == ({'echo': 'false', 'output': 'asis'}, 'show_doc(f)')
    assert build_docs.cell_options('#| code-summary: "Show the solution"\n#| code-fold: true\nx = 1') == \
        ({'code-summary': 'Show the solution', 'code-fold': 'true'}, 'x = 1')
    assert build_docs.cell_options('#| export core\ndef f(): pass') == ({'export': 'core'}, 'def f(): pass')
    assert build_docs.cell_options('x = 1\n#| slow') == ({}, 'x = 1\n#| slow')


def test_code_keeps_no_links():
    assert build_docs.unlink_code('```python\ndef f(x, # see [`g`](a.html#g)\n```\nSee [`g`](a.html#g).') == \
        '```python\ndef f(x, # see g\n```\nSee [`g`](a.html#g).'


def test_foreign_names():
    from build_docs import foreign_names
    assert foreign_names("the default is fastai's\n[`Adam`](a.html#adam).") == "the default is fastai's\n`Adam`."
    out = foreign_names("PyTorch's [`SGD`](accel_sgd.html#sgd) and torch's `OneCycleLR`, fastai's [`Learner`](l.html#learner), `torch.optim.AdamW`, our [`SGD`](accel_sgd.html#sgd)")
    assert "PyTorch's [`SGD`](https://docs.pytorch.org/docs/stable/generated/torch.optim.SGD.html)" in out
    assert "torch's [`OneCycleLR`](https://docs.pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html)" in out
    assert "fastai's `Learner`," in out and out.endswith('our [`SGD`](accel_sgd.html#sgd)')
    assert '[`torch.optim.AdamW`](https://docs.pytorch.org/docs/stable/generated/torch.optim.AdamW.html)' in out
    assert foreign_names("```\nPyTorch's `SGD`\n```") == "```\nPyTorch's `SGD`\n```"


def test_api_blocks_and_links():
    "A block already on the page (a method inside its class) is left out; a link to a name with no block goes to its class's block, or none."
    from build_docs import api_blocks, method_links_to_class
    blk = lambda h, n: f'{h} {n}\n\n````{{container}} api-block\n```{{py:function}} {n}\n:module: m\n:no-typesetting:\n```\n\n```python\ndef f()\n```\n````'
    seen = set()
    md, info = api_blocks(blk('###', 'C') + '\n\n' + blk('####', 'C.run'), lambda u: u, seen)
    assert [i['anchor'] for i in info] == ['c', 'c.run'] and info[1]['level'] == 4 and info[0]['object'] == 'm.C'
    assert api_blocks(blk('###', 'C.run'), lambda u: u, seen) == ('', [])
    api, syms = {'a.html': {'c'}}, {'a.html': {'c', 'c.go', 'helper'}}
    assert method_links_to_class('[`C.go`](a.html#c.go) [`helper`](a.html#helper) [`C`](a.html#c)', api, syms) == \
        '[`C.go`](a.html#c) `helper` [`C`](a.html#c)'


def test_folds_convert():
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell('<!-- fold: Show the answer to 3 -->\nBecause $x$.'),
        nbformat.v4.new_code_cell('#| code-fold: true\n#| code-summary: "Show the solution"\nprint(1)',
                                  outputs=[nbformat.v4.new_output('stream', name='stdout', text='1\n')]),
        nbformat.v4.new_code_cell('#| code-fold: true\n#| fold-output: false\nassert True\nprint(2)',
                                  outputs=[nbformat.v4.new_output('stream', name='stdout', text='2\n')])])
    out, info = build_docs.convert_notebook(nb, lambda u: u, print)
    assert out.cells[0].source.startswith('<details class="admonition hide above-input fold">') and 'Because' in out.cells[0].source
    assert out.cells[1].metadata['tags'] == ['hide-cell'] and out.cells[1].metadata['mystnb'] == \
        {'code_prompt_show': 'Show the solution', 'code_prompt_hide': 'Hide the solution'}
    assert out.cells[2].metadata['tags'] == ['hide-input'] and [f['kind'] for f in info['folds']] == ['markdown', 'code+output', 'code']


def test_stray_reprs_left_out_beside_plots():
    import nbformat
    png = nbformat.v4.new_output('display_data', data={'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure size 640x480 with 1 Axes>'})
    legend = nbformat.v4.new_output('execute_result', data={'text/plain': '<matplotlib.legend.Legend at 0x7f3>'}, execution_count=1)
    one = nbformat.v4.new_output('execute_result', data={'text/plain': '1'}, execution_count=2)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('ax.plot(x); ax.legend()', outputs=[legend, png]),
                                         nbformat.v4.new_code_cell('x = 1\nx', outputs=[one])])
    out, info = build_docs.convert_notebook(nb, lambda u: u, lambda m: None)
    assert [o.output_type for o in out.cells[0].outputs] == ['display_data']
    assert len(out.cells[1].outputs) == 1 and info['stripped_reprs'][0]['repr'].startswith('<matplotlib.legend.Legend')


SAMPLE = '''
from typing import NamedTuple
from dataclasses import dataclass
def f(a:int, # the a
      b=2,
      *rest, # more
      **kw, # the last one
     ) -> str: # what comes back
    "Doc of f."
def g(x, y=1, # the y
      # the z, on the line before it
      z=3,
      *, k=0): # the k
    "Doc of g."
class NT(NamedTuple):
    "A tuple."
    x: int
    y: float = 1.0
@dataclass
class DC:
    "A dataclass."
    x: int  # the x
class E(Exception):
    "An error."
class C:
    "A class."
    def __init__(self, n:int=1): # how many
        self.n = n
    def run(self, k:int): # times
        "Run it."
    def _private(self): "Not documented."
    @property
    def size(self): "A property."
    def plain(self): pass
'''


def test_api_renderer(tmp_path, monkeypatch):
    "tools/api_doc.py on a small module: signatures, fastcore's docments in the tables, the methods a class shows."
    import api_doc, torch
    (tmp_path/'sample_api.py').write_text(SAMPLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    m = importlib.import_module('sample_api')
    assert api_doc.signature_line(m.E, 'E') == 'class E(Exception)'
    assert api_doc.signature_line(m.NT, 'NT') == 'class NT(x: int, y: float = 1.0)'
    assert api_doc.signature_line(m.f, 'f') == 'def f(a: int, b=2, *rest, **kw) -> str'
    assert api_doc.signature_line(m.g, 'g') == 'def g(x, y=1, z=3, *, k=0)'
    assert api_doc.signature_line(m.C.run, 'C.run', method=True) == 'def run(k: int)'
    assert api_doc.params(m.f)[1][3] == ('**kw', '', '', 'the last one') and api_doc.params(m.f)[2] == ('str', 'what comes back')
    assert [r[3] for r in api_doc.params(m.g)[1]] == ['', 'the y', 'the z, on the line before it', 'the k']
    assert api_doc.params(m.DC)[1] == [('x', 'int', '', 'the x')] and api_doc.params(m.C)[1] == [('n', 'int', '1', 'how many')]
    assert [n for n, _ in api_doc.own_methods(m.C)] == ['run']
    assert api_doc.fmt_default(torch.optim.SGD) == 'torch.optim.SGD' and api_doc.fmt_default(torch.nn.functional.cross_entropy) == 'F.cross_entropy'
    table = api_doc.param_table(m.f)
    assert table.split('\n')[0] == '|  | **Type** | **Default** | **Details** |'
    assert '| \\*\\*kw |  |  | the last one |' in table and table.endswith('| **Returns** | `str` |  | what comes back |')
    long = api_doc.signature_line(m.C, 'C' * 90)
    assert long.startswith('class ' + 'C' * 90 + '(\n    n: int = 1,\n') and long.endswith('\n)')


def test_layers_check(tmp_path, capsys):
    "tools/check_layers.py passes a package that follows its map, and names each upward import, lazy or not, and each circle."
    import check_layers
    (tmp_path/'CONTRIBUTING.md').write_text('| module | notebook | holds | imports |\n|---|---|---|---|\n'
                                            '| `a` | 00 | x | torch |\n| `b` | 01 | y | a |\n| `c` | 02 | z | everything above |\n')
    lib = tmp_path/'accel_sgd'; lib.mkdir()
    files = {'a': 'import torch\n', 'b': 'from .a import x\n', 'c': 'from accel_sgd import a, b\n'}
    for m, src in files.items(): (lib/f'{m}.py').write_text(src)
    assert check_layers.main(lib, tmp_path/'CONTRIBUTING.md') == 0
    (lib/'a.py').write_text('def f():\n    from . import b\nLATER = {"g": "accel_sgd.c"}\n')
    assert check_layers.main(lib, tmp_path/'CONTRIBUTING.md') == 1
    out = capsys.readouterr().out
    assert 'UPWARD   a -> b' in out and "UPWARD   a -> c  (accel_sgd/a.py: line 3 string 'accel_sgd.c')" in out and 'CIRCLE   a <-> b <-> c' in out
    (lib/'a.py').write_text('import importlib\nimportlib.import_module(".b", "accel_sgd")\n'); (lib/'d.py').write_text('')
    assert check_layers.main(lib, tmp_path/'CONTRIBUTING.md') == 1
    out = capsys.readouterr().out
    assert 'UPWARD   a -> b  (accel_sgd/a.py: line 2 import_module)' in out and 'd: accel_sgd/d.py is not in the map' in out


if __name__ == '__main__':
    t0 = time.time()
    if '--no-build' not in sys.argv:
        try: build_docs.build(quiet=True)
        except SystemExit as e: print(f'docs build FAILED: {e}'); sys.exit(1)
    t1 = time.time()
    import importlib.util
    if importlib.util.find_spec('playwright') is None: print('BROWSER TEST NOT RUN: Playwright is not installed (pip install -e ".[dev]")'); sys.exit(2)
    rc = pytest.main(['-q', '-p', 'no:cacheprovider', '--tb=short', '-rfE', '-s', '-W', 'ignore::DeprecationWarning', '--rootdir', str(ROOT),
                      __file__, *[a for a in sys.argv[1:] if a != '--no-build']])
    print(f'docs: build {t1 - t0:.1f} s, browser test {time.time() - t1:.1f} s; screenshots in {SCREENS.relative_to(ROOT)}/; pytest exit code {int(rc)}')
    sys.exit(int(rc))
