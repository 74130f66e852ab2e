"""The library's shape, checked: the rules in docs/architecture.md that keep it easy to change.

- no module imports another module's private (``_underscored``) names;
- no import cycles between the package's modules (imports inside functions count too);
- no module over ``MAX_LINES`` lines;
- the core imports nothing outside the standard library and nothing from the lessons;
- the front door (``import concurrency_lab as cl``) stays small, and ``dir(cl)`` shows only it;
- every public name of every lesson namespace resolves.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

import concurrency_lab as cl

PKG = Path(cl.__file__).parent
MAX_LINES = 600
CORE = "concurrency_lab.core"
VIEW = "concurrency_lab.view"
FRONT_DOOR_MAX = 45


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names, from inside ``module``."""
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, list[str], int]]:
    """``(imported module, names, line)`` for every import in ``module`` (anywhere in it)."""
    tree = ast.parse(MODULES[module].read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            names = [a.name for a in node.names]
            # ``from . import x`` imports submodule x when x is a module
            subs = [n for n in names if f"{target}.{n}" in MODULES]
            for n in subs:
                found.append((f"{target}.{n}", [], node.lineno))
            rest = [n for n in names if n not in subs]
            if rest:
                found.append((target, rest, node.lineno))
        elif isinstance(node, ast.Import):
            for a in node.names:
                found.append((a.name, [], node.lineno))
    return found


def test_no_module_imports_another_modules_private_names():
    bad = []
    for module in MODULES:
        for target, names, line in _imports(module):
            if target == module or not target.startswith("concurrency_lab"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                bad.append(f"{module}:{line} imports {', '.join(private)} from {target}")
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)


def test_no_import_cycles():
    def follows(m: str, t: str, line: int) -> bool:
        if t not in MODULES or t == m or m.startswith(t + "."):
            return False
        # a result's .plot() loading the view layer when called is the one allowed way back
        return not (m.startswith(CORE) and t.startswith(VIEW) and not _top_level(m, line))

    graph = {m: {t for t, _, line in _imports(m) if follows(m, t, line)} for m in MODULES}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join([*stack[stack.index(t) :], t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in MODULES:
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


# Modules still being split into smaller ones; this list must end up empty.
_TOO_LONG_FOR_NOW: set[str] = set()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_too_long(module):
    n = len(MODULES[module].read_text().splitlines())
    if module in _TOO_LONG_FOR_NOW:
        pytest.skip(f"{module} ({n} lines) is being split")
    assert n <= MAX_LINES, f"{module} has {n} lines (at most {MAX_LINES}): split it by topic"


def _top_level(module: str, line: int) -> bool:
    tree = ast.parse(MODULES[module].read_text())
    return any(n.lineno == line for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))


def test_core_needs_only_the_standard_library_and_no_lesson():
    stdlib = set(sys.stdlib_module_names)
    bad = []
    for module in MODULES:
        if not module.startswith("concurrency_lab.core"):
            continue
        for target, _, line in _imports(module):
            top = target.split(".")[0]
            if top == "concurrency_lab":
                # a result's .plot() may load the view layer when called; nothing else
                lazy_view = target.startswith("concurrency_lab.view") and not _top_level(
                    module, line
                )
                if not target.startswith("concurrency_lab.core") and not lazy_view:
                    bad.append(f"{module}:{line} imports {target}")
            elif top not in stdlib and top != "__future__":
                # optional helpers (psutil, tqdm) may be imported inside functions only
                tree = ast.parse(MODULES[module].read_text())
                top_level = {
                    getattr(n, "module", None) or n.names[0].name
                    for n in tree.body
                    if isinstance(n, (ast.Import, ast.ImportFrom))
                }
                if any(t and t.split(".")[0] == top for t in top_level):
                    bad.append(f"{module}:{line} imports {target} at module level")
    assert not bad, "\n".join(bad)


def test_the_front_door_is_small_and_dir_shows_only_it():
    assert len(cl.__all__) <= FRONT_DOOR_MAX, sorted(cl.__all__)
    assert dir(cl) == sorted(cl.__all__)
    for name in cl.__all__:
        getattr(cl, name)


@pytest.mark.parametrize("lesson", cl.LESSONS)
def test_every_name_of_a_lesson_namespace_resolves(lesson):
    module = importlib.import_module(f"concurrency_lab.{lesson}")
    assert module.__all__, f"cl.{lesson} lists no names"
    assert dir(module) == sorted(module.__all__)
    for name in module.__all__:
        assert not name.startswith("_")
        getattr(module, name)


@pytest.mark.parametrize("lesson", cl.LESSONS)
def test_no_public_name_hides_a_submodule(lesson):
    """``from concurrency_lab.<lesson> import x`` must give the module x, never a function x."""
    module = importlib.import_module(f"concurrency_lab.{lesson}")
    submodules = {p.stem for p in (PKG / lesson).glob("*.py")}
    assert not submodules & set(module.__all__)


def test_unknown_names_fail_clearly():
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        cl.nonsense  # noqa: B018
    with pytest.raises(AttributeError, match="grouped by lesson"):
        cl.check.nonsense  # noqa: B018


_COLOUR_LITERAL = re.compile(
    r"""(?:color|edgecolor|facecolor|markeredgecolor|markerfacecolor)["']?\s*[=:]\s*"""
    r"""(?:[^,\n]*?\belse\s+)?["'](?:#[0-9A-Fa-f]{3,8}|black|white|gr[ae]y|k|w|0?\.\d+)["']"""
)


def test_plot_modules_take_their_colours_from_the_style():
    """Greys and black carry meaning too: named in view.style (INK, EDGE, NEUTRAL, ...)."""
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        if path.name in ("style.py", "figure_checks.py"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _COLOUR_LITERAL.search(line):
                offenders.append(f"{path.relative_to(PKG)}:{n}: {line.strip()}")
    assert offenders == []
