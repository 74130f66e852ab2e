"""The course's visual contract: one palette, one way to make a figure, a sentence on every figure.

**Colours.** Categories use the Okabe–Ito palette, eight colours chosen to stay apart for
people with red–green or blue–yellow colour-vision deficiencies (Okabe & Ito, *Color Universal
Design*, 2008, https://jfly.uni-koeln.de/color/). Where the course gives a category a fixed
meaning, :func:`category` names it (``"thread"``, ``"process"``, ``"running"``, ``"waiting"``,
``"lost update"``, ``"deadlock"``, …) and adds the *other* channels: a hatch for bars, a marker
and a line style for lines, and a legend label, so no information is carried by colour alone.
Values use two colour maps: :data:`SEQUENTIAL` (``"cividis"``, designed to look the same with
and without colour-vision deficiency: Nuñez, Anderton & Renslow, PLOS ONE 13(7), 2018) and
:data:`DIVERGING` (``"RdBu"``, ColorBrewer's red–blue map, rated colour-blind safe at
https://colorbrewer2.org; its two ends have about the same lightness, so neither side looks
more extreme). ``tests/view/test_style.py`` checks all of this under simulated deuteranopia,
protanopia and tritanopia.

**Figures.** Every figure the library draws has a title, labelled axes with units, and a
one-sentence summary computed from the data. Make the figure with :func:`new_axes` or
:func:`new_figure`, draw, then ``return finish(fig, summary=...)``. The summary is then

* on the figure as a string, ``fig.lab_summary`` (also :func:`summary_of`), and
* in what Jupyter shows: the displayed output's ``text/plain`` is the sentence (instead of
  ``<Figure size 800x350 with 1 Axes>``) and the PNG's metadata carries it as ``alt`` text,
  which nbconvert's ``classic`` HTML template writes into ``<img alt=...>`` (its default
  ``lab`` template does not: take the alt text from ``text/plain`` there).

This works through :class:`LabFigure`, a ``Figure`` subclass whose ``_repr_mimebundle_`` adds
the two entries and leaves the picture itself to IPython's inline backend. ``savefig`` and
``plt.show()`` are unchanged. Limits: a figure the learner made (``plt.subplots()``, then
``plot_x(..., ax=ax)``) is a plain ``Figure``: it gets ``lab_summary`` but displays as usual;
and with ``%config InlineBackend.figure_formats = ["retina"]`` IPython replaces the PNG's
metadata, so the ``alt`` text is lost (``text/plain`` still carries the sentence).

Introduced in ``00-start-here.ipynb``.
"""

from __future__ import annotations

import types
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .figure_checks import ColorsUsed, colors_used, figure_problems

__all__ = [
    "CATEGORIES",
    "CONTRASTS",
    "DIVERGING",
    "EDGE",
    "FAINT",
    "INK",
    "NEUTRAL",
    "NOTE",
    "OKABE_ITO",
    "PAPER",
    "SEQUENTIAL",
    "Category",
    "ColorsUsed",
    "LabFigure",
    "category",
    "colormap",
    "colors_used",
    "figure_problems",
    "finish",
    "new_axes",
    "new_figure",
    "summary_of",
    "text_color_on",
    "worker_colors",
    "worker_styles",
]

K = TypeVar("K", bound=Hashable)

# --- the palettes -----------------------------------------------------------------------------

#: The eight Okabe–Ito colours in the order :func:`worker_styles` hands them out: the strong,
#: well-separated ones first; yellow (weak on white) and black (heavy) last.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
_BLUE, _ORANGE, _GREEN, _VERMILLION, _PURPLE, _SKY, _YELLOW, _BLACK = OKABE_ITO
_LIGHT_GREY = "#BBBBBB"
_MID_GREY = "#888888"

# Neutral inks: they carry no category, so plot modules use these names, not colour literals.
#: The one data line that matters most in a figure (e.g. how many cores were busy).
INK = "#000000"
#: Outlines of bars, patches and markers.
EDGE = "#333333"
#: Small text under or beside the data.
NOTE = "#444444"
#: Reference lines and marks (the number of cores, "alive" lines, a fastest try).
NEUTRAL = _MID_GREY
#: Fills that mean "not a result" (a cell too noisy to read).
FAINT = "#DDDDDD"
#: The figure's background, for gaps and blank fills.
PAPER = "#FFFFFF"

#: Colour map for values with a natural order from low to high (e.g. time, a count).
SEQUENTIAL = "cividis"
#: Colour map for values above and below a centre (e.g. speed-up around 1×); pair it with a
#: ``matplotlib.colors.TwoSlopeNorm(vcenter=...)``. Low values are red, high values blue.
DIVERGING = "RdBu"


@dataclass(frozen=True)
class Category:
    """How one category is drawn: a colour plus the channels that do not need colour vision.

    Args:
        name: the key, e.g. ``"lost update"``.
        color: ``"#rrggbb"``.
        hatch: matplotlib hatch for bars and areas (``""`` = solid).
        marker: matplotlib marker for points and lines (``""`` = none).
        linestyle: matplotlib line style.
        label: what a legend should say.

    Introduced in ``00-start-here.ipynb``.
    """

    name: str
    color: str
    hatch: str
    marker: str
    linestyle: str
    label: str

    def fill(self) -> dict[str, Any]:
        """Keyword arguments for bars and areas: ``ax.bar(x, h, **cat.fill())``.

        A hatched fill gets a dark edge, because matplotlib draws hatches in the edge colour.
        """
        edge = "#333333" if self.hatch else "none"
        return {
            "facecolor": self.color,
            "edgecolor": edge,
            "hatch": self.hatch or None,
            "label": self.label,
        }

    def line(self) -> dict[str, Any]:
        """Keyword arguments for lines: ``ax.plot(x, y, **cat.line())``."""
        return {
            "color": self.color,
            "linestyle": self.linestyle,
            "marker": self.marker or None,
            "label": self.label,
        }

    def patch(self) -> Patch:
        """A legend handle for a bar or area of this category."""
        return Patch(**self.fill())

    def line2d(self) -> Line2D:
        """A legend handle for a line of this category."""
        return Line2D([], [], **self.line())


def _cat(name: str, color: str, hatch: str, marker: str, ls: str, label: str) -> Category:
    return Category(name, color, hatch, marker, ls, label)


#: Categories with a fixed meaning across the course, by name.
CATEGORIES: Mapping[str, Category] = types.MappingProxyType(
    {
        c.name: c
        for c in (
            # how work runs
            _cat("thread", _BLUE, "", "o", "-", "thread"),
            _cat("process", _ORANGE, "//", "s", "--", "process"),
            _cat("serial", _BLACK, "..", "D", ":", "serial (one worker)"),
            _cat("asyncio", _PURPLE, "\\\\", "^", "-.", "asyncio"),
            # what a worker is doing
            _cat("running", _GREEN, "", "o", "-", "running (on a CPU)"),
            _cat("waiting", _VERMILLION, "//", "x", "--", "waiting (blocked)"),
            _cat("idle", _LIGHT_GREY, "..", ".", ":", "idle (nothing to do)"),
            # how it ended
            _cat("correct", _GREEN, "", "o", "-", "correct"),
            _cat("lost update", _VERMILLION, "xx", "X", "--", "lost update"),
            _cat("deadlock", _PURPLE, "\\\\", "P", "-.", "deadlock"),
            # things in a wait-for graph besides threads
            _cat("lock", _YELLOW, "++", "s", "-", "lock"),
            # reference lines
            _cat("ideal", _MID_GREY, "--", "", "--", "ideal"),
            _cat("model", _BLACK, "||", "", ":", "model"),
        )
    }
)

#: Categories that can appear together in one figure, so must stay apart: by colour under
#: every simulated colour-vision deficiency, and by hatch and by (marker, line style).
CONTRASTS: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
    {
        "how work runs": ("thread", "process", "serial", "asyncio"),
        "what a worker is doing": ("running", "waiting", "idle"),
        "how it ended": ("correct", "lost update", "deadlock"),
        "wait-for graph": ("thread", "lock", "deadlock"),
        "scaling": ("thread", "process", "ideal", "model"),
    }
)

_ALIASES = {
    "threads": "thread",
    "processes": "process",
    "on cpu": "running",
    "working": "running",
    "blocked": "waiting",
    "lost": "lost update",
    "lost updates": "lost update",
    "race": "lost update",
    "cycle": "deadlock",
    "perfect": "ideal",
    "fit": "model",
}


def category(name: str) -> Category:
    """The drawing style of a category the course gives a fixed meaning.

    >>> category("lost update").hatch, category("lost update").label
    ('xx', 'lost update')
    >>> category("blocked").name  # a few synonyms are understood
    'waiting'

    Args:
        name: a key of :data:`CATEGORIES` or a synonym (case, ``_`` and ``-`` ignored).

    Returns:
        The :class:`Category`.

    Raises:
        ValueError: for an unknown name; the message lists the known ones.

    Introduced in ``00-start-here.ipynb``.
    """
    if not isinstance(name, str):
        raise TypeError(f"'name' must be a string such as 'thread' (got {name!r}).")
    key = " ".join(name.lower().replace("_", " ").replace("-", " ").split())
    key = _ALIASES.get(key, key)
    try:
        return CATEGORIES[key]
    except KeyError:
        known = ", ".join(repr(k) for k in CATEGORIES)
        raise ValueError(
            f"no course category is called {name!r}; the known ones are {known}."
        ) from None


def colormap(kind: Literal["sequential", "diverging"]) -> Colormap:
    """The course's colour map for ordered values (``"sequential"``) or values around a centre.

    >>> colormap("sequential").name, colormap("diverging").name
    ('cividis', 'RdBu')

    Raises:
        ValueError: for any other ``kind``.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    names = {"sequential": SEQUENTIAL, "diverging": DIVERGING}
    if kind not in names:
        raise ValueError(f"'kind' must be 'sequential' or 'diverging' (got {kind!r}).")
    return matplotlib.colormaps[names[kind]]


# Beyond 8 keys the hues repeat; each further round is lighter (then darker) AND hatched, so
# a key is never told apart by colour alone.
_ROUND_HATCHES = ("", "//", "..", "xx", "\\\\", "++")
_ROUND_LINESTYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _mix(color: str, other: str, amount: float) -> str:
    (r1, g1, b1, _), (r2, g2, b2, _) = to_rgba(color), to_rgba(other)
    return to_hex((r1 + (r2 - r1) * amount, g1 + (g2 - g1) * amount, b1 + (b2 - b1) * amount))


def worker_styles(keys: Iterable[K]) -> dict[K, Category]:
    """A distinct style for each key (a worker, a pid, a lock, a method), stable in order.

    The first 8 keys get the 8 Okabe–Ito colours, solid. Keys 9–16 get the same hues mixed
    halfway to white and hatched ``"//"``; keys 17–24 darker (black: dark grey) and hatched
    ``".."``; and so on.
    Draw the hatch (bars) or the line style (lines), or label the rows directly, whenever
    there may be more than 8 keys.

    >>> styles = worker_styles(["a", "b"])
    >>> styles["a"].color, styles["b"].color, styles["b"].hatch
    ('#0072B2', '#E69F00', '')

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    out: dict[K, Category] = {}
    for i, key in enumerate(dict.fromkeys(keys)):
        rnd, slot = divmod(i, len(OKABE_ITO))
        color = OKABE_ITO[slot]
        if rnd % 3 == 1:
            color = _mix(color, "#FFFFFF", 0.5).upper()
        elif rnd % 3 == 2:  # darker (black cannot be: it goes dark grey)
            color = _mix(color, "#FFFFFF" if color == _BLACK else "#000000", 0.35).upper()
        out[key] = Category(
            name=str(key),
            color=color,
            hatch=_ROUND_HATCHES[rnd % len(_ROUND_HATCHES)],
            marker=_MARKERS[slot],
            linestyle=_ROUND_LINESTYLES[rnd % len(_ROUND_LINESTYLES)],
            label=str(key),
        )
    return out


def worker_colors(keys: Iterable[K]) -> dict[K, str]:
    """The colour of each key from :func:`worker_styles` (``"#rrggbb"``), stable in order.

    Colours alone tell at most 8 keys apart reliably: with more keys, draw the hatch or line
    style of :func:`worker_styles` too, or label the rows.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    return {k: s.color for k, s in worker_styles(keys).items()}


def _luminance(color: Any) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = to_rgba(color)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def text_color_on(color: Any) -> Literal["black", "white"]:
    """``"black"`` or ``"white"``, whichever has the higher WCAG 2 contrast on ``color``.

    Use it for labels written inside bars: white text is unreadable on orange or yellow.

    >>> text_color_on("#F0E442"), text_color_on("#0072B2")
    ('black', 'white')

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    lum = _luminance(color)
    on_black = (lum + 0.05) / 0.05
    on_white = 1.05 / (lum + 0.05)
    return "black" if on_black >= on_white else "white"


# --- the figure contract ---------------------------------------------------------------------


class LabFigure(Figure):
    """A matplotlib ``Figure`` that carries a one-sentence summary into what Jupyter shows.

    When IPython displays it, ``text/plain`` is the summary and the image's metadata has
    ``{"alt": summary}``; the picture is made by the inline backend as for any figure. Without
    a summary it displays like a plain ``Figure``. Made by :func:`new_axes` and
    :func:`new_figure`; give it its summary with :func:`finish`.

    Introduced in ``00-start-here.ipynb``.
    """

    lab_summary: str = ""

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, str], dict[str, dict[str, str]]] | None:
        # The PNG itself comes from the inline backend's formatter, which IPython still calls
        # for image/png because this bundle has none; its metadata entry is kept.
        if not self.lab_summary:
            return None
        return {"text/plain": self.lab_summary}, {"image/png": {"alt": self.lab_summary}}


def new_figure(*, figsize: tuple[float, float] = (8, 3.5)) -> LabFigure:
    """An empty :class:`LabFigure` with constrained layout, detached from pyplot.

    Add axes with ``fig.subplots(...)`` or ``fig.add_gridspec(...)``. Detached (closed in
    pyplot) so a notebook shows it once, as the value the plot function returns.

    Introduced in ``00-start-here.ipynb``.
    """
    fig = plt.figure(figsize=figsize, layout="constrained", FigureClass=LabFigure)
    plt.close(fig)
    return fig  # type: ignore[return-value]  # FigureClass makes it a LabFigure


def new_axes(
    ax: Axes | None = None, *, figsize: tuple[float, float] = (8, 3.5)
) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: ``ax`` and its figure, or a fresh :class:`LabFigure`.

    A fresh figure is detached from pyplot (closed), so a notebook shows it once, as the
    value the plot function returns, and never a second time.

    Introduced in ``00-start-here.ipynb``.
    """
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = new_figure(figsize=figsize)
    return fig, fig.subplots()


F = TypeVar("F", bound=Figure)


def finish(fig: F, *, summary: str) -> F:
    """Attach the one-sentence ``summary`` of what ``fig`` shows, and return ``fig``.

    Every plot function ends with ``return finish(fig, summary=...)``, the sentence computed
    from the data it drew (often ``result.summary()``). If the figure already has a summary
    (several plot functions drew into one figure), the new sentence is appended.

    >>> fig, ax = new_axes()
    >>> _ = ax.bar(["a", "b"], [3, 1])
    >>> finish(fig, summary="a is three times b.").lab_summary
    'a is three times b.'

    Args:
        fig: the figure drawn.
        summary: one sentence (or two) in plain words; no markup.

    Returns:
        ``fig``, now with ``fig.lab_summary``.

    Raises:
        TypeError: if ``summary`` is not a string.
        ValueError: if it is blank.

    Introduced in ``00-start-here.ipynb``.
    """
    if not isinstance(summary, str):
        raise TypeError(f"'summary' must be a sentence (a str), got {type(summary).__name__}.")
    text = " ".join(summary.split())
    if not text:
        raise ValueError("'summary' must say in words what the figure shows (got a blank string).")
    old = summary_of(fig)
    if text not in old:
        fig.lab_summary = f"{old} {text}" if old else text  # type: ignore[attr-defined]
    return fig


def summary_of(fig: Figure) -> str:
    """The summary :func:`finish` attached to ``fig`` (``""`` if none).

    Introduced in ``00-start-here.ipynb``.
    """
    return str(getattr(fig, "lab_summary", "") or "")
