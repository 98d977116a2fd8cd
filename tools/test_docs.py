"""The docs site's checks, as pytest tests: each page opened in headless Chromium by Playwright.

    python tools/docs_test.py            builds the site, then runs these (what `make test` does)
    python tools/docs_test.py --no-build -k api      only the tests whose name matches `api`

The site in `_docs/` (built by tools/build_docs.py, which writes `_proc/_sphinx/manifest.json`:
the pages, their titles, API blocks and folds) is served on localhost by Python's http.server and
opened in Debian's Chromium through Playwright (`executable_path`: no browser is downloaded), at
1280 x 900 px. Each page is loaded once; its scripts, images, fonts and maths settle, a report is
read from the DOM, and a full-page screenshot goes to `_docs/_screens/<page>.png`. The tests
below, most of them one per page, check that report. The converters' own tests need no browser.
"""
from __future__ import annotations
import functools, http.server, importlib, inspect, json, re, shutil, sys, threading, time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402

SITE = build_docs.OUT
SCREENS = SITE/'_screens'
REPORT = SCREENS/'report.json'          # what tools/docs_test.py prints its summary from
WIDTH, HEIGHT = 1280, 900
MIN_CODE_CHARS = 110                    # a code block holds at least this many characters per line at 1280 px
                                        # (the course's lines run to ~110 characters)
_manifest_file = build_docs.SRC/'manifest.json'
if not _manifest_file.exists():
    pytest.exit(f'no docs site to test ({_manifest_file.relative_to(ROOT)} is missing): run `python tools/docs_test.py`', 2)
MANIFEST = json.loads(_manifest_file.read_text())
PAGES = [p['page'] for p in MANIFEST['pages']]
BY_PAGE = {p['page']: p for p in MANIFEST['pages']}
FOLD_PAGES = [p['page'] for p in MANIFEST['pages'] if p.get('folds')]
API_PAGES = [p['page'] for p in MANIFEST['pages'] if p['api']]
CALLABLES = [s for s in MANIFEST['exported'] if s['kind'] != 'data']
METHODS = [m for s in CALLABLES for m in s.get('methods', [])]
FAILED_PAGES = {build_docs.page_name(Path(nb), {}) + '.html' for nb in MANIFEST.get('failed', {})}


def chromium() -> str | None:
    import os
    for c in [os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']:
        if c and (p := shutil.which(c)): return p
    return None


def norm(s: str) -> str:
    "Titles compared as text: code marks and bold/italic stars dropped, smart quotes and dashes made plain, spaces squeezed."
    s = (s or '').translate(str.maketrans({'‘': "'", '’': "'", '“': '"', '”': '"', '–': '-', '—': '-'}))
    return re.sub(r'\s+', ' ', re.sub(r'-{2,}', '-', re.sub(r'[`*]', '', s))).strip()


# --------------------------------------------------------------------------------------------
# The browser, the server, one report per page
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope='session')
def base_url():
    "The site served by Python's http.server on a free localhost port, in a thread."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        def handle_error(self, request, client_address): pass   # a browser dropping a connection is not news
    server = Server(('127.0.0.1', 0), functools.partial(Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}/'
    server.shutdown()


@pytest.fixture(scope='session')
def browser():
    "Debian's Chromium driven by Playwright; scrollbars drawn as a reader sees them."
    exe = chromium()
    if not exe: pytest.exit('no Chromium here: `make browser` installs Debian\'s (as root), or set $CHROMIUM', 2)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
                              ignore_default_args=['--hide-scrollbars'])
        yield b
        b.close()


@pytest.fixture(scope='session')
def page(browser):
    pg = browser.new_page(viewport={'width': WIDTH, 'height': HEIGHT})
    yield pg
    pg.close()


# Runs in the page once it has loaded: waits for the maths, the images and the fonts, then reports.
PAGE_REPORT_JS = (Path(__file__).parent/'docs_report.js').read_text(encoding='utf-8')


class Reports:
    "Opens each page once (lazily, the first time a test asks for it) and keeps what it found."
    def __init__(self, page, base):
        self.page, self.base, self.done, self.broken, self.cdp = page, base, {}, {}, None
        SCREENS.mkdir(parents=True, exist_ok=True)
        for old in SCREENS.glob('*.png'): old.unlink()      # this run's screenshots only (folders such as before/ stay)

    def __call__(self, name: str) -> dict:
        if name in self.done: return self.done[name]
        if name in self.broken: pytest.fail(f'{name} could not be opened: {self.broken[name]}', pytrace=False)
        try: return self._open(name)
        except Exception as e:      # reported once per test, opened once
            self.broken[name] = f'{type(e).__name__}: {str(e).splitlines()[0]}'
            raise

    def _open(self, name: str) -> dict:
        pg, origin, events = self.page, self.base.rstrip('/'), {'outside': [], 'http': [], 'failed': [], 'errors': []}
        def on_request(r):
            if not r.url.startswith(origin) and not r.url.startswith(('data:', 'blob:', 'about:')): events['outside'].append(r.url)
        def on_response(r):
            if r.status >= 400: events['http'].append(f'HTTP {r.status} for {r.url}')
        def on_failed(r):
            if r.failure and 'ERR_ABORTED' not in r.failure: events['failed'].append(f'{r.url}: {r.failure}')
        def on_error(e): events['errors'].append(str(e))
        handlers = [('request', on_request), ('response', on_response), ('requestfailed', on_failed), ('pageerror', on_error)]
        for ev, h in handlers: pg.on(ev, h)
        t0 = time.time()
        try:
            resp = pg.goto(self.base + name, wait_until='load', timeout=180_000)
            t_load = time.time()
            rep = pg.evaluate(PAGE_REPORT_JS)
            rep['load_s'], t_report = round(t_load - t0, 2), time.time()
            rep['status'] = resp.status if resp else None
            rep['screenshot'] = str((SCREENS/(Path(name).stem + '.png')).relative_to(ROOT))
            try: self.screenshot(ROOT/rep['screenshot'], rep['height'])
            except Exception as e: rep['screenshot_error'] = f'{type(e).__name__}: {str(e).splitlines()[0]}'
            rep['report_s'], rep['screenshot_s'] = round(t_report - t_load, 2), round(time.time() - t_report, 2)
        finally:
            for ev, h in handlers: pg.remove_listener(ev, h)
        rep.update(events, seconds=round(time.time() - t0, 2))
        self.done[name] = rep
        return rep

    def screenshot(self, path: Path, height: int):
        """The whole page as a PNG. Chromium's own capture, with its fast PNG encoding (Playwright's
        `full_page=True` takes twice as long on the course's 50,000 px pages)."""
        import base64
        if self.cdp is None: self.cdp = self.page.context.new_cdp_session(self.page)
        shot = self.cdp.send('Page.captureScreenshot', {
            'format': 'png', 'optimizeForSpeed': True, 'captureBeyondViewport': True,
            'clip': {'x': 0, 'y': 0, 'width': WIDTH, 'height': min(height, 80_000), 'scale': 1}})
        path.write_bytes(base64.b64decode(shot['data']))

    def save(self):
        keep = ('title', 'height', 'mjx', 'seconds', 'load_s', 'report_s', 'screenshot_s', 'screenshot')
        summary = {n: {**{k: r.get(k) for k in keep}, 'images': len(r['images']), 'links': len(r['links']),
                       'api': len(r['api']), 'folds': len(r['folds']), 'scrolling_code': len(r['scrolling_code'])}
                   for n, r in self.done.items()}
        REPORT.write_text(json.dumps(summary, indent=1))


@pytest.fixture(scope='session')
def report(page, base_url):
    r = Reports(page, base_url)
    yield r
    r.save()


@functools.lru_cache(maxsize=None)
def ids_in(html_file: Path) -> frozenset:
    return frozenset(re.findall(r'\bid="([^"]+)"', html_file.read_text(encoding='utf-8', errors='replace')))


def lib_object(module: str, qualname: str):
    "The library's object (`accel_sgd.learner`, `Learner.fit`), or None when it cannot be imported."
    try:
        obj = importlib.import_module(module)
        for a in qualname.split('.'): obj = getattr(obj, a)
        return obj
    except Exception: return None


def fmt(items, n=8) -> str:
    items = list(items)
    return '\n    ' + '\n    '.join(map(str, items[:n])) + (f'\n    ... and {len(items) - n} more' if len(items) > n else '')


# --------------------------------------------------------------------------------------------
# The site as a whole
# --------------------------------------------------------------------------------------------
def test_every_notebook_has_a_page():
    assert not MANIFEST.get('failed'), 'nbdev could not process, so there is no page for:' + fmt(
        f'{nb}: {err}' for nb, err in MANIFEST['failed'].items())


def test_sidebar_lists_every_page_in_course_order(report):
    want = [norm(p['title']) for p in MANIFEST['pages']]
    assert [norm(t) for t in report('index.html')['sidebar']] == want


def test_search_finds_learner(page, base_url):
    page.goto(base_url + 'search.html?q=Learner', wait_until='load')
    page.wait_for_function("document.querySelectorAll('#search-results li, ul.search li').length > 0", timeout=20_000)


@pytest.mark.parametrize('sym', CALLABLES, ids=lambda s: f"{s['module'].split('.')[-1]}.{s['name']}")
def test_exported_symbol_has_api_block(sym, report):
    "Every function and class in a module's `__all__` has its block (heading, signature, source link) where _modidx.py points."
    assert sym['doc'], f"{sym['module']}.{sym['name']} is exported but has no doc link in _modidx.py (run nbdev_export)"
    page, _, anchor = sym['doc'].partition('#')
    if page in FAILED_PAGES: pytest.skip(f'{page} has no page (see test_every_notebook_has_a_page)')
    assert page in BY_PAGE, f"_modidx.py links {sym['name']} to {page}, which the site does not have"
    block = next((a for a in report(page)['api'] if a['id'] == anchor), None)
    assert block, f"no API block at {sym['doc']} (is its show_doc hidden, or the cell not exported?)"
    assert block['heading'] == sym['name']
    assert block['source'] and '/blob/' in block['source'], 'its API block has no link to the source'


@pytest.mark.parametrize('meth', METHODS, ids=lambda m: m['name'])
def test_public_method_has_api_block(meth, report):
    "Each documented public method of an exported class has its own block (`Class.method`), with a parameter table."
    assert meth['doc'], f"{meth['name']} has no doc link in _modidx.py (run nbdev_export)"
    page, _, anchor = meth['doc'].partition('#')
    if page in FAILED_PAGES: pytest.skip(f'{page} has no page (see test_every_notebook_has_a_page)')
    block = next((a for a in report(page)['api'] if a['id'] == anchor), None)
    assert block, f"no API block for {meth['name']} at {meth['doc']}"
    assert block['heading'] == meth['name']


@pytest.mark.parametrize('name', ['Learner.fit', 'Learner.lr_find', 'RecorderCB.plot_loss', 'Optimizer.step'])
def test_methods_a_user_calls_are_documented(name, report):
    "The methods the course has its readers call: each a block with a parameter table (Type / Default / Details)."
    meth = next((m for m in METHODS if m['name'] == name), None)
    assert meth, f'{name} is not a documented public method of an exported class (no docstring?)'
    page = meth['doc'].partition('#')[0] if meth['doc'] else None
    if page in FAILED_PAGES: pytest.skip(f'{page} has no page (see test_every_notebook_has_a_page)')
    block = next((a for a in report(page)['api'] if a['heading'] == name), None) if page else None
    assert block, f'no API block headed {name}'
    assert block['table_head'][-1:] == ['Details'], f'{name}: no parameter table (Type / Default / Details): {block["table_head"]}'


# --------------------------------------------------------------------------------------------
# Each page
# --------------------------------------------------------------------------------------------
pages = pytest.mark.parametrize('name', PAGES)


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
    origin, bad = base_url.rstrip('/'), []
    for href in report(name)['links']:
        if not href.startswith(origin): continue
        u = urlsplit(href)
        f = SITE/(unquote(u.path).lstrip('/') or 'index.html')
        if f.is_dir(): f = f/'index.html'
        if not f.exists(): bad.append(f'missing page: {href[len(origin):]}')
        elif u.fragment and f.suffix == '.html' and unquote(u.fragment) not in ids_in(f):
            bad.append(f'missing anchor: {href[len(origin):]}')
    assert not bad, fmt(sorted(set(bad)))


@pages
def test_other_libraries_names_link_to_their_docs(name, report):
    "\"PyTorch's `SGD`\" and `torch.optim.SGD` do not link to this library's own `SGD`."
    bad = report(name)['foreign_internal']
    assert not bad, 'a name of another library links into this site:' + fmt(bad)


@pages
def test_notebook_was_committed_with_outputs(name):
    p = BY_PAGE[name]
    assert not (p.get('code_cells', 0) >= 3 and p.get('outputs', 0) == 0), \
        f"{p['notebook']} has {p['code_cells']} code cells and no stored output: run `tools/run_nb.sh nbs/{p['notebook']}`"
    assert not p.get('silent_prints'), (f"cells of {p['notebook']} call print() but have no stored output "
                                        f"(run `tools/run_nb.sh nbs/{p['notebook']}`):" + fmt(p['silent_prints']))


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
    "No markdown link (`[`name`](page.html#name)`) inside a code block: nbdev's links stay out of code."
    bad = report(name)['markdown_in_code']
    assert not bad, 'code blocks that show markdown links:' + fmt(bad)


@pages
def test_page_does_not_scroll_sideways(name, report):
    rep = report(name)
    assert rep['scroll_width'] <= rep['inner_width'] + 1, \
        f"the page is {rep['scroll_width']} px wide in a {rep['inner_width']} px window"


@pages
def test_code_lines_never_wrap(name, report):
    """A code line is never folded onto the next (it would restart at column 0 and read as wrong
    indentation): every code block and text output is `white-space: pre`, a block wider than
    the column scrolls, with its scrollbar drawn, and the column holds at least
    MIN_CODE_CHARS characters at 1280 px, so that few blocks need to scroll."""
    rep = report(name)
    assert not rep['wrapping_code'], 'code blocks whose long lines wrap:' + fmt(rep['wrapping_code'])
    hidden = [c['first'] for c in rep['scrolling_code'] if not c['scrollbar']]
    assert not hidden, 'code blocks that hide their long lines with no scrollbar drawn:' + fmt(hidden)
    if rep['code_chars'] is not None:
        assert rep['code_chars'] >= MIN_CODE_CHARS, f"code blocks hold {rep['code_chars']} characters per line"


@pages
def test_nothing_is_cut_off(name, report):
    "Tables, images, maths and outputs fit in the column or scroll in a box that draws its scrollbar."
    bad = report(name)['cut_off']
    assert not bad, 'content wider than the column, cut off or without a scrollbar:' + fmt(bad)


@pages
def test_no_stray_reprs(name, report):
    "No `<matplotlib.legend.Legend at 0x...>`, `Text(0.5, 1.0, ...)` in the outputs: a plot's last line ends with `;`."
    bad = report(name)['stray_reprs']
    stripped = BY_PAGE[name].get('stripped_reprs', [])
    assert not bad, 'outputs that show the repr of a plotting call:' + fmt(bad)
    if stripped:    # left out of the page by the build; the notebook should not make them
        import warnings
        warnings.warn(f"{BY_PAGE[name]['notebook']}: {len(stripped)} cell(s) print a plot's repr beside it "
                      f"(left out of the page): first {stripped[0]['first_line']!r}")


@pages
def test_api_blocks_have_real_signatures(name, report):
    """Each API block shows a signature (`def`, `class`) with no comment in it (the docments are in
    the table), and, for the library's objects, the parameters `inspect.signature` gives them."""
    rep, bad = report(name), []
    apis = {a['anchor']: a for a in BY_PAGE[name]['api']}
    for block in rep['api']:
        sig = block['signature'].strip()
        if not sig.startswith(('def ', 'class ', 'async def ')): bad.append(f"#{block['id']}: no signature: {sig[:60]!r}"); continue
        if re.search(r'\s#\s', sig): bad.append(f"#{block['id']}: a comment inside the signature: {sig[:80]!r}")
        names = signature_names(apis.get(block['id']))
        if names is None: continue
        inner = sig.split('(', 1)[1].rsplit(')', 1)[0] if '(' in sig else ''
        shown = [m.group(0) for part in split_params(inner) if (m := re.match(r'\*{0,2}\w+', part.strip()))]
        if not names and sig.startswith('class ') and re.fullmatch(r'[\w.]+(, [\w.]+)*', inner.strip() or 'x'):
            continue      # `class CancelFit(Exception)`: Python knows no signature; its bases are shown
        if shown != names: bad.append(f"#{block['id']}: the signature shows {shown}, the object takes {names}")
    assert not bad, fmt(bad)


def split_params(inner: str) -> list[str]:
    "A signature's parameter list split at its top-level commas (not those inside brackets or quotes)."
    parts, depth, quote, cur = [], 0, None, ''
    for ch in inner:
        if quote: quote = None if ch == quote else quote
        elif ch in '\'"': quote = ch
        elif ch in '([{': depth += 1
        elif ch in ')]}': depth -= 1
        elif ch == ',' and depth == 0: parts.append(cur); cur = ''; continue
        cur += ch
    return [p for p in parts + [cur] if p.strip()]


@pages
def test_api_blocks_link_to_their_source(name, report):
    bad = [f"#{b['id']}" for b in report(name)['api'] if not (b['source'] and '/blob/' in b['source'])]
    assert not bad, 'API blocks with no link to the source:' + fmt(bad)


def signature_names(meta: dict | None) -> list[str] | None:
    "The parameters `inspect.signature` gives the library's object behind an API block (None: unknown)."
    obj = lib_object(*meta['object']) if meta and meta.get('object') else None
    if obj is None: return None
    try: params = list(inspect.signature(obj).parameters.values())
    except (ValueError, TypeError): return []
    if meta.get('method') and not inspect.isclass(obj) and params and params[0].name in ('self', 'cls'): params = params[1:]
    return [('*' if p.kind == p.VAR_POSITIONAL else '**' if p.kind == p.VAR_KEYWORD else '') + p.name for p in params]


@pages
def test_api_blocks_have_parameter_tables(name, report):
    "A block of a callable with parameters has a table (Type / Default / Details), one row per parameter."
    rep, bad = report(name), []
    apis = {a['anchor']: a for a in BY_PAGE[name]['api']}
    for block in rep['api']:
        names = signature_names(apis.get(block['id']))
        if names is None:    # not the library's: the signature says whether there are parameters
            inner = block['signature'].split('(', 1)[1].rsplit(')', 1)[0].strip() if '(' in block['signature'] else ''
            if not inner or block['signature'].startswith('class '): continue
        elif not names: continue
        if block['table_head'][-1:] != ['Details']: bad.append(f"#{block['id']}: no parameter table"); continue
        rows = [r for r in block['table_rows'] if r != 'Returns']
        if names is not None and rows != names: bad.append(f"#{block['id']}: table rows {rows}, parameters {names}")
    assert not bad, fmt(bad)


@pytest.mark.parametrize('name', FOLD_PAGES or [pytest.param(None, marks=pytest.mark.skip(reason='no page folds anything'))])
def test_folds_are_closed(name, report):
    """`#| code-fold: true` cells and `<!-- fold -->` markdown cells are <details>, closed by
    default, their content hidden; a cell's output is inside its fold unless `#| fold-output: false`."""
    rep, want = report(name), BY_PAGE[name]['folds']
    folds = rep['folds']
    assert len(folds) >= len(want), f'{len(want)} folds in the notebook, {len(folds)} on the page'
    assert not [f for f in folds if f['open']], 'folds open by default:' + fmt(f['summary'] for f in folds if f['open'])
    assert not [f for f in folds if f['content_visible']], 'folded content shown:' + fmt(f['summary'] for f in folds if f['content_visible'])
    summaries = [f['summary'] for f in folds]
    for w in want: assert w['summary'] in summaries, f"no fold labelled {w['summary']!r} (for {w['first']!r})"
    for w in [w for w in want if w['kind'] == 'code+output']:
        assert any(f['summary'] == w['summary'] and f['has_output'] for f in folds), f"{w['first']!r}: its output is not folded with it"


def test_contents_drawer_opens(page, base_url):
    "At 1280 px the page's contents are in a drawer: the header's button opens it, with the page's sections."
    target = next((p for p in PAGES if p != 'index.html' and p not in FAILED_PAGES), 'index.html')
    page.goto(base_url + target, wait_until='load')
    page.locator('button.secondary-toggle:visible').first.click()
    page.wait_for_selector('dialog#pst-secondary-sidebar-modal[open] nav.page-toc a', state='visible', timeout=5000)


@pages
def test_screenshot_taken(name, report):
    rep = report(name)
    assert not rep.get('screenshot_error'), rep.get('screenshot_error')
    shot = ROOT/rep['screenshot']
    assert shot.exists() and shot.stat().st_size > 1000


# --------------------------------------------------------------------------------------------
# The converters (no browser)
# --------------------------------------------------------------------------------------------
def test_callouts_and_rules():
    from build_docs import quarto_to_myst, gfm_alert
    assert quarto_to_myst('::: {.callout-tip}\n## Title\nBody `x`.\n:::').strip() == ':::{admonition} Title\n:class: tip\nBody `x`.\n:::'
    md = quarto_to_myst(':::{.callout-warning}\nA\n\n::: {.callout-note}\nB\n:::\n:::')
    assert re.sub(r'\n{2,}', '\n\n', md.strip()) == '::::{warning}\nA\n\n:::{note}\nB\n:::\n\n::::'
    assert quarto_to_myst('[a](x.ipynb#f){target="_blank"}', lambda u: u.replace('x.ipynb', 'x.html')) == '[a](x.html#f)'
    assert quarto_to_myst('Text\n\n---\n\nMore') == 'Text\n\n<hr class="rule">\n\n\nMore'
    assert quarto_to_myst('Title\n---') == 'Title\n---'
    assert quarto_to_myst('```\n::: {.callout-note}\n```') == '```\n::: {.callout-note}\n```'
    assert quarto_to_myst('::: {.callout-note}\nX\n:::', admonition=gfm_alert).strip() == '> [!NOTE]\n> X'


def test_maths_detection():
    from build_docs import has_math, quarto_to_myst
    assert [has_math(s) for s in ['$a_i$', '$$x$$', '`$HOME`', 'costs $5 and $10', '```\n$x$\n```', '\\begin{align}']] == \
        [True, True, False, False, False, True]
    assert quarto_to_myst('size $B$, then `$x$,` and $5, $a$') == 'size <span class="nowrap">$B$,</span> then `$x$,` and $5, $a$'


def test_one_directive_parser():
    "tools/run_nb.py and tools/build_docs.py read `#|` lines with the same function, nbdev's rule for which lines they are."
    import nb_directives, run_nb
    assert build_docs.split_directives is nb_directives.split_directives and run_nb.directives is nb_directives.directives
    assert nb_directives.split_directives('#| echo: false\n#|output: asis\nshow_doc(f)') == ({'echo': 'false', 'output': 'asis'}, 'show_doc(f)')
    assert nb_directives.split_directives('#| code-summary: "Show the solution"\n#| code-fold: true\nx = 1') == \
        ({'code-summary': 'Show the solution', 'code-fold': 'true'}, 'x = 1')
    assert nb_directives.split_directives('%%time\n#| slow\nx') == ({'slow': ''}, '%%time\nx')
    assert nb_directives.directives('#| export core\ndef f(): pass') == {'export': 'core'}
    assert nb_directives.directives('x = 1\n#| slow') == {}


def test_code_keeps_no_links():
    from build_docs import unlink_code
    md = '```python\ndef f(x, # see [`g`](a.html#g)\n```\nSee [`g`](a.html#g).'
    assert unlink_code(md) == '```python\ndef f(x, # see g\n```\nSee [`g`](a.html#g).'


def test_foreign_names():
    from build_docs import foreign_names
    assert foreign_names("the default is fastai's\n[`Adam`](a.html#adam).") == "the default is fastai's\n`Adam`."
    out = foreign_names("PyTorch's [`SGD`](accel_sgd.html#sgd) and torch's `OneCycleLR`, fastai's [`Learner`](l.html#learner), `torch.optim.AdamW`, our [`SGD`](accel_sgd.html#sgd)")
    assert "PyTorch's [`SGD`](https://docs.pytorch.org/docs/stable/generated/torch.optim.SGD.html)" in out
    assert "torch's [`OneCycleLR`](https://docs.pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html)" in out
    assert "fastai's `Learner`," in out
    assert '[`torch.optim.AdamW`](https://docs.pytorch.org/docs/stable/generated/torch.optim.AdamW.html)' in out
    assert out.endswith('our [`SGD`](accel_sgd.html#sgd)')
    assert foreign_names("```\nPyTorch's `SGD`\n```") == "```\nPyTorch's `SGD`\n```"


def test_api_block_headings_and_links():
    "A block's heading keeps its underscores; a link to a name with no block goes to its class's block, or none."
    from build_docs import api_block, method_links_to_class
    md, info = api_block('---\n\n### __getattr__\n\n```python\ndef __getattr__(name)\n```\n\n---\n\n#### C.run\n\n```python\ndef run()\n```\n')
    assert md.startswith('### \\_\\_getattr\\_\\_\n') and [i['anchor'] for i in info] == ['__getattr__', 'c.run']
    assert info[1]['level'] == 4 and info[1]['method']
    api, syms = {'a.html': {'c'}}, {'a.html': {'c', 'c.go', 'helper'}}
    assert method_links_to_class('[`C.go`](a.html#c.go) [`helper`](a.html#helper) [`C`](a.html#c)', api, 'w', syms) == \
        '[`C.go`](a.html#c) `helper` [`C`](a.html#c)'


def test_folds_convert():
    import nbformat
    from build_docs import convert_notebook
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell('<!-- fold: Show the answer to 3 -->\nBecause $x$.'),
        nbformat.v4.new_code_cell('#| code-fold: true\n#| code-summary: "Show the solution"\nprint(1)',
                                  outputs=[nbformat.v4.new_output('stream', name='stdout', text='1\n')]),
        nbformat.v4.new_code_cell('#| code-fold: true\n#| fold-output: false\nassert True\nprint(2)',
                                  outputs=[nbformat.v4.new_output('stream', name='stdout', text='2\n')])])
    out, info = convert_notebook(nb, lambda u: u, set(), print)
    assert out.cells[0].source.startswith('<details class="admonition hide above-input fold">') and 'Because' in out.cells[0].source
    assert out.cells[1].metadata['tags'] == ['hide-cell'] and out.cells[1].metadata['mystnb']['code_prompt_show'] == 'Show the solution'
    assert out.cells[1].metadata['mystnb']['code_prompt_hide'] == 'Hide the solution'
    assert out.cells[2].metadata['tags'] == ['hide-input']
    assert [f['kind'] for f in info['folds']] == ['markdown', 'code+output', 'code']


def test_stray_reprs_left_out_beside_plots():
    import nbformat
    from build_docs import convert_notebook
    png = nbformat.v4.new_output('display_data', data={'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure size 640x480 with 1 Axes>'})
    legend = nbformat.v4.new_output('execute_result', data={'text/plain': '<matplotlib.legend.Legend at 0x7f3>'}, execution_count=1)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('ax.plot(x); ax.legend()', outputs=[legend, png]),
                                         nbformat.v4.new_code_cell('x = 1\nx', outputs=[nbformat.v4.new_output(
                                             'execute_result', data={'text/plain': '1'}, execution_count=2)])])
    out, info = convert_notebook(nb, lambda u: u, set(), lambda m: None)
    assert [o.output_type for o in out.cells[0].outputs] == ['display_data']
    assert len(out.cells[1].outputs) == 1 and info['stripped_reprs'][0]['repr'].startswith('<matplotlib.legend.Legend')


SAMPLE = """
from typing import NamedTuple
def f(a:int, # the a
      b=2,
      *rest, # more
      **kw, # the last one
     ) -> str: # what comes back
    "Doc of f."
def g(x, y=1, # the y
      # the z, on the line before it
      z=3):
    "Doc of g."
class NT(NamedTuple):
    "A tuple."
    x: int  # the x
    y: float = 1.0
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
"""


def test_api_renderer(tmp_path, monkeypatch):
    "Signatures, docments, tables and methods from tools/api_doc.py, on a small module."
    import api_doc, torch
    (tmp_path/'sample_api.py').write_text(SAMPLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    m = importlib.import_module('sample_api')
    assert api_doc.signature_line(m.E) == 'class E(Exception)'
    assert api_doc.signature_line(m.NT) == 'class NT(x: int, y: float = 1.0)'
    assert api_doc.signature_line(m.f) == 'def f(a: int, b=2, *rest, **kw) -> str'
    assert api_doc.signature_line(m.C.run, 'C.run', method=True) == 'def run(k: int)'
    assert api_doc.param_comments(m.f) == {'a': 'the a', 'rest': 'more', 'kw': 'the last one', 'return': 'what comes back'}
    assert api_doc.param_comments(m.g) == {'y': 'the y', 'z': 'the z, on the line before it'}
    assert api_doc.field_comments(m.NT) == {'x': 'the x'}
    assert api_doc.comments_of(m.C) == {'n': 'how many'}
    assert [n for n, _ in api_doc.own_methods(m.C)] == ['run']
    assert api_doc.fmt_default(torch.optim.SGD) == 'torch.optim.SGD'
    assert api_doc.fmt_default(torch.nn.functional.cross_entropy) == 'F.cross_entropy'
    table = api_doc.param_table(m.f)
    assert table.split('\n')[0] == '|  | **Type** | **Default** | **Details** |'
    assert '| \\*\\*kw |  |  | the last one |' in table and table.endswith('| **Returns** | `str` |  | what comes back |')
    long = api_doc.format_signature('def', 'g', [f'p{i}: int = {i}' for i in range(12)], 'None')
    assert long.startswith('def g(\n    p0: int = 0,\n') and long.endswith('\n) -> None')
