"""Lesson 01's figures keep the course's contract: title, labelled axes, a summary, safe colours."""

from __future__ import annotations

import pytest

from concurrency_lab.threads_and_processes import plot_memory, plot_startup
from concurrency_lab.threads_and_processes.memory import MemoryResult, MemoryRow
from concurrency_lab.threads_and_processes.startup import (
    FIRST_CHILD,
    NO_PRELOAD,
    StartupResult,
    StartupRow,
)
from concurrency_lab.view import style
from tests.view.cvd import assert_distinguishable

STARTUP = StartupResult(
    (
        StartupRow("thread", "thread", (1e-4, 2e-4, 3e-4, 9e-3)),
        StartupRow("fork", "process", (3e-3, 4e-3)),
        StartupRow("spawn", "process", (0.09, 0.2)),
        StartupRow("forkserver", "process", (5e-3, 6e-3)),
        StartupRow(FIRST_CHILD, "process", (0.15,)),
        StartupRow(NO_PRELOAD, "process", (0.03, 0.04)),
    )
)
MEMORY = MemoryResult(
    (
        MemoryRow("thread", None, 1, (2, 3), 3),
        MemoryRow("process", "fork", 1, (2, 2), 1),
        MemoryRow("process", "spawn", 1, (1, 1), 1),
    )
)


def test_startup_is_a_dot_per_try_on_a_log_axis():
    fig = plot_startup(STARTUP)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == STARTUP.summary()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and not ax.patches  # dots, not bars
    dots = sum(len(line.get_xdata()) for line in ax.lines if line.get_marker() in ("o", "s"))
    assert dots == sum(len(r.samples_s) for r in STARTUP.rows)
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["thread", "fork", "spawn"]
    labels = [t.get_text() for t in ax.texts]
    assert labels[0] == "0.10 ms" and labels[2] == "90 ms · 900× a thread"
    assert_distinguishable(style.colors_used(fig).lines, what="thread and process dots")


def test_memory_bars_have_integer_counts_and_three_told_apart_series():
    fig = plot_memory(MEMORY)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == " ".join(MEMORY.summary().split())
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [1, 2, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1]
    assert all(float(t).is_integer() for t in ax.get_yticks())
    hatches = {p.get_hatch() for p in ax.patches}
    assert len(hatches) == 3  # the series differ by hatch as well as by colour
    assert_distinguishable(style.colors_used(fig).fills, what="memory series")
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "threads",
        "processes\n(fork)",
        "processes\n(spawn)",
    ]


@pytest.mark.parametrize("plot", [plot_startup, plot_memory])
def test_plots_draw_into_a_given_axes(plot):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        assert plot(STARTUP if plot is plot_startup else MEMORY, ax=ax) is fig
    finally:
        plt.close(fig)
