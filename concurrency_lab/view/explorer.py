"""Shared widget plumbing: a run button whose errors land in an Output, never lost."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..errors import LabError

__all__ = ["chosen_start_method", "run_button", "safe_callback", "show_in", "start_method_dropdown"]

_DEFAULT = "default"


def start_method_dropdown(**layout: Any) -> W.Dropdown:
    """A dropdown of this platform's start methods, with the default named and preselected.

    (A value of ``None`` would show as an empty box, so the default is the string
    ``"default"``; read the choice with :func:`chosen_start_method`.)
    """
    from .. import runners

    return W.Dropdown(
        options=[(f"default ({runners.default_start_method()})", _DEFAULT)]
        + [(m, m) for m in runners.available_start_methods()],
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


def safe_callback(out: W.Output, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a widget callback so an exception is shown in ``out`` instead of vanishing.

    Lab errors (bad settings, a worker that failed) show their friendly message only;
    anything else shows its traceback, which is a bug worth reporting.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (LabError, ValueError, TypeError) as exc:
            out.append_stderr(f"⚠ {type(exc).__name__}: {exc}\n")
        except Exception:
            out.append_stderr(traceback.format_exc())
        return None

    return wrapper


def run_button(description: str = "Run", *, tooltip: str = "") -> W.Button:
    """The standard 'run the experiment' button."""
    return W.Button(
        description=description,
        button_style="primary",
        icon="play",
        tooltip=tooltip or description,
        layout=W.Layout(width="auto"),
    )
