"""Figures for the problems clinic (08): what more workers than cores do.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

import statistics

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..view import style
from .cores import OversubscriptionResult

__all__ = ["plot_oversubscription"]


def plot_oversubscription(
    result: OversubscriptionResult, ax: tuple[Axes, Axes] | None = None
) -> Figure:
    """Two panels: the wall-clock time of all tasks, and the time one task took, per pool size.

    Left, each pool's median time for all tasks, started only once every worker was up
    (every run drawn as a dot; the start-up time is written under the bar, apart). Right,
    how long one task took from its start to its end: the same work stretches when workers
    share cores. Bars are named on the axis, so colour only repeats what the labels say.

    Args:
        result: from :func:`~concurrency_lab.problems.oversubscription`.
        ax: two axes to draw into (default: a new figure).

    Introduced in ``08-common-problems.ipynb``.
    """
    if ax is None:
        fig = style.new_figure(figsize=(9, 3.4))
        left, right = fig.subplots(1, 2)
    else:
        left, right = ax
        fig = left.figure  # type: ignore[assignment]
    if result.verdict == "cannot oversubscribe":
        for a in (left, right):
            a.text(0.5, 0.5, "not run: more cores than the demo starts workers", ha="center")
            a.set(xlabel="pool size (processes)", ylabel="time (s)", xticks=[], yticks=[])
        left.set_title(f"{result.usable_cores} usable cores")
        right.set_title("nothing to compare")
        return style.finish(fig, summary=result.summary())

    labels = [f"{n} workers" for n in result.n_workers]
    looks = style.worker_styles(labels)
    xs = range(len(labels))
    ticks = [
        f"{label}\n(start-up {statistics.median(starts):.2f} s)"
        for label, starts in zip(labels, result.startup_s)
    ]
    for x, label, total, runs in zip(xs, labels, result.total_s, result.totals_s):
        fill = looks[label].fill()
        left.bar(x, total, width=0.6, **fill)
        left.plot([x] * len(runs), runs, linestyle="none", marker="o", color=style.INK, ms=4)
        left.annotate(
            f"{total:.2f} s",
            (x, total / 2),
            ha="center",
            va="center",
            color=style.text_color_on(fill["facecolor"]),
            fontsize=9,
        )
    left.set_xticks(list(xs), ticks)
    left.set(xlabel="pool size (processes), pool already started", ylabel="wall-clock time (s)")
    left.set_title(
        f"All {result.n_tasks} tasks on {result.usable_cores} usable cores (dots: each run)",
        fontsize=10,
    )
    left.margins(y=0.1)

    for x, label, task in zip(xs, labels, result.task_s):
        fill = looks[label].fill()
        bar = right.bar(x, task * 1e3, width=0.6, **fill)
        right.bar_label(bar, fmt="%.0f ms", fontsize=9)
    right.set_xticks(list(xs), labels)
    right.set(xlabel="pool size (processes)", ylabel="one task, start to end (ms)")
    right.set_title("Mean time of one task (same work each)", fontsize=10)
    right.margins(y=0.15)
    return style.finish(fig, summary=result.summary())
