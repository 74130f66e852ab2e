"""Demos that deadlock on purpose and always come back, and the strategies that prevent it.

* :func:`lock_order_inversion` and :func:`dining_philosophers` deadlock in the
  worst timing; a :class:`~concurrency_lab.deadlocks.Watchdog` finds the cycle and
  breaks it. Pass a ``strategy=`` (see :data:`STRATEGIES`) to prevent it instead:
  ``"global_order"``, ``"hierarchy"``, ``"timeout_backoff"``, ``"try_acquire"``
  or ``"arbitrator"``.
* :func:`self_deadlock`: a thread that takes a lock it already holds.
* :func:`dining_philosophers_processes` and :func:`queue_join_trap`: deadlocks
  between processes.
* :func:`livelock` and :func:`starvation`: the relatives of deadlock that no
  wait-for graph shows.

Built on the traced locks of :mod:`concurrency_lab.deadlocks`. Every name here is
also reachable as ``cl.<name>``. Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import itertools
import queue as queue_module
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..core.validate import check_count
from .locks import (
    Deadlock,
    DeadlockError,
    DemoOutcome,
    LockEvent,
    LockMisuseError,
    LockRegistry,
    TracedLock,
    WaitForGraph,
    Watchdog,
    find_deadlock,
    natural_key,
)

__all__ = [
    "DEADLOCK_STRATEGIES",
    "STRATEGIES",
    "ProcessPhilosophersOutcome",
    "QueueJoinOutcome",
    "SelfDeadlockOutcome",
    "dining_philosophers",
    "dining_philosophers_processes",
    "livelock",
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


# --------------------------------------------------------------------------- thread demos


class Rendezvous:
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
    lock_names = sorted({n for pair in needs.values() for n in pair}, key=natural_key)
    locks = {n: TracedLock(n, registry=registry, rank=i) for i, n in enumerate(lock_names)}
    waiter = TracedLock("waiter", registry=registry, rank=-1)
    threads_names = sorted(needs, key=natural_key)
    progress = dict.fromkeys(threads_names, 0)
    attempts = dict.fromkeys(threads_names, 0)
    stop = threading.Event()
    start_gate = threading.Barrier(len(needs) + 1)
    # The adversarial schedule: every thread holds its first lock before anyone asks for a second.
    rendezvous = Rendezvous(len(needs))
    use_rendezvous = force_deadlock and strategy in ("none", "timeout_backoff", "try_acquire")
    errors: list[BaseException] = []

    def order(name: str) -> tuple[TracedLock, TracedLock]:
        first, second = (locks[n] for n in needs[name])
        if strategy == "global_order":
            return tuple(sorted((first, second), key=lambda lk: natural_key(lk.name)))  # type: ignore[return-value]
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
    transfers = check_count(transfers, "transfers", 1, 10_000)
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
    n = check_count(n, "n", 2, 32)
    strategy = _check_strategy(strategy)
    if meals is not None:
        meals = check_count(meals, "meals", 1, 100_000)
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
    max_attempts = check_count(max_attempts, "max_attempts", 1, 100_000)
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
    n_workers = check_count(n_workers, "n_workers", 2, 8)
    if turns is not None:
        turns = check_count(turns, "turns", 1, 1_000_000)
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
    from ..core.children import stop_processes
    from ..core.machine import check_start_method, get_context

    n = check_count(n, "n", 2, 8)
    if strategy not in ("none", "global_order"):
        raise ValueError(
            f"'strategy' must be 'none' or 'global_order' for processes (got {strategy!r})."
        )
    timeout_s = _check_positive("timeout_s", timeout_s, allow_zero=False)
    method = check_start_method(start_method)
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
        stop_processes(procs)
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


def queue_producer(q: Any, n_items: int, item_bytes: int) -> None:
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
    from ..core.children import stop_processes
    from ..core.machine import check_start_method, get_context

    n_items = check_count(n_items, "n_items", 1, 1000)
    item_bytes = check_count(item_bytes, "item_bytes", 1, 64 * 1024 * 1024)
    join_timeout_s = _check_positive("join_timeout_s", join_timeout_s, allow_zero=False)
    method = check_start_method(start_method)
    ctx = get_context(method)
    q = ctx.Queue()
    p = ctx.Process(target=queue_producer, args=(q, n_items, item_bytes), daemon=True)
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
        stop_processes([p])
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
