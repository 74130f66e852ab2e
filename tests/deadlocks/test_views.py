"""Lesson 05's pictures and explorer: the figure contract, colour-vision checks, headless runs."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.deadlocks.graph import WaitForGraph, find_cycles
from concurrency_lab.deadlocks.locks import LockEvent

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
pytest.importorskip("colorspacious")

from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from concurrency_lab.view import style
from tests.view.cvd import assert_distinguishable

FAST = 0.005
TWO_CYCLES = WaitForGraph(
    holds={"T1": ("A",), "T2": ("B",), "T3": ("C",), "T5": ("E",), "T6": ("F",), "T7": ("G",)},
    waits={"T1": "B", "T2": "A", "T3": "A", "T5": "F", "T6": "G", "T7": "E"},
)


def _contract(fig, what):
    assert isinstance(fig, Figure)
    assert style.figure_problems(fig) == (), what
    assert style.summary_of(fig)
    assert_distinguishable(style.colors_used(fig).data, what=what)


@pytest.fixture(scope="module")
def results():
    return {
        "inversion": cl.deadlocks.lock_order_inversion(detect_interval_s=FAST),
        "dinner": cl.deadlocks.dining_philosophers(5, detect_interval_s=FAST),
        "fed": cl.deadlocks.dining_philosophers(4, strategy="arbitrator", meals=2),
        "starved": cl.deadlocks.starvation(turns=20, hold_s=0.0005),
        "race": cl.deadlocks.compare_strategies(4, meals=1, detect_interval_s=FAST),
    }


# --------------------------------------------------------------------------- the wait-for graph


def test_plot_wait_for_draws_the_cycle_thick_and_in_the_deadlock_colour(results):
    fig = cl.deadlocks.plot_wait_for(results["dinner"].deadlock)
    _contract(fig, "plot_wait_for")
    ax = fig.axes[0]
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted([f"phil-{i}" for i in range(5)] + [f"fork-{i}" for i in range(5)])
    cycle = style.category("deadlock").color.lower()
    hot = [p for p in ax.patches if p.get_linewidth() > 3]
    assert len(hot) == 10  # 5 "waits for" + 5 "held by" arrows, all in the cycle
    assert {to_hex(p.get_edgecolor()) for p in hot} == {cycle}
    # Waits-for arrows are dashed, held-by arrows solid: told apart without colour.
    assert sorted(p.get_linestyle() != "-" for p in hot) == [False] * 5 + [True] * 5
    assert ax.get_title() == "deadlock: 5 threads wait in a circle"
    assert style.summary_of(fig) == str(results["dinner"].deadlock) + "."


def test_plot_wait_for_puts_each_cycle_on_its_own_ring_and_says_who_is_outside():
    from concurrency_lab.deadlocks.plots import graph_layout

    fig = cl.deadlocks.plot_wait_for(TWO_CYCLES)
    _contract(fig, "plot_wait_for (two cycles)")
    assert fig.axes[0].get_title() == "deadlock: 2 cycles (T1–T2, T5–T6–T7)"
    assert style.summary_of(fig).endswith("T3 also waits, outside any cycle.")
    pos = graph_layout(TWO_CYCLES, find_cycles(TWO_CYCLES))
    points = list(pos.values())
    assert len(set(points)) == len(points) == 12  # 6 threads + 6 locks, no two on one spot
    gap = min(
        ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5
        for i, (x1, y1) in enumerate(points)
        for (x2, y2) in points[i + 1 :]
    )
    assert gap > 0.8
    first = [pos[n] for n in ("T:T1", "L:A", "T:T2", "L:B")]
    second = [pos[n] for n in ("T:T5", "L:E", "T:T6", "L:F", "T:T7", "L:G")]
    assert max(x for x, _ in first) < min(x for x, _ in second)


def test_plot_wait_for_of_a_bounded_cycle_says_it_breaks_by_itself():
    g = WaitForGraph(
        holds={"A then B": ("A",), "B then A": ("B",)},
        waits={"A then B": "B", "B then A": "A"},
        bounded={"A then B", "B then A"},
    )
    fig = cl.deadlocks.plot_wait_for(g)
    _contract(fig, "plot_wait_for (bounded)")
    assert style.summary_of(fig).endswith("so each cycle will break by itself.")


def test_plot_wait_for_graph_without_cycle_and_none():
    g = WaitForGraph(holds={"T1": ("A",)}, waits={"T2": "A"})
    fig = cl.deadlocks.plot_wait_for(g)
    assert fig.axes[0].get_title() == "wait-for graph: no cycle"
    assert style.summary_of(fig) == "No cycle: 1 thread wait, but none waits in a circle."
    assert len(fig.axes[0].patches) == 2
    empty = cl.deadlocks.plot_wait_for(None)
    assert "no deadlock" in empty.axes[0].texts[0].get_text()
    assert style.figure_problems(empty) == ()
    with pytest.raises(TypeError, match=r"'cycle_or_graph' must be a Deadlock, a WaitForGraph"):
        cl.deadlocks.plot_wait_for("cycle")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- timelines, bars


def test_plot_lock_timeline_draws_holding_solid_and_waiting_hatched_from_zero():
    ev = [
        LockEvent(0, "T1", "A", "acquire"),
        LockEvent(1_000_000, "T2", "A", "wait"),
        LockEvent(3_000_000, "T1", "A", "release"),
        LockEvent(3_000_000, "T2", "A", "acquire"),
        LockEvent(4_000_000, "T2", "A", "release"),
    ]
    fig = cl.deadlocks.plot_lock_timeline(ev)
    _contract(fig, "plot_lock_timeline")
    ax = fig.axes[0]
    bars = [(c, path) for c in ax.collections for path in c.get_paths()]
    hatched = [path for c, path in bars if c.get_hatch()]
    assert len(bars) == 3 and len(hatched) == 1
    xs = hatched[0].vertices[:, 0]
    assert (xs.min(), xs.max()) == (pytest.approx(1.0), pytest.approx(3.0))  # waited 1 to 3 ms
    assert [t.get_text() for t in ax.get_yticklabels()] == ["T1 · A", "T2 · A"]
    assert ax.get_xlim()[0] == 0
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["holds A", "hatched: waiting for it\n(colour = which lock)"]
    assert style.summary_of(fig) == (
        "2 times a thread held a lock; threads waited 1 times, 2 ms in all; the longest wait "
        "was T2 waiting 2 ms for A."
    )


def test_plot_lock_timeline_of_a_demo_and_of_starvation(results):
    fig = cl.deadlocks.plot_lock_timeline(results["inversion"])
    _contract(fig, "plot_lock_timeline (demo)")
    assert fig.axes[0].get_xlim()[0] == 0
    fig = cl.deadlocks.plot_lock_timeline(results["starved"])
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0] == "holds the resource"


def test_plot_progress_labels_the_starved_thread(results):
    fig = cl.deadlocks.plot_progress(results["starved"])
    _contract(fig, "plot_progress")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [10, 10, 0]
    assert [t.get_text() for t in ax.texts] == ["10", "10", "0: starved"]
    assert all(float(t).is_integer() for t in ax.get_yticks())
    assert style.summary_of(fig).endswith("worker-3 got none: starved.")
    with pytest.raises(TypeError, match=r"'outcome' must be a DemoResult \(got int\)"):
        cl.deadlocks.plot_progress(3)  # type: ignore[arg-type]


def test_plot_philosophers_has_two_panels_and_the_results_sentence(results):
    for key in ("dinner", "fed"):
        fig = cl.deadlocks.plot_philosophers(results[key])
        _contract(fig, f"plot_philosophers ({key})")
        assert len(fig.axes) == 2  # the timeline and the graph: no meals panel
        assert style.summary_of(fig) == results[key].summary()
    assert cl.deadlocks.plot_philosophers(results["fed"]).axes[1].get_title() == "wait-for graph"


def test_plot_strategies_marks_the_deadlocked_bar_by_hatch_too(results):
    fig = cl.deadlocks.plot_strategies(results["race"])
    _contract(fig, "plot_strategies")
    left = fig.axes[0]
    hatches = [bar.get_hatch() for bar in left.patches]
    assert hatches[0] == style.category("deadlock").hatch  # "none"
    assert not any(hatches[1:])
    assert style.summary_of(fig) == results["race"].summary()
    with pytest.raises(TypeError, match=r"'comparison' must be what compare_strategies"):
        cl.deadlocks.plot_strategies(results["dinner"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the explorer


def test_explorer_runs_headless_and_states_its_result_in_words():
    ex = cl.deadlocks.philosophers_explorer(duration_s=0.15)
    assert list(ex.controls) == ["n", "strategy", "think_s", "eat_s"]
    strategies = [value for _, value in ex.controls["strategy"].options]
    assert strategies == list(cl.deadlocks.STRATEGIES)
    assert ex.controls["think_s"].description == "think (ms)"
    ex.controls["n"].value = 3
    ex.controls["think_s"].value = 0.0
    ex.controls["eat_s"].value = 1.0
    out = ex.run()
    assert ex.error == ""
    assert out.deadlock.threads == ("phil-0", "phil-1", "phil-2")
    assert ex.summary == out.summary() and "deadlock" in ex.summary
    assert len(ex.figures) == 1 and style.figure_problems(ex.figures[0]) == ()


def test_explorer_strategy_change_feeds_everyone():
    ex = cl.deadlocks.philosophers_explorer(duration_s=0.15)
    ex.controls["n"].value = 4
    ex.controls["strategy"].value = "arbitrator"
    out = ex.run()
    assert not out.deadlocked and len(out.progress) == 4
    assert min(out.progress.values()) > 0
    assert "(arbitrator)" in ex.summary and "deadlock" not in ex.summary
