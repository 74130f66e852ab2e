"""Pictures of deadlocks: the wait-for graph with its cycle, and who held which lock when."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.ticker import MaxNLocator

from ..view.style import new_axes, worker_colors
from .locks import (
    Deadlock,
    DemoOutcome,
    LockEvent,
    LockInterval,
    WaitForGraph,
    find_cycles,
    lock_intervals,
    natural_key,
)

__all__ = ["plot_lock_timeline", "plot_philosophers", "plot_progress", "plot_wait_for"]

_CYCLE = "#d62728"
_PLAIN = "#7f7f7f"


def _ring(nodes: Sequence[str], center: tuple[float, float]) -> dict[str, tuple[float, float]]:
    """Nodes evenly on a circle around ``center``, the first at the top."""
    radius = max(0.9, 0.3 * len(nodes))
    cx, cy = center
    pos = {}
    for i, node in enumerate(nodes):
        angle = math.pi / 2 - 2 * math.pi * i / max(len(nodes), 1)
        pos[node] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    return pos


def _graph_layout(
    graph: WaitForGraph, cycles: Sequence[Deadlock]
) -> dict[str, tuple[float, float]]:
    """Each cycle (thread, lock, thread, lock, ...) on a ring of its own, side by side.

    Nodes outside the cycles hang outward from the node they are joined to
    (a thread waiting for a cycle's lock, the locks that thread holds), spread
    at different angles so that they do not sit on top of each other. Without a
    cycle, all nodes go on one ring.
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
        radius = max(0.9, 0.3 * len(ring))
        if k:
            x += radius
        center = (x, 0.0)
        x += radius + 2.2  # room for the nodes hanging outward
        for node, p in _ring(ring, center).items():
            pos[node], center_of[node] = p, center
    # Breadth-first outward from the rings: each new node one step further out.
    frontier = [n for ring in rings for n in ring]
    while frontier:
        nxt = []
        for parent in frontier:
            kids = [n for n in neighbours.get(parent, []) if n not in pos]
            if not kids:
                continue
            px, py = pos[parent]
            cx, cy = center_of[parent]
            base = math.atan2(py - cy, px - cx)
            for j, kid in enumerate(kids):
                angle = base + (j - (len(kids) - 1) / 2) * 0.6
                pos[kid] = (px + 1.0 * math.cos(angle), py + 1.0 * math.sin(angle))
                center_of[kid] = center_of[parent]
                nxt.append(kid)
        frontier = nxt
    rest = [n for n in neighbours if n not in pos]  # parts not joined to any cycle
    if rest:
        radius = max(0.9, 0.3 * len(rest))
        pos.update(_ring(rest, (x + radius, 0.0)))
    return pos


def plot_wait_for(
    cycle_or_graph: Deadlock | WaitForGraph | None,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Draw the wait-for graph: threads (circles), locks (squares), the cycle in red.

    A dashed arrow *thread -> lock* means "waits for"; a solid arrow *lock ->
    thread* means "is held by". Follow the red arrows around: every thread in the
    cycle waits for a lock that the next one holds. Introduced in
    ``05-deadlocks.ipynb``.

    Args:
        cycle_or_graph: a :class:`~concurrency_lab.deadlocks.Deadlock` (its whole
            graph is drawn, its cycle highlighted), a
            :class:`~concurrency_lab.deadlocks.WaitForGraph`, or None (nothing to draw).
        ax: draw here instead of in a new figure.
        title: defaults to a one-line summary.

    Returns:
        The figure drawn on.
    """
    if cycle_or_graph is None:
        fig, ax = new_axes(ax, figsize=(5.5, 5))
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "no deadlock: nothing to draw",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_title(title or "wait-for graph")
        return fig
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
    pos = _graph_layout(graph, cycles)
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    fig, ax = new_axes(
        ax, figsize=(min(12.0, max(5.5, 1.2 * width + 2)), min(9.0, max(5.0, 1.2 * height + 2)))
    )
    ax.set_axis_off()
    ax.set_aspect("equal")
    in_cycle: set[tuple[str, str]] = set()
    for d in cycles:
        for step in d.steps:
            in_cycle.add((f"T:{step.thread}", f"L:{step.waits_for}"))
            in_cycle.add((f"L:{step.waits_for}", f"T:{step.held_by}"))
    edges: list[tuple[str, str, str]] = []  # (source, target, "waits"/"holds")
    for t, locks in graph.holds.items():
        for lk in locks:
            edges.append((f"L:{lk}", f"T:{t}", "holds"))
    for t, lk in graph.waits.items():
        edges.append((f"T:{t}", f"L:{lk}", "waits"))
    for src, dst, kind in edges:
        hot = (src, dst) in in_cycle
        arrow = FancyArrowPatch(
            pos[src],
            pos[dst],
            arrowstyle="-|>",
            mutation_scale=16,
            shrinkA=18,
            shrinkB=18,
            linestyle="--" if kind == "waits" else "-",
            linewidth=2.4 if hot else 1.2,
            color=_CYCLE if hot else _PLAIN,
            connectionstyle="arc3,rad=0.12",
            zorder=1,
        )
        ax.add_patch(arrow)
    cycle_nodes = {n for pair in in_cycle for n in pair}
    for node, (x, y) in pos.items():
        kind, name = node.split(":", 1)
        edge = _CYCLE if node in cycle_nodes else "black"
        if kind == "T":
            ax.scatter(
                [x],
                [y],
                s=1500,
                marker="o",
                color="#cfe2f3",
                edgecolors=edge,
                linewidths=2,
                zorder=2,
            )
        else:
            ax.scatter(
                [x],
                [y],
                s=1100,
                marker="s",
                color="#fce5cd",
                edgecolors=edge,
                linewidths=2,
                zorder=2,
            )
        ax.text(x, y, name, ha="center", va="center", fontsize=8, zorder=3)
    pad = 0.7 + 0.08 * max(width, height)  # the markers have a fixed size in points
    ax.set_xlim(min(xs) - pad, max(xs) + pad)
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=11,
            markerfacecolor="#cfe2f3",
            markeredgecolor="black",
            label="thread",
        ),
        Line2D(
            [],
            [],
            marker="s",
            linestyle="",
            markersize=10,
            markerfacecolor="#fce5cd",
            markeredgecolor="black",
            label="lock",
        ),
        Line2D([], [], linestyle="--", color=_PLAIN, label="waits for"),
        Line2D([], [], linestyle="-", color=_PLAIN, label="held by"),
        Line2D([], [], linestyle="-", linewidth=2.4, color=_CYCLE, label="the cycle"),
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
    return fig


def plot_lock_timeline(
    outcome: DemoOutcome | Iterable[LockEvent] | Iterable[LockInterval],
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Who held which lock when: one row per thread, solid bars = holding, hatched = waiting.

    Bars are coloured by lock, so a thread waiting (hatched) for a lock another
    thread is holding (solid, same colour) is easy to spot. Time in ms from the
    start of the demo. Introduced in ``05-deadlocks.ipynb``.

    Args:
        outcome: a :class:`~concurrency_lab.deadlocks.DemoOutcome`, or its events,
            or intervals from :func:`~concurrency_lab.deadlocks.lock_intervals`.
        ax: draw here instead of in a new figure.
        title: defaults to the demo and its strategy.

    Returns:
        The figure drawn on.
    """
    rows: list[str] = []
    t0: int | None = None
    if isinstance(outcome, DemoOutcome):
        intervals = list(outcome.intervals())
        rows = list(outcome.threads)
        t0 = outcome.started_ns
        if title is None:
            title = f"{outcome.demo.replace('_', ' ')} — strategy: {outcome.strategy}"
    else:
        items = list(outcome)
        if items and isinstance(items[0], LockEvent):
            intervals = list(lock_intervals(items))  # type: ignore[arg-type]
        else:
            intervals = items  # type: ignore[assignment]
    for iv in intervals:
        if iv.thread not in rows:
            rows.append(iv.thread)
    rows.sort(key=natural_key)
    if t0 is None:
        t0 = min((iv.start_ns for iv in intervals), default=0)
    height = max(2.2, 0.45 * len(rows) + 1.4)
    fig, ax = new_axes(ax, figsize=(9, min(height, 8)))
    locks = sorted({iv.lock for iv in intervals}, key=natural_key)
    colors = worker_colors(locks)
    row_of = {t: i for i, t in enumerate(rows)}
    # Each row has one lane per lock its thread touched, so two held locks never overlap.
    lanes: dict[str, list[str]] = {t: [] for t in rows}
    for iv in sorted(intervals, key=lambda iv: iv.start_ns):
        if iv.lock not in lanes[iv.thread]:
            lanes[iv.thread].append(iv.lock)
    for iv in intervals:
        row_lanes = lanes[iv.thread]
        lane_h = 0.8 / len(row_lanes)
        y = row_of[iv.thread] - 0.4 + lane_h * (row_lanes.index(iv.lock) + 0.5)
        start = (iv.start_ns - t0) / 1e6
        width = max((iv.end_ns - iv.start_ns) / 1e6, 0.05)
        if iv.state == "holding":
            ax.barh(
                y,
                width,
                left=start,
                height=lane_h * 0.9,
                color=colors[iv.lock],
                edgecolor="black",
                linewidth=0.4,
            )
        else:
            ax.barh(
                y,
                width,
                left=start,
                height=lane_h * 0.6,
                color="white",
                edgecolor=colors[iv.lock],
                hatch="///",
                linewidth=1.0,
            )
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("time since start (ms)")
    handles = [Patch(color=colors[lk], label=f"holds {lk}") for lk in locks]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="waiting"))
    if handles:
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False
        )
    if not intervals:
        ax.text(
            0.5, 0.5, "no lock events recorded", ha="center", va="center", transform=ax.transAxes
        )
    ax.set_title(title or "lock timeline")
    return fig


def plot_progress(
    outcome: DemoOutcome, ax: Axes | None = None, *, title: str | None = None
) -> Figure:
    """A bar per thread: how many units of work (meals, turns) it finished.

    A thread with no bar, beside others with tall ones, is starving.
    Introduced in ``05-deadlocks.ipynb``.
    """
    if not isinstance(outcome, DemoOutcome):
        raise TypeError(f"'outcome' must be a DemoOutcome (got {type(outcome).__name__}).")
    fig, ax = new_axes(ax, figsize=(6, 3))
    names = list(outcome.threads)
    values = [outcome.progress[n] for n in names]
    bars = ax.bar(names, values, color="#6fa8dc", edgecolor="black", linewidth=0.5)
    ax.bar_label(bars, fontsize=8)
    ax.set_ylabel("meals" if outcome.demo == "dining_philosophers" else "work done")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole meals, whole turns
    ax.set_ylim(0, max([*values, 1]) * 1.15)
    ax.tick_params(axis="x", labelrotation=30 if len(names) > 5 else 0)
    ax.set_title(title or f"work done per thread ({outcome.strategy})")
    return fig


def plot_philosophers(outcome: DemoOutcome) -> Figure:
    """Three panels for one dinner: the lock timeline, the wait-for graph, meals per philosopher.

    The graph panel shows the first deadlock found, or says there was none.
    Introduced in ``05-deadlocks.ipynb``.
    """
    if not isinstance(outcome, DemoOutcome):
        raise TypeError(f"'outcome' must be a DemoOutcome (got {type(outcome).__name__}).")
    fig = plt.figure(figsize=(11, 7.5), layout="constrained")
    plt.close(fig)
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1.1], width_ratios=[1, 1])
    plot_lock_timeline(outcome, fig.add_subplot(grid[0, :]))
    plot_wait_for(
        outcome.deadlock,
        fig.add_subplot(grid[1, 1]),
        title="first deadlock" if outcome.deadlock else "no deadlock",
    )
    plot_progress(outcome, fig.add_subplot(grid[1, 0]))
    return fig
