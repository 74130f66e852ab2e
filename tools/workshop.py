"""The workshop plans, the cut ladder and the per-lesson tables of the instructor guide.

``docs/workshop.json`` holds the choices (which lessons' core paths and optional parts go in
each plan, which exercises are live, the breaks, and what to cut, in order, when the room
falls behind). Every number of minutes in it comes from ``docs/lesson-minutes.json``
(``tools/lesson_minutes.py``): this tool copies them in, checks the arithmetic and the
dependencies, and renders the tables into ``docs/instructor-guide.md`` between markers
``<!-- workshop:NAME:begin -->`` and ``<!-- workshop:NAME:end -->``.

    python tools/workshop.py           # check the plans; print what is wrong
    python tools/workshop.py --write   # refresh the minutes, check, render into the guide

``tests/test_workshop.py`` runs the same checks and compares the guide with the rendering.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lesson_minutes as lm
import notebook_deps as deps

ROOT = lm.ROOT
PLANS = ROOT / "docs" / "workshop.json"
GUIDE = lm.GUIDE
CONTENT_KINDS = ("lesson",)


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def cells_of(lesson: str) -> list[dict]:
    return load_json(lm.NOTEBOOKS / f"{lesson}.ipynb")["cells"]


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class Group:
    """An optional part as the lesson announces it (or one exercise), or one core section."""

    id: str
    title: str
    part: str
    minutes: int
    exercise: int | None
    sections: tuple[str, ...]
    cells: tuple[str, ...]


def groups(minutes: dict, lesson: str) -> dict[str, Group]:
    out: dict[str, Group] = {}
    for s in minutes["lessons"][lesson]["sections"]:
        g = out.get(s["group"])
        if g is None:
            out[s["group"]] = Group(
                s["group"],
                (s.get("announces") if s["exercise"] is None else "") or s["title"],
                s["part"],
                s["minutes"],
                s["exercise"],
                (s["id"],),
                tuple(s["cells"]),
            )
        else:
            out[s["group"]] = Group(
                g.id,
                g.title,
                g.part,
                g.minutes + s["minutes"],
                g.exercise,
                (*g.sections, s["id"]),
                (*g.cells, *s["cells"]),
            )
    return out


def section(minutes: dict, lesson: str, section_id: str) -> dict:
    for s in minutes["lessons"][lesson]["sections"]:
        if s["id"] == section_id:
            return s
    raise KeyError(f"{lesson} has no section starting at cell {section_id!r}")


def item_minutes(minutes: dict, item: dict) -> int:
    """The minutes of a plan slot, a homework item or a cut, from docs/lesson-minutes.json."""
    if "lesson" not in item:
        return item["minutes"]
    lesson = item["lesson"]
    if "sections" in item:
        return sum(section(minutes, lesson, sid)["minutes"] for sid in item["sections"])
    if item.get("part") == "core":
        return minutes["lessons"][lesson]["core"]
    return groups(minutes, lesson)[item["group"]].minutes


def item_cells(minutes: dict, item: dict) -> list[str]:
    lesson = item["lesson"]
    if "sections" in item:
        return [c for sid in item["sections"] for c in section(minutes, lesson, sid)["cells"]]
    if item.get("part") == "core":
        return [
            c
            for s in minutes["lessons"][lesson]["sections"]
            if s["part"] == "core"
            for c in s["cells"]
        ]
    return list(groups(minutes, lesson)[item["group"]].cells)


def item_title(minutes: dict, item: dict) -> str:
    lesson = item["lesson"]
    if "sections" in item:
        return "; ".join(section(minutes, lesson, sid)["title"] for sid in item["sections"])
    if item.get("part") == "core":
        return "core path"
    return groups(minutes, lesson)[item["group"]].title


def _items(plan: dict) -> Iterable[dict]:
    yield from plan["slots"]
    yield from plan.get("homework", [])


def refresh(workshop: dict, minutes: dict) -> dict:
    """A copy of the plans with every lesson's minutes taken from docs/lesson-minutes.json."""
    new = json.loads(json.dumps(workshop))
    for plan in new["plans"].values():
        for item in _items(plan):
            item["minutes"] = item_minutes(minutes, item)
    for step in new["cut_ladder"]["steps"]:
        for cut in step["cuts"]:
            cut["minutes"] = item_minutes(minutes, cut)
    return new


# --------------------------------------------------------------------------- checks


def content_minutes(plan: dict) -> int:
    return sum(s["minutes"] for s in plan["slots"] if s["kind"] in CONTENT_KINDS)


def total_minutes(plan: dict) -> int:
    return sum(s["minutes"] for s in plan["slots"])


def kept_cells(minutes: dict, plan: dict, cut: Iterable[dict] = ()) -> dict[str, set[str]]:
    """The cells each taught lesson keeps: its slots' cells minus those of the cuts."""
    kept: dict[str, set[str]] = {}
    for slot in plan["slots"]:
        if slot["kind"] == "lesson":
            kept.setdefault(slot["lesson"], set()).update(item_cells(minutes, slot))
    for c in cut:
        kept.get(c["lesson"], set()).difference_update(item_cells(minutes, c))
    return kept


def missing(minutes: dict, kept: dict[str, set[str]]) -> list[str]:
    out = []
    for lesson, cells in kept.items():
        out += [f"{lesson}: {m}" for m in deps.missing_after_cut(cells_of(lesson), cells)]
    return out


def _exercises_left(minutes: dict, lesson: str, cells: set[str]) -> set[int]:
    return {
        s["exercise"]
        for s in minutes["lessons"][lesson]["sections"]
        if s["exercise"] is not None and set(s["cells"]) <= cells
    }


def problems(workshop: dict, minutes: dict) -> list[str]:
    """Everything wrong with the plans: arithmetic, minutes, live exercises, dependencies."""
    out = []
    fresh = refresh(workshop, minutes)
    if fresh != workshop:
        out.append(
            "docs/workshop.json: minutes differ from docs/lesson-minutes.json "
            "(run: python tools/workshop.py --write)"
        )
    plans = fresh["plans"]
    three = plans["three_hour"]
    if content_minutes(three) > three["content_max_min"]:
        out.append(
            f"3-hour plan: {content_minutes(three)} min of lessons, more than "
            f"{three['content_max_min']}"
        )
    for name, plan in plans.items():
        if total_minutes(plan) > plan["length_min"]:
            out.append(f"{name}: {total_minutes(plan)} min, more than {plan['length_min']}")
        for slot in plan["slots"]:
            if slot["kind"] != "lesson":
                continue
            have = {
                g.exercise
                for g in groups(minutes, slot["lesson"]).values()
                if g.exercise is not None
                and set(g.cells) <= set(item_cells(minutes, slot))
                and (slot["part"] == "core") == (g.part == "core")
            }
            for n in slot.get("live", []):
                if n not in have:
                    out.append(f"{name}: {slot['lesson']} has no exercise {n} in this slot")
        out += [f"{name}: {m}" for m in missing(minutes, kept_cells(minutes, plan))]
    taught = {s["lesson"] for s in three["slots"] if s["kind"] == "lesson"}
    homework = {h["lesson"] for h in three["homework"]}
    for path in lm.lessons():
        if path.stem not in taught | homework:
            out.append(f"3-hour plan: {path.stem} is neither taught nor on the homework map")
    ladder = fresh["cut_ladder"]
    plan = plans[ladder["plan"]]
    done: list[dict] = []
    saved = 0
    for step in ladder["steps"]:
        done += step["cuts"]
        saved += sum(c["minutes"] for c in step["cuts"])
        if saved < step["behind_min"]:
            out.append(f"cut ladder: {step['behind_min']} min behind, but the cuts save {saved}")
        for c in step["cuts"]:
            if c["lesson"] not in taught:
                out.append(f"cut ladder: {c['lesson']} is not in the {ladder['plan']} plan")
        kept = kept_cells(minutes, plan, done)
        out += [f"cut ladder at {step['behind_min']} min: {m}" for m in missing(minutes, kept)]
    return out


# --------------------------------------------------------------------------- rendering


def _clock(start: str, offset: int) -> str:
    h, m = (int(x) for x in start.split(":"))
    t = h * 60 + m + offset
    return f"{t // 60}:{t % 60:02d}"


def _lesson_label(minutes: dict, item: dict) -> str:
    label = f"`{item['lesson']}`"
    if item.get("part") == "core":
        return f"{label} core path"
    return f"{label} optional: {item_title(minutes, item)}"


KIND_LABEL = {
    "welcome": "Welcome",
    "break": "Break",
    "wrap-up": "Wrap-up",
    "catch-up": "Catch-up",
}


def render_plan(workshop: dict, minutes: dict, name: str) -> str:
    plan = workshop["plans"][name]
    rows = [
        "| time | what | min | live exercises | sticky-note checkpoint |",
        "| --- | --- | ---: | --- | --- |",
    ]
    t = 0
    for slot in plan["slots"]:
        if slot["kind"] == "lesson":
            what = _lesson_label(minutes, slot)
            live = ", ".join(f"Exercise {n}" for n in slot.get("live", [])) or "—"
            check = slot.get("checkpoint", "")
        else:
            label = slot.get("label") or KIND_LABEL.get(slot["kind"], slot["kind"])
            what = f"**{label}**" + (f": {slot['what']}" if slot.get("what") else "")
            live, check = "", ""
        rows.append(
            f"| {_clock(plan['start'], t)} | {what} | {slot['minutes']} | {live} | {check} |"
        )
        t += slot["minutes"]
    rows.append(f"| {_clock(plan['start'], t)} | end | | | |")
    content = content_minutes(plan)
    breaks = total_minutes(plan) - content
    lines = [
        plan["before"],
        "",
        *rows,
        "",
        f"Lessons: **{content} min**; welcome, breaks, catch-up and wrap-up: {breaks} min; "
        f"in all **{total_minutes(plan)} of {plan['length_min']} min**.",
    ]
    if plan.get("homework"):
        lines += ["", "Homework map (minutes by the same method):", ""]
        lines += ["| lesson | what | min | note |", "| --- | --- | ---: | --- |"]
        for h in plan["homework"]:
            what = "core path" if h["part"] == "core" else item_title(minutes, h)
            lines.append(f"| `{h['lesson']}` | {what} | {h['minutes']} | {h['note']} |")
    return "\n".join(lines)


def render_ladder(workshop: dict, minutes: dict) -> str:
    ladder = workshop["cut_ladder"]
    lines = []
    saved = 0
    for step in ladder["steps"]:
        step_saved = sum(c["minutes"] for c in step["cuts"])
        saved += step_saved
        lines += [
            f"**{step['behind_min']} minutes behind** (these cuts save {step_saved} min; with "
            f"the steps above, {saved} min):",
            "",
            "| lesson | skip (section, from cell id) | min | what it leaves for homework |",
            "| --- | --- | ---: | --- |",
        ]
        for c in step["cuts"]:
            names = "; ".join(
                f"{section(minutes, c['lesson'], sid)['title']} (`{sid}`)" for sid in c["sections"]
            )
            lines.append(f"| `{c['lesson']}` | {names} | {c['minutes']} | {c['homework']} |")
        lines.append("")
    return "\n".join(lines).rstrip()


def exercise_needs(minutes: dict, lesson: str, ex: Group) -> str:
    """What an exercise needs from earlier cells after a restart, by section."""
    cells = cells_of(lesson)
    own = set(ex.cells)
    sections = minutes["lessons"][lesson]["sections"]
    titles = {c: s["title"] for s in sections for c in s["cells"]}
    titles.update({c: "the first code cell" for c in sections[0]["cells"]})
    by_section: dict[str, set[str]] = {}
    for cell in cells:
        if cell.get("id") in own and cell["cell_type"] == "code":
            for name, where in deps.needs_from_earlier(cells, cell["id"]).items():
                if where not in own:
                    by_section.setdefault(titles.get(where, where), set()).add(name)
    return "; ".join(
        ", ".join(f"`{n}`" for n in sorted(names)) + f" ({title})"
        for title, names in by_section.items()
    )


def exercise_status(workshop: dict, name: str, lesson: str, number: int) -> str:
    plan = workshop["plans"][name]
    for slot in plan["slots"]:
        if slot.get("lesson") == lesson and number in slot.get("live", []):
            return "live"
    taught = any(s.get("lesson") == lesson for s in plan["slots"])
    return "homework" if taught else "homework (lesson not taught)"


def render_exercises(workshop: dict, minutes: dict) -> str:
    rows = [
        "| lesson | exercise | part | min | 3 hours | full day | needs after a restart |",
        "| --- | --- | --- | ---: | --- | --- | --- |",
    ]
    for path in lm.lessons():
        for g in groups(minutes, path.stem).values():
            if g.exercise is None:
                continue
            rows.append(
                f"| `{path.stem[:2]}` | {g.title} (`{g.id}`) | {g.part} | {g.minutes} | "
                f"{exercise_status(workshop, 'three_hour', path.stem, g.exercise)} | "
                f"{exercise_status(workshop, 'full_day', path.stem, g.exercise)} | "
                f"{exercise_needs(minutes, path.stem, g)} |"
            )
    return "\n".join(rows)


def render_lesson(workshop: dict, minutes: dict, lesson: str) -> str:
    m = minutes["lessons"][lesson]
    core = [
        f"{'opening and imports' if i == 0 else s['title']} ({s['minutes']})"
        for i, s in enumerate(m["sections"])
        if s["part"] == "core" and s["exercise"] is None
    ]
    ex_core = sum(s["minutes"] for s in m["sections"] if s["part"] == "core" and s["exercise"])
    lines = [
        f"**Core path, {m['core']} min** ({ex_core} of them exercises): " + "; ".join(core) + "."
    ]
    opt = [g for g in groups(minutes, lesson).values() if g.part == "optional"]
    if opt:
        parts = "; ".join(f"{g.title} ({g.minutes})" for g in opt if g.exercise is None)
        lines.append(f"**Optional parts, {m['optional']} min in all:** {parts}.")
    ex = [g for g in groups(minutes, lesson).values() if g.exercise is not None]
    if ex:
        items = []
        for g in ex:
            three = exercise_status(workshop, "three_hour", lesson, g.exercise)
            day = exercise_status(workshop, "full_day", lesson, g.exercise)
            where = "core" if g.part == "core" else "optional"
            items.append(f"{g.title} ({where}, {g.minutes} min; 3 hours: {three}; day: {day})")
        lines.append("**Exercises:** " + "; ".join(items) + ".")
    checks = [
        slot["checkpoint"]
        for plan in workshop["plans"].values()
        for slot in plan["slots"]
        if slot.get("lesson") == lesson and slot.get("part") == "core" and slot.get("checkpoint")
    ]
    if checks:
        lines.append(f"**Sticky-note checkpoint:** {checks[-1]}")
    return "\n\n".join(lines)


def rendered(workshop: dict, minutes: dict) -> dict[str, str]:
    """Every block the guide shows between ``<!-- workshop:NAME:begin/end -->`` markers."""
    out = {
        "three-hour": render_plan(workshop, minutes, "three_hour"),
        "full-day": render_plan(workshop, minutes, "full_day"),
        "cut-ladder": render_ladder(workshop, minutes),
        "exercises": render_exercises(workshop, minutes),
    }
    for path in lm.lessons():
        out[f"lesson-{path.stem[:2]}"] = render_lesson(workshop, minutes, path.stem)
    return out


def markers(name: str) -> tuple[str, str]:
    return f"<!-- workshop:{name}:begin -->", f"<!-- workshop:{name}:end -->"


def between(text: str, name: str) -> str | None:
    begin, end = markers(name)
    if begin not in text or end not in text:
        return None
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="refresh minutes, render the guide")
    args = parser.parse_args(argv)
    minutes = load_json(lm.DATA)
    workshop = load_json(PLANS)
    if args.write:
        workshop = refresh(workshop, minutes)
        PLANS.write_text(json.dumps(workshop, indent=1, ensure_ascii=False) + "\n", "utf-8")
        text = GUIDE.read_text(encoding="utf-8")
        for name, block in rendered(workshop, minutes).items():
            begin, end = markers(name)
            if begin in text:
                text = lm.replace_between(text, block, begin, end)
            else:
                print(f"the guide has no {begin} marker: {name} not written", file=sys.stderr)
        GUIDE.write_text(text, encoding="utf-8")
    found = problems(workshop, minutes)
    for p in found:
        print(p)
    plans = workshop["plans"]
    for name, plan in plans.items():
        print(
            f"{name}: lessons {content_minutes(plan)} min, in all {total_minutes(plan)} of "
            f"{plan['length_min']} min"
        )
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
