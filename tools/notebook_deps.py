"""What each code cell of a lesson needs from earlier cells, and what skipping cells breaks.

A cell is read by its syntax tree, with its magics taken out (names it defines and uses),
plus what the magics themselves define:
``%%worker_module NAME`` defines ``NAME`` and ``%%timeline`` defines ``_timeline``. A cell
that starts with ``%%timeline`` or ``%%worker_module`` needs an earlier cell that ran
``%load_ext concurrency_lab``.

Used by ``tools/workshop.py`` (which variables each exercise needs after a restart), by
``tests/test_workshop.py`` (no cut of the workshop plans leaves a kept cell without what it
needs) and by ``tests/test_notebooks.py`` (skipping the optional parts breaks no core cell).
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAGICS_NEEDING_EXTENSION = ("%%timeline", "%%worker_module")
LOAD_EXTENSION = "%load_ext concurrency_lab"
#: Names IPython puts in every notebook's namespace.
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "_", "__", "___"})


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def cell_python(cell: dict) -> tuple[str, set[str]]:
    """The cell's Python with its magics taken out, and the names its magics define."""
    lines = source(cell).splitlines()
    defined: set[str] = set()
    if lines and lines[0].startswith("%%worker_module"):
        defined.add(lines[0].split()[1])
        lines = lines[1:]
    elif lines and lines[0].startswith("%%timeline"):
        defined.add("_timeline")
        lines = lines[1:]
    elif lines and lines[0].startswith("%%"):
        lines = lines[1:]
    body = [ln for ln in lines if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(body), defined


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _children(node: ast.AST) -> list[ast.AST]:
    """Child nodes in this scope; a nested scope's body is left out (its defaults are not)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = node.args
        return [*node.decorator_list, *a.defaults, *[d for d in a.kw_defaults if d]]
    if isinstance(node, ast.Lambda):
        return [*node.args.defaults, *[d for d in node.args.kw_defaults if d]]
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
    if isinstance(node, _COMPREHENSIONS):
        return [node.generators[0].iter]
    return list(ast.iter_child_nodes(node))


def _scope(nodes: list[ast.AST], params: set[str]) -> tuple[set[str], set[str], set[str]]:
    """``(bound, free, globals)`` of one scope: names it binds, reads unbound, declares global."""
    bound, loads, declared = set(params), set(), set()
    nested: list[ast.AST] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else loads).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global):
            declared.update(node.names)
        if isinstance(node, (*_SCOPES, *_COMPREHENSIONS)):
            nested.append(node)
        stack.extend(_children(node))
    free = loads - bound
    globals_set: set[str] = set()
    for node in nested:
        _, inner_free, inner_globals = _nested(node)
        free |= inner_free - bound
        globals_set |= inner_globals
    return bound - declared, free, globals_set | declared


def _nested(node: ast.AST) -> tuple[set[str], set[str], set[str]]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        params = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
        params |= {x.arg for x in (a.vararg, a.kwarg) if x}
        body = node.body if isinstance(node.body, list) else [node.body]
        return _scope(list(body), params)
    if isinstance(node, ast.ClassDef):
        return _scope(list(node.body), set())
    # a comprehension: its targets are local; everything after the first iterable is inside
    gens = node.generators
    parts: list[ast.AST] = [g.target for g in gens] + [i for g in gens for i in g.ifs]
    parts += [g.iter for g in gens[1:]]
    parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
    return _scope(parts, set())


def cell_names(cell: dict) -> tuple[set[str], set[str]]:
    """``(defined, used)``: names a code cell binds at the top level, and the free names it
    reads (inside its functions too), Python's builtins and IPython's names left out."""
    code, defined = cell_python(cell)
    bound, free, declared = _scope(list(ast.parse(code).body), set())
    return defined | bound | declared, free - set(dir(builtins)) - IPYTHON_NAMES


def needs_extension(cell: dict) -> bool:
    return source(cell).lstrip().startswith(MAGICS_NEEDING_EXTENSION)


def loads_extension(cell: dict) -> bool:
    return LOAD_EXTENSION in source(cell)


@dataclass(frozen=True)
class Missing:
    """A kept cell that needs something only a skipped cell provides."""

    cell: str
    name: str
    provided_by: str

    def __str__(self) -> str:
        if self.name == LOAD_EXTENSION:
            return f"cell {self.cell} uses a magic, but {LOAD_EXTENSION} ran only in a cut cell"
        return f"cell {self.cell} uses {self.name!r}, set only in cut cell {self.provided_by}"


def code_cells(cells: Sequence[dict]) -> list[dict]:
    return [c for c in cells if c.get("cell_type") == "code"]


def missing_after_cut(cells: Sequence[dict], kept: Iterable[str]) -> list[Missing]:
    """What the kept cells (by id), run in order, need from cells that are not kept.

    A name counts as missing when a kept cell reads it, no earlier kept cell defines it, and
    a cell that is not kept does (earlier or later: a learner who skips it never has it).
    """
    keep = set(kept)
    code = code_cells(cells)
    elsewhere: dict[str, str] = {}
    extension_elsewhere = ""
    for cell in code:
        if cell.get("id") not in keep:
            for name in cell_names(cell)[0]:
                elsewhere.setdefault(name, cell.get("id", "?"))
            if loads_extension(cell) and not extension_elsewhere:
                extension_elsewhere = cell.get("id", "?")
    have: set[str] = set()
    extension = False
    problems: list[Missing] = []
    for cell in code:
        if cell.get("id") not in keep:
            continue
        defined, used = cell_names(cell)
        for name in sorted(used - defined - have):
            if name in elsewhere:
                problems.append(Missing(cell.get("id", "?"), name, elsewhere[name]))
        if needs_extension(cell) and not extension and not loads_extension(cell):
            problems.append(Missing(cell.get("id", "?"), LOAD_EXTENSION, extension_elsewhere))
        have |= defined
        extension = extension or loads_extension(cell)
    return problems


def needs_from_earlier(cells: Sequence[dict], cell_id: str) -> dict[str, str]:
    """The names ``cell_id`` reads that an earlier cell defines: name -> the latest such cell.

    ``cl`` and other imports count too: after a restart they must run again as well.
    """
    latest: dict[str, str] = {}
    extension = ""
    for cell in code_cells(cells):
        cid = cell.get("id", "?")
        if cid == cell_id:
            defined, used = cell_names(cell)
            out = {n: latest[n] for n in sorted(used - defined) if n in latest}
            if needs_extension(cell) and extension:
                out["%load_ext"] = extension
            return out
        for name in cell_names(cell)[0]:
            latest[name] = cid
        if loads_extension(cell):
            extension = cid
    raise KeyError(f"no code cell {cell_id!r}")


CHECK_CALL = re.compile(r"\bcl\.check\.(\w+)\.(\w+)\(")
