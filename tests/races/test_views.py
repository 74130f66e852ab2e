"""Lesson 04's figures, explorer and game: headless, on real and hand-made results."""

from __future__ import annotations

import pytest

import concurrency_lab as cl

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from concurrency_lab.view import style
from tests.view.cvd import assert_distinguishable


def _check(fig, what):
    assert style.figure_problems(fig) == (), what
    assert_distinguishable(style.colors_used(fig).fills, what=what)
    return fig


# --------------------------------------------------------------------------- figures


def test_plot_lost_updates():
    from concurrency_lab.races.counters import LostUpdatesResult

    racing = LostUpdatesResult(
        how="property",
        code="counter.value += 1",
        n_workers=2,
        n_increments=1000,
        finals=(1500, 2000),
        splits=(2, 0),
        elapsed_s=0.1,
        python="3.12",
        switch_interval_s=1e-4,
    )
    locked = cl.races.lost_updates(how="locked", n_increments=1_000, n_runs=2)
    fig = _check(cl.races.plot_lost_updates([racing, locked]), "plot_lost_updates")
    ax = fig.axes[0]
    assert "switch interval 0.1 ms" in ax.get_title()
    colours = style.colors_used(fig)
    assert style.category("lost update").color.lower() in colours.fills
    assert style.category("correct").color.lower() in colours.lines  # the zero-loss markers
    assert fig.lab_summary.startswith("counter.value += 1: 2 threads x 1,000 increments")
    with pytest.raises(TypeError, match=r"cl\.races\.lost_updates"):
        cl.races.plot_lost_updates("nope")


@pytest.mark.parametrize(
    "level", ["lost update", "two locks deadlock", "missed wake-up", "check-then-act"]
)
def test_plot_interleavings(level):
    from matplotlib.ticker import MaxNLocator

    r = cl.races.interleavings(level)
    fig = _check(cl.races.plot_interleavings(r), f"plot_interleavings({level})")
    ax = fig.axes[0]
    assert isinstance(ax.xaxis.get_major_locator(), MaxNLocator)
    assert all(float(t).is_integer() for t in ax.get_xticks())
    assert fig.lab_summary == r.summary().splitlines()[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    if level == "missed wake-up":
        assert legend == ["as if one thread ran after the other", "stuck (a thread waits forever)"]
    with pytest.raises(TypeError, match=r"cl\.races\.interleavings"):
        cl.races.plot_interleavings(level)


def test_outcome_kinds_stay_apart_in_colour_and_hatch():
    from concurrency_lab.races.plots import outcome_style

    kinds = ["as one after the other", "race", "deadlock", "stuck"]
    styles = [outcome_style(k) for k in kinds]
    assert_distinguishable([s.color for s in styles], what="outcome kinds")
    assert len({s.hatch for s in styles}) == 4


@pytest.mark.parametrize("fixed", [False, True])
@pytest.mark.parametrize("primitive", cl.races.PRIMITIVES)
def test_plot_primitive_demo(primitive, fixed):
    d = cl.races.primitive_demo(primitive, fixed=fixed)
    fig = _check(cl.races.plot_primitive_demo(d), f"plot_primitive_demo({primitive}, {fixed})")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    if primitive == "Condition":
        assert any(t.startswith("item dropped") for t in legend) is (not fixed)
    assert fig.lab_summary == d.summary()
    with pytest.raises(TypeError, match=r"cl\.races\.primitive_demo"):
        cl.races.plot_primitive_demo(d.run)


def test_a_span_too_short_to_see_is_a_marker():
    d = cl.races.primitive_demo("Event", fixed=True)
    fig = cl.races.plot_primitive_demo(d)
    markers = [ln for ln in fig.axes[0].lines if ln.get_marker() == "D"]
    reads = [s for s in d.run.spans if s.label == "read config"]
    end = max(s.end_ns for s in d.run.spans) - d.run.started_ns
    short = [s for s in reads if (s.end_ns - s.start_ns) < 0.012 * end]
    assert len(markers) == len(short) > 0


@pytest.mark.parametrize("primitive", ["Semaphore", "Barrier"])
def test_a_label_drawn_as_bars_and_as_markers_has_both_in_the_legend(primitive):
    # The first two threads get a permit at once (a marker); the others wait long (a bar).
    d = cl.races.primitive_demo(primitive, fixed=True)
    fig = cl.races.plot_primitive_demo(d)
    legend = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    end = max(s.end_ns for s in d.run.spans) - d.run.started_ns
    for s in d.run.spans:
        if s.label == d.worker_label or s.label.startswith("drop"):
            continue
        short = (s.end_ns - s.start_ns) < 0.012 * end
        wanted = f"{s.label} (too short to draw as a bar)" if short else s.label
        assert wanted in legend, (wanted, legend)


# --------------------------------------------------------------------------- explorer


def test_lost_updates_explorer_headless():
    ex = cl.races.lost_updates_explorer()
    assert set(ex.controls) == {"how", "n_workers", "n_increments", "switch_interval_s"}
    assert ex.controls["n_increments"].description == "increments per thread (thousand)"
    ex.controls["how"].value = "locked"
    ex.controls["n_increments"].value = 10
    result = ex.run()
    assert ex.error == ""
    assert result.how == "locked" and result.n_increments == 10_000 and len(result.finals) == 3
    assert ex.summary == result.summary() and "no run lost an update" in ex.summary
    assert len(ex.figures) == 1


# --------------------------------------------------------------------------- the game


def _click(game, thread):
    game.step_buttons[thread].click()


def test_game_lost_update_by_clicks_meets_the_challenge():
    game = cl.races.scheduler_game("lost update")
    assert [b.description for b in game.step_buttons] == ["step T1", "step T2"]
    assert "Make the counter end at 1" in game.challenge.value
    assert game.undo_button.disabled
    for t in (0, 1, 0, 0, 1, 1):
        _click(game, t)
    assert game.scheduler.outcome == "counter=1"
    assert "Challenge met! Race!" in game.message.value
    assert all(b.disabled for b in game.step_buttons)
    game.undo_button.click()
    assert game.scheduler.outcome is None and not game.step_buttons[1].disabled
    game.reset_button.click()
    assert game.scheduler.schedule == ()
    assert "counter</b> = 0" in game.board.value


def test_game_serial_order_is_not_the_challenge_yet():
    game = cl.races.scheduler_game("lost update")
    for t in (0, 0, 0, 1, 1, 1):
        _click(game, t)
    assert "Not the challenge yet: Undo a few steps" in game.message.value


def test_game_a_level_that_cannot_be_won_says_so():
    game = cl.races.scheduler_game("a lock fixes it")
    for t in (0, 0, 0, 0, 0, 1, 1, 1, 1, 1):
        _click(game, t)
    assert game.scheduler.outcome == "counter=2"
    assert "No schedule meets this challenge: interleavings() tried all 2 of them." in (
        game.message.value
    )
    game.show_button.click()
    assert game.scheduler.schedule == ()
    assert "No schedule meets this challenge" in game.message.value


def test_game_show_a_win_replays_one():
    game = cl.races.scheduler_game("lost update")
    game.level_picker.value = "two locks deadlock"
    game.show_button.click()
    assert game.scheduler.status == "deadlock"
    assert "Challenge met! Deadlock!" in game.message.value


def test_game_levels_switch_and_reach_their_outcomes():
    game = cl.races.scheduler_game("lost update")
    assert [label for label, _ in game.level_picker.options][:2] == [
        "1. lost update",
        "2. check-then-act",
    ]
    game.level_picker.value = "a lock fixes it"
    _click(game, 0)
    assert game.step_buttons[1].disabled  # blocked on the lock
    game.level_picker.value = "missed wake-up"
    assert [b.description for b in game.step_buttons] == ["step consumer", "step producer"]
    _click(game, 0)  # consumer reads ready=0
    for _ in range(4):
        _click(game, 1)  # producer sets ready, signals nobody
    for _ in range(3):
        _click(game, 0)  # consumer: no jump, takes L, waits
    assert game.scheduler.status == "stuck"
    assert "Challenge met! Stuck!" in game.message.value


def test_game_with_custom_program_and_bad_input():
    p = cl.races.program([("store", "x", 1)], shared={"x": 0})
    game = cl.races.scheduler_game(p)
    assert game.level_picker is None and game.challenge.value == ""
    _click(game, 0)
    assert game.scheduler.outcome == "x=1"
    assert "Finished with x=1" in game.message.value
    with pytest.raises(ValueError, match="'name' must be one of"):
        cl.races.scheduler_game("nope")
    with pytest.raises(TypeError, match="'prog' must be a level name"):
        cl.races.scheduler_game(3)
