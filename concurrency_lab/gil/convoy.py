"""The convoy effect: a thread that mostly waits, stuck behind a CPU-bound thread.

A *probe* thread sleeps 1 ms again and again, like a thread serving a socket, and records how
late each wake-up is. Sleeping releases the GIL; to run again the probe must get it back.
Beside a CPU-bound thread that holds the GIL, the probe waits one switch interval before it
may even ask, then for the other thread to let go, then to be woken: each wake-up is about one
interval late. David Beazley showed this in 2010 (*Understanding the Python GIL*, PyCon; bpo-7946,
migrated to GitHub as python/cpython#52194) as a loss of *throughput*: an I/O thread that
gives up the GIL on every operation gets at most about one operation per interval. Here we
see the same thing as *latency*.

* :func:`measure_switch_interval`: the probe alone, then beside CPU-bound threads at each
  switch interval (draw it with :func:`~concurrency_lab.gil.plot_probe_latency`).
* :func:`gil_snapshot`: the hand-off trace and the probe at one setting, for the explorer.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any, Literal

from ..core.errors import WorkerError
from ..core.machine import gil_enabled
from ..core.results import Result
from ..core.validate import (
    check_callable,
    check_n_workers,
    check_number,
    check_timeout,
    check_whole,
)
from ..core.workloads import calibrate, cpu_bound
from .handoff import HandoffResult, check_interval, join_all, switch_interval, trace_handoff

__all__ = [
    "ConvoyResult",
    "GilSnapshotResult",
    "ProbeRun",
    "coarse_sleep",
    "gil_snapshot",
    "measure_switch_interval",
    "probe_work_s",
]


def coarse_sleep() -> bool:
    """True on Windows before Python 3.11, where ``time.sleep(0.001)`` lasts about 15.6 ms.

    Python 3.11 moved Windows to high-resolution timers; before that a short sleep rounds up
    to the system timer tick, so a 1 ms probe is late even alone and hides the convoy effect.
    """
    return sys.platform == "win32" and sys.version_info < (3, 11)


@dataclass(frozen=True)
class ProbeRun:
    """A probe thread that sleeps ``probe_period_s`` again and again, beside CPU-bound threads.

    Attributes:
        switch_interval_s: the switch interval during the run.
        n_cpu_threads: how many CPU-bound threads ran beside the probe (0 = alone).
        cpu_elapsed_s: seconds the CPU-bound threads took for their fixed work
            (0.0 when there were none).
        latencies_s: for each wake-up, how much later than asked it ran again.
    """

    switch_interval_s: float
    n_cpu_threads: int
    cpu_elapsed_s: float
    latencies_s: tuple[float, ...]

    @property
    def median_latency_s(self) -> float:
        """The median lateness of a wake-up, in seconds."""
        return median(self.latencies_s) if self.latencies_s else 0.0

    @property
    def ratio(self) -> float:
        """The median lateness in switch intervals (about 1 with the convoy effect)."""
        return self.median_latency_s / self.switch_interval_s

    @property
    def wakeups(self) -> int:
        """How many times the probe ran."""
        return len(self.latencies_s)


@dataclass(frozen=True)
class ConvoyResult(Result):
    """The probe alone, then beside CPU-bound threads at each switch interval.

    Attributes:
        probe_period_s: how long the probe asked to sleep each time.
        work_units: the CPU-bound work, split over the CPU threads, at every interval.
        gil_enabled: whether the GIL was on.
        alone: the probe with no CPU-bound thread (the baseline latency).
        runs: one :class:`ProbeRun` per switch interval, in the order given.
        coarse_sleep: measured where short sleeps are rounded up (Windows, Python < 3.11).
    """

    probe_period_s: float
    work_units: int
    gil_enabled: bool
    alone: ProbeRun
    runs: tuple[ProbeRun, ...]
    coarse_sleep: bool = False

    @property
    def outcome(self) -> Literal["convoy", "no convoy", "unclear"]:
        """What the runs show, judged with stated thresholds.

        ``"convoy"``: with the GIL on, at every interval the median wake-up was at least half
        an interval late (and at most 3 intervals), from at least 5 wake-ups, while the probe
        alone woke less than half the shortest interval late. ``"no convoy"``: with the GIL
        off, every median stayed below half its interval. ``"unclear"`` otherwise (a busy
        machine, coarse sleeps, too few wake-ups).
        """
        if self.coarse_sleep or not self.runs:
            return "unclear"
        shortest = min(r.switch_interval_s for r in self.runs)
        if self.alone.median_latency_s >= 0.5 * shortest or any(r.wakeups < 5 for r in self.runs):
            return "unclear"
        if self.gil_enabled and all(0.5 <= r.ratio <= 3 for r in self.runs):
            return "convoy"
        if not self.gil_enabled and all(r.ratio < 0.5 for r in self.runs):
            return "no convoy"
        return "unclear"

    def table(self) -> str:
        """One row per run: the interval, how late the probe woke, wake-ups, the CPU work."""
        lines = [
            f"{'switch interval':>16} {'probe late':>11} {'x interval':>11} {'wake-ups':>9} "
            f"{'CPU work':>9}"
        ]
        a = self.alone
        lines.append(
            f"{'alone':>16} {a.median_latency_s * 1e3:>8.2f} ms {'':>11} {a.wakeups:>9} {'':>9}"
        )
        for r in self.runs:
            lines.append(
                f"{r.switch_interval_s * 1e3:>13g} ms {r.median_latency_s * 1e3:>8.2f} ms "
                f"{r.ratio:>10.2f}x {r.wakeups:>9} {r.cpu_elapsed_s * 1e3:>6.0f} ms"
            )
        return "\n".join(lines)

    def conclusion(self) -> str:
        """What the runs show, in words, without repeating the numbers of :meth:`table`."""
        outcome = self.outcome
        if outcome == "convoy":
            return (
                "Each time the probe waited about one switch interval for the GIL: the convoy "
                "effect."
            )
        if outcome == "no convoy":
            return "Without the GIL, the probe did not wait for the CPU-bound thread."
        if self.coarse_sleep:
            return (
                "On Windows before Python 3.11 a 1 ms sleep lasts about 15.6 ms (the system "
                "timer tick), so the probe is late even alone: use Python 3.11+ to see the effect."
            )
        if not self.runs:
            return "No run beside CPU-bound work to compare with."
        if self.alone.median_latency_s >= 0.5 * min(r.switch_interval_s for r in self.runs):
            return (
                "The probe was late even alone: other programs kept the cores busy (or sleeps "
                "are coarse here), so the runs cannot be read; rerun on a quieter machine."
            )
        few = [r for r in self.runs if r.wakeups < 5]
        if few:
            return (
                f"Only {few[0].wakeups} wake-ups at {few[0].switch_interval_s * 1e3:g} ms: the "
                f"CPU work ended first, so that median means little (use more work)."
            )
        return "Not the expected one interval everywhere: a busy machine; rerun."

    def summary(self) -> str:
        alone = self.alone.median_latency_s * 1e3
        parts = [
            f"{r.switch_interval_s * 1e3:g} ms: {r.median_latency_s * 1e3:.2f} ms late "
            f"({r.ratio:.2f}x the interval)"
            for r in self.runs
        ]
        return (
            f"Alone, the probe woke {alone:.2f} ms late (median); beside CPU-bound work at a "
            f"switch interval of " + ", ".join(parts) + f". {self.conclusion()}"
        )


def _probe(period_s: float, stop: threading.Event, out: list[float]) -> None:
    clock = time.perf_counter
    while not stop.is_set():
        t0 = clock()
        time.sleep(period_s)  # releases the GIL; getting it back may take a while
        out.append(clock() - t0 - period_s)


def _cpu_thread(workload: Callable[[int], Any], units: int, errors: list[BaseException]) -> None:
    try:
        workload(units)
    except BaseException as exc:
        errors.append(exc)


def _split(units: int, n: int) -> list[int]:
    base, extra = divmod(units, n) if n else (0, 0)
    return [base + (1 if i < extra else 0) for i in range(n)]


def _probe_run(
    interval_s: float,
    n_cpu_threads: int,
    workload: Callable[[int], Any],
    units: int,
    period_s: float,
    timeout_s: float,
    alone_s: float,
) -> ProbeRun:
    latencies: list[float] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    probe = threading.Thread(target=_probe, args=(period_s, stop, latencies), daemon=True)
    cpu = [
        threading.Thread(target=_cpu_thread, args=(workload, c, errors), daemon=True)
        for c in _split(units, n_cpu_threads)
    ]
    with switch_interval(interval_s):
        probe.start()
        try:
            start = time.perf_counter()
            for t in cpu:
                t.start()
            if cpu:
                join_all(cpu, time.monotonic() + timeout_s, timeout_s)
            else:
                stop.wait(alone_s)
            elapsed = time.perf_counter() - start if cpu else 0.0
        finally:
            stop.set()
            probe.join(timeout_s)
    if errors:
        exc = errors[0]
        raise WorkerError(
            f"a CPU-bound thread raised {type(exc).__name__}: {exc}",
            worker="cpu-thread",
            exc_type=type(exc).__name__,
        ) from exc
    return ProbeRun(interval_s, len(cpu), elapsed, tuple(latencies))


def probe_work_s(intervals_s: Sequence[float]) -> float:
    """Seconds of CPU work that give the probe about 10 wake-ups at the longest interval.

    Each wake-up beside a CPU-bound thread takes about one switch interval, so
    the work must last several intervals for the median to mean something.

    >>> probe_work_s((0.0005, 0.005, 0.05))
    0.5
    >>> probe_work_s((0.001,))
    0.15
    """
    return max(0.15, 10 * max(intervals_s))


def measure_switch_interval(
    intervals_s: Sequence[float] = (0.0005, 0.005, 0.05),
    *,
    n_cpu_threads: int = 1,
    workload: Callable[[int], Any] = cpu_bound,
    work_units: int | None = None,
    probe_period_s: float = 0.001,
    timeout_s: float = 30.0,
) -> ConvoyResult:
    """Time fixed CPU-bound work beside a probe thread, at each switch interval.

    Introduced in ``02-the-gil.ipynb``.

    The probe sleeps ``probe_period_s`` in a loop, like a thread serving a socket, and
    records how late each wake-up is. The previous interval is restored afterwards, even on
    an error or an interrupt.

    >>> before = sys.getswitchinterval()
    >>> r = measure_switch_interval((0.001,), work_units=2)
    >>> [run.switch_interval_s for run in r.runs]
    [0.001]
    >>> sys.getswitchinterval() == before
    True

    Args:
        intervals_s: switch intervals to try, in seconds (CPython's default is 0.005).
        n_cpu_threads: CPU-bound threads beside the probe.
        workload: the CPU-bound function, called with a number of work units.
        work_units: total work, split over the CPU threads; default: enough for
            about 10 wake-ups at the longest interval (at least 0.15 s here).
        probe_period_s: how long the probe sleeps each time.
        timeout_s: limit for each run.

    Raises:
        TypeError, ValueError: bad arguments.
        WorkerError: the workload raised (the interval is restored first).
        WorkerTimeoutError: the CPU-bound threads did not finish in time.
    """
    intervals = tuple(check_interval(i) for i in intervals_s)
    if not intervals:
        raise ValueError("'intervals_s' is empty: give at least one interval, e.g. (0.005,).")
    n_cpu_threads = check_n_workers(n_cpu_threads, "thread")
    check_callable(workload, "workload")
    probe_period_s = check_number(
        probe_period_s, "probe_period_s", low=0, high=0.1, low_open=True, unit=" seconds"
    )
    timeout_s = check_timeout(timeout_s)
    if work_units is None:
        work_units = calibrate(workload, probe_work_s(intervals))
    work_units = check_whole(work_units, "work_units", low=1)
    alone = _probe_run(sys.getswitchinterval(), 0, workload, 0, probe_period_s, timeout_s, 0.1)
    runs = [
        _probe_run(i, n_cpu_threads, workload, work_units, probe_period_s, timeout_s, 0)
        for i in intervals
    ]
    return ConvoyResult(
        probe_period_s=float(probe_period_s),
        work_units=work_units,
        gil_enabled=gil_enabled(),
        alone=alone,
        runs=tuple(runs),
        coarse_sleep=coarse_sleep(),
    )


@dataclass(frozen=True)
class GilSnapshotResult(Result):
    """The hand-off trace and the probe at one setting: what the GIL explorer shows."""

    handoff: HandoffResult
    convoy: ConvoyResult

    def summary(self) -> str:
        return f"{self.handoff.summary()} {self.convoy.summary()}"


_units_per_s: list[float] = []


def gil_snapshot(
    *, n_threads: int = 2, switch_interval_s: float = 0.005, trace_s: float | None = None
) -> GilSnapshotResult:
    """Trace ``n_threads`` CPU-bound threads at one switch interval, then the probe beside them.

    The trace lasts ``trace_s``; by default long enough for each thread to get about two
    turns (``2 * n_threads * interval``, at least 50 ms, at most 0.4 s: with 8 threads at
    50 ms a shorter trace would show one thread running and the others' first slivers). The
    CPU work for the probe is sized for about 10 wake-ups at this interval (calibrated once,
    then remembered), so an answer takes about a second at 50 ms and less below. The
    interval is restored afterwards. Introduced in ``02-the-gil.ipynb``.

    >>> r = gil_snapshot(n_threads=2, switch_interval_s=0.001, trace_s=0.02)
    >>> r.handoff.n_threads, len(r.convoy.runs)
    (2, 1)

    Raises:
        TypeError, ValueError: bad arguments.
    """
    interval = check_interval(switch_interval_s)
    n_threads = check_n_workers(n_threads, "thread")
    if not _units_per_s:
        _units_per_s.append(calibrate(cpu_bound, 0.1) / 0.1)
    work = max(1, round(_units_per_s[0] * probe_work_s((interval,))))
    if trace_s is None:
        trace_s = min(0.4, max(0.05, 2 * n_threads * interval))
    handoff = trace_handoff(n_threads, duration_s=trace_s, switch_interval_s=interval)
    convoy = measure_switch_interval((interval,), n_cpu_threads=n_threads, work_units=work)
    return GilSnapshotResult(handoff, convoy)
