"""Timelines of runs, start-up costs, and the memory-isolation demo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..view.style import new_axes
from .demos import MemoryDemo, StartupResult

__all__ = ["plot_memory", "plot_startup"]


def plot_startup(result: StartupResult, ax: Axes | None = None) -> Figure:
    """Bar chart of start+join cost per configuration (log scale), each median labelled.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    fig, ax = new_axes(ax, figsize=(7, 3))
    medians_ms = [m * 1e3 for m in result.medians_s]
    y = range(len(result.labels))
    colors = ["tab:blue" if lab == "thread" else "tab:orange" for lab in result.labels]
    ax.barh(list(y), medians_ms, color=colors)
    for i, samples in enumerate(result.samples_s):
        ax.plot([s * 1e3 for s in samples], [i] * len(samples), "k.", alpha=0.4, markersize=4)
        right = max(s * 1e3 for s in samples)  # right of the dots, so none covers the label
        ax.text(right * 1.2, i, f"{medians_ms[i]:.2f} ms", va="center", fontsize=9)
    ax.set_yticks(list(y), result.labels)
    ax.invert_yaxis()
    ax.set_xscale("log")
    slowest = max(s for samples in result.samples_s for s in samples) * 1e3
    ax.set_xlim(min(medians_ms) / 3, slowest * 8)
    ax.set_xlabel("start + join of one worker that does nothing (ms, log scale; dots = repeats)")
    ax.set_title("What it costs to start a worker")
    return fig


def plot_memory(demos: Sequence[MemoryDemo], ax: Axes | None = None) -> Figure:
    """Bars: appends the workers made vs appends the parent can see, per configuration.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    fig, ax = new_axes(ax, figsize=(7, 3))
    labels: list[str] = []
    made: list[Any] = []
    seen: list[Any] = []
    for d in demos:
        labels.append(d.kind if d.kind == "thread" else f"process\n({d.start_method})")
        made.append(d.n_workers)
        seen.append(d.parent_after - d.parent_before)
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], made, width=0.4, label="appends the workers made", color="0.7")
    bars = ax.bar(
        [i + 0.2 for i in x], seen, width=0.4, label="appends the parent sees", color="tab:green"
    )
    ax.bar_label(bars, padding=2)
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("items")
    ax.set_ylim(0, max([*made, 1]) * 1.35)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Each worker appended to a list that lives in the parent")
    return fig
