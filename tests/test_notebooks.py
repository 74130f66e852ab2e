"""Every notebook keeps the course's frame and is stored clean. (nbval executes them separately.)"""

from __future__ import annotations

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


def test_the_course_has_its_notebooks():
    assert [nb.name[:2] for nb in NOTEBOOKS][:2] == ["00", "01"]


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
