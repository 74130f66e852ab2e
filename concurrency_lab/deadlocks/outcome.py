"""What a deadlock demo returns, and the recorder every demo uses to build it.

Every thread demo of lesson 05 keeps the same books: how much work each thread finished,
how often it tried, the lock events, the deadlocks a watchdog found. :class:`DemoRecorder`
keeps them while the demo runs and turns them into one :class:`DemoResult`, which says in a
sentence what happened.

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from ..core.results import Result
from .graph import Deadlock, natural_key
from .locks import LockEvent, LockRegistry
from .watchdog import Watchdog

__all__ = ["DemoRecorder", "DemoResult", "LockInterval", "lock_intervals"]


@dataclass(frozen=True)
class LockInterval:
    """A stretch of time one thread spent ``"waiting"`` for, or ``"holding"``, one lock."""

    thread: str
    lock: str
    state: Literal["waiting", "holding"]
    start_ns: int
    end_ns: int


def lock_intervals(events: Iterable[LockEvent]) -> tuple[LockInterval, ...]:
    """Turn lock events into waiting and holding intervals (for a timeline).

    Intervals still open at the last event end there.

    >>> ev = [LockEvent(0, "T1", "A", "wait"), LockEvent(5, "T1", "A", "acquire"),
    ...       LockEvent(9, "T1", "A", "release")]
    >>> [(i.state, i.start_ns, i.end_ns) for i in lock_intervals(ev)]
    [('waiting', 0, 5), ('holding', 5, 9)]

    Introduced in ``05-deadlocks.ipynb``.
    """
    events = sorted(events, key=lambda e: e.time_ns)
    open_: dict[tuple[str, str, str], int] = {}
    out: list[LockInterval] = []
    for e in events:
        key_wait, key_hold = (e.thread, e.lock, "waiting"), (e.thread, e.lock, "holding")
        if e.kind == "wait":
            open_[key_wait] = e.time_ns
        elif e.kind in ("acquire", "giveup", "abort"):
            start = open_.pop(key_wait, None)
            if start is not None:
                out.append(LockInterval(e.thread, e.lock, "waiting", start, e.time_ns))
            if e.kind == "acquire":
                open_[key_hold] = e.time_ns
        elif e.kind == "release":
            start = open_.pop(key_hold, None)
            if start is not None:
                out.append(LockInterval(e.thread, e.lock, "holding", start, e.time_ns))
    end = events[-1].time_ns if events else 0
    for (thread, lock, state), start in open_.items():
        out.append(LockInterval(thread, lock, state, start, end))  # type: ignore[arg-type]
    out.sort(key=lambda i: (i.start_ns, i.thread))
    return tuple(out)


@dataclass(frozen=True)
class DemoResult(Result):
    """What happened in a deadlock demo: the cycles found, the work done, the lock events.

    Attributes:
        demo: which demo ran, in words (e.g. ``"dining philosophers"``).
        strategy: the fix used (``"none"`` = no fix), or the variant of the demo.
        unit: what one unit of work is (``"meal"``, ``"transfer"``, ``"turn"``).
        deadlocks: every deadlock the watchdog found, in order.
        progress: units of work each thread finished.
        attempts: how often each thread tried to collect its locks.
        events: the lock events, for :func:`~concurrency_lab.deadlocks.lock_intervals`.
        started_ns: when the demo started (``time.perf_counter_ns``).
        detection_s: for the first deadlock, the time from the cycle closing to the watchdog
            seeing it (``None`` if there was none).
        elapsed_s: how long the whole demo took.
        finished: every thread finished all its work.
        threads_left: threads still running after the demo (always 0 unless broken).

    Introduced in ``05-deadlocks.ipynb``.
    """

    demo: str
    strategy: str
    unit: str
    deadlocks: tuple[Deadlock, ...]
    progress: Mapping[str, int]
    attempts: Mapping[str, int]
    events: tuple[LockEvent, ...]
    started_ns: int
    detection_s: float | None
    elapsed_s: float
    finished: bool
    threads_left: int = 0

    @property
    def deadlock(self) -> Deadlock | None:
        """The first deadlock found, or None."""
        return self.deadlocks[0] if self.deadlocks else None

    @property
    def deadlocked(self) -> bool:
        """Whether the threads deadlocked at least once (and were rescued)."""
        return bool(self.deadlocks)

    @property
    def threads(self) -> tuple[str, ...]:
        """The worker threads, in natural order."""
        return tuple(sorted(self.progress, key=natural_key))

    @property
    def done(self) -> int:
        """Units of work finished, all threads together."""
        return sum(self.progress.values())

    @property
    def retries(self) -> int:
        """Attempts that did not end in a unit of work (a thread put its locks down)."""
        return max(0, sum(self.attempts.values()) - self.done)

    def intervals(self) -> tuple[LockInterval, ...]:
        """The waiting and holding intervals of every thread."""
        return lock_intervals(self.events)

    def waited_s(self, lock: str | None = None) -> float:
        """Seconds the threads spent waiting for locks (or for ``lock`` only), added up."""
        return sum(
            (i.end_ns - i.start_ns) / 1e9
            for i in self.intervals()
            if i.state == "waiting" and (lock is None or i.lock == lock)
        )

    def summary(self) -> str:
        done = ", ".join(f"{t} {self.progress[t]}" for t in self.threads)
        head = f"{self.demo.capitalize()} ({self.strategy}): "
        if self.deadlock is not None:
            seen = (
                f", the first seen {self.detection_s * 1e3:.0f} ms after it formed"
                if self.detection_s is not None
                else ""
            )
            head += (
                f"{len(self.deadlocks)} deadlock{'s' * (len(self.deadlocks) != 1)}{seen} "
                f"({'; '.join(str(s) for s in self.deadlock.steps)}), each broken by "
                f"aborting one thread. "
            )
        units = f"{self.done} {self.unit}{'s' * (self.done != 1)}"
        text = f"{head}{units} done in {self.elapsed_s:.2f} s ({done})"
        if self.retries:
            text += f" after {self.retries} extra attempt{'s' * (self.retries != 1)}."
        else:
            text += "."
        starved = [t for t in self.threads if self.progress[t] == 0]
        if starved and len(starved) < len(self.threads):
            text += f" {', '.join(starved)} got none."
        if self.threads_left:
            text += (
                f" {self.threads_left} thread{'s' * (self.threads_left != 1)} did not stop in time."
            )
        return text


class DemoRecorder:
    """Keeps the books of one demo while it runs; :meth:`result` turns them into a result.

    >>> rec = DemoRecorder("demo", "none", "turn", ["worker-1"])
    >>> rec.attempts["worker-1"] += 1; rec.progress["worker-1"] += 1
    >>> print(rec.result(threads=[], finished=True))
    Demo (none): 1 turn done in 0.00 s (worker-1 1).

    Args:
        demo: the demo's name in words.
        strategy: the fix or variant.
        unit: one unit of work, singular.
        names: the worker threads' names.
        registry: the traced locks' registry (a fresh one by default).
        watchdog: the watchdog whose findings go into the result, if any.

    Introduced in ``05-deadlocks.ipynb``.
    """

    def __init__(
        self,
        demo: str,
        strategy: str,
        unit: str,
        names: Iterable[str],
        *,
        registry: LockRegistry | None = None,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.demo, self.strategy, self.unit = demo, strategy, unit
        self.registry = registry if registry is not None else LockRegistry()
        self.watchdog = watchdog
        names = list(names)
        self.progress = dict.fromkeys(names, 0)
        self.attempts = dict.fromkeys(names, 0)
        self.started_ns = time.perf_counter_ns()
        self._t0 = time.monotonic()

    def detection_s(self, events: tuple[LockEvent, ...]) -> float | None:
        """Time from the first cycle's last ``wait`` to the watchdog seeing it."""
        if self.watchdog is None or not self.watchdog.found:
            return None
        seen_ns, first = self.watchdog.found[0]
        cycle = set(first.threads)
        formed = [e.time_ns for e in events if e.kind == "wait" and e.thread in cycle]
        formed = [t for t in formed if t <= seen_ns]
        return (seen_ns - max(formed)) / 1e9 if formed else None

    def result(
        self, *, threads: Iterable[threading.Thread], finished: bool | None = None
    ) -> DemoResult:
        """The result, now; ``finished`` defaults to "every thread did at least one unit"."""
        events = self.registry.events()
        found = tuple(d for _, d in self.watchdog.found) if self.watchdog is not None else ()
        return DemoResult(
            demo=self.demo,
            strategy=self.strategy,
            unit=self.unit,
            deadlocks=found,
            progress=MappingProxyType(dict(self.progress)),
            attempts=MappingProxyType(dict(self.attempts)),
            events=events,
            started_ns=self.started_ns,
            detection_s=self.detection_s(events),
            elapsed_s=time.monotonic() - self._t0,
            finished=all(self.progress.values()) if finished is None else finished,
            threads_left=sum(t.is_alive() for t in threads),
        )
