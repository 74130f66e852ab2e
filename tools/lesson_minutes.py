"""How long each lesson takes a learner working live: measured, counted, written down once.

The method (also in docs/instructor-guide.md, "How the minutes are measured"):

* **reading**: the words of the Markdown cells at 175 words a minute (a careful reader of
  technical text reads 150 to 200);
* **each code cell**: 25 seconds to read, run and glance at, plus the time it took to *run*,
  measured on the reference machine (2 cores; see ``measured`` in docs/lesson-minutes.json);
* **each Predict prompt**: 1.25 minutes to guess, reveal and discuss;
* **each figure** the run drew: 0.75 minutes to read it;
* **each explorer**: 2.5 minutes to try a few settings;
* **each exercise**: the minutes its heading states ("about N min"), else 4 for a warm-up,
  12 for one marked harder, 7 otherwise.

A lesson's **core path** is its untagged cells; its **optional parts** are the cells tagged
``optional``. The numbers are then checked by a timed walk-through (reviewers working through
each lesson as learners; see the guide).

    python tools/lesson_minutes.py             # print the table from the stored measurement
    python tools/lesson_minutes.py --measure   # run every lesson here, store per-cell times
    python tools/lesson_minutes.py --write     # store the table and update README and guide

``tests/test_workshop.py`` recomputes the table from the notebooks and the stored measurement
and checks that docs/lesson-minutes.json, the README and the guide all say the same.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DATA = ROOT / "docs" / "lesson-minutes.json"
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "instructor-guide.md"

WORDS_PER_MINUTE = 175
CODE_CELL_S = 25
PREDICT_MIN = 1.25
FIGURE_MIN = 0.75
EXPLORER_MIN = 2.5
EXERCISE_MIN = {"warm-up": 4.0, "harder": 12.0, "default": 7.0}
METHOD = {
    "words_per_minute": WORDS_PER_MINUTE,
    "code_cell_s": CODE_CELL_S,
    "predict_min": PREDICT_MIN,
    "figure_min": FIGURE_MIN,
    "explorer_min": EXPLORER_MIN,
    "exercise_min": EXERCISE_MIN,
}
_EXPLORER = re.compile(r"\b\w+_(explorer|game)\(")
_EXERCISE = re.compile(r"^#+\s*(?:Optional\s+)?Exercise\b(.*)$", re.M | re.I)
_ABOUT = re.compile(r"about\s+(\d+(?:\.\d+)?)\s*min", re.I)
BEGIN, END = "<!-- lesson-minutes:begin -->", "<!-- lesson-minutes:end -->"


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def _optional(cell: dict) -> bool:
    return "optional" in cell.get("metadata", {}).get("tags", [])


@dataclass
class Part:
    """What one part (core or optional) of a lesson holds, and its minutes by the method."""

    words: int = 0
    code_cells: int = 0
    run_s: float = 0.0
    predicts: int = 0
    figures: int = 0
    explorers: int = 0
    exercises: list[float] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        return (
            self.words / WORDS_PER_MINUTE
            + (self.code_cells * CODE_CELL_S + self.run_s) / 60
            + self.predicts * PREDICT_MIN
            + self.figures * FIGURE_MIN
            + self.explorers * EXPLORER_MIN
            + sum(self.exercises)
        )


def exercise_minutes(heading: str) -> float:
    about = _ABOUT.search(heading)
    if about:
        return float(about.group(1))
    low = heading.lower()
    if "warm-up" in low or "warm up" in low:
        return EXERCISE_MIN["warm-up"]
    if "harder" in low or "challenge" in low:
        return EXERCISE_MIN["harder"]
    return EXERCISE_MIN["default"]


def count(nb_path: Path, measured: dict[str, dict[str, float]]) -> tuple[Part, Part, list[str]]:
    """The core and optional parts of a lesson, and the code cells with no measurement."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    core, optional, missing = Part(), Part(), []
    for cell in nb["cells"]:
        part = optional if _optional(cell) else core
        text = _source(cell)
        if cell["cell_type"] == "markdown":
            part.words += len(re.findall(r"[A-Za-z0-9][\w'’-]*", text))
            part.predicts += text.count("**Predict:**")  # not the "**Predict.**" of 00
            part.exercises += [exercise_minutes(m.group(0)) for m in _EXERCISE.finditer(text)]
        elif cell["cell_type"] == "code":
            part.code_cells += 1
            part.explorers += len(_EXPLORER.findall(text))
            m = measured.get(cell.get("id", ""))
            if m is None:
                missing.append(cell.get("id", "?"))
            else:
                part.run_s += m["seconds"]
                part.figures += int(m["images"])
    return core, optional, missing


def table(data: dict) -> dict[str, dict]:
    out = {}
    for path in lessons():
        cells = data.get("measured", {}).get("cells", {}).get(path.stem, {})
        core, optional, _ = count(path, cells)
        out[path.stem] = {
            "core": round(core.minutes),
            "optional": round(optional.minutes),
            "core_parts": asdict(core),
            "optional_parts": asdict(optional),
        }
    return out


def markdown_table(minutes: dict[str, dict]) -> str:
    rows = [
        "| notebook | core path (min) | optional parts (min) |",
        "| --- | ---: | ---: |",
    ]
    for name, m in minutes.items():
        rows.append(f"| `{name}` | {m['core']} | {m['optional']} |")
    total_core = sum(m["core"] for m in minutes.values())
    total_opt = sum(m["optional"] for m in minutes.values())
    rows.append(f"| **all lessons** | **{total_core}** | **{total_opt}** |")
    return "\n".join(rows)


def replace_between_markers(text: str, new: str) -> str:
    if BEGIN not in text or END not in text:
        raise SystemExit(f"markers {BEGIN} ... {END} missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{new}\n{END}{tail}"


# --------------------------------------------------------------------------- measuring


def measure() -> dict:
    """Run every lesson in a temporary copy and time each code cell (nbclient)."""
    import nbformat
    from nbclient import NotebookClient

    cells: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "notebooks"
        shutil.copytree(NOTEBOOKS, work, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        for path in lessons():
            nb = nbformat.read(work / path.name, as_version=4)
            client = NotebookClient(
                nb,
                timeout=180,
                kernel_name="python3",
                resources={"metadata": {"path": str(work)}},
                record_timing=True,
            )
            client.execute()
            per_cell: dict[str, dict[str, float]] = {}
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                timing = cell.metadata.get("execution", {})
                start = timing.get("iopub.execute_input") or timing.get("shell.execute_reply")
                end = timing.get("shell.execute_reply")
                seconds = 0.0
                if start and end:
                    t0 = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
                    t1 = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
                    seconds = max(0.0, (t1 - t0).total_seconds())
                images = sum(
                    1
                    for o in cell.get("outputs", [])
                    if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
                )
                per_cell[cell.id] = {"seconds": round(seconds, 2), "images": images}
            cells[path.stem] = per_cell
            print(f"measured {path.stem}: {sum(c['seconds'] for c in per_cell.values()):.1f} s")
    return {
        "date": dt.date.today().isoformat(),
        "machine": (
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} logical CPUs, "
            f"Python {platform.python_version()}"
        ),
        "cells": cells,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", action="store_true", help="run every lesson and time it")
    parser.add_argument("--write", action="store_true", help="store the table, update docs")
    args = parser.parse_args(argv)
    data = json.loads(DATA.read_text(encoding="utf-8")) if DATA.exists() else {}
    if args.measure:
        data["measured"] = measure()
    data["method"] = METHOD
    data["lessons"] = table(data)
    missing = {
        p.stem: m
        for p in lessons()
        if (m := count(p, data.get("measured", {}).get("cells", {}).get(p.stem, {}))[2])
    }
    print(markdown_table(data["lessons"]))
    if missing:
        print(f"\nNot measured yet (run with --measure): {missing}", file=sys.stderr)
    if args.write:
        DATA.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        for doc in (README, GUIDE):
            text = doc.read_text(encoding="utf-8")
            if BEGIN in text:
                doc.write_text(
                    replace_between_markers(text, markdown_table(data["lessons"])),
                    encoding="utf-8",
                )
        print(f"\nwrote {DATA.relative_to(ROOT)}")
    return 1 if missing and args.write else 0


if __name__ == "__main__":
    raise SystemExit(main())
