"""Every notebook keeps the course's frame and is stored clean. (nbval executes them separately.)"""

from __future__ import annotations

import ast
import builtins
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
LESSONS = [nb for nb in NOTEBOOKS if not nb.name.startswith("00-")]
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
FIX = (
    "nbstripout --keep-id --extra-keys metadata.widgets "
    "notebooks/*.ipynb notebooks/solutions/*.ipynb"
)


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


COURSE = [
    "00-start-here",
    "01-threads-and-processes",
    "02-the-gil",
    "03-core-scaling",
    "04-races-and-locks",
    "05-deadlocks",
    "06-ipc",
    "07-choosing-a-model",
    "08-common-problems",
]


def test_the_course_has_its_notebooks():
    assert [nb.stem for nb in NOTEBOOKS] == COURSE


@pytest.mark.parametrize("path", NOTEBOOKS + SOLUTIONS, ids=lambda p: p.name)
def test_stored_without_outputs_or_widget_state(path):
    nb = _load(path)
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} stores widget state. Fix: {FIX}"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, (
                f"{path.name} stores outputs. Fix: {FIX}"
            )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_frame(path):
    nb = _load(path)
    markdown = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    code = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "code")
    for heading in ("Questions", "Objectives", "Exercises", "Key points"):
        assert re.search(rf"\*\*{heading}\*\*|#+ .*{heading}", markdown), f"no '{heading}'"
    assert "Predict" in markdown, "no predict-then-run prompt"
    assert "import concurrency_lab as cl" in code
    assert "import *" not in code
    assert re.search(r"cl\.(\w+\.)?plot_\w+\(", code), "no plot"
    assert re.search(r"cl\.(\w+\.)?\w+_(explorer|game)\(", code), "no widget"
    checks = re.findall(r"cl\.check\.\w+\.\w+\(", code)
    assert len(checks) >= 3, "fewer than 3 self-checked exercises"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_lesson_has_a_solutions_notebook(path):
    solution = ROOT / "notebooks" / "solutions" / f"{path.stem}-solutions.ipynb"
    assert solution.exists(), f"missing {solution.relative_to(ROOT)}"
    code = "\n".join(_source(c) for c in _load(solution)["cells"] if c["cell_type"] == "code")
    assert "cl.check." in code


# --------------------------------------------------------------------------- core path


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _python(cell: dict) -> tuple[str, set[str]]:
    """The cell's Python (magics removed) and the names its magics define."""
    lines = _source(cell).splitlines()
    defined: set[str] = set()
    if lines and lines[0].startswith("%%worker_module"):
        defined.add(lines[0].split()[1])
        lines = lines[1:]
    elif lines and lines[0].startswith("%%"):
        lines = lines[1:]
    body = [ln for ln in lines if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(body), defined


def _names(cell: dict) -> tuple[set[str], set[str]]:
    """``(defined, used)`` top-level names of a code cell."""
    code, defined = _python(cell)
    tree = ast.parse(code)
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    return defined, used - set(dir(builtins))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_optional_parts_are_marked_where_they_begin(path):
    """An optional part is a run of cells tagged "optional"; its first cell says so."""
    cells = _load(path)["cells"]
    previous = False
    for i, cell in enumerate(cells):
        optional = "optional" in _tags(cell)
        if optional and not previous:
            assert cell["cell_type"] == "markdown" and _source(cell).lstrip().startswith(
                ("**Optional:**", "## Optional", "### Optional")
            ), f"cell {i} begins an optional part: start its first markdown with **Optional:**"
        previous = optional


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_core_path_needs_nothing_from_an_optional_part(path):
    """Skipping every optional part must leave no later core cell without a name it uses."""
    core_defined: set[str] = set()
    optional_only: dict[str, int] = {}
    problems = []
    for i, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        defined, used = _names(cell)
        if "optional" in _tags(cell):
            for name in defined - core_defined:
                optional_only.setdefault(name, i)
            continue
        for name in sorted(used - defined - core_defined):
            if name in optional_only:
                problems.append(
                    f"core cell {i} uses {name!r}, set only in optional cell {optional_only[name]}"
                )
        core_defined |= defined
        src = _source(cell)
        if re.search(r"^%%(timeline|worker_module)", src, re.M):
            assert "%load_ext concurrency_lab" in "".join(
                _source(c)
                for c in _load(path)["cells"][: i + 1]
                if c["cell_type"] == "code" and "optional" not in _tags(c)
            ), f"core cell {i} uses a magic before a core cell runs %load_ext concurrency_lab"
    assert not problems, "\n".join(problems)


_STDLIB_CALL = re.compile(
    r"\b(threading|multiprocessing|asyncio|queue|concurrent\.futures|faulthandler|mp)\.\w+\("
    r"|\b(ThreadPoolExecutor|ProcessPoolExecutor|Thread|Process|Pool|Queue|SimpleQueue|Lock|RLock"
    r"|Condition|Semaphore|Event|Barrier|Pipe|Value|Array|SharedMemory|Manager)\("
)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_lesson_runs_plain_stdlib_concurrency_code(path):
    """The lab is a lens: at least 3 code cells call threading, multiprocessing,
    concurrent.futures, queue or asyncio directly (imports alone do not count)."""
    cells = [
        c
        for c in _load(path)["cells"]
        if c["cell_type"] == "code" and _STDLIB_CALL.search(_python(c)[0])
    ]
    assert len(cells) >= 3, f"only {len(cells)} code cells use the stdlib concurrency API"
