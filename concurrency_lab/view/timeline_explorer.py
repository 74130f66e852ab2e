"""The timeline explorer of lessons 00 and 01: workers and kind in, a timeline out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.machine import KINDS, usable_cores
from ..core.runners import Run, start_join
from ..core.workloads import calibrate, cpu_bound, gil_releasing, io_bound
from .explorer import Choice, Explorer, Slider, StartMethod
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
    target: Callable[..., Any]
    args: tuple[Any, ...]
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


def timeline_explorer(*, n_workers: int = 2, kind: str = "thread") -> Explorer[Run]:
    """Pick the number of workers, threads or processes, the start method and the work; Run
    starts them, joins them and draws the timeline, with a sentence saying how long they really
    ran side by side.

    Introduced in ``00-start-here.ipynb``.
    """
    most = max(8, 2 * min(usable_cores(), 8))  # 16 at most: readable rows, quick on 64 cores
    ex: Explorer[Run] = Explorer(
        run_timeline_experiment,
        {
            "n_workers": Slider(
                "workers",
                1,
                most,
                value=min(n_workers, most),
                help="how many threads or processes to start, then join",
            ),
            "kind": Choice("kind", list(KINDS), value=kind, help="threads share one process"),
            "start_method": StartMethod(),
            "workload": Choice(
                "work",
                list(TIMELINE_WORKLOADS.items()),
                value="cpu",
                help="what each worker does for about 50 ms",
            ),
        },
        draw=plot_timeline,
        title="Timeline explorer",
        button_help="start the workers, join them, draw the timeline",
        rows=[["n_workers", "kind"], ["start_method", "workload"]],
    )
    ex.disable_when("start_method", lambda v: v["kind"] == "thread")
    return ex
