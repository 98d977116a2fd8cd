"""The `#|` cell directives (nbdev's and Quarto's cell options), read one way for every tool.

    from nb_directives import directives, split_directives

Which lines are directives is nbdev's rule (`nbdev.process.first_code_ln`, the function behind
`nbdev_export` and `nbdev_test`): the lines before a cell's first line of code, where blank lines
and cell magics (`%%time`) do not count as code. Each directive line is read as Quarto writes it
(`#| code-fold: true`, `#| code-summary: "Show the solution"`: the value is the text after the
colon, quotes dropped) or as nbdev does (`#| export core`, `#| hide`, `#| slow`: the name, then its
arguments, if any, as the value). tools/run_nb.py and tools/build_docs.py use it.
"""
from __future__ import annotations
import re

from nbdev.process import first_code_ln

_re_directive = re.compile(r'^\s*#\s*\|\s?(.*)$')


def _parse(line: str) -> tuple[str, str] | None:
    "`#| name: value` or `#| name value` -> (name, value); None for an empty `#|`."
    body = _re_directive.match(line).group(1).strip()
    m = re.match(r'([\w|-]+)\s*(?::\s*|\s+|$)(.*)$', body)
    if not m: return None
    value = m.group(2).strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'': value = value[1:-1]
    return m.group(1), value


def split_directives(source: str) -> tuple[dict[str, str], str]:
    """A cell's source -> ({directive: value}, the source without its directive lines).
    Cell magics and the code itself are kept; leading and trailing blank lines are dropped."""
    lines = source.split('\n')
    n = first_code_ln(lines)
    if n is None: n = len(lines)
    opts, head = {}, []
    for line in lines[:n]:
        if _re_directive.match(line):
            if (kv := _parse(line)): opts[kv[0]] = kv[1]
        elif line.strip(): head.append(line)          # a cell magic
    return opts, '\n'.join(head + lines[n:]).strip('\n')


def directives(source: str) -> dict[str, str]:
    "The `#|` directives at the top of a cell, {name: value} (`#| slow` -> {'slow': ''})."
    return split_directives(source)[0]


def is_false(value: str | None) -> bool: return str(value).strip().lower() == 'false'
def is_true(value: str | None) -> bool: return str(value).strip().lower() == 'true'
