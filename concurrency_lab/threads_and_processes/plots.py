"""Pictures of lesson 01: what starting a worker costs, and who sees whose memory.

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import dataclasses

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..view.style import INK, category, finish, new_axes, worker_styles
from .memory import MemoryResult
from .startup import StartupResult

__all__ = ["plot_memory", "plot_startup"]


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.2f} ms" if ms < 1 else f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def plot_startup(result: StartupResult, ax: Axes | None = None) -> Figure:
    """Every start + join timing as a dot on a log scale, one row per way of starting.

    A dot plot rather than bars: on a log scale a bar's length depends on where the axis
    starts, so it would say nothing. The fastest try of each row is marked and labelled with
    its time and how many times a thread's it is.

    Args:
        result: from :func:`~concurrency_lab.threads_and_processes.measure_startup`.
        ax: draw here instead of in a new figure.

    Returns:
        The figure; its summary is ``result.summary()``.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    fig, ax = new_axes(ax, figsize=(9, 0.55 * len(result.rows) + 1.6))
    thread_ms = result.row("thread").best_s * 1e3
    for y, row in enumerate(result.rows):
        style = category(row.kind).line()
        style.update(linestyle="none", markersize=6, alpha=0.75, label=None)
        ms = [s * 1e3 for s in row.samples_s]
        ax.plot(ms, [y] * len(ms), **style)
        best = row.best_s * 1e3
        ax.plot([best], [y], marker="|", color=INK, markersize=18, markeredgewidth=2)
        ratio = "" if row.label == "thread" else f" · {best / thread_ms:,.0f}× a thread"
        ax.annotate(
            f"{_ms(row.best_s)}{ratio}",
            (max(ms), y),
            xytext=(8, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(result.rows)), [r.shown for r in result.rows], fontsize=8)
    ax.set_ylim(len(result.rows) - 0.5, -0.5)
    ax.set_xscale("log")
    low = min(min(r.samples_s) for r in result.rows) * 1e3
    high = max(max(r.samples_s) for r in result.rows) * 1e3
    ax.set_xlim(low / 2, high * 80)  # room on the right for the labels
    ax.set_xlabel("start + join of one worker that does nothing (ms, log scale)")
    ax.set_ylabel("how the worker starts")
    ax.set_title("What it costs to start a worker")
    ax.grid(axis="x", which="major", alpha=0.3)
    handles = [
        Line2D([], [], **{**category("thread").line(), "linestyle": "none", "label": "thread"}),
        Line2D([], [], **{**category("process").line(), "linestyle": "none", "label": "process"}),
        Line2D([], [], marker="|", color=INK, linestyle="none", markersize=12,
               markeredgewidth=2, label="fastest try"),
    ]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return finish(fig, summary=result.summary())


def plot_memory(result: MemoryResult, ax: Axes | None = None) -> Figure:
    """Bars per kind of worker: the parent's list before, what each worker saw, and after.

    Args:
        result: from :func:`~concurrency_lab.threads_and_processes.memory_isolation`.
        ax: draw here instead of in a new figure.

    Returns:
        The figure; its summary is ``result.summary()``.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    fig, ax = new_axes(ax, figsize=(8, 3.4))
    names = ("parent's list before", "what each worker saw", "parent's list after")
    styles = {
        name: dataclasses.replace(style, hatch=hatch)
        for (name, style), hatch in zip(worker_styles(names).items(), ("", "//", ".."))
    }
    n_workers = max(len(r.seen_by_workers) for r in result.rows)
    width = 0.8 / (n_workers + 2)
    top = 1
    for x, row in enumerate(result.rows):
        values = [
            (names[0], row.parent_before),
            *((names[1], seen) for seen in row.seen_by_workers),
            (names[2], row.parent_after),
        ]
        for i, (name, value) in enumerate(values):
            left = x - 0.4 + width * (i + 0.5)
            bars = ax.bar(left, value, width=width * 0.9, **styles[name].fill())
            ax.bar_label(bars, padding=2, fontsize=8)
            top = max(top, value)
    ax.set_xticks(range(len(result.rows)), [r.label.replace(" (", "\n(") for r in result.rows])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, top * 1.35)
    ax.set_xlabel("who appended")
    ax.set_ylabel("items in the list (count)")
    ax.set_title("Each worker appended one item to a list that lives in the parent")
    ax.legend(handles=[styles[n].patch() for n in names], loc="upper left", fontsize=8, ncols=3)
    return finish(fig, summary=result.summary())
