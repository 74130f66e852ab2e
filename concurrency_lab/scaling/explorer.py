"""Explorers of lessons 02 and 03: the scaling sweep with a live CPU meter, and the GIL hand-off."""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as W

from ..core.machine import usable_cores
from ..view.explorer import (
    chosen_start_method,
    run_button,
    safe_callback,
    show_in,
    start_method_dropdown,
)
from .measure import SCALING_WORKLOADS, scaling_experiment
from .plots import plot_scaling

__all__ = ["CpuMeter", "scaling_explorer"]


class CpuMeter:
    """A row of bars, one per CPU, fed by ``psutil.cpu_percent(percpu=True)`` from a thread.

    Use as a context manager around slow work: sampling starts on entry and the
    thread is stopped and joined on exit. :attr:`average` then holds the mean
    load of each CPU over the samples taken.
    """

    def __init__(self, *, period_s: float = 0.2) -> None:
        import psutil

        self._psutil = psutil
        self.period_s = period_s
        n = psutil.cpu_count() or 1
        self.bars = [
            W.FloatProgress(
                value=0,
                min=0,
                max=100,
                orientation="vertical",
                description=f"cpu{i}",
                layout=W.Layout(width="46px", height="90px"),
            )
            for i in range(n)
        ]
        self.label = W.HTML("<small>CPU load per core: sampled while an experiment runs</small>")
        self.widget = W.VBox([W.HBox(self.bars), self.label])
        self.samples: list[list[float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def average(self) -> list[float]:
        """Mean load of each CPU (percent) over the samples of the last run."""
        if not self.samples:
            return []
        return [sum(col) / len(col) for col in zip(*self.samples)]

    def _show(self, loads: list[float]) -> None:
        for bar, load in zip(self.bars, loads):
            bar.value = load
            bar.bar_style = "danger" if load > 80 else ("warning" if load > 40 else "info")

    def _loop(self) -> None:
        while not self._stop.wait(self.period_s):
            loads = self._psutil.cpu_percent(percpu=True)
            self.samples.append(loads)
            self._show(loads)
            busy = sum(loads) / 100
            self.label.value = f"<small>busy now: {busy:.1f} of {len(loads)} CPUs</small>"

    def __enter__(self) -> CpuMeter:
        self.samples = []
        self._stop.clear()
        self._psutil.cpu_percent(percpu=True)  # starts the measurement interval
        self._thread = threading.Thread(target=self._loop, name="cpu-meter", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        avg = self.average
        if avg:
            self._show(avg)
            cores = ", ".join(f"{a:.0f}%" for a in avg)
            self.label.value = (
                f"<small>average load per CPU during the run: {cores} "
                f"(all programs on the machine, not only this one)</small>"
            )


def _progress_bar() -> Any:
    """A tqdm notebook bar that is not displayed by itself: its widget goes into our layout."""
    from tqdm.notebook import tqdm

    class _Bar(tqdm):  # type: ignore[misc, valid-type]
        monitor_interval = 0  # no tqdm monitor thread left running afterwards

    return _Bar(total=1, desc="measuring", display=False, leave=False)


def figure_png(fig: Any) -> Any:
    """The figure as a PNG image: shows the same with every matplotlib backend, kernel or not."""
    import io

    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return Image(data=buffer.getvalue(), format="png")


def scaling_explorer(
    *, workload: str = "cpu", size_s: float = 0.03, run_now: bool = True
) -> W.VBox:
    """Sweep 1..N workers, threads against processes, and watch the speedup and the cores.

    Move the worker slider (up to twice the usable cores), pick the work
    (pure-Python CPU, GIL-releasing C, or waiting on I/O), the kinds, the start
    method and the problem size, then press Run. While it runs, a progress
    bar and one bar per CPU show how busy the machine is; afterwards the plot is
    redrawn and one sentence states what was measured. Introduced in
    ``02-the-gil.ipynb`` and ``03-core-scaling.ipynb``.

    Args:
        workload: ``"cpu"``, ``"c"`` or ``"io"``, selected at first.
        size_s: the problem size selected at first (seconds of serial work).
        run_now: run once straight away so the plot is there from the start.

    Returns:
        The widget. Its controls are attributes too (``workers``, ``workload``,
        ``kinds``, ``start_method``, ``size``, ``button``, ``plot``, ``conclusion``),
        ``result`` holds the last :class:`~concurrency_lab.scaling.ScalingResult`,
        and ``run()`` does what the button does.
    """
    cores = usable_cores()
    workers = W.IntSlider(
        value=max(2, cores),
        min=1,
        max=max(2, 2 * cores),
        description="max workers",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    work = W.Dropdown(
        options=[(label, key) for key, (label, _) in SCALING_WORKLOADS.items()],
        value=workload,
        description="workload",
    )
    kinds = W.Dropdown(
        options=[
            ("threads and processes", ("thread", "process")),
            ("threads", ("thread",)),
            ("processes", ("process",)),
        ],
        value=("thread", "process"),
        description="kinds",
    )
    method = start_method_dropdown(style={"description_width": "initial"})
    sizes = [("30 ms", 0.03), ("50 ms", 0.05), ("100 ms", 0.1), ("200 ms", 0.2), ("500 ms", 0.5)]
    if size_s not in dict(sizes).values():
        sizes.append((f"{size_s * 1e3:g} ms", size_s))
        sizes.sort(key=lambda kv: kv[1])
    size = W.SelectionSlider(
        options=sizes,
        value=size_s,
        description="problem size",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    button = run_button("Run", tooltip="sweep the worker counts and redraw the plot")
    progress = W.HBox()
    meter = CpuMeter()
    plot = W.Output()
    conclusion = W.HTML()
    box = W.VBox(
        [
            W.HBox([workers, work, kinds]),
            W.HBox([method, size, button]),
            progress,
            meter.widget,
            conclusion,
            plot,
        ]
    )
    box.result = None  # type: ignore[attr-defined]

    def update(*_: Any) -> None:
        button.disabled = True
        conclusion.value = "<i>running…</i>"
        bar = _progress_bar()
        progress.children = (bar.container,)

        def step(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            with meter:
                result = scaling_experiment(
                    workload=work.value,
                    max_workers=workers.value,
                    kinds=kinds.value,
                    start_method=chosen_start_method(method),
                    size_s=size.value,
                    progress=step,
                )
        finally:
            bar.close()
            progress.children = ()
            button.disabled = False
            conclusion.value = ""
        box.result = result  # type: ignore[attr-defined]
        show_in(plot, figure_png(plot_scaling(result)))
        conclusion.value = f"<b>{result.conclusion()}</b>"

    callback = safe_callback(plot, update)
    button.on_click(callback)
    kinds.observe(
        lambda change: setattr(method, "disabled", "process" not in change["new"]), "value"
    )
    box.run = callback  # type: ignore[attr-defined]
    box.workers, box.workload, box.kinds = workers, work, kinds  # type: ignore[attr-defined]
    box.start_method, box.size, box.button = method, size, button  # type: ignore[attr-defined]
    box.plot, box.conclusion, box.meter = plot, conclusion, meter  # type: ignore[attr-defined]
    if run_now:
        callback()
    return box
