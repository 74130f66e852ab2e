"""Deadlocks you can watch form, see drawn, and recover from without restarting the kernel.

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
* Demos that deadlock on purpose and always return an outcome:
  :func:`lock_order_inversion`, :func:`dining_philosophers`,
  :func:`dining_philosophers_processes`, :func:`self_deadlock`,
  :func:`queue_join_trap`, :func:`livelock` and :func:`starvation`.
* The classic fixes, as strategies you pass to the same demo: ``"global_order"``,
  ``"hierarchy"``, ``"timeout_backoff"``, ``"try_acquire"`` and ``"arbitrator"``
  (see :data:`STRATEGIES`).

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import itertools
import queue as queue_module
import random
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .errors import LabError

__all__ = [
    "DEADLOCK_STRATEGIES",
    "STRATEGIES",
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
    "ProcessPhilosophersOutcome",
    "QueueJoinOutcome",
    "SelfDeadlockOutcome",
    "TracedLock",
    "TracedRLock",
    "WaitForGraph",
    "Watchdog",
    "default_registry",
    "dining_philosophers",
    "dining_philosophers_processes",
    "find_cycles",
    "find_deadlock",
    "livelock",
    "lock_intervals",
    "lock_order_inversion",
    "queue_join_trap",
    "self_deadlock",
    "starvation",
]

#: The fixes you can pass as ``strategy=`` to :func:`lock_order_inversion` and
#: :func:`dining_philosophers`, with what each one does.
STRATEGIES: Mapping[str, str] = MappingProxyType(
    {
        "none": "take the first lock, then the second, and wait as long as it takes (deadlocks)",
        "global_order": "every thread takes its locks sorted by name: no circle of waiting "
        "can form",
        "hierarchy": "every lock has a rank; take lower ranks first (Dijkstra's fix for the "
        "philosophers: the last one picks up the other fork first)",
        "timeout_backoff": "wait a short while for the second lock; if it does not come, put the "
        "first one down, wait a random moment, try again",
        "try_acquire": "take the second lock only if it is free right now; otherwise put the "
        "first one down, wait a random moment, try again",
        "arbitrator": "ask a single waiter (one extra lock) before picking up any lock: only one "
        "thread at a time collects its locks",
    }
)

#: The same table under a name that cannot clash in ``concurrency_lab``'s namespace.
DEADLOCK_STRATEGIES = STRATEGIES

_POLL_S = 0.005  # how often a blocked acquire checks whether it was chosen as a deadlock victim


class LockMisuseError(LabError, RuntimeError):
    """A lock was used in a way that is always a bug (caught at once, with the fix)."""


class DeadlockError(LabError):
    """Raised inside ``acquire()`` of the thread chosen to break a deadlock (the *victim*).

    Databases do the same: one transaction of the cycle is aborted so the others
    can go on. The victim's ``with`` blocks unwind, releasing what it held; it can
    then retry.
    """


def _natural_key(text: str) -> list[Any]:
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
        return tuple(sorted(set(self.holds) | set(self.waits), key=_natural_key))

    @property
    def locks(self) -> tuple[str, ...]:
        """Every lock in the graph, in natural order."""
        names = {lock for locks in self.holds.values() for lock in locks} | set(self.waits.values())
        return tuple(sorted(names, key=_natural_key))

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
            first = min(range(len(ring)), key=lambda i: _natural_key(ring[i]))
            ring = ring[first:] + ring[:first]
            if include_bounded or not (set(ring) & graph.bounded):
                steps = tuple(
                    CycleStep(t, graph.holds.get(t, ()), graph.waits[t], nxt[t]) for t in ring
                )
                cycles.append(Deadlock(steps, graph))
        seen.update(path)
    cycles.sort(key=lambda d: _natural_key(d.threads[0]))
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
                    f"forever. Release it first, or use cl.TracedRLock if this thread must "
                    f"take it again while holding it."
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
                    key=_natural_key,
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


def _join_all(threads: list[threading.Thread], registry: LockRegistry, timeout_s: float) -> None:
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


# --------------------------------------------------------------------------- thread demos


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
        return tuple(sorted(self.progress, key=_natural_key))

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


class _Rendezvous:
    """Wait until ``n`` threads have arrived, or until a timeout (never hangs)."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._arrived = 0
        self._cond = threading.Condition()

    def arrive_and_wait(self, timeout: float) -> bool:
        with self._cond:
            self._arrived += 1
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._arrived >= self._n, timeout)


def _check_strategy(strategy: object) -> str:
    if strategy not in STRATEGIES:
        raise ValueError(
            f"'strategy' must be one of {', '.join(map(repr, STRATEGIES))} (got {strategy!r})."
        )
    return str(strategy)


def _check_positive(name: str, value: object, *, allow_zero: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name!r} must be a number of seconds (got {value!r}).")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name!r} must be {bound} (got {value}).")
    return float(value)


def _check_count(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name!r} must be a whole number (got {value!r}).")
    if not low <= value <= high:
        raise ValueError(f"{name!r} must be between {low} and {high} (got {value}).")
    return value


def _run_lock_pairs(
    demo: str,
    needs: Mapping[str, tuple[str, str]],
    *,
    strategy: str,
    units: int | None,
    duration_s: float,
    think_s: float,
    work_s: float,
    patience_s: float,
    detect_interval_s: float,
    force_deadlock: bool,
    seed: int,
) -> DemoOutcome:
    """The engine behind the two-lock demos: each thread repeatedly needs two locks."""
    registry = LockRegistry()
    lock_names = sorted({n for pair in needs.values() for n in pair}, key=_natural_key)
    locks = {n: TracedLock(n, registry=registry, rank=i) for i, n in enumerate(lock_names)}
    waiter = TracedLock("waiter", registry=registry, rank=-1)
    threads_names = sorted(needs, key=_natural_key)
    progress = dict.fromkeys(threads_names, 0)
    attempts = dict.fromkeys(threads_names, 0)
    stop = threading.Event()
    start_gate = threading.Barrier(len(needs) + 1)
    # The adversarial schedule: every thread holds its first lock before anyone asks for a second.
    rendezvous = _Rendezvous(len(needs))
    use_rendezvous = force_deadlock and strategy in ("none", "timeout_backoff", "try_acquire")
    errors: list[BaseException] = []

    def order(name: str) -> tuple[TracedLock, TracedLock]:
        first, second = (locks[n] for n in needs[name])
        if strategy == "global_order":
            return tuple(sorted((first, second), key=lambda lk: _natural_key(lk.name)))  # type: ignore[return-value]
        if strategy == "hierarchy":
            return tuple(sorted((first, second), key=lambda lk: lk.rank))  # type: ignore[return-value]
        return first, second

    def pick_up(name: str, rng: random.Random, first_round: bool) -> bool:
        first, second = order(name)
        if strategy == "arbitrator":
            with waiter:
                first.acquire()
                try:
                    second.acquire()
                except BaseException:
                    first.release()
                    raise
            return True
        first.acquire()
        try:
            if use_rendezvous and first_round:
                rendezvous.arrive_and_wait(timeout=max(2.0, 20 * detect_interval_s))
            if strategy == "timeout_backoff":
                got = second.acquire(timeout=patience_s)
            elif strategy == "try_acquire":
                got = second.acquire(blocking=False)
            else:
                got = second.acquire()
        except BaseException:
            first.release()
            raise
        if not got:
            first.release()
            stop.wait(rng.uniform(0, 2 * max(work_s, patience_s, 0.001)))
        return got

    def worker(name: str, index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        try:
            start_gate.wait(timeout=10)
            first_round = True
            while not stop.is_set() and (units is None or progress[name] < units):
                if think_s and stop.wait(think_s):
                    break
                attempts[name] += 1
                try:
                    got = pick_up(name, rng, first_round)
                except DeadlockError:
                    # Chosen as the victim: we already released what we held. Back off, retry.
                    first_round = False
                    stop.wait(rng.uniform(0, 2 * max(work_s, 0.001)))
                    continue
                first_round = False
                if not got:
                    continue
                try:
                    if work_s:
                        time.sleep(work_s)
                    progress[name] += 1
                finally:
                    first, second = order(name)
                    second.release()
                    first.release()
        except DeadlockError:
            pass  # aborted while stopping
        except BaseException as exc:  # pragma: no cover - a bug in the demo: report it
            errors.append(exc)

    watchdog = Watchdog(registry, interval_s=detect_interval_s, break_cycles=True)
    threads = [
        threading.Thread(target=worker, args=(n, i), name=n, daemon=True)
        for i, n in enumerate(threads_names)
    ]
    started_ns = time.perf_counter_ns()
    t0 = time.monotonic()
    try:
        with watchdog:
            for t in threads:
                t.start()
            start_gate.wait(timeout=10)
            deadline = t0 + duration_s
            for t in threads:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
    finally:
        stop.set()
        end = time.monotonic() + 5
        while any(t.is_alive() for t in threads) and time.monotonic() < end:
            registry.abort_all()
            for t in threads:
                t.join(timeout=0.01)
    if errors:
        raise errors[0]
    elapsed = time.monotonic() - t0
    events = registry.events()
    found = tuple(d for _, d in watchdog.found)
    detection = None
    if watchdog.found:
        seen_ns, first = watchdog.found[0]
        cycle_threads = set(first.threads)
        formed = [e.time_ns for e in events if e.kind == "wait" and e.thread in cycle_threads]
        formed = [t for t in formed if t <= seen_ns]
        detection = (seen_ns - max(formed)) / 1e9 if formed else None
    finished = units is not None and all(v >= units for v in progress.values())
    return DemoOutcome(
        demo=demo,
        strategy=strategy,
        deadlocks=found,
        progress=MappingProxyType(dict(progress)),
        attempts=MappingProxyType(dict(attempts)),
        events=events,
        started_ns=started_ns,
        detection_s=detection,
        elapsed_s=elapsed,
        finished=finished,
        threads_left=sum(t.is_alive() for t in threads),
    )


def lock_order_inversion(
    *,
    strategy: str = "none",
    transfers: int = 1,
    work_s: float = 0.001,
    patience_s: float = 0.02,
    detect_interval_s: float = 0.05,
    force_deadlock: bool = True,
    timeout_s: float = 10.0,
    seed: int = 0,
) -> DemoOutcome:
    """Two threads, two locks, taken in opposite orders: the smallest deadlock there is.

    ``worker-1`` takes A then B; ``worker-2`` takes B then A (think of two bank
    transfers, A->B and B->A, each locking the source account first). With
    ``force_deadlock`` both take their first lock before either asks for its
    second, so with ``strategy="none"`` they deadlock every time; a watchdog
    finds the cycle and aborts ``worker-2``, which backs off and retries.

    >>> out = lock_order_inversion(detect_interval_s=0.01)
    >>> out.deadlock.threads, out.finished
    (('worker-1', 'worker-2'), True)
    >>> lock_order_inversion(strategy="global_order").deadlocked
    False

    Args:
        strategy: a fix from :data:`STRATEGIES`, or ``"none"``.
        transfers: how many times each thread needs both locks.
        work_s: time spent holding both locks each time.
        patience_s: how long ``"timeout_backoff"`` waits for the second lock.
        detect_interval_s: how often the watchdog looks for a cycle.
        force_deadlock: make both threads hold their first lock before either asks
            for its second (the worst case, every time).
        timeout_s: give up (and stop the threads) after this long.
        seed: seed of the random back-off times.

    Returns:
        A :class:`DemoOutcome`; ``.deadlock`` is the cycle, if one formed.

    Introduced in ``05-deadlocks.ipynb``.
    """
    strategy = _check_strategy(strategy)
    transfers = _check_count("transfers", transfers, 1, 10_000)
    return _run_lock_pairs(
        "lock_order_inversion",
        {"worker-1": ("A", "B"), "worker-2": ("B", "A")},
        strategy=strategy,
        units=transfers,
        duration_s=_check_positive("timeout_s", timeout_s, allow_zero=False),
        think_s=0.0,
        work_s=_check_positive("work_s", work_s),
        patience_s=_check_positive("patience_s", patience_s, allow_zero=False),
        detect_interval_s=_check_positive("detect_interval_s", detect_interval_s, allow_zero=False),
        force_deadlock=force_deadlock,
        seed=seed,
    )


def dining_philosophers(
    n: int = 5,
    *,
    strategy: str = "none",
    meals: int | None = 1,
    think_s: float = 0.0,
    eat_s: float = 0.002,
    duration_s: float = 10.0,
    patience_s: float = 0.02,
    detect_interval_s: float = 0.05,
    force_deadlock: bool = True,
    seed: int = 0,
) -> DemoOutcome:
    """Dijkstra's dining philosophers: ``n`` threads around a table, one fork between neighbours.

    Philosopher ``phil-i`` needs ``fork-i`` (left) and ``fork-(i+1)`` (right) to
    eat. With ``strategy="none"`` each picks up the left fork, then the right one;
    with ``force_deadlock`` all hold their left fork before anyone reaches right,
    so the table deadlocks in a full circle. The watchdog finds the cycle, aborts
    the last philosopher of it, and dinner goes on.

    >>> out = dining_philosophers(3, detect_interval_s=0.01)
    >>> out.deadlock.threads
    ('phil-0', 'phil-1', 'phil-2')
    >>> dict(dining_philosophers(3, strategy="hierarchy").progress)
    {'phil-0': 1, 'phil-1': 1, 'phil-2': 1}

    Args:
        n: number of philosophers (2 to 32).
        strategy: a fix from :data:`STRATEGIES`, or ``"none"``.
        meals: meals each philosopher must eat; ``None`` = eat until ``duration_s``.
        think_s: thinking time before each attempt to eat.
        eat_s: eating time (holding both forks).
        duration_s: stop after this long, however far dinner got.
        patience_s: how long ``"timeout_backoff"`` waits for the second fork.
        detect_interval_s: how often the watchdog looks for a cycle.
        force_deadlock: everyone holds one fork before anyone asks for a second
            (first meal only).
        seed: seed of the random back-off times.

    Returns:
        A :class:`DemoOutcome` (``progress`` = meals eaten per philosopher).

    Introduced in ``05-deadlocks.ipynb``.
    """
    n = _check_count("n", n, 2, 32)
    strategy = _check_strategy(strategy)
    if meals is not None:
        meals = _check_count("meals", meals, 1, 100_000)
    needs = {f"phil-{i}": (f"fork-{i}", f"fork-{(i + 1) % n}") for i in range(n)}
    return _run_lock_pairs(
        "dining_philosophers",
        needs,
        strategy=strategy,
        units=meals,
        duration_s=_check_positive("duration_s", duration_s, allow_zero=False),
        think_s=_check_positive("think_s", think_s),
        work_s=_check_positive("eat_s", eat_s),
        patience_s=_check_positive("patience_s", patience_s, allow_zero=False),
        detect_interval_s=_check_positive("detect_interval_s", detect_interval_s, allow_zero=False),
        force_deadlock=force_deadlock,
        seed=seed,
    )


@dataclass(frozen=True)
class SelfDeadlockOutcome:
    """What happened when one thread took the same lock twice.

    ``detected_by`` is ``"timeout"`` (a plain Lock waited for itself until the
    timeout), ``"error"`` (a TracedLock refused at once), or None (an RLock let it
    in).
    """

    lock: str
    deadlocked: bool
    detected_by: str | None
    message: str
    elapsed_s: float


def self_deadlock(*, lock: str = "lock", timeout_s: float = 0.2) -> SelfDeadlockOutcome:
    """Take a lock, then call a helper that takes the same lock again.

    With a plain ``threading.Lock`` the second ``acquire`` waits for a release
    that only this very thread could do: it waits forever (here: until
    ``timeout_s``). An ``RLock`` counts re-entries and lets its holder in. A
    :class:`TracedLock` refuses at once with the fix in the message.

    >>> self_deadlock(lock="rlock").deadlocked
    False
    >>> self_deadlock(lock="traced").detected_by
    'error'

    Args:
        lock: ``"lock"``, ``"rlock"`` or ``"traced"``.
        timeout_s: how long the second acquire waits before we call it a deadlock.

    Introduced in ``05-deadlocks.ipynb``.
    """
    makers: dict[str, Callable[[], Any]] = {
        "lock": threading.Lock,
        "rlock": threading.RLock,
        "traced": lambda: TracedLock("config", registry=LockRegistry()),
    }
    if lock not in makers:
        raise ValueError(f"'lock' must be 'lock', 'rlock' or 'traced' (got {lock!r}).")
    timeout_s = _check_positive("timeout_s", timeout_s, allow_zero=False)
    the_lock = makers[lock]()
    t0 = time.monotonic()
    with the_lock:  # the outer function holds the lock ...
        try:  # ... and calls a helper that wants it too
            got = the_lock.acquire(timeout=timeout_s)
        except LockMisuseError as exc:
            return SelfDeadlockOutcome(lock, True, "error", str(exc), time.monotonic() - t0)
        if got:
            the_lock.release()
            msg = "the holder took the lock again (an RLock counts re-entries)"
            return SelfDeadlockOutcome(lock, False, None, msg, time.monotonic() - t0)
    msg = (
        f"the second acquire() waited {timeout_s} s for this same thread to release: it never could"
    )
    return SelfDeadlockOutcome(lock, True, "timeout", msg, time.monotonic() - t0)


def livelock(
    *,
    jitter: bool = False,
    max_attempts: int = 10,
    backoff_s: float = 0.001,
    seed: int = 0,
) -> DemoOutcome:
    """Two polite threads that keep stepping aside for each other: busy, never blocked, no progress.

    Each thread takes its first lock, *tries* its second (the other one's first),
    sees it taken, politely puts its own down, waits ``backoff_s`` and tries again.
    The demo forces the worst case: a barrier makes both threads take their first
    lock, and try their second, at the same moments. Without ``jitter`` that
    lockstep lasts for every attempt, so they collide every time: after
    ``max_attempts`` nobody got anything done, although nobody ever waited for a
    lock (the wait-for graph stays empty: no detector sees a livelock). With
    ``jitter`` the first attempt is forced into the same collision, but then each
    thread waits a random time and nothing keeps them in step any more.

    >>> out = livelock(max_attempts=5)
    >>> dict(out.progress), dict(out.attempts), out.deadlocked
    ({'worker-1': 0, 'worker-2': 0}, {'worker-1': 5, 'worker-2': 5}, False)
    >>> out = livelock(jitter=True, max_attempts=10)
    >>> out.finished, min(out.attempts.values()) >= 2  # the forced collision, then success
    (True, True)

    Args:
        jitter: back off for a random time instead of the same fixed time.
        max_attempts: give up after this many attempts each.
        backoff_s: the back-off time (the mean, with ``jitter``).
        seed: seed of the random back-off times.

    Introduced in ``05-deadlocks.ipynb``.
    """
    max_attempts = _check_count("max_attempts", max_attempts, 1, 100_000)
    backoff_s = _check_positive("backoff_s", backoff_s)
    registry = LockRegistry()
    locks = {n: TracedLock(n, registry=registry) for n in ("A", "B")}
    needs = {"worker-1": ("A", "B"), "worker-2": ("B", "A")}
    progress = dict.fromkeys(needs, 0)
    attempts = dict.fromkeys(needs, 0)
    # The lockstep that makes the livelock certain: both act at the same moments.
    step = threading.Barrier(2, timeout=5)
    done = threading.Event()
    errors: list[BaseException] = []

    def worker(name: str, index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        first, second = (locks[n] for n in needs[name])
        try:
            while attempts[name] < max_attempts and not progress[name]:
                attempts[name] += 1
                lockstep = not jitter or attempts[name] == 1
                with first:
                    if lockstep:
                        step.wait()  # both now hold their first lock
                    got = second.acquire(blocking=False)
                    if lockstep:
                        step.wait()  # both have tried their second
                    if got:
                        progress[name] += 1
                        second.release()
                if not got:
                    time.sleep(rng.uniform(0, 2 * backoff_s) if jitter else backoff_s)
                if not jitter and progress[name]:
                    break
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            step.abort()  # the other one must not wait for a partner that left
            done.set()

    watchdog = Watchdog(registry, interval_s=0.01)
    threads = [
        threading.Thread(target=worker, args=(n, i), name=n, daemon=True)
        for i, n in enumerate(needs)
    ]
    started_ns = time.perf_counter_ns()
    t0 = time.monotonic()
    with watchdog:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    if errors:
        raise errors[0]
    return DemoOutcome(
        demo="livelock",
        strategy="random back-off" if jitter else "fixed back-off",
        deadlocks=tuple(d for _, d in watchdog.found),
        progress=MappingProxyType(progress),
        attempts=MappingProxyType(attempts),
        events=registry.events(),
        started_ns=started_ns,
        detection_s=None,
        elapsed_s=time.monotonic() - t0,
        finished=all(progress.values()),
        threads_left=sum(t.is_alive() for t in threads),
    )


class _Arbiter:
    """Hands one resource to waiting threads: by priority (unfair) or in arrival order (fair)."""

    def __init__(self, *, fair: bool, registry: LockRegistry, stop: threading.Event) -> None:
        self.fair = fair
        self.cond = threading.Condition()
        self.holder: str | None = "start"  # the demo hands out the first turn itself
        self.waiting: list[tuple[int, int, str]] = []  # (priority, ticket, name)
        self.tickets = itertools.count()
        self.registry = registry
        self.stop = stop

    def _log(self, name: str, kind: str) -> None:
        if name == "start":
            return
        self.registry._events.append(LockEvent(time.perf_counter_ns(), name, "shared", kind))

    def request(self, name: str, priority: int) -> bool:
        with self.cond:
            self._log(name, "wait")
            if self.holder is None and not self.waiting:
                self.holder = name
            else:
                self.waiting.append((priority, next(self.tickets), name))
                self.cond.notify_all()
                self.cond.wait_for(lambda: self.holder == name or self.stop.is_set(), 5)
            if self.holder != name:
                self.waiting = [w for w in self.waiting if w[2] != name]
                self._log(name, "giveup")
                return False
            self._log(name, "acquire")
            return True

    def release(self, name: str, n_others: int) -> None:
        with self.cond:
            # The demo's busy system: hand over only once every other thread is queued.
            self.cond.wait_for(lambda: len(self.waiting) >= n_others or self.stop.is_set(), 1)
            self._log(name, "release")
            if self.waiting:
                key = (lambda w: w[1]) if self.fair else (lambda w: (w[0], w[1]))
                chosen = min(self.waiting, key=key)
                self.waiting.remove(chosen)
                self.holder = chosen[2]
            else:
                self.holder = None
            self.cond.notify_all()


def starvation(
    *,
    fair: bool = False,
    n_workers: int = 3,
    turns: int | None = None,
    duration_s: float = 0.3,
    hold_s: float = 0.002,
) -> DemoOutcome:
    """A lock handed out by priority: the lowest-priority thread never gets a turn.

    ``n_workers`` threads take turns with one shared resource. Whenever it is
    freed, an arbiter hands it to a waiting thread: by priority (``worker-1``
    first) or, with ``fair=True``, in arrival order (first come, first served).
    The threads are always busy: each asks again as soon as its turn is over, and
    the demo hands over only once every other thread is waiting. By priority,
    ``worker-1`` and ``worker-2`` pass the resource back and forth and the last
    worker waits forever, though nothing is deadlocked: it is *starved*. In
    arrival order everyone gets the same number of turns (give or take one).

    >>> dict(starvation(turns=30).progress)
    {'worker-1': 15, 'worker-2': 15, 'worker-3': 0}
    >>> dict(starvation(fair=True, turns=30).progress)
    {'worker-1': 10, 'worker-2': 10, 'worker-3': 10}

    Args:
        fair: serve in arrival order instead of by priority.
        n_workers: number of threads (2 to 8); ``worker-1`` has the highest priority.
        turns: stop after this many turns in all (None: run for ``duration_s``).
        duration_s: how long the threads compete (at most).
        hold_s: how long each turn lasts.

    Returns:
        A :class:`DemoOutcome` whose ``progress`` counts turns per thread.

    Introduced in ``05-deadlocks.ipynb``.
    """
    n_workers = _check_count("n_workers", n_workers, 2, 8)
    if turns is not None:
        turns = _check_count("turns", turns, 1, 1_000_000)
    duration_s = _check_positive("duration_s", duration_s, allow_zero=False)
    hold_s = _check_positive("hold_s", hold_s)
    registry = LockRegistry()
    stop = threading.Event()
    arbiter = _Arbiter(fair=fair, registry=registry, stop=stop)
    names = [f"worker-{i + 1}" for i in range(n_workers)]
    progress = dict.fromkeys(names, 0)
    attempts = dict.fromkeys(names, 0)
    gate = threading.Barrier(n_workers + 1, timeout=10)

    def worker(name: str, priority: int) -> None:
        try:
            gate.wait()
            while not stop.is_set():
                attempts[name] += 1
                if not arbiter.request(name, priority):
                    continue
                if stop.is_set():
                    break  # granted just as the demo ended: that turn does not count
                time.sleep(hold_s)
                progress[name] += 1
                if turns is not None and sum(progress.values()) >= turns:
                    stop.set()  # only the holder counts, so the total is exact
                arbiter.release(name, n_workers - 1)
        except threading.BrokenBarrierError:
            pass

    threads = [
        threading.Thread(target=worker, args=(n, i), name=n, daemon=True)
        for i, n in enumerate(names)
    ]
    started_ns = time.perf_counter_ns()
    t0 = time.monotonic()
    try:
        for t in threads:
            t.start()
        gate.wait()
        arbiter.release("start", n_workers)  # first turn once everyone is queued
        stop.wait(duration_s)
    finally:
        stop.set()
        gate.abort()
        with arbiter.cond:
            arbiter.cond.notify_all()
        for t in threads:
            t.join(timeout=5)
    return DemoOutcome(
        demo="starvation",
        strategy="first come, first served" if fair else "by priority",
        deadlocks=(),
        progress=MappingProxyType(progress),
        attempts=MappingProxyType(attempts),
        events=registry.events(),
        started_ns=started_ns,
        detection_s=None,
        elapsed_s=time.monotonic() - t0,
        finished=all(progress.values()),
        threads_left=sum(t.is_alive() for t in threads),
    )


# --------------------------------------------------------------------------- process demos


@dataclass(frozen=True)
class ProcessPhilosophersOutcome:
    """Dining philosophers as processes, with ``multiprocessing`` locks.

    Processes cannot report to a registry while blocked, so the deadlock is
    detected by timeout: each philosopher that could not get its second fork in
    ``timeout_s`` reports what it held and waited for, and those reports are
    turned into a :class:`WaitForGraph`.
    """

    n: int
    strategy: str
    start_method: str
    graph: WaitForGraph
    deadlock: Deadlock | None
    meals: Mapping[str, int]
    elapsed_s: float

    @property
    def deadlocked(self) -> bool:
        return self.deadlock is not None


def _process_philosopher(
    name: str,
    left: Any,
    right: Any,
    left_name: str,
    right_name: str,
    barrier: Any,
    reported: Any,
    results: Any,
    timeout_s: float,
) -> None:
    """A philosopher process: take the first fork, then the second with a timeout; report."""
    first_taken = left.acquire(timeout=10)
    if not first_taken:
        results.put((name, "error", left_name, ""))
        return
    try:
        if barrier is not None:
            barrier.wait(timeout=10)  # everyone now holds one fork
        if right.acquire(timeout=timeout_s):
            right.release()
            results.put((name, "ate", left_name, right_name))
        else:
            results.put((name, "timeout", left_name, right_name))
        if barrier is not None:
            reported.wait(timeout=10)  # keep holding until all have reported
    finally:
        left.release()


def dining_philosophers_processes(
    n: int = 3,
    *,
    strategy: str = "none",
    start_method: str | None = None,
    timeout_s: float = 0.5,
) -> ProcessPhilosophersOutcome:
    """Dining philosophers as processes sharing ``multiprocessing`` locks; detected by timeout.

    With ``strategy="none"`` every philosopher holds its left fork before asking
    for the right one, so all of them time out, and the reports form the full
    cycle. With ``"global_order"`` (lower-numbered fork first) all eat.
    Works under every start method; every child is joined or terminated.

    Args:
        n: number of philosopher processes (2 to 8).
        strategy: ``"none"`` or ``"global_order"``.
        start_method: ``"fork"``, ``"spawn"``, ``"forkserver"`` or None (default).
        timeout_s: how long a philosopher waits for its second fork.

    Introduced in ``05-deadlocks.ipynb``.
    """
    from .runners import _check_start_method, _stop_processes, get_context

    n = _check_count("n", n, 2, 8)
    if strategy not in ("none", "global_order"):
        raise ValueError(
            f"'strategy' must be 'none' or 'global_order' for processes (got {strategy!r})."
        )
    timeout_s = _check_positive("timeout_s", timeout_s, allow_zero=False)
    method = _check_start_method(start_method)
    ctx = get_context(method)
    forks = [ctx.Lock() for _ in range(n)]
    force = strategy == "none"
    barrier = ctx.Barrier(n) if force else None
    reported = ctx.Event()
    results = ctx.Queue()
    procs = []
    reports: dict[str, tuple[str, str, str]] = {}
    t0 = time.monotonic()
    try:
        for i in range(n):
            a, b = i, (i + 1) % n
            if strategy == "global_order" and a > b:
                a, b = b, a
            p = ctx.Process(
                target=_process_philosopher,
                args=(
                    f"phil-{i}",
                    forks[a],
                    forks[b],
                    f"fork-{a}",
                    f"fork-{b}",
                    barrier,
                    reported,
                    results,
                    timeout_s if force else max(timeout_s, 10.0),
                ),
                name=f"phil-{i}",
                daemon=True,
            )
            p.start()
            procs.append(p)
        deadline = time.monotonic() + 30 + timeout_s
        while len(reports) < n and time.monotonic() < deadline:
            try:
                name, what, first, second = results.get(timeout=0.1)
            except queue_module.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            reports[name] = (what, first, second)
        reported.set()
        for p in procs:
            p.join(timeout=5)
    finally:
        reported.set()
        _stop_processes(procs)
        results.close()
        results.join_thread()
    holds = {name: (first,) for name, (what, first, _) in reports.items() if what == "timeout"}
    waits = {name: second for name, (what, _, second) in reports.items() if what == "timeout"}
    graph = WaitForGraph(holds=holds, waits=waits)
    meals = {f"phil-{i}": int(reports.get(f"phil-{i}", ("",))[0] == "ate") for i in range(n)}
    return ProcessPhilosophersOutcome(
        n=n,
        strategy=strategy,
        start_method=method,
        graph=graph,
        deadlock=find_deadlock(graph),
        meals=MappingProxyType(meals),
        elapsed_s=time.monotonic() - t0,
    )


@dataclass(frozen=True)
class QueueJoinOutcome:
    """The queue-join trap: did ``join()`` time out, and did draining the queue rescue it?"""

    start_method: str
    drain_first: bool
    join_timed_out: bool
    items_received: int
    recovered: bool
    exitcode: int | None
    elapsed_s: float


def _queue_producer(q: Any, n_items: int, item_bytes: int) -> None:
    """Put ``n_items`` payloads on the queue, then return (and wait to flush them)."""
    for i in range(n_items):
        q.put((i, b"x" * item_bytes))


def queue_join_trap(
    *,
    drain_first: bool = False,
    start_method: str | None = None,
    n_items: int = 4,
    item_bytes: int = 256 * 1024,
    join_timeout_s: float = 0.5,
) -> QueueJoinOutcome:
    """The documented ``multiprocessing`` trap: joining a process before draining its Queue.

    A process that put items on a ``multiprocessing.Queue`` does not end until a
    background thread has pushed them all into the underlying pipe, and a pipe
    holds only a little (64 KiB on Linux). If the parent calls ``join()`` first
    and reads the queue afterwards, each waits for the other: a deadlock across
    two processes. (Python's docs warn about it under "Joining processes that use
    queues".) Here ``join()`` has a timeout, so the trap is detected; then the
    queue is drained, and the child ends. With ``drain_first=True`` the parent
    reads first and joins after, which is the fix.

    Args:
        drain_first: read everything before joining (the fix).
        start_method: ``"fork"``, ``"spawn"``, ``"forkserver"`` or None (default).
        n_items: how many items the child puts.
        item_bytes: size of each item (together, more than the pipe holds).
        join_timeout_s: how long the first ``join()`` may wait.

    Introduced in ``05-deadlocks.ipynb``.
    """
    from .runners import _check_start_method, _stop_processes, get_context

    n_items = _check_count("n_items", n_items, 1, 1000)
    item_bytes = _check_count("item_bytes", item_bytes, 1, 64 * 1024 * 1024)
    join_timeout_s = _check_positive("join_timeout_s", join_timeout_s, allow_zero=False)
    method = _check_start_method(start_method)
    ctx = get_context(method)
    q = ctx.Queue()
    p = ctx.Process(target=_queue_producer, args=(q, n_items, item_bytes), daemon=True)
    received = 0
    timed_out = False
    t0 = time.monotonic()

    def drain() -> None:
        nonlocal received
        deadline = time.monotonic() + 10
        while received < n_items and time.monotonic() < deadline:
            try:
                q.get(timeout=0.05)
            except queue_module.Empty:
                if not p.is_alive() and p.exitcode is not None and p.exitcode != 0:
                    return  # the child crashed: nothing more will come
                continue
            received += 1

    try:
        p.start()
        if drain_first:
            drain()
        p.join(timeout=join_timeout_s)
        if p.is_alive():
            timed_out = True
            drain()  # the rescue: read what the child is trying to hand over
            p.join(timeout=10)
        recovered = not p.is_alive() and received == n_items
        exitcode = p.exitcode
    finally:
        _stop_processes([p])
        q.close()
        q.join_thread()
    return QueueJoinOutcome(
        start_method=method,
        drain_first=drain_first,
        join_timed_out=timed_out,
        items_received=received,
        recovered=recovered,
        exitcode=exitcode,
        elapsed_s=time.monotonic() - t0,
    )
