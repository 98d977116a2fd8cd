"""show_doc's renderer for the docs site, named by nbdev's `renderer` setting (tools/build_docs.py gives it in nbdev's user
config while it processes the notebooks: `show_doc` in Jupyter stays nbdev's own). A block per object, as docs.fast.ai
draws one: heading, source link, the real signature (`inspect.signature`), the docstring, a table Type / Default /
Details (fastcore's `docments`), and an entry of Sphinx's Python domain (objects.inv, the Index, search). A class's
documented public methods get a block each inside its block; a method with no docstring gets none."""
from __future__ import annotations
import functools, importlib, inspect, re, sys
from fastcore.docments import docments
from nbdev.config import get_config
from nbdev.doclinks import NbdevLookup
from nbdev.showdoc import BasicMarkdownRenderer

SIG_WIDTH = 88     # a longer signature gets one parameter per line
STARS = {inspect.Parameter.VAR_POSITIONAL: '*', inspect.Parameter.VAR_KEYWORD: '**'}


def public_path(obj) -> str | None:
    "How a reader writes `obj`: `torch.optim.SGD` (not torch.optim.sgd.SGD), `F.cross_entropy`, `nn.ReLU`."
    mod, name = getattr(obj, '__module__', None), getattr(obj, '__qualname__', None)
    if not isinstance(mod, str) or not isinstance(name, str) or '<' in name: return None
    parts = mod.split('.')
    path = name if mod == 'builtins' else next((f"{'.'.join(parts[:i])}.{name}" for i in range(1, len(parts) + 1) if functools.reduce(
        lambda o, a: getattr(o, a, None), name.split('.'), sys.modules.get('.'.join(parts[:i]))) is obj), f'{mod}.{name}')
    return re.sub(r'^torch\.nn\.functional\.', 'F.', re.sub(r'^torch\.nn\.(?!functional\.)', 'nn.', path))


def fmt_default(v) -> str:
    "A default as code: the library's callables by name, others' qualified (`torch.optim.SGD`), else its repr."
    if (inspect.isclass(v) or inspect.isroutine(v)) and (path := public_path(v)):
        return path.rsplit('.', 1)[-1] if v.__module__.split('.')[0] == get_config().lib_name else path
    return f'partial({fmt_default(v.func)}, ...)' if isinstance(v, functools.partial) else re.sub(r' at 0x[0-9a-fA-F]+', '', repr(v))


def fmt_anno(a) -> str:
    "An annotation as the source wrote it (the library uses `from __future__ import annotations`; a NamedTuple's are ForwardRefs)."
    a = getattr(a, '__forward_arg__', a)
    s = a if isinstance(a, str) else (public_path(a) or a.__name__) if inspect.isclass(a) and not getattr(a, '__args__', None) \
        else inspect.formatannotation(a)
    return re.sub(r'\s*\|\s*', ' | ', re.sub(r'\btyping\.', '', s)).strip()


def params(obj, method=False) -> tuple[list | None, list, tuple | None]:
    """The parameters (without a method's `self`; None when Python knows no signature), a row (name, type, default,
    details) for each from the signature and the docments, and the return's (type, details) if it has either."""
    try: sig = inspect.signature(obj)
    except (ValueError, TypeError): return None, [], None
    ps = list(sig.parameters.values())
    ps = ps[1:] if method and ps and ps[0].name in ('self', 'cls') else ps
    try: docs = docments(obj, args_kwargs=True)
    except Exception: docs = {}
    rows = [(STARS.get(p.kind, '') + p.name, fmt_anno(p.annotation) if p.annotation is not p.empty else '',
             fmt_default(p.default) if p.default is not p.empty else '', docs.get(p.name) or '') for p in ps]
    anno = fmt_anno(sig.return_annotation) if sig.return_annotation is not sig.empty else ''
    return ps, rows, None if inspect.isclass(obj) or not (anno or docs.get('return')) else (anno, docs.get('return') or '')


def signature_line(obj, name: str, method=False) -> str:
    "`def f(a: int, b=2) -> T`, `class C(...)`, `class E(Exception)` when Python knows no signature; a long one black's way."
    (ps, rows, ret), short = params(obj, method), name.rsplit('.', 1)[-1]
    head = 'class' if inspect.isclass(obj) else 'async def' if inspect.iscoroutinefunction(obj) else 'def'
    if ps is None: return f"class {short}({', '.join(b.__name__ for b in obj.__bases__ if b is not object)})" if head == 'class' else f'def {short}(...)'
    out = []
    for i, (p, (n, anno, default, _)) in enumerate(zip(ps, rows)):
        if p.kind == p.KEYWORD_ONLY and not any(o.startswith('*') for o in out): out.append('*')
        out.append(n + (f': {anno}' if anno else '') + ((' = ' if anno else '=') + default if default else ''))
        if p.kind == p.POSITIONAL_ONLY and (i + 1 == len(ps) or ps[i + 1].kind != p.POSITIONAL_ONLY): out.append('/')
    tail = f' -> {ret[0]}' if ret and ret[0] else ''
    one = f"{head} {short}({', '.join(out)}){tail}"
    return one if len(one) <= SIG_WIDTH or not out else f'{head} {short}(\n' + ''.join(f'    {o},\n' for o in out) + f'){tail}'


def param_table(obj, method=False) -> str:
    "The markdown table: Type and Default columns when a row has one, Details always."
    _, rows, ret = params(obj, method)
    if not rows: return ''
    typ, dflt = any(r[1] for r in rows) or bool(ret and ret[0]), any(r[2] for r in rows)
    cell, line = lambda s: s.replace('|', '\\|').replace('\n', ' '), lambda cells: '| ' + ' | '.join(cells) + ' |'
    code = lambda s: f'`{cell(s)}`' if s else ''
    head = ['', *['**Type**'] * typ, *['**Default**'] * dflt, '**Details**']
    out = [line(head), '|' + '|'.join(' --- ' for _ in head) + '|']
    out += [line([n.replace('*', '\\*').replace('_', '\\_'), *[code(a)] * typ, *[code(d)] * dflt, cell(doc)]) for n, a, d, doc in rows]
    return '\n'.join(out + ([line(['**Returns**', *[code(ret[0])] * typ, *[''] * dflt, cell(ret[1])])] if ret else []))


def docstring(obj) -> str:
    "The object's own docstring (not the one namedtuple and dataclass write)."
    doc = inspect.cleandoc(obj.__doc__) if isinstance(getattr(obj, '__doc__', None), str) else ''
    return '' if inspect.isclass(obj) and doc.startswith(f'{obj.__name__}(') else doc


def own_methods(cls) -> list[tuple[str, object]]:
    "The public methods a class's module gives it (its body, `@patch` in that module) that have a docstring, in order."
    fs = [(n, getattr(f, '__func__', f)) for n, f in vars(cls).items() if not n.startswith('_')]
    return [(n, f) for n, f in fs if inspect.isfunction(f) and f.__module__ == cls.__module__ and docstring(f)]


def py_entry(obj, name: str, method: bool) -> str:
    "The block's entry in Sphinx's Python domain (drawn by the block, not by Sphinx): `accel_sgd.Learner` for a package-level name."
    kind = 'method' if method else 'class' if inspect.isclass(obj) else 'function'
    kind = 'exception' if kind == 'class' and issubclass(obj, BaseException) else kind
    owner = getattr(sys.modules.get(obj.__module__), name.split('.')[0], None) if method else obj
    mod, pkg = getattr(owner, '__module__', obj.__module__), sys.modules.get(obj.__module__.split('.')[0])
    public = name.split('.')[0] in getattr(pkg, '__all__', ()) and getattr(pkg, name.split('.')[0], None) is owner
    opts = [f':module: {pkg.__name__}', f':canonical: {mod}.{name}'] if public else [f':module: {mod}']
    return '\n'.join([f'```{{py:{kind}}} {name}', *opts, ':no-typesetting:', '```'])


def api_markdown(obj, name: str, level: int, source: str | None, method=False) -> str:
    "One block: a heading, then an `api-block` container with the entry, the source link, signature, docstring and table."
    doc = docstring(obj)
    try: source = source and re.sub(r'#L\w*$', f'#L{inspect.getsourcelines(inspect.unwrap(obj))[1]}', source)
    except (OSError, TypeError): pass
    src = f'<a class="api-source reference external" href="{source}" target="_blank" rel="noopener">source</a>\n\n' if source else ''
    body = '\n\n'.join(p for p in [py_entry(obj, name, method), src + f'```python\n{signature_line(obj, name, method)}\n```',
                                   doc and (doc if '*' in doc.split('\n\n')[0] else f'*{doc}*'), param_table(obj, method)] if p)
    fence, heading = '`' * max(4, 1 + max(map(len, re.findall('`+', body)), default=0)), re.sub(r'(?<!\\)_', r'\\_', name)
    return f"{'#' * level} {heading}\n\n{fence}{{container}} api-block\n{body}\n{fence}\n"     # `__getattr__` is not **getattr**


def _code(o) -> set:
    "What identifies `o`'s code: its bytecode (a class: its functions'); the same source compiles to the same."
    o = inspect.unwrap(getattr(o, '__func__', o))
    return {(k, f.__code__.co_code) for k, f in (vars(o).items() if inspect.isclass(o) else [('', o)]) if inspect.isfunction(f)}


def library_object(sym):
    """The library's own object for `sym`: nbdev's processing runs a notebook's exported cells in a shell, where a class has
    no source file to read comments from; the object imported from its module has (of the modules nbdev's index gives that
    name, the one whose code is the same)."""
    qual, lib = getattr(sym, '__qualname__', None), get_config().lib_name
    if not isinstance(qual, str) or (getattr(sym, '__module__', None) or '').split('.')[0] == lib: return sym
    found = []
    for mod, names in importlib.import_module(f'{lib}._modidx').d['syms'].items():
        try: obj = functools.reduce(getattr, qual.split('.'), importlib.import_module(mod)) if f'{mod}.{qual}' in names else None
        except AttributeError: obj = None
        obj = getattr(obj, '__func__', obj)
        if obj is not None and (type(obj) is type(sym) or inspect.isclass(obj) and inspect.isclass(sym)): found.append(obj)
    return next((o for o in found if _code(sym) <= _code(o)), found[0] if found else sym)


class ApiDocRenderer(BasicMarkdownRenderer):
    "nbdev's show_doc renderer for the site: the block above and, for a class, its methods' blocks."
    def __init__(self, sym, name: str | None = None, title_level: int = 3, **kwargs):
        # `@patch` on a decorated function (`@torch.no_grad()`) is named `Class.m` only on the wrapper: keep that name
        qual, inner = getattr(sym, '__qualname__', None), getattr(getattr(sym, '__wrapped__', None), '__qualname__', None)
        if name is None and isinstance(qual, str) and '.' in qual and inner and '.' not in inner and '<' not in qual: name = qual
        super().__init__(sym, name=name, title_level=title_level, **kwargs)

    def _repr_markdown_(self):
        obj, lookup = library_object(self.sym), NbdevLookup()
        method = '.' in self.nm and not inspect.isclass(obj)
        if (method and not docstring(obj)) or self.nm.rsplit('.', 1)[-1].startswith('_'): return ''   # nothing to say, or private
        out = [api_markdown(obj, self.nm, self.title_level, lookup.code(self.fn) if lookup[self.fn] else lookup.code(self.nm), method)]
        full = f'{obj.__module__}.{obj.__qualname__}'
        return '\n'.join(out + [api_markdown(f, f'{self.nm}.{n}', self.title_level + 1, lookup.code(f'{full}.{n}'), True)
                                for n, f in (own_methods(obj) if inspect.isclass(obj) else [])])
