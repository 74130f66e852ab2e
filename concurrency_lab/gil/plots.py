"""GIL pictures: threads taking turns on a timeline, and how late a probe thread wakes."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..view.style import new_axes, worker_colors
from .measure import Handoff, SwitchIntervalResult, ThreadScaling

__all__ = ["plot_handoff", "plot_probe_latency", "plot_thread_scaling"]


def plot_handoff(result: Handoff, ax: Axes | None = None, *, title: str | None = None) -> Figure:
    """Draw when each CPU-bound thread was running: one row per thread, one bar per stretch.

    With the GIL, the bars of different rows never overlap: the threads take
    turns. Without it (a free-threaded build), they run side by side.
    Introduced in ``02-the-gil.ipynb``.

    Args:
        result: from :func:`concurrency_lab.trace_handoff`.
        ax: draw here instead of in a new figure.
        title: defaults to a summary of the trace.

    Returns:
        The figure drawn on.
    """
    rows = list(result.workers)
    fig, ax = new_axes(ax, figsize=(9, max(2.0, 0.5 * len(rows) + 1.3)))
    colors = worker_colors(rows)
    t0 = result.started_ns
    for i, worker in enumerate(rows):
        bars = [
            ((s.start_ns - t0) / 1e6, max((s.end_ns - s.start_ns) / 1e6, 0.01))
            for s in result.spans
            if s.worker == worker
        ]
        ax.broken_barh(bars, (i - 0.35, 0.7), facecolors=colors[worker])
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.invert_yaxis()
    # A margin on the right, so the last stretch does not end on the frame.
    ax.set_xlim(0, max(result.elapsed_s * 1e3 * 1.03, 0.1))
    ax.set_xlabel("time (ms)")
    ax.grid(axis="x", alpha=0.3)
    if title is None:
        gil = "GIL on" if result.gil_enabled else "GIL off"
        title = (
            f"{result.n_threads} CPU-bound threads, {gil}, switch interval "
            f"{result.switch_interval_s * 1e3:g} ms: {result.n_switches} hand-offs"
        )
    ax.set_title(title, fontsize=10)
    return fig


def plot_probe_latency(
    result: SwitchIntervalResult, ax: Axes | None = None, *, title: str | None = None
) -> Figure:
    """Histogram of how late the probe thread woke up, alone and at each switch interval.

    The x axis is logarithmic (milliseconds); a dotted line marks each switch
    interval, so you can see wake-ups pile up just above it (the waiting
    thread waits one interval, then asks for the GIL, then must be woken). Introduced in
    ``02-the-gil.ipynb``.

    Args:
        result: from :func:`concurrency_lab.measure_switch_interval`.
        ax: draw here instead of in a new figure.
        title: defaults to a summary.

    Returns:
        The figure drawn on.
    """
    import numpy as np

    fig, ax = new_axes(ax, figsize=(8, 3.8))
    runs = [
        ("probe alone", result.alone),
        *[
            (f"interval {r.switch_interval_s * 1e3:g} ms ({r.wakeups} wake-ups)", r)
            for r in result.runs
        ],
    ]
    all_ms = [max(x * 1e3, 1e-3) for _, r in runs for x in r.latencies_s]
    lo, hi = (min(all_ms), max(all_ms)) if all_ms else (1e-3, 1.0)
    bins = np.logspace(np.log10(lo * 0.9), np.log10(hi * 1.1 + 1e-3), 40)
    colors = worker_colors([label for label, _ in runs])
    for label, r in runs:
        data = [max(x * 1e3, 1e-3) for x in r.latencies_s]
        if not data:
            continue
        ax.hist(data, bins=bins, histtype="step", lw=2, color=colors[label], label=label)
        if r.n_cpu_threads:
            ax.axvline(r.switch_interval_s * 1e3, color=colors[label], ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("how late the probe woke up (ms, log scale)")
    ax.set_ylabel("wake-ups")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if title is None:
        n = result.runs[0].n_cpu_threads if result.runs else 0
        title = (
            f"A thread sleeping {result.probe_period_s * 1e3:g} ms at a time, beside "
            f"{n} CPU-bound thread{'s' if n != 1 else ''}"
        )
    ax.set_title(title, fontsize=10)
    return fig


def plot_thread_scaling(
    result: ThreadScaling, ax: Axes | None = None, *, title: str | None = None
) -> Figure:
    """Bar chart: how much faster N threads made each kind of work, with the ideal marked.

    Each bar is a median speedup with the spread of the repeats as an error bar;
    the dashed line is perfect scaling (N x). Introduced in ``02-the-gil.ipynb``.

    Args:
        result: from :func:`concurrency_lab.measure_thread_scaling`.
        ax: draw here instead of in a new figure.
        title: defaults to a summary.

    Returns:
        The figure drawn on.
    """
    fig, ax = new_axes(ax, figsize=(7, 3.6))
    n = result.n_threads
    points = [r.point("thread", n) for r in result.results]
    heights = [p.speedup for p in points]
    lo = [max(0.0, p.speedup - p.speedup_range[0]) for p in points]
    hi = [max(0.0, p.speedup_range[1] - p.speedup) for p in points]
    colors = worker_colors(list(result.labels))
    xs = range(len(points))
    ax.bar(xs, heights, yerr=[lo, hi], capsize=4, color=[colors[k] for k in result.labels])
    ax.axhline(n, color="0.4", ls="--", lw=1, label=f"perfect: {n}x")
    ax.axhline(1, color="0.6", ls=":", lw=1, label="no gain: 1x")
    for x, h in zip(xs, heights):
        ax.annotate(
            f"{h:.1f}x",
            (x, 0),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            color="white",
            fontweight="bold",
        )
    ax.set_xticks(list(xs), list(result.labels))
    ax.set_ylabel(f"speedup with {n} threads")
    ax.set_ylim(0, max([n, *heights]) * 1.2)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or f"Which work do {n} threads speed up?", fontsize=10)
    return fig
