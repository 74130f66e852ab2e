"""Traced locks: ``threading.Lock`` look-alikes that report who holds them and who waits.

* :class:`TracedLock` and :class:`TracedRLock` behave like ``threading.Lock`` and
  ``threading.RLock`` but record who holds them and who waits for them in a
  :class:`LockRegistry`, catch misuse at once (re-acquiring a lock you already hold,
  releasing a lock you do not own) and can show their state.
* The registry turns that into a :class:`~concurrency_lab.deadlocks.WaitForGraph`
  (:meth:`LockRegistry.snapshot`), keeps the lock events for timelines
  (:func:`lock_intervals`), and can abort a waiting thread, which is how a
  :class:`~concurrency_lab.deadlocks.Watchdog` breaks a deadlock.

A plain ``threading.Lock`` does none of this: CPython never notices a deadlock, and a
``lock.acquire()`` without a timeout waits forever. These locks exist to *see*.

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ..core.errors import LabError
from ..core.validate import check_number
from .graph import WaitForGraph, natural_key

__all__ = [
    "Account",
    "DeadlockError",
    "LockClosedError",
    "LockEvent",
    "LockMisuseError",
    "LockRegistry",
    "LockStatistics",
    "TracedLock",
    "TracedRLock",
    "WorstTiming",
    "default_registry",
    "join_or_abort",
]

_POLL_S = 0.005  # how often a blocked acquire checks whether it was chosen as a deadlock victim

#: What can happen to a lock: a thread starts to ``wait``, ``acquire``\ s it, ``release``\ s
#: it, ``giveup``\ s waiting (timeout), is ``abort``\ ed by a watchdog, or finds it ``busy``
#: (a ``blocking=False`` try that failed).
EventKind = Literal["wait", "acquire", "release", "giveup", "abort", "busy"]


class LockMisuseError(LabError, RuntimeError):
    """A lock was used in a way that is always a bug (caught at once, with the fix)."""


class DeadlockError(LabError):
    """Raised inside ``acquire()`` of the thread chosen to break a deadlock (the *victim*).

    Databases do the same: one transaction of the cycle is aborted so the others can go on.
    The victim's ``with`` blocks unwind, releasing what it held; it can then retry.
    """


class LockClosedError(LabError):
    """Raised by ``acquire()`` once the registry was closed (a self-check has ended)."""


@dataclass(frozen=True)
class LockEvent:
    """One thing that happened to a lock, at ``time_ns`` (``time.perf_counter_ns``)."""

    time_ns: int
    thread: str
    lock: str
    kind: EventKind


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

    Every :class:`TracedLock` reports to one registry: the shared :func:`default_registry`
    unless you pass your own (the demos do, so they never see each other's locks). A
    registry also keeps the last ``max_events`` lock events for timelines, and can abort a
    waiting thread to break a deadlock.

    Attributes:
        on_acquire: if set, called with the lock after each successful ``acquire()`` (outside
            the registry's own lock); the demos use it to force the worst timing.

    Introduced in ``05-deadlocks.ipynb``.
    """

    def __init__(self, *, max_events: int = 100_000) -> None:
        self.mutex = threading.Lock()
        self.on_acquire: Callable[[TracedLock], None] | None = None
        self._locks: weakref.WeakValueDictionary[str, TracedLock] = weakref.WeakValueDictionary()
        self._held: dict[int, list[TracedLock]] = {}
        self._waiting: dict[int, tuple[TracedLock, bool]] = {}
        self._names: dict[int, str] = {}
        self._aborted: set[int] = set()
        self._closed = ""
        self._events: deque[LockEvent] = deque(maxlen=max_events)

    def __repr__(self) -> str:
        g = self.snapshot()
        return f"<LockRegistry: {len(self._locks)} locks, {len(g.waits)} threads waiting>"

    # -- called by the locks
    def register(self, lock: TracedLock, name: str | None) -> str:
        """Give ``lock`` a name unique among this registry's busy locks; returns it.

        A lock that nobody holds or waits for gives up its name to a new lock of the same
        name, so re-running a notebook cell that makes ``TracedLock("A")`` keeps the name.
        """
        with self.mutex:
            base = name or f"lock-{len(self._locks) + 1}"
            label = base
            for k in itertools.count(2):
                old = self._locks.get(label)
                if old is None or not self._busy(old):
                    break
                label = f"{base}#{k}"
            self._locks[label] = lock
            return label

    def _busy(self, lock: TracedLock) -> bool:  # under self.mutex
        return lock.owner_ident is not None or any(lk is lock for lk, _ in self._waiting.values())

    def record(self, thread: str, lock: str, kind: EventKind) -> None:
        """Add a lock event now (for locks of your own that should appear on a timeline)."""
        self._events.append(LockEvent(time.perf_counter_ns(), thread, lock, kind))

    def log(self, ident: int, lock: TracedLock, kind: EventKind) -> None:
        """Record an event of the current thread (called by the locks, under :attr:`mutex`)."""
        # Refreshed on every event: thread ids are reused once a thread has ended.
        name = self._names[ident] = threading.current_thread().name
        self.record(name, lock.name, kind)

    def held(self, ident: int) -> list[TracedLock]:
        """The locks thread ``ident`` holds, in the order it took them (a live list)."""
        return self._held.setdefault(ident, [])

    def name_of(self, ident: int | None) -> str | None:
        """The thread name behind ``ident`` as the registry last saw it."""
        if ident is None:
            return None
        if ident == threading.get_ident():
            return threading.current_thread().name
        return self._names.get(ident, f"thread {ident}")

    def is_aborted(self, ident: int) -> bool:
        """Whether the waiting thread ``ident`` was chosen as a victim."""
        return ident in self._aborted

    def closed(self) -> str:
        """Why the registry was closed (``""`` while it is open)."""
        return self._closed

    # -- public
    def snapshot(self) -> WaitForGraph:
        """The wait-for graph right now (taken atomically)."""
        with self.mutex:
            holds = {
                self._names[i]: tuple(lk.name for lk in locks)
                for i, locks in self._held.items()
                if locks
            }
            waits = {self._names[i]: lk.name for i, (lk, _) in self._waiting.items()}
            bounded = frozenset(self._names[i] for i, (_, b) in self._waiting.items() if b)
            reentrant = frozenset(n for n, lk in self._locks.items() if lk.reentrant)
        return WaitForGraph(holds=holds, waits=waits, bounded=bounded, reentrant=reentrant)

    def events(self) -> tuple[LockEvent, ...]:
        """The lock events recorded so far, oldest first."""
        with self.mutex:
            return tuple(self._events)

    def clear_events(self) -> None:
        """Forget the recorded events."""
        with self.mutex:
            self._events.clear()

    def abort(self, thread: str) -> bool:
        """Make the waiting thread named ``thread`` give up with :class:`DeadlockError`.

        Returns whether such a thread was waiting.
        """
        with self.mutex:
            for ident in self._waiting:
                if self._names.get(ident) == thread:
                    self._aborted.add(ident)
                    return True
        return False

    def abort_all(self) -> int:
        """Abort every thread waiting right now; returns how many."""
        with self.mutex:
            self._aborted.update(self._waiting)
            return len(self._waiting)

    def pending_abort(self, thread: str) -> bool:
        """Whether ``thread`` was aborted and has not yet noticed."""
        with self.mutex:
            return any(self._names.get(i) == thread for i in self._aborted)

    def close(self, reason: str) -> None:
        """From now on every ``acquire()`` of these locks raises :class:`LockClosedError`.

        Self-checks call it when they end, so that a learner's thread that still loops
        (trying a lock again and again) stops at its next try instead of running on.
        """
        with self.mutex:
            self._closed = reason
            self._aborted.update(self._waiting)

    def waiting_threads(self) -> set[str]:
        """The names of the threads waiting for one of these locks right now."""
        with self.mutex:
            return {self._names[i] for i in self._waiting}


_DEFAULT_REGISTRY = LockRegistry()


def default_registry() -> LockRegistry:
    """The registry that locks report to when you pass no ``registry=``.

    Introduced in ``05-deadlocks.ipynb``.
    """
    return _DEFAULT_REGISTRY


class TracedLock:
    """A ``threading.Lock`` that reports who holds it and who waits for it.

    Use it exactly like ``threading.Lock`` (``acquire(blocking, timeout)``, ``release()``,
    ``locked()``, ``with lock:``). In addition it:

    * raises :class:`LockMisuseError` at once if the thread holding it tries to take it
      again (a plain ``Lock`` would wait for itself forever) or if a thread that does not
      hold it releases it (a plain ``Lock`` allows that);
    * reports to a :class:`LockRegistry`, so the wait-for graph can be drawn;
    * raises :class:`DeadlockError` from a blocked ``acquire()`` when a watchdog picks this
      thread to break a deadlock.

    >>> a = TracedLock("A", registry=LockRegistry())
    >>> with a:
    ...     print(a)
    <TracedLock 'A' held by MainThread>
    >>> a
    <TracedLock 'A' unlocked>

    Args:
        name: how the lock appears in graphs and messages (made unique in its registry).
        registry: where to report; defaults to :func:`default_registry`.

    Raises:
        TypeError: ``name`` is not a string.

    Introduced in ``05-deadlocks.ipynb``.
    """

    reentrant = False
    _kind = "TracedLock"

    def __init__(self, name: str | None = None, *, registry: LockRegistry | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a string or None (got {type(name).__name__}).")
        self.registry = registry if registry is not None else _DEFAULT_REGISTRY
        self._inner = threading.Lock()
        self.owner_ident: int | None = None
        self._count = 0
        self._acquisitions = 0
        self._contended = 0
        self._timeouts = 0
        self.name = self.registry.register(self, name)

    # -- the threading.Lock interface
    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; like ``threading.Lock.acquire``.

        Returns:
            True if you now hold the lock, False if ``blocking=False`` and it was taken, or
            the ``timeout`` ran out.

        Raises:
            LockMisuseError: this thread already holds this (non-re-entrant) lock.
            DeadlockError: a watchdog chose this thread to break a deadlock.
            LockClosedError: the registry was closed.
            ValueError: a timeout with ``blocking=False``, or a negative timeout.
        """
        if not blocking and timeout != -1:
            raise ValueError(
                "can't specify a timeout for a non-blocking call (got blocking=False)."
            )
        if timeout != -1:
            check_number(timeout, "timeout", low=0, unit=" seconds")
        reg = self.registry
        me = threading.get_ident()
        with reg.mutex:
            if reg.closed():
                raise LockClosedError(reg.closed())
            if self.owner_ident == me:
                if self.reentrant:
                    self._count += 1
                    self._acquisitions += 1
                    return True
                raise LockMisuseError(
                    f"{self._kind} {self.name!r} is already held by this thread "
                    f"({reg.name_of(me)}): acquiring it again would wait for yourself "
                    f"forever. Release it first, or use cl.deadlocks.TracedRLock if this "
                    f"thread must take it again while holding it."
                )
            got = self._inner.acquire(False)
            if got:
                self._took(me)
            elif blocking:
                self._contended += 1
                reg._waiting[me] = (self, timeout >= 0)
                reg.log(me, self, "wait")
            else:
                reg.log(me, self, "busy")
        if got or not blocking:
            if got and reg.on_acquire is not None:
                reg.on_acquire(self)
            return got
        return self._wait(me, None if timeout < 0 else time.monotonic() + timeout)

    def _wait(self, me: int, deadline: float | None) -> bool:
        reg = self.registry
        got = False
        try:
            while True:
                step = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
                if step > 0 and self._inner.acquire(timeout=step):
                    got = True
                    return True
                if reg.is_aborted(me):
                    if reg.closed():
                        raise LockClosedError(reg.closed())
                    raise DeadlockError(
                        f"{reg.name_of(me)} was chosen to break a deadlock while waiting "
                        f"for {self.name!r}: its acquire() gave up so the other threads can go "
                        f"on. Release what you hold, then retry (or take locks in one global "
                        f"order so this cannot happen)."
                    )
                if deadline is not None and time.monotonic() >= deadline:
                    return False
        finally:
            with reg.mutex:
                reg._waiting.pop(me, None)
                aborted = me in reg._aborted
                reg._aborted.discard(me)
                if got:
                    self._took(me)
                else:
                    self._timeouts += not aborted
                    reg.log(me, self, "abort" if aborted else "giveup")
            if got and reg.on_acquire is not None:
                reg.on_acquire(self)

    def _took(self, me: int) -> None:  # under the registry mutex
        self.owner_ident = me
        self._count = 1
        self._acquisitions += 1
        self.registry.held(me).append(self)
        self.registry.log(me, self, "acquire")

    def release(self) -> None:
        """Give the lock back.

        Raises:
            LockMisuseError: the lock is not held, or held by another thread.
        """
        reg = self.registry
        me = threading.get_ident()
        with reg.mutex:
            if self.owner_ident is None:
                raise LockMisuseError(
                    f"release() of {self._kind} {self.name!r}, which is not held: every "
                    f"release() must match an earlier acquire() by the same thread. Prefer "
                    f"'with lock:' so the pairing is automatic."
                )
            if self.owner_ident != me:
                raise LockMisuseError(
                    f"{self._kind} {self.name!r} is held by {reg.name_of(self.owner_ident)}, "
                    f"not by this thread ({reg.name_of(me)}): only the thread that "
                    f"acquired a lock may release it. Release it in the thread that took it."
                )
            self._count -= 1
            if self._count:
                return
            self.owner_ident = None
            held = reg.held(me)
            if self in held:
                held.remove(self)
            reg.log(me, self, "release")
            self._inner.release()

    def locked(self) -> bool:
        """Whether some thread holds the lock."""
        return self.owner_ident is not None

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- showing its state
    def statistics(self) -> LockStatistics:
        """A snapshot: owner, re-entry count, waiters, and counts of acquisitions, contended
        acquisitions and timeouts."""
        reg = self.registry
        with reg.mutex:
            waiters = tuple(
                sorted(
                    (reg.name_of(i) or "?" for i, (lk, _) in reg._waiting.items() if lk is self),
                    key=natural_key,
                )
            )
            return LockStatistics(
                name=self.name,
                locked=self.owner_ident is not None,
                owner=reg.name_of(self.owner_ident),
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

    Introduced in ``05-deadlocks.ipynb``.
    """

    reentrant = True
    _kind = "TracedRLock"


class WorstTiming:
    """The worst moment for a deadlock, made certain: a hook for :attr:`LockRegistry.on_acquire`.

    In its first round, a thread that has just taken its first lock waits until every other
    thread has taken a first lock too, or waits for one: only then does anyone ask for a
    second lock (a thread that never takes a lock holds the others up for ``timeout_s``).
    A thread blocked on a lock cannot say "I am here", so a ``threading.Barrier`` would
    wait for it in vain; this looks at the registry instead.

    Args:
        registry: the locks' registry.
        threads: the names of the threads to line up.
        ignore: locks that do not count as a first lock (e.g. an arbitrator's waiter).
        timeout_s: the longest a thread waits for the others.

    Introduced in ``05-deadlocks.ipynb``.
    """

    def __init__(
        self,
        registry: LockRegistry,
        threads: Iterable[str],
        *,
        ignore: Iterable[TracedLock] = (),
        timeout_s: float = 2.0,
    ) -> None:
        self.registry = registry
        self.names = frozenset(threads)
        self.pending = set(self.names)
        self.arrived: set[str] = set()
        self.ignore = tuple(ignore)
        self.timeout_s = timeout_s

    def __call__(self, lock: TracedLock) -> None:
        me = threading.current_thread().name
        if me not in self.pending or any(lock is other for other in self.ignore):
            return
        self.pending.discard(me)
        self.arrived.add(me)
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            waiting = self.registry.waiting_threads()
            if all(n in self.arrived or n in waiting for n in self.names):
                return
            time.sleep(0.0005)


class Account:
    """A bank account with a balance and its own :class:`TracedLock` (for the transfer exercise).

    >>> a = Account("alice", 100, registry=LockRegistry())
    >>> a
    Account('alice', balance=100)
    >>> a.lock
    <TracedLock 'alice' unlocked>

    Introduced in ``05-deadlocks.ipynb``.
    """

    def __init__(
        self, name: str, balance: int = 0, *, registry: LockRegistry | None = None
    ) -> None:
        self.name = name
        self.balance = balance
        self.lock = TracedLock(name, registry=registry)

    def __repr__(self) -> str:
        return f"Account({self.name!r}, balance={self.balance})"


def join_or_abort(
    threads: Iterable[threading.Thread], registry: LockRegistry, timeout_s: float
) -> list[str]:
    """Join the threads; abort the waits of those still running after ``timeout_s``.

    Returns the names of the threads that were still running at ``timeout_s`` (they were
    then aborted until they ended, for at most 5 s more).
    """
    threads = list(threads)
    deadline = time.monotonic() + timeout_s
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    late = [t.name for t in threads if t.is_alive()]
    end = time.monotonic() + 5
    while any(t.is_alive() for t in threads) and time.monotonic() < end:
        registry.abort_all()
        for t in threads:
            t.join(timeout=0.01)
    return late
