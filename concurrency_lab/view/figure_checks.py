"""Check a figure against the course's figure contract, and list the colours it really draws.

Tests use these: :func:`figure_problems` says what a figure lacks (summary, title, axis
labels), and :func:`colors_used` collects the colours its data is drawn with, so a test can
check the palettes a plot function *actually* used under simulated colour-vision deficiencies
(``tests/view/cvd.py``). Both are re-exported by :mod:`concurrency_lab.view.style`.

Introduced in ``00-start-here.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgba
from matplotlib.figure import Figure

__all__ = ["ColorsUsed", "colors_used", "figure_problems"]


def _summary(fig: Figure) -> str:
    return str(getattr(fig, "lab_summary", "") or "")


def _data_axes(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def _has_data(ax: Axes) -> bool:
    return bool(ax.lines or ax.patches or ax.collections or ax.images)


def _labelled_by_sibling(ax: Axes, which: Literal["x", "y"]) -> bool:
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    get = "get_xlabel" if which == "x" else "get_ylabel"
    return any(getattr(other, get)() for other in shared.get_siblings(ax) if other is not ax)


def _title(ax: Axes) -> str:
    """The axes' title wherever it is placed (left, centre or right)."""
    return " ".join(t for t in (ax.get_title(loc) for loc in ("left", "center", "right")) if t)


def figure_problems(fig: Figure) -> tuple[str, ...]:
    """What ``fig`` lacks of the figure contract; ``()`` when it keeps it.

    Checks: a summary (:func:`finish`); a title (the figure's or an axes'); on every visible
    axes that draws data with its axis lines on, an x and a y label (an axes that shares an
    axis with a labelled one is fine); a label on every colour bar. Whether a label states
    its unit cannot be checked mechanically; review it.

    Introduced in ``00-start-here.ipynb``.
    """
    problems: list[str] = []
    if not _summary(fig):
        problems.append("no summary: end the plot function with finish(fig, summary=...)")
    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    axes = _data_axes(fig)
    if not suptitle and not any(_title(ax) for ax in axes):
        problems.append("no title on the figure or on any of its axes")
    for i, ax in enumerate(axes):
        if not (ax.axison and _has_data(ax)):
            continue
        name = f"axes {i}" + (f" ({_title(ax)!r})" if _title(ax) else "")
        if ax.xaxis.get_visible() and not ax.get_xlabel() and not _labelled_by_sibling(ax, "x"):
            problems.append(f"{name}: no x-axis label")
        if ax.yaxis.get_visible() and not ax.get_ylabel() and not _labelled_by_sibling(ax, "y"):
            problems.append(f"{name}: no y-axis label")
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>" and not (ax.get_xlabel() or ax.get_ylabel()):
            problems.append("a colour bar has no label")
    return tuple(problems)


# --- what a figure actually draws ------------------------------------------------------------


@dataclass(frozen=True)
class ColorsUsed:
    """The colours a figure draws its data with (see :func:`colors_used`).

    Attributes:
        fills: face colours of bars, areas, bands and scatter points.
        lines: colours of lines and of line markers.
        edges: outline (and hatch) colours.
        colormaps: names of the colour maps of images, meshes and colour-mapped scatters.

    Colours are ``"#rrggbb"``, each once, in the order found (axes by axes), composited
    over the axes background where the artist is translucent (the colours a reader sees).
    """

    fills: tuple[str, ...]
    lines: tuple[str, ...]
    edges: tuple[str, ...]
    colormaps: tuple[str, ...]

    @property
    def data(self) -> tuple[str, ...]:
        """Fills and lines together: the colours that tell categories apart."""
        return tuple(dict.fromkeys(self.fills + self.lines))


def _seen(rgba: Sequence[float], alpha: float | None, background: Sequence[float]) -> str | None:
    r, g, b, a = rgba
    a *= 1.0 if alpha is None else alpha
    if a <= 0.0:
        return None
    br, bg, bb = background[:3]
    return to_hex((r * a + br * (1 - a), g * a + bg * (1 - a), b * a + bb * (1 - a)))


def _rgba_rows(colors: Any) -> list[tuple[float, float, float, float]]:
    if colors is None or (isinstance(colors, str) and colors == "none"):
        return []
    try:
        return [to_rgba(colors)]
    except (ValueError, TypeError):
        return [to_rgba(c) for c in colors]


def colors_used(fig: Figure) -> ColorsUsed:
    """Collect the colours ``fig`` actually draws its data with.

    Looks at every visible axes' lines, patches (bars, polygons), collections (bands,
    ``broken_barh``, scatter points, line collections) and images; not at text, spines,
    grids or legends (which repeat the data's colours). Tests use it to check the palettes
    a plot function *really* used, under simulated colour-vision deficiencies.

    >>> from concurrency_lab.view.style import category, new_axes
    >>> fig, ax = new_axes()
    >>> ok, lost = category("correct").color, category("lost update").color
    >>> _ = ax.bar([0, 1], [1, 2], color=[ok, lost])
    >>> colors_used(fig).fills
    ('#009e73', '#d55e00')

    Introduced in ``00-start-here.ipynb``.
    """
    fills: list[str] = []
    lines: list[str] = []
    edges: list[str] = []
    cmaps: list[str] = []

    def add(into: list[str], colors: Any, alpha: float | None, bg: Sequence[float]) -> None:
        for rgba in _rgba_rows(colors):
            seen = _seen(rgba, alpha, bg)
            if seen is not None:
                into.append(seen)

    for ax in fig.axes:
        if not ax.get_visible():
            continue
        bg = to_rgba(ax.get_facecolor())
        for line in ax.lines:
            if not line.get_visible():
                continue
            alpha = line.get_alpha()
            if line.get_linestyle() not in ("None", "none", " ", ""):
                add(lines, line.get_color(), alpha, bg)
            if line.get_marker() not in (None, "None", "none", " ", ""):
                add(lines, line.get_markerfacecolor(), alpha, bg)
                add(edges, line.get_markeredgecolor(), alpha, bg)
        for patch in ax.patches:
            if not patch.get_visible():
                continue
            if patch.get_fill():
                add(fills, patch.get_facecolor(), None, bg)  # alpha is already in the rgba
            add(edges, patch.get_edgecolor(), None, bg)
        for coll in ax.collections:
            if not coll.get_visible():
                continue
            if coll.get_array() is not None:
                cmaps.append(coll.get_cmap().name)
                continue
            is_line = type(coll).__name__ == "LineCollection"
            add(lines if is_line else fills, coll.get_facecolor(), None, bg)
            add(lines if is_line else edges, coll.get_edgecolor(), None, bg)
        for image in ax.images:
            if image.get_visible():
                cmaps.append(image.get_cmap().name)

    def distinct(xs: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(xs))

    return ColorsUsed(distinct(fills), distinct(lines), distinct(edges), distinct(cmaps))
