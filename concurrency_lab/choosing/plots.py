"""Figures for ``07-choosing-a-model.ipynb``: the model heat map, many waits, other interpreters,
and Dask against a process pool.

Every figure follows the course's contract (``docs/architecture.md``): course colours
(:mod:`concurrency_lab.view.style`), no meaning carried by colour alone, a title, labelled
axes with units, and the result's sentence as the figure's summary.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..view import style
from .coroutines import ManyWaitsResult
from .dask_cost import DaskOverheadResult
from .interpreters import InterpreterSweepResult
from .matrix import MATRIX_MAX_WORKERS, MatrixResult

__all__ = [
    "plot_dask_overhead",
    "plot_interpreter_sweeps",
    "plot_many_waits",
    "plot_scenario_matrix",
]

_NOISE_FACE = style.FAINT


def plot_scenario_matrix(matrix: MatrixResult, ax: Axes | None = None) -> Figure:
    """Heat map of speedups over serial: rows = kinds of work, columns = models.

    The diverging course map is centred on 1x: blue cells ran faster than serial, red ones
    slower, white about the same. Every cell shows its speedup and its seconds. A cell
    faster than the work allows is noise: grey, cross-hatched and marked "noise?".

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.patches import Rectangle

    fig, ax = style.new_axes(ax, figsize=(7.5, 0.85 * len(matrix.workloads) + 2.2))
    data = np.array(matrix.speedups)
    norm = TwoSlopeNorm(
        vmin=min(float(data.min()), 0.5), vcenter=1.0, vmax=max(float(data.max()), 2.0)
    )
    cmap = style.colormap("diverging")
    image = ax.imshow(data, cmap=cmap, norm=norm, aspect="auto")
    for i, w in enumerate(matrix.workloads):
        for j, m in enumerate(matrix.models):
            noise = matrix.is_noise(w, m)
            if noise:
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        facecolor=_NOISE_FACE,
                        edgecolor=style.NEUTRAL,
                        hatch="x",
                        linewidth=0,
                    )
                )
            face = _NOISE_FACE if noise else cmap(norm(data[i, j]))
            ax.text(
                j,
                i,
                f"{data[i, j]:.1f}x\n{matrix.elapsed_s[i][j]:.2f} s"
                + ("\nnoise?" if noise else ""),
                ha="center",
                va="center",
                fontsize=9,
                color=style.text_color_on(face),
                fontweight="bold" if noise else "normal",
                bbox={"facecolor": _NOISE_FACE, "edgecolor": "none", "pad": 1.5} if noise else None,
            )
    ax.set_xticks(range(len(matrix.models)), matrix.models)
    ax.set_yticks(range(len(matrix.workloads)), matrix.workloads)
    ax.set_xlabel("model (how the tasks ran)")
    ax.set_ylabel("kind of work")
    fig.colorbar(image, ax=ax, label="speedup over serial (x; 1 = same speed)")
    cap = f" (capped at {MATRIX_MAX_WORKERS})" if matrix.capped else ""
    size = f" of ~{matrix.task_s * 1000:.0f} ms" if matrix.task_s else ""
    pool = (
        f"\nprocesses: {matrix.start_method}, pool started before the timing "
        f"(in {matrix.pool_startup_s:.2f} s)"
        if matrix.pool_startup_s is not None
        else ""
    )
    ax.set_title(
        f"Speedup over serial (best of {matrix.repeats}): {matrix.n_tasks} tasks{size} per row, "
        f"{matrix.n_workers} workers{cap}, {matrix.usable_cores} usable cores{pool}",
        fontsize=9,
    )
    return style.finish(fig, summary=matrix.summary())


def plot_many_waits(result: ManyWaitsResult) -> Figure:
    """Two panels: the time thousands of waits took, and the memory per waiter, coroutines
    against threads.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    fig = style.new_figure(figsize=(8, 3.2))
    time_ax, mem_ax = fig.subplots(1, 2)
    kinds = [("coroutines", result.coroutines, "asyncio"), ("threads", result.threads, "thread")]
    for x, (label, run, cat) in enumerate(kinds):
        bars = time_ax.bar(x, run.elapsed_s, **{**style.category(cat).fill(), "label": label})
        time_ax.bar_label(bars, fmt="%.2f s", fontsize=8)
        if run.rss_per_wait_b is not None:
            bars = mem_ax.bar(
                x, run.rss_per_wait_b / 1024, **{**style.category(cat).fill(), "label": label}
            )
            mem_ax.bar_label(bars, fmt="%.1f KiB", fontsize=8)
        else:
            mem_ax.text(x, 0, "not measured", ha="center", va="bottom", fontsize=8)
    for ax in (time_ax, mem_ax):
        ax.set_xticks([0, 1], [k[0] for k in kinds])
        ax.set_xlabel("waiters")
        ax.margins(y=0.2)
    time_ax.set_ylabel("time for all waits (s)")
    time_ax.set_title(f"{result.n_waits:,} waits of {result.wait_s:g} s", fontsize=10)
    mem_ax.set_ylabel("resident memory per waiter (KiB)")
    mem_ax.set_title("memory while all of them wait", fontsize=10)
    return style.finish(fig, summary=result.summary())


def plot_interpreter_sweeps(
    sweeps: Sequence[InterpreterSweepResult], ax: Axes | None = None
) -> Figure:
    """Speedup of pure-Python tasks against pool size, one line per interpreter and pool kind.

    Only measured sweeps are drawn, with the ideal (speedup = workers, up to the cores) for
    reference.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    if not sweeps:
        raise ValueError(
            "'sweeps' is empty: pass at least one cl.choosing.interpreter_sweep(...) result."
        )
    fig, ax = style.new_axes(ax, figsize=(6.5, 3.8))
    sizes = sorted({n for s in sweeps for n in s.n_workers})
    cores = max(s.usable_cores for s in sweeps)
    ideal = style.category("ideal")
    ax.plot(
        sizes,
        [min(n, cores) for n in sizes],
        **{**ideal.line(), "label": f"ideal on {cores} core{'s' if cores != 1 else ''}"},
    )
    keys = [(i, kind) for i, s in enumerate(sweeps) for kind in s.elapsed_s]
    looks = style.worker_styles(keys)
    for i, kind in keys:
        sweep = sweeps[i]
        look = looks[(i, kind)]
        ax.plot(
            sweep.n_workers,
            sweep.speedups(kind),
            **{**look.line(), "label": f"Python {sweep.label}: {kind}s"},
        )
    ax.set_xlabel("workers (pool size)")
    ax.set_ylabel("speedup over 1 worker (x)")
    ax.set_xticks(sizes)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.set_title("Pure-Python tasks on a pool, per interpreter", fontsize=10)
    return style.finish(fig, summary=" ".join(s.summary() for s in sweeps))


def plot_dask_overhead(result: DaskOverheadResult) -> Figure:
    """Three panels, each with its unit: start-up (s), the real tasks (s), one near-empty
    task (ms); a process pool against Dask in each.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    fig = style.new_figure(figsize=(8.5, 3.2))
    axes = fig.subplots(1, 3)
    looks = style.worker_styles(["pool", "dask"])
    names = (f"process pool\n({result.start_method})", f"Dask\n({result.dask_start_method})")
    panels = (
        ("start-up", "seconds (s)", result.startup_s, 1.0, "%.2f s"),
        (f"{result.n_tasks} real tasks", "seconds (s)", result.work_s, 1.0, "%.2f s"),
        (
            "one near-empty task",
            "milliseconds (ms)",
            result.tiny_s,
            1000 / result.n_tiny,
            "%.2f ms",
        ),
    )
    for ax, (title, unit, values, scale, fmt) in zip(axes, panels):
        for x, side in enumerate(("pool", "dask")):
            bars = ax.bar(x, values[side] * scale, **looks[side].fill())
            ax.bar_label(bars, fmt=fmt, fontsize=8)
        ax.set_xticks([0, 1], names, fontsize=8)
        ax.set_xlabel("runs on")
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.margins(y=0.2)
    fig.suptitle(f"{result.n_workers} worker processes each side", fontsize=10)
    return style.finish(fig, summary=result.summary())
