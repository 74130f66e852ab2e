"""The relatives of deadlock: waiting for yourself, livelock and starvation.

* :func:`self_deadlock`: a thread that takes a lock it already holds.
* :func:`livelock`: two polite threads that keep stepping aside for each other: busy, never
  blocked, no progress. No wait-for graph shows it.
* :func:`starvation`: a resource handed out by priority: one thread never gets a turn,
  though nothing is deadlocked.

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from ..core.results import Result
from ..core.validate import check_choice, check_number, check_whole
from .locks import LockMisuseError, LockRegistry, TracedLock
from .outcome import DemoRecorder, DemoResult
from .watchdog import Watchdog

__all__ = ["LockKind", "SelfDeadlockResult", "livelock", "self_deadlock", "starvation"]

#: The locks :func:`self_deadlock` can try.
LockKind = Literal["lock", "rlock", "traced"]

_LOCK_NAMES = {"lock": "threading.Lock", "rlock": "threading.RLock", "traced": "TracedLock"}

# --------------------------------------------------------------------------- self-deadlock


@dataclass(frozen=True)
class SelfDeadlockResult(Result):
    """What happened when one thread took the same lock twice.

    Attributes:
        lock: which lock was tried.
        outcome: ``"waited"`` (it waited for itself until the timeout: a deadlock with
            yourself), ``"refused"`` (a TracedLock raised at once, before any waiting), or
            ``"re-entered"`` (an RLock let its holder in).
        message: the error message (``"refused"``), else ``""``.
        elapsed_s: how long the second ``acquire`` took.

    Introduced in ``05-deadlocks.ipynb``.
    """

    lock: LockKind
    outcome: Literal["waited", "refused", "re-entered"]
    message: str
    elapsed_s: float

    @property
    def deadlocked(self) -> bool:
        """Whether the thread really waited for itself (the plain Lock)."""
        return self.outcome == "waited"

    def summary(self) -> str:
        name = _LOCK_NAMES[self.lock]
        if self.outcome == "waited":
            return (
                f"{name}: the second acquire() waited {self.elapsed_s:.2f} s for a release that "
                f"only this same thread could do; without a timeout it would wait forever."
            )
        if self.outcome == "refused":
            return f"{name}: refused at once, without waiting: {self.message}"
        return f"{name}: the holder took it again at once (an RLock counts re-entries)."


def self_deadlock(*, lock: LockKind = "lock", timeout_s: float = 0.2) -> SelfDeadlockResult:
    """Take a lock, then call a helper that takes the same lock again.

    With a plain ``threading.Lock`` the second ``acquire`` waits for a release only this
    very thread could do: it waits forever (here: until ``timeout_s``). An ``RLock`` counts
    re-entries and lets its holder in. A :class:`~concurrency_lab.deadlocks.TracedLock`
    refuses at once, with the fix in the message.

    >>> self_deadlock(lock="rlock").outcome
    're-entered'
    >>> self_deadlock(lock="traced").deadlocked  # it refused before waiting
    False

    Args:
        lock: ``"lock"``, ``"rlock"`` or ``"traced"``.
        timeout_s: how long the second acquire may wait.

    Raises:
        ValueError, TypeError: an argument out of range.

    Introduced in ``05-deadlocks.ipynb``.
    """
    makers: dict[str, Callable[[], Any]] = {
        "lock": threading.Lock,
        "rlock": threading.RLock,
        "traced": lambda: TracedLock("config", registry=LockRegistry()),
    }
    kind = cast(LockKind, check_choice(lock, "lock", get_args(LockKind)))
    timeout_s = check_number(timeout_s, "timeout_s", low=0, high=60, unit=" seconds", low_open=True)
    the_lock = makers[kind]()
    with the_lock:  # the outer function holds the lock ...
        t0 = time.monotonic()
        try:  # ... and calls a helper that wants it too
            got = the_lock.acquire(timeout=timeout_s)
        except LockMisuseError as exc:
            return SelfDeadlockResult(kind, "refused", str(exc), time.monotonic() - t0)
        took = time.monotonic() - t0
        if got:
            the_lock.release()
            return SelfDeadlockResult(kind, "re-entered", "", took)
    return SelfDeadlockResult(kind, "waited", "", took)


# --------------------------------------------------------------------------- livelock


def livelock(
    *,
    fixed: bool = False,
    max_attempts: int = 10,
    backoff_s: float = 0.001,
    seed: int = 0,
) -> DemoResult:
    """Two polite threads that keep stepping aside for each other: busy, no progress.

    Each thread takes its first lock, *tries* its second (the other one's first), sees it
    taken, politely puts its own down, waits ``backoff_s`` and tries again. The demo models
    perfect symmetry: a barrier makes both threads take their first lock, and try their
    second, at the same moments. Without the fix that lockstep lasts for every attempt, so
    they collide every time: after ``max_attempts`` nobody got anything done, though nobody
    ever waited for a lock (the wait-for graph stays empty: no detector sees a livelock).
    Real threads are rarely this symmetric, but identical threads that collide and then
    sleep identical times get close. With ``fixed=True`` the first attempt is forced into
    the same collision; then each thread waits a *random* time and nothing keeps them in
    step any more.

    >>> out = livelock(max_attempts=5)
    >>> dict(out.progress), dict(out.attempts), out.deadlocked
    ({'worker-1': 0, 'worker-2': 0}, {'worker-1': 5, 'worker-2': 5}, False)
    >>> out = livelock(fixed=True, max_attempts=10)
    >>> out.finished, min(out.attempts.values()) >= 2  # the forced collision, then success
    (True, True)

    Args:
        fixed: back off for a random time instead of the same fixed time, in lockstep.
        max_attempts: give up after this many attempts each (1 to 100,000).
        backoff_s: the back-off time (the mean, when ``fixed``).
        seed: seed of the random back-off times.

    Returns:
        A :class:`~concurrency_lab.deadlocks.DemoResult` (``progress`` counts transfers).

    Introduced in ``05-deadlocks.ipynb``.
    """
    max_attempts = check_whole(max_attempts, "max_attempts", low=1, high=100_000)
    backoff_s = check_number(backoff_s, "backoff_s", low=0, high=1, unit=" seconds")
    strategy = "random back-off" if fixed else "the same back-off, in lockstep"
    needs = {"worker-1": ("A", "B"), "worker-2": ("B", "A")}
    registry = LockRegistry()
    watchdog = Watchdog(registry, interval_s=0.01)  # to show that it finds nothing
    rec = DemoRecorder(
        "livelock", strategy, "transfer", needs, registry=registry, watchdog=watchdog
    )
    locks = {n: TracedLock(n, registry=registry) for n in ("A", "B")}
    step = threading.Barrier(2, timeout=5)  # the lockstep: both act at the same moments
    errors: list[BaseException] = []

    def worker(name: str, index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        first, second = (locks[n] for n in needs[name])
        try:
            while rec.attempts[name] < max_attempts and not rec.progress[name]:
                rec.attempts[name] += 1
                lockstep = not fixed or rec.attempts[name] == 1
                with first:
                    if lockstep:
                        step.wait()  # both now hold their first lock
                    got = second.acquire(blocking=False)
                    if lockstep:
                        step.wait()  # both have tried their second
                    if got:
                        rec.progress[name] += 1
                        second.release()
                if not got:
                    time.sleep(rng.uniform(0, 2 * backoff_s) if fixed else backoff_s)
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # pragma: no cover - a bug in the demo: report it
            errors.append(exc)
        finally:
            step.abort()  # the other one must not wait for a partner that left

    threads = [
        threading.Thread(target=worker, args=(n, i), name=n, daemon=True)
        for i, n in enumerate(needs)
    ]
    with watchdog:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    if errors:
        raise errors[0]
    return rec.result(threads=threads)


# --------------------------------------------------------------------------- starvation

_RESOURCE = "the resource"


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

    def request(self, name: str, priority: int) -> bool:
        with self.cond:
            self.registry.record(name, _RESOURCE, "wait")
            if self.holder is None and not self.waiting:
                self.holder = name
            else:
                self.waiting.append((priority, next(self.tickets), name))
                self.cond.notify_all()
                self.cond.wait_for(lambda: self.holder == name or self.stop.is_set(), 5)
            if self.holder != name:
                self.waiting = [w for w in self.waiting if w[2] != name]
                self.registry.record(name, _RESOURCE, "giveup")
                return False
            self.registry.record(name, _RESOURCE, "acquire")
            return True

    def release(self, name: str, n_others: int) -> None:
        with self.cond:
            # The demo's busy system: hand over only once every other thread is queued.
            self.cond.wait_for(lambda: len(self.waiting) >= n_others or self.stop.is_set(), 1)
            if name != "start":
                self.registry.record(name, _RESOURCE, "release")
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
    fixed: bool = False,
    n_workers: int = 3,
    turns: int | None = None,
    duration_s: float = 0.3,
    hold_s: float = 0.002,
) -> DemoResult:
    """A resource handed out by priority: the lowest-priority thread never gets a turn.

    ``n_workers`` threads take turns with one shared resource. Whenever it is freed, an
    arbiter hands it to a waiting thread: by priority (``worker-1`` first) or, with
    ``fixed=True``, in arrival order (first come, first served). The threads are always busy:
    each asks again as soon as its turn is over, and the arbiter hands over only once every
    other thread is waiting. By priority, ``worker-1`` and ``worker-2`` pass the resource
    back and forth and the last worker waits the whole time, though nothing is deadlocked:
    it is *starved*. In arrival order everyone gets the same number of turns (give or take
    one).

    >>> dict(starvation(turns=30).progress)
    {'worker-1': 15, 'worker-2': 15, 'worker-3': 0}
    >>> dict(starvation(fixed=True, turns=30).progress)
    {'worker-1': 10, 'worker-2': 10, 'worker-3': 10}

    Args:
        fixed: serve in arrival order instead of by priority.
        n_workers: number of threads (2 to 8); ``worker-1`` has the highest priority.
        turns: stop after this many turns in all (``None``: run for ``duration_s``).
        duration_s: how long the threads compete (at most).
        hold_s: how long each turn lasts.

    Returns:
        A :class:`~concurrency_lab.deadlocks.DemoResult` whose ``progress`` counts turns.

    Introduced in ``05-deadlocks.ipynb``.
    """
    n_workers = check_whole(n_workers, "n_workers", low=2, high=8)
    if turns is not None:
        turns = check_whole(turns, "turns", low=1, high=1_000_000)
    duration_s = check_number(
        duration_s, "duration_s", low=0, high=60, unit=" seconds", low_open=True
    )
    hold_s = check_number(hold_s, "hold_s", low=0, high=1, unit=" seconds")
    names = [f"worker-{i + 1}" for i in range(n_workers)]
    strategy = "first come, first served" if fixed else "by priority"
    rec = DemoRecorder("starvation", strategy, "turn", names)
    stop = threading.Event()
    arbiter = _Arbiter(fair=fixed, registry=rec.registry, stop=stop)
    gate = threading.Barrier(n_workers + 1, timeout=10)

    def worker(name: str, priority: int) -> None:
        try:
            gate.wait()
            while not stop.is_set():
                rec.attempts[name] += 1
                if not arbiter.request(name, priority):
                    rec.attempts[name] -= 1  # refused only because the demo ended
                    continue
                if stop.is_set():
                    rec.attempts[name] -= 1  # granted just as the demo ended: not a turn
                    break
                time.sleep(hold_s)
                rec.progress[name] += 1
                if turns is not None and sum(rec.progress.values()) >= turns:
                    stop.set()  # only the holder counts, so the total is exact
                arbiter.release(name, n_workers - 1)
        except threading.BrokenBarrierError:
            pass

    threads = [
        threading.Thread(target=worker, args=(n, i), name=n, daemon=True)
        for i, n in enumerate(names)
    ]
    try:
        for t in threads:
            t.start()
        gate.wait()
        arbiter.release("start", n_workers)  # the first turn, once everyone is queued
        stop.wait(duration_s)
    finally:
        stop.set()
        gate.abort()
        with arbiter.cond:
            arbiter.cond.notify_all()
        for t in threads:
            t.join(timeout=5)
    return rec.result(threads=threads)
