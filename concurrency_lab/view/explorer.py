"""Explorers: controls wired to one library call, a plot, and the result said in words.

An :class:`Explorer` is what every ``*_explorer()`` of the course returns. It is built from

* a function that measures or demonstrates (it takes keyword arguments, returns a result
  with a ``summary()`` sentence: :class:`concurrency_lab.core.results.Result`),
* one control per argument, described compactly (:class:`Slider`, :class:`Choice`,
  :class:`Toggle`, :class:`StartMethod`) or given as any ipywidgets value widget, and
* optionally a plot function that draws the result.

Pressing *Run* (or calling :meth:`Explorer.run`) reads the controls, calls the function,
shows the figure and writes the result's summary under the button. While it runs, the button
says "Running…" and is disabled. An error lands in the explorer's output, never lost: a lab
error or bad setting as its friendly message, anything else as a traceback.

Accessibility: every control has a visible label that says what it changes, with its unit,
and a tooltip; sliders act when released (``continuous_update=False``), so a keyboard or a
slow machine never starts work on every step; the button has text, not only an icon; and the
result is stated in words as well as drawn.

>>> from dataclasses import dataclass
>>> from concurrency_lab.core.results import Result
>>> @dataclass(frozen=True)
... class Doubled(Result):
...     n: int
...     def summary(self) -> str:
...         return f"{self.n} doubled is {2 * self.n}."
>>> ex = Explorer(
...     lambda *, n: Doubled(n),
...     {"n": Slider("number", 1, 10, value=3, help="the number to double")},
... )
>>> ex.controls["n"].value = 4
>>> ex.run().summary()
'4 doubled is 8.'
>>> ex.summary
'4 doubled is 8.'

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import functools
import html
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, Generic, TypeVar

import ipywidgets as W
from matplotlib.figure import Figure

from ..core.errors import LabError
from ..core.results import summary_of

__all__ = [
    "Choice",
    "Control",
    "Explorer",
    "Slider",
    "StartMethod",
    "Toggle",
    "chosen_start_method",
    "run_button",
    "safe_callback",
    "show_in",
    "start_method_dropdown",
]

_DEFAULT = "default"
_LABEL_STYLE = {"description_width": "initial"}

R = TypeVar("R")


# --- the building blocks other explorers already use ----------------------------------------


def start_method_dropdown(**layout: Any) -> W.Dropdown:
    """A dropdown of this platform's start methods, with the default named and preselected.

    (A value of ``None`` would show as an empty box, so the default is the string
    ``"default"``; read the choice with :func:`chosen_start_method`.) On macOS ``fork`` is
    offered as "fork (unsafe on macOS)".
    """
    from ..core.machine import available_start_methods, default_start_method, start_method_label

    layout.setdefault(
        "tooltip", "how a new process starts: fork copies this one, spawn starts a fresh Python"
    )
    return W.Dropdown(
        options=[(f"default ({default_start_method()})", _DEFAULT)]
        + [(start_method_label(m), m) for m in available_start_methods()],
        value=_DEFAULT,
        description="start method",
        **layout,
    )


def chosen_start_method(dropdown: W.Dropdown) -> str | None:
    """The start method a :func:`start_method_dropdown` names (``None`` = the default)."""
    return None if dropdown.value == _DEFAULT else dropdown.value


def show_in(out: W.Output, *objects: Any, clear: bool = True) -> None:
    """Replace what ``out`` shows with ``objects`` (figures, text, anything displayable).

    Unlike ``with out: display(...)``, this also works when no kernel is running
    (tests drive the widgets headless), and it never lands in another cell.
    """
    if clear:
        out.outputs = ()
    for obj in objects:
        if isinstance(obj, str):
            out.append_stdout(obj if obj.endswith("\n") else obj + "\n")
        else:
            out.append_display_data(obj)


def safe_callback(
    out: W.Output,
    fn: Callable[..., Any],
    *,
    on_error: Callable[[str], None] | None = None,
) -> Callable[..., Any]:
    """Wrap a widget callback so an exception is shown in ``out`` instead of vanishing.

    Lab errors (bad settings, a worker that failed) show their friendly message only;
    anything else shows its traceback, which is a bug worth reporting. ``on_error``, if
    given, also receives the text shown.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (LabError, ValueError, TypeError) as exc:
            text = f"⚠ {type(exc).__name__}: {exc}\n"
        except Exception:
            text = traceback.format_exc()
        out.append_stderr(text)
        if on_error is not None:
            on_error(text)
        return None

    return wrapper


def run_button(description: str = "Run", *, tooltip: str = "") -> W.Button:
    """The standard 'run the experiment' button: text and a play icon."""
    return W.Button(
        description=description,
        button_style="primary",
        icon="play",
        tooltip=tooltip or description,
        layout=W.Layout(width="auto"),
    )


# --- compact control specs -----------------------------------------------------------------


def _label(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def _check_text(value: object, name: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{name}' must be {what} (got {value!r}).")
    return value


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True)
class Slider:
    """A slider for a number; acts when released.

    >>> work = Slider("work per worker", 1, 100, value=20, unit="ms", help="how long each computes")
    >>> work.build().description
    'work per worker (ms)'

    Args:
        label: what the slider changes, in the learner's words.
        min, max: the range (whole numbers give an integer slider).
        help: the tooltip: one phrase on what changes when it moves.
        value: the start value (default: ``min``).
        step: the step (default 1 for whole numbers, else a hundredth of the range).
        unit: shown after the label in brackets, e.g. ``"ms"``.
        scale: the function receives ``value * scale`` (e.g. ``unit="ms", scale=1e-3``
            for a function that takes seconds).

    Raises:
        ValueError: if ``min >= max``, ``value`` is outside the range, or ``step <= 0``.
    """

    label: str
    min: float
    max: float
    _: KW_ONLY
    help: str
    value: float | None = None
    step: float | None = None
    unit: str = ""
    scale: float = 1.0

    def __post_init__(self) -> None:
        _check_text(self.label, "label", "a short phrase saying what the control changes")
        _check_text(self.help, "help", "a tooltip saying what the control changes")
        if not self.min < self.max:
            raise ValueError(
                f"{self.label!r}: 'min' must be < 'max' (got {self.min} and {self.max})."
            )
        value = self.min if self.value is None else self.value
        if not self.min <= value <= self.max:
            raise ValueError(
                f"{self.label!r}: 'value' must be between {self.min} and {self.max} (got {value})."
            )
        if self.step is not None and not self.step > 0:
            raise ValueError(f"{self.label!r}: 'step' must be > 0 (got {self.step}).")

    def build(self) -> W.IntSlider | W.FloatSlider:
        """The ipywidgets slider."""
        value = self.min if self.value is None else self.value
        common = {
            "description": _label(self.label, self.unit),
            "tooltip": self.help,
            "continuous_update": False,
            "style": _LABEL_STYLE,
        }
        numbers = (self.min, self.max, value, self.step if self.step is not None else 1)
        if all(_is_int(x) for x in numbers):
            return W.IntSlider(
                value=value, min=self.min, max=self.max, step=self.step or 1, **common
            )
        step = self.step if self.step is not None else (self.max - self.min) / 100
        decimals = max(0, min(6, len(f"{step:g}".partition(".")[2])))
        return W.FloatSlider(
            value=value,
            min=self.min,
            max=self.max,
            step=step,
            readout_format=f".{decimals}f",
            **common,
        )

    def to_arg(self, value: Any) -> Any:
        """The argument the function receives for the slider's ``value``."""
        return value if self.scale == 1.0 else value * self.scale


@dataclass(frozen=True)
class Choice:
    """Pick one of a few options (toggle buttons for up to 4, else a dropdown), or several.

    Args:
        label: what the choice changes.
        options: the values, or ``{shown label: value}``, or ``(label, value)`` pairs.
        help: the tooltip.
        value: the start value (default: the first option; with ``multiple``, all).
        multiple: pick any number of options (the function receives a tuple).

    Raises:
        ValueError: for no options, or a ``value`` that is not one of them.
    """

    label: str
    options: Sequence[Any] | Mapping[str, Any]
    _: KW_ONLY
    help: str
    value: Any = None
    multiple: bool = False

    def pairs(self) -> list[tuple[str, Any]]:
        """The options as ``(shown label, value)`` pairs."""
        if isinstance(self.options, Mapping):
            return [(str(k), v) for k, v in self.options.items()]
        return [o if isinstance(o, tuple) and len(o) == 2 else (str(o), o) for o in self.options]

    def __post_init__(self) -> None:
        _check_text(self.label, "label", "a short phrase saying what the control changes")
        _check_text(self.help, "help", "a tooltip saying what the control changes")
        values = [v for _, v in self.pairs()]
        if not values:
            raise ValueError(f"{self.label!r}: 'options' must not be empty.")
        chosen = self.value if self.multiple and self.value is not None else [self.value]
        for v in chosen:
            if v is not None and v not in values:
                raise ValueError(f"{self.label!r}: 'value' must be one of {values} (got {v!r}).")

    def build(self) -> W.ValueWidget:
        """The ipywidgets control."""
        pairs = self.pairs()
        values = [v for _, v in pairs]
        common = {"description": self.label, "tooltip": self.help, "style": _LABEL_STYLE}
        if self.multiple:
            value = tuple(values if self.value is None else self.value)
            return W.SelectMultiple(options=pairs, value=value, rows=min(6, len(pairs)), **common)
        value = values[0] if self.value is None else self.value
        if len(pairs) <= 4:
            return W.ToggleButtons(options=pairs, value=value, **common)
        return W.Dropdown(options=pairs, value=value, **common)

    def to_arg(self, value: Any) -> Any:
        return tuple(value) if self.multiple else value


@dataclass(frozen=True)
class Toggle:
    """An on/off switch (a labelled check box); the function receives ``True``/``False``."""

    label: str
    _: KW_ONLY
    help: str
    value: bool = False

    def __post_init__(self) -> None:
        _check_text(self.label, "label", "a short phrase saying what the switch turns on")
        _check_text(self.help, "help", "a tooltip saying what the switch changes")

    def build(self) -> W.Checkbox:
        """The ipywidgets check box."""
        return W.Checkbox(
            value=bool(self.value),
            description=self.label,
            tooltip=self.help,
            indent=False,
            style=_LABEL_STYLE,
        )

    def to_arg(self, value: Any) -> Any:
        return bool(value)


@dataclass(frozen=True)
class StartMethod:
    """The start-method dropdown; the function receives ``None`` for the default."""

    _: KW_ONLY
    help: str = "how a new process starts: fork copies this one, spawn starts a fresh Python"

    def build(self) -> W.Dropdown:
        return start_method_dropdown(tooltip=self.help, style=_LABEL_STYLE)

    def to_arg(self, value: Any) -> Any:
        return None if value == _DEFAULT else value


Control = Slider | Choice | Toggle | StartMethod


# --- the explorer ---------------------------------------------------------------------------


class Explorer(Generic[R]):
    """Controls, a Run button, the result in words and its plot: one object for every explorer.

    A cell that returns an explorer shows it. Tests and notebooks drive it without a browser:
    set ``ex.controls[name].value``, call ``ex.run()``, read ``ex.result`` / ``ex.summary``.

    Args:
        compute: called as ``compute(**ex.values())``; returns the result.
        controls: one control per keyword argument of ``compute``, in display order: a
            :class:`Slider`, :class:`Choice`, :class:`Toggle`, :class:`StartMethod`, or any
            ipywidgets value widget (its ``value`` is passed as is).
        draw: ``draw(result)`` returns the figure (or figures) to show.
        describe: ``describe(result)`` returns the sentence; default ``result.summary()``.
        title: a heading shown above the controls.
        button: the button's text.
        button_help: the button's tooltip.
        rows: control names per row (default: all in one row that wraps on narrow screens).
        extra: more widgets to show between the result sentence and the plot.

    Attributes:
        widget: the ipywidgets box (what the notebook shows).
        controls: the widgets by argument name.
        result: the last result (``None`` before the first run or after an error).
        figures: the figures of the last run.
        summary: the last result's sentence (``""`` before the first run).
        error: the text of the last run's error (``""`` if it ran).
        button, status, output: the Run button, the sentence under it, the plot area.

    Introduced in ``01-threads-and-processes.ipynb``.
    """

    def __init__(
        self,
        compute: Callable[..., R],
        controls: Mapping[str, Control | W.ValueWidget],
        *,
        draw: Callable[[R], Figure | Sequence[Figure]] | None = None,
        describe: Callable[[R], str] | None = None,
        title: str = "",
        button: str = "Run",
        button_help: str = "",
        rows: Sequence[Sequence[str]] | None = None,
        extra: Sequence[W.Widget] = (),
    ) -> None:
        if not callable(compute):
            raise TypeError(f"'compute' must be a function (got {compute!r}).")
        self._compute = compute
        self._draw = draw
        self._describe = describe or summary_of
        self._to_arg: dict[str, Callable[[Any], Any]] = {}
        self.controls: dict[str, W.ValueWidget] = {}
        for name, spec in controls.items():
            if isinstance(spec, (Slider, Choice, Toggle, StartMethod)):
                self.controls[name] = spec.build()
                self._to_arg[name] = spec.to_arg
            elif isinstance(spec, W.ValueWidget):
                self.controls[name] = spec
            else:
                raise TypeError(
                    f"control {name!r} must be a Slider, Choice, Toggle, StartMethod or an "
                    f"ipywidgets value widget (got {type(spec).__name__})."
                )
        self.result: R | None = None
        self.figures: tuple[Figure, ...] = ()
        self.summary = ""
        self.error = ""
        self._rules: list[tuple[str, Callable[[dict[str, Any]], bool]]] = []

        self.button = run_button(
            button, tooltip=button_help or f"{button}: run with these settings"
        )
        self.button.layout.align_self = "flex-start"  # a button, not a full-width bar
        self._button_text = button
        self.status = W.HTML(value="")
        self.output = W.Output()
        self._guarded = safe_callback(self.output, self._run_once, on_error=self._failed)
        self.button.on_click(lambda _button: self.run())
        for widget in self.controls.values():
            widget.observe(lambda _change: self._apply_rules(), "value")
        self.widget = W.VBox(
            [
                *([W.HTML(value=f"<b>{html.escape(title)}</b>")] if title else []),
                *self._control_rows(rows),
                self.button,
                self.status,
                *extra,
                self.output,
            ]
        )

    def _control_rows(self, rows: Sequence[Sequence[str]] | None) -> list[W.Box]:
        wrap = W.Layout(flex_flow="row wrap", align_items="center")
        if rows is None:
            return [W.HBox(list(self.controls.values()), layout=wrap)] if self.controls else []
        named = [n for row in rows for n in row]
        if sorted(named) != sorted(self.controls):
            raise ValueError(
                f"'rows' must name every control once: {sorted(self.controls)} (got {named})."
            )
        return [W.HBox([self.controls[n] for n in row], layout=wrap) for row in rows]

    def values(self) -> dict[str, Any]:
        """The keyword arguments the next run passes to ``compute``."""
        return {
            name: self._to_arg.get(name, _same)(widget.value)
            for name, widget in self.controls.items()
        }

    def disable_when(self, name: str, predicate: Callable[[dict[str, Any]], bool]) -> None:
        """Grey out control ``name`` while ``predicate(ex.values())`` is true.

        >>> kind = Choice("kind", ["thread", "process"], help="what runs the work")
        >>> ex = Explorer(lambda **kw: None, {"kind": kind, "start_method": StartMethod()})
        >>> ex.disable_when("start_method", lambda v: v["kind"] == "thread")
        >>> ex.controls["start_method"].disabled
        True
        """
        if name not in self.controls:
            raise ValueError(
                f"no control is called {name!r}; the controls are {list(self.controls)}."
            )
        self._rules.append((name, predicate))
        self._apply_rules()

    def _apply_rules(self) -> None:
        values = self.values()
        for name, predicate in self._rules:
            self.controls[name].disabled = bool(predicate(values))

    def run(self) -> R | None:
        """Run once with the controls' current values, show the result; return it.

        Errors do not propagate: they are shown in the output and kept in :attr:`error`,
        and the result is ``None``.
        """
        self.button.disabled = True
        self.button.description = "Running…"
        self.button.icon = "hourglass-half"
        self.status.value = "<i>running…</i>"
        self.error = ""
        self.result, self.figures, self.summary = None, (), ""
        self.output.outputs = ()
        try:
            self._guarded()
        finally:
            self.button.disabled = False
            self.button.description = self._button_text
            self.button.icon = "play"
        return self.result

    def _run_once(self) -> None:
        result = self._compute(**self.values())
        text = self._describe(result)
        drawn = self._draw(result) if self._draw is not None else ()
        figures = (drawn,) if isinstance(drawn, Figure) else tuple(drawn)
        self.result, self.figures, self.summary = result, figures, text
        show_in(self.output, *figures)
        self.status.value = f'<div aria-live="polite">{html.escape(text)}</div>'

    def _failed(self, text: str) -> None:
        self.error = text.strip()
        self.status.value = '<div aria-live="polite">⚠ That did not run: the reason is below.</div>'

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _same(value: Any) -> Any:
    return value
