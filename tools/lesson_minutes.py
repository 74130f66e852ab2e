"""How long each lesson takes a learner working live: measured, counted, written down once.

The method (also in docs/instructor-guide.md, "How the minutes are measured"), calibrated
against timed walk-throughs of the lessons (reviewers working through each lesson as learners,
/work/team/walkthrough; the guide's "Walk-through check" compares both):

* **prose**: the words of the Markdown cells at 150 words a minute (a careful reader new to
  the topic; the walk-throughs read dense text at 120 to 175);
* **code**: 15 seconds per code cell to run it and glance at it, plus 5 seconds per line of
  code to read it (in code cells and in code blocks of the Markdown), plus the time the cell
  took to *run*, measured on the reference machine (``measured`` in docs/lesson-minutes.json);
* **output**: the words the cell printed (sentences, tables, error messages; not figures or
  widgets) at 200 words a minute, and code it showed (a code block in its Markdown) as code;
* **each Predict prompt** (``**Predict:**``): 1 minute to guess, reveal and compare;
* **each figure** the run drew: 1 minute to read it;
* **each explorer or game**: 3 minutes to try a few settings;
* **each exercise**: the time to write it, run the check, read its feedback or a hint once,
  and fix it: the minutes its heading states ("about N min"), else 4 for a warm-up, 5
  otherwise and 12 for one marked harder. Its text and starter code count as above.

A lesson's **core path** is its untagged cells; its **optional parts** are the runs of cells
tagged ``optional``. Each part is cut into **sections** at Markdown headings (and each
exercise heading starts one); a section's minutes are rounded so that a part's sections add
up exactly to the part's minutes (largest remainder), which keeps the workshop plans'
arithmetic exact.

    python tools/lesson_minutes.py             # print the table from the stored measurement
    python tools/lesson_minutes.py --measure   # run every lesson here, store per-cell data
    python tools/lesson_minutes.py --write     # store the table; update README and guide
    python tools/lesson_minutes.py --write --lessons   # ... and the lessons' stated minutes

``tests/test_workshop.py`` recomputes the table from the notebooks and the stored measurement
and checks that docs/lesson-minutes.json, the README, the guide and the lessons' own "Core
path: about N minutes" sentences all say the same.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from notebook_deps import source

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DATA = ROOT / "docs" / "lesson-minutes.json"
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "instructor-guide.md"

WORDS_PER_MINUTE = 150
OUTPUT_WORDS_PER_MINUTE = 200
CODE_CELL_S = 15
CODE_LINE_S = 5
PREDICT_MIN = 1.0
FIGURE_MIN = 1.0
EXPLORER_MIN = 3.0
EXERCISE_DEFAULT_MIN = {"warm-up": 4.0, "default": 5.0, "harder": 12.0}
METHOD = {
    "words_per_minute": WORDS_PER_MINUTE,
    "output_words_per_minute": OUTPUT_WORDS_PER_MINUTE,
    "code_cell_s": CODE_CELL_S,
    "code_line_s": CODE_LINE_S,
    "predict_min": PREDICT_MIN,
    "figure_min": FIGURE_MIN,
    "explorer_min": EXPLORER_MIN,
    "exercise_default_min": EXERCISE_DEFAULT_MIN,
}

_EXPLORER = re.compile(r"\b\w+_(explorer|game)\(")
#: An exercise heading: "### Exercise 2: ...", "### Optional exercise 3: ...".
EXERCISE_HEADING = re.compile(r"^#+\s*(?:Optional\s+)?Exercise\s+(\d+)\b(.*)$", re.M | re.I)
_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*$", re.M)
_ABOUT = re.compile(r"about\s+(\d+(?:\.\d+)?)\s*min", re.I)
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
#: A lesson's own statement of its minutes, as the tool writes it ...
STATED = re.compile(
    r"Core path: about (\d+) minutes; parts marked \*\*Optional\*\* add about (\d+) more\."
)
# ... and as lessons wrote it before (replaced by the form above on --lessons).
_STATED_ANY = re.compile(
    r"\*?Core path: about \d+ minutes(?:\. The \*\*Optional\*\* parts add about \d+, and "
    r"Exercise 3 \(homework\) about \d+\.\*|; parts marked \*\*Optional\*\* go further"
    r"(?: \(about \d+ more\))?\.|; parts marked \*\*Optional\*\* add about \d+ more\."
    r"|; it has no optional parts\.)"
)
OPTIONAL_MARK = "**Optional:**"
BEGIN, END = "<!-- lesson-minutes:begin -->", "<!-- lesson-minutes:end -->"

PartName = Literal["core", "optional"]


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def is_optional(cell: dict) -> bool:
    return "optional" in cell.get("metadata", {}).get("tags", [])


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def markdown_counts(text: str) -> tuple[int, int]:
    """``(words, code lines)`` of a Markdown cell: prose words, and lines of its code blocks."""
    code_lines = sum(
        len([ln for ln in block.splitlines()[1:-1] if ln.strip()]) for block in _FENCE.findall(text)
    )
    prose = _URL.sub(" ", _LINK.sub(r"\1", _FENCE.sub(" ", text)))
    return count_words(prose), code_lines


def code_lines(text: str) -> int:
    """Non-blank lines of a code cell, its cell magic (``%%timeline``) not counted."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines and lines[0].startswith("%%"):
        lines = lines[1:]
    return len(lines)


def exercise_minutes(heading: str) -> float:
    """Minutes to do an exercise: what its heading states, else the default for its kind.

    Reading its text and starter code is counted apart, like any other cell.
    """
    about = _ABOUT.search(heading)
    if about:
        return float(about.group(1))
    low = heading.lower()
    if "warm-up" in low or "warm up" in low:
        return EXERCISE_DEFAULT_MIN["warm-up"]
    if "harder" in low or "challenge" in low:
        return EXERCISE_DEFAULT_MIN["harder"]
    return EXERCISE_DEFAULT_MIN["default"]


@dataclass
class Counts:
    """What a cell, a section or a part of a lesson holds, and its minutes by the method."""

    words: int = 0
    code_cells: int = 0
    code_lines: int = 0
    run_s: float = 0.0
    output_words: int = 0
    predicts: int = 0
    figures: int = 0
    explorers: int = 0
    exercises: list[float] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.words += other.words
        self.code_cells += other.code_cells
        self.code_lines += other.code_lines
        self.run_s += other.run_s
        self.output_words += other.output_words
        self.predicts += other.predicts
        self.figures += other.figures
        self.explorers += other.explorers
        self.exercises += other.exercises

    @property
    def minutes(self) -> float:
        return (
            self.words / WORDS_PER_MINUTE
            + (self.code_cells * CODE_CELL_S + self.code_lines * CODE_LINE_S + self.run_s) / 60
            + self.output_words / OUTPUT_WORDS_PER_MINUTE
            + self.predicts * PREDICT_MIN
            + self.figures * FIGURE_MIN
            + self.explorers * EXPLORER_MIN
            + sum(self.exercises)
        )


def cell_counts(cell: dict, measured: dict[str, dict[str, float]]) -> tuple[Counts, bool]:
    """A cell's counts, and whether it is a code cell with no measurement."""
    text = source(cell)
    c = Counts()
    if cell["cell_type"] == "markdown":
        c.words, c.code_lines = markdown_counts(text)
        c.predicts = text.count("**Predict:**")  # not the "**Predict.**" that 00 describes
        c.exercises = [exercise_minutes(m.group(0)) for m in EXERCISE_HEADING.finditer(text)]
        return c, False
    if cell["cell_type"] != "code":
        return c, False
    c.code_cells = 1
    c.code_lines = code_lines(text)
    c.explorers = len(_EXPLORER.findall(text))
    m = measured.get(cell.get("id", ""))
    if m is None:
        return c, True
    c.run_s = float(m["seconds"])
    c.figures = int(m["images"])
    c.output_words = int(m.get("output_words", 0))
    c.code_lines += int(m.get("output_code_lines", 0))
    return c, False


@dataclass
class Section:
    """A stretch of a lesson: cells from one heading (or part boundary) to the next."""

    id: str
    title: str
    part: PartName
    cells: list[str]
    counts: Counts
    exercise: int | None = None
    minutes: int = 0
    group: str = ""
    announces: str = ""


def _announcement(text: str) -> str:
    """What an "**Optional:** ..." opening says the part is about, in a few words."""
    first = text.strip().splitlines()[0][len(OPTIONAL_MARK) :].strip().lstrip("*")
    first = re.split(r"\.\*|\*\.|\. | \(|(?<=\?) ", first, maxsplit=1)[0].strip(" .*:")
    if len(first) > 70:
        first = first[:70].rsplit(" ", 1)[0] + " …"
    return first


def _title(text: str) -> str:
    """A section's name: its first heading, else what its "**Optional:**" opening announces."""
    heading = _HEADING.search(text)
    if heading:
        return re.sub(r"^Optional:\s*", "", heading.group(2).strip())
    first = text.strip().splitlines()[0] if text.strip() else ""
    if first.startswith(OPTIONAL_MARK):
        first = first[len(OPTIONAL_MARK) :].strip().lstrip("*")
        first = re.split(r"\.\*|\*\.|\. | \(|(?<=\?) ", first, maxsplit=1)[0].strip(" .*")
    if len(first) > 70:
        first = first[:70].rsplit(" ", 1)[0] + " …"
    return first or "(untitled)"


def sections(nb: dict, measured: dict[str, dict[str, float]]) -> tuple[list[Section], list[str]]:
    """A lesson's sections in order, and the code cells with no measurement.

    A new section begins at a Markdown cell with a heading, at an exercise heading, and
    wherever the cells switch between the core path and an optional part. An optional run's
    first cell begins with "**Optional:**" (tests/test_notebooks.py checks that).
    """
    out: list[Section] = []
    missing: list[str] = []
    previous: PartName | None = None
    for cell in nb["cells"]:
        part: PartName = "optional" if is_optional(cell) else "core"
        text = source(cell) if cell["cell_type"] == "markdown" else ""
        exercise = EXERCISE_HEADING.search(text)
        heading = _HEADING.search(text)
        announced = text.lstrip().startswith(OPTIONAL_MARK)
        starts = part != previous or bool(exercise or heading or announced)
        counts, unmeasured = cell_counts(cell, measured)
        if unmeasured:
            missing.append(cell.get("id", "?"))
        if starts or not out:
            cell_id = cell.get("id", "?")
            if exercise:
                title = f"Exercise {exercise.group(1)}{exercise.group(2)}".strip()
                title = re.sub(r"\s*\((?:[^()]*,\s*)?about \d+(?:\.\d+)? min\)", "", title)
            else:
                title = _title(text) if text else "(code)"
            optional_heading = bool(heading and heading.group(2).startswith("Optional"))
            opens_group = (
                part == "core" or exercise or announced or optional_heading or part != previous
            )
            group = cell_id if opens_group or not out else out[-1].group
            out.append(
                Section(
                    id=cell_id,
                    title=title,
                    part=part,
                    cells=[],
                    counts=Counts(),
                    exercise=int(exercise.group(1)) if exercise else None,
                    group=group,
                    announces=_announcement(text) if announced else "",
                )
            )
        out[-1].cells.append(cell.get("id", "?"))
        out[-1].counts.add(counts)
        previous = part
    _round_minutes([s for s in out if s.part == "core"])
    _round_minutes([s for s in out if s.part == "optional"])
    return out, missing


def _round_minutes(part: list[Section]) -> None:
    """Whole minutes per section that add up to the part's rounded total (largest remainder)."""
    exact = [s.counts.minutes for s in part]
    total = round(sum(exact))
    floors = [math.floor(x) for x in exact]
    order = sorted(range(len(part)), key=lambda i: exact[i] - floors[i], reverse=True)
    for rank, i in enumerate(order):
        part[i].minutes = floors[i] + (1 if rank < total - sum(floors) else 0)


def lesson_table(path: Path, measured: dict[str, dict[str, float]]) -> tuple[dict, list[str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    secs, missing = sections(nb, measured)
    core, optional = Counts(), Counts()
    for s in secs:
        (core if s.part == "core" else optional).add(s.counts)
    return {
        "core": sum(s.minutes for s in secs if s.part == "core"),
        "optional": sum(s.minutes for s in secs if s.part == "optional"),
        "core_parts": asdict(core),
        "optional_parts": asdict(optional),
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "part": s.part,
                "minutes": s.minutes,
                "exercise": s.exercise,
                "group": s.group,
                "announces": s.announces,
                "cells": s.cells,
            }
            for s in secs
        ],
    }, missing


def table(data: dict) -> dict[str, dict]:
    cells = data.get("measured", {}).get("cells", {})
    return {path.stem: lesson_table(path, cells.get(path.stem, {}))[0] for path in lessons()}


def unmeasured(data: dict) -> dict[str, list[str]]:
    cells = data.get("measured", {}).get("cells", {})
    out = {}
    for path in lessons():
        missing = lesson_table(path, cells.get(path.stem, {}))[1]
        if missing:
            out[path.stem] = missing
    return out


def markdown_table(minutes: dict[str, dict], questions: dict[str, str] | None = None) -> str:
    """The course map: one row per lesson, core and optional minutes, and a total."""
    q = questions or {}
    head = "| notebook | the question it answers | core path (min) | optional parts (min) |"
    rows = [head, "| --- | --- | ---: | ---: |"]
    for name, m in minutes.items():
        rows.append(f"| `{name}` | {q.get(name, '')} | {m['core']} | {m['optional']} |")
    total_core = sum(m["core"] for m in minutes.values())
    total_opt = sum(m["optional"] for m in minutes.values())
    rows.append(f"| **all lessons** | | **{total_core}** | **{total_opt}** |")
    return "\n".join(rows)


METHOD_MARKERS = ("<!-- lesson-minutes-method:begin -->", "<!-- lesson-minutes-method:end -->")
CHECK_MARKERS = (
    "<!-- lesson-minutes-walkthrough:begin -->",
    "<!-- lesson-minutes-walkthrough:end -->",
)


def method_markdown(data: dict) -> str:
    """The method and the measurement it used, as the guide states them."""
    m = data.get("measured", {})
    defaults = EXERCISE_DEFAULT_MIN
    load = m.get("load_average_after")
    where = f"{m.get('machine', 'not measured yet')}, on {m.get('date', '?')}"
    if load is not None:
        where += f" (load average {load:g} as it ended)"
    run_s = sum(c["seconds"] for cells in m.get("cells", {}).values() for c in cells.values())
    return "\n".join(
        [
            f"- **Prose:** the words of the Markdown cells at {WORDS_PER_MINUTE} words a minute.",
            f"- **Code:** {CODE_CELL_S} s per code cell to run it and glance at the result, "
            f"{CODE_LINE_S} s per line of code to read it (code blocks in the Markdown too), "
            "and the time the cell took to run.",
            f"- **Output:** the words a cell printed (sentences, tables, error messages) at "
            f"{OUTPUT_WORDS_PER_MINUTE} words a minute; code blocks it showed count as code.",
            f"- **Predict prompts:** {PREDICT_MIN:g} min each; **figures:** {FIGURE_MIN:g} min "
            f"each; **explorers and games:** {EXPLORER_MIN:g} min each.",
            "- **Exercises:** to write one, run its check, read the feedback and fix it once: "
            'the minutes its heading states ("about N min"), else '
            f"{defaults['warm-up']:g} for a warm-up, {defaults['default']:g} otherwise and "
            f"{defaults['harder']:g} for one marked harder. Reading the exercise and its starter "
            "code counts as above.",
            "",
            f"Run times, figures and printed words were measured on {where}: every lesson run "
            f"top to bottom in a fresh kernel with nbclient, {run_s:.0f} s of cells in all.",
        ]
    )


def walkthrough_markdown(data: dict) -> str:
    """The method's minutes beside the reviewers' timed walk-throughs (where reported)."""
    walks = data.get("walkthrough", {})
    rows = [
        "| notebook | method: core | walk-through: core | method: optional | "
        "walk-through: optional | walked at commit |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    diffs: list[float] = []
    named: list[tuple[float, str]] = []
    for name, m in data["lessons"].items():
        w = walks.get(name)
        if w is None:
            rows.append(f"| `{name}` | {m['core']} | not reported yet | {m['optional']} | | |")
            continue
        rows.append(
            f"| `{name}` | {m['core']} | {w['core']:g} | {m['optional']} | {w['optional']:g} | "
            f"{('`' + w['commit'] + '`') if w.get('commit') else 'not stated'} |"
        )
        diffs += [m["core"] - w["core"], m["optional"] - w["optional"]]
        named += [
            (m["core"] - w["core"], f"{name[:2]} core"),
            (m["optional"] - w["optional"], f"{name[:2]} optional"),
        ]
    if diffs:
        mean_abs = sum(abs(d) for d in diffs) / len(diffs)
        bias = sum(diffs) / len(diffs)
        rows += [
            "",
            f"Over the {len(diffs)} parts walked through, the method differs from the "
            f"walk-through by {mean_abs:.1f} min on average ({bias:+.1f} min on average with "
            "signs: the method is that much "
            f"{'longer' if bias > 0 else 'shorter'} overall). The largest differences: "
            + ", ".join(f"{what} {d:+g}" for d, what in sorted(named, key=lambda x: -abs(x[0]))[:4])
            + " min.",
        ]
    return "\n".join(rows)


def course_questions() -> dict[str, str]:
    """Each lesson's question, from lesson 00's course map (one source for README and guide)."""
    nb = json.loads((NOTEBOOKS / "00-start-here.ipynb").read_text(encoding="utf-8"))
    out = {}
    for cell in nb["cells"]:
        for m in re.finditer(r"^\| `(\d\d-[\w-]+)` \| (.+?) \|\s*$", source(cell), re.M):
            out[m.group(1)] = m.group(2).strip()
    return out


def replace_between(text: str, new: str, begin: str = BEGIN, end: str = END) -> str:
    if begin not in text or end not in text:
        raise SystemExit(f"markers {begin} ... {end} missing")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{new}\n{end}{tail}"


def stated_minutes(path: Path) -> list[str]:
    """Every sentence in which a lesson states its own minutes ("Core path: about N ...")."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [
        m.group(0)
        for cell in nb["cells"]
        if cell["cell_type"] == "markdown"
        for m in _STATED_ANY.finditer(source(cell))
    ]


def stated_sentence(minutes: dict) -> str:
    """The sentence a lesson states its minutes in (tests/test_workshop.py checks it)."""
    if not minutes["optional"]:
        return f"Core path: about {minutes['core']} minutes; it has no optional parts."
    return (
        f"Core path: about {minutes['core']} minutes; parts marked **Optional** add about "
        f"{minutes['optional']} more."
    )


# --------------------------------------------------------------------------- measuring

_WIDGET = "application/vnd.jupyter.widget-view+json"
_TAG = re.compile(r"<[^>]+>")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def output_counts(outputs: list[dict]) -> tuple[int, int]:
    """``(words, code lines)`` a learner reads in a cell's outputs.

    Words: printed text, tables, error messages. Code lines: the code blocks of a Markdown
    output (the decision guide's patterns), read like code. Figures and widgets count as
    figures and explorers; an error counts its name and message, not the traceback's frames.
    """
    words = lines = 0
    for out in outputs:
        kind = out.get("output_type")
        markdown = False
        if kind == "stream":
            text = out.get("text", "")
        elif kind == "error":
            text = f"{out.get('ename', '')}: {out.get('evalue', '')}"
        else:
            data = out.get("data", {})
            if _WIDGET in data or "image/png" in data or "image/svg+xml" in data:
                continue
            markdown = bool(data.get("text/markdown"))
            text = data.get("text/markdown") or _TAG.sub(" ", data.get("text/html", ""))
            text = text or data.get("text/plain", "")
        if not isinstance(text, str):
            text = "".join(text)
        text = _ANSI.sub("", text)
        if markdown:
            w, c = markdown_counts(text)
            words, lines = words + w, lines + c
        else:
            words += count_words(text)
    return words, lines


def measure(only: list[str] | None = None, keep: Path | None = None) -> dict:
    """Run the lessons in a temporary copy; time each code cell and count what it showed.

    With ``keep``, the executed notebooks are saved there too (to read what they printed).
    """
    import nbformat
    from nbclient import NotebookClient

    cells: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "notebooks"
        shutil.copytree(NOTEBOOKS, work, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        for path in lessons():
            if only and not any(path.stem.startswith(o) for o in only):
                continue
            nb = nbformat.read(work / path.name, as_version=4)
            client = NotebookClient(
                nb,
                timeout=180,
                kernel_name="python3",
                resources={"metadata": {"path": str(work)}},
                record_timing=True,
            )
            client.execute()
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, keep / path.name)
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
                outputs = cell.get("outputs", [])
                images = sum(
                    1
                    for o in outputs
                    if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
                )
                per_cell[cell.id] = {
                    "seconds": round(seconds, 2),
                    "images": images,
                    "output_words": output_counts(outputs)[0],
                    "output_code_lines": output_counts(outputs)[1],
                }
            cells[path.stem] = per_cell
            print(f"measured {path.stem}: {sum(c['seconds'] for c in per_cell.values()):.1f} s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "date": dt.date.today().isoformat(),
        "machine": (
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} logical CPUs, "
            f"Python {platform.python_version()}"
        ),
        "load_average_after": None if load is None else round(load, 1),
        "cells": cells,
    }


# --------------------------------------------------------------------------- writing


def write_lesson_statements(minutes: dict[str, dict]) -> list[str]:
    """Make a lesson that states its minutes state the table's.

    Only the sentence changes: it is replaced in the notebook's JSON text itself, so the rest
    of the file stays byte for byte as it was.
    """
    changed = []
    for path in lessons():
        if not stated_minutes(path):
            continue
        sentence = json.dumps(stated_sentence(minutes[path.stem]), ensure_ascii=False)[1:-1]
        text = path.read_text(encoding="utf-8")
        new = _STATED_ANY.sub(sentence.replace("\\", "\\\\"), text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path.name)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", action="store_true", help="run the lessons and time them")
    parser.add_argument("--only", action="append", help="with --measure: only lesson NN")
    parser.add_argument("--keep", type=Path, help="with --measure: save the executed lessons here")
    parser.add_argument("--write", action="store_true", help="store the table, update docs")
    parser.add_argument(
        "--lessons", action="store_true", help="with --write: update the lessons' stated minutes"
    )
    args = parser.parse_args(argv)
    data = json.loads(DATA.read_text(encoding="utf-8")) if DATA.exists() else {}
    if args.measure:
        new = measure(args.only, args.keep)
        if args.only and "measured" in data:
            data["measured"]["cells"].update(new["cells"])
            data["measured"]["partial_remeasure"] = new["date"]
        else:
            data["measured"] = new
    data["method"] = METHOD
    data["lessons"] = table(data)
    missing = unmeasured(data)
    print(markdown_table(data["lessons"], course_questions()))
    if missing:
        print(f"\nNot measured yet (run with --measure): {missing}", file=sys.stderr)
    if args.write:
        DATA.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        for doc in (README, GUIDE):
            text = doc.read_text(encoding="utf-8")
            if BEGIN in text:
                text = replace_between(text, markdown_table(data["lessons"], course_questions()))
            if METHOD_MARKERS[0] in text:
                text = replace_between(text, method_markdown(data), *METHOD_MARKERS)
            if CHECK_MARKERS[0] in text:
                text = replace_between(text, walkthrough_markdown(data), *CHECK_MARKERS)
            doc.write_text(text, encoding="utf-8")
        if args.lessons:
            for name in write_lesson_statements(data["lessons"]):
                print(f"updated the stated minutes in {name}")
        print(f"\nwrote {DATA.relative_to(ROOT)}")
    return 1 if missing and args.write else 0


if __name__ == "__main__":
    raise SystemExit(main())
