"""Figures for lesson 04: lost updates per run, and the outcomes of every interleaving."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..races import Interleavings, LostUpdates
from ._base import new_axes

__all__ = ["plot_interleavings", "plot_lost_updates"]

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
        raise TypeError("'results' must be one or more results of cl.lost_updates(...).")
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
        raise TypeError("'result' must be the result of cl.interleavings(...).")
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
