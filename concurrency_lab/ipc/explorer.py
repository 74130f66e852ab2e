"""The explorers of lesson 06: the cost of each IPC method, and a producer-consumer pipeline.

Both are :class:`concurrency_lab.view.explorer.Explorer` objects: labelled controls, a Run
button, the result in words (its ``summary()``) and its figures.

Introduced in ``06-ipc.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from ..view.explorer import Choice, Explorer, Slider, StartMethod
from .cost import IPCResult, measure_ipc, size_label
from .pipeline import PipelineResult, run_pipeline
from .plots import plot_ipc, plot_pipeline

__all__ = ["EXPLORER_SIZES", "ipc_explorer", "pipeline_explorer"]

#: The sizes the cost explorer offers: up to 16 MiB, so one run answers in a second or two.
EXPLORER_SIZES = (64, 1024, 16 * 1024, 256 * 1024, 4 << 20, 16 << 20)
_METHOD_CHOICES = ("queue.Queue", "Pipe", "SimpleQueue", "Queue", "SharedMemory", "Manager")


def _measure(
    *, methods: Sequence[str], sizes: Sequence[int], start_method: str | None
) -> IPCResult:
    if not methods:
        raise ValueError("pick at least one method to measure.")
    if not sizes:
        raise ValueError("pick at least one message size.")
    return measure_ipc(list(methods), list(sizes), start_method=start_method)


def _draw_ipc(result: IPCResult) -> tuple[Figure, Figure]:
    return plot_ipc(result, metric="throughput"), plot_ipc(result, metric="latency")


def ipc_explorer(
    *,
    methods: Sequence[str] = ("Pipe", "Queue", "SharedMemory"),
    sizes: Sequence[int] = (64, 16 * 1024, 4 << 20),
) -> Explorer[IPCResult]:
    """Pick methods and message sizes; Run measures them and draws both cost curves.

    The in-process copy is always measured as the reference. Sizes stop at 16 MiB so that
    a run answers in a second or two; :func:`measure_ipc` itself goes further, after
    checking that a shared-memory segment fits.

    Introduced in ``06-ipc.ipynb``.
    """
    return Explorer(
        _measure,
        {
            "methods": Choice(
                "methods",
                _METHOD_CHOICES,
                value=tuple(methods),
                multiple=True,
                help="which ways of moving data to time (Ctrl/Shift-click for several)",
            ),
            "sizes": Choice(
                "message sizes",
                [(size_label(s), s) for s in EXPLORER_SIZES],
                value=tuple(sizes),
                multiple=True,
                help="how many bytes each message carries (Ctrl/Shift-click for several)",
            ),
            "start_method": StartMethod(),
        },
        draw=_draw_ipc,
        title="What does each way of moving data cost?",
        button="Measure",
        button_help="time every method at every size, beside an in-process copy",
    )


def pipeline_explorer(
    *,
    n_producers: int = 2,
    n_consumers: int = 2,
    queue_size: int = 4,
    item_cost_s: float = 0.01,
    make_cost_s: float = 0.002,
    kind: str = "process",
) -> Explorer[PipelineResult]:
    """Sliders for producers, consumers, queue size and the time to make and to process
    an item; Run draws the pipeline's timeline and queue depth.

    The sliders pass their values straight to :func:`run_pipeline`; the costs are given in
    seconds, as there, and shown in milliseconds. Introduced in ``06-ipc.ipynb``.
    """
    ex: Explorer[PipelineResult] = Explorer(
        run_pipeline,
        {
            "n_producers": Slider(
                "producers", 1, 4, value=n_producers, help="how many workers make items"
            ),
            "n_consumers": Slider(
                "consumers", 1, 4, value=n_consumers, help="how many workers process items"
            ),
            "queue_size": Slider(
                "queue size", 1, 20, value=queue_size, unit="items", help="the queue's maxsize"
            ),
            "make_cost_s": Slider(
                "make",
                0.0,
                40.0,
                value=make_cost_s * 1e3,
                step=1.0,
                unit="ms per item",
                scale=1e-3,
                help="how long a producer takes to make one item",
            ),
            "item_cost_s": Slider(
                "process",
                0.0,
                40.0,
                value=item_cost_s * 1e3,
                step=1.0,
                unit="ms per item",
                scale=1e-3,
                help="how long a consumer takes to process one item",
            ),
            "kind": Choice(
                "workers are",
                {"processes": "process", "threads": "thread"},
                value=kind,
                help="processes around a multiprocessing.Queue, or threads around a queue.Queue",
            ),
            "start_method": StartMethod(),
        },
        draw=plot_pipeline,
        title="A producer-consumer pipeline around one bounded queue",
        rows=[
            ["n_producers", "n_consumers", "queue_size"],
            ["make_cost_s", "item_cost_s"],
            ["kind", "start_method"],
        ],
        button_help="run 24 items through the pipeline and draw its timeline",
    )
    ex.disable_when("start_method", lambda v: v["kind"] == "thread")
    return ex
