"""The explorer contract (concurrency_lab/view/explorer.py), driven headless: set .value, .run()."""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as W
import pytest
from IPython.core.formatters import DisplayFormatter

from concurrency_lab.core.errors import LabError
from concurrency_lab.core.machine import available_start_methods, default_start_method
from concurrency_lab.core.results import Result
from concurrency_lab.view import style
from concurrency_lab.view.explorer import (
    Choice,
    Explorer,
    Slider,
    StartMethod,
    Toggle,
    safe_callback,
)


@dataclass(frozen=True)
class Counted(Result):
    n_workers: int
    work_s: float
    kind: str

    def summary(self) -> str:
        return (
            f"{self.n_workers} workers ({self.kind}) did {self.work_s * 1e3:.0f} ms of work each."
        )


def _count(*, n_workers: int, work_s: float, kind: str) -> Counted:
    return Counted(n_workers, work_s, kind)


def _plot(result: Counted) -> style.LabFigure:
    fig, ax = style.new_axes()
    ax.bar(range(result.n_workers), [result.work_s * 1e3] * result.n_workers)
    ax.set_title("work per worker")
    ax.set_xlabel("worker")
    ax.set_ylabel("work (ms)")
    return style.finish(fig, summary=f"{result.n_workers} equal bars.")


def _explorer(**kw) -> Explorer[Counted]:
    return Explorer(
        _count,
        {
            "n_workers": Slider("workers", 1, 8, value=2, help="how many workers start"),
            "work_s": Slider(
                "work per worker", 1, 100, value=20, unit="ms", scale=1e-3, help="time each"
            ),
            "kind": Choice("kind", ["thread", "process"], help="what runs the work"),
        },
        draw=_plot,
        **kw,
    )


# --- controls from compact specs -------------------------------------------------------------


def test_controls_have_visible_labels_with_units_tooltips_and_act_on_release():
    ex = _explorer()
    workers, work, kind = ex.controls["n_workers"], ex.controls["work_s"], ex.controls["kind"]
    assert isinstance(workers, W.IntSlider) and workers.description == "workers"
    assert work.description == "work per worker (ms)"
    assert isinstance(kind, W.ToggleButtons) and kind.description == "kind"
    for control in ex.controls.values():
        assert control.tooltip, f"{control.description} has no tooltip"
        assert control.style.description_width == "initial"  # the label is never cut short
    assert workers.continuous_update is False and work.continuous_update is False
    assert ex.button.description == "Run" and ex.button.tooltip  # text, not only an icon


def test_slider_specs_pick_int_or_float_and_a_readout_to_match_the_step():
    assert isinstance(Slider("n", 1, 9, help="h").build(), W.IntSlider)
    s = Slider("share", 0.0, 1.0, step=0.05, help="h").build()
    assert isinstance(s, W.FloatSlider) and s.readout_format == ".2f" and s.value == 0.0
    assert Slider("t", 0, 2, value=0.5, step=0.5, help="h").build().value == 0.5
    assert Slider("t", 0, 100, value=20, unit="ms", scale=1e-3, help="h").to_arg(20) == 0.02


def test_choice_specs_become_buttons_a_dropdown_or_a_multi_select():
    assert isinstance(Choice("k", ["a", "b"], help="h").build(), W.ToggleButtons)
    many = Choice("k", {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}, value=3, help="h")
    drop = many.build()
    assert isinstance(drop, W.Dropdown) and drop.value == 3 and drop.label == "three"
    multi = Choice("sizes", [("64 B", 64), ("1 KiB", 1024)], multiple=True, help="h")
    widget = multi.build()
    assert isinstance(widget, W.SelectMultiple) and widget.value == (64, 1024)
    assert multi.to_arg([64]) == (64,)


def test_toggle_and_start_method_specs():
    box = Toggle("use a lock", value=True, help="hold a lock around the update").build()
    assert isinstance(box, W.Checkbox) and box.value is True and box.description == "use a lock"
    spec = StartMethod()
    drop = spec.build()
    assert drop.description == "start method" and drop.tooltip
    assert drop.options[0][0] == f"default ({default_start_method()})"
    assert spec.to_arg(drop.value) is None
    for method in available_start_methods():
        assert spec.to_arg(method) == method


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Slider("n", 5, 5, help="h"), r"'n': 'min' must be < 'max' \(got 5 and 5\)"),
        (
            lambda: Slider("n", 1, 5, value=9, help="h"),
            r"'value' must be between 1 and 5 \(got 9\)",
        ),
        (lambda: Slider("n", 1, 5, step=0, help="h"), r"'n': 'step' must be > 0 \(got 0\)"),
        (lambda: Slider("n", 1, 5, help=""), r"'help' must be a tooltip saying what the control"),
        (lambda: Slider("", 1, 5, help="h"), r"'label' must be a short phrase saying what"),
        (lambda: Choice("k", [], help="h"), r"'k': 'options' must not be empty"),
        (lambda: Choice("k", ["a"], value="b", help="h"), r"'value' must be one of \['a'\]"),
        (lambda: Toggle("t", help=" "), r"'help' must be a tooltip saying what the switch"),
    ],
)
def test_bad_specs_say_what_must_hold(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_specs_need_help_text_by_keyword():
    with pytest.raises(TypeError):
        Slider("n", 1, 5)  # type: ignore[call-arg]  # no help: every control needs a tooltip


# --- running -----------------------------------------------------------------------------


def test_run_uses_the_current_values_and_states_the_result_in_words():
    ex = _explorer()
    assert ex.result is None and ex.summary == "" and ex.status.value == ""
    ex.controls["n_workers"].value = 3
    ex.controls["work_s"].value = 50
    ex.controls["kind"].value = "process"
    assert ex.values() == {"n_workers": 3, "work_s": 0.05, "kind": "process"}
    result = ex.run()
    assert result == Counted(3, 0.05, "process") and ex.result is result
    assert ex.summary == "3 workers (process) did 50 ms of work each."
    assert ex.summary in ex.status.value and 'aria-live="polite"' in ex.status.value
    assert ex.error == ""
    # the figure is shown in the output, and its own sentence travels with it
    (shown,) = ex.output.outputs
    assert shown["data"]["text/plain"] == "3 equal bars."
    assert ex.figures[0].lab_summary == "3 equal bars."


def test_the_button_runs_it_and_is_busy_while_it_runs():
    seen = []

    def slow(**kw):
        seen.append((ex.button.disabled, ex.button.description, ex.status.value))
        return Counted(1, 0.0, "thread")

    ex = Explorer(slow, {"n": Slider("n", 1, 2, help="h")})
    ex.button.click()
    assert seen == [(True, "Running…", "<i>running…</i>")]
    assert (ex.button.disabled, ex.button.description, ex.button.icon) == (False, "Run", "play")
    assert ex.summary == "1 workers (thread) did 0 ms of work each."


def test_a_lab_error_is_shown_as_its_message_and_the_button_comes_back():
    def fails(**kw):
        raise LabError("worker-1 crashed: it was killed by signal 9 (SIGKILL).")

    ex = Explorer(fails, {"n": Slider("n", 1, 2, help="h")})
    assert ex.run() is None
    assert ex.error == "⚠ LabError: worker-1 crashed: it was killed by signal 9 (SIGKILL)."
    assert "did not run" in ex.status.value
    assert ex.output.outputs[-1]["name"] == "stderr"
    assert ex.result is None and ex.figures == () and ex.summary == ""
    assert ex.button.disabled is False and ex.button.description == "Run"


def test_an_unexpected_error_shows_its_traceback_and_clears_the_last_result():
    calls = []

    def sometimes(*, n: int) -> Counted:
        calls.append(n)
        if n == 2:
            raise KeyError("bug")
        return Counted(n, 0.0, "thread")

    ex = Explorer(sometimes, {"n": Slider("n", 1, 2, help="h")}, draw=_plot)
    ex.run()
    assert ex.result is not None and len(ex.output.outputs) == 1
    ex.controls["n"].value = 2
    ex.run()
    assert ex.result is None and ex.figures == ()  # no stale answer beside the new settings
    assert ex.error.startswith("Traceback") and "KeyError: 'bug'" in ex.error
    assert [o["output_type"] for o in ex.output.outputs] == ["stream"]  # the old plot is gone


def test_a_result_without_a_sentence_is_an_error_that_says_how_to_give_one():
    ex = Explorer(lambda **kw: 42, {"n": Slider("n", 1, 2, help="h")})
    ex.run()
    assert "the result (int) cannot say what it shows: it has no summary() method" in ex.error
    described = Explorer(lambda **kw: 42, {"n": Slider("n", 1, 2, help="h")}, describe=str)
    assert described.run() == 42 and described.summary == "42"


def test_draw_may_return_several_figures():
    ex = Explorer(
        lambda *, n: Counted(n, 0.001, "thread"),
        {"n": Slider("n", 1, 3, help="h")},
        draw=lambda r: [_plot(r), _plot(r)],
    )
    ex.run()
    assert len(ex.figures) == 2 and len(ex.output.outputs) == 2


def test_summaries_are_escaped_in_the_status_line():
    @dataclass(frozen=True)
    class Tagged(Result):
        def summary(self) -> str:
            return "a <b> tag & more"

    ex = Explorer(lambda **kw: Tagged(), {})
    ex.run()
    assert "a &lt;b&gt; tag &amp; more" in ex.status.value


# --- wiring and display ----------------------------------------------------------------------


def test_disable_when_greys_out_a_control_while_its_rule_holds():
    ex = Explorer(
        lambda **kw: Counted(1, 0.0, kw["kind"]),
        {
            "kind": Choice("kind", ["thread", "process"], help="what runs the work"),
            "start_method": StartMethod(),
        },
    )
    ex.disable_when("start_method", lambda v: v["kind"] == "thread")
    assert ex.controls["start_method"].disabled is True
    ex.controls["kind"].value = "process"
    assert ex.controls["start_method"].disabled is False
    assert ex.values()["start_method"] is None
    with pytest.raises(ValueError, match=r"no control is called 'method'; the controls are"):
        ex.disable_when("method", lambda v: True)


def test_rows_lay_out_the_controls_and_must_name_each_once():
    ex = _explorer(rows=[["n_workers", "work_s"], ["kind"]], title="Work & workers")
    heading, row1, row2, button, status, output = ex.widget.children
    assert heading.value == "<b>Work &amp; workers</b>"
    assert list(row1.children) == [ex.controls["n_workers"], ex.controls["work_s"]]
    assert list(row2.children) == [ex.controls["kind"]]
    assert (button, status, output) == (ex.button, ex.status, ex.output)
    with pytest.raises(ValueError, match=r"'rows' must name every control once"):
        _explorer(rows=[["n_workers"], ["kind"]])


def test_extra_widgets_and_plain_ipywidgets_controls_are_accepted():
    meter = W.HTML("cpu meter")
    ex = Explorer(
        lambda *, n: Counted(n, 0.0, "thread"),
        {"n": W.IntSlider(value=2, min=1, max=4, description="n")},
        extra=[meter],
    )
    assert meter in ex.widget.children
    assert ex.run() == Counted(2, 0.0, "thread")
    with pytest.raises(TypeError, match=r"control 'n' must be a Slider, Choice, Toggle"):
        Explorer(lambda **kw: None, {"n": 3})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"'compute' must be a function"):
        Explorer(3, {})  # type: ignore[arg-type]


def test_a_cell_that_returns_an_explorer_shows_its_widget():
    ex = _explorer()
    data, _ = DisplayFormatter().format(ex)
    view = data["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == ex.widget.model_id


def test_safe_callback_still_works_alone_and_reports_to_on_error():
    out = W.Output()
    texts = []

    def bad():
        raise ValueError("'n_workers' must be >= 1 (got 0).")

    assert safe_callback(out, bad, on_error=texts.append)() is None
    assert texts == ["⚠ ValueError: 'n_workers' must be >= 1 (got 0).\n"]
    assert out.outputs[0]["text"] == texts[0]
