"""Demos that deadlock on purpose and always come back, and a fair race of the fixes.

* :func:`lock_order_inversion`: two transfers take two locks in opposite orders.
* :func:`dining_philosophers`: Dijkstra's table, ``n`` threads, one fork between neighbours.
* :func:`compare_strategies`: the same dinner with every fix, in the same worst timing.

Both demos force the worst timing on purpose: every thread holds its first lock (or waits
for it) before anyone asks for a second. With ``strategy="none"`` they deadlock every time;
a :class:`~concurrency_lab.deadlocks.Watchdog` finds the cycle and aborts one thread, which
puts its lock down and retries. With a strategy from
:data:`~concurrency_lab.deadlocks.STRATEGIES` (the code is
:func:`~concurrency_lab.deadlocks.pick_up`) they never deadlock.

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import get_args

from ..core.load import Load, measure_load
from ..core.results import Result
from ..core.validate import check_number, check_whole
from .graph import natural_key
from .locks import (
    DeadlockError,
    LockClosedError,
    LockRegistry,
    TracedLock,
    WorstTiming,
    join_or_abort,
)
from .outcome import DemoRecorder, DemoResult
from .strategies import Strategy, check_strategy, pick_up
from .watchdog import Watchdog

__all__ = [
    "StrategyComparisonResult",
    "compare_strategies",
    "dining_philosophers",
    "lock_order_inversion",
]


def _run_lock_pairs(
    demo: str,
    unit: str,
    needs: Mapping[str, tuple[str, str]],
    *,
    strategy: Strategy,
    units: int | None,
    duration_s: float,
    think_s: float,
    work_s: float,
    patience_s: float,
    detect_interval_s: float,
    force_deadlock: bool,
    seed: int,
) -> DemoResult:
    """The engine behind the two-lock demos: each thread again and again needs two locks."""
    registry = LockRegistry()
    names = sorted(needs, key=natural_key)
    lock_names = sorted({n for pair in needs.values() for n in pair}, key=natural_key)
    locks = {n: TracedLock(n, registry=registry) for n in lock_names}
    waiter = TracedLock("waiter", registry=registry)
    watchdog = Watchdog(registry, interval_s=detect_interval_s, break_cycles=True)
    rec = DemoRecorder(demo, strategy, unit, names, registry=registry, watchdog=watchdog)
    stop = threading.Event()
    gate = threading.Barrier(len(names) + 1, timeout=10)
    errors: list[BaseException] = []
    if force_deadlock:  # the same worst first round for every strategy
        registry.on_acquire = WorstTiming(registry, names, ignore=[waiter])

    def worker(name: str, index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        first, second = (locks[n] for n in needs[name])
        try:
            gate.wait()
            while not stop.is_set() and (units is None or rec.progress[name] < units):
                if think_s and stop.wait(think_s):
                    break
                rec.attempts[name] += 1
                try:
                    got = pick_up(
                        first, second, strategy, waiter=waiter, rng=rng, patience_s=patience_s
                    )
                except DeadlockError:  # the watchdog's victim: it holds nothing now; retry
                    time.sleep(rng.uniform(0, 2 * max(work_s, 0.001)))
                    continue
                if not got:
                    continue
                try:
                    time.sleep(work_s)
                    rec.progress[name] += 1
                finally:
                    second.release()
                    first.release()
        except (DeadlockError, LockClosedError, threading.BrokenBarrierError):
            pass  # stopped while waiting
        except BaseException as exc:  # pragma: no cover - a bug in the demo: report it
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(n, i), name=n, daemon=True)
        for i, n in enumerate(names)
    ]
    t0 = time.monotonic()
    try:
        with watchdog:
            for t in threads:
                t.start()
            gate.wait()
            for t in threads:
                t.join(timeout=max(0.0, t0 + duration_s - time.monotonic()))
    finally:
        stop.set()
        gate.abort()
        join_or_abort(threads, registry, 0.0)
    if errors:
        raise errors[0]
    finished = units is not None and all(v >= units for v in rec.progress.values())
    return rec.result(threads=threads, finished=finished)


def lock_order_inversion(
    *,
    strategy: Strategy = "none",
    transfers: int = 1,
    work_s: float = 0.001,
    patience_s: float = 0.02,
    detect_interval_s: float = 0.05,
    force_deadlock: bool = True,
    timeout_s: float = 10.0,
    seed: int = 0,
) -> DemoResult:
    """Two threads, two locks, taken in opposite orders: the smallest deadlock there is.

    ``worker-1`` takes A then B; ``worker-2`` takes B then A (two bank transfers, A->B and
    B->A, each locking the source account first). With ``force_deadlock`` both take their
    first lock before either asks for its second, so with ``strategy="none"`` they deadlock
    every time; a watchdog finds the cycle and aborts ``worker-2``, which backs off and
    retries.

    >>> out = lock_order_inversion(detect_interval_s=0.01)
    >>> out.deadlock.threads, out.finished
    (('worker-1', 'worker-2'), True)
    >>> lock_order_inversion(strategy="global_order").deadlocked
    False

    Args:
        strategy: a fix from :data:`~concurrency_lab.deadlocks.STRATEGIES`, or ``"none"``.
        transfers: how many times each thread needs both locks (1 to 10,000).
        work_s: time spent holding both locks each time.
        patience_s: how long ``"timeout_backoff"`` waits for the second lock.
        detect_interval_s: how often the watchdog looks for a cycle.
        force_deadlock: make both threads hold their first lock before either asks for its
            second (the worst case, in the first round).
        timeout_s: give up (and stop the threads) after this long.
        seed: seed of the random back-off times.

    Returns:
        A :class:`~concurrency_lab.deadlocks.DemoResult`; ``.deadlock`` is the cycle.

    Raises:
        ValueError, TypeError: an argument out of range (the message says which).

    Introduced in ``05-deadlocks.ipynb``.
    """
    return _run_lock_pairs(
        "lock-order inversion",
        "transfer",
        {"worker-1": ("A", "B"), "worker-2": ("B", "A")},
        strategy=check_strategy(strategy),
        units=check_whole(transfers, "transfers", low=1, high=10_000),
        duration_s=_seconds(timeout_s, "timeout_s", positive=True),
        think_s=0.0,
        work_s=_seconds(work_s, "work_s"),
        patience_s=_seconds(patience_s, "patience_s", positive=True),
        detect_interval_s=_seconds(detect_interval_s, "detect_interval_s", positive=True),
        force_deadlock=force_deadlock,
        seed=seed,
    )


def dining_philosophers(
    n: int = 5,
    *,
    strategy: Strategy = "none",
    meals: int | None = 1,
    think_s: float = 0.0,
    eat_s: float = 0.002,
    duration_s: float = 10.0,
    patience_s: float = 0.02,
    detect_interval_s: float = 0.05,
    force_deadlock: bool = True,
    seed: int = 0,
) -> DemoResult:
    """Dijkstra's dining philosophers: ``n`` threads around a table, one fork between neighbours.

    Philosopher ``phil-i`` needs ``fork-i`` (left) and ``fork-(i+1)`` (right) to eat. With
    ``strategy="none"`` each picks up the left fork, then the right one; with
    ``force_deadlock`` all hold (or wait for) their first fork before anyone reaches for a
    second, so the table deadlocks in a full circle. The watchdog finds the cycle, aborts
    the last philosopher of it, and dinner goes on. Every strategy gets the same worst start.

    >>> out = dining_philosophers(3, detect_interval_s=0.01)
    >>> out.deadlock.threads
    ('phil-0', 'phil-1', 'phil-2')
    >>> dict(dining_philosophers(3, strategy="global_order").progress)
    {'phil-0': 1, 'phil-1': 1, 'phil-2': 1}

    Args:
        n: number of philosophers (2 to 32).
        strategy: a fix from :data:`~concurrency_lab.deadlocks.STRATEGIES`, or ``"none"``.
        meals: meals each philosopher must eat; ``None`` = eat until ``duration_s``.
        think_s: thinking time before each attempt to eat.
        eat_s: eating time (holding both forks).
        duration_s: stop after this long, however far dinner got.
        patience_s: how long ``"timeout_backoff"`` waits for the second fork.
        detect_interval_s: how often the watchdog looks for a cycle.
        force_deadlock: everyone holds one fork before anyone asks for a second (first
            round only).
        seed: seed of the random back-off times.

    Returns:
        A :class:`~concurrency_lab.deadlocks.DemoResult` (``progress`` = meals eaten).

    Raises:
        ValueError, TypeError: an argument out of range (the message says which).

    Introduced in ``05-deadlocks.ipynb``.
    """
    n = check_whole(n, "n", low=2, high=32)
    if meals is not None:
        meals = check_whole(meals, "meals", low=1, high=100_000)
    needs = {f"phil-{i}": (f"fork-{i}", f"fork-{(i + 1) % n}") for i in range(n)}
    return _run_lock_pairs(
        "dining philosophers",
        "meal",
        needs,
        strategy=check_strategy(strategy),
        units=meals,
        duration_s=_seconds(duration_s, "duration_s", positive=True),
        think_s=_seconds(think_s, "think_s"),
        work_s=_seconds(eat_s, "eat_s"),
        patience_s=_seconds(patience_s, "patience_s", positive=True),
        detect_interval_s=_seconds(detect_interval_s, "detect_interval_s", positive=True),
        force_deadlock=force_deadlock,
        seed=seed,
    )


def _seconds(value: object, name: str, *, positive: bool = False) -> float:
    return check_number(value, name, low=0, high=3600, unit=" seconds", low_open=positive)


@dataclass(frozen=True)
class StrategyComparisonResult(Result):
    """The same dinner with every strategy: deadlocks, extra attempts and time spent waiting.

    Attributes:
        dinners: strategy -> its :class:`~concurrency_lab.deadlocks.DemoResult`.
        meals: meals each philosopher had to eat.
        load: what other programs did to this machine meanwhile (``None`` if unknown).

    Introduced in ``05-deadlocks.ipynb``.
    """

    dinners: Mapping[Strategy, DemoResult]
    meals: int
    load: Load | None = None

    def summary(self) -> str:
        d = self.dinners
        stuck = [s for s, r in d.items() if r.deadlocked]
        fed = [s for s, r in d.items() if r.finished]
        parts = []
        if stuck:
            parts.append(
                f"Deadlocked: {', '.join(stuck)} (rescued by the watchdog); "
                f"{len(d) - len(stuck)} strategies never deadlocked."
            )
        else:
            parts.append("No strategy deadlocked.")
        if len(fed) == len(d):
            parts.append(f"Every philosopher ate {self.meals} meals with every strategy.")
        else:
            parts.append(
                f"Not everyone ate {self.meals} meals with: {', '.join(set(d) - set(fed))}."
            )
        retried = {s: r.retries for s, r in d.items() if r.retries}
        if retried:
            parts.append(
                "Extra attempts (a philosopher put a fork down to try again): "
                + ", ".join(f"{s} {k}" for s, k in retried.items())
                + "; none for "
                + (", ".join(s for s in d if s not in retried) or "no strategy")
                + "."
            )
        waited = ", ".join(f"{s} {r.waited_s() * 1e3:.0f} ms" for s, r in d.items())
        parts.append(f"Time spent waiting for locks, all philosophers together: {waited}.")
        if "arbitrator" in d:
            on_waiter = d["arbitrator"].waited_s("waiter") * 1e3
            parts.append(
                f"With the arbitrator, {on_waiter:.0f} ms of that was waiting for the waiter "
                f"itself: one philosopher collects forks at a time."
            )
        busy = self.load.describe() if self.load is not None else ""
        if busy:
            parts.append(f"{busy} Waiting times grow on a busy machine; attempts hardly do.")
        return " ".join(parts)


def compare_strategies(
    n: int = 5,
    *,
    meals: int = 3,
    strategies: tuple[Strategy, ...] = get_args(Strategy),
    eat_s: float = 0.002,
    detect_interval_s: float = 0.05,
    seed: int = 0,
) -> StrategyComparisonResult:
    """Run the same dinner with each strategy, all forced into the same worst first round.

    Every philosopher holds (or waits for) a first fork before anyone asks for a second, for
    every strategy alike, so the comparison is fair. Compare the *attempts* (they hardly
    change from run to run) more than the milliseconds (they do).

    Args:
        n: philosophers (2 to 32).
        meals: meals each must eat (1 to 1000).
        strategies: which to run, from :data:`~concurrency_lab.deadlocks.STRATEGIES`.
        eat_s: eating time.
        detect_interval_s: how often the watchdog looks for a cycle.
        seed: seed of the random back-off times.

    Returns:
        A :class:`StrategyComparisonResult`.

    Introduced in ``05-deadlocks.ipynb``.
    """
    meals = check_whole(meals, "meals", low=1, high=1000)
    chosen = tuple(check_strategy(s) for s in strategies)
    with measure_load() as meter:
        dinners = {
            s: dining_philosophers(
                n,
                strategy=s,
                meals=meals,
                eat_s=eat_s,
                detect_interval_s=detect_interval_s,
                seed=seed,
            )
            for s in chosen
        }
    return StrategyComparisonResult(MappingProxyType(dinners), meals, meter.load)
