"""The workshop numbers agree everywhere, and the plans and the cut ladder really work.

* docs/lesson-minutes.json is what tools/lesson_minutes.py computes now from the notebooks
  (their core/optional tags, headings, words, code) and the stored measurement;
* the README's course map, the instructor guide and the lessons that state their minutes say
  the same numbers;
* the 3-hour plan has at most 150 minutes of lessons and fits 180 with its breaks; the full
  day fits its hours; every minute number in docs/workshop.json equals lesson-minutes.json;
* each step of the cut ladder saves at least the minutes it is for, and the plan, cut step by
  step, leaves no kept cell without a name or the ``%load_ext`` it needs;
* every self-check call sits in an exercise the minutes tool recognises.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import lesson_minutes as lm  # noqa: E402
import notebook_deps as deps  # noqa: E402
import workshop  # noqa: E402

FIX = "run: python tools/lesson_minutes.py --write, then python tools/workshop.py --write"


@pytest.fixture(scope="module")
def minutes() -> dict:
    return json.loads(lm.DATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plans() -> dict:
    return json.loads(workshop.PLANS.read_text(encoding="utf-8"))


def test_every_code_cell_was_measured(minutes):
    missing = lm.unmeasured(minutes)
    assert not missing, (
        f"code cells without a measured run time: {missing}. "
        "Run: python tools/lesson_minutes.py --measure --only NN --write"
    )


def test_every_lesson_runs_in_about_a_minute(minutes):
    """Top to bottom, as measured; one cell near nbval's limit would be a regression."""
    from concurrency_lab.__main__ import NBVAL_CELL_TIMEOUT_S

    for name, cells in minutes["measured"]["cells"].items():
        total = sum(c["seconds"] for c in cells.values())
        slowest = max(c["seconds"] for c in cells.values())
        assert total <= 60, f"{name} runs {total:.0f} s top to bottom"
        assert slowest <= NBVAL_CELL_TIMEOUT_S / 2, f"{name}: a cell took {slowest:.0f} s"


def test_stored_minutes_are_what_the_method_gives_for_the_notebooks_now(minutes):
    assert minutes["method"] == lm.METHOD, FIX
    assert minutes["lessons"] == lm.table(minutes), FIX


def test_readme_and_guide_show_the_same_table(minutes):
    table = lm.markdown_table(minutes["lessons"], lm.course_questions())
    for doc in (lm.README, lm.GUIDE):
        text = doc.read_text(encoding="utf-8")
        block = text.split(lm.BEGIN, 1)[1].split(lm.END, 1)[0].strip("\n")
        assert block == table, f"{doc.name}: {FIX}"


def test_lessons_that_state_their_minutes_state_these(minutes):
    for path in lm.lessons():
        for sentence in lm.stated_minutes(path):
            assert sentence == lm.stated_sentence(minutes["lessons"][path.stem]), (
                f"{path.name} says {sentence!r}: run python tools/lesson_minutes.py --write "
                "--lessons"
            )


def test_sections_add_up_to_each_part(minutes):
    for name, lesson in minutes["lessons"].items():
        for part in ("core", "optional"):
            total = sum(s["minutes"] for s in lesson["sections"] if s["part"] == part)
            assert total == lesson[part], (name, part)
            exact = lm.Counts(**lesson[f"{part}_parts"]).minutes
            assert abs(total - exact) <= 0.5, (name, part, exact)


def test_every_self_check_sits_in_a_recognised_exercise(minutes):
    for path in lm.lessons():
        cells = {c.get("id"): c for c in json.loads(path.read_text("utf-8"))["cells"]}
        checks = 0
        for s in minutes["lessons"][path.stem]["sections"]:
            for cid in s["cells"]:
                if deps.CHECK_CALL.search(deps.source(cells[cid])):
                    checks += 1
                    assert s["exercise"] is not None, (
                        f"{path.name}: cell {cid} runs a self-check outside an exercise "
                        "heading (### Exercise N: ...), so its minutes are not counted"
                    )
        if not path.stem.startswith("00"):
            core = [s for s in minutes["lessons"][path.stem]["sections"] if s["part"] == "core"]
            assert checks >= 3 and any(s["exercise"] for s in core), path.name


def test_exercise_minutes_take_the_heading_else_a_default_by_kind():
    assert lm.exercise_minutes("### Exercise 3: harder (about 15 min)") == 15
    assert lm.exercise_minutes("### Exercise 2 (about 2 min)") == 2
    assert lm.exercise_minutes("### Exercise 1 (warm-up): x") == lm.EXERCISE_DEFAULT_MIN["warm-up"]
    assert lm.exercise_minutes("### Exercise 4: a challenge") == lm.EXERCISE_DEFAULT_MIN["harder"]
    assert lm.exercise_minutes("### Exercise 2: x") == lm.EXERCISE_DEFAULT_MIN["default"]


def test_the_plans_have_no_problem(minutes, plans):
    assert workshop.problems(plans, minutes) == []


def test_three_hour_plan_arithmetic(minutes, plans):
    three = plans["plans"]["three_hour"]
    lessons = [s for s in three["slots"] if s["kind"] == "lesson"]
    for s in lessons:
        assert s["minutes"] == workshop.item_minutes(minutes, s)
        if s["part"] == "core":
            assert s["minutes"] == minutes["lessons"][s["lesson"]]["core"]
    content = sum(s["minutes"] for s in lessons)
    assert content <= 150
    assert content + sum(s["minutes"] for s in three["slots"] if s["kind"] != "lesson") <= 180
    assert any(s["kind"] == "break" for s in three["slots"])
    early = 180 - sum(s["minutes"] for s in three["slots"])
    guide = " ".join(lm.GUIDE.read_text(encoding="utf-8").split())
    assert f"The 3-hour plan below ends {early} minutes before its 3 hours" in guide
    steps = [str(step["behind_min"]) for step in plans["cut_ladder"]["steps"]]
    assert f"frees {', '.join(steps[:-1])} or {steps[-1]} minutes" in guide


def test_full_day_fits_its_hours_and_teaches_every_core_path(minutes, plans):
    day = plans["plans"]["full_day"]
    assert sum(s["minutes"] for s in day["slots"]) <= day["length_min"]
    cores = {s["lesson"] for s in day["slots"] if s.get("part") == "core"}
    assert cores == {p.stem for p in lm.lessons()}
    for s in day["slots"]:
        if s["kind"] == "lesson":
            assert s["minutes"] == workshop.item_minutes(minutes, s)


def test_each_cut_names_real_sections_and_their_minutes(minutes, plans):
    saved = 0
    for step in plans["cut_ladder"]["steps"]:
        for cut in step["cuts"]:
            titles = [
                workshop.section(minutes, cut["lesson"], sid)["title"] for sid in cut["sections"]
            ]
            assert all(titles) and cut["homework"]
            assert cut["minutes"] == sum(
                workshop.section(minutes, cut["lesson"], sid)["minutes"] for sid in cut["sections"]
            )
            saved += cut["minutes"]
        assert saved >= step["behind_min"]
    assert [s["behind_min"] for s in plans["cut_ladder"]["steps"]] == [15, 30, 45]


def test_cuts_keep_what_later_cells_need(minutes, plans):
    plan = plans["plans"]["three_hour"]
    done: list[dict] = []
    for step in plans["cut_ladder"]["steps"]:
        done += step["cuts"]
        kept = workshop.kept_cells(minutes, plan, done)
        assert workshop.missing(minutes, kept) == [], step["behind_min"]
        for lesson, cells in kept.items():  # a cut leaves whole exercises or none
            for s in minutes["lessons"][lesson]["sections"]:
                if s["exercise"] is not None:
                    assert set(s["cells"]) <= cells or not set(s["cells"]) & cells


def test_the_dependency_check_catches_a_bad_cut(minutes, plans):
    """Cutting the measured runs orphans why_rare; cutting 02's imports orphans its magics."""
    plan = plans["plans"]["three_hour"]
    bad = [{"lesson": "04-races-and-locks", "sections": ["races-015"]}]
    found = workshop.missing(minutes, workshop.kept_cells(minutes, plan, bad))
    assert any("'runs'" in m for m in found), found
    bad = [{"lesson": "02-the-gil", "sections": ["gil-000"]}]
    found = workshop.missing(minutes, workshop.kept_cells(minutes, plan, bad))
    assert any("%load_ext" in m for m in found), found


def test_the_guide_shows_the_plans_as_rendered(minutes, plans):
    text = lm.GUIDE.read_text(encoding="utf-8")
    for name, block in workshop.rendered(plans, minutes).items():
        assert workshop.between(text, name) == block, f"guide block {name}: {FIX}"


def test_cells_the_guide_names_exist(minutes):
    """Hand-written text names cells as "cell `ID`" or "cells `ID`, `ID` and `ID`"."""
    text = lm.GUIDE.read_text(encoding="utf-8")
    ids = {
        c for lesson in minutes["lessons"].values() for s in lesson["sections"] for c in s["cells"]
    }
    named = [
        cid
        for group in re.findall(r"\bcells?\s+((?:`[\w-]+`(?:,\s+|\s+and\s+|\s+or\s+)?)+)", text)
        for cid in re.findall(r"`([\w-]+)`", group)
    ]
    assert named, "the guide names no cells"
    assert [c for c in named if c not in ids] == []
    assert "gil-011b" in named  # a reference split over two lines is read too


def test_the_guides_links_to_headings_resolve():
    from sitebuild.markdown import github_slug

    docs = lm.GUIDE.parent

    def slugs(path: Path) -> set[str]:
        seen: dict[str, int] = {}
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
        return {github_slug(h, seen) for h in re.findall(r"^#+\s+(.+?)\s*$", text, re.M)}

    text = lm.GUIDE.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([\w./-]*)#([\w-]+)\)", text)
    assert links
    for target, anchor in links:
        path = docs / target if target else lm.GUIDE
        assert path.exists(), target
        assert anchor in slugs(path), f"{target or 'the guide'} has no heading #{anchor}"
