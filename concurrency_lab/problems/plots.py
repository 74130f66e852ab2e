"""Figures for choosing a model (07) and the problems clinic (08)."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..view.style import new_axes
from .traps import OversubscriptionResult

__all__ = ["plot_oversubscription"]


def plot_oversubscription(result: OversubscriptionResult, ax: Axes | None = None) -> Figure:
    """Total time and time per task for pools of different sizes running the same CPU work.

    Introduced in ``08-common-problems.ipynb``.
    """
    fig, ax = new_axes(ax, figsize=(8, 3.2))
    labels = [f"{n} workers" for n in result.n_workers]
    xs = range(len(labels))
    width = 0.38
    b1 = ax.bar(
        [x - width / 2 for x in xs], result.elapsed_s, width, label="all tasks (wall clock)"
    )
    b2 = ax.bar(
        [x + width / 2 for x in xs], result.mean_task_s, width, label="one task, start to end"
    )
    for bars in (b1, b2):
        ax.bar_label(bars, fmt="%.3f s", fontsize=8)
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("seconds")
    ax.set_title(
        f"{result.n_tasks} CPU-bound tasks, {result.usable_cores} usable cores", fontsize=10
    )
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # clear of the bars
    return fig
