"""The scaling explorer: sweep 1..N workers for the work you choose, with a CPU meter.

Introduced in ``02-the-gil.ipynb`` (and used in ``03-core-scaling.ipynb``).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import ipywidgets as W

from ..core.machine import cpu_facts, lesson_processes, usable_cores
from ..view.explorer import Choice, Explorer, Slider, StartMethod
from .plots import plot_scaling
from .results import ScalingResult
from .sweep import SCALING_WORKLOADS, scaling_experiment

__all__ = ["CpuMeter", "scaling_explorer"]

#: Above this many usable CPUs (or under a CPU quota) the meter shows one total instead of
#: one bar per CPU: a row of 64 or 128 bars is unreadable and mostly shows other programs.
PER_CPU_MAX = 16


def _allowed_cpus() -> list[int] | None:
    if hasattr(os, "sched_getaffinity"):
        try:
            return sorted(os.sched_getaffinity(0))
        except OSError:
            return None
    return None


class CpuMeter:
    """How busy the usable CPUs are while an experiment runs, sampled from a thread.

    With at most 16 usable CPUs and no CPU quota below them, one bar per CPU this process may
    run on (all programs' load on it, from ``psutil.cpu_percent(percpu=True)``). Otherwise one
    bar: the CPU this program and its children used, in cores, out of the usable cores (on a
    shared server the per-CPU view would mostly show other people's work). Use it as a
    context manager around slow work; :attr:`average` then holds the mean per bar.
    """

    def __init__(self, *, period_s: float = 0.2) -> None:
        import psutil

        self._psutil = psutil
        self.period_s = period_s
        facts = cpu_facts()
        self.usable = facts.usable
        allowed = _allowed_cpus()
        if allowed is None:
            allowed = list(range(psutil.cpu_count() or 1))
        quota_limits = facts.quota is not None and facts.usable < len(allowed)
        self.per_cpu = len(allowed) <= PER_CPU_MAX and not quota_limits
        self.cpus = allowed if self.per_cpu else []
        names = [f"cpu{i}" for i in self.cpus] if self.per_cpu else ["this program"]
        self.bars = [
            W.FloatProgress(
                value=0,
                min=0,
                max=100 if self.per_cpu else float(self.usable),
                orientation="vertical" if self.per_cpu else "horizontal",
                description=name,
                layout=W.Layout(width="52px", height="90px") if self.per_cpu else W.Layout(),
            )
            for name in names
        ]
        what = "per usable CPU (all programs)" if self.per_cpu else "cores this program used"
        self.label = W.HTML(f"<small>CPU load {what}: sampled while the experiment runs</small>")
        self.widget = W.VBox([W.HBox(self.bars), self.label])
        self.samples: list[list[float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: tuple[float, float] | None = None

    @property
    def average(self) -> list[float]:
        """Mean of each bar over the samples of the last run (per cent, or cores)."""
        if not self.samples:
            return []
        return [sum(col) / len(col) for col in zip(*self.samples)]

    def _own_cpu_s(self) -> float:
        me = self._psutil.Process()
        total = sum(me.cpu_times()[:2])
        for child in me.children(recursive=True):
            try:
                total += sum(child.cpu_times()[:2])
            except self._psutil.Error:
                pass
        return float(total)

    def _sample(self) -> list[float]:
        if self.per_cpu:
            loads = self._psutil.cpu_percent(percpu=True)
            return [loads[i] if i < len(loads) else 0.0 for i in self.cpus]
        now, cpu = time.monotonic(), self._own_cpu_s()
        last, self._last = self._last, (now, cpu)
        if last is None or now <= last[0]:
            return [0.0]
        return [max(0.0, min(float(self.usable), (cpu - last[1]) / (now - last[0])))]

    def _describe(self, values: list[float], prefix: str) -> str:
        if self.per_cpu:
            busy = sum(values) / 100
            return (
                f"<small>{prefix}: {busy:.1f} of {len(values)} usable CPUs busy "
                f"(all programs)</small>"
            )
        return (
            f"<small>{prefix}: this program used {values[0]:.1f} of your {self.usable} usable "
            f"cores</small>"
        )

    def _show(self, values: list[float], prefix: str) -> None:
        for bar, value in zip(self.bars, values):
            bar.value = value
        self.label.value = self._describe(values, prefix)

    def _loop(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                values = self._sample()
            except Exception:  # a process vanished mid-read: skip this sample
                continue
            self.samples.append(values)
            self._show(values, "now")

    def __enter__(self) -> CpuMeter:
        self.samples = []
        self._stop.clear()
        self._last = None
        self._sample()  # starts the measurement interval
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
            self._show(avg, "average during the run")


_SIZES = {"30 ms": 0.03, "50 ms": 0.05, "100 ms": 0.1, "200 ms": 0.2, "500 ms": 0.5}
_KINDS = {
    "threads and processes": ("thread", "process"),
    "threads": ("thread",),
    "processes": ("process",),
}


def scaling_explorer(*, workload: str = "cpu", size_s: float = 0.05) -> Explorer[ScalingResult]:
    """Sweep 1..N workers, threads against processes, and watch the speedup and the cores.

    Choose the most workers (up to twice the usable cores, at most 16), the work (pure-Python
    CPU, C that releases the GIL, or waiting), the kinds, the start method and the problem
    size, then press Run. While it runs, the CPU meter shows how busy the usable CPUs are;
    afterwards the plot is redrawn and one sentence states what was measured. At the default
    size an answer takes about a second or two. Introduced in ``02-the-gil.ipynb``.

    Args:
        workload: a key of :data:`~concurrency_lab.scaling.sweep.SCALING_WORKLOADS`.
        size_s: the problem size selected at first (seconds of 1-worker work).

    Returns:
        The :class:`~concurrency_lab.view.explorer.Explorer` (``.controls``, ``.run()``,
        ``.result``, ``.summary``); ``.meter`` is its :class:`CpuMeter`.
    """
    cores = usable_cores()
    cap = max(2, lesson_processes(2))
    meter = CpuMeter()
    sizes = dict(_SIZES)
    if size_s not in sizes.values():
        sizes[f"{size_s * 1e3:g} ms"] = size_s

    def run(**kw: Any) -> ScalingResult:
        with meter:
            return scaling_experiment(**kw)

    explorer = Explorer(
        run,
        {
            "max_workers": Slider(
                "most workers",
                1,
                cap,
                value=min(cap, max(2, cores)),
                help="the sweep runs 1, 2, ... up to this many workers",
            ),
            "workload": Choice(
                "work",
                {label: key for key, (label, _) in SCALING_WORKLOADS.items()},
                value=workload,
                help="what each worker computes or waits for",
            ),
            "kinds": Choice(
                "workers", _KINDS, value=("thread", "process"), help="threads, processes, or both"
            ),
            "start_method": StartMethod(),
            "size_s": Choice(
                "problem size (1-worker time)",
                sizes,
                value=size_s,
                help="about how long all the work takes on one worker",
            ),
        },
        draw=plot_scaling,
        title="Scaling explorer",
        button_help="sweep the worker counts and redraw the plot",
        rows=[["max_workers", "workload"], ["kinds", "start_method", "size_s"]],
        extra=(meter.widget,),
    )
    explorer.disable_when("start_method", lambda v: "process" not in v["kinds"])
    explorer.meter = meter  # type: ignore[attr-defined]
    return explorer
