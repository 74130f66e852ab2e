"""Speedup curves: measured points with their spread, perfect scaling, the cores, Amdahl's law.

Introduced in ``03-core-scaling.ipynb`` (and used in ``02-the-gil.ipynb``).
"""

from __future__ import annotations

from typing import Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..view.style import EDGE, NOTE, category, finish, new_axes
from .maths import amdahl_speedup
from .results import AmdahlFitResult, ScalingResult, plural

__all__ = ["plot_amdahl", "plot_scaling"]

_NAMES = {"thread": "threads", "process": "processes"}


def _mark_cores(ax: Axes, result_cores: int, physical: int | None, top: float) -> None:
    """Dotted vertical lines at the usable cores (and the physical cores, when fewer)."""
    for x, text in ((result_cores, "usable core"), (physical, "physical core")):
        if x is None or x > top:
            continue
        ax.axvline(x, color=NOTE, ls=":", lw=1.2)
        ax.annotate(
            plural(text, x),
            (x, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=9,
            color=EDGE,
        )


def plot_scaling(
    result: ScalingResult,
    ax: Axes | None = None,
    *,
    metric: Literal["speedup", "efficiency"] = "speedup",
    amdahl: bool = False,
    title: str | None = None,
) -> Figure:
    """Draw a strong-scaling sweep: speedup (or efficiency) against the number of workers.

    Each kind is a line of medians (its own colour, marker and line style) with error bars
    from the lowest to the highest repeat. The grey dashed line is perfect scaling; dotted
    vertical lines mark the usable cores (and the physical cores, when SMT makes them fewer).
    With ``amdahl=True`` the Amdahl curve of the process points is drawn up to the usable
    cores only: beyond them the workers share cores, which the law does not model.
    Introduced in ``02-the-gil.ipynb`` and ``03-core-scaling.ipynb``.

    Args:
        result: from :func:`~concurrency_lab.scaling.measure_scaling`.
        ax: draw here instead of in a new figure.
        metric: ``"speedup"`` or ``"efficiency"`` (speedup per worker, in per cent).
        amdahl: draw Amdahl's law with the serial share the process points imply.
        title: defaults to a summary of the sweep.

    Returns:
        The figure drawn on; its summary is the result's verdict.

    Raises:
        ValueError: unknown ``metric``.
    """
    if metric not in ("speedup", "efficiency"):
        raise ValueError(f"'metric' must be 'speedup' or 'efficiency' (got {metric!r}).")
    fig, ax = new_axes(ax, figsize=(7, 4))
    per = 100.0 if metric == "efficiency" else 1.0
    ns = result.n_workers
    top = max(ns)
    xs = list(range(1, top + 1))
    ideal = category("ideal")
    ideal_y = [float(x) if metric == "speedup" else 100.0 for x in xs]
    ax.plot(xs, ideal_y, color=ideal.color, ls=ideal.linestyle, lw=1, label="perfect scaling")
    _mark_cores(ax, result.usable_cores, result.physical_cores, top)
    for kind in result.kinds:
        pts = result.curve(kind)
        style = category(kind).line()
        style["label"] = _NAMES.get(kind, kind)
        x = [p.n_workers for p in pts]
        scale = [per if metric == "speedup" else per / p.n_workers for p in pts]
        y = [p.speedup * k for p, k in zip(pts, scale)]
        lo = [max(0.0, yi - p.speedup_range[0] * k) for p, k, yi in zip(pts, scale, y)]
        hi = [max(0.0, p.speedup_range[1] * k - yi) for p, k, yi in zip(pts, scale, y)]
        ax.errorbar(x, y, yerr=[lo, hi], capsize=3, lw=2, **style)
    fit = result.amdahl("process") if amdahl and "process" in result.kinds else None
    if fit is not None and fit.outcome != "unclear":
        upto = [x for x in xs if x <= result.usable_cores]
        curve = [amdahl_speedup(x, serial_fraction=fit.serial_fraction) for x in upto]
        if metric == "efficiency":
            curve = [100.0 * c / x for c, x in zip(curve, upto)]
        model = category("model")
        ax.plot(
            upto,
            curve,
            color=model.color,
            ls=model.linestyle,
            lw=1.5,
            label=f"Amdahl's law, serial {fit.serial_fraction:.0%} (up to your cores)",
        )
    ax.set_xlabel("workers")
    if metric == "speedup":
        ax.set_ylabel("speedup (x the 1-worker time)")
    else:
        ax.set_ylabel("efficiency = speedup / workers (%)")
    ax.set_xticks(list(ns))
    ax.set_xlim(0.7, top + 0.3)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    if title is None:
        title = (
            f"{result.workload}: {result.total_work} units, 1-worker time "
            f"{result.serial_s * 1e3:.0f} ms, median of {result.repeats} repeats"
        )
    ax.set_title(title, fontsize=10)
    summary = str(result) if fit is None else f"{result} {fit}"
    return finish(fig, summary=summary)


def plot_amdahl(fit: AmdahlFitResult, ax: Axes | None = None, *, max_workers: int = 1024) -> Figure:
    """Amdahl's law with the serial share your points imply, out to many workers.

    The measured points (with the spread their repeats allow) sit on the left; the curve is
    solid up to your usable cores and dashed beyond, where it says what more cores would
    give; the dotted horizontal line is the ceiling ``1/s`` no number of workers can pass.
    When the points are too spread to read a share from, the curve uses the share built
    into the work instead, and says so. The x axis is logarithmic.
    Introduced in ``03-core-scaling.ipynb``.

    Args:
        fit: from :meth:`~concurrency_lab.scaling.ScalingResult.amdahl`.
        ax: draw here instead of in a new figure.
        max_workers: how far to the right the curve goes.

    Returns:
        The figure drawn on; its summary is the fit's sentence.
    """
    from matplotlib.ticker import ScalarFormatter

    fig, ax = new_axes(ax, figsize=(7, 4))
    readable = fit.outcome != "unclear" or fit.built_in == 0
    s = fit.serial_fraction if readable else fit.built_in
    which = "your points imply" if readable else "built in; your points are too spread to read"
    xs = sorted({2**i for i in range(0, max_workers.bit_length())} | {max_workers})
    xs = [x for x in xs if x <= max_workers]
    model = category("model")
    within = [x for x in xs if x <= fit.usable_cores] or [1]
    beyond = [x for x in xs if x >= within[-1]]
    if within[-1] < fit.usable_cores:
        within.append(fit.usable_cores)
        beyond.insert(0, fit.usable_cores)
    ax.plot(
        within,
        [amdahl_speedup(x, serial_fraction=s) for x in within],
        color=model.color,
        ls="-",
        lw=2.5,
        label=f"Amdahl's law, serial {s:.0%} ({which}): on your cores",
    )
    ax.plot(
        beyond,
        [amdahl_speedup(x, serial_fraction=s) for x in beyond],
        color=model.color,
        ls="--",
        lw=1.5,
        label="... with more cores than you have",
    )
    ceiling = 1.0 / s if s > 0 else None
    if ceiling is not None:
        ideal = category("ideal")
        ax.axhline(ceiling, color=ideal.color, ls=":", lw=1.2)
        ax.annotate(
            f"ceiling 1/s = {ceiling:.1f}x",
            (max_workers, ceiling),
            xytext=(-4, -12),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            color=EDGE,
        )
    point = category("process").line()
    point["label"] = "your measurement (median; bar: the repeats)"
    point["linestyle"] = "none"
    for_low = [amdahl_speedup(n, serial_fraction=fit.high) for n in fit.n_workers]
    for_high = [amdahl_speedup(n, serial_fraction=fit.low) for n in fit.n_workers]
    ys = list(fit.speedups)
    ax.errorbar(
        list(fit.n_workers),
        ys,
        yerr=[
            [max(0.0, y - lo) for y, lo in zip(ys, for_low)],
            [max(0.0, hi - y) for y, hi in zip(ys, for_high)],
        ],
        capsize=3,
        ms=8,
        **point,
    )
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.set_xlabel("workers (log scale)")
    ax.set_ylabel("speedup (x the 1-worker time)")
    top = max([min(float(max_workers), ceiling or float(max_workers)), *for_high, *ys])
    ax.set_ylim(0, top * 1.15)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"Amdahl's law out to {max_workers:,} workers (serial share {s:.0%})", fontsize=10)
    return finish(fig, summary=str(fit))
