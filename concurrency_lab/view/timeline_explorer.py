"""The timeline explorer of lesson 01: pick workers and kind, press Run, see the timeline."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ..core.machine import KINDS, usable_cores
from ..core.runners import Run, start_join
from ..core.workloads import calibrate, cpu_bound, gil_releasing, io_bound
from ..view.explorer import (
    chosen_start_method,
    run_button,
    safe_callback,
    show_in,
    start_method_dropdown,
)
from .timeline import plot_timeline

__all__ = ["TIMELINE_WORKLOADS", "run_timeline_experiment", "timeline_explorer"]

#: The workloads the explorer offers, by the name shown in its dropdown.
TIMELINE_WORKLOADS = {
    "CPU-bound (pure Python)": "cpu",
    "I/O-bound (sleep + loopback)": "io",
    "GIL-releasing C (sha256)": "c",
}


def run_timeline_experiment(
    *,
    workload: str = "cpu",
    n_workers: int = 2,
    kind: str = "thread",
    start_method: str | None = None,
    work_s: float = 0.05,
) -> Run:
    """Run ``n_workers`` workers that each do about ``work_s`` of one kind of work.

    The logic behind :func:`timeline_explorer`, callable without widgets.

    Args:
        workload: ``"cpu"``, ``"io"`` or ``"c"`` (GIL-releasing).
        work_s: roughly how long one worker's work takes when it runs alone.
    """
    if workload == "cpu":
        target, args = cpu_bound, (calibrate(cpu_bound, work_s),)
    elif workload == "io":
        target, args = io_bound, (work_s,)
    elif workload == "c":
        units = calibrate(gil_releasing, work_s)
        target, args = gil_releasing, (units,)
    else:
        raise ValueError(f"'workload' must be 'cpu', 'io' or 'c' (got {workload!r}).")
    return start_join(
        target, n_workers, kind=kind, start_method=start_method, args=args, timeout_s=60
    )


def timeline_explorer(*, n_workers: int = 2, kind: str = "thread") -> W.VBox:
    """Controls for workers, kind, start method and workload; Run redraws the timeline.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    cores = usable_cores()
    workers = W.IntSlider(
        value=n_workers,
        min=1,
        max=max(8, 2 * cores),
        description="workers",
        continuous_update=False,
    )
    kind_w = W.ToggleButtons(options=list(KINDS), value=kind, description="kind")
    method = start_method_dropdown()
    workload = W.Dropdown(options=list(TIMELINE_WORKLOADS.items()), value="cpu", description="work")
    button = run_button("Run", tooltip="start the workers, join them, draw the timeline")
    out = W.Output()
    status = W.HTML()

    def update(*_: Any) -> None:
        method.disabled = kind_w.value == "thread"
        status.value = "<i>running…</i>"
        run = run_timeline_experiment(
            workload=workload.value,
            n_workers=workers.value,
            kind=kind_w.value,
            start_method=chosen_start_method(method),
        )
        show_in(out, plot_timeline(run))
        status.value = f"{run.n_workers} {run.kind}(s) finished in {run.elapsed_s * 1e3:.1f} ms"

    callback = safe_callback(out, update)
    button.on_click(callback)
    kind_w.observe(lambda change: setattr(method, "disabled", change["new"] == "thread"), "value")
    method.disabled = kind == "thread"
    box = W.VBox([W.HBox([workers, kind_w]), W.HBox([method, workload, button]), status, out])
    box.run = callback  # type: ignore[attr-defined]  # lets tests and notebooks trigger a run
    return box
