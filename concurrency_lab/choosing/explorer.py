"""The matrix explorer: pick a kind of work, the models and the sizes; measure; read the advice.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.machine import StartMethodName
from ..view.explorer import Choice, Explorer, Slider, StartMethod
from .advice import recommend
from .matrix import (
    MODELS,
    WORKLOADS,
    MatrixResult,
    Model,
    Workload,
    default_matrix_workers,
    scenario_matrix,
)
from .plots import plot_scenario_matrix

__all__ = ["measure_row", "scenario_explorer"]


def measure_row(
    *,
    workload: Workload = "cpu",
    models: Sequence[Model] = ("threads", "processes", "asyncio"),
    n_workers: int = 2,
    task_s: float = 0.02,
    start_method: StartMethodName | None = None,
) -> MatrixResult:
    """One row of :func:`~concurrency_lab.choosing.scenario_matrix`, measured once (quick).

    What the explorer's Run button calls: about a second on 2 cores with the defaults.
    """
    return scenario_matrix(
        workloads=[workload],
        models=["serial", *models],
        n_workers=n_workers,
        task_s=task_s,
        start_method=start_method,
        repeats=1,
        progress=False,
    )


def _advice(matrix: MatrixResult) -> str:
    return str(recommend(matrix, workload=matrix.workloads[0]))


def scenario_explorer() -> Explorer[MatrixResult]:
    """Controls for one row of the model matrix; press **Measure** to run it.

    The heat map row and the decision guide's reasoning for it appear below. Each run
    measures every cell once (the lesson's matrix keeps the best of three), so expect more
    noise here; nothing runs until the button is pressed.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    return Explorer(
        measure_row,
        {
            "workload": Choice(
                "kind of work", list(WORKLOADS), help="what each task does", value="cpu"
            ),
            "models": Choice(
                "models",
                [m for m in MODELS if m != "serial"],
                multiple=True,
                help="how to run the tasks, besides serially (select several with Ctrl or Cmd)",
            ),
            "n_workers": Slider(
                "workers",
                1,
                16,
                value=default_matrix_workers(),
                help="threads or processes per pool; coroutines in flight for asyncio",
            ),
            "task_s": Slider(
                "one task",
                10,
                200,
                value=20,
                step=10,
                unit="ms",
                scale=1e-3,
                help="how long one task takes alone",
            ),
            "start_method": StartMethod(),
        },
        draw=plot_scenario_matrix,
        describe=_advice,
        title="One row of the model matrix",
        button="Measure",
        button_help="measure this row: serially and with each model chosen",
        rows=[["workload"], ["models", "n_workers", "task_s", "start_method"]],
    )
