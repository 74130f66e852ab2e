"""Speedup curves: measured points, the ideal line, the core count and an Amdahl fit."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..view.style import new_axes
from .measure import ScalingResult, amdahl_speedup

__all__ = ["plot_scaling"]

_KIND_STYLE = {"thread": ("tab:orange", "s"), "process": ("tab:blue", "o")}


def plot_scaling(
    result: ScalingResult,
    ax: Axes | None = None,
    *,
    metric: str = "speedup",
    amdahl: bool = False,
    title: str | None = None,
) -> Figure:
    """Draw a strong-scaling sweep: speedup (or efficiency) against the number of workers.

    Each kind is a line of medians with error bars from the lowest to the
    highest repeat. The grey diagonal is perfect scaling, the dotted vertical
    line marks the usable cores, and with ``amdahl=True`` a dashed curve shows
    the Amdahl fit of the process curve (with its fitted serial fraction). Introduced in
    ``02-the-gil.ipynb`` and ``03-core-scaling.ipynb``.

    Args:
        result: from :func:`concurrency_lab.measure_scaling`.
        ax: draw here instead of in a new figure.
        metric: ``"speedup"`` or ``"efficiency"`` (speedup per worker).
        amdahl: draw the Amdahl fit when the process curve allows one.
        title: defaults to a summary of the sweep.

    Returns:
        The figure drawn on.

    Raises:
        ValueError: unknown ``metric``.
    """
    if metric not in ("speedup", "efficiency"):
        raise ValueError(f"'metric' must be 'speedup' or 'efficiency' (got {metric!r}).")
    fig, ax = new_axes(ax, figsize=(7, 4))
    ns = result.n_workers
    top = max(ns)
    xs = list(range(1, top + 1))
    ideal = [float(x) if metric == "speedup" else 1.0 for x in xs]
    ax.plot(xs, ideal, color="0.6", lw=1, label="perfect scaling")
    cores = result.usable_cores
    if cores <= top:
        ax.axvline(cores, color="0.3", ls=":", lw=1.2)
        ax.annotate(
            f"{cores} usable core{'s' if cores != 1 else ''}",
            (cores, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=9,
            color="0.3",
        )
    for kind in result.kinds:
        pts = result.curve(kind)
        color, marker = _KIND_STYLE.get(kind, ("tab:green", "^"))
        x = [p.n_workers for p in pts]
        scale = [1.0 if metric == "speedup" else 1.0 / p.n_workers for p in pts]
        y = [p.speedup * k for p, k in zip(pts, scale)]
        lo = [max(0.0, yi - p.speedup_range[0] * k) for p, k, yi in zip(pts, scale, y)]
        hi = [max(0.0, p.speedup_range[1] * k - yi) for p, k, yi in zip(pts, scale, y)]
        ax.errorbar(
            x,
            y,
            yerr=[lo, hi],
            color=color,
            marker=marker,
            capsize=3,
            lw=2,
            label="processes" if kind == "process" else f"{kind}s",
        )
    fit = result.amdahl_fit("process") if amdahl and "process" in result.kinds else None
    if fit is not None:
        curve = [amdahl_speedup(x, serial_fraction=fit) for x in xs]
        if metric == "efficiency":
            curve = [c / x for c, x in zip(curve, xs)]
        ax.plot(
            xs,
            curve,
            color="tab:blue",
            ls="--",
            lw=1,
            alpha=0.7,
            label=f"Amdahl fit (serial {fit:.0%})",
        )
    ax.set_xlabel("workers")
    ax.set_ylabel("speedup (x as fast as serial)" if metric == "speedup" else "efficiency")
    ax.set_xticks(list(ns))
    ax.set_xlim(0.7, top + 0.3)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    if title is None:
        title = (
            f"{result.workload}: {result.total_work} units, serial "
            f"{result.serial_s * 1e3:.0f} ms, median of {result.repeats}"
        )
    ax.set_title(title, fontsize=10)
    return fig
