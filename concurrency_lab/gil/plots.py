"""GIL pictures: threads against processes, which work threads speed up, threads taking turns,
and how late a waiting thread wakes beside a CPU-bound one.

Every figure uses the course palette (:mod:`concurrency_lab.view.style`): colour plus hatch or
line style, so nothing is told by colour alone, and carries its result's sentence as summary.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..scaling.maths import NO_GAIN
from ..view.style import (
    EDGE,
    FAINT,
    NEUTRAL,
    NOTE,
    PAPER,
    category,
    finish,
    new_axes,
    text_color_on,
    worker_styles,
)
from .convoy import ConvoyResult
from .handoff import HandoffResult
from .speedups import ThreadScalingResult, ThreadsVsProcessesResult

_STEP_STYLES = ("-", "--", "-.", (0, (6, 2, 1, 2, 1, 2)))

__all__ = [
    "plot_handoff",
    "plot_probe_latency",
    "plot_thread_scaling",
    "plot_threads_vs_processes",
]


def _no_gain_band(ax: Axes, n: int) -> None:
    """The 'no gain' band around 1x and the 'perfect: n x' line, labelled for the legend."""
    ideal = category("ideal")
    ax.axhspan(1 - NO_GAIN, 1 + NO_GAIN, color=FAINT, zorder=0, label="no gain (1x ± 15 %)")
    ax.axhline(1, color=NOTE, ls=":", lw=1)
    ax.axhline(n, color=ideal.color, ls=ideal.linestyle, lw=1.2, label=f"perfect: {n}x")


def plot_threads_vs_processes(result: ThreadsVsProcessesResult, ax: Axes | None = None) -> Figure:
    """Two bars: the median speedup of N threads and of N processes, each repeat as a dot.

    The grey band is "no gain" (within 15 % of 1x), the dashed line perfect scaling (N x).
    Introduced in ``02-the-gil.ipynb``.

    Args:
        result: from :func:`~concurrency_lab.gil.threads_vs_processes`.
        ax: draw here instead of in a new figure.

    Returns:
        The figure drawn on; its summary is the result's verdict.
    """
    fig, ax = new_axes(ax, figsize=(6, 3.6))
    n = result.n_workers
    _no_gain_band(ax, n)
    points = [("threads", "thread", result.threads), ("processes", "process", result.processes)]
    for x, (name, kind, p) in enumerate(points):
        fill = category(kind).fill()
        fill["label"] = f"{n} {name}"
        ax.bar(x, p.speedup, width=0.55, **fill)
        ax.plot(
            [x] * len(p.speedups),
            p.speedups,
            ls="none",
            marker="o",
            ms=5,
            mfc="white",
            mec="black",
            label="one repeat" if x == 0 else None,
        )
        ax.annotate(
            f"median {p.speedup:.2f}x",
            (x + 0.3, p.speedup),
            xytext=(4, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontweight="bold",
        )
    ax.set_xticks([0, 1], [f"{n} threads", f"{n} processes"])
    ax.set_xlim(-0.6, 2.0)
    top = max([n, *result.threads.speedups, *result.processes.speedups])
    ax.set_ylim(0, top * 1.25)
    ax.set_xlabel("the same pure-Python work, split over")
    ax.set_ylabel("speedup (x one worker)")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(
        f"Threads against processes: median of {result.scaling.repeats} repeats, "
        f"1-worker time {result.scaling.serial_s:.2f} s",
        fontsize=10,
    )
    return finish(fig, summary=result.summary())


def plot_thread_scaling(result: ThreadScalingResult, ax: Axes | None = None) -> Figure:
    """Bars: how much faster N threads made each kind of work, by whether it holds the GIL.

    Work that holds the GIL is hatched; work that releases it (C code, waiting) is solid.
    Error bars span the repeats; the grey band is "no gain", the dashed line perfect scaling.
    Introduced in ``02-the-gil.ipynb``.

    Args:
        result: from :func:`~concurrency_lab.gil.measure_thread_scaling`.
        ax: draw here instead of in a new figure.

    Returns:
        The figure drawn on; its summary is the result's sentence.
    """
    fig, ax = new_axes(ax, figsize=(7, 3.8))
    n = result.n_threads
    _no_gain_band(ax, n)
    holds, releases = category("waiting"), category("running")
    points = [r.point("thread", n) for r in result.results]
    for x, (label, p) in enumerate(zip(result.labels, points)):
        style = holds if result.holds_gil(label) else releases
        fill = style.fill()
        fill["label"] = None
        lo, hi = p.speedup_range
        ax.bar(
            x,
            p.speedup,
            width=0.6,
            yerr=[[max(0.0, p.speedup - lo)], [max(0.0, hi - p.speedup)]],
            capsize=4,
            **fill,
        )
        ax.annotate(
            f"{p.speedup:.2f}x",
            (x, 0),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            color=text_color_on(style.color),
            fontweight="bold",
            bbox={"facecolor": style.color, "edgecolor": "none", "pad": 1},
        )
    handles = [
        Patch(facecolor=holds.color, edgecolor=EDGE, hatch=holds.hatch, label="holds the GIL"),
        Patch(facecolor=releases.color, edgecolor="none", label="releases the GIL"),
        *ax.get_legend_handles_labels()[0],
    ]
    ax.legend(handles=handles, fontsize=8, loc="upper left")
    ax.set_xticks(list(range(len(points))), list(result.labels))
    ax.set_xlabel("kind of work")
    ax.set_ylabel(f"speedup with {n} threads (x one)")
    ax.set_ylim(0, max([n, *(p.speedup_range[1] for p in points)]) * 1.3)
    repeats = len(points[0].speedups) if points else 0
    ax.set_title(f"Which work do {n} threads speed up? (median of {repeats} repeats)", fontsize=10)
    return finish(fig, summary=result.summary())


def plot_handoff(
    result: HandoffResult, ax: Axes | None = None, *, title: str | None = None
) -> Figure:
    """When each CPU-bound thread was running: one row per thread, one bar per stretch.

    With the GIL, the bars of different rows never overlap: the threads take turns, and the
    gaps in a row are where that thread waited for the GIL (or for a core). Without it (a
    free-threaded build), they run side by side. Introduced in ``02-the-gil.ipynb``.

    Args:
        result: from :func:`~concurrency_lab.gil.trace_handoff`.
        ax: draw here instead of in a new figure.
        title: defaults to a summary of the trace.

    Returns:
        The figure drawn on; its summary is the trace's sentence.
    """
    rows = list(result.workers)
    fig, ax = new_axes(ax, figsize=(9, max(2.2, 0.5 * len(rows) + 1.5)))
    styles = worker_styles(rows)
    t0 = result.started_ns
    for i, worker in enumerate(rows):
        bars = [
            ((s.start_ns - t0) / 1e6, max((s.end_ns - s.start_ns) / 1e6, 0.01))
            for s in result.spans
            if s.worker == worker
        ]
        fill = styles[worker].fill()
        fill.pop("label")
        ax.broken_barh(bars, (i - 0.35, 0.7), **{k: v for k, v in fill.items() if v is not None})
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.invert_yaxis()
    ax.set_xlim(0, max(result.elapsed_s * 1e3 * 1.03, 0.1))
    ax.set_xlabel("time since the threads started (ms)")
    ax.set_ylabel("thread")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Patch(facecolor=NEUTRAL, label="bar: running Python"),
            Patch(facecolor=PAPER, edgecolor=NEUTRAL, label="gap: waiting for the GIL (or a core)"),
        ],
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    if title is None:
        gil = "GIL on" if result.gil_enabled else "GIL off"
        title = (
            f"{result.n_threads} CPU-bound threads, {gil}, switch interval "
            f"{result.switch_interval_s * 1e3:g} ms: {len(result.turns)} turns "
            f"({result.n_switches} hand-offs between them)"
        )
    ax.set_title(title, fontsize=10)
    return finish(fig, summary=result.summary())


def plot_probe_latency(result: ConvoyResult, ax: Axes | None = None) -> Figure:
    """How late the probe thread woke: alone, and beside CPU-bound work at each interval.

    One step outline per run (its own colour and line style), as a share of that run's
    wake-ups so a run with few wake-ups is as visible as one with many. The x axis is
    logarithmic; a dotted line in a run's colour marks its switch interval: with the GIL the
    wake-ups pile up just above it. Introduced in ``02-the-gil.ipynb``.

    Args:
        result: from :func:`~concurrency_lab.gil.measure_switch_interval`.
        ax: draw here instead of in a new figure.

    Returns:
        The figure drawn on; its summary is the result's sentence.
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
    styles = worker_styles([label for label, _ in runs])
    for i, (label, r) in enumerate(runs):
        data = [max(x * 1e3, 1e-3) for x in r.latencies_s]
        if not data:
            continue
        color = styles[label].color
        weights = [100.0 / len(data)] * len(data)
        heights, _, _ = ax.hist(
            data,
            bins=list(bins),
            weights=weights,
            histtype="step",
            lw=2,
            color=color,
            linestyle=_STEP_STYLES[i % len(_STEP_STYLES)],
            label=label,
        )
        # A direct label over the run's tallest bar: the runs are told apart without colour.
        peak = int(np.argmax(heights))
        short = "alone" if not r.n_cpu_threads else f"{r.switch_interval_s * 1e3:g} ms"
        ax.annotate(
            short,
            (float(np.sqrt(bins[peak] * bins[peak + 1])), float(heights[peak])),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
        if r.n_cpu_threads:
            ax.axvline(r.switch_interval_s * 1e3, color=color, ls=":", lw=1.5)
    ax.set_xscale("log")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    ax.set_xlabel("how late the probe woke up (ms, log scale)")
    ax.set_ylabel("share of its wake-ups (%)")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color=NOTE, ls=":", lw=1.5))
    labels.append("dotted: that run's switch interval")
    ax.legend(handles, labels, fontsize=8)
    ax.grid(alpha=0.3)
    n = result.runs[0].n_cpu_threads if result.runs else 0
    ax.set_title(
        f"A thread sleeping {result.probe_period_s * 1e3:g} ms at a time, beside "
        f"{n} CPU-bound thread{'s' if n != 1 else ''}",
        fontsize=10,
    )
    return finish(fig, summary=result.summary())
