"""GIL pictures and the explorer: the figure contract, colours told apart, headless runs."""

from __future__ import annotations

import sys

import concurrency_lab as cl
from concurrency_lab.view import style
from tests.gil.test_convoy import CONVOY, _result
from tests.gil.test_handoff import _trace
from tests.gil.test_speedups import FLAT, GOOD, _kinds, _tvp
from tests.view.cvd import assert_distinguishable


def _present_and_apart(fig, colors, what):
    colors = [c.lower() for c in colors]
    used = style.colors_used(fig)
    used = set(used.data) | set(used.edges)  # step histograms draw only outlines
    assert set(colors) <= used, f"{what}: expected {colors} in {used}"
    assert_distinguishable(colors, what=what)


def test_threads_vs_processes_plot():
    r = _tvp(FLAT, GOOD)
    fig = cl.gil.plot_threads_vs_processes(r)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == str(r)
    thread, process = style.category("thread"), style.category("process")
    _present_and_apart(fig, [thread.color, process.color], "threads vs processes")
    hatches = {p.get_hatch() for p in fig.axes[0].patches}
    assert process.hatch in hatches  # told apart without colour too


def test_which_work_plot_colours_and_hatches_by_the_gil():
    r = _kinds(FLAT, GOOD, GOOD, GOOD)
    fig = cl.gil.plot_thread_scaling(r)
    assert style.figure_problems(fig) == ()
    holds, releases = style.category("waiting"), style.category("running")
    _present_and_apart(fig, [holds.color, releases.color], "holds / releases the GIL")
    bars = [
        p for p in fig.axes[0].patches if p.get_height() > 0.5 and abs(p.get_width() - 0.6) < 1e-9
    ]
    assert [b.get_hatch() for b in bars] == [holds.hatch, None, None, None]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:2] == ["holds the GIL", "releases the GIL"]


def test_handoff_plot_names_bars_and_gaps():
    h = _trace([("thread-1", 0, 5), ("thread-2", 5, 10), ("thread-1", 10, 15)])
    fig = cl.gil.plot_handoff(h)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == str(h)
    styles = style.worker_styles(["thread-1", "thread-2"])
    _present_and_apart(fig, [s.color for s in styles.values()], "threads")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "gap: waiting for the GIL (or a core)" in legend


def test_probe_plot_is_normalised_labelled_and_explains_the_dotted_lines():
    r = _result(CONVOY)
    fig = cl.gil.plot_probe_latency(r)
    assert style.figure_problems(fig) == ()
    ax = fig.axes[0]
    assert ax.get_ylabel() == "share of its wake-ups (%)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "dotted: that run's switch interval" in legend
    assert {t.get_text() for t in ax.texts} == {"alone", "0.5 ms", "5 ms", "50 ms"}
    styles = style.worker_styles([t for t in legend if t.startswith(("probe", "interval"))])
    _present_and_apart(fig, [s.color for s in styles.values()], "probe runs")
    # every run's outline adds up to 100 % of its wake-ups
    for patch in ax.patches:
        ys = patch.get_xy()[:, 1]
        assert 0 < ys.max() <= 100


def test_the_gil_explorer_runs_headless_and_restores_the_interval():
    before = sys.getswitchinterval()
    ex = cl.gil.gil_explorer()
    assert set(ex.controls) == {"n_threads", "switch_interval_s"}
    assert ex.controls["n_threads"].description == "CPU-bound threads"
    ex.controls["switch_interval_s"].value = 0.001
    r = ex.run()
    assert ex.error == "" and r is not None
    assert ex.summary == str(r)
    assert len(ex.figures) == 2 and all(style.figure_problems(f) == () for f in ex.figures)
    assert sys.getswitchinterval() == before
