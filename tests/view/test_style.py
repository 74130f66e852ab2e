"""The course palette and the figure contract (concurrency_lab/view/style.py).

Colour checks simulate deuteranopia, protanopia and tritanopia; the threshold and why are in
``tests/view/cvd.py``.
"""

from __future__ import annotations

import io
import itertools
import os
import types

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.core.pylabtools import select_figure_formats
from matplotlib.colors import TwoSlopeNorm

from concurrency_lab.view import style
from tests.view.cvd import (
    CVD_TYPES,
    THRESHOLD,
    assert_distinguishable,
    closest_pair,
    delta_e,
    lightness,
)

VISIONS = (None, *CVD_TYPES)


# --- categorical colours --------------------------------------------------------------------


def test_the_threshold_tells_a_safe_palette_from_an_unsafe_one():
    """The check is not vacuous: Okabe–Ito passes it, matplotlib's tab10 does not."""
    assert_distinguishable(style.OKABE_ITO, what="Okabe–Ito")
    tab10 = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab10"].colors]
    d, *_ = closest_pair(tab10)
    assert d < THRESHOLD
    # the old race plot's correct (green) vs lost update (red), as a deuteranope sees them
    assert delta_e("tab:green", "tab:red", "deuteranomaly") < THRESHOLD


@pytest.mark.parametrize("group", sorted(style.CONTRASTS))
def test_categories_shown_together_stay_apart_under_every_simulated_deficiency(group):
    colors = [style.category(name).color for name in style.CONTRASTS[group]]
    assert len(set(colors)) == len(colors), f"{group}: two categories share a colour"
    assert_distinguishable(colors, what=f"categories '{group}'")


@pytest.mark.parametrize("group", sorted(style.CONTRASTS))
def test_categories_shown_together_also_differ_without_colour(group):
    cats = [style.category(name) for name in style.CONTRASTS[group]]
    for a, b in itertools.combinations(cats, 2):
        assert a.hatch != b.hatch, f"{group}: {a.name} and {b.name} share the hatch {a.hatch!r}"
        assert (a.marker, a.linestyle) != (b.marker, b.linestyle), (
            f"{group}: {a.name} and {b.name} draw the same lines"
        )


def test_every_category_belongs_to_a_checked_group_and_has_a_label():
    grouped = {name for names in style.CONTRASTS.values() for name in names}
    assert grouped == set(style.CATEGORIES)
    for cat in style.CATEGORIES.values():
        assert cat.label and cat.color.startswith("#") and len(cat.color) == 7


def test_category_understands_synonyms_and_says_which_names_exist():
    assert style.category("Lost_Update") is style.CATEGORIES["lost update"]
    assert style.category("blocked").name == "waiting"
    assert style.category("cycle").name == "deadlock"
    assert style.category("processes").name == "process"
    with pytest.raises(ValueError, match=r"no course category is called 'losted'; the known ones"):
        style.category("losted")
    with pytest.raises(TypeError, match=r"'name' must be a string such as 'thread' \(got 3\)"):
        style.category(3)  # type: ignore[arg-type]


def test_category_helpers_draw_colour_and_the_other_channels():
    lost = style.category("lost update")
    fill = lost.fill()
    assert (fill["facecolor"], fill["hatch"], fill["label"]) == (lost.color, "xx", "lost update")
    assert fill["edgecolor"] != "none"  # hatches are drawn in the edge colour
    line = style.category("process").line()
    assert (line["linestyle"], line["marker"]) == ("--", "s")
    assert style.category("thread").fill()["hatch"] is None
    assert lost.patch().get_hatch() == "xx"
    assert lost.line2d().get_marker() == "X"


# --- worker styles -----------------------------------------------------------------------


def test_the_first_eight_workers_get_the_eight_palette_colours_solid():
    styles = style.worker_styles(range(8))
    assert [s.color for s in styles.values()] == list(style.OKABE_ITO)
    assert {s.hatch for s in styles.values()} == {""}
    assert_distinguishable([s.color for s in styles.values()], what="worker colours")


def test_beyond_eight_workers_a_second_channel_tells_them_apart():
    styles = list(style.worker_styles(f"w{i}" for i in range(24)).values())
    # never the same colour twice, and never the same (colour, hatch) either
    assert len({s.color for s in styles}) == 24
    # keys 9-16 repeat the hues but are lighter and hatched, so colour is not the only cue
    for first, second in zip(styles[:8], styles[8:16]):
        assert second.hatch and second.hatch != first.hatch
        assert second.linestyle != first.linestyle
        assert lightness(np.array(matplotlib.colors.to_rgb(second.color))) > lightness(
            np.array(matplotlib.colors.to_rgb(first.color))
        )
    assert len({(s.hatch, s.linestyle) for s in styles[16:]}) == 1
    assert styles[16].hatch not in (styles[0].hatch, styles[8].hatch)


def test_worker_colors_are_stable_in_order_and_collapse_repeated_keys():
    keys = [30, 10, 20, 10]
    colors = style.worker_colors(keys)
    assert list(colors) == [30, 10, 20]
    assert list(colors.values()) == list(style.OKABE_ITO[:3])
    assert style.worker_colors([30, 10, 20]) == colors


def test_text_colour_on_every_palette_colour_reaches_wcag_aa_contrast():
    def relative_luminance(hex_color):
        rgb = np.array(matplotlib.colors.to_rgb(hex_color))
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float(lin @ [0.2126, 0.7152, 0.0722])

    for color in (*style.OKABE_ITO, *(c.color for c in style.CATEGORIES.values())):
        text = style.text_color_on(color)
        a, b = relative_luminance(color), relative_luminance(text)
        ratio = (max(a, b) + 0.05) / (min(a, b) + 0.05)
        assert ratio >= 4.5, f"{text} on {color}: {ratio:.1f}:1"


# --- value maps ---------------------------------------------------------------------------

_SAMPLES = np.linspace(0.0, 1.0, 256)


@pytest.mark.parametrize("vision", VISIONS)
def test_sequential_map_gets_lighter_all_the_way_under_every_vision(vision):
    rgb = style.colormap("sequential")(_SAMPLES)[:, :3]
    j = lightness(rgb, vision)
    assert np.all(np.diff(j) > 0), f"lightness not monotone as seen with {vision}"
    assert j[-1] - j[0] > 50  # dark to light, not a narrow band


@pytest.mark.parametrize("vision", VISIONS)
def test_diverging_map_rises_to_a_light_centre_and_its_ends_stay_apart(vision):
    cmap = style.colormap("diverging")
    rgb = cmap(_SAMPLES)[:, :3]
    j = lightness(rgb, vision)
    mid = len(j) // 2
    assert np.all(np.diff(j[:mid]) > 0) and np.all(np.diff(j[mid:]) < 0)
    low, high = matplotlib.colors.to_hex(cmap(0.0)), matplotlib.colors.to_hex(cmap(1.0))
    assert delta_e(low, high, vision) >= THRESHOLD
    # each end stands clear of the centre colour too
    centre = matplotlib.colors.to_hex(cmap(0.5))
    assert min(delta_e(low, centre, vision), delta_e(high, centre, vision)) >= THRESHOLD


def test_diverging_map_ends_are_equally_light_so_neither_side_looks_more_extreme():
    rgb = style.colormap("diverging")(np.array([0.0, 1.0]))[:, :3]
    j = lightness(rgb)
    assert abs(j[0] - j[1]) <= 5


def test_colormap_rejects_other_kinds():
    with pytest.raises(
        ValueError, match=r"'kind' must be 'sequential' or 'diverging' \(got 'rainbow'\)"
    ):
        style.colormap("rainbow")  # type: ignore[arg-type]


# --- the figure contract ---------------------------------------------------------------------


def _drawn(summary: str | None = "Two bars: a is three times b.") -> style.LabFigure:
    fig, ax = style.new_axes()
    ax.bar(["a", "b"], [3, 1], color=style.category("thread").color)
    ax.set_title("a and b")
    ax.set_xlabel("letter")
    ax.set_ylabel("count (items)")
    if summary is not None:
        style.finish(fig, summary=summary)
    return fig  # type: ignore[return-value]


def test_new_axes_makes_a_detached_lab_figure():
    before = set(plt.get_fignums())
    fig, ax = style.new_axes(figsize=(4, 2))
    assert isinstance(fig, style.LabFigure) and ax.figure is fig
    assert set(plt.get_fignums()) == before  # closed in pyplot: shown once, as the value
    assert tuple(fig.get_size_inches()) == (4, 2)
    fig2 = style.new_figure()
    assert isinstance(fig2, style.LabFigure) and not fig2.axes


def test_finish_attaches_appends_and_rejects_blank_summaries():
    fig = _drawn("  First   sentence.\n")
    assert fig.lab_summary == "First sentence."
    style.finish(fig, summary="Second sentence.")
    style.finish(fig, summary="Second sentence.")  # drawn twice: said once
    assert style.summary_of(fig) == "First sentence. Second sentence."
    with pytest.raises(ValueError, match=r"'summary' must say in words what the figure shows"):
        style.finish(fig, summary="  ")
    with pytest.raises(TypeError, match=r"'summary' must be a sentence \(a str\), got int"):
        style.finish(fig, summary=3)  # type: ignore[arg-type]


def test_a_learners_own_axes_keep_their_figure_and_get_the_summary():
    fig, ax = plt.subplots()
    try:
        got_fig, got_ax = style.new_axes(ax)
        assert (got_fig, got_ax) == (fig, ax)
        style.finish(fig, summary="Drawn into your axes.")
        assert style.summary_of(fig) == "Drawn into your axes."
    finally:
        plt.close(fig)


def _inline_formatter() -> DisplayFormatter:
    """A display formatter set up the way matplotlib's inline backend sets up IPython's."""
    formatter = DisplayFormatter()
    select_figure_formats(types.SimpleNamespace(display_formatter=formatter), {"png"})
    return formatter


def test_in_jupyter_the_summary_is_the_plain_text_and_the_images_alt_text():
    data, metadata = _inline_formatter().format(_drawn())
    assert data["text/plain"] == "Two bars: a is three times b."
    assert data["image/png"]  # the picture is still there, made by the inline backend
    assert metadata["image/png"] == {"alt": "Two bars: a is three times b."}


def test_without_a_summary_a_figure_displays_as_usual():
    fig = _drawn(summary=None)
    data, metadata = _inline_formatter().format(fig)
    assert data["text/plain"] == repr(fig) == "<LabFigure size 800x350 with 1 Axes>"
    assert "image/png" in data and "image/png" not in metadata


@pytest.mark.slow
def test_in_a_real_kernel_a_returned_figure_shows_once_with_its_summary():
    """The whole path: ipykernel, matplotlib's inline backend, the cell's value."""
    from jupyter_client.manager import start_new_kernel

    code = (
        "from concurrency_lab.view import style\n"
        "fig, ax = style.new_axes()\n"
        "ax.bar(['a', 'b'], [3, 1])\n"
        "style.finish(fig, summary='a is three times b.')\n"
    )
    # as a learner's kernel: ipykernel picks the inline backend unless MPLBACKEND says otherwise
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60, env=env)
    try:
        msg_id = kc.execute(code)
        shown = []
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            assert kind != "error", "\n".join(msg["content"]["traceback"])
            if kind in ("execute_result", "display_data"):
                shown.append(msg["content"])
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert len(shown) == 1  # the cell's value only; pyplot does not show it a second time
    assert shown[0]["data"]["text/plain"] == "a is three times b."
    assert shown[0]["data"]["image/png"]
    assert shown[0]["metadata"] == {"image/png": {"alt": "a is three times b."}}


def test_savefig_still_works_on_a_lab_figure():
    buf = io.BytesIO()
    _drawn().savefig(buf, format="png")
    assert buf.getvalue().startswith(b"\x89PNG")


def test_a_kept_figure_has_no_contract_problems():
    assert style.figure_problems(_drawn()) == ()


def test_figure_problems_names_what_is_missing():
    fig, ax = style.new_axes()
    ax.plot([1, 2], [3, 4])
    assert style.figure_problems(fig) == (
        "no summary: end the plot function with finish(fig, summary=...)",
        "no title on the figure or on any of its axes",
        "axes 0: no x-axis label",
        "axes 0: no y-axis label",
    )
    ax.set_title("placed on the left", loc="left")
    assert "no title on the figure or on any of its axes" not in style.figure_problems(fig)


def test_figure_problems_accepts_shared_axes_suptitles_hidden_axes_and_checks_colour_bars():
    fig = style.new_figure()
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot([0, 1], [0, 1])
    bottom.plot([0, 1], [1, 0])
    top.set_ylabel("up (s)")
    bottom.set_ylabel("down (s)")
    bottom.set_xlabel("time (s)")  # the top panel shares it
    fig.suptitle("Two panels")
    style.finish(fig, summary="One line goes up while the other goes down.")
    assert style.figure_problems(fig) == ()

    fig2, ax = style.new_axes()
    image = ax.imshow([[0.5, 2.0]], cmap=style.colormap("diverging"), norm=TwoSlopeNorm(1.0))
    ax.set_axis_off()  # a picture, not a chart: no axis labels needed
    ax.set_title("heat map")
    bar = fig2.colorbar(image, ax=ax)
    style.finish(fig2, summary="Half as fast on the left, twice as fast on the right.")
    assert style.figure_problems(fig2) == ("a colour bar has no label",)
    bar.set_label("speed-up over serial (×)")
    assert style.figure_problems(fig2) == ()


# --- colours actually drawn ---------------------------------------------------------------


def test_colors_used_collects_fills_lines_edges_and_colour_maps():
    fig = style.new_figure()
    left, right = fig.subplots(1, 2)
    thread, process = style.category("thread"), style.category("process")
    left.bar([0], [1], **thread.fill())
    left.bar([1], [2], **process.fill())
    left.broken_barh([(0, 1)], (2, 1), facecolors=style.category("waiting").color)
    left.plot([0, 1], [0, 1], **style.category("ideal").line())
    left.scatter([0], [0], color=style.category("deadlock").color)
    right.imshow([[1, 2]], cmap=style.colormap("sequential"))
    right.scatter([0, 1], [0, 1], c=[0.1, 0.9], cmap=style.colormap("diverging"))
    used = style.colors_used(fig)
    assert used.fills == ("#0072b2", "#e69f00", "#d55e00", "#cc79a7")
    assert used.lines == ("#888888",)
    assert "#333333" in used.edges  # the hatched bar's edge
    assert sorted(used.colormaps) == ["RdBu", "cividis"]
    assert used.data == (*used.fills, *used.lines)


def test_colors_used_sees_translucency_and_skips_what_is_not_drawn():
    fig, ax = style.new_axes()
    ax.bar([0], [1], color="#0072B2", alpha=0.5)  # seen as a lighter blue over white
    ax.plot([0, 1], [1, 0], color="#D55E00", visible=False)
    ax.plot([0, 1], [0, 1], color="#009E73", linestyle="none", marker="o")
    ax.fill_between([0, 1], [0, 1], color="none", edgecolor="#000000")
    used = style.colors_used(fig)
    # half of blue #0072B2 over white: (0x72 + 0xFF) / 2 = 184.5 -> b8, (0xB2 + 0xFF) / 2 -> d8
    assert used.fills == ("#80b8d8",)
    assert used.lines == ("#009e73",)  # the markers only; the hidden red line is not there


def test_colors_used_of_a_figure_can_be_checked_under_simulation():
    fig, ax = style.new_axes()
    for name in style.CONTRASTS["how it ended"]:
        ax.bar([name], [1], **style.category(name).fill())
    assert_distinguishable(style.colors_used(fig).fills, what="outcome bars")
    fig2, ax2 = style.new_axes()
    ax2.bar(["ok", "lost"], [1, 1], color=["tab:green", "tab:red"])  # the old colours
    with pytest.raises(AssertionError, match=r"as seen with deuteranomaly"):
        assert_distinguishable(style.colors_used(fig2).fills, what="old outcome bars")
