"""Figures for choosing a model (07) and the problems clinic (08)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..view.style import new_axes
from .models import DaskComparison, InterpreterSweep, ScenarioMatrix, implausible

__all__ = ["plot_dask_overhead", "plot_interpreter_sweeps", "plot_scenario_matrix"]


def plot_scenario_matrix(matrix: ScenarioMatrix, ax: Axes | None = None) -> Figure:
    """Heat map of speedups over serial: rows = workloads, columns = models.

    Green cells ran faster than serial, red ones slower; each cell shows its
    speedup and its seconds. A speedup the work cannot produce (see
    :func:`~concurrency_lab.recommend`, e.g. asyncio faster than serial on CPU
    work) is marked "noise?" and left uncoloured. Introduced in
    ``07-choosing-a-model.ipynb``.
    """
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm

    fig, ax = new_axes(ax, figsize=(7.5, 0.9 * len(matrix.workloads) + 1.6))
    data = np.array(matrix.speedups)
    top = max(float(data.max()), 1.5)
    norm = TwoSlopeNorm(vmin=min(float(data.min()), 0.5), vcenter=1.0, vmax=top)
    odd = [
        implausible(matrix, w, dict(zip(matrix.models, data[i])), 1.2)
        for i, w in enumerate(matrix.workloads)
    ]
    shown = np.array(
        [
            [1.0 if m in odd[i] else data[i, j] for j, m in enumerate(matrix.models)]
            for i in range(len(matrix.workloads))
        ]
    )
    image = ax.imshow(shown, cmap="RdYlGn", norm=norm, aspect="auto")
    ax.set_xticks(range(len(matrix.models)), matrix.models)
    ax.set_yticks(range(len(matrix.workloads)), matrix.workloads)
    ax.xaxis.tick_top()
    for i, row in enumerate(matrix.elapsed_s):
        for j, seconds in enumerate(row):
            ax.text(
                j,
                i,
                f"{data[i, j]:.1f}x{' noise?' if matrix.models[j] in odd[i] else ''}\n"
                f"{seconds:.2f} s",
                ha="center",
                va="center",
                fontsize=9,
            )
    fig.colorbar(image, ax=ax, label="speedup over serial")
    ax.set_title(
        f"{matrix.n_tasks} tasks of ~{matrix.task_s * 1000:.0f} ms, {matrix.n_workers} workers, "
        f"{matrix.usable_cores} usable cores (processes: {matrix.start_method})",
        fontsize=9,
        pad=28,
    )
    return fig


def plot_interpreter_sweeps(sweeps: Sequence[InterpreterSweep], ax: Axes | None = None) -> Figure:
    """Speedup of pure-Python CPU tasks vs pool size, one line per interpreter and kind.

    Only measured sweeps are drawn, plus the ideal (speedup = workers, up to the
    cores) for reference. Introduced in ``07-choosing-a-model.ipynb``.
    """
    fig, ax = new_axes(ax, figsize=(6.5, 3.8))
    if not sweeps:
        raise ValueError(
            "'sweeps' is empty: pass at least one cl.choosing.interpreter_sweep(...) result."
        )
    sizes = sorted({n for s in sweeps for n in s.n_workers})
    cores = max(s.usable_cores for s in sweeps)
    ax.plot(
        sizes,
        [min(n, cores) for n in sizes],
        ls=":",
        color="grey",
        label=f"ideal on {cores} core{'s' if cores != 1 else ''}",
    )
    for sweep in sweeps:
        for kind in sweep.elapsed_s:
            ax.plot(
                sweep.n_workers,
                sweep.speedups(kind),
                marker="o",
                label=f"Python {sweep.label}: {kind}s",
            )
    ax.set_xlabel("workers (pool size)")
    ax.set_ylabel("speedup over 1 worker")
    ax.set_xticks(sizes)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.set_title("Pure-Python CPU tasks on a pool, per interpreter", fontsize=10)
    return fig


def plot_dask_overhead(result: DaskComparison, ax: Axes | None = None) -> Figure:
    """Bars: start-up, the real work, and the cost per near-empty task, pool vs Dask.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    fig, ax = new_axes(ax, figsize=(7, 3.2))
    sides = ("pool", "dask")
    groups = [
        ("start-up (s)", [result.startup_s[s] for s in sides]),
        (f"{result.n_tasks} real tasks (s)", [result.work_s[s] for s in sides]),
        (
            "per tiny task (ms)",
            [1000 * result.per_task_overhead_s(s) for s in sides],
        ),
    ]
    width = 0.38
    for k, side in enumerate(sides):
        xs = [i + (k - 0.5) * width for i in range(len(groups))]
        values = [g[1][k] for g in groups]
        label = (
            f"process pool ({result.start_method})"
            if side == "pool"
            else f"Dask LocalCluster ({result.dask_start_method})"
        )
        bars = ax.bar(xs, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(range(len(groups)), [g[0] for g in groups])
    ax.set_title(f"{result.n_workers} worker processes each side", fontsize=10)
    ax.legend(fontsize=8)
    return fig
