"""Figures of lesson 06: what IPC costs against message size, and the producer-consumer pipeline.

Every figure follows the course's contract (``docs/architecture.md``): the palette of
:mod:`concurrency_lab.view.style`, markers or hatches besides colour, a title, axis labels
with units, and a one-sentence summary computed from the data.

Introduced in ``06-ipc.ipynb``.
"""

from __future__ import annotations

from typing import Literal

from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..view import style
from .cost import LABELS, IPCResult, size_label
from .pipeline import PipelineResult

__all__ = ["plot_ipc", "plot_pipeline", "plot_pipeline_timeline", "plot_queue_depth"]

Metric = Literal["throughput", "latency"]

#: What each span of a pipeline is, by the first word of its label: (legend text, category).
#: A put that found room at once takes microseconds and is not drawn.
PHASES: dict[str, tuple[str, str]] = {
    "make": ("making or working on an item", "running"),
    "item": ("making or working on an item", "running"),
    "blocked": ("blocked in put: the queue was full", "waiting"),
    "wait": ("waiting in get: the queue was empty", "idle"),
}


def darker(color: str, amount: float = 0.35) -> str:
    """``color`` mixed with black: the second shade of alternating bars of one category."""
    r, g, b = to_rgb(color)
    return to_hex((r * (1 - amount), g * (1 - amount), b * (1 - amount)))


def plot_ipc(result: IPCResult, ax: Axes | None = None, *, metric: Metric = "throughput") -> Figure:
    """Log-log plot of throughput (GB/s) or time per message (µs) against message size.

    The in-process copy is the black dashed reference line: one ``numpy.copyto`` in this
    process, one way, no reply. At small sizes it is the cost of a Python call, not of
    moving bytes; at large sizes, roughly what copying memory costs. The other lines are
    round trips: the message there and a tiny reply back.

    Args:
        result: from :func:`concurrency_lab.ipc.measure_ipc`.
        ax: draw here instead of in a new figure.
        metric: ``"throughput"`` (GB/s, higher is better) or ``"latency"`` (µs per
            message, lower is better).

    Returns:
        The figure, with its summary.

    Raises:
        ValueError: an unknown ``metric``.

    Introduced in ``06-ipc.ipynb``.
    """
    if metric not in ("throughput", "latency"):
        raise ValueError(f"'metric' must be 'throughput' or 'latency' (got {metric!r}).")
    fig, ax = style.new_axes(ax, figsize=(7.5, 4))
    others = [m for m in result.methods if m != "copy"]
    styles = style.worker_styles(others)
    for m in result.methods:
        ys = [
            result.gbps(m, s) if metric == "throughput" else result.latency_us(m, s)
            for s in result.sizes
        ]
        if m == "copy":  # the one-process baseline: black, dashed, no marker
            base = style.category("serial")
            ax.plot(result.sizes, ys, color=base.color, ls="--", lw=2, label=LABELS[m])
        else:
            st = styles[m]
            ax.plot(
                result.sizes,
                ys,
                color=st.color,
                marker=st.marker,
                ls=st.linestyle,
                label=f"{LABELS[m]}, round trip",
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(list(result.sizes), [size_label(s) for s in result.sizes])
    ax.minorticks_off()
    ax.set_xlabel("message size (bytes, log scale)")
    how = f"processes started with {result.start_method}"
    if metric == "throughput":
        ax.set_ylabel("throughput (GB/s, log scale)")
        ax.set_title(f"How fast each method moves data ({how}; higher is better)", fontsize=10)
    else:
        ax.set_ylabel("time per message (µs, log scale)")
        ax.set_title(f"Time per message and reply ({how}; lower is better)", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return style.finish(fig, summary=result.summary())


def plot_queue_depth(
    result: PipelineResult, ax: Axes | None = None, *, zero_ns: int | None = None
) -> Figure:
    """How many items waited in the queue over time, with the queue's limit.

    Args:
        result: from :func:`concurrency_lab.ipc.run_pipeline`.
        ax: draw here instead of in a new figure.
        zero_ns: the ``perf_counter_ns()`` reading drawn as time 0 (default: the start).

    Introduced in ``06-ipc.ipynb``.
    """
    fig, ax = style.new_axes(ax, figsize=(9, 2.2))
    shift_ms = 0.0 if zero_ns is None else (zero_ns - result.started_ns) / 1e6
    ts = [t * 1e3 - shift_ms for t, _ in result.depth]
    ds = [d for _, d in result.depth]
    line = style.worker_styles(["depth"])["depth"]
    ax.step(ts, ds, where="post", color=line.color, label="items in the queue")
    ax.fill_between(ts, ds, step="post", alpha=0.25, color=line.color)
    limit = style.category("ideal")
    ax.axhline(
        result.queue_size, color=limit.color, ls="--", lw=1, label=f"maxsize = {result.queue_size}"
    )
    ax.set_ylim(0, result.queue_size + 0.8)
    ax.set_xlim(0, max(ts[-1], result.elapsed_s * 1e3 - shift_ms) * 1.02)
    ax.set_xlabel("time since the pipeline started (ms)")
    ax.set_ylabel("items queued (count)")
    ax.set_title(f"Queue depth: at most {result.max_depth} of {result.queue_size}", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    return style.finish(
        fig,
        summary=f"The queue held at most {result.max_depth} of its {result.queue_size} places.",
    )


def _phase_patch(phase: str) -> Patch:
    label, name = PHASES[phase]
    cat = style.category(name)
    return Patch(
        facecolor=cat.color,
        edgecolor=style.EDGE if cat.hatch else style.PAPER,
        hatch=cat.hatch or None,
        label=label,
    )


def plot_pipeline_timeline(
    result: PipelineResult, ax: Axes | None = None, *, zero_ns: int | None = None
) -> Figure:
    """One row per producer and consumer, showing what it did at each moment.

    Solid (bluish green): making or working on an item, each item its own bar with a thin
    white gap, alternating light and dark so back-to-back items stay apart; hatched ``//``
    (vermillion): a producer blocked in ``put`` because the queue was full; dotted grey: a
    consumer waiting in ``get`` because the queue was empty. A put that found room at once
    takes microseconds and is not drawn.

    Introduced in ``06-ipc.ipynb``.
    """
    rows = [f"producer-{j + 1}" for j in range(result.n_producers)] + [
        f"consumer-{k + 1}" for k in range(result.n_consumers)
    ]
    fig, ax = style.new_axes(ax, figsize=(9, max(2.2, 0.45 * len(rows) + 1.2)))
    t0 = result.started_ns if zero_ns is None else zero_ns
    drawn: set[str] = set()
    for y, worker in enumerate(rows):
        for phase, (_, name) in PHASES.items():
            cat = style.category(name)
            bars = [
                ((s.start_ns - t0) / 1e6, (s.end_ns - s.start_ns) / 1e6)
                for s in result.spans
                if s.worker == worker and s.label.split(" ", 1)[0] == phase
            ]
            if not bars:
                continue
            drawn.add(name)
            if cat.hatch:
                ax.broken_barh(
                    bars,
                    (y - 0.35, 0.7),
                    facecolors=cat.color,
                    edgecolor=style.EDGE,
                    hatch=cat.hatch,
                    linewidth=0,
                )
            else:  # successive items alternate between the colour and a darker shade
                shades = (cat.color, darker(cat.color))
                ax.broken_barh(
                    bars,
                    (y - 0.35, 0.7),
                    facecolors=[shades[k % 2] for k in range(len(bars))],
                    edgecolor=style.PAPER,
                    linewidth=0.6,
                )
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, max(result.elapsed_s * 1e3, 1e-3) * 1.02)
    ax.set_xlabel("time since the pipeline started (ms)")
    ax.set_ylabel("worker")
    ax.set_title("What each producer and consumer was doing", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(  # only what was drawn: "blocked" appears only if a put really waited
        handles=[_phase_patch(p) for p in ("make", "blocked", "wait") if PHASES[p][1] in drawn],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
    )
    return style.finish(fig, summary=result.summary())


def plot_pipeline(result: PipelineResult, ax: Axes | None = None) -> Figure:
    """The pipeline's timeline (who made, was blocked, waited, worked when) above its queue depth.

    With ``ax``, only the timeline is drawn there (use :func:`plot_queue_depth` for the
    depth). Introduced in ``06-ipc.ipynb``.
    """
    how = "threads" if result.kind == "thread" else f"processes ({result.start_method})"
    title = (
        f"{result.n_producers} producer(s), {result.n_consumers} consumer(s), "
        f"maxsize {result.queue_size}, {how}: {result.n_items} items in "
        f"{result.elapsed_s * 1e3:.0f} ms"
    )
    if ax is not None:
        fig = plot_pipeline_timeline(result, ax)
        ax.set_title(title, fontsize=10)
        return fig
    rows = result.n_producers + result.n_consumers
    fig = style.new_figure(figsize=(9, min(9, 0.45 * rows + 3.6)))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[max(2, rows), 2])
    plot_pipeline_timeline(result, top)
    top.set_title(title, fontsize=10)
    top.set_xlabel("")
    plot_queue_depth(result, bottom)
    bottom.set_title("")
    fig.lab_summary = ""  # one sentence for the whole figure
    return style.finish(fig, summary=result.summary())
