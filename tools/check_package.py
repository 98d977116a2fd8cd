"""The package as an index would show it: build the wheel, then check its metadata.

- every classifier is a valid trove classifier (the `trove-classifiers` package is the index's own list);
- the licence is the one settings.ini names, and the LICENSE file is in the wheel;
- the project URLs are there;
- the long description (README.md) has no link that only works inside the repository.
Exits 1 with one line per problem.   Usage: python tools/check_package.py"""
import re, subprocess, sys, tempfile, zipfile
from configparser import ConfigParser
from email.parser import Parser
from pathlib import Path

from trove_classifiers import classifiers as TROVE

ROOT = Path(__file__).resolve().parents[1]
SPDX = {'apache2': 'Apache-2.0'}


def build_wheel(dest: Path) -> Path:
    res = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--quiet', '-w', str(dest), str(ROOT)],
                         capture_output=True, text=True)
    if res.returncode: raise SystemExit(f'pip wheel failed:\n{res.stdout}{res.stderr}')
    return next(dest.glob('*.whl'))


def problems(wheel: Path, cfg) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = Parser().parsestr(z.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode())
    found = []
    for c in meta.get_all('Classifier') or []:
        if c not in TROVE: found.append(f'classifier {c!r} is not a trove classifier')
    lic = meta['License-Expression'] or meta['License']
    if lic != SPDX[cfg['license']]: found.append(f"licence {lic!r} is not settings.ini's {SPDX[cfg['license']]!r}")
    if not any(n.endswith('/LICENSE') for n in names): found.append('LICENSE is not in the wheel')
    urls = dict(u.split(', ', 1) for u in meta.get_all('Project-URL') or [])
    for key in ('Documentation', 'Source', 'Issues'):
        if key not in urls: found.append(f'no {key} project URL')
    for url in re.findall(r'\]\(([^)\s]+)\)', meta.get_payload()):
        if not re.match(r'^[a-z][a-z0-9+.-]*:|^#', url): found.append(f'the long description links to {url!r}, '
                                                                      'which works only inside the repository')
    return found


if __name__ == '__main__':
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini'); cfg = cfg['DEFAULT']
    with tempfile.TemporaryDirectory() as d:
        wheel = build_wheel(Path(d))
        found = problems(wheel, cfg)
    for p in found: print(f'package: {p}')
    print(f'package: {wheel.name} checked, {len(found)} problem(s)')
    sys.exit(1 if found else 0)
