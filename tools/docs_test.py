"""Build the docs site and test it in a real browser (headless Chromium): run by `make test`.

    python tools/docs_test.py [--no-build]     (--no-build: test the site as it is)

The site (`_docs/`, built by tools/build_docs.py) is served on localhost and every page is opened
in headless Chromium, driven over the DevTools protocol (`--remote-debugging-pipe`: no driver,
no extra package). For each page, once its scripts, images, fonts and maths have settled:
  - it loads (HTTP 200) and has its notebook's title, as the <title> and as its one <h1>;
  - every image decodes (`naturalWidth > 0`);
  - no internal link leads to a missing page or a missing #anchor;
  - every request stays on localhost (nothing from a CDN) and succeeds; no script throws;
  - its notebook was committed with its outputs (no output at all, or a cell that calls print()
    with no stored output, fails);
  - the maths is typeset: pages with LaTeX hold MathJax output, none holds a MathJax error or
    raw `$$`, `\\(`, `\\[` in its text; no Quarto syntax (`:::`, `{target=`, `#|`) is left;
  - the page does not scroll sideways at 1280 px, and no code block hides long lines behind a
    scrollbar (they wrap);
  - a full-page screenshot goes to `_docs/_screens/<page>.png`.
And for the site: every function and class in a module's `__all__` has its API block (heading,
signature, source link) at the address `_modidx.py` gives it; the sidebar lists every page in
course order; the search page finds `Learner`.

Exit status: 0 all passed; 1 a check failed; 2 the browser test was NOT run (no Chromium here):
it never passes silently. Chromium: `make browser` installs Debian's package (as root); or set
$CHROMIUM to a Chrome/Chromium binary.
"""
from __future__ import annotations
import base64, fcntl, functools, http.server, json, os, re, select, shutil, subprocess, sys, tempfile, threading, time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402

SITE = build_docs.OUT
SCREENS = SITE/'_screens'
WIDTH, HEIGHT = 1280, 900
MAX_SHOT_HEIGHT = 80000


def find_chromium() -> str | None:
    for c in [os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome']:
        if c and (p := shutil.which(c)): return p
    return None


class Chromium:
    "Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4 of the child)."

    def __init__(self, exe: str):
        self.profile = tempfile.mkdtemp(prefix='docs-test-chromium-')
        # The pipe ends the child keeps go to fds 3 and 4 in the child only (dup2 in preexec_fn);
        # in the parent they are moved above 10 first, so that neither dup2 clobbers the other.
        high = lambda fd: (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10), os.close(fd))[0]
        to_child_r, self._to_child = map(high, os.pipe())
        self._from_child, from_child_w = map(high, os.pipe())

        def fds():   # in the child: fd 3 is what it reads, fd 4 what it writes (dup2 makes them inheritable)
            os.dup2(to_child_r, 3); os.dup2(from_child_w, 4)
        flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
                 '--no-first-run', '--no-default-browser-check', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--disable-extensions', '--mute-audio',
                 '--hide-scrollbars', f'--user-data-dir={self.profile}', f'--window-size={WIDTH},{HEIGHT}',
                 '--remote-debugging-pipe', 'about:blank']
        self.proc = subprocess.Popen([exe, *flags], preexec_fn=fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r); os.close(from_child_w)
        self._buf, self._id, self.events = b'', 0, []
        self.version = self.call('Browser.getVersion', timeout=30)['product']

    def _read(self, timeout):
        "Next message from the browser, or None after `timeout` seconds."
        end = time.time() + timeout
        while b'\0' not in self._buf:
            left = end - time.time()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]: return None
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk: raise RuntimeError('Chromium closed the DevTools pipe (it crashed or exited)')
            self._buf += chunk
        msg, self._buf = self._buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        self._id += 1
        msg = {'id': self._id, 'method': method, 'params': params or {}}
        if session: msg['sessionId'] = session
        os.write(self._to_child, json.dumps(msg).encode() + b'\0')
        end = time.time() + timeout
        while True:
            m = self._read(max(0.0, end - time.time()))
            if m is None: raise TimeoutError(f'{method}: no answer in {timeout} s')
            if m.get('id') == self._id:
                if 'error' in m: raise RuntimeError(f"{method}: {m['error'].get('message')}")
                return m.get('result', {})
            if 'method' in m: self.events.append(m)

    def wait_event(self, method, session, timeout=30):
        "Wait for an event (kept in self.events too)."
        end = time.time() + timeout
        seen = len(self.events)
        while True:
            for m in self.events[seen:]:
                if m.get('method') == method and m.get('sessionId') == session: return m
            seen = len(self.events)
            m = self._read(max(0.0, end - time.time()))
            if m is None: raise TimeoutError(f'no {method} in {timeout} s')
            if 'method' in m: self.events.append(m)

    def close(self):
        try: self.call('Browser.close', timeout=5)
        except Exception: pass
        try: self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try: os.close(fd)
            except OSError: pass
        shutil.rmtree(self.profile, ignore_errors=True)


def serve(directory: Path):
    "A quiet static file server for `directory` on localhost, in a thread; returns (server, base url)."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    handler = functools.partial(Quiet, directory=str(directory))
    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        def handle_error(self, request, client_address): pass   # a browser dropping a connection is not news
    server = Server(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f'http://127.0.0.1:{server.server_address[1]}/'


# Runs in the page once it has loaded: waits for the maths, the images and the fonts, then reports.
PAGE_REPORT_JS = r'''
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  await document.fonts.ready;
  await sleep(50);
  const skip = 'PRE,CODE,SCRIPT,STYLE,MJX-CONTAINER,MJX-ASSISTIVE-MML,TEXTAREA,NOSCRIPT';
  const texts = [];
  const walker = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(n) { for (let e = n.parentElement; e; e = e.parentElement) if (skip.includes(e.tagName)) return NodeFilter.FILTER_REJECT;
                    return NodeFilter.FILTER_ACCEPT; }});
  while (walker.nextNode()) texts.push(walker.currentNode.nodeValue);
  const text = texts.join(' ');
  const h1s = [...document.querySelectorAll('article h1')].map(h => h.textContent.replace(/[#¶]\s*$/, '').trim());
  const api = [...document.querySelectorAll('.api-block')].map(block => {
    const sec = block.closest('section');
    const heading = sec ? sec.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4, :scope > h5, :scope > h6') : null;
    const src = block.querySelector('a.api-source');
    return {id: sec ? sec.id : null, heading: heading ? heading.textContent.replace(/[#¶]\s*$/, '').trim() : null,
            signature: (block.querySelector('pre') || {}).textContent || '',
            source: src ? src.href : null, text: block.innerText.length};
  });
  const codeDirectives = [...document.querySelectorAll('div.cell pre')].filter(p => /^\s*#\s*\|/m.test(p.textContent)).length;
  return JSON.stringify({
    title: document.title, h1s, text_sample: text.slice(0, 200),
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, h: i.naturalHeight})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    mjx: document.querySelectorAll('mjx-container').length,
    mjx_errors: document.querySelectorAll('mjx-merror').length,
    raw_math: (text.match(/\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{/g) || []).length,
    raw_math_at: (text.match(/.{0,40}(\$\$|\\\(|\\\[|\\begin\{).{0,40}/) || [''])[0],
    stray_dollars: [...document.querySelectorAll('mjx-container')].filter(m => {
        const before = m.closest('.math') ? m.closest('.math').previousSibling : m.previousSibling;
        const after = m.closest('.math') ? m.closest('.math').nextSibling : m.nextSibling;
        return (before && before.nodeType === 3 && /\$\s*$/.test(before.nodeValue)) ||
               (after && after.nodeType === 3 && /^\s*[,.;:]?\$/.test(after.nodeValue)); })
      .map(m => (m.closest('p, li, td') || m).textContent.slice(0, 80)),
    leftovers: (text.match(/.{0,30}(:::|\{target=|\{\.callout|#\|\s|\{\{<|\|\s*:?-{3,}:?\s*\|).{0,30}/g) || []),
    code_directives: codeDirectives,
    api, sidebar: [...document.querySelectorAll('nav.bd-docs-nav a')].map(a => a.textContent.trim()),
    scroll_width: document.scrollingElement.scrollWidth, inner_width: window.innerWidth,
    hidden_code: [...document.querySelectorAll('article pre')].filter(p => p.scrollWidth > p.clientWidth + 2)
                   .map(p => p.textContent.trim().split('\n')[0].slice(0, 60)),
    height: Math.ceil(document.scrollingElement.scrollHeight),
  });
})()
'''


class Run:
    "One browser session over the site, collecting failures."

    def __init__(self, browser: Chromium, base: str):
        self.b, self.base, self.failures, self.reports = browser, base, [], {}
        target = self.b.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        self.s = self.b.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for m in ['Page.enable', 'Runtime.enable', 'Network.enable']: self.b.call(m, session=self.s)
        self.b.call('Emulation.setDeviceMetricsOverride',
                    {'width': WIDTH, 'height': HEIGHT, 'deviceScaleFactor': 1, 'mobile': False}, session=self.s)

    def fail(self, page, msg): self.failures.append(f'{page}: {msg}')

    def open(self, path: str, screenshot: bool = True) -> dict:
        self.b.events.clear()
        self.b.call('Page.navigate', {'url': self.base + path}, session=self.s)
        self.b.wait_event('Page.loadEventFired', self.s, timeout=60)
        res = self.b.call('Runtime.evaluate', {'expression': PAGE_REPORT_JS, 'awaitPromise': True,
                                               'returnByValue': True}, session=self.s, timeout=60)
        if 'exceptionDetails' in res:
            raise RuntimeError(f'{path}: the report script failed: {res["exceptionDetails"]}')
        rep = json.loads(res['result']['value'])
        origin = self.base.rstrip('/')
        urls = {}
        for ev in self.b.events:
            m, p = ev['method'], ev.get('params', {})
            if m == 'Network.requestWillBeSent':
                url = urls[p['requestId']] = p['request']['url']
                if not url.startswith(origin) and not url.startswith(('data:', 'blob:', 'about:')):
                    self.fail(path, f'requests {url} from outside the site (the docs must work offline)')
            elif m == 'Network.responseReceived' and p['response']['status'] >= 400:
                self.fail(path, f"HTTP {p['response']['status']} for {p['response']['url']}")
            elif m == 'Network.loadingFailed' and not p.get('canceled'):
                self.fail(path, f"failed to load {urls.get(p.get('requestId'), 'a resource')}: {p.get('errorText')}")
            elif m == 'Runtime.exceptionThrown':
                d = p['exceptionDetails']
                self.fail(path, f"a script threw: {d.get('exception', {}).get('description') or d.get('text')}")
        if screenshot:   # the whole page, laid out in a window as tall as the page
            h = min(rep['height'], MAX_SHOT_HEIGHT)
            self.b.call('Emulation.setDeviceMetricsOverride',
                        {'width': WIDTH, 'height': h, 'deviceScaleFactor': 1, 'mobile': False}, session=self.s)
            self.b.call('Runtime.evaluate', {'expression': 'new Promise(r => requestAnimationFrame(() => setTimeout(r, 100)))',
                                             'awaitPromise': True}, session=self.s)
            shot = self.b.call('Page.captureScreenshot', {'format': 'png', 'optimizeForSpeed': True}, session=self.s, timeout=120)
            self.b.call('Emulation.setDeviceMetricsOverride',
                        {'width': WIDTH, 'height': HEIGHT, 'deviceScaleFactor': 1, 'mobile': False}, session=self.s)
            SCREENS.mkdir(parents=True, exist_ok=True)
            (SCREENS/(Path(path).stem + '.png')).write_bytes(base64.b64decode(shot['data']))
        self.reports[path] = rep
        return rep

    def search(self, query: str, timeout=20) -> int:
        "Number of results the search page lists for `query`."
        self.open(f'search.html?q={query}', screenshot=False)
        end = time.time() + timeout
        while time.time() < end:
            r = self.b.call('Runtime.evaluate', {'expression':
                 "document.querySelectorAll('#search-results li, ul.search li').length", 'returnByValue': True}, session=self.s)
            n = r['result']['value']
            if n: return n
            time.sleep(0.2)
        return 0


def ids_in(html_file: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html_file.read_text(encoding='utf-8', errors='replace')))


def norm(s: str) -> str:
    "Titles compared as text: code marks and bold/italic stars dropped, smart quotes and dashes made plain, spaces squeezed."
    s = (s or '').translate(str.maketrans({'‘': "'", '’': "'", '“': '"', '”': '"', '–': '-', '—': '-'}))
    return re.sub(r'\s+', ' ', re.sub(r'-{2,}', '-', re.sub(r'[`*]', '', s))).strip()


def check_page(run: Run, page: dict, rep: dict, id_cache: dict):
    name, title = page['page'], norm(page['title'])
    if not norm(rep['title']).startswith(title):
        run.fail(name, f"<title> is {rep['title']!r}, expected the notebook's title {page['title']!r}")
    if [norm(h) for h in rep['h1s']] != [title]:
        run.fail(name, f"expected one <h1> {title!r}, found {rep['h1s']!r}")
    for img in rep['images']:
        if img['w'] <= 0: run.fail(name, f"image does not decode: {img['src'][:120]}")
    origin = run.base.rstrip('/')
    for href in rep['links']:
        if not href.startswith(origin): continue
        u = urlsplit(href)
        path = unquote(u.path).lstrip('/') or 'index.html'
        f = SITE/path
        if f.is_dir(): f = f/'index.html'
        if not f.exists():
            run.fail(name, f'link to a missing page: {href[len(origin):]}'); continue
        if u.fragment and f.suffix == '.html':
            if f not in id_cache: id_cache[f] = ids_in(f)
            if unquote(u.fragment) not in id_cache[f]:
                run.fail(name, f'link to a missing anchor: {href[len(origin):]}')
    if page.get('code_cells', 0) >= 3 and page.get('outputs', 0) == 0:
        run.fail(name, f"{page['notebook']} has {page['code_cells']} code cells and no stored output: "
                       f"run `tools/run_nb.sh nbs/{page['notebook']}` and commit it with its outputs")
    elif page.get('silent_prints'):
        n = len(page['silent_prints'])
        run.fail(name, f"{n} cell(s) of {page['notebook']} call print() but have no stored output "
                       f"(first: {page['silent_prints'][0]!r}): run `tools/run_nb.sh nbs/{page['notebook']}`")
    if page['math'] and rep['mjx'] == 0:
        run.fail(name, 'the notebook has LaTeX but the page has no typeset maths (no mjx-container)')
    if rep['mjx_errors']: run.fail(name, f"{rep['mjx_errors']} MathJax errors (bad LaTeX?)")
    if rep['raw_math']: run.fail(name, f"raw LaTeX delimiters left in the text: ...{rep['raw_math_at']}...")
    for s in rep['stray_dollars']: run.fail(name, f'a `$` is left beside typeset maths (unbalanced $ or $$?): {s!r}')
    for l in rep['leftovers']: run.fail(name, f'Quarto/markdown syntax shown as text: ...{l}...')
    if rep['code_directives']: run.fail(name, f"{rep['code_directives']} code cells still show `#|` directives")
    if rep['scroll_width'] > rep['inner_width'] + 1:
        run.fail(name, f"the page scrolls sideways: {rep['scroll_width']} px wide in a {rep['inner_width']} px window")
    for c in rep['hidden_code']: run.fail(name, f'a code block hides its long lines behind a scrollbar: {c!r}')
    for a in rep['api']:
        if not a['signature'].lstrip().startswith(('def ', 'class ', 'async def ')):
            run.fail(name, f"API block #{a['id']} has no signature")


def check_api(run: Run, manifest: dict):
    "Every exported function and class has its API block where _modidx.py's doc link points."
    missing_pages = {build_docs.page_name(Path(nb), {}) + '.html' for nb in manifest.get('failed', {})}
    blocks = {}
    for path, rep in run.reports.items():
        for a in rep['api']: blocks[(path, a['id'])] = a
    for sym in manifest['exported']:
        if sym['kind'] == 'data': continue    # constants: show_doc documents callables only
        where = f"{sym['module']}.{sym['name']}"
        if not sym['doc']:
            run.fail('API', f'{where} ({sym["kind"]}) is exported but has no doc link in _modidx.py (run nbdev_export)'); continue
        page, _, anchor = sym['doc'].partition('#')
        if page in missing_pages: continue    # its notebook failed: reported above
        a = blocks.get((page, anchor))
        if a is None:
            run.fail('API', f'{where}: no API block at {sym["doc"]} (is its show_doc hidden, or the cell not exported?)')
            continue
        if a['heading'] != sym['name']:
            run.fail('API', f"{where}: the block at {sym['doc']} is headed {a['heading']!r}")
        if not a['source'] or '/blob/' not in a['source']:
            run.fail('API', f'{where}: its API block has no link to the source')


def converter_selftest() -> list[str]:
    "The Quarto -> MyST conversions on small known inputs (no browser needed)."
    from build_docs import quarto_to_myst, tidy_signature, split_directives, has_math, gfm_alert
    problems = []
    def expect(got, want, what):
        if got != want: problems.append(f'converter: {what}: got {got!r}, expected {want!r}')
    warns = []
    md = quarto_to_myst('::: {.callout-tip}\n## Title\nBody `x`.\n:::', warn=warns.append)
    expect(md.strip(), ':::{admonition} Title\n:class: tip\nBody `x`.\n:::', 'titled callout')
    md = quarto_to_myst(':::{.callout-warning}\nA\n\n::: {.callout-note}\nB\n:::\n:::')
    expect(re.sub(r'\n{2,}', '\n\n', md.strip()), '::::{warning}\nA\n\n:::{note}\nB\n:::\n\n::::', 'nested callouts')
    expect(quarto_to_myst('[a](x.ipynb#f){target="_blank"}', lambda u: u.replace('x.ipynb', 'x.html')),
           '[a](x.html#f)', 'link attributes and target')
    expect(quarto_to_myst('Text\n\n---\n\nMore'), 'Text\n\n<hr class="rule">\n\n\nMore', 'horizontal rule')
    expect(quarto_to_myst('Title\n---'), 'Title\n---', 'setext heading left alone')
    expect(quarto_to_myst('```\n::: {.callout-note}\n```'), '```\n::: {.callout-note}\n```', 'code fences left alone')
    expect(quarto_to_myst('::: {.callout-note}\nX\n:::', admonition=gfm_alert).strip(), '> [!NOTE]\n> X', 'GitHub alert')
    expect(split_directives('#| echo: false\n#|output: asis\nshow_doc(f)'), ({'echo': 'false', 'output': 'asis'}, 'show_doc(f)'), 'directives')
    expect(tidy_signature('\ndef C(\n    args:VAR_POSITIONAL, kwargs:VAR_KEYWORD\n):\n\n', True), 'class C(*args, **kwargs)', 'class signature')
    expect(tidy_signature('def f(\n    \n)->int:', False), 'def f()->int:', 'empty signature')
    expect(tidy_signature('def f(\n    x:NoneType=None, # the x\n):', False), 'def f(\n    x=None, # the x\n):', 'docments kept')
    expect([has_math(s) for s in ['$a_i$', '$$x$$', '`$HOME`', 'costs $5 and $10', '```\n$x$\n```', '\\begin{align}']],
           [True, True, False, False, False, True], 'maths detection')
    expect(quarto_to_myst('size $B$, then `$x$,` and $5, $a$'), 'size <span class="nowrap">$B$,</span> then `$x$,` and $5, $a$',
           'maths kept with its punctuation')
    return problems


def main():
    args = sys.argv[1:]
    t0 = time.time()
    problems = converter_selftest()
    if problems:
        print('docs converter self-test FAILED:'); [print('   ', p) for p in problems]; return 1
    try:
        manifest = build_docs.build(quiet=True, keep_going=True) if '--no-build' not in args else \
            json.loads((build_docs.SRC/'manifest.json').read_text())
    except SystemExit as e:
        print(f'docs build FAILED: {e}'); return 1
    t_build = time.time() - t0
    exe = find_chromium()
    if not exe:
        print('\n' + '!' * 78 + '\nBROWSER TEST NOT RUN: no Chromium on this machine. The site was built but NOT tested.\n'
              'Install it with `make browser` (Debian\'s chromium, as root) or set $CHROMIUM to a Chrome binary.\n' + '!' * 78)
        return 2
    server, base = serve(SITE)
    browser = Chromium(exe)
    try:
        run = Run(browser, base)
        shutil.rmtree(SCREENS, ignore_errors=True)
        id_cache = {}
        for page in manifest['pages']:
            rep = run.open(page['page'])
            check_page(run, page, rep, id_cache)
            n_api = len(rep['api'])
            print(f"  {page['page']:<24} {len(rep['images']):>3} images {len(rep['links']):>4} links "
                  f"{rep['mjx']:>4} formulas {n_api:>3} API blocks  {rep['height']:>6} px tall")
        for nb, err in manifest.get('failed', {}).items():
            run.fail(nb, f'nbdev could not process it, so it has no page: {err}')
        check_api(run, manifest)
        index = run.reports.get('index.html', {})
        want = [norm(p['title']) for p in manifest['pages']]
        if [norm(t) for t in index.get('sidebar', [])] != want:
            run.fail('sidebar', f"lists {index.get('sidebar')}, expected every page in course order: {want}")
        if run.search('Learner') == 0: run.fail('search', 'search.html?q=Learner lists no results')
    finally:
        browser.close(); server.shutdown()
    n_sym = sum(s['kind'] != 'data' for s in manifest['exported'])
    print(f'docs: {len(manifest["pages"])} pages, {n_sym} exported functions/classes checked, in {browser.version}; '
          f'build {t_build:.1f} s, browser {time.time()-t0-t_build:.1f} s; screenshots in {SCREENS.relative_to(ROOT)}/')
    if run.failures:
        print(f'docs browser test FAILED ({len(run.failures)}):')
        for f in run.failures: print('   ', f)
        return 1
    print('docs browser test passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
