"""Threads taking turns: who holds the GIL when, and the switch interval that sets the pace.

CPython's global interpreter lock (GIL) lets one thread at a time run Python bytecode. A
thread that wants it waits; after the *switch interval* (:func:`sys.getswitchinterval`, 5 ms
by default) it asks the running thread to let go at its next bytecode boundary, and they trade
places. :func:`trace_handoff` makes that visible: CPU-bound threads read the clock after each
tiny step, and a jump in the clock means the thread was paused.

* :func:`switch_interval`: set the interval for a ``with`` block; it is always restored,
  even when the block raises.
* :func:`trace_handoff`: N CPU-bound threads, traced finely enough to see them take turns
  (draw it with :func:`~concurrency_lab.gil.plot_handoff`).

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from statistics import median
from types import SimpleNamespace
from typing import Any

from ..core.errors import WorkerTimeoutError
from ..core.machine import gil_enabled
from ..core.results import Result
from ..core.tracing import Recorder, Span
from ..core.validate import check_n_workers, check_number, check_timeout
from ..core.watch_result import WatchedWorker, default_edges, parallel_share

__all__ = [
    "HandoffResult",
    "TurnsResult",
    "check_interval",
    "join_all",
    "switch_interval",
    "took_turns",
    "trace_handoff",
]


def check_interval(interval_s: object) -> float:
    """A switch interval in seconds: above 0, at most 1."""
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
    interval_s = check_interval(interval_s)
    saved = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    try:
        yield interval_s
    finally:
        sys.setswitchinterval(saved)


def join_all(threads: Sequence[threading.Thread], deadline: float, timeout_s: float) -> None:
    """Join every thread by ``deadline`` (``time.monotonic()``); a lab error if one is late."""
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


@dataclass(frozen=True)
class HandoffResult(Result):
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

    def summary(self) -> str:
        share = ", ".join(f"{w} {self.busy_fraction(w):.0%}" for w in self.workers)
        interval = f"{self.switch_interval_s * 1e3:g} ms"
        if self.n_threads == 1:
            return (
                f"1 thread ran alone (share of time running: {share}): with no other thread "
                f"waiting for the GIL, nothing asks it to let go, whatever the switch interval "
                f"({interval})."
            )
        n_turns = len(self.turns)
        return (
            f"{self.n_threads} threads took {n_turns} turn{'' if n_turns == 1 else 's'} of about "
            f"{self.median_turn_s * 1e3:.1f} ms each (median, switch interval "
            f"{self.switch_interval_s * 1e3:g} ms); two or more ran at the same moment for "
            f"{self.overlap_fraction:.0%} of the run (share of time running: {share})."
        )

    def compared_with(self, other: HandoffResult) -> str:
        """Sentences comparing this trace's turns with ``other``'s, computed from both.

        Typically ``default.compared_with(short_interval_trace)``. Says whether the trace
        with the shorter switch interval really had shorter turns, and warns when it did not
        (on a busy machine the operating system decides when a waiting thread gets a core).
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
) -> HandoffResult:
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
        TypeError, ValueError: bad arguments.
        WorkerTimeoutError: a thread did not finish in time.
    """
    n_threads = check_n_workers(n_threads, "thread")
    duration_s = check_number(
        duration_s, "duration_s", low=0, high=5, low_open=True, unit=" seconds"
    )
    gap_s = check_number(gap_s, "gap_s", low=0, high=duration_s, low_open=True, unit=" seconds")
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
        join_all(threads, time.monotonic() + timeout_s + duration_s, timeout_s)
    spans = sorted((s for rec in recs for s in rec.spans()), key=lambda s: s.start_ns)
    end = max((s.end_ns for s in spans), default=started_ns)
    return HandoffResult(
        n_threads=n_threads,
        switch_interval_s=interval,
        gil_enabled=gil_enabled(),
        started_ns=started_ns,
        elapsed_s=(end - started_ns) / 1e9,
        gap_s=float(gap_s),
        spans=tuple(spans),
    )


# --------------------------------------------------------------------------- a plain-code timeline


@dataclass(frozen=True)
class TurnsResult(Result):
    """Whether the threads (and the processes) a watched cell started ran at the same time.

    Attributes:
        threads: how many threads the code started.
        processes: how many processes the code started.
        thread_share: of the sampling steps in which any of those threads was on a CPU, the
            share in which two or more were (``None`` when unknown).
        process_share: the same for the processes.
        thread_cores: CPU seconds of the threads per second of their lifetime, when only
            totals are known (``None`` otherwise).
        others_busy: cores other programs kept busy meanwhile (``None``: unknown).
        cores: usable cores.
    """

    threads: int
    processes: int
    thread_share: float | None
    process_share: float | None
    thread_cores: float | None
    others_busy: float | None
    cores: int

    @staticmethod
    def _words(share: float) -> str:
        if share < 0.25:
            return "they took turns"
        if share > 0.6:
            return "they ran side by side"
        return "partly side by side"

    def summary(self) -> str:
        parts = []
        if self.threads >= 2 and self.thread_share is not None:
            parts.append(
                f"your {self.threads} threads were on a CPU at the same moment in "
                f"{self.thread_share:.0%} of the steps in which any was: "
                f"{self._words(self.thread_share)}"
            )
        elif self.threads >= 2 and self.thread_cores is not None:
            turns = (
                "at most one core's worth: they took turns"
                if self.thread_cores < 1.2
                else ("more than one core's worth: they ran side by side")
            )
            parts.append(
                f"your {self.threads} threads used {self.thread_cores:.1f} s of CPU per second "
                f"(this platform gives only totals), {turns}"
            )
        if self.processes >= 2 and self.process_share is not None:
            words = self._words(self.process_share)
            if words == "they took turns":  # not a GIL's doing: each process has its own
                words = "they ran one at a time"
            lead = (
                f"your {self.processes} processes in {self.process_share:.0%}"
                if parts
                else f"your {self.processes} processes were on a CPU at the same moment in "
                f"{self.process_share:.0%} of the steps in which any was"
            )
            parts.append(f"{lead}: {words}")
        if not parts:
            return "The watched code did not start two threads or two processes that used a CPU."
        text = "; ".join(parts)
        text = text[0].upper() + text[1:] + "."
        if self.cores < 2:
            text += " With 1 usable core nothing can run side by side."
        elif self.others_busy is not None and self.others_busy >= 0.3:
            text += (
                f" Other programs kept about {self.others_busy:.1f} of your {self.cores} cores "
                f"busy meanwhile, which can keep workers from running side by side."
            )
        return text


def _started(result: Any, kind: str) -> tuple[WatchedWorker, ...]:
    return tuple(w for w in result.workers if w.kind == kind and w.role == "started")


def took_turns(result: Any) -> TurnsResult:
    """Read a ``%%timeline`` (``_timeline``) or ``cl.watch()``: did the threads the code
    started run at the same time, or take turns? And the processes?

    Uses the watcher's CPU samples (taken from outside the GIL): the share of sampling steps
    in which two or more of them were on a CPU at once. Where the platform gives only totals
    (macOS, Windows), the threads' CPU seconds per second of their lifetime instead.
    Introduced in ``02-the-gil.ipynb``.
    """
    threads, procs = _started(result, "thread"), _started(result, "process")
    edges = default_edges(result)

    def share(workers: tuple[WatchedWorker, ...]) -> float | None:
        if not workers:
            return None
        part = SimpleNamespace(
            workers=workers,
            resolution=result.resolution,
            wall_s=result.wall_s,
            sample_interval_s=result.sample_interval_s,
        )
        return parallel_share(part, edges)

    thread_cores = None
    if result.resolution != "samples" and len(threads) >= 2:
        known = [w for w in threads if w.cpu_s is not None]
        start = min(w.start_s for w in threads)
        end = max(w.end_s if w.end_s is not None else result.wall_s for w in threads)
        if known and end > start:
            thread_cores = sum(w.cpu_s or 0.0 for w in known) / (end - start)
    return TurnsResult(
        threads=len(threads),
        processes=len(procs),
        thread_share=share(threads),
        process_share=share(procs),
        thread_cores=thread_cores,
        others_busy=result.others_busy,
        cores=result.cores,
    )
