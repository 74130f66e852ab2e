"""A low-overhead span tracer that works in any thread or process.

A *span* is one labelled stretch of time in one worker: "worker-2 ran
``cpu_bound`` from 3.1 ms to 9.8 ms". Times come from
:func:`time.perf_counter_ns`, which on Linux, macOS and Windows reads one
system-wide monotonic clock, so spans recorded in different processes can be
drawn on one axis.

Inside a worker started by :func:`concurrency_lab.start_join` or
:func:`concurrency_lab.run_tasks`, wrap any step you want to see::

    with cl.span("download"):
        ...

The runner gathers the spans back into its :class:`~concurrency_lab.runners.Run`.
Outside a run, spans go to a default recorder that :func:`collect` empties.
Recording one span costs well under a microsecond (see
``benchmarks/bench_tracing.py``). Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Recorder", "Span", "collect", "record_span", "span", "together_s"]

_clock = time.perf_counter_ns


@dataclass(frozen=True, slots=True)
class Span:
    """One labelled interval of one worker.

    >>> s = Span(worker="worker-1", pid=1, thread_id=2, label="work", start_ns=0, end_ns=2_000_000)
    >>> s.duration_s
    0.002
    """

    worker: str
    pid: int
    thread_id: int
    label: str
    start_ns: int
    end_ns: int

    @property
    def duration_s(self) -> float:
        """Length of the span in seconds."""
        return (self.end_ns - self.start_ns) / 1e9


class Recorder:
    """Collects spans for one worker (one thread) as plain tuples; cheap to append to.

    >>> rec = Recorder("worker-1")
    >>> with rec.span("step"):
    ...     pass
    >>> [s.label for s in rec.spans()]
    ['step']
    """

    __slots__ = ("_raw", "pid", "thread_id", "worker")

    def __init__(self, worker: str) -> None:
        self.worker = worker
        # Cached once: os.getpid() is a system call and would dominate the cost of a span.
        self.pid = os.getpid()
        self.thread_id = threading.get_ident()
        self._raw: list[tuple[str, int, int]] = []

    def record(self, label: str, start_ns: int, end_ns: int) -> None:
        """Store one finished span."""
        self._raw.append((label, start_ns, end_ns))

    def span(self, label: str) -> _SpanContext:
        """A context manager that records the time spent inside it."""
        return _SpanContext(self._raw, label)

    def raw(self) -> list[tuple[str, int, int]]:
        """The recorded ``(label, start_ns, end_ns)`` tuples (cheap to pickle)."""
        return self._raw

    def spans(self) -> list[Span]:
        """The recorded spans as :class:`Span` objects."""
        return [
            Span(self.worker, self.pid, self.thread_id, label, start, end)
            for label, start, end in self._raw
        ]

    def clear(self) -> None:
        """Forget the spans recorded so far; recording goes on into the same list."""
        del self._raw[:]  # in place: the thread-local sink still points at this list


class _SpanContext:
    __slots__ = ("_label", "_sink", "_start")

    def __init__(self, sink: list[tuple[str, int, int]], label: str) -> None:
        self._sink = sink
        self._label = label

    def __enter__(self) -> _SpanContext:
        self._start = _clock()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sink.append((self._label, self._start, _clock()))


_local = threading.local()
_default_lock = threading.Lock()
_default: dict[int, Recorder] = {}


def _sink() -> list[tuple[str, int, int]]:
    """The current thread's list of raw spans (fast path: one attribute lookup)."""
    try:
        return _local.sink  # type: ignore[no-any-return]
    except AttributeError:
        rec = _current()
        _local.sink = rec._raw
        return rec._raw


def _current() -> Recorder:
    rec = getattr(_local, "recorder", None)
    if rec is None:
        tid = threading.get_ident()
        with _default_lock:
            rec = _default.get(tid)
            if rec is None or rec.pid != os.getpid():
                rec = _default[tid] = Recorder(threading.current_thread().name)
        _local.recorder = rec
    return rec


def activate(recorder: Recorder | None) -> None:
    """Make ``recorder`` the current thread's recorder (used by the runners)."""
    _local.recorder = recorder
    if recorder is None:
        if hasattr(_local, "sink"):
            del _local.sink
    else:
        _local.sink = recorder._raw


def span(label: str) -> _SpanContext:
    """Record the time spent in a ``with`` block as a span of the current worker.

    >>> with span("tidy-up"):
    ...     total = sum(range(10))
    >>> [s.label for s in collect()][-1]
    'tidy-up'
    """
    try:  # inlined fast path of _sink(): this runs once per span
        sink = _local.sink
    except AttributeError:
        sink = _sink()
    return _SpanContext(sink, label)


def record_span(label: str, start_ns: int, end_ns: int) -> None:
    """Record a span whose times you measured yourself with ``time.perf_counter_ns()``."""
    _sink().append((label, start_ns, end_ns))


def collect() -> list[Span]:
    """Return and forget the spans recorded outside any run (in this process)."""
    with _default_lock:
        recorders = list(_default.values())
    out: list[Span] = []
    for rec in recorders:
        out.extend(rec.spans())
        del rec._raw[:]  # in place: threads keep appending to the same list
    out.sort(key=lambda s: s.start_ns)
    return out


def together_s(spans: Iterable[Span]) -> float:
    """Seconds during which spans of at least two different workers were running at once.

    Nested spans of one worker count once (a worker is running while any of its spans is).
    Use it to ask "did these workers really overlap?" from what they recorded, not from how
    long the whole run took (that includes the time processes take to start).

    >>> a = Span("w1", 1, 1, "run", 0, 100)
    >>> b = Span("w2", 1, 2, "run", 50, 150)
    >>> together_s([a, b]) * 1e9
    50.0
    """
    events: list[tuple[int, int, str]] = []
    for s in spans:
        events.append((s.start_ns, 1, s.worker))
        events.append((s.end_ns, -1, s.worker))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    depth: dict[str, int] = {}
    running = 0
    last = 0
    total = 0
    for t, step, worker in events:
        if running >= 2:
            total += t - last
        last = t
        before = depth.get(worker, 0)
        depth[worker] = before + step
        if before == 0 and step == 1:
            running += 1
        elif before == 1 and step == -1:
            running -= 1
    return total / 1e9
