"""Finding a deadlock among traced locks, and a watchdog that breaks it the way a database does.

CPython itself never does this: a plain ``threading.Lock`` has no registry to look at, so
nothing can see the cycle, and a ``lock.acquire()`` without a timeout waits forever. With
traced locks, :func:`find_deadlock` reads the wait-for graph and returns its cycle, and a
:class:`Watchdog` looks every few milliseconds and can abort one thread of the cycle.

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..core.validate import check_number
from .graph import Deadlock, WaitForGraph, find_cycles
from .locks import LockRegistry, default_registry

__all__ = ["Watchdog", "find_deadlock", "wait_for_graph"]


def wait_for_graph(registry: LockRegistry | None = None) -> WaitForGraph:
    """Who holds which traced lock, and who waits for which, right now.

    Args:
        registry: the locks to look at (default: every lock made without ``registry=``).

    Introduced in ``05-deadlocks.ipynb``.
    """
    return (registry if registry is not None else default_registry()).snapshot()


def find_deadlock(
    graph: WaitForGraph | LockRegistry | None = None, *, include_bounded: bool = False
) -> Deadlock | None:
    """The deadlock among traced locks right now (the first cycle by thread name), or None.

    >>> find_deadlock(WaitForGraph(holds={"T1": ("A",)}, waits={"T2": "A"})) is None
    True

    Args:
        graph: a :class:`~concurrency_lab.deadlocks.WaitForGraph`, a
            :class:`~concurrency_lab.deadlocks.LockRegistry` to snapshot, or ``None`` for
            :func:`~concurrency_lab.deadlocks.default_registry`.
        include_bounded: also count cycles through waits that have a timeout (they end by
            themselves when the timeout runs out).

    Raises:
        TypeError: ``graph`` is something else.

    Introduced in ``05-deadlocks.ipynb``.
    """
    if graph is None or isinstance(graph, LockRegistry):
        graph = wait_for_graph(graph)
    if not isinstance(graph, WaitForGraph):
        raise TypeError(
            f"'graph' must be a WaitForGraph, a LockRegistry or None (got {type(graph).__name__})."
        )
    cycles = find_cycles(graph, include_bounded=include_bounded)
    return cycles[0] if cycles else None


class Watchdog:
    """A background thread that looks for a deadlock every ``interval_s`` seconds.

    Use it as a context manager. Each new cycle is kept in :attr:`found` with the time it was
    seen (``time.perf_counter_ns``); with ``break_cycles=True`` the watchdog also aborts the
    *victim* (the last thread of the cycle), whose ``acquire()`` then raises
    :class:`~concurrency_lab.deadlocks.DeadlockError`. Taking the lock away from a thread
    like that breaks the condition *no preemption*.

    Args:
        registry: the locks to watch (default: the default registry).
        interval_s: time between two checks (small = faster detection), 0 < s <= 10.
        break_cycles: abort a victim of each deadlock found.
        on_deadlock: also called with each :class:`~concurrency_lab.deadlocks.Deadlock` found.

    Raises:
        ValueError: ``interval_s`` out of range.

    Introduced in ``05-deadlocks.ipynb``.
    """

    def __init__(
        self,
        registry: LockRegistry | None = None,
        *,
        interval_s: float = 0.05,
        break_cycles: bool = False,
        on_deadlock: Callable[[Deadlock], None] | None = None,
    ) -> None:
        self.interval_s = check_number(
            interval_s, "interval_s", low=0, high=10, unit=" seconds", low_open=True
        )
        self.registry = registry if registry is not None else default_registry()
        self.break_cycles = break_cycles
        self.on_deadlock = on_deadlock
        self.found: list[tuple[int, Deadlock]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> Deadlock | None:
        """Look once; record, report and (maybe) break a new deadlock. Returns it or None."""
        deadlock = find_deadlock(self.registry)
        if deadlock is None:
            return None
        victim = deadlock.threads[-1]
        if self.registry.pending_abort(victim):
            return None  # already being broken: not a new deadlock
        self.found.append((time.perf_counter_ns(), deadlock))
        if self.break_cycles:
            self.registry.abort(victim)
        if self.on_deadlock is not None:
            self.on_deadlock(deadlock)
        return deadlock

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()

    def start(self) -> Watchdog:
        """Start watching (in a daemon thread)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching and wait for the watchdog thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Watchdog:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
