"""Plain setuptools setup that reads settings.ini (the nbdev 2 convention, without pkg_resources)."""
from configparser import ConfigParser
from pathlib import Path
import re
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent / 'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

licenses = {'apache2': 'Apache-2.0'}   # SPDX expressions (they replace the trove licence classifiers)
# settings.ini's `status` is the trove number: 1 Planning ... 3 Alpha, 4 Beta, 5 Production/Stable, 6 Mature, 7 Inactive
statuses = {1: 'Planning', 2: 'Pre-Alpha', 3: 'Alpha', 4: 'Beta', 5: 'Production/Stable', 6: 'Mature', 7: 'Inactive'}
status = int(cfg['status'])
readme = Path(__file__).parent / 'README.md'
docs_url = cfg['doc_host'].rstrip('/') + '/' + cfg['doc_baseurl'].strip('/') + '/'


def long_description() -> str:
    """README.md with its links into the repository (`nbs/01_learner.ipynb`, `CONTRIBUTING.md`) made absolute,
    so that they work where the description is shown away from the repository (e.g. on a package index)."""
    if not readme.exists(): return cfg['description']
    blob = cfg['git_url'].rstrip('/') + f"/blob/{cfg['branch']}/"
    def absolute(m):
        url = m.group(2)
        if re.match(r'^[a-z][a-z0-9+.-]*:|^#', url): return m.group(0)   # already absolute, or an anchor
        return f'{m.group(1)}({blob}{url.lstrip("./")})'
    return re.sub(r'(\]\s*)\(([^)\s]+)\)', absolute, readme.read_text(encoding='utf-8'))


setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=long_description(),
    long_description_content_type='text/markdown',
    author=cfg['author'],
    author_email=cfg['author_email'],
    license=licenses[cfg['license']],
    license_files=['LICENSE'],
    url=cfg['git_url'],
    project_urls={'Documentation': docs_url, 'Source': cfg['git_url'],
                  'Issues': cfg['git_url'].rstrip('/') + '/issues'},
    keywords=cfg['keywords'].split(),
    classifiers=[
        f"Development Status :: {status} - {statuses[status]}",
        f"Intended Audience :: {cfg['audience'].title()}",
        f"Natural Language :: {cfg['language'].title()}",
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    packages=setuptools.find_packages(include=[cfg['lib_name'], cfg['lib_name'] + '.*']),
    include_package_data=True,
    install_requires=cfg['requirements'].split(),
    extras_require={'course': cfg['course_requirements'].split(),
                    'dev': cfg['course_requirements'].split() + cfg['dev_requirements'].split()},
    python_requires='>=' + cfg['min_python'],
    zip_safe=False,
    entry_points={
        'console_scripts': cfg['console_scripts'].split(),
        'nbdev': [f"{cfg['lib_name']}={cfg['lib_name']}._modidx:d"],
    },
)
