"""Figures for lesson 04: lost updates per run, where every schedule ends, and who waited when.

Every figure uses the course palette (``view.style``): outcomes are ``correct`` and ``lost
update`` (a race) with different hatches, deadlocks and stuck programs have their own hatch
too, and waiting is the ``waiting`` category; every figure ends with a sentence computed
from its data (``fig.lab_summary``).

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..view.style import EDGE, OKABE_ITO, Category, category, finish, new_axes, text_color_on
from .counters import LostUpdatesResult
from .primitives import PrimitiveDemoResult
from .schedules import InterleavingsResult

__all__ = ["outcome_style", "plot_interleavings", "plot_lost_updates", "plot_primitive_demo"]


def _relabel(cat: Category, label: str) -> Category:
    return Category(cat.name, cat.color, cat.hatch, cat.marker, cat.linestyle, label)


def outcome_style(kind: str) -> Category:
    """How an outcome kind of :class:`InterleavingsResult` is drawn (colour, hatch, label).

    ``"as one after the other"`` is the course's ``correct``, ``"race"`` its ``lost update``,
    ``"deadlock"`` its ``deadlock``; ``"stuck"`` (a thread waits forever, no cycle) is drawn
    like ``idle``, with its own label.
    """
    if kind == "race":
        return _relabel(category("lost update"), "race (no one-after-the-other order gives it)")
    if kind == "deadlock":
        return _relabel(category("deadlock"), "deadlock (a cycle of locks)")
    if kind == "stuck":
        return _relabel(category("idle"), "stuck (a thread waits forever)")
    return _relabel(category("correct"), "as if one thread ran after the other")


def plot_lost_updates(
    results: LostUpdatesResult | Sequence[LostUpdatesResult], ax: Axes | None = None
) -> Figure:
    """Bars of the share of increments lost in each run, one group per way of incrementing.

    Introduced in ``04-races-and-locks.ipynb``.

    Args:
        results: one or more results of ``cl.races.lost_updates``.
        ax: draw here instead of in a new figure.

    Returns:
        The figure drawn on, with its summary.

    Raises:
        TypeError: ``results`` holds something else.
    """
    items = [results] if isinstance(results, LostUpdatesResult) else list(results)
    if not items or not all(isinstance(r, LostUpdatesResult) for r in items):
        raise TypeError("'results' must be one or more results of cl.races.lost_updates(...).")
    fig, ax = new_axes(ax, figsize=(8, 3.4))
    lost_cat, ok_cat = category("lost update"), category("correct")
    x = 0.0
    ticks, labels = [], []
    for r in items:
        pct = [100 * n / r.expected for n in r.lost]
        xs = [x + i for i in range(len(pct))]
        for xi, v in zip(xs, pct):
            if v > 0:
                ax.bar(xi, v, width=0.8, **lost_cat.fill())
            else:  # no height to see: a marker on the axis, and the number
                ax.plot([xi], [0], linestyle="none", marker=ok_cat.marker, color=ok_cat.color)
                ax.annotate("0", (xi, 0), xytext=(0, 6), textcoords="offset points", ha="center")
        ticks.append(x + (len(pct) - 1) / 2)
        labels.append(f"{r.code}\n{r.total_lost:,} lost in {len(pct)} runs")
        x += len(pct) + 1.5
    ax.set_xticks(ticks, labels, fontsize=8)
    ax.set_xlabel("runs, grouped by the line each thread ran")
    ax.set_ylabel("updates lost (% of the run's)")
    ax.set_ylim(bottom=0, top=max(5.0, ax.get_ylim()[1]))
    first = items[0]
    intervals = {f"{r.switch_interval_s * 1e3:g} ms" for r in items}
    ax.set_title(
        f"{first.n_workers} threads x {first.n_increments:,} increments per run, switch "
        f"interval {' / '.join(sorted(intervals))} (Python {first.python})",
        fontsize=10,
    )
    ax.legend(
        handles=[
            Patch(**{**lost_cat.fill(), "label": "a run that lost updates"}),
            Line2D(
                [],
                [],
                linestyle="none",
                marker=ok_cat.marker,
                color=ok_cat.color,
                label="a run that lost none",
            ),
        ],
        loc="upper right",
        fontsize=8,
    )
    return finish(fig, summary=" ".join(r.summary() for r in items))


def plot_interleavings(result: InterleavingsResult, ax: Axes | None = None) -> Figure:
    """Horizontal bars: how many schedules end in each outcome, styled by what kind it is.

    Introduced in ``04-races-and-locks.ipynb``.

    Raises:
        TypeError: ``result`` is not the result of ``cl.races.interleavings``.
    """
    if not isinstance(result, InterleavingsResult):
        raise TypeError("'result' must be the result of cl.races.interleavings(...).")
    outcomes = list(result.outcomes)
    fig, ax = new_axes(ax, figsize=(8, 0.5 * len(outcomes) + 1.8))
    kinds = [result.kind_of(o) for o, _ in outcomes]
    for y, ((_, n), kind) in enumerate(zip(outcomes, kinds)):
        bar = ax.barh(y, n, height=0.6, **outcome_style(kind).fill())
        ax.bar_label(bar, [f"{n:,}"], padding=3, fontsize=8)
    ax.set_yticks(range(len(outcomes)), [o for o, _ in outcomes], fontsize=8)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(n for _, n in outcomes) * 1.15)
    ax.set_xlabel("schedules (count)")
    ax.set_ylabel("how it ended")
    title = result.program.title or "program"
    ax.set_title(
        f"{title}: {result.n_schedules:,} schedules, {result.n_wrong:,} of them wrong",
        fontsize=10,
    )
    shown = list(dict.fromkeys(kinds))
    ax.legend(
        handles=[outcome_style(k).patch() for k in shown],
        loc="lower right",
        fontsize=8,
    )
    return finish(fig, summary=result.summary().splitlines()[0])


# The colours of work spans: the palette without vermillion (waiting) and the weak ones.
_WORK_COLORS = (OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[4], OKABE_ITO[5])
_WORK_HATCHES = ("", "..", "\\\\", "++", "oo")
_MIN_SHARE = 0.012  # a span narrower than this share of the axis is drawn as a marker


def _span_style(label: str, k: int) -> dict[str, Any]:
    if label.startswith("wait"):
        return {**category("waiting").fill(), "label": label}
    return {
        "facecolor": _WORK_COLORS[k % len(_WORK_COLORS)],
        "edgecolor": EDGE,
        "hatch": _WORK_HATCHES[k % len(_WORK_HATCHES)] or None,
        "label": label,
    }


def plot_primitive_demo(demo: PrimitiveDemoResult, ax: Axes | None = None) -> Figure:
    """A timeline of one primitive demo: a row per thread, each span labelled with what it did.

    Waiting is drawn in the course's ``waiting`` style; each kind of work gets its own
    colour *and* hatch; an item dropped by a full buffer is a cross mark; a span too short
    to see is a diamond at its start.

    Introduced in ``04-races-and-locks.ipynb``.

    Raises:
        TypeError: ``demo`` is not the result of ``cl.races.primitive_demo``.
    """
    if not isinstance(demo, PrimitiveDemoResult):
        raise TypeError("'demo' must be the result of cl.races.primitive_demo(...).")
    run = demo.run
    rows = list(run.workers)
    spans = [s for s in run.spans if s.label != demo.worker_label and s.worker in rows]
    whole = [s for s in run.spans if s.label == demo.worker_label and s.worker in rows]
    fig, ax = new_axes(ax, figsize=(8, 0.5 * len(rows) + 1.8))
    t0 = run.started_ns
    end_ms = max(((s.end_ns - t0) / 1e6 for s in run.spans), default=1.0)
    labels = list(dict.fromkeys(s.label for s in spans if not s.label.startswith("drop")))
    work = [lb for lb in labels if not lb.startswith("wait")]
    styles = {lb: _span_style(lb, work.index(lb) if lb in work else 0) for lb in labels}
    for s in whole:  # a thin line for each worker's whole life
        y = rows.index(s.worker)
        ax.plot(
            [(s.start_ns - t0) / 1e6, (s.end_ns - t0) / 1e6],
            [y, y],
            color=EDGE,
            lw=0.8,
            zorder=0.5,
        )
    drop = category("lost update")
    n_drops = 0
    as_bar: set[str] = set()
    as_mark: set[str] = set()
    for s in spans:
        x, y = (s.start_ns - t0) / 1e6, rows.index(s.worker)
        width = (s.end_ns - s.start_ns) / 1e6
        if s.label.startswith("drop"):
            n_drops += 1
            ax.plot([x], [y], linestyle="none", marker=drop.marker, markersize=9, color=drop.color)
            continue
        st = styles[s.label]
        if width < _MIN_SHARE * end_ms:
            as_mark.add(s.label)
            ax.plot(
                [x],
                [y],
                linestyle="none",
                marker="D",
                markersize=7,
                color=st["facecolor"],
                markeredgecolor=EDGE,
            )
            continue
        as_bar.add(s.label)
        ax.barh(y, width, left=x, height=0.6, **{**st, "label": None})
        if width > 0.12 * end_ms:
            ax.text(
                x + width / 2,
                y,
                s.label,
                ha="center",
                va="center",
                fontsize=7,
                color=text_color_on(st["facecolor"]),
            )
    handles: list[Any] = []
    for lb in labels:  # a label drawn both ways (one thread waited long, one not) gets both
        if lb in as_bar:
            handles.append(Patch(**styles[lb]))
        if lb in as_mark:
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="D",
                    color=styles[lb]["facecolor"],
                    markeredgecolor=EDGE,
                    label=f"{lb} (too short to draw as a bar)",
                )
            )
    if n_drops:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=drop.marker,
                color=drop.color,
                label=f"item dropped ({n_drops})",
            )
        )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    roles = dict(demo.roles)
    ax.set_yticks(range(len(rows)), [f"{w} ({roles[w]})" if w in roles else w for w in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, end_ms * 1.02)
    ax.set_xlabel("time since the threads started (ms)")
    ax.set_ylabel("thread")
    ax.set_title(textwrap.fill(demo.summary(), width=90), fontsize=9)
    return finish(fig, summary=demo.summary())
