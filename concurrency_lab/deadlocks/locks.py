"""Traced locks, the wait-for graph and a watchdog: see a deadlock, find it, break it.

A deadlock is a circle of waiting: worker-1 holds lock A and waits for B, while
worker-2 holds B and waits for A. Neither can move, and nothing outside them will
ever help. Think of two people in a narrow corridor, each politely waiting for
the other to step aside first.

This module gives you the tools to see it happen safely:

* :class:`TracedLock` and :class:`TracedRLock` behave like ``threading.Lock`` and
  ``threading.RLock`` but record who holds them and who waits for them in a
  :class:`LockRegistry`, catch misuse at once (re-acquiring a lock you already
  hold, releasing a lock you do not own) and can show their state.
* :func:`find_deadlock` builds the *wait-for graph* (thread -> lock it waits for
  -> thread holding that lock) and returns the cycle, or ``None``.
  :func:`find_cycles` does the same for a hand-made :class:`WaitForGraph`.
* A :class:`Watchdog` runs :func:`find_deadlock` periodically (every 50 ms by default) and, if
  asked, breaks a cycle the way a database does: one thread (the *victim*) gets
  a :class:`DeadlockError` out of its ``acquire()``, unwinds, and retries.
* :func:`lock_intervals` turns the recorded lock events into a timeline.

The demos that deadlock on purpose, and the strategies that fix them, live in
:mod:`concurrency_lab.deadlock_demos`; their names are reachable from this module
too (``concurrency_lab.deadlocks.livelock``), as before.

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..core.errors import LabError

__all__ = [
    "Account",
    "CycleStep",
    "Deadlock",
    "DeadlockError",
    "DemoOutcome",
    "LockEvent",
    "LockInterval",
    "LockMisuseError",
    "LockRegistry",
    "LockStatistics",
    "TracedLock",
    "TracedRLock",
    "WaitForGraph",
    "Watchdog",
    "default_registry",
    "find_cycles",
    "find_deadlock",
    "lock_intervals",
]

_POLL_S = 0.005  # how often a blocked acquire checks whether it was chosen as a deadlock victim


class LockMisuseError(LabError, RuntimeError):
    """A lock was used in a way that is always a bug (caught at once, with the fix)."""


class DeadlockError(LabError):
    """Raised inside ``acquire()`` of the thread chosen to break a deadlock (the *victim*).

    Databases do the same: one transaction of the cycle is aborted so the others
    can go on. The victim's ``with`` blocks unwind, releasing what it held; it can
    then retry.
    """


def natural_key(text: str) -> list[Any]:
    """Sort key that puts ``phil-2`` before ``phil-10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


# --------------------------------------------------------------------------- wait-for graph


@dataclass(frozen=True)
class WaitForGraph:
    """Who holds which lock, and who waits for which lock, at one moment.

    Build one by hand to try :func:`find_cycles`, or get a live one from
    :meth:`LockRegistry.snapshot`.

    >>> g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T2": "A"})
    >>> g.edges()
    (('T1', 'T2'), ('T2', 'T1'))

    Args:
        holds: thread -> the locks it holds (in the order it took them).
        waits: thread -> the one lock it is waiting for.
        bounded: threads whose wait has a timeout (they will give up by themselves,
            so a cycle through them is not a deadlock).
        reentrant: locks that their holder may take again (``RLock``): waiting
            for one you hold yourself is no wait at all.

    Raises:
        ValueError: a lock held by two threads.
    """

    holds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    waits: Mapping[str, str] = field(default_factory=dict)
    bounded: frozenset[str] = frozenset()
    reentrant: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        holds = {str(t): tuple(locks) for t, locks in self.holds.items()}
        owners: dict[str, str] = {}
        for thread, locks in holds.items():
            for lock in locks:
                other = owners.setdefault(lock, thread)
                if other != thread:
                    raise ValueError(
                        f"lock {lock!r} cannot be held by both {other!r} and {thread!r}: a lock "
                        f"has at most one owner. Fix the 'holds' mapping."
                    )
        object.__setattr__(self, "holds", MappingProxyType(holds))
        object.__setattr__(self, "waits", MappingProxyType(dict(self.waits)))
        object.__setattr__(self, "bounded", frozenset(self.bounded))
        object.__setattr__(self, "reentrant", frozenset(self.reentrant))

    def owner(self, lock: str) -> str | None:
        """The thread holding ``lock``, or ``None``."""
        for thread, locks in self.holds.items():
            if lock in locks:
                return thread
        return None

    @property
    def threads(self) -> tuple[str, ...]:
        """Every thread in the graph, in natural order."""
        return tuple(sorted(set(self.holds) | set(self.waits), key=natural_key))

    @property
    def locks(self) -> tuple[str, ...]:
        """Every lock in the graph, in natural order."""
        names = {lock for locks in self.holds.values() for lock in locks} | set(self.waits.values())
        return tuple(sorted(names, key=natural_key))

    def edges(self) -> tuple[tuple[str, str], ...]:
        """The wait-for edges ``(waiter, holder)``: ``waiter`` waits until ``holder`` releases."""
        out = []
        for thread in self.threads:
            lock = self.waits.get(thread)
            if lock is None:
                continue
            holder = self.owner(lock)
            if holder is None or (holder == thread and lock in self.reentrant):
                continue
            out.append((thread, holder))
        return tuple(out)


@dataclass(frozen=True)
class CycleStep:
    """One thread of a deadlock: what it holds, what it waits for, and who holds that."""

    thread: str
    holds: tuple[str, ...]
    waits_for: str
    held_by: str

    def __str__(self) -> str:
        held = ", ".join(self.holds) or "nothing"
        return f"{self.thread} holds {held} and waits for {self.waits_for} (held by {self.held_by})"


@dataclass(frozen=True)
class Deadlock:
    """A cycle in the wait-for graph: every thread in it waits for the next one, forever.

    ``steps`` start at the thread whose name sorts first, so the same deadlock
    always reads the same way.

    >>> g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T2": "A"})
    >>> print(find_deadlock(g))
    deadlock: T1 holds A and waits for B (held by T2); T2 holds B and waits for A (held by T1)
    """

    steps: tuple[CycleStep, ...]
    graph: WaitForGraph

    @property
    def threads(self) -> tuple[str, ...]:
        """The threads of the cycle, in cycle order."""
        return tuple(s.thread for s in self.steps)

    @property
    def locks(self) -> tuple[str, ...]:
        """The locks waited for along the cycle, in cycle order."""
        return tuple(s.waits_for for s in self.steps)

    def __str__(self) -> str:
        return "deadlock: " + "; ".join(str(s) for s in self.steps)


def find_cycles(graph: WaitForGraph, *, include_bounded: bool = False) -> tuple[Deadlock, ...]:
    """Every cycle of the wait-for graph, each starting at its first thread by name.

    A pure function: give it any :class:`WaitForGraph`. Each thread waits for at
    most one lock, so each thread has at most one outgoing edge and the cycles
    are found by following edges until a thread repeats.

    >>> g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",), "T3": ("C",)},
    ...                  waits={"T1": "B", "T2": "A", "T3": "A"})
    >>> [d.threads for d in find_cycles(g)]
    [('T1', 'T2')]

    Args:
        graph: the graph to search.
        include_bounded: also report cycles through a wait with a timeout (these
            break by themselves when the timeout runs out).

    Returns:
        The cycles, sorted by their first thread (empty if there is none).
    """
    nxt = dict(graph.edges())
    seen: set[str] = set()
    cycles: list[Deadlock] = []
    for start in graph.threads:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in seen and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = nxt.get(node)
        if node is not None and node in on_path:
            ring = path[path.index(node) :]
            first = min(range(len(ring)), key=lambda i: natural_key(ring[i]))
            ring = ring[first:] + ring[:first]
            if include_bounded or not (set(ring) & graph.bounded):
                steps = tuple(
                    CycleStep(t, graph.holds.get(t, ()), graph.waits[t], nxt[t]) for t in ring
                )
                cycles.append(Deadlock(steps, graph))
        seen.update(path)
    cycles.sort(key=lambda d: natural_key(d.threads[0]))
    return tuple(cycles)


# --------------------------------------------------------------------------- registry and locks


@dataclass(frozen=True)
class LockEvent:
    """One thing that happened to a lock: ``kind`` is wait, acquire, release, giveup or abort."""

    time_ns: int
    thread: str
    lock: str
    kind: str


@dataclass(frozen=True)
class LockStatistics:
    """A snapshot of one lock's state, from :meth:`TracedLock.statistics`."""

    name: str
    locked: bool
    owner: str | None
    count: int
    waiters: tuple[str, ...]
    acquisitions: int
    contended: int
    timeouts: int


class LockRegistry:
    """Where traced locks report who holds them and who waits for them.

    Every :class:`TracedLock` reports to one registry: the shared
    :func:`default_registry` unless you pass your own (the demos do, so they never
    see each other's locks). A registry also keeps the last ``max_events`` lock
    events for timelines, and can abort a waiting thread to break a deadlock.
    """

    def __init__(self, *, max_events: int = 100_000) -> None:
        self._mutex = threading.Lock()
        self._locks: weakref.WeakValueDictionary[str, TracedLock] = weakref.WeakValueDictionary()
        self._held: dict[int, list[TracedLock]] = {}
        self._waiting: dict[int, tuple[TracedLock, bool]] = {}
        self._names: dict[int, str] = {}
        self._aborted: set[int] = set()
        self._events: deque[LockEvent] = deque(maxlen=max_events)
        self._after_acquire: Callable[[TracedLock], None] | None = None

    def __repr__(self) -> str:
        g = self.snapshot()
        return f"<LockRegistry: {len(self._locks)} locks, {len(g.waits)} threads waiting>"

    # -- called by the locks, under self._mutex
    def _register(self, lock: TracedLock, name: str | None) -> str:
        with self._mutex:
            base = name or f"lock-{len(self._locks) + 1}"
            label = base
            for k in itertools.count(2):
                if label not in self._locks:
                    break
                label = f"{base}#{k}"
            self._locks[label] = lock
            return label

    def _log(self, ident: int, lock: TracedLock, kind: str) -> None:
        # Refreshed on every event: thread ids are reused once a thread has ended.
        name = self._names[ident] = threading.current_thread().name
        self._events.append(LockEvent(time.perf_counter_ns(), name, lock.name, kind))

    # -- public
    def snapshot(self) -> WaitForGraph:
        """The wait-for graph right now (taken atomically)."""
        with self._mutex:
            holds = {
                self._names[i]: tuple(lk.name for lk in locks) for i, locks in self._held.items()
            }
            waits = {self._names[i]: lk.name for i, (lk, _) in self._waiting.items()}
            bounded = frozenset(self._names[i] for i, (_, b) in self._waiting.items() if b)
            reentrant = frozenset(n for n, lk in self._locks.items() if lk._reentrant)
        return WaitForGraph(holds=holds, waits=waits, bounded=bounded, reentrant=reentrant)

    def events(self) -> tuple[LockEvent, ...]:
        """The lock events recorded so far, oldest first."""
        with self._mutex:
            return tuple(self._events)

    def clear_events(self) -> None:
        """Forget the recorded events."""
        with self._mutex:
            self._events.clear()

    def abort(self, thread: str) -> bool:
        """Make the waiting thread named ``thread`` give up with :class:`DeadlockError`.

        Returns whether such a thread was waiting.
        """
        with self._mutex:
            for ident, (_lock, _) in self._waiting.items():
                if self._names.get(ident) == thread:
                    self._aborted.add(ident)
                    return True
        return False

    def abort_all(self) -> int:
        """Abort every thread waiting right now; returns how many."""
        with self._mutex:
            self._aborted.update(self._waiting)
            return len(self._waiting)

    def pending_abort(self, thread: str) -> bool:
        """Whether ``thread`` was aborted and has not yet noticed."""
        with self._mutex:
            return any(self._names.get(i) == thread for i in self._aborted)


_DEFAULT_REGISTRY = LockRegistry()


def default_registry() -> LockRegistry:
    """The registry that locks report to when you pass no ``registry=``."""
    return _DEFAULT_REGISTRY


def _thread_label(ident: int | None, registry: LockRegistry) -> str | None:
    if ident is None:
        return None
    if ident == threading.get_ident():
        return threading.current_thread().name
    return registry._names.get(ident, f"thread {ident}")


class TracedLock:
    """A ``threading.Lock`` that reports who holds it and who waits for it.

    Use it exactly like ``threading.Lock`` (``acquire(blocking, timeout)``,
    ``release()``, ``locked()``, ``with lock:``). In addition it:

    * raises :class:`LockMisuseError` at once if the thread holding it tries to
      take it again (a plain ``Lock`` would wait for itself forever) or if a
      thread that does not hold it releases it;
    * reports to a :class:`LockRegistry`, so :func:`find_deadlock` can draw the
      wait-for graph;
    * raises :class:`DeadlockError` from a blocked ``acquire()`` when a
      :class:`Watchdog` picks this thread to break a deadlock.

    >>> a = TracedLock("A", registry=LockRegistry())
    >>> with a:
    ...     print(a)
    <TracedLock 'A' held by MainThread>
    >>> a
    <TracedLock 'A' unlocked>

    Args:
        name: how the lock appears in graphs and messages (made unique in its registry).
        registry: where to report; defaults to :func:`default_registry`.
        rank: its level for the ``"hierarchy"`` strategy (lower ranks are taken first).

    Introduced in ``05-deadlocks.ipynb``.
    """

    _reentrant = False
    _kind = "TracedLock"

    def __init__(
        self, name: str | None = None, *, registry: LockRegistry | None = None, rank: int = 0
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a string or None (got {type(name).__name__}).")
        self._registry = registry if registry is not None else _DEFAULT_REGISTRY
        self._inner = threading.Lock()
        self._owner: int | None = None
        self._count = 0
        self._acquisitions = 0
        self._contended = 0
        self._timeouts = 0
        self.rank = rank
        self.name = self._registry._register(self, name)

    # -- the threading.Lock interface
    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; like ``threading.Lock.acquire``.

        Returns:
            True if you now hold the lock, False if ``blocking=False`` and it was
            taken, or the ``timeout`` ran out.

        Raises:
            LockMisuseError: this thread already holds this (non-re-entrant) lock.
            DeadlockError: a watchdog chose this thread to break a deadlock.
            ValueError: a timeout with ``blocking=False``, or a negative timeout.
        """
        if not blocking and timeout != -1:
            raise ValueError(
                "can't specify a timeout for a non-blocking call (got blocking=False)."
            )
        if timeout < 0 and timeout != -1:
            raise ValueError(f"'timeout' must be >= 0, or -1 for no limit (got {timeout}).")
        reg = self._registry
        me = threading.get_ident()
        with reg._mutex:
            if self._owner == me:
                if self._reentrant:
                    self._count += 1
                    self._acquisitions += 1
                    return True
                raise LockMisuseError(
                    f"{self._kind} {self.name!r} is already held by this thread "
                    f"({_thread_label(me, reg)}): acquiring it again would wait for yourself "
                    f"forever. Release it first, or use cl.deadlocks.TracedRLock if this thread "
                    f"must take it again while holding it."
                )
            got = self._inner.acquire(False)
            if got:
                self._took(me)
            elif blocking:
                self._contended += 1
                reg._waiting[me] = (self, timeout >= 0)
                reg._log(me, self, "wait")
        if got or not blocking:
            if got and reg._after_acquire is not None:
                reg._after_acquire(self)
            return got
        deadline = None if timeout < 0 else time.monotonic() + timeout
        got = False
        try:
            while True:
                step = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
                if step > 0 and self._inner.acquire(timeout=step):
                    got = True
                    return True
                if me in reg._aborted:
                    raise DeadlockError(
                        f"{_thread_label(me, reg)} was chosen to break a deadlock while waiting "
                        f"for {self.name!r}: its acquire() gave up so the other threads can go "
                        f"on. Release what you hold, then retry (or take locks in one global "
                        f"order so this cannot happen)."
                    )
                if deadline is not None and time.monotonic() >= deadline:
                    return False
        finally:
            with reg._mutex:
                reg._waiting.pop(me, None)
                aborted = me in reg._aborted
                reg._aborted.discard(me)
                if got:
                    self._took(me)
                else:
                    self._timeouts += not aborted
                    reg._log(me, self, "abort" if aborted else "giveup")
            hook = reg._after_acquire
            if got and hook is not None:
                hook(self)

    def _took(self, me: int) -> None:  # under the registry mutex
        self._owner = me
        self._count = 1
        self._acquisitions += 1
        self._registry._held.setdefault(me, []).append(self)
        self._registry._log(me, self, "acquire")

    def release(self) -> None:
        """Give the lock back.

        Raises:
            LockMisuseError: the lock is not held, or held by another thread.
        """
        reg = self._registry
        me = threading.get_ident()
        with reg._mutex:
            if self._owner is None:
                raise LockMisuseError(
                    f"release() of {self._kind} {self.name!r}, which is not held: every "
                    f"release() must match an earlier acquire() by the same thread. Prefer "
                    f"'with lock:' so the pairing is automatic."
                )
            if self._owner != me:
                raise LockMisuseError(
                    f"{self._kind} {self.name!r} is held by {_thread_label(self._owner, reg)}, "
                    f"not by this thread ({_thread_label(me, reg)}): only the thread that "
                    f"acquired a lock may release it. Release it in the thread that took it."
                )
            self._count -= 1
            if self._count:
                return
            self._owner = None
            held = reg._held.get(me, [])
            if self in held:
                held.remove(self)
            if not held:
                reg._held.pop(me, None)
            reg._log(me, self, "release")
            self._inner.release()

    def locked(self) -> bool:
        """Whether some thread holds the lock."""
        return self._owner is not None

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- showing its state
    def statistics(self) -> LockStatistics:
        """A snapshot: owner, re-entry count, waiters, and counts of acquisitions,
        contended acquisitions and timeouts."""
        reg = self._registry
        with reg._mutex:
            waiters = tuple(
                sorted(
                    (reg._names[i] for i, (lk, _) in reg._waiting.items() if lk is self),
                    key=natural_key,
                )
            )
            return LockStatistics(
                name=self.name,
                locked=self._owner is not None,
                owner=_thread_label(self._owner, reg),
                count=self._count,
                waiters=waiters,
                acquisitions=self._acquisitions,
                contended=self._contended,
                timeouts=self._timeouts,
            )

    def __repr__(self) -> str:
        s = self.statistics()
        if not s.locked:
            text = "unlocked"
        else:
            text = f"held by {s.owner}" + (f" ({s.count} times)" if s.count > 1 else "")
        if s.waiters:
            text += f", {len(s.waiters)} waiting: {', '.join(s.waiters)}"
        return f"<{self._kind} {self.name!r} {text}>"


class TracedRLock(TracedLock):
    """A re-entrant :class:`TracedLock` (like ``threading.RLock``): its holder may take it again.

    Each ``acquire()`` by the holder must be matched by a ``release()``.

    >>> r = TracedRLock("R", registry=LockRegistry())
    >>> with r, r:
    ...     print(r)
    <TracedRLock 'R' held by MainThread (2 times)>
    """

    _reentrant = True
    _kind = "TracedRLock"


# --------------------------------------------------------------------------- watchdog


class Watchdog:
    """A background thread that looks for a deadlock every ``interval_s`` seconds.

    Use it as a context manager. Each new cycle is kept in :attr:`found` with the
    time it was seen; with ``break_cycles=True`` the watchdog also aborts the
    victim (the last thread of the cycle), whose ``acquire()`` then raises
    :class:`DeadlockError`.

    Args:
        registry: the locks to watch (default: :func:`default_registry`).
        interval_s: time between two checks (small = faster detection).
        break_cycles: abort a victim of each deadlock found.
        on_deadlock: also called with each :class:`Deadlock` found.
    """

    def __init__(
        self,
        registry: LockRegistry | None = None,
        *,
        interval_s: float = 0.05,
        break_cycles: bool = False,
        on_deadlock: Callable[[Deadlock], None] | None = None,
    ) -> None:
        if not isinstance(interval_s, (int, float)) or not 0 < interval_s <= 10:
            raise ValueError(f"'interval_s' must be > 0 and <= 10 seconds (got {interval_s!r}).")
        self.registry = registry if registry is not None else _DEFAULT_REGISTRY
        self.interval_s = float(interval_s)
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


def find_deadlock(
    graph: WaitForGraph | LockRegistry | None = None, *, include_bounded: bool = False
) -> Deadlock | None:
    """The deadlock among traced locks right now (the first cycle by thread name), or None.

    >>> find_deadlock(WaitForGraph(holds={"T1": ("A",)}, waits={"T2": "A"})) is None
    True

    Args:
        graph: a :class:`WaitForGraph`, a :class:`LockRegistry` to snapshot, or
            ``None`` for :func:`default_registry`.
        include_bounded: also count cycles through waits that have a timeout.

    Introduced in ``05-deadlocks.ipynb``.
    """
    if graph is None:
        graph = _DEFAULT_REGISTRY
    if isinstance(graph, LockRegistry):
        graph = graph.snapshot()
    if not isinstance(graph, WaitForGraph):
        raise TypeError(
            f"'graph' must be a WaitForGraph, a LockRegistry or None (got {type(graph).__name__})."
        )
    cycles = find_cycles(graph, include_bounded=include_bounded)
    return cycles[0] if cycles else None


class Account:
    """A bank account with a balance and its own :class:`TracedLock` (for the transfer exercise).

    >>> a = Account("alice", 100, registry=LockRegistry())
    >>> a
    Account('alice', balance=100)
    >>> a.lock
    <TracedLock 'alice' unlocked>
    """

    def __init__(
        self, name: str, balance: int = 0, *, registry: LockRegistry | None = None
    ) -> None:
        self.name = name
        self.balance = balance
        self.lock = TracedLock(name, registry=registry)

    def __repr__(self) -> str:
        return f"Account({self.name!r}, balance={self.balance})"


def join_all(threads: list[threading.Thread], registry: LockRegistry, timeout_s: float) -> None:
    """Join the threads; if some still wait after ``timeout_s``, abort their waits till they end."""
    deadline = time.monotonic() + timeout_s
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    end = time.monotonic() + 5
    while any(t.is_alive() for t in threads) and time.monotonic() < end:
        registry.abort_all()
        for t in threads:
            t.join(timeout=0.01)


# --------------------------------------------------------------------------- timelines


@dataclass(frozen=True)
class LockInterval:
    """A stretch of time one thread spent ``"waiting"`` for, or ``"holding"``, one lock."""

    thread: str
    lock: str
    state: str
    start_ns: int
    end_ns: int


def lock_intervals(events: Iterable[LockEvent]) -> tuple[LockInterval, ...]:
    """Turn lock events into waiting and holding intervals (for a timeline).

    Intervals still open at the last event end there.

    >>> ev = [LockEvent(0, "T1", "A", "wait"), LockEvent(5, "T1", "A", "acquire"),
    ...       LockEvent(9, "T1", "A", "release")]
    >>> [(i.state, i.start_ns, i.end_ns) for i in lock_intervals(ev)]
    [('waiting', 0, 5), ('holding', 5, 9)]
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
        out.append(LockInterval(thread, lock, state, start, end))
    out.sort(key=lambda i: (i.start_ns, i.thread))
    return tuple(out)


@dataclass(frozen=True)
class DemoOutcome:
    """What happened in a deadlock demo: the cycles found, the work done, the lock events.

    Attributes:
        demo: which demo ran.
        strategy: the fix used (``"none"`` = no fix), see :data:`STRATEGIES`.
        deadlocks: every deadlock the watchdog found, in order.
        progress: units of work (meals, transfers) each thread finished.
        attempts: how often each thread tried to collect its locks.
        events: the lock events, for :func:`lock_intervals` and the timeline plot.
        started_ns: when the demo started (``time.perf_counter_ns``).
        detection_s: for the first deadlock, the time from the cycle closing to
            the watchdog seeing it (None if there was none).
        elapsed_s: how long the whole demo took.
        finished: every thread finished all its work.
        threads_left: threads still running after the demo (always 0 unless broken).
    """

    demo: str
    strategy: str
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

    def intervals(self) -> tuple[LockInterval, ...]:
        """The waiting and holding intervals of every thread."""
        return lock_intervals(self.events)

    def __str__(self) -> str:
        done = ", ".join(f"{t}: {self.progress[t]}" for t in self.threads)
        head = f"{self.demo} with strategy {self.strategy!r}: "
        if self.deadlock is not None:
            head += (
                f"{len(self.deadlocks)} deadlock(s), first seen "
                f"{(self.detection_s or 0) * 1e3:.0f} ms after it formed ({self.deadlock}); "
                f"broken by aborting a victim. "
            )
        else:
            head += "no deadlock. "
        return head + f"Work done: {done}. Finished: {self.finished}."
