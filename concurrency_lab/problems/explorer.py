"""A scenario-matrix explorer: pick models and sizes, run, see the heat map and the advice."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ..view.explorer import run_button, safe_callback, show_in
from .traps import CLINIC, clinic

__all__ = ["clinic_explorer"]


def clinic_explorer() -> W.VBox:
    """Pick a problem of the clinic, run its broken or its fixed version, compare the results.

    Every version is bounded by timeouts, so none can hang the notebook.
    Introduced in ``08-common-problems.ipynb``.
    """
    problem = W.Dropdown(options=list(CLINIC), description="problem", layout=W.Layout(width="auto"))
    version = W.ToggleButtons(options=["broken", "fixed"], value="broken", description="version")
    button = run_button("Run it")
    out = W.Output()
    box = W.VBox([problem, version, button, out])
    box.result = None  # type: ignore[attr-defined]

    def run(_: Any = None) -> None:
        show_in(out, f"Running the {version.value} version of: {problem.value} ...")
        result = clinic(problem.value, fixed=version.value == "fixed")
        box.result = result  # type: ignore[attr-defined]
        show_in(out, f"{version.value}: {problem.value}\n{result!r}")

    button.on_click(safe_callback(out, run))
    box.button = button  # type: ignore[attr-defined]
    box.output = out  # type: ignore[attr-defined]
    box.controls = {"problem": problem, "version": version}  # type: ignore[attr-defined]
    return box
