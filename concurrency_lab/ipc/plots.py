"""Figures of lesson 06: what IPC costs against message size, and the producer-consumer pipeline."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..view.style import new_axes, worker_colors
from .pipeline import PipelineResult
from .primitives import IPCResult

__all__ = ["plot_ipc", "plot_pipeline", "plot_pipeline_timeline", "plot_queue_depth"]

#: What each span of a pipeline is, by the first word of its label, and its colour.
#: Items follow each other without a gap, so "make" and "item" spans alternate between
#: their colour and the darker shade in ``_SHADES``: each item stays visible on its own.
_PHASES = {
    "make": ("making an item (shades alternate)", "tab:blue"),
    "put": ("blocked in put (queue full)", "tab:red"),
    "wait": ("waiting in get (queue empty)", "lightgrey"),
    "item": ("working on an item (shades alternate)", "tab:green"),
}

_SHADES = {"make": "#0d3b66", "item": "#145a14"}

_METRICS = ("throughput", "latency")


def _size_label(n: float) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n:g} B"


def plot_ipc(result: IPCResult, ax: Axes | None = None, *, metric: str = "throughput") -> Figure:
    """Log-log plot of throughput (GB/s) or round-trip time (µs) against message size.

    The in-process copy (``memcpy``) is drawn as a dashed black line: no method
    between processes that copies the data can beat it. Introduced in ``06-ipc.ipynb``.

    Args:
        result: from :func:`concurrency_lab.measure_ipc`.
        ax: draw here instead of in a new figure.
        metric: ``"throughput"`` (GB/s, higher is better) or ``"latency"`` (µs per
            message and acknowledgement, lower is better).
    """
    if metric not in _METRICS:
        raise ValueError(f"'metric' must be 'throughput' or 'latency' (got {metric!r}).")
    fig, ax = new_axes(ax, figsize=(7, 4))
    others = [m for m in result.methods if m != "memcpy"]
    colors = worker_colors(others)
    for m in result.methods:
        ys = [
            result.gbps(m, s) if metric == "throughput" else result.latency_us(m, s)
            for s in result.sizes
        ]
        if m == "memcpy":
            ax.plot(result.sizes, ys, "k--", lw=2, label="memcpy (in-process copy)")
        else:
            ax.plot(result.sizes, ys, "o-", color=colors[m], label=m)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(list(result.sizes), [_size_label(s) for s in result.sizes])
    ax.minorticks_off()
    ax.set_xlabel("message size")
    if metric == "throughput":
        ax.set_ylabel("throughput (GB/s)")
        ax.set_title("How fast each method moves data (higher is better)")
    else:
        ax.set_ylabel("time per message + reply (µs)")
        ax.set_title("Round trip per message (lower is better)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def plot_queue_depth(
    result: PipelineResult, ax: Axes | None = None, *, zero_ns: int | None = None
) -> Figure:
    """How many items waited in the queue over time, with the queue's limit.

    Args:
        result: from :func:`concurrency_lab.run_pipeline`.
        ax: draw here instead of in a new figure.
        zero_ns: the ``perf_counter_ns()`` reading drawn as time 0 (default: the start).

    Introduced in ``06-ipc.ipynb``.
    """
    fig, ax = new_axes(ax, figsize=(9, 2.2))
    shift_ms = 0.0 if zero_ns is None else (zero_ns - result.started_ns) / 1e6
    ts = [t * 1e3 - shift_ms for t, _ in result.depth]
    ds = [d for _, d in result.depth]
    ax.step(ts, ds, where="post", color="tab:purple")
    ax.fill_between(ts, ds, step="post", alpha=0.25, color="tab:purple")
    ax.axhline(result.queue_size, color="k", ls="--", lw=1, label=f"maxsize = {result.queue_size}")
    ax.set_ylim(0, result.queue_size + 0.8)
    ax.set_xlim(0, max(ts[-1], result.elapsed_s * 1e3 - shift_ms) * 1.02)
    ax.set_xlabel("time since the pipeline started (ms)")
    ax.set_ylabel("items queued")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_pipeline_timeline(
    result: PipelineResult, ax: Axes | None = None, *, zero_ns: int | None = None
) -> Figure:
    """One row per producer and consumer, coloured by what it was doing at each moment.

    Blue: making an item; red: blocked in ``put`` because the queue was full;
    grey: waiting in ``get`` because it was empty; green: working on an item.
    Successive items alternate between a light and a dark shade of blue (green),
    so back-to-back items stay distinguishable.
    Introduced in ``06-ipc.ipynb``.
    """
    rows = [f"producer-{j + 1}" for j in range(result.n_producers)] + [
        f"consumer-{k + 1}" for k in range(result.n_consumers)
    ]
    fig, ax = new_axes(ax, figsize=(9, max(2.2, 0.45 * len(rows) + 1.2)))
    t0 = result.started_ns if zero_ns is None else zero_ns
    row_of = {w: i for i, w in enumerate(rows)}
    for phase, (_, color) in _PHASES.items():
        shades = (color, _SHADES.get(phase, color))
        for worker, y in row_of.items():
            bars = [
                ((s.start_ns - t0) / 1e6, (s.end_ns - s.start_ns) / 1e6)
                for s in result.spans
                if s.worker == worker and s.label.split(" ", 1)[0] == phase
            ]
            if bars:
                colors = [shades[k % 2] for k in range(len(bars))]  # spans are in time order
                ax.broken_barh(bars, (y - 0.35, 0.7), facecolors=colors, edgecolors="none")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, max(result.elapsed_s * 1e3, 1e-3) * 1.02)
    ax.set_xlabel("time since the pipeline started (ms)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        handles=[Patch(color=c, label=label) for label, c in _PHASES.values()],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
    )
    return fig


def plot_pipeline(result: PipelineResult, ax: Axes | None = None) -> Figure:
    """The pipeline's timeline (who made, put, waited, worked when) above its queue depth.

    With ``ax``, only the timeline is drawn there (use :func:`plot_queue_depth` for
    the depth). Introduced in ``06-ipc.ipynb``.
    """
    how = "threads" if result.kind == "thread" else f"processes ({result.start_method})"
    title = (
        f"{result.n_producers} producer(s), {result.n_consumers} consumer(s), "
        f"maxsize {result.queue_size}, {how}: {result.n_items} items in "
        f"{result.elapsed_s * 1e3:.0f} ms"
    )
    if ax is not None:
        plot_pipeline_timeline(result, ax)
        ax.set_title(title)
        return ax.figure  # type: ignore[return-value]
    rows = result.n_producers + result.n_consumers
    fig, (top, bottom) = plt.subplots(
        2,
        1,
        figsize=(9, min(9, 0.45 * rows + 3.6)),
        sharex=True,
        layout="constrained",
        height_ratios=[max(2, rows), 2],
    )
    plt.close(fig)
    plot_pipeline_timeline(result, top)
    top.set_title(title)
    plot_queue_depth(result, bottom)
    top.set_xlabel("")
    return fig
