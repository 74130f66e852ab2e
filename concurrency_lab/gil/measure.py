"""The GIL, measured: who runs when, how the switch interval matters, and whether you have one.

CPython's global interpreter lock (GIL) lets one thread at a time run Python
bytecode. A thread that wants it waits; after the *switch interval*
(:func:`sys.getswitchinterval`, 5 ms by default) it asks the running thread
to let go, and they trade places. So CPU-bound threads take turns instead of
running side by side, and a thread that wakes up from I/O may wait for its
turn too (the *convoy effect*).

* :func:`gil_enabled`: does this interpreter run with the GIL?
* :func:`trace_handoff`: N CPU-bound threads, traced finely enough to see them
  take turns (draw it with :func:`concurrency_lab.plot_handoff`).
* :func:`measure_switch_interval`: CPU-bound threads beside a probe thread
  that wakes every millisecond: how late is it, for each switch interval?
  (:func:`concurrency_lab.plot_probe_latency`).
* :func:`switch_interval`: set the interval for a ``with`` block; it is always
  restored, even when the block raises.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from statistics import median
from typing import Any

from ..core.errors import WorkerError, WorkerTimeoutError
from ..core.machine import free_threaded_build, gil_enabled
from ..core.tracing import Recorder, Span
from ..core.validate import check_callable, check_n_workers, check_timeout
from ..core.workloads import calibrate, cpu_bound, gil_releasing, zlib_compress
from ..scaling.measure import IO_UNIT_S, ScalingResult, io_wait, measure_scaling

__all__ = [
    "Handoff",
    "ProbeRun",
    "SwitchIntervalResult",
    "ThreadScaling",
    "interpreter_summary",
    "measure_switch_interval",
    "measure_thread_scaling",
    "switch_interval",
    "trace_handoff",
]


# --------------------------------------------------------------------------- which interpreter


def interpreter_summary() -> str:
    """One line about this interpreter and its GIL, e.g. ``'CPython 3.12.4, standard build: ...'``.

    Introduced in ``02-the-gil.ipynb``.

    >>> interpreter_summary().startswith(platform.python_implementation())
    True
    """
    name = f"{platform.python_implementation()} {platform.python_version()}"
    build = "free-threaded build" if free_threaded_build() else "standard build"
    if gil_enabled():
        gil = "the GIL is ON: one thread at a time runs Python code"
    else:
        gil = "the GIL is OFF: threads run Python code in parallel"
    return f"{name}, {build}: {gil}."


@contextmanager
def switch_interval(interval_s: float) -> Iterator[float]:
    """Set :func:`sys.setswitchinterval` inside a ``with`` block; restore it afterwards, always.

    Introduced in ``02-the-gil.ipynb``.

    >>> before = sys.getswitchinterval()
    >>> with switch_interval(0.001):
    ...     round(sys.getswitchinterval(), 6)
    0.001
    >>> sys.getswitchinterval() == before
    True

    Raises:
        ValueError: ``interval_s`` is not a positive number of seconds.
    """
    interval_s = _check_interval(interval_s)
    saved = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    try:
        yield interval_s
    finally:
        sys.setswitchinterval(saved)


def _check_interval(interval_s: object) -> float:
    if (
        isinstance(interval_s, bool)
        or not isinstance(interval_s, (int, float))
        or not 0 < interval_s <= 1
    ):
        raise ValueError(
            f"a switch interval must be a number of seconds above 0 and at most 1, e.g. 0.005 "
            f"(got {interval_s!r})."
        )
    return float(interval_s)


# --------------------------------------------------------------------------- hand-off timeline


@dataclass(frozen=True)
class Handoff:
    """When each of N CPU-bound threads was actually running.

    Each span is one stretch in which a thread ran without a pause longer than
    ``gap_s``; the pauses are when it waited for the GIL (or for a core).

    Attributes:
        n_threads: how many threads ran.
        switch_interval_s: the switch interval during the run.
        gil_enabled: whether the GIL was on.
        started_ns: ``perf_counter_ns()`` when the threads were released (the time axis' zero).
        elapsed_s: seconds until the last thread stopped.
        gap_s: a pause longer than this ends a stretch.
        spans: the running stretches, sorted by start; workers are ``thread-1``, ``thread-2``, ...
    """

    n_threads: int
    switch_interval_s: float
    gil_enabled: bool
    started_ns: int
    elapsed_s: float
    gap_s: float
    spans: tuple[Span, ...]

    @property
    def workers(self) -> tuple[str, ...]:
        """The thread names, in order."""
        return tuple(f"thread-{i + 1}" for i in range(self.n_threads))

    @property
    def n_switches(self) -> int:
        """How often the running thread changed, reading the stretches in time order."""
        return max(0, len(self.turns) - 1)

    @property
    def turns(self) -> tuple[Span, ...]:
        """Consecutive stretches of the same thread merged: one span per turn."""
        merged: list[Span] = []
        for s in self.spans:
            if merged and merged[-1].worker == s.worker:
                m = merged[-1]
                merged[-1] = Span(m.worker, m.pid, m.thread_id, "turn", m.start_ns, s.end_ns)
            else:
                merged.append(Span(s.worker, s.pid, s.thread_id, "turn", s.start_ns, s.end_ns))
        return tuple(merged)

    @property
    def median_turn_s(self) -> float:
        """The median length of a turn (one thread running before another took over), seconds."""
        turns = self.turns
        return median(t.duration_s for t in turns) if turns else 0.0

    @property
    def median_stretch_s(self) -> float:
        """The median length of a running stretch, in seconds."""
        return median(s.duration_s for s in self.spans) if self.spans else 0.0

    @property
    def overlap_fraction(self) -> float:
        """Share of the run during which two or more threads were running at once (0..1)."""
        events = sorted(
            [(s.start_ns, 1) for s in self.spans] + [(s.end_ns, -1) for s in self.spans]
        )
        running, last, overlap = 0, None, 0
        for t, step in events:
            if running >= 2 and last is not None:
                overlap += t - last
            running += step
            last = t
        total = self.elapsed_s * 1e9
        return overlap / total if total > 0 else 0.0

    def busy_fraction(self, worker: str) -> float:
        """Share of the run during which ``worker`` was running."""
        busy = sum(s.end_ns - s.start_ns for s in self.spans if s.worker == worker)
        return busy / (self.elapsed_s * 1e9) if self.elapsed_s > 0 else 0.0

    def conclusion(self) -> str:
        """One sentence, computed from this trace."""
        share = ", ".join(f"{w} {self.busy_fraction(w):.0%}" for w in self.workers)
        return (
            f"{self.n_threads} threads took {len(self.turns)} turns of about "
            f"{self.median_turn_s * 1e3:.1f} ms each (median, switch interval "
            f"{self.switch_interval_s * 1e3:g} ms); two or more ran at the same moment for "
            f"{self.overlap_fraction:.0%} of the run (share of time running: {share})."
        )

    def compared_with(self, other: Handoff) -> str:
        """Sentences comparing this trace's turns with ``other``'s, computed from both.

        Typically ``default.compared_with(short_interval_trace)``. Says whether
        the trace with the shorter switch interval really had more, shorter
        turns, and warns when it did not (a busy machine blurs the picture).
        """
        rows = [
            f"switch interval {t.switch_interval_s * 1e3:g} ms: {len(t.turns)} turns, median "
            f"{t.median_turn_s * 1e3:.1f} ms"
            for t in (self, other)
        ]
        text = "; ".join(rows) + "."
        text = text[0].upper() + text[1:]
        if other.switch_interval_s == self.switch_interval_s:
            return text + " Both traces used the same interval."
        short, long_ = sorted((self, other), key=lambda t: t.switch_interval_s)
        both_turned = short.turns and long_.turns
        if both_turned and short.median_turn_s < 0.8 * long_.median_turn_s:
            text += (
                f" The {short.switch_interval_s * 1e3:g} ms interval gave shorter turns"
                + (", and more of them" if len(short.turns) > len(long_.turns) else "")
                + "."
            )
        else:
            text += (
                f" Here the turns were NOT shorter with the {short.switch_interval_s * 1e3:g} ms "
                f"interval: on a busy machine the operating system decides when the waiting "
                f"thread gets a core, which can take longer than the interval. Rerun."
            )
        if max(self.overlap_fraction, other.overlap_fraction) < 0.05:
            text += " In both, one thread ran at a time."
        else:
            text += (
                f" Threads ran at the same moment for {self.overlap_fraction:.0%} and "
                f"{other.overlap_fraction:.0%} of the runs."
            )
        return text


def _handoff_worker(
    rec: Recorder, go: threading.Barrier, run_ns: list[int], gap_ns: int, timeout_s: float
) -> None:
    clock = time.perf_counter_ns
    go.wait(timeout_s)
    stop = run_ns[0]
    start = last = clock()
    x = 0
    while last < stop:
        for i in range(20):  # about a microsecond of pure-Python work
            x = (x + i * i) % 1_000_003
        now = clock()
        if now - last > gap_ns:  # we were paused: close the stretch
            rec.record("running", start, last)
            start = now
        last = now
    rec.record("running", start, last)


def trace_handoff(
    n_threads: int = 2,
    *,
    duration_s: float = 0.05,
    switch_interval_s: float | None = None,
    gap_s: float = 50e-6,
    timeout_s: float = 30.0,
) -> Handoff:
    """Run ``n_threads`` CPU-bound threads for ``duration_s`` and record when each really ran.

    Introduced in ``02-the-gil.ipynb``.

    Each thread loops over tiny steps and reads the clock after each; a jump
    longer than ``gap_s`` means it was paused (waiting for the GIL, or for a
    core), which splits its timeline into running stretches. With the GIL the
    stretches take turns, about one switch interval each; without it they overlap.

    >>> h = trace_handoff(2, duration_s=0.02)
    >>> h.workers
    ('thread-1', 'thread-2')
    >>> all(s.label == "running" for s in h.spans)
    True

    Args:
        n_threads: how many threads compete.
        duration_s: how long they run (at most 5 s).
        switch_interval_s: the switch interval to use during the run (restored
            afterwards); ``None`` keeps the current one.
        gap_s: a pause longer than this ends a running stretch.
        timeout_s: limit for waiting on the threads.

    Raises:
        ValueError: bad arguments.
        WorkerTimeoutError: a thread did not finish in time.
    """
    n_threads = check_n_workers(n_threads, "thread")
    if not isinstance(duration_s, (int, float)) or not 0 < duration_s <= 5:
        raise ValueError(
            f"'duration_s' must be above 0 and at most 5 seconds (got {duration_s!r})."
        )
    if not isinstance(gap_s, (int, float)) or not 0 < gap_s < duration_s:
        raise ValueError(f"'gap_s' must be above 0 and below duration_s (got {gap_s!r}).")
    timeout_s = check_timeout(timeout_s)
    interval = sys.getswitchinterval() if switch_interval_s is None else switch_interval_s
    with switch_interval(interval):
        recs = [Recorder(f"thread-{i + 1}") for i in range(n_threads)]
        go = threading.Barrier(n_threads + 1)
        run_ns = [0]
        threads = [
            threading.Thread(
                target=_handoff_worker,
                args=(rec, go, run_ns, int(gap_s * 1e9), timeout_s),
                name=rec.worker,
                daemon=True,
            )
            for rec in recs
        ]
        for t in threads:
            t.start()
        started_ns = time.perf_counter_ns()
        run_ns[0] = started_ns + int(duration_s * 1e9)
        try:
            go.wait(timeout_s)
        except threading.BrokenBarrierError:
            go.abort()
            raise WorkerTimeoutError(
                "the hand-off threads did not all start", workers=(), timeout_s=timeout_s
            ) from None
        _join_all(threads, time.monotonic() + timeout_s + duration_s, timeout_s)
    spans = sorted((s for rec in recs for s in rec.spans()), key=lambda s: s.start_ns)
    end = max((s.end_ns for s in spans), default=started_ns)
    return Handoff(
        n_threads=n_threads,
        switch_interval_s=interval,
        gil_enabled=gil_enabled(),
        started_ns=started_ns,
        elapsed_s=(end - started_ns) / 1e9,
        gap_s=float(gap_s),
        spans=tuple(spans),
    )


def _join_all(threads: Sequence[threading.Thread], deadline: float, timeout_s: float) -> None:
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    late = tuple(t.name for t in threads if t.is_alive())
    if late:
        raise WorkerTimeoutError(
            f"{', '.join(late)} still running after timeout_s={timeout_s:g} s; threads cannot "
            f"be stopped from outside and finish in the background.",
            workers=late,
            timeout_s=timeout_s,
        )


# --------------------------------------------------------------------------- switch interval


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
    def max_latency_s(self) -> float:
        """The worst lateness of a wake-up, in seconds."""
        return max(self.latencies_s, default=0.0)

    @property
    def wakeups(self) -> int:
        """How many times the probe ran."""
        return len(self.latencies_s)


@dataclass(frozen=True)
class SwitchIntervalResult:
    """The probe alone, then beside CPU-bound threads at each switch interval.

    Attributes:
        probe_period_s: how long the probe asked to sleep each time.
        work_units: the CPU-bound work, split over the CPU threads, at every interval.
        gil_enabled: whether the GIL was on.
        alone: the probe with no CPU-bound thread (the baseline latency).
        runs: one :class:`ProbeRun` per switch interval, in the order given.
    """

    probe_period_s: float
    work_units: int
    gil_enabled: bool
    alone: ProbeRun
    runs: tuple[ProbeRun, ...]

    def conclusion(self) -> str:
        """One sentence per interval, computed from the measurement."""
        parts = [
            f"at {r.switch_interval_s * 1e3:g} ms the probe woke {r.median_latency_s * 1e3:.2f} ms "
            f"late (median of {r.wakeups} wake-ups) and the CPU work took "
            f"{r.cpu_elapsed_s * 1e3:.0f} ms"
            for r in self.runs
        ]
        text = (
            f"Alone, the probe woke {self.alone.median_latency_s * 1e3:.2f} ms late (median); "
            + "; ".join(parts)
            + "."
        )
        few = [r for r in self.runs if r.wakeups < 5]
        if few:
            text += (
                f" Only {few[0].wakeups} wake-ups at {few[0].switch_interval_s * 1e3:g} ms: the "
                f"CPU work ended first, so that median means little (use more work_units)."
            )
        return text


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
                _join_all(cpu, time.monotonic() + timeout_s, timeout_s)
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


def _split(units: int, n: int) -> list[int]:
    base, extra = divmod(units, n) if n else (0, 0)
    return [base + (1 if i < extra else 0) for i in range(n)]


def measure_switch_interval(
    intervals_s: Sequence[float] = (0.0005, 0.005, 0.05),
    *,
    n_cpu_threads: int = 1,
    workload: Callable[[int], Any] = cpu_bound,
    work_units: int | None = None,
    probe_period_s: float = 0.001,
    timeout_s: float = 30.0,
) -> SwitchIntervalResult:
    """Time fixed CPU-bound work beside a probe thread, at each switch interval.

    Introduced in ``02-the-gil.ipynb``.

    The probe sleeps ``probe_period_s`` in a loop, like a thread serving a
    socket, and records how late each wake-up is. Sleeping releases the GIL;
    to run again the probe must get it back, which can take up to a switch
    interval while a CPU-bound thread holds it. The previous interval is
    restored afterwards, even on an error or an interrupt.

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
        ValueError: bad arguments.
        WorkerError: the workload raised (the interval is restored first).
        WorkerTimeoutError: the CPU-bound threads did not finish in time.
    """
    intervals = tuple(_check_interval(i) for i in intervals_s)
    if not intervals:
        raise ValueError("'intervals_s' is empty: give at least one interval, e.g. (0.005,).")
    n_cpu_threads = check_n_workers(n_cpu_threads, "thread")
    check_callable(workload, "workload")
    if not isinstance(probe_period_s, (int, float)) or not 0 < probe_period_s <= 0.1:
        raise ValueError(
            f"'probe_period_s' must be above 0 and at most 0.1 s (got {probe_period_s!r})."
        )
    timeout_s = check_timeout(timeout_s)
    if work_units is None:
        work_units = calibrate(workload, probe_work_s(intervals))
    if isinstance(work_units, bool) or not isinstance(work_units, int) or work_units < 1:
        raise ValueError(f"'work_units' must be a whole number >= 1 (got {work_units!r}).")
    alone = _probe_run(sys.getswitchinterval(), 0, workload, 0, probe_period_s, timeout_s, 0.1)
    runs = [
        _probe_run(i, n_cpu_threads, workload, work_units, probe_period_s, timeout_s, 0)
        for i in intervals
    ]
    return SwitchIntervalResult(
        probe_period_s=float(probe_period_s),
        work_units=work_units,
        gil_enabled=gil_enabled(),
        alone=alone,
        runs=tuple(runs),
    )


# --------------------------------------------------------------------------- threads that scale


#: The kinds of work :func:`measure_thread_scaling` compares, by label.
THREAD_WORKLOADS: dict[str, Callable[[int], Any]] = {
    "pure-Python CPU": cpu_bound,
    "sha256 (C, no GIL)": gil_releasing,
    "zlib (C, no GIL)": zlib_compress,
    "waiting (I/O)": io_wait,
}


@dataclass(frozen=True)
class ThreadScaling:
    """Thread speedups for several kinds of work, measured one after the other.

    Attributes:
        n_threads: how many threads shared each workload.
        labels: the kinds of work, e.g. ``"pure-Python CPU"``.
        results: one thread-only :class:`~concurrency_lab.scaling.ScalingResult` per label.
    """

    n_threads: int
    labels: tuple[str, ...]
    results: tuple[ScalingResult, ...]

    @property
    def speedups(self) -> tuple[float, ...]:
        """The median speedup with ``n_threads`` threads, per label."""
        return tuple(r.speedup("thread", self.n_threads) for r in self.results)

    def conclusion(self) -> str:
        """One sentence, computed from the measurement."""
        parts = [f"{label} {s:.1f}x" for label, s in zip(self.labels, self.speedups)]
        return f"With {self.n_threads} threads: " + "; ".join(parts) + "."


def measure_thread_scaling(
    n_threads: int = 2, *, work_s: float = 0.05, repeats: int = 3, timeout_s: float = 60.0
) -> ThreadScaling:
    """How much faster ``n_threads`` threads make each kind of work: CPU, C without the GIL, I/O.

    Each workload is sized to take about ``work_s`` on one thread here, then
    timed on one thread and split over ``n_threads`` (see
    :func:`~concurrency_lab.measure_scaling`). Introduced in ``02-the-gil.ipynb``.

    >>> r = measure_thread_scaling(2, work_s=0.005, repeats=1)
    >>> r.labels[0], len(r.speedups)
    ('pure-Python CPU', 4)

    Raises:
        ValueError: bad arguments.
    """
    n_threads = check_n_workers(n_threads, "thread")
    if isinstance(work_s, bool) or not isinstance(work_s, (int, float)) or not 0 < work_s <= 10:
        raise ValueError(f"'work_s' must be above 0 and at most 10 seconds (got {work_s!r}).")
    results = []
    for fn in THREAD_WORKLOADS.values():
        units = max(1, round(work_s / IO_UNIT_S)) if fn is io_wait else calibrate(fn, work_s)
        results.append(
            measure_scaling(
                fn,
                kinds=("thread",),
                n_workers=(n_threads,),
                total_work=units,
                repeats=repeats,
                timeout_s=timeout_s,
            )
        )
    return ThreadScaling(n_threads, tuple(THREAD_WORKLOADS), tuple(results))
