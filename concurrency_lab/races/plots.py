"""Figures for lesson 04: lost updates per run, and the outcomes of every interleaving."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..view.style import new_axes
from .demos import WORKER_LABELS, LostUpdates, PrimitiveDemo
from .programs import Interleavings

__all__ = ["plot_interleavings", "plot_lost_updates", "plot_primitive_demo"]

_OK, _RACE, _DEADLOCK = "tab:green", "tab:red", "tab:gray"


def plot_lost_updates(
    results: LostUpdates | Sequence[LostUpdates], ax: Axes | None = None
) -> Figure:
    """Bars of the share of increments lost in each run, one group per way of incrementing.

    Introduced in ``04-races-and-locks.ipynb``.

    Args:
        results: one or more :class:`~concurrency_lab.races.LostUpdates`.
        ax: draw here instead of in a new figure.

    Returns:
        The figure drawn on.
    """
    if isinstance(results, LostUpdates):
        results = [results]
    results = list(results)
    if not results or not all(isinstance(r, LostUpdates) for r in results):
        raise TypeError("'results' must be one or more results of cl.races.lost_updates(...).")
    fig, ax = new_axes(ax, figsize=(8, 3.2))
    x = 0.0
    ticks, labels = [], []
    for r in results:
        lost = [100 * n / r.expected for n in r.lost]
        xs = [x + i for i in range(len(lost))]
        color = _RACE if r.total_lost else _OK
        ax.bar(xs, lost, width=0.8, color=color)
        for xi, v in zip(xs, lost):
            if v == 0:
                ax.annotate("0", (xi, 0), ha="center", va="bottom", fontsize=8)
        ticks.append(x + (len(lost) - 1) / 2)
        labels.append(f"{r.code}\n{r.total_lost:,} lost in {len(lost)} runs")
        x += len(lost) + 1.5
    ax.set_xticks(ticks, labels, fontsize=8)
    ax.set_ylabel("updates lost (% of all)")
    first = results[0]
    ax.set_title(
        f"{first.n_workers} threads x {first.n_increments:,} increments per run "
        f"(Python {first.python})"
    )
    ax.set_ylim(bottom=0, top=max(5.0, ax.get_ylim()[1]))
    return fig


def plot_interleavings(result: Interleavings, ax: Axes | None = None) -> Figure:
    """Horizontal bars: how many schedules end in each outcome; races red, deadlocks grey.

    Introduced in ``04-races-and-locks.ipynb``.
    """
    if not isinstance(result, Interleavings):
        raise TypeError("'result' must be the result of cl.races.interleavings(...).")
    outcomes = list(result.outcomes)
    fig, ax = new_axes(ax, figsize=(8, 0.5 * len(outcomes) + 1.4))
    names = [o for o, _ in outcomes]
    counts = [n for _, n in outcomes]
    colors = [
        _DEADLOCK if o == "deadlock" else _OK if o in result.serial_outcomes else _RACE
        for o in names
    ]
    bars = ax.barh(range(len(names)), counts, color=colors)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.bar_label(bars, [f"{n:,}" for n in counts], padding=3, fontsize=8)
    ax.set_xlabel("schedules")
    title = result.program.title or "program"
    ax.set_title(
        f"{title}: {result.n_schedules:,} schedules, {result.n_wrong:,} wrong "
        "(green: as if run one after another; red: race; grey: deadlock)",
        fontsize=9,
    )
    ax.set_xlim(0, max(counts) * 1.15)
    return fig


def plot_primitive_demo(demo: PrimitiveDemo, ax: Axes | None = None) -> Figure:
    """A timeline of one primitive demo: a row per thread, waiting in grey, work in colour.

    Unlike :func:`~concurrency_lab.plots.plot_timeline`, it leaves out the span of
    each whole worker and colours the steps by what they were, with a legend.
    Introduced in ``04-races-and-locks.ipynb``.
    """
    if not isinstance(demo, PrimitiveDemo):
        raise TypeError("'demo' must be the result of cl.races.primitive_demo(...).")
    run = demo.run
    spans = [s for s in run.spans if s.label not in WORKER_LABELS]
    rows = list(run.workers)
    fig, ax = new_axes(ax, figsize=(8, 0.45 * len(rows) + 1.5))
    t0 = run.started_ns
    end_ms = max(((s.end_ns - t0) / 1e6 for s in run.spans), default=1.0)
    labels = list(dict.fromkeys(s.label for s in spans))
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:olive"]
    colors, k = {}, 0
    for label in labels:
        if label.startswith("wait"):
            colors[label] = "lightgray"
        elif label.startswith("drop"):
            colors[label] = _RACE
        else:
            colors[label] = palette[k % len(palette)]
            k += 1
    for s in run.spans:  # a thin line for each worker's whole life
        if s.label in WORKER_LABELS and s.worker in rows:
            y = rows.index(s.worker)
            ax.plot(
                [(s.start_ns - t0) / 1e6, (s.end_ns - t0) / 1e6],
                [y, y],
                color="black",
                lw=0.8,
                zorder=0,
            )
    for label in labels:
        for s in (s for s in spans if s.label == label and s.worker in rows):
            if label.startswith("drop"):  # an instant: a mark across the row, not a sliver
                x = (s.start_ns - t0) / 1e6
                y = rows.index(s.worker)
                ax.plot([x, x], [y - 0.35, y + 0.35], color=colors[label], lw=1.5, zorder=3)
                continue
            width = max((s.end_ns - s.start_ns) / 1e6, end_ms * 4e-3)
            ax.barh(
                rows.index(s.worker),
                width,
                left=(s.start_ns - t0) / 1e6,
                height=0.6,
                color=colors[label],
                edgecolor="white",
                linewidth=0.3,
            )
    handles = [Patch(color=colors[label], label=label) for label in labels]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    roles = dict(demo.roles)
    ax.set_yticks(range(len(rows)), [f"{w} ({roles[w]})" if w in roles else w for w in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, end_ms * 1.02)
    ax.set_xlabel("time since the threads started (ms)")
    which = "fixed" if demo.fixed else "broken"
    title = textwrap.fill(f"{demo.primitive} ({which}): {demo.summary}", width=95)
    ax.set_title(title, fontsize=9, loc="left")
    return fig
