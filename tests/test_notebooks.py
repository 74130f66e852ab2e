"""Every notebook keeps the course's frame and is stored clean. (nbval executes them separately.)"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import notebook_deps as deps  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
LESSONS = [nb for nb in NOTEBOOKS if not nb.name.startswith("00-")]
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
FIX = (
    "nbstripout --keep-id --extra-keys metadata.widgets "
    "notebooks/*.ipynb notebooks/solutions/*.ipynb"
)


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


_source = deps.source


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
    cells = _load(path)["cells"]
    core = [c.get("id") for c in cells if "optional" not in _tags(c)]
    problems = deps.missing_after_cut(cells, core)
    assert not problems, "skipping the optional parts: " + "; ".join(map(str, problems))


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
        if c["cell_type"] == "code" and _STDLIB_CALL.search(deps.cell_python(c)[0])
    ]
    assert len(cells) >= 3, f"only {len(cells)} code cells use the stdlib concurrency API"
