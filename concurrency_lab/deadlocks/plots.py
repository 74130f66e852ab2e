"""Pictures of deadlocks: the wait-for graph with its cycle, who held which lock when, and
what each strategy cost.

Every function takes a result, draws with the course palette (``view.style``: thread and
lock by their course colours, the cycle by its colour *and* thicker lines, waiting by a
hatch), and ends with a sentence computed from the data (``fig.lab_summary``).

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.ticker import MaxNLocator

from ..view.style import (
    EDGE,
    PAPER,
    category,
    finish,
    new_axes,
    new_figure,
    text_color_on,
    worker_colors,
)
from .demos import StrategyComparisonResult
from .graph import Deadlock, WaitForGraph, find_cycles, natural_key
from .locks import LockEvent
from .outcome import DemoResult, LockInterval, lock_intervals

__all__ = [
    "plot_lock_timeline",
    "plot_philosophers",
    "plot_progress",
    "plot_strategies",
    "plot_wait_for",
]

_INK = "black"  # arrows and outlines that carry no category
_WAITS = (0, (3.0, 1.6))  # the dash of a "waits for" arrow (scaled by the line width)


def _ring(nodes: Sequence[str], center: tuple[float, float]) -> dict[str, tuple[float, float]]:
    """Nodes evenly on a circle around ``center``, the first at the top."""
    radius = max(1.0, 0.42 * len(nodes))
    cx, cy = center
    pos = {}
    for i, node in enumerate(nodes):
        angle = math.pi / 2 - 2 * math.pi * i / max(len(nodes), 1)
        pos[node] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    return pos


def graph_layout(graph: WaitForGraph, cycles: Sequence[Deadlock]) -> dict[str, tuple[float, float]]:
    """Where each node goes: each cycle (thread, lock, thread, ...) on a ring of its own.

    Nodes outside the cycles hang outward from the node they are joined to, spread at
    different angles so that they do not sit on top of each other. Without a cycle, all
    nodes go on one ring. Keys are ``"T:<thread>"`` and ``"L:<lock>"``.
    """
    neighbours: dict[str, list[str]] = {}

    def link(a: str, b: str) -> None:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)

    for t in graph.threads:
        neighbours.setdefault(f"T:{t}", [])
        for lk in graph.holds.get(t, ()):
            link(f"L:{lk}", f"T:{t}")
        if t in graph.waits:
            link(f"T:{t}", f"L:{graph.waits[t]}")
    rings: list[list[str]] = []
    seen: set[str] = set()
    for d in cycles:
        ring = [n for s in d.steps for n in (f"T:{s.thread}", f"L:{s.waits_for}")]
        ring = [n for n in dict.fromkeys(ring) if n not in seen]
        if ring:
            rings.append(ring)
            seen.update(ring)
    if not rings:
        return _ring(list(neighbours), (0.0, 0.0))
    pos: dict[str, tuple[float, float]] = {}
    center_of: dict[str, tuple[float, float]] = {}
    x = 0.0
    for k, ring in enumerate(rings):
        radius = max(1.0, 0.42 * len(ring))
        if k:
            x += radius
        center = (x, 0.0)
        x += radius + 2.2  # room for the nodes hanging outward
        for node, p in _ring(ring, center).items():
            pos[node], center_of[node] = p, center
    frontier = [n for ring in rings for n in ring]  # breadth-first, outward from the rings
    while frontier:
        nxt = []
        for parent in frontier:
            kids = [n for n in neighbours.get(parent, []) if n not in pos]
            px, py = pos[parent]
            cx, cy = center_of[parent]
            base = math.atan2(py - cy, px - cx)
            for j, kid in enumerate(kids):
                angle = base + (j - (len(kids) - 1) / 2) * 0.6
                pos[kid] = (px + math.cos(angle), py + math.sin(angle))
                center_of[kid] = center_of[parent]
                nxt.append(kid)
        frontier = nxt
    rest = [n for n in neighbours if n not in pos]  # parts joined to no cycle
    if rest:
        pos.update(_ring(rest, (x + max(1.0, 0.42 * len(rest)), 0.0)))
    return pos


def _node_points(node: str) -> float:
    """How wide a node's marker is drawn (points): wide enough for its name at 8 pt."""
    kind, name = node.split(":", 1)
    return max(36.0 if kind == "T" else 29.0, 4.9 * len(name) + (14 if kind == "T" else 10))


def _graph_summary(graph: WaitForGraph, cycles: Sequence[Deadlock]) -> str:
    if not cycles:
        waiting = len(graph.waits)
        return (
            f"No cycle: {waiting} thread{'s' * (waiting != 1)} wait, but none waits in a circle."
            if waiting
            else "No thread waits for a lock: nothing is stuck."
        )
    text = " ".join(f"{d}." for d in cycles)
    outside = [t for t in graph.waits if not any(t in d.threads for d in cycles)]
    if outside:
        text += f" {', '.join(outside)} also wait{'s' * (len(outside) == 1)}, outside any cycle."
    if all(d.bounded for d in cycles):
        text += " Every such wait has a timeout, so each cycle will break by itself."
    return text


def plot_wait_for(
    cycle_or_graph: Deadlock | WaitForGraph | None,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Draw the wait-for graph: threads (circles), locks (squares), the cycle thick.

    A dashed arrow *thread -> lock* means "waits for"; a solid arrow *lock -> thread* means
    "is held by". Follow the thick arrows around: every thread in a cycle waits for a lock
    that the next one holds.

    Args:
        cycle_or_graph: a :class:`~concurrency_lab.deadlocks.Deadlock` (its whole graph is
            drawn, its cycle highlighted), a :class:`~concurrency_lab.deadlocks.WaitForGraph`
            (every cycle highlighted), or ``None`` (nothing to draw).
        ax: draw here instead of in a new figure.
        title: defaults to what the graph shows.

    Returns:
        The figure.

    Raises:
        TypeError: for anything else.

    Introduced in ``05-deadlocks.ipynb``.
    """
    if cycle_or_graph is None:
        fig, ax = new_axes(ax, figsize=(5.5, 4))
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no deadlock: nothing to draw", ha="center", transform=ax.transAxes)
        ax.set_title(title or "wait-for graph")
        return finish(fig, summary="No deadlock was found, so there is no cycle to draw.")
    cycles: tuple[Deadlock, ...]
    if isinstance(cycle_or_graph, Deadlock):
        graph, cycles = cycle_or_graph.graph, (cycle_or_graph,)
    elif isinstance(cycle_or_graph, WaitForGraph):
        graph = cycle_or_graph
        cycles = find_cycles(graph, include_bounded=True)
    else:
        raise TypeError(
            f"'cycle_or_graph' must be a Deadlock, a WaitForGraph or None "
            f"(got {type(cycle_or_graph).__name__})."
        )
    pos = graph_layout(graph, cycles)
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    fig, ax = new_axes(
        ax, figsize=(min(12.0, max(5.5, 1.2 * width + 2)), min(9.0, max(5.0, 1.2 * height + 2)))
    )
    ax.set_axis_off()
    ax.set_aspect("equal")
    cycle_style = category("deadlock")
    in_cycle: set[tuple[str, str]] = set()
    for d in cycles:
        for step in d.steps:
            in_cycle.add((f"T:{step.thread}", f"L:{step.waits_for}"))
            in_cycle.add((f"L:{step.waits_for}", f"T:{step.held_by}"))
    edges: list[tuple[str, str, Any]] = [
        (f"L:{lk}", f"T:{t}", "-") for t, locks in graph.holds.items() for lk in locks
    ]
    edges += [(f"T:{t}", f"L:{lk}", _WAITS) for t, lk in graph.waits.items()]
    size = {node: _node_points(node) for node in pos}  # marker width in points
    for src, dst, dash in edges:
        hot = (src, dst) in in_cycle
        ax.add_patch(
            FancyArrowPatch(
                pos[src],
                pos[dst],
                arrowstyle="-|>",
                mutation_scale=18 if hot else 14,
                shrinkA=size[src] / 2 + 2,
                shrinkB=size[dst] / 2 + 3,
                linestyle=dash,
                linewidth=3.2 if hot else 1.3,
                color=cycle_style.color if hot else _INK,
                connectionstyle="arc3,rad=0.12",
                zorder=1,
            )
        )
    cycle_nodes = {n for pair in in_cycle for n in pair}
    thread, lock = category("thread"), category("lock")
    for node, (x, y) in pos.items():
        kind, name = node.split(":", 1)
        style, marker = (thread, "o") if kind == "T" else (lock, "s")
        hot = node in cycle_nodes
        ax.scatter(
            [x],
            [y],
            s=size[node] ** 2,
            marker=marker,
            color=style.color,
            edgecolors=cycle_style.color if hot else _INK,
            linewidths=3.2 if hot else 1.0,
            zorder=2,
        )
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=8,
            zorder=3,
            color=text_color_on(style.color),
        )
    pad = 0.7 + 0.08 * max(width, height)  # the markers have a fixed size in points
    ax.set_xlim(min(xs) - pad, max(xs) + pad)
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    handles = [
        Line2D([], [], marker="o", ls="", ms=11, mfc=thread.color, mec=_INK, label="thread"),
        Line2D([], [], marker="s", ls="", ms=10, mfc=lock.color, mec=_INK, label="lock"),
        Line2D([], [], linestyle=_WAITS, lw=1.3, color=_INK, label="waits for (dashed)"),
        Line2D([], [], linestyle="-", lw=1.3, color=_INK, label="held by (solid)"),
        Line2D([], [], linestyle="-", lw=3.2, color=cycle_style.color, label="in a cycle (thick)"),
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    if title is None:
        if len(cycles) == 1:
            title = f"deadlock: {len(cycles[0].steps)} threads wait in a circle"
        elif cycles:
            rings = ", ".join("–".join(d.threads) for d in cycles)
            title = f"deadlock: {len(cycles)} cycles ({rings})"
        else:
            title = "wait-for graph: no cycle"
    ax.set_title(title)
    return finish(fig, summary=_graph_summary(graph, cycles))


def plot_lock_timeline(
    outcome: DemoResult | Iterable[LockEvent] | Iterable[LockInterval],
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Who held which lock when: one lane per thread and lock, solid = holding, hatched = waiting.

    Each lock has its own colour, and each lane is labelled with its thread and lock, so a
    thread waiting (hatched) for a lock that another thread holds (solid, same colour) is
    easy to spot. Time in ms from the start of the demo.

    Args:
        outcome: a :class:`~concurrency_lab.deadlocks.DemoResult`, or lock events, or
            intervals from ``lock_intervals``.
        ax: draw here instead of in a new figure.
        title: defaults to the demo and its strategy.

    Returns:
        The figure.

    Introduced in ``05-deadlocks.ipynb``.
    """
    rows: list[str] = []
    t0: int | None = None
    if isinstance(outcome, DemoResult):
        intervals = list(outcome.intervals())
        rows = list(outcome.threads)
        t0 = outcome.started_ns
        title = title or f"{outcome.demo}: who held which lock ({outcome.strategy})"
    else:
        items = list(outcome)
        if items and isinstance(items[0], LockEvent):
            intervals = list(lock_intervals(items))  # type: ignore[arg-type]
        else:
            intervals = items  # type: ignore[assignment]
    rows = sorted({*rows, *(iv.thread for iv in intervals)}, key=natural_key)
    if t0 is None:
        t0 = min((iv.start_ns for iv in intervals), default=0)
    lanes: list[tuple[str, str]] = []  # (thread, lock), a lane each
    for thread in rows:
        mine = sorted({iv.lock for iv in intervals if iv.thread == thread}, key=natural_key)
        lanes += [(thread, lk) for lk in mine] or [(thread, "")]
    lane_of = {lane: i for i, lane in enumerate(lanes)}
    locks = sorted({iv.lock for iv in intervals}, key=natural_key)
    colors = worker_colors(locks)
    fig, ax = new_axes(ax, figsize=(9, min(8.0, max(2.4, 0.3 * len(lanes) + 1.6))))
    spans: dict[tuple[int, str, str], list[tuple[float, float]]] = {}  # one collection each
    for iv in intervals:
        key = (lane_of[(iv.thread, iv.lock)], iv.lock, iv.state)
        width = max((iv.end_ns - iv.start_ns) / 1e6, 0.05)
        spans.setdefault(key, []).append(((iv.start_ns - t0) / 1e6, width))
    for (y, lk, state), xs in spans.items():
        if state == "holding":
            ax.broken_barh(
                xs, (y - 0.4, 0.8), facecolors=colors[lk], edgecolors=_INK, linewidth=0.4
            )
        else:
            ax.broken_barh(
                xs,
                (y - 0.275, 0.55),
                facecolors=PAPER,
                edgecolors=colors[lk],
                hatch="////",
                linewidth=1.0,
            )
    ax.set_yticks(range(len(lanes)), [f"{t} · {lk}" if lk else t for t, lk in lanes])
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    ax.set_xlabel("time since the demo started (ms)")
    ax.set_ylabel("thread · lock")
    handles = [Patch(facecolor=colors[lk], edgecolor=_INK, label=f"holds {lk}") for lk in locks]
    handles.append(
        Patch(
            facecolor=PAPER,
            edgecolor=_INK,
            hatch="////",
            label="hatched: waiting for it\n(colour = which lock)",
        )
    )
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False
    )
    if not intervals:
        ax.text(0.5, 0.5, "no lock events recorded", ha="center", transform=ax.transAxes)
    ax.set_title(title or "who held which lock")
    return finish(fig, summary=_timeline_summary(intervals))


def _timeline_summary(intervals: Sequence[LockInterval]) -> str:
    waits = [iv for iv in intervals if iv.state == "waiting"]
    holds = [iv for iv in intervals if iv.state == "holding"]
    if not intervals:
        return "No lock was taken or waited for."
    text = f"{len(holds)} times a thread held a lock"
    if not waits:
        return text + ", and no thread ever waited for one."
    longest = max(waits, key=lambda iv: iv.end_ns - iv.start_ns)
    total = sum(iv.end_ns - iv.start_ns for iv in waits) / 1e6
    return (
        f"{text}; threads waited {len(waits)} times, {total:.0f} ms in all; the longest wait "
        f"was {longest.thread} waiting {(longest.end_ns - longest.start_ns) / 1e6:.0f} ms "
        f"for {longest.lock}."
    )


def plot_progress(
    outcome: DemoResult, ax: Axes | None = None, *, title: str | None = None
) -> Figure:
    """A bar per thread: how many units of work (meals, turns) it finished.

    A thread with no bar, beside others with tall ones, is starving: it is labelled so.

    Raises:
        TypeError: ``outcome`` is not a :class:`~concurrency_lab.deadlocks.DemoResult`.

    Introduced in ``05-deadlocks.ipynb``.
    """
    if not isinstance(outcome, DemoResult):
        raise TypeError(f"'outcome' must be a DemoResult (got {type(outcome).__name__}).")
    fig, ax = new_axes(ax, figsize=(6, 3))
    names = list(outcome.threads)
    values = [outcome.progress[n] for n in names]
    bars = ax.bar(names, values, **{**category("thread").fill(), "label": None})
    labels = [f"{v}" if v or not any(values) else "0: starved" for v in values]
    ax.bar_label(bars, labels=labels, fontsize=8)
    ax.set_xlabel("thread")
    ax.set_ylabel(f"{outcome.unit}s done (count)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole meals, whole turns
    ax.set_ylim(0, max([*values, 1]) * 1.2)
    ax.tick_params(axis="x", labelrotation=30 if len(names) > 5 else 0)
    ax.set_title(title or f"{outcome.demo}: {outcome.unit}s per thread ({outcome.strategy})")
    counts = ", ".join(f"{n} {v}" for n, v in zip(names, values))
    starved = [n for n, v in zip(names, values) if v == 0]
    text = f"{outcome.unit.capitalize()}s done per thread: {counts}."
    if starved and len(starved) < len(names):
        text += f" {', '.join(starved)} got none: starved."
    return finish(fig, summary=text)


def plot_philosophers(outcome: DemoResult) -> Figure:
    """One dinner in two panels: who held which fork when, and the first deadlock's graph.

    Raises:
        TypeError: ``outcome`` is not a :class:`~concurrency_lab.deadlocks.DemoResult`.

    Introduced in ``05-deadlocks.ipynb``.
    """
    if not isinstance(outcome, DemoResult):
        raise TypeError(f"'outcome' must be a DemoResult (got {type(outcome).__name__}).")
    fig = new_figure(figsize=(11, 10))
    grid = fig.add_gridspec(2, 1, height_ratios=[1, 1.25])
    plot_lock_timeline(outcome, fig.add_subplot(grid[0]))
    first = outcome.deadlock
    plot_wait_for(first, fig.add_subplot(grid[1]), title="the first deadlock" if first else None)
    fig.lab_summary = ""  # the panels' sentences give way to ...
    return finish(fig, summary=outcome.summary())  # ... the result's own


def plot_strategies(comparison: StrategyComparisonResult) -> Figure:
    """The same dinner with each strategy: extra attempts, and time spent waiting for locks.

    Bars of a strategy that deadlocked are drawn in the course's deadlock style (colour and
    hatch); the others in its "correct" style. Attempts hardly change from run to run; the
    milliseconds do.

    Raises:
        TypeError: ``comparison`` is not a ``StrategyComparisonResult``.

    Introduced in ``05-deadlocks.ipynb``.
    """
    if not isinstance(comparison, StrategyComparisonResult):
        raise TypeError(
            f"'comparison' must be what compare_strategies() returns "
            f"(got {type(comparison).__name__})."
        )
    fig = new_figure(figsize=(10, 3.8))
    left, right = fig.subplots(1, 2)
    names = list(comparison.dinners)
    stuck, ok = category("deadlock"), category("correct")
    styles = [stuck if comparison.dinners[s].deadlocked else ok for s in names]
    retries = [comparison.dinners[s].retries for s in names]
    waited = [comparison.dinners[s].waited_s() * 1e3 for s in names]
    for ax, values, label in (
        (left, retries, "extra attempts (count)"),
        (right, waited, "time waiting for locks (ms)"),
    ):
        bars = ax.bar(names, values, color=[s.color for s in styles], edgecolor=EDGE)
        for bar, style in zip(bars, styles):
            bar.set_hatch(style.hatch or None)
        ax.bar_label(bars, labels=[f"{v:.0f}" for v in values], fontsize=8)
        ax.set_xlabel("strategy")
        ax.set_ylabel(label)
        ax.set_ylim(0, max([*values, 1]) * 1.2)
        ax.tick_params(axis="x", labelrotation=25)
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_title("put a fork down and tried again")
    right.set_title("all philosophers together")
    right.legend(
        handles=[
            Patch(
                facecolor=stuck.color,
                edgecolor=EDGE,
                hatch=stuck.hatch,
                label="deadlocked (rescued by the watchdog)",
            ),
            Patch(facecolor=ok.color, edgecolor=EDGE, label="no deadlock"),
        ],
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
    )
    n = len(next(iter(comparison.dinners.values())).threads) if names else 0
    fig.suptitle(f"{n} philosophers, {comparison.meals} meals each, the same worst start")
    return finish(fig, summary=comparison.summary())
