"""The shape of ``06-ipc.ipynb``: plain code first, a core path, and optional parts that the
core never depends on. (nbval runs the notebook itself.)"""

from __future__ import annotations

import ast
import builtins
import json
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "06-ipc.ipynb"
CELLS = json.loads(NOTEBOOK.read_text())["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _optional(cell: dict) -> bool:
    return "optional" in cell.get("metadata", {}).get("tags", [])


def _names(code: str) -> tuple[set[str], set[str]]:
    """(names the cell defines, names it reads)."""
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.startswith("%")))
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
            defined.update(a.arg for a in node.args.args + node.args.kwonlyargs)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.comprehension):
            defined.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    return defined, used


def test_no_core_cell_needs_an_optional_cell():
    core_defined = set(dir(builtins))
    missing = []
    for i, cell in enumerate(CELLS):
        if cell["cell_type"] != "code":
            continue
        defined, used = _names(_source(cell))
        if not _optional(cell):
            lacking = used - core_defined - defined
            if lacking:
                missing.append(f"cell {i} uses {sorted(lacking)}")
            core_defined |= defined
    assert not missing, "core cells need names defined only in optional cells: " + "; ".join(
        missing
    )


def test_each_optional_part_says_so_first():
    starts = [
        i
        for i, cell in enumerate(CELLS)
        if _optional(cell) and (i == 0 or not _optional(CELLS[i - 1]))
    ]
    for i in starts:
        cell = CELLS[i]
        assert cell["cell_type"] == "markdown" and _source(cell).startswith("**Optional:**"), i
    # Manager, cost, pipeline, pitfalls, Exercise 2, Exercise 3: each opens with its own line.
    parts = [c for c in CELLS if _optional(c) and _source(c).startswith("**Optional:**")]
    assert len(parts) == 6


def test_the_frame_is_core():
    core_md = "\n".join(
        _source(c) for c in CELLS if c["cell_type"] == "markdown" and not _optional(c)
    )
    for heading in ("**Questions**", "**Objectives**", "## Exercises", "## Key points"):
        assert heading in core_md


@pytest.mark.parametrize(
    "api",
    [
        r"ctx\.Pipe\(",
        r"\.poll\(timeout=",
        r"ctx\.Queue\(",
        r"ctx\.Value\(",
        r"get_lock",
        r"SharedMemory\(create=True",
        r"ctx\.Manager\(\)",
        r"\.copy\(\)",
    ],
)
def test_each_primitive_is_plain_code_on_screen(api):
    code = "\n".join(_source(c) for c in CELLS if c["cell_type"] == "code")
    assert re.search(api, code), api


def test_core_exercise_is_checked_and_the_trap_is_taught_once():
    core_code = "\n".join(
        _source(c) for c in CELLS if c["cell_type"] == "code" and not _optional(c)
    )
    assert "cl.check.ipc.pipe_exchange(" in core_code
    text = "\n".join(_source(c) for c in CELLS)
    assert text.count("Joining processes that use queues") == 1
