"""Lesson 07's figures keep the course's contract, and its explorer runs headless."""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import pytest

import concurrency_lab as cl
from concurrency_lab.choosing.coroutines import ManyWaitsResult, WaitsRun
from concurrency_lab.choosing.dask_cost import DaskOverheadResult
from concurrency_lab.choosing.interpreters import InterpreterSweepResult
from concurrency_lab.view import style
from tests.view.cvd import assert_distinguishable

from .helpers import QUIET, fake_matrix

WAITS = ManyWaitsResult(
    5000,
    0.2,
    WaitsRun("coroutines", 5000, 0.25, 1200.0, 1200.0),
    WaitsRun("threads", 5000, 1.0, 16500.0, 8.6e6),
)
DASK = DaskOverheadResult(
    2,
    8,
    10,
    200,
    {"pool": 0.1, "dask": 1.0},
    {"pool": 0.2, "dask": 0.25},
    {"pool": 0.05, "dask": 0.4},
    "spawn",
    "spawn",
)
SWEEPS = [
    InterpreterSweepResult("a", "3.11.7 (GIL)", (1, 2, 4), 4, {"thread": (1.0, 1.0, 1.0)}, {}, 2),
    InterpreterSweepResult(
        "b",
        "3.14.0t (no GIL)",
        (1, 2, 4),
        4,
        {"thread": (1.0, 0.52, 0.5), "interpreter": (1.0, 0.55, 0.52)},
        {},
        2,
    ),
]


def _figures():
    noisy = fake_matrix({**QUIET, "mixed": (0.42, 0.25, 0.15, 0.175)})
    return {
        "plot_scenario_matrix": cl.choosing.plot_scenario_matrix(noisy),
        "plot_many_waits": cl.choosing.plot_many_waits(WAITS),
        "plot_interpreter_sweeps": cl.choosing.plot_interpreter_sweeps(SWEEPS),
        "plot_dask_overhead": cl.choosing.plot_dask_overhead(DASK),
    }


@pytest.mark.parametrize("name", sorted(_figures()))
def test_every_figure_keeps_the_contract(name):
    fig = _figures()[name]
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig)
    colors = style.colors_used(fig).data
    if name == "plot_interpreter_sweeps":
        # the grey "ideal" line is told apart by its dashes, its lack of markers and its
        # legend label; the measured lines must be told apart by colour too
        colors = tuple(c for c in colors if c != style.category("ideal").color.lower())
    assert_distinguishable(colors, what=name)


def test_the_heat_map_uses_the_diverging_map_centred_on_1x_with_numbers_and_noise_marks():
    m = fake_matrix({**QUIET, "mixed": (0.42, 0.25, 0.15, 0.175)})
    fig = cl.choosing.plot_scenario_matrix(m)
    ax = fig.axes[0]
    assert style.colors_used(fig).colormaps == ("RdBu",)
    assert ax.images[0].norm.vcenter == 1.0
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 16 and texts[2] == "1.9x\n0.52 s"
    assert texts[15] == "2.4x\n0.17 s\nnoise?" and "noise" not in texts[14]
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 1  # the one noise cell, grey and cross-hatched
    # text colour chosen for its background: white on the dark io cells, black elsewhere
    colours = {t.get_text().split("\n")[0]: t.get_color() for t in ax.texts}
    assert colours["4.0x"] == "white" and colours["1.0x"] == "black"
    assert "4 workers" in ax.get_title() and "pool started before the timing" in ax.get_title()
    assert style.summary_of(fig) == str(m)


def test_the_heat_map_title_states_the_worker_cap():
    fig = cl.choosing.plot_scenario_matrix(fake_matrix(QUIET, cores=16, n_workers=8, n_tasks=16))
    assert "8 workers (capped at 8), 16 usable cores" in fig.axes[0].get_title()


def test_the_heat_map_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    try:
        assert cl.choosing.plot_scenario_matrix(fake_matrix(QUIET), ax=ax) is fig
    finally:
        plt.close(fig)


def test_the_dask_chart_has_three_panels_with_their_units():
    fig = cl.choosing.plot_dask_overhead(DASK)
    axes = [ax for ax in fig.axes]
    assert [ax.get_title() for ax in axes] == ["start-up", "8 real tasks", "one near-empty task"]
    assert [ax.get_ylabel() for ax in axes] == ["seconds (s)", "seconds (s)", "milliseconds (ms)"]
    bars = axes[2].patches
    assert [round(b.get_height(), 6) for b in bars] == [0.25, 2.0]  # ms per tiny task


def test_the_explorer_measures_one_row_and_says_what_to_choose():
    ex = cl.choosing.scenario_explorer()
    assert set(ex.controls) == {"workload", "models", "n_workers", "task_s", "start_method"}
    assert ex.controls["task_s"].description == "one task (ms)"
    ex.controls["workload"].value = "io"
    ex.controls["models"].value = ("threads", "asyncio")
    ex.controls["n_workers"].value = 2
    ex.controls["task_s"].value = 10
    start = time.perf_counter()
    result = ex.run()
    took = time.perf_counter() - start
    assert ex.error == "" and result is not None
    assert result.workloads == ("io",) and result.models == ("serial", "threads", "asyncio")
    assert ex.summary.startswith("Measured here: 4 tasks of waiting on I/O")
    assert len(ex.figures) == 1 and style.figure_problems(ex.figures[0]) == ()
    assert took < 5  # about a second on a quiet 2-core machine


def test_the_explorer_at_its_defaults_answers_quickly():
    ex = cl.choosing.scenario_explorer()
    start = time.perf_counter()
    ex.run()
    took = time.perf_counter() - start
    assert ex.error == "" and ex.result is not None
    assert took < 6, f"the explorer took {took:.1f} s at its defaults (goal: about 1.5 s)"
