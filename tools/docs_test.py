"""Build the docs site and test it in a real browser: the last check `make test` runs (tools/check_nbs.py).

    python tools/docs_test.py [--no-build] [pytest options]     (--no-build: test the site as it is)

1. tools/build_docs.py builds the site into `_docs/` (a notebook nbdev cannot process is left
   out and reported by the tests).
2. pytest runs the checks in tools/test_docs.py: Playwright for Python drives Debian's Chromium
   (`executable_path`, no browser download) over the site, served by Python's http.server. Per
   page: it loads with its notebook's title; every image decodes; no internal link leads to a
   missing page or anchor; every request stays on localhost and no script throws; the notebook
   was committed with its outputs; the maths is typeset; no Quarto syntax or `#|` directive is
   left; code blocks show code (no markdown links in them), never wrap a line (a long one
   scrolls, with its scrollbar drawn) and hold 110 characters a line at 1280 px; nothing is cut
   off; no `<matplotlib...>` repr in the outputs; API blocks have the real signatures and a
   parameter table; folds are closed; names of other libraries do not link into this site; a
   full-page screenshot goes to `_docs/_screens/<page>.png`. For the site: every function, class
   and documented public method of the library has its API block where `_modidx.py` links it;
   the sidebar lists every page in course order; search finds `Learner`; the contents drawer opens.
   And the converters' own tests, without a browser.

Prints pytest's report, its summary line (`N passed, N failed in S s`), and a line per page.
Exit status: pytest's (0: all passed, 1: a check failed), 1 if the build failed, 2 when the
browser test could not run (no Chromium, or no Playwright): it never passes silently.
"""
from __future__ import annotations
import importlib.util, json, shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402

TESTS = ROOT/'tools'/'test_docs.py'


def not_run(why: str) -> int:
    print('\n' + '!' * 78 + f'\nBROWSER TEST NOT RUN: {why}\nThe site was built but NOT tested.\n' + '!' * 78)
    return 2


def main(argv: list[str]) -> int:
    build = '--no-build' not in argv
    args = [a for a in argv if a != '--no-build']
    t0 = time.time()
    if build:
        try: build_docs.build(quiet=True, keep_going=True)
        except SystemExit as e:
            print(f'docs build FAILED: {e}'); return 1
    t_build = time.time() - t0
    import os
    if not any(shutil.which(c) for c in [os.environ.get('CHROMIUM') or '', 'chromium', 'chromium-browser', 'google-chrome']):
        return not_run("no Chromium on this machine: `make browser` installs Debian's (as root), or set $CHROMIUM")
    for mod in ('playwright', 'pytest'):
        if importlib.util.find_spec(mod) is None:
            return not_run(f'`{mod}` is not installed in this environment (`pip install -e ".[dev]"`)')
    import pytest
    rc = pytest.main(['-q', '-p', 'no:cacheprovider', '--tb=short', '-rfE', '-W', 'ignore::DeprecationWarning',
                      '--rootdir', str(ROOT), str(TESTS), *args])
    report = build_docs.OUT/'_screens'/'report.json'
    if report.exists() and report.stat().st_mtime >= t0:
        reports = json.loads(report.read_text())
        order = [p['page'] for p in json.loads((build_docs.SRC/'manifest.json').read_text())['pages']]
        for page, r in sorted(reports.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)):
            print(f"  {page:<24} {r['images']:>3} images {r['links']:>4} links {r['mjx']:>4} formulas {r['api']:>3} API blocks "
                  f"{r['folds']:>3} folds {r['scrolling_code']:>3} code blocks scroll {r['height']:>6} px tall")
        print(f'screenshots in {(build_docs.OUT/"_screens").relative_to(ROOT)}/')
    print(f'docs: build {t_build:.1f} s, tests {time.time() - t0 - t_build:.1f} s; pytest exit code {int(rc)}')
    return int(rc)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
