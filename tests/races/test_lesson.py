"""The lesson notebook itself: real source on screen, a core path that fits, plain Python first."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import concurrency_lab as cl
from concurrency_lab.races import primitives

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "04-races-and-locks.ipynb"
SOLUTIONS = ROOT / "notebooks" / "solutions" / "04-races-and-locks-solutions.ipynb"


def _cells(path=NOTEBOOK):
    return json.loads(path.read_text())["cells"]


def _text(cell):
    return "".join(cell["source"])


def _optional(cell):
    return "optional" in cell.get("metadata", {}).get("tags", [])


def _notebook_snippets() -> dict[str, str]:
    """The code blocks of the lesson's primitives tour, by the primitive their heading names."""
    out = {}
    for cell in _cells():
        if cell["cell_type"] != "markdown":
            continue
        text = _text(cell)
        heading = re.search(r"^### `?([\w.]+)`?", text, re.M)
        block = re.search(r"```python\n(.*?)```", text, re.S)
        name = heading.group(1).rsplit(".", 1)[-1] if heading else ""
        if block and name in cl.races.PRIMITIVES:
            out[name] = block.group(1)
    return out


def test_the_lines_the_notebook_shows_are_the_demos_real_source():
    snippets = _notebook_snippets()
    assert set(snippets) == {"RLock", "Semaphore", "Event", "Barrier", "Queue"}
    source = {" ".join(line.split()) for line in inspect.getsource(primitives).splitlines()}
    for name, code in snippets.items():
        for line in code.splitlines():
            if line.strip() and line.strip() != "...":
                assert " ".join(line.split()) in source, f"{name}: {line!r} is not in the demo"


def test_optional_parts_are_tagged_and_announced():
    cells = _cells()
    runs = [i for i, c in enumerate(cells) if _optional(c) and not _optional(cells[i - 1])]
    announced = [i for i, c in enumerate(cells) if _text(c).startswith("**Optional:**")]
    assert len(announced) == 7
    assert set(runs) <= set(announced), "an optional part starts without its announcement"
    assert all(cells[i]["cell_type"] == "markdown" and _optional(cells[i]) for i in announced)
    assert not any(_text(c).startswith("**Optional:**") for c in cells if not _optional(c)), (
        "an untagged cell announces an optional part"
    )


def test_plain_python_comes_first():
    code = [_text(c) for c in _cells() if c["cell_type"] == "code"]
    stdlib = [c for c in code if re.search(r"threading\.(Thread|Lock|Condition|Barrier)\(", c)]
    assert len(stdlib) >= 3
    first_thread = next(i for i, c in enumerate(code) if "threading.Thread(" in c)
    first_lab = next(i for i, c in enumerate(code) if re.search(r"cl\.races\.\w+\(", c))
    assert first_thread < first_lab
    assert any(c.startswith("%%timeline") for c in code)
    assert 'dis.dis("counter.value += 1")' in "\n".join(code)


def _minutes(cells) -> float:
    """The course's estimate for a learner working live (see the common lesson task)."""
    # An exercise's own text is read within its 5 minutes.
    words = sum(
        len(_text(c).split())
        for c in cells
        if c["cell_type"] == "markdown" and not re.match(r"#+ Exercise", _text(c))
    )
    code = [c for c in cells if c["cell_type"] == "code"]
    exercises = sum(1 for c in code if "cl.check." in _text(c))
    others = len(code) - exercises
    predicts = sum(_text(c).count("**Predict:**") for c in cells)
    plots = sum(1 for c in code if re.search(r"plot_\w+\(|%%timeline|_game\(", _text(c)))
    return words / 175 + others * 25 / 60 + predicts * 1.25 + plots * 0.75 + exercises * 5


def test_the_core_path_fits_its_budget():
    core = [c for c in _cells() if not _optional(c)]
    assert _minutes(core) <= 23.5, f"core path: {_minutes(core):.1f} min"


def test_solutions_hold_only_the_exercises_with_why_and_wrong_answer():
    cells = _cells(SOLUTIONS)
    text = "\n".join(_text(c) for c in cells)
    assert len(cells) <= 15
    assert text.count("**Why:**") == text.count("**Common wrong answer:**") == 3
    assert "scheduler_game" not in text and "lost_updates" not in text
