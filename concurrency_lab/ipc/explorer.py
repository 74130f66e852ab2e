"""The explorers of lesson 06: the cost of each IPC method, and a producer-consumer pipeline."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
from IPython.display import display

from ..view.explorer import chosen_start_method, run_button, safe_callback, start_method_dropdown
from .pipeline import run_pipeline
from .plots import plot_ipc, plot_pipeline
from .primitives import METHODS, fmt_size, measure_ipc

__all__ = ["ipc_explorer", "pipeline_explorer"]

_SIZES = (64, 1024, 16 * 1024, 256 * 1024, 4 << 20, 64 << 20)


def _size_label(n: int) -> str:
    return fmt_size(n)


def _method_dropdown() -> W.Dropdown:
    return start_method_dropdown()


def ipc_explorer(
    *,
    methods: tuple[str, ...] = ("Pipe", "Queue", "SharedMemory"),
    sizes: tuple[int, ...] = (64, 16 * 1024, 4 << 20),
) -> W.VBox:
    """Pick methods and message sizes; Run measures them and draws both cost curves.

    Large sizes (64 MiB) take a few seconds. Introduced in ``06-ipc.ipynb``.
    """
    methods_w = W.SelectMultiple(
        options=[m for m in METHODS if m != "memcpy"],
        value=tuple(m for m in methods if m != "memcpy"),
        description="methods",
        rows=6,
    )
    sizes_w = W.SelectMultiple(
        options=[(_size_label(s), s) for s in sorted(set(_SIZES) | set(sizes))],
        value=tuple(sizes),
        description="sizes",
        rows=6,
    )
    start = _method_dropdown()
    button = run_button("Measure", tooltip="time every method at every size, beside memcpy")
    status = W.HTML()
    out = W.Output()

    def update(*_: Any) -> None:
        if not sizes_w.value:
            raise ValueError("pick at least one message size.")
        status.value = "<i>measuring…</i>"
        res = measure_ipc(
            list(methods_w.value) or ["Pipe"],
            list(sizes_w.value),
            start_method=chosen_start_method(start),
        )
        big, small = max(res.sizes), min(res.sizes)
        fast_big, fast_small = res.fastest(big), res.fastest(small)
        fig_t = plot_ipc(res, metric="throughput")
        fig_l = plot_ipc(res, metric="latency")
        with out:
            out.clear_output(wait=True)
            display(fig_t, fig_l)
        status.value = (
            f"At {_size_label(big)} the fastest between processes was <b>{fast_big}</b> at "
            f"{res.ratio(fast_big, big):.2f}× the in-process copy; at {_size_label(small)} it "
            f"was <b>{fast_small}</b> ({res.latency_us(fast_small, small):.0f} µs per round trip)."
        )

    callback = safe_callback(out, update)
    button.on_click(callback)
    box = W.VBox([W.HBox([methods_w, sizes_w]), W.HBox([start, button]), status, out])
    box.run = callback  # type: ignore[attr-defined]  # lets tests and notebooks trigger a run
    return box


def pipeline_explorer(
    *,
    n_producers: int = 2,
    n_consumers: int = 2,
    queue_size: int = 4,
    item_cost_ms: float = 10.0,
    make_cost_ms: float = 2.0,
    kind: str = "process",
) -> W.VBox:
    """Sliders for producers, consumers, queue size and the time to make and to process
    an item; Run draws the pipeline.

    Introduced in ``06-ipc.ipynb``.
    """
    prod = W.IntSlider(
        value=n_producers, min=1, max=6, description="producers", continuous_update=False
    )
    cons = W.IntSlider(
        value=n_consumers, min=1, max=6, description="consumers", continuous_update=False
    )
    size = W.IntSlider(
        value=queue_size, min=1, max=20, description="queue size", continuous_update=False
    )
    cost = W.FloatSlider(
        value=item_cost_ms,
        min=0.0,
        max=40.0,
        step=1.0,
        description="item (ms)",
        continuous_update=False,
    )
    make = W.FloatSlider(
        value=make_cost_ms,
        min=0.0,
        max=40.0,
        step=1.0,
        description="make (ms)",
        continuous_update=False,
    )
    kind_w = W.ToggleButtons(options=["process", "thread"], value=kind, description="kind")
    start = _method_dropdown()
    button = run_button("Run", tooltip="run the pipeline and draw its timeline and queue depth")
    status = W.HTML()
    out = W.Output()

    def update(*_: Any) -> None:
        status.value = "<i>running…</i>"
        res = run_pipeline(
            n_producers=prod.value,
            n_consumers=cons.value,
            queue_size=size.value,
            item_cost_s=cost.value / 1e3,
            make_cost_s=make.value / 1e3,
            n_items=24,
            kind=kind_w.value,
            start_method=chosen_start_method(start) if kind_w.value == "process" else None,
        )
        fig = plot_pipeline(res)
        with out:
            out.clear_output(wait=True)
            display(fig)
        status.value = (
            f"{res.n_items} items in {res.elapsed_s * 1e3:.0f} ms: {res.throughput:.0f} items/s; "
            f"consumers busy {res.busy_fraction():.0%} of the time; "
            f"the queue held at most {res.max_depth} of {res.queue_size}."
        )

    callback = safe_callback(out, update)
    button.on_click(callback)
    kind_w.observe(lambda change: setattr(start, "disabled", change["new"] == "thread"), "value")
    start.disabled = kind == "thread"
    box = W.VBox(
        [
            W.HBox([prod, cons]),
            W.HBox([make, cost]),
            W.HBox([size]),
            W.HBox([kind_w, start, button]),
            status,
            out,
        ]
    )
    box.run = callback  # type: ignore[attr-defined]
    return box
