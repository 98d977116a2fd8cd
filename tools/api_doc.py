"""API blocks for the docs site, drawn the way nbdev's `show_doc` draws docments on docs.fast.ai.

For a function, a class or a method: the heading and a link to the source (nbdev's), the real
signature (the one `inspect.signature` gives: a class's constructor, a NamedTuple's or a
dataclass's fields), the docstring, and a parameter table, one row per parameter:

    |            | Type      | Default | Details                  |
    | model      | nn.Module |         | the model to train       |
    | Returns    | Learner   |         | ...                      |

Details are the parameter's docment: the comment after it in the `def` (or after the field in the
class body). A class's public methods (defined in its body, documented, not starting with `_`)
get a block each after the class's, headed `Class.method` (anchor `class.method`, the one
`_modidx.py` links to) unless the notebook shows them itself with `show_doc(Class.method)`.

tools/build_docs.py installs `ApiDocRenderer` as nbdev's show_doc renderer while nbdev processes
the notebooks (nothing changes for `show_doc` in Jupyter). The signature is code and carries no
comments, so nbdev's backtick links (which it adds to every line of show_doc's markdown) cannot
land inside it; the table is markdown and links its names.
"""
from __future__ import annotations
import ast, functools, inspect, io, re, sys, textwrap, tokenize, typing

SIG_WIDTH = 88                 # a signature longer than this gets one parameter per line
EXPLICIT: set[str] = set()     # `Class.method` names the notebook being processed documents itself
_empty = inspect.Parameter.empty


# --------------------------------------------------------------------------------------------
# Docments: the comment after each parameter
# --------------------------------------------------------------------------------------------
def _source(obj) -> str | None:
    try: return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError): return None


def _tokens(src: str):
    try: return list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError): return []


def _comment_text(tok) -> str: return tok.string.lstrip('#').strip()


def param_comments(func) -> dict[str, str]:
    """{parameter: comment} from the `def` line(s) of `func`, and 'return' for a comment after the
    closing parenthesis. A comment belongs to the last parameter that starts on its line (or
    before it, for a default that spans lines); a comment on a line of its own belongs to the next
    parameter when that one has none of its own, else it continues the previous one's."""
    src = _source(func)
    if not src: return {}
    toks = _tokens(src)
    start = next((i for i, t in enumerate(toks) if t.type == tokenize.NAME and t.string == 'def'), None)
    if start is None: return {}
    params, inline, alone, ret = [], {}, [], []    # params: (name, line)
    depth, prev, closed, code_lines, close_line = 0, None, False, set(), None
    is_init = start + 1 < len(toks) and toks[start + 1].string in ('__init__', '__new__')
    for t in toks[start + 2:]:
        if t.type == tokenize.COMMENT:
            if closed and is_init and any(l == close_line for _, l in params):
                inline.setdefault(t.start[0], []).append((t.start[0], _comment_text(t)))   # `def __init__(self, n): # n`
            elif closed: ret.append(_comment_text(t))
            elif depth >= 1:
                (inline.setdefault(t.start[0], []) if t.start[0] in code_lines else alone).append((t.start[0], _comment_text(t)))
            continue
        if t.type in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT): continue
        if t.type == tokenize.NEWLINE and closed: break
        code_lines.add(t.start[0])
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}':
            depth -= 1
            if depth == 0: closed, close_line = True, t.start[0]
        elif (t.type == tokenize.NAME and depth == 1 and prev is not None and prev.type == tokenize.OP
              and prev.string in ('(', ',', '*', '**')):
            params.append((t.string, t.start[0]))
        prev = t
    out = {}
    def add(name, text):
        out[name] = f'{out[name]} {text}' if out.get(name) else text
    for line, items in inline.items():
        owner = [p for p, l in params if l <= line]
        if owner:
            for _, text in items: add(owner[-1], text)
    for line, text in alone:
        after = [p for p, l in params if l > line]
        before = [p for p, l in params if l < line]
        if after and after[0] not in out: add(after[0], text)
        elif before: add(before[-1], text)
    if ret: out['return'] = ' '.join(ret)
    return out


def field_comments(cls) -> dict[str, str]:
    "{field: comment} for the annotated fields of a class body (NamedTuple, dataclass), bases first."
    out = {}
    for k in reversed(cls.__mro__):
        if k is object or k.__module__ == 'builtins': continue
        src = _source(k)
        if not src: continue
        try: tree = ast.parse(src)
        except SyntaxError: continue
        node = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
        if node is None: continue
        toks = _tokens(src)
        comments = {t.start[0]: _comment_text(t) for t in toks if t.type == tokenize.COMMENT}
        code = {t.start[0] for t in toks if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                                            tokenize.INDENT, tokenize.DEDENT)}
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                above = stmt.lineno - 1     # a comment on a line of its own just above the field
                text = (comments.get(stmt.end_lineno) or comments.get(stmt.lineno)
                        or (comments.get(above) if above not in code else None))
                if text: out[stmt.target.id] = text
    return out


# --------------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------------
def public_path(obj) -> str | None:
    "How a reader writes `obj`: `torch.optim.SGD` (not torch.optim.sgd.SGD), `F.cross_entropy`, `nn.ReLU`."
    mod, name = getattr(obj, '__module__', None), getattr(obj, '__qualname__', None) or getattr(obj, '__name__', None)
    if not isinstance(mod, str) or not isinstance(name, str) or '<' in name: return None
    if mod == 'builtins': return name
    parts, path = mod.split('.'), f'{mod}.{name}'
    for i in range(1, len(parts) + 1):
        m = sys.modules.get('.'.join(parts[:i]))
        o = m
        try:
            for a in name.split('.'): o = getattr(o, a)
        except AttributeError: continue
        if o is obj: path = '.'.join(parts[:i]) + '.' + name; break
    for long, short in (('torch.nn.functional.', 'F.'), ('torch.nn.', 'nn.')):
        if path.startswith(long): return short + path[len(long):]
    return path


def lib_name() -> str:
    try:
        from nbdev.config import get_config
        return get_config().lib_name
    except Exception: return ''


def fmt_default(v) -> str:
    "A default value as code: callables and classes by name (the library's short, others qualified), else repr."
    if inspect.isclass(v) or inspect.isfunction(v) or inspect.isbuiltin(v) or inspect.ismethod(v):
        path = public_path(v)
        if path:
            lib = lib_name()
            return path.rsplit('.', 1)[-1] if lib and (getattr(v, '__module__', '') or '').split('.')[0] == lib else path
    if isinstance(v, functools.partial):
        return f'partial({fmt_default(v.func)}, ...)'
    return re.sub(r' at 0x[0-9a-fA-F]+', '', repr(v))


def fmt_anno(a) -> str:
    "An annotation as its source wrote it (the library's modules use `from __future__ import annotations`)."
    if isinstance(a, str): s = a
    elif isinstance(a, typing.ForwardRef): s = a.__forward_arg__
    elif inspect.isclass(a) and not getattr(a, '__args__', None): s = public_path(a) or a.__name__
    else: s = inspect.formatannotation(a)
    s = re.sub(r'\btyping\.', '', s)
    return re.sub(r'\s*\|\s*', ' | ', s).strip()


def _unwrap(obj):
    if isinstance(obj, (staticmethod, classmethod)): obj = obj.__func__
    if isinstance(obj, property): obj = obj.fget
    return obj


def constructor(cls):
    "The `__init__` (or `__new__`) whose parameters the class takes, and whose source holds their comments."
    for k in cls.__mro__:
        if k is object: break
        for nm in ('__init__', '__new__'):
            f = _unwrap(k.__dict__.get(nm))
            if inspect.isfunction(f): return f
    return None


def signature_of(obj, method: bool = False) -> inspect.Signature | None:
    try: sig = inspect.signature(obj, eval_str=False)
    except (ValueError, TypeError): return None
    ps = list(sig.parameters.values())
    if method and ps and ps[0].name in ('self', 'cls') and ps[0].kind in (ps[0].POSITIONAL_ONLY, ps[0].POSITIONAL_OR_KEYWORD):
        sig = sig.replace(parameters=ps[1:])
    return sig


def comments_of(obj) -> dict[str, str]:
    "The docments of a function, a method or a class's constructor (and of what it delegates to)."
    if inspect.isclass(obj):
        f = constructor(obj)
        out = param_comments(f) if f is not None else {}
        out.pop('return', None)
        for k, v in field_comments(obj).items(): out.setdefault(k, v)
    else:
        out = param_comments(obj)
    to = getattr(obj, '__delegates__', None)
    if to is not None:
        for k, v in comments_of(to).items():
            if k != 'return': out.setdefault(k, v)
    return out


def _param_str(p: inspect.Parameter) -> str:
    s = ('*' if p.kind == p.VAR_POSITIONAL else '**' if p.kind == p.VAR_KEYWORD else '') + p.name
    if p.annotation is not _empty: s += f': {fmt_anno(p.annotation)}'
    if p.default is not _empty: s += (' = ' if p.annotation is not _empty else '=') + fmt_default(p.default)
    return s


def param_strs(sig: inspect.Signature) -> list[str]:
    "The parameters as Python writes them, with the `/` and `*` markers."
    out, kinds = [], [p.kind for p in sig.parameters.values()]
    for i, p in enumerate(sig.parameters.values()):
        if p.kind == p.KEYWORD_ONLY and inspect.Parameter.VAR_POSITIONAL not in kinds and '*' not in out: out.append('*')
        out.append(_param_str(p))
        if p.kind == p.POSITIONAL_ONLY and (i + 1 == len(kinds) or kinds[i + 1] != p.POSITIONAL_ONLY): out.append('/')
    return out


def format_signature(prefix: str, name: str, params: list[str], ret: str | None = None) -> str:
    "`prefix name(a, b) -> ret` on one line if it fits in SIG_WIDTH, else one parameter per line (black's layout)."
    tail = f' -> {ret}' if ret else ''
    one = f'{prefix} {name}({", ".join(params)}){tail}'
    if len(one) <= SIG_WIDTH or not params: return one
    return f'{prefix} {name}(\n' + ''.join(f'    {p},\n' for p in params) + f'){tail}'


def signature_line(obj, name: str | None = None, method: bool = False) -> str:
    "The signature block's text: `def f(...) -> T`, `class C(...)`; `class E(Exception)` when Python knows no signature."
    short = (name or getattr(obj, '__name__', '?')).rsplit('.', 1)[-1]
    if inspect.isclass(obj):
        sig = signature_of(obj)
        if sig is None:
            bases = ', '.join(b.__name__ for b in obj.__bases__ if b is not object)
            return f'class {short}({bases})' if bases else f'class {short}'
        return format_signature('class', short, param_strs(sig))
    sig = signature_of(obj, method=method)
    prefix = 'async def' if inspect.iscoroutinefunction(obj) else 'def'
    if sig is None: return f'{prefix} {short}(...)'
    ret = fmt_anno(sig.return_annotation) if sig.return_annotation is not _empty else None
    return format_signature(prefix, short, param_strs(sig), ret)


# --------------------------------------------------------------------------------------------
# The parameter table
# --------------------------------------------------------------------------------------------
def _cell(s: str) -> str: return s.replace('|', '\\|').replace('\n', ' ')
def _code(s: str) -> str: return f'`{_cell(s)}`' if s else ''
def _md_name(s: str) -> str: return s.replace('*', '\\*').replace('_', '\\_')


def param_rows(obj, method: bool = False) -> tuple[list[tuple[str, str, str, str]], tuple[str, str] | None]:
    "[(name, type, default, details)] and the (type, details) of the return, from the signature and the docments."
    sig = signature_of(obj, method=method and not inspect.isclass(obj))
    if sig is None: return [], None
    docs = comments_of(obj)
    rows = []
    for p in sig.parameters.values():
        name = ('*' if p.kind == p.VAR_POSITIONAL else '**' if p.kind == p.VAR_KEYWORD else '') + p.name
        rows.append((name, fmt_anno(p.annotation) if p.annotation is not _empty else '',
                     fmt_default(p.default) if p.default is not _empty else '', docs.get(p.name, '')))
    ret = None
    if not inspect.isclass(obj):
        anno = fmt_anno(sig.return_annotation) if sig.return_annotation is not _empty else ''
        if anno or docs.get('return'): ret = (anno, docs.get('return', ''))
    return rows, ret


def param_table(obj, method: bool = False) -> str:
    "The markdown table: Type and Default columns when any row has one, Details always."
    rows, ret = param_rows(obj, method)
    if not rows: return ''
    has_type = any(r[1] for r in rows) or bool(ret and ret[0])
    has_default = any(r[2] for r in rows)
    head = ['', *(['**Type**'] if has_type else []), *(['**Default**'] if has_default else []), '**Details**']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '|'.join(' --- ' for _ in head) + '|']
    for name, anno, default, doc in rows:
        cells = [_md_name(name), *([_code(anno)] if has_type else []), *([_code(default)] if has_default else []), _cell(doc)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    if ret:
        cells = ['**Returns**', *([_code(ret[0])] if has_type else []), *([''] if has_default else []), _cell(ret[1])]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


# --------------------------------------------------------------------------------------------
# Methods, docstrings, the block
# --------------------------------------------------------------------------------------------
_SKIP_DECORATORS = {'property', 'cached_property', 'setter', 'getter', 'deleter', 'overload'}


def public_method_names(node: ast.ClassDef) -> list[str]:
    """The methods a class body defines that a user calls, in source order: documented, not
    `_private`, not properties. (tools/build_docs.py lists the same ones for the test.)"""
    out = []
    for f in node.body:
        if not isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) or f.name.startswith('_'): continue
        if not ast.get_docstring(f): continue
        decos = {d.attr if isinstance(d, ast.Attribute) else getattr(d, 'id', '') for d in f.decorator_list}
        if not decos & _SKIP_DECORATORS: out.append(f.name)
    return out


def own_methods(cls) -> list[tuple[str, object]]:
    "The public methods of a class (`public_method_names`), as (name, function)."
    src = _source(cls)
    if not src: return []
    try: tree = ast.parse(src)
    except SyntaxError: return []
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    if node is None: return []
    return [(n, f) for n in public_method_names(node) if callable(f := _unwrap(cls.__dict__.get(n)))]


def docstring(obj, name: str) -> str:
    "The object's own docstring (not one inherited, nor the one namedtuple/dataclass generate)."
    doc = obj.__doc__ if isinstance(getattr(obj, '__doc__', None), str) else None
    if not doc: return ''
    doc = inspect.cleandoc(doc)
    if inspect.isclass(obj) and doc.startswith(f'{obj.__name__}('): return ''
    return doc


def _ital_first(doc: str) -> str:
    "The first paragraph in italics, as nbdev writes it (left plain when it has its own `*`)."
    first, sep, rest = doc.partition('\n\n')
    return (f'*{first}*' if '*' not in first and first.strip() else first) + sep + rest


def is_method(obj, name: str) -> bool:
    "`Class.method` (from a class body or `@patch`): a function named with a dot whose first parameter is self/cls."
    if inspect.isclass(obj) or '.' not in name: return False
    try: first = next(iter(inspect.signature(obj).parameters), None)
    except (ValueError, TypeError): return False
    return first in ('self', 'cls')


def api_markdown(obj, name: str, level: int, source: str | None, method: bool = False) -> str:
    "One block, in the markdown nbdev's show_doc writes (`---`, `[source](...)`, a heading, code, text)."
    method = method or is_method(obj, name)
    out = '---\n\n'
    if source: out += f'[source]({source}){{target="_blank" style="float:right; font-size:smaller"}}\n\n'
    out += f'{"#" * level} {name}\n\n```python\n{signature_line(obj, name, method)}\n```\n'
    doc = docstring(obj, name)
    if doc: out += f'\n{_ital_first(doc)}\n'
    table = param_table(obj, method)
    if table: out += f'\n{table}\n'
    return out


try:
    from nbdev.showdoc import BasicMarkdownRenderer as _Base
except Exception:     # nbdev is always there in the build; this keeps the module importable without it
    _Base = object


def library_object(sym):
    """The library's own object for `sym`. nbdev's docs processing runs a notebook's exported cells
    in a shell, where a class has no source file to read its methods and comments from; the same
    class, imported from the module `_modidx.py` names, has."""
    lib, mod = lib_name(), getattr(sym, '__module__', None) or ''
    qual = getattr(sym, '__qualname__', None)
    if not lib or not isinstance(qual, str) or mod.split('.')[0] == lib: return sym
    try:
        import importlib
        d = importlib.import_module(f'{lib}._modidx').d['syms']
        modname = next((m for m, names in d.items() if f'{m}.{qual}' in names), None)
        if modname is None: return sym
        obj = importlib.import_module(modname)
        for a in qual.split('.'): obj = getattr(obj, a)
        obj = _unwrap(obj)
        return obj if type(obj) is type(sym) or (inspect.isclass(obj) and inspect.isclass(sym)) else sym
    except Exception: return sym


class ApiDocRenderer(_Base):
    "nbdev's show_doc renderer, drawing the block above (and, for a class, its public methods' blocks)."
    def __init__(self, sym, name: str | None = None, title_level: int = 3, **kwargs):
        # `@patch` on a decorated function (`@torch.no_grad()`) names the wrapper `Optimizer.step`;
        # show_doc unwraps it to the inner `step`: keep the name the method is called by.
        qual = getattr(sym, '__qualname__', None)
        inner = getattr(getattr(sym, '__wrapped__', None), '__qualname__', None)
        if name is None and isinstance(qual, str) and '.' in qual and inner and '.' not in inner and '<' not in qual: name = qual
        super().__init__(sym, name=name, title_level=title_level, **kwargs)

    def _repr_markdown_(self):
        from nbdev.doclinks import NbdevLookup
        lookup = NbdevLookup()
        obj = library_object(self.sym)
        sym = f'{obj.__module__}.{obj.__qualname__}' if getattr(obj, '__module__', None) else str(self.fn)
        source = lookup.code(self.fn) if lookup[self.fn] else lookup.code(self.nm)   # `Optimizer.step`: by its name
        parts = [api_markdown(obj, self.nm, self.title_level, source)]
        if inspect.isclass(obj):
            for mname, f in own_methods(obj):
                full = f'{self.nm}.{mname}'
                if full in EXPLICIT: continue
                parts.append(api_markdown(f, full, self.title_level + 1, lookup.code(f'{sym}.{mname}'), method=True))
        return '\n'.join(parts)


def install():
    "Make nbdev's show_doc use ApiDocRenderer (in this process: nbdev's docs processing runs here)."
    import nbdev.showdoc
    nbdev.showdoc.BasicMarkdownRenderer = ApiDocRenderer


_re_show_doc_call = re.compile(r'\bshow_doc\(\s*([\w.]+)')


def explicit_show_docs(sources) -> set[str]:
    "The names a notebook documents itself: `show_doc(Learner.fit)` -> 'Learner.fit'."
    return {m.group(1) for s in sources for m in _re_show_doc_call.finditer(s)}
