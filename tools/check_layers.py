"""The imports of accel_sgd/ against CONTRIBUTING.md's map ("The house"): a module imports only modules listed above it,
and only those its `imports` column names; every module is in the map. So there is no circle: one would need an import that
points up. An import counts wherever it is: at the top, in a function, `importlib.import_module('accel_sgd.x')` or `('.x', ...)`,
a string 'accel_sgd.x' (a table of lazy imports). Prints each import that breaks the map, with its file and line, and exits 1
if there is one.   Usage: python tools/check_layers.py"""
import ast, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB, MAP = ROOT/'accel_sgd', ROOT/'CONTRIBUTING.md'


def the_map(text: str) -> dict:
    "CONTRIBUTING.md's table, in order: {module: the modules its `imports` column names, or None for 'everything above'}."
    rows = re.findall(r'^\|\s*`(\w+)`\s*\|[^|\n]*\|[^|\n]*\|([^|\n]*)\|\s*$', text, re.M)
    mods = [m for m, _ in rows]
    return {m: None if 'everything' in col else {w for w in re.findall(r'\w+', col) if w in mods} for m, col in rows}


def imports(py: Path, modules: set) -> list:
    "[(module imported, line, how)] for each of the package's modules that `py` imports, in any of the ways above."
    out, tree = [], ast.parse(py.read_text(encoding='utf-8'))
    def add(name, node, how):
        name = re.sub(r'^(accel_sgd)?\.', '', name or '').split('.')[0]
        if name in modules and name != py.stem: out.append((name, node.lineno, how))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names: add(a.name if a.name.startswith('accel_sgd.') else '', node, 'import')
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or '').startswith('accel_sgd')):
            if node.module in (None, 'accel_sgd'): [add(a.name, node, 'import') for a in node.names]
            else: add(('.' if node.level else '') + node.module, node, 'import')
        elif isinstance(node, ast.Call) and getattr(node.func, 'attr', getattr(node.func, 'id', '')) in ('import_module', '__import__') \
                and node.args and isinstance(node.args[0], ast.Constant):
            add(str(node.args[0].value), node, 'import_module')
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r'accel_sgd(\.\w+)+', node.value):
            add(node.value, node, f'string {node.value!r}')
    return out


def main(lib: Path = LIB, contributing: Path = MAP) -> int:
    table = the_map(contributing.read_text(encoding='utf-8'))
    order = {m: i for i, m in enumerate(table)}
    files = {('__init__' if p.name == '__init__.py' else p.stem): p for p in sorted(lib.glob('*.py')) if p.name != '_modidx.py'}
    problems, n = [f'{m}: accel_sgd/{p.name} is not in the map (CONTRIBUTING.md, "The house")' for m, p in files.items() if m not in table], 0
    for m, p in files.items():
        found = {}
        for dep, line, how in imports(p, set(files) - {'__init__'}): found.setdefault(dep, []).append(f'{line} {how}')
        n += len(found)
        for dep, where in found.items():
            where = f"(accel_sgd/{p.name}: line {', line '.join(dict.fromkeys(where))})"
            if m in order and dep in order and order[dep] >= order[m]: problems.append(f'UPWARD   {m} -> {dep}  {where}')
            elif table.get(m) is not None and dep not in table[m]: problems.append(f"UNLISTED {m} -> {dep}: not in the map's imports column for {m}  {where}")
    for p in problems: print(f'layers: {p}')
    print(f'layers: {len(files)} modules, {n} imports between them, {len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__': sys.exit(main())
