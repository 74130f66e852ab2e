"""Draw what ``cl.watch()`` saw: one lane per thread or process, solid where it was on a CPU.

The picture is the lesson. Each lane's thin line is the worker's lifetime; over it, a solid
bar wherever the worker was on a CPU for at least half of a time step (one sample: 1 ms on
Linux; longer watches use at most 2,000 steps), a pale bar where it ran for part of one.
Two CPU-bound threads under the GIL take visible turns; two processes run solid side by
side. Above the lanes, how many cores were busy at each moment (the sum of the lanes, in
bins of at least five samples); beside them, each worker's CPU total in seconds.

Threads and processes differ by colour *and* by hatch and lane label, using the course
palette (:mod:`concurrency_lab.view.style`).

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .style import EDGE, INK, NEUTRAL, NOTE, category, finish, new_figure

__all__ = ["SOLID_SHARE", "plot_watch"]

#: A time step (one sample interval, or wall/2000 for long watches) is drawn "on a CPU"
#: (solid) when the worker ran at least this share of it.
SOLID_SHARE = 0.5
#: Below this share a sample is drawn as not running at all.
PALE_SHARE = 0.1
_PALE_ALPHA = 0.35
_MAX_LANES_HEIGHT_IN = 9.0


def _style(kind: str) -> Any:
    return category("thread" if kind == "thread" else "process")


def _stretches(
    edges: Sequence[float], shares: Sequence[float], low: float, high: float
) -> list[tuple[float, float]]:
    """Merge consecutive bins whose share is in ``[low, high)`` into ``(start, width)`` runs."""
    runs: list[tuple[float, float]] = []
    start: float | None = None
    for i, share in enumerate(shares):
        inside = low <= share < high
        if inside and start is None:
            start = edges[i]
        elif not inside and start is not None:
            runs.append((start, edges[i] - start))
            start = None
    if start is not None:
        runs.append((start, edges[len(shares)] - start))
    return runs


def _time_unit(wall_s: float) -> tuple[float, str]:
    return (1e3, "ms") if wall_s < 1.0 else (1.0, "s")


def _draw_lanes(ax: Axes, result: Any, edges: list[float], scale: float) -> None:
    workers = result.workers
    end_all = result.wall_s
    for y, w in enumerate(workers):
        style = _style(w.kind)
        end = w.end_s if w.end_s is not None else end_all
        ax.plot(
            [w.start_s * scale, end * scale],
            [y, y],
            color=style.color,
            linewidth=1.2,
            solid_capstyle="butt",
        )
        if w.end_s is None:  # still alive when the watch ended
            ax.plot([end * scale], [y], marker=">", color=style.color, markersize=5)
        if result.resolution != "samples" or len(w.sample_s) < 2:
            continue
        shares = w.on_cpu(edges)
        scaled = [e * scale for e in edges]
        solid = _stretches(scaled, shares, SOLID_SHARE, float("inf"))
        pale = _stretches(scaled, shares, PALE_SHARE, SOLID_SHARE)
        fill = {"facecolor": style.color, "hatch": style.hatch or None, "linewidth": 0}
        if style.hatch:
            fill["edgecolor"] = EDGE
        if pale:
            ax.broken_barh(pale, (y - 0.22, 0.44), alpha=_PALE_ALPHA, **fill)
        if solid:
            ax.broken_barh(solid, (y - 0.32, 0.64), **fill)
    ax.set_yticks(range(len(workers)))
    ax.set_yticklabels([f"{w.kind}: {w.name}" for w in workers])
    ax.set_ylim(len(workers) - 0.5, -0.5)


def _legend(ax: Axes, result: Any, step_s: float) -> None:
    """The key, in its own (empty) axes so that it never covers a lane."""
    kinds = list(dict.fromkeys(w.kind for w in result.workers))
    handles: list[Any] = []
    sampled = result.resolution == "samples"
    for kind in kinds:
        style = _style(kind)
        handles.append(
            Patch(
                facecolor=style.color,
                hatch=style.hatch or None,
                edgecolor=EDGE if style.hatch else style.color,
                label=f"{kind} on a CPU" if sampled else f"{kind} (CPU total)",
            )
        )
    if sampled and kinds:
        pale = f"on a CPU for part of a {step_s * 1e3:.2g} ms step"
        handles.append(Patch(facecolor=NEUTRAL, alpha=_PALE_ALPHA, label=pale))
    if kinds:
        handles.append(Line2D([], [], color=NEUTRAL, linewidth=1.2, label="alive"))
        ax.legend(handles=handles, loc="center", fontsize="small", frameon=False)
    ax.set_axis_off()


def _busy_edges(result: Any, edges: list[float]) -> list[float]:
    """Bins of at least 5 sample intervals: a sample that lands a little late moves a
    millisecond of one lane's CPU into the next bin, and in 1 ms bins two lanes that took
    turns could then seem to add up to more than they did."""
    step = edges[1] - edges[0] if len(edges) > 1 else 0.0
    wanted = max(5 * (result.sample_interval_s or step), result.wall_s / 300)
    n = max(1, min(len(edges) - 1, round(result.wall_s / max(wanted, 1e-9))))
    return [result.wall_s * i / n for i in range(n + 1)]


def _draw_busy(ax: Axes, result: Any, edges: list[float], scale: float, unit: str) -> None:
    edges = _busy_edges(result, edges)
    _, busy = result.cores_busy(edges)
    # no machine keeps more cores busy than it has; a higher bin is sampling jitter
    busy = [min(b, result.cores) for b in busy] if result.cores else busy
    ax.set_title("Cores busy (sum of the lanes below)", loc="left", fontsize="medium")
    if not busy:
        ax.text(
            0.5,
            0.5,
            "Per-moment CPU is not available on this system: the lanes show lifetimes and "
            "the bars CPU totals.",
            transform=ax.transAxes,
            ha="center",
            va="center",
            wrap=True,
        )
        ax.set_axis_off()
        return
    ax.stairs(busy, [e * scale for e in edges], color=INK, linewidth=1.0, label="busy")
    ax.axhline(result.cores, color=NEUTRAL, linestyle="--", linewidth=1)
    ax.text(
        edges[-1] * scale,
        result.cores,
        f" {result.cores} cores",
        va="center",
        ha="left",
        fontsize="small",
        color=NOTE,
    )
    ax.set_ylim(0, max(result.cores, max(busy, default=0.0)) * 1.15 + 0.05)
    ax.set_ylabel("cores")
    ax.set_xlabel(f"time since the watch began ({unit})")


def _draw_totals(ax: Axes, result: Any) -> None:
    workers = result.workers
    # On the scale of the watched time: a thread that slept shows a sliver, not a full bar
    # (one core for the whole watch is the most a single-threaded worker can use).
    top = max(max((w.cpu_s or 0.0 for w in workers), default=0.0), result.wall_s) or 1.0
    for y, w in enumerate(workers):
        style = _style(w.kind)
        if w.cpu_s is None:
            ax.text(0, y, " unknown", va="center", ha="left", fontsize="small")
            continue
        ax.barh(
            y,
            w.cpu_s,
            height=0.6,
            color=style.color,
            hatch=style.hatch or None,
            edgecolor=EDGE if style.hatch else style.color,
        )
        shown = f"{w.cpu_s:.2f} s" if w.cpu_s >= 0.005 else f"{w.cpu_s * 1e3:.1f} ms"
        ax.text(w.cpu_s + top * 0.03, y, shown, va="center", fontsize="small")
    ax.set_xlim(0, top * 1.45)
    ax.set_title("CPU used", loc="left", fontsize="medium")
    ax.set_xlabel("CPU time (s)")
    ax.tick_params(axis="y", labelleft=False)


def _title(result: Any) -> str:
    threads = sum(w.kind == "thread" for w in result.workers)
    procs = sum(w.kind == "process" for w in result.workers)
    parts = []
    if threads:
        parts.append(f"{threads} thread" + ("s" if threads != 1 else ""))
    if procs:
        parts.append(f"{procs} process" + ("es" if procs != 1 else ""))
    who = " and ".join(parts) or "no threads or processes"
    stopped = f", stopped by {result.raised.split(':')[0]}" if result.raised else ""
    return f"What ran when: {who} in {result.wall_s:.2f} s{stopped}"


def plot_watch(result: Any, ax: Axes | None = None) -> Figure:
    """Draw a watch's timeline, cores-busy line and CPU totals; return the figure.

    Args:
        result: a :class:`~concurrency_lab.core.watch.WatchResult` (or the ``Watch`` itself,
            after its ``with`` block).
        ax: draw only the lanes, into this axes (no cores-busy line, no totals).

    Returns:
        The figure, with its one-sentence summary attached (``fig.lab_summary``), which
        Jupyter shows as the figure's text and alt text.

    Introduced in ``02-the-gil.ipynb``.
    """
    result = getattr(result, "result", result)
    from ..core.watch_result import default_edges

    edges = default_edges(result)
    scale, unit = _time_unit(result.wall_s)
    n = len(result.workers)
    if ax is not None:
        fig = cast(Figure, ax.figure)
        _draw_lanes(ax, result, edges, scale)
        ax.set_xlabel(f"time since the watch began ({unit})")
        ax.set_title(_title(result))
        ax.set_xlim(min(0.0, *(w.start_s for w in result.workers)) * scale, result.wall_s * scale)
        return finish(fig, summary=result.summary())
    lanes_h = min(_MAX_LANES_HEIGHT_IN, 0.45 * max(n, 1) + 0.9)
    fig = new_figure(figsize=(10, lanes_h + 2.4))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.4, lanes_h], width_ratios=[4, 1])
    lanes = fig.add_subplot(grid[1, 0])
    busy = fig.add_subplot(grid[0, 0], sharex=lanes)
    totals = fig.add_subplot(grid[1, 1], sharey=lanes)
    key = fig.add_subplot(grid[0, 1])
    _legend(key, result, edges[1] - edges[0])
    if n:
        _draw_lanes(lanes, result, edges, scale)
        _draw_totals(totals, result)
    else:
        lanes.text(
            0.5,
            0.5,
            "The code started no threads or processes that used the CPU.",
            transform=lanes.transAxes,
            ha="center",
            va="center",
        )
        lanes.set_yticks([])
        totals.set_axis_off()
    lanes.set_xlabel(f"time since the watch began ({unit})")
    lanes.set_ylabel("worker")
    start = min([0.0, *(w.start_s for w in result.workers)])
    lanes.set_xlim(start * scale, result.wall_s * scale)
    _draw_busy(busy, result, edges, scale, unit)
    busy.tick_params(axis="x", labelbottom=False)
    busy.set_xlabel("")
    fig.suptitle(_title(result))
    if result.note:
        fig.text(0.01, 0.0, result.note, fontsize="small", color=NOTE, va="bottom", wrap=True)
    return finish(fig, summary=result.summary())
