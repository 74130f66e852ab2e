"""Did the workers of a ``%%timeline`` cell run at the same time? Asked of the timeline itself.

Elapsed time cannot answer it: two processes that overlap completely still take longer than
their work when each first spends 0.1–0.5 s starting Python (``spawn`` on macOS and Windows).
The timeline can: a thread or process is drawn from the moment ``start()`` was called until it
ended, and two lanes that share a stretch of time ran side by side.

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..core.results import Result
from ..core.tracing import Span, together_s
from ..core.validate import check_kind
from ..core.watch import Watch, WatchResult

__all__ = ["TOGETHER_MIN_S", "Lifetime", "OverlapResult", "overlap"]

#: Two lanes must share one stretch of at least this much time to count as "at the same time":
#: the watcher sees a process end a few milliseconds late (more on a busy machine), so a process
#: started right after another was joined can seem to overlap it briefly.
TOGETHER_MIN_S = 0.025


@dataclass(frozen=True)
class Lifetime:
    """One lane of the timeline: a thread or process from ``start()`` until it ended.

    Attributes:
        name: the thread's or process's name, e.g. ``"Thread-1 (whoami)"``.
        kind: ``"thread"`` or ``"process"``.
        start_s, end_s: seconds since the watch began (``end_s`` is the end of the watch
            for a worker still alive then).
    """

    name: str
    kind: Literal["thread", "process"]
    start_s: float
    end_s: float


@dataclass(frozen=True, repr=False)
class OverlapResult(Result):
    """How long the workers a cell started were alive at the same time.

    Attributes:
        lifetimes: every thread and process the watched code started, in order.
        together_s: seconds during which two or more of them were alive at once, in all.
        longest_s: the longest single stretch during which two or more were alive.
        wall_s: how long the watched code ran.
    """

    lifetimes: tuple[Lifetime, ...]
    together_s: float
    longest_s: float
    wall_s: float

    @property
    def overlapped(self) -> bool:
        """Two or more workers were alive together for one stretch of ``TOGETHER_MIN_S``."""
        return len(self.lifetimes) >= 2 and self.longest_s >= TOGETHER_MIN_S

    def summary(self) -> str:
        """One or two sentences: who ran, and whether they ran at the same time."""
        who = _who(self.lifetimes)
        if not self.lifetimes:
            return f"The watched code ran for {self.wall_s:.2f} s and started no thread or process."
        if len(self.lifetimes) == 1:
            return f"The watched code started {who}, so nothing could run beside it."
        if self.overlapped:
            return (
                f"The {who} were alive at the same time for {self.together_s:.2f} s of the "
                f"{self.wall_s:.2f} s watched: they ran side by side."
            )
        return (
            f"The {who} were never alive at the same time: each ended before the next "
            "started. Start them all first, then join them all."
        )


def _who(lifetimes: tuple[Lifetime, ...]) -> str:
    threads = sum(1 for w in lifetimes if w.kind == "thread")
    procs = len(lifetimes) - threads
    parts = []
    if threads:
        parts.append(f"{threads} thread{'s' if threads != 1 else ''}")
    if procs:
        parts.append(f"{procs} process{'es' if procs != 1 else ''}")
    return " and ".join(parts)


def overlap(watched: Any, *, kind: Literal["thread", "process"] | None = None) -> OverlapResult:
    """Were the threads and processes a watched cell started alive at the same time?

    Asks the timeline (when each was started and when it ended), not the elapsed time.

    >>> import threading
    >>> from concurrency_lab import watch, sleep_then_return
    >>> with watch() as w:
    ...     workers = [threading.Thread(target=sleep_then_return, args=(1, 0.05))
    ...                for _ in range(2)]
    ...     for t in workers: t.start()
    ...     for t in workers: t.join()
    >>> overlap(w).overlapped
    True

    Args:
        watched: the watch of a ``%%timeline`` cell (``_timeline``), or of a
            ``with cl.watch() as w:`` block (``w``), after it ended.
        kind: only look at threads (``"thread"``) or at processes (``"process"``).

    Returns:
        An :class:`OverlapResult`; it prints as a sentence.

    Raises:
        TypeError: for anything else than a finished watch.
        ValueError: ``kind`` is not ``"thread"``, ``"process"`` or ``None``.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    result = watched.result if isinstance(watched, Watch) else watched
    if not isinstance(result, WatchResult):
        raise TypeError(
            "overlap() needs what the lab watched: _timeline after a %%timeline cell, or w "
            f"after a 'with cl.watch() as w:' block (got {type(watched).__name__})."
        )
    if kind is not None:
        check_kind(kind)
    lifetimes = tuple(
        Lifetime(w.name, w.kind, w.start_s, result.wall_s if w.end_s is None else w.end_s)
        for w in result.workers
        if w.role == "started" and kind in (None, w.kind)
    )
    spans = [
        Span(f"{i}", 0, 0, life.name, round(life.start_s * 1e9), round(life.end_s * 1e9))
        for i, life in enumerate(lifetimes)
    ]
    return OverlapResult(lifetimes, together_s(spans), _longest(lifetimes), result.wall_s)


def _longest(lifetimes: tuple[Lifetime, ...]) -> float:
    """The longest stretch during which two or more lifetimes run at once."""
    events = sorted(
        [(life.start_s, 1) for life in lifetimes] + [(life.end_s, -1) for life in lifetimes],
        key=lambda e: (e[0], e[1]),  # an end before a start at the same instant
    )
    alive, since, longest = 0, 0.0, 0.0
    for t, step in events:
        if alive >= 2 and alive + step < 2:
            longest = max(longest, t - since)
        elif alive < 2 <= alive + step:
            since = t
        alive += step
    return longest
