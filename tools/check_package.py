"""The package as an index would show it: the wheel built, then its metadata checked. Every classifier is a trove
classifier (the `trove-classifiers` package is the index's list); the licence is settings.ini's and LICENSE is in the
wheel; the project URLs and the `course` and `dev` extras are there; the long description (README.md) has no link
that works only inside the repository. Exits 1 with a line per problem.   Usage: python tools/check_package.py"""
import re, subprocess, sys, tempfile, zipfile
from configparser import ConfigParser
from email.parser import Parser
from pathlib import Path

from trove_classifiers import classifiers as TROVE

ROOT = Path(__file__).resolve().parents[1]
SPDX = {'apache2': 'Apache-2.0'}


def problems(wheel: Path, cfg) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = Parser().parsestr(z.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode())
    found = [f'classifier {c!r} is not a trove classifier' for c in meta.get_all('Classifier') or [] if c not in TROVE]
    lic = meta['License-Expression'] or meta['License']
    if lic != SPDX[cfg['license']]: found.append(f"licence {lic!r} is not settings.ini's {SPDX[cfg['license']]!r}")
    if not any(n.endswith('/LICENSE') for n in names): found.append('LICENSE is not in the wheel')
    urls = dict(u.split(', ', 1) for u in meta.get_all('Project-URL') or [])
    found += [f'no {key} project URL' for key in ('Documentation', 'Source', 'Issues') if key not in urls]
    found += [f'no {extra!r} extra' for extra in ('course', 'dev') if extra not in (meta.get_all('Provides-Extra') or [])]
    return found + [f'the long description links to {url!r}, which works only inside the repository'
                    for url in re.findall(r'\]\(([^)\s]+)\)', meta.get_payload()) if not re.match(r'^[a-z][a-z0-9+.-]*:|^#', url)]


if __name__ == '__main__':
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini'); cfg = cfg['DEFAULT']
    with tempfile.TemporaryDirectory() as d:
        res = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--quiet', '-w', d, str(ROOT)], capture_output=True, text=True)
        if res.returncode: sys.exit(f'pip wheel failed:\n{res.stdout}{res.stderr}')
        wheel = next(Path(d).glob('*.whl'))
        found = problems(wheel, cfg)
    for p in found: print(f'package: {p}')
    print(f'package: {wheel.name} checked, {len(found)} problem(s)')
    sys.exit(1 if found else 0)
