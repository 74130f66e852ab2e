"""Explorers of lessons 02 and 03: the scaling sweep with a live CPU meter, and the GIL hand-off."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ..core.workloads import calibrate, cpu_bound
from ..scaling.explorer import figure_png
from ..view.explorer import (
    run_button,
    safe_callback,
    show_in,
)
from .measure import measure_switch_interval, probe_work_s, trace_handoff
from .plots import plot_handoff, plot_probe_latency

__all__ = ["gil_explorer"]


def gil_explorer(*, n_threads: int = 2, run_now: bool = True) -> W.VBox:
    """Pick a number of CPU-bound threads and a switch interval; see them take turns.

    Run traces the threads' running stretches (the hand-off timeline) and
    measures how late a probe thread that sleeps 1 ms at a time wakes up beside
    them at that switch interval (the convoy effect). The interpreter's own
    switch interval is restored after every run. Introduced in ``02-the-gil.ipynb``.

    Returns:
        The widget, with ``threads``, ``interval``, ``button``, ``plot`` and
        ``conclusion`` as attributes, ``result`` the last ``(Handoff,
        SwitchIntervalResult)`` pair, and ``run()`` doing what the button does.
    """
    threads = W.IntSlider(
        value=n_threads, min=1, max=8, description="threads", continuous_update=False
    )
    choices = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05]
    interval = W.SelectionSlider(
        options=[(f"{c * 1e3:g} ms", c) for c in choices],
        value=0.005,
        description="switch interval",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    button = run_button("Run", tooltip="trace the threads and the probe")
    plot = W.Output()
    conclusion = W.HTML()
    box = W.VBox([W.HBox([threads, interval, button]), conclusion, plot])
    box.result = None  # type: ignore[attr-defined]
    units: list[int] = []

    def update(*_: Any) -> None:
        button.disabled = True
        conclusion.value = "<i>running…</i>"
        try:
            if not units:
                units.append(calibrate(cpu_bound, 0.1))
            # Enough work for about 10 wake-ups at this interval (units[0] is 0.1 s).
            work = max(1, round(units[0] * probe_work_s((interval.value,)) / 0.1))
            handoff = trace_handoff(
                threads.value, duration_s=0.05, switch_interval_s=interval.value
            )
            probe = measure_switch_interval(
                (interval.value,), n_cpu_threads=threads.value, work_units=work
            )
        finally:
            button.disabled = False
            conclusion.value = ""
        box.result = (handoff, probe)  # type: ignore[attr-defined]
        show_in(plot, figure_png(plot_handoff(handoff)), figure_png(plot_probe_latency(probe)))
        conclusion.value = f"<b>{handoff.conclusion()}</b><br>{probe.conclusion()}"

    callback = safe_callback(plot, update)
    button.on_click(callback)
    box.run = callback  # type: ignore[attr-defined]
    box.threads, box.interval, box.button = threads, interval, button  # type: ignore[attr-defined]
    box.plot, box.conclusion = plot, conclusion  # type: ignore[attr-defined]
    if run_now:
        callback()
    return box
