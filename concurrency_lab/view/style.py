"""Shared plotting helpers: one way to make a figure, one palette."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["new_axes", "worker_colors"]


def new_axes(
    ax: Axes | None = None, *, figsize: tuple[float, float] = (8, 3.5)
) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: ``ax`` and its figure, or a fresh figure.

    A fresh figure is detached from pyplot (closed), so a notebook shows it once,
    as the value the plot function returns, and never a second time.
    """
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig, new = plt.subplots(figsize=figsize, layout="constrained")
    plt.close(fig)
    return fig, new


def worker_colors(keys: list[Any]) -> dict[Any, Any]:
    """A distinct colour for each key (e.g. each process id), stable in order."""
    cmap = plt.get_cmap("tab10" if len(keys) <= 10 else "tab20")
    return {k: cmap(i % cmap.N) for i, k in enumerate(keys)}
