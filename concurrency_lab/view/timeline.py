"""The timeline of a run: one row per worker, one bar per span, coloured by process."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..core.runners import Run
from ..core.tracing import Span, together_s
from .style import NOTE, finish, new_axes, text_color_on, worker_styles

__all__ = ["plot_timeline"]


def _depths(spans: list[Span]) -> list[int]:
    """Nesting depth of each span within its row (0 = outermost), for drawing."""
    depths: list[int] = []
    stack: list[int] = []  # end times of the open enclosing spans
    for s in spans:
        while stack and stack[-1] <= s.start_ns:
            stack.pop()
        depths.append(len(stack))
        stack.append(s.end_ns)
    return depths


def plot_timeline(
    run: Run | Sequence[Span],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    label_spans: bool = True,
) -> Figure:
    """Draw a Gantt-style timeline: one row per worker, one bar per span.

    Bars are coloured by process id, so the threads of one process share a colour and
    separate processes stand apart (beyond eight processes the colours repeat lighter and
    hatched, and the legend names each pid). Nested spans (a step inside a worker's run) are
    drawn as thinner bars on top. Time is in milliseconds from the start of the run. The
    figure's summary says how long two or more workers were running at the same time.
    Introduced in ``01-threads-and-processes.ipynb``.

    Args:
        run: a :class:`~concurrency_lab.runners.Run`, or a list of spans.
        ax: draw here instead of in a new figure.
        title: defaults to a summary of the run.
        label_spans: write span labels inside bars wide enough to hold them.

    Returns:
        The figure drawn on.
    """
    if isinstance(run, Run):
        spans = list(run.spans)
        t0 = run.started_ns or (min(s.start_ns for s in spans) if spans else 0)
        rows = list(run.workers) or sorted({s.worker for s in spans})
        if title is None:
            how = f"{run.kind}s" if run.kind == "thread" else f"processes ({run.start_method})"
            title = f"{run.n_workers} {how}: {run.elapsed_s * 1e3:.1f} ms in all"
    else:
        spans = sorted(run, key=lambda s: s.start_ns)
        t0 = min((s.start_ns for s in spans), default=0)
        rows = list(dict.fromkeys(s.worker for s in spans))
    for s in spans:
        if s.worker not in rows:
            rows.append(s.worker)
    height = max(2.2, 0.45 * len(rows) + 1.2)
    fig, ax = new_axes(ax, figsize=(9, min(height, 9)))
    pids = list(dict.fromkeys(s.pid for s in spans))
    styles = worker_styles(pids)
    row_of = {w: i for i, w in enumerate(rows)}
    by_row: dict[str, list[Span]] = {w: [] for w in rows}
    for s in spans:
        by_row[s.worker].append(s)
    end_ms = max(((s.end_ns - t0) / 1e6 for s in spans), default=1.0)
    for worker, row_spans in by_row.items():
        y = row_of[worker]
        row_spans.sort(key=lambda s: (s.start_ns, -s.end_ns))
        depths = _depths(row_spans)
        for depth in sorted(set(depths)):
            level = [s for s, d in zip(row_spans, depths) if d == depth]
            h = 0.7 * (0.6**depth)
            for pid in dict.fromkeys(s.pid for s in level):
                bars = [
                    ((s.start_ns - t0) / 1e6, max((s.end_ns - s.start_ns) / 1e6, end_ms * 1e-3))
                    for s in level
                    if s.pid == pid
                ]
                ax.broken_barh(
                    bars,
                    (y - h / 2, h),
                    facecolors=styles[pid].color,
                    edgecolors="white",
                    hatch=styles[pid].hatch or None,
                    linewidth=0.5,
                    # outer spans fade when steps are drawn inside them
                    alpha=1.0 if depth else (0.4 if max(depths) > 0 else 1.0),
                )
            if label_spans and len(spans) <= 200:
                for s in level:
                    width = (s.end_ns - s.start_ns) / 1e6
                    # A span with steps nested inside gets its label above the bar, not over them.
                    nested = any(
                        o is not s and s.start_ns <= o.start_ns and o.end_ns <= s.end_ns
                        for o in row_spans
                    )
                    if width > end_ms * 0.12:
                        ax.text(
                            (s.start_ns - t0) / 1e6 + width / 2,
                            y - h / 2 - 0.02 if nested else y,
                            s.label,
                            ha="center",
                            va="bottom" if nested else "center",
                            fontsize=7 if nested else 8,
                            color=NOTE if nested else text_color_on(styles[s.pid].color),
                            clip_on=True,
                        )
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, end_ms * 1.02)
    ax.set_xlabel("time since the run started (ms)")
    ax.set_ylabel("worker")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or f"{len(rows)} worker(s)")
    if 1 < len(pids) <= 24:
        ax.legend(
            handles=[
                Patch(facecolor=styles[p].color, hatch=styles[p].hatch, label=f"pid {p}")
                for p in pids
            ],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            title="process",
        )
    elif len(pids) == 1:
        ax.text(
            1.0,
            1.02,
            f"one process (pid {pids[0]})",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
        )
    return finish(fig, summary=_summary(run, spans, rows, pids, end_ms))


def _summary(
    run: Run | Sequence[Span], spans: list[Span], rows: list[str], pids: list[int], end_ms: float
) -> str:
    if isinstance(run, Run):
        return run.summary()
    if not spans:
        return "No spans were recorded, so the timeline is empty."
    where = "one process" if len(pids) == 1 else f"{len(pids)} processes"
    text = f"{len(rows)} worker(s) in {where} over {end_ms:.1f} ms"
    together = together_s(spans)
    if len(rows) >= 2:
        text += (
            f"; two or more were running at the same time for {together * 1e3:.1f} ms"
            if together > 0
            else "; no two of them ran at the same time"
        )
    return text + "."
