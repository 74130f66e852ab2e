"""A scenario-matrix explorer: pick models and sizes, run, see the heat map and the advice."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ..view.explorer import run_button, safe_callback, show_in
from .models import MODELS, WORKLOADS, default_matrix_workers, recommend, scenario_matrix

__all__ = ["scenario_explorer"]


def scenario_explorer(**matrix_options: Any) -> W.VBox:
    """Controls for :func:`~concurrency_lab.scenario_matrix`: models, workers, task size.

    Press the button to measure; the heat map and the decision guide's advice for
    the chosen workload appear below. Nothing runs until the button is pressed.
    Introduced in ``07-choosing-a-model.ipynb``.

    Args:
        **matrix_options: passed on to :func:`~concurrency_lab.scenario_matrix`
            (e.g. ``start_method="spawn"``).
    """
    from .plots import plot_scenario_matrix

    models = W.SelectMultiple(
        options=[m for m in MODELS if m != "serial"],
        value=[m for m in MODELS if m != "serial"],
        description="models",
        rows=3,
    )
    workloads = W.SelectMultiple(
        options=list(WORKLOADS), value=list(WORKLOADS), description="workloads", rows=4
    )
    n_workers = W.IntSlider(
        value=default_matrix_workers(),
        min=1,
        max=16,
        description="n_workers",
        continuous_update=False,
    )
    task_ms = W.IntSlider(
        value=50, min=10, max=200, step=10, description="task (ms)", continuous_update=False
    )
    advise = W.Dropdown(options=list(WORKLOADS), value="cpu", description="advise for")
    button = run_button("Measure the matrix")
    out = W.Output()
    box = W.VBox([W.HBox([workloads, models]), n_workers, task_ms, advise, button, out])
    box.result = None  # type: ignore[attr-defined]

    def run(_: Any = None) -> None:
        show_in(out, "Measuring every cell of the matrix...")
        options = {"progress": False, **matrix_options}
        matrix = scenario_matrix(
            workloads=list(workloads.value),
            models=["serial", *models.value],
            n_workers=n_workers.value,
            task_s=task_ms.value / 1000,
            **options,
        )
        box.result = matrix  # type: ignore[attr-defined]
        if advise.value in matrix.workloads:
            advice = recommend(matrix, workload=advise.value).reasoning
        else:
            advice = f"(add {advise.value!r} to the workloads to get advice for it)"
        show_in(out, plot_scenario_matrix(matrix), advice)

    button.on_click(safe_callback(out, run))
    box.button = button  # type: ignore[attr-defined]
    box.output = out  # type: ignore[attr-defined]
    box.controls = {  # type: ignore[attr-defined]
        "workloads": workloads,
        "models": models,
        "n_workers": n_workers,
        "task_ms": task_ms,
        "advise": advise,
    }
    return box
