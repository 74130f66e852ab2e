"""Self-checks for the exercises of lesson 05 (deadlocks)."""

from __future__ import annotations

import queue as queue_module
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.feedback import Feedback
from .demos import STRATEGIES, Rendezvous, dining_philosophers, queue_producer
from .locks import (
    Account,
    DeadlockError,
    LockMisuseError,
    LockRegistry,
    TracedLock,
    Watchdog,
    join_all,
)

__all__ = ["collect_is_safe", "strategy_feeds_everyone", "transfer_is_deadlock_free"]


# Which of Coffman's conditions each strategy takes away.
_REMOVES: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "global_order": frozenset({"circular wait"}),
    "hierarchy": frozenset({"circular wait"}),
    "timeout_backoff": frozenset({"hold and wait", "no preemption"}),
    "try_acquire": frozenset({"hold and wait", "no preemption"}),
    "arbitrator": frozenset({"circular wait"}),
}
_CONDITIONS = ("circular wait", "hold and wait", "no preemption")


def strategy_feeds_everyone(strategy: object, *, breaks: str | None = None, n: int = 5) -> Feedback:
    """Check a strategy name for the dining philosophers: no deadlock, and everyone eats twice.

    With ``breaks``, the strategy must also be one that takes away that deadlock
    condition (``"circular wait"``, ``"hold and wait"`` or ``"no preemption"``).
    Exercise 1 of ``05-deadlocks.ipynb``.

    Raises:
        ValueError: ``breaks`` is not one of the conditions a strategy can take away.
    """
    if breaks is not None and breaks not in _CONDITIONS:
        raise ValueError(
            f"'breaks' must be one of {', '.join(repr(c) for c in _CONDITIONS)} or None "
            f"(got {breaks!r})."
        )
    if strategy not in STRATEGIES:
        return Feedback(
            False,
            f"{strategy!r} is not a strategy. Pick one of: "
            f"{', '.join(repr(s) for s in STRATEGIES)} (see cl.deadlocks.DEADLOCK_STRATEGIES).",
        )
    outcome = dining_philosophers(
        n, strategy=str(strategy), meals=2, eat_s=0.001, detect_interval_s=0.02, duration_s=10
    )
    if outcome.deadlocked:
        wanted = repr(breaks) if breaks else "'hold and wait' or 'circular wait'"
        return Feedback(
            False,
            f"With {strategy!r} the table deadlocked ({outcome.deadlock}). The watchdog rescued "
            f"dinner by aborting a philosopher; without it they would wait forever. Choose a "
            f"strategy that breaks {wanted}.",
        )
    hungry = [p for p, m in outcome.progress.items() if m < 2]
    if hungry:
        return Feedback(
            False,
            f"No deadlock, but {', '.join(hungry)} did not get two meals in 10 s: that is "
            f"starvation. Try a strategy that orders the forks.",
        )
    removes = _REMOVES[str(strategy)]
    if breaks is not None and breaks not in removes:
        return Feedback(
            False,
            f"{strategy!r} fed everyone, but it takes away {' and '.join(sorted(removes))}, "
            f"not {breaks}. Look in the table for a strategy whose fix removes {breaks}.",
        )
    return Feedback(
        True,
        f"No deadlock, and all {n} philosophers ate twice with {strategy!r} "
        f"({STRATEGIES[str(strategy)]}): it removes {' and '.join(sorted(removes))}.",
    )


def _run_transfer(
    transfer: Callable[..., Any], src: Account, dst: Account, amount: int, errors: dict[str, Any]
) -> None:
    try:
        transfer(src, dst, amount)
    except BaseException as exc:  # shown to the learner
        errors[threading.current_thread().name] = exc


def transfer_is_deadlock_free(transfer: Callable[..., Any]) -> Feedback:
    """Check a ``transfer(src, dst, amount)`` that moves money between two accounts.

    Two threads run ``transfer(alice, bob, 10)`` and ``transfer(bob, alice, 5)``
    at the same time, in the worst order: each thread's first lock is taken
    before either thread asks for a second. A watchdog looks for a deadlock and,
    if it finds one, breaks it so the check always ends. Then the balances and
    the locking are checked. Exercise 2 of ``05-deadlocks.ipynb``.
    """
    if not callable(transfer):
        return Feedback(False, "Pass your function itself: transfer_is_deadlock_free(transfer).")
    registry = LockRegistry()
    alice = Account("alice", 100, registry=registry)
    bob = Account("bob", 100, registry=registry)
    rendezvous = Rendezvous(2)
    waited: set[int] = set()

    def after_acquire(lock: TracedLock) -> None:
        me = threading.get_ident()
        if me not in waited and len(registry._held.get(me, [])) == 1:
            waited.add(me)
            rendezvous.arrive_and_wait(timeout=0.3)  # the worst case: both hold one lock

    registry._after_acquire = after_acquire
    errors: dict[str, Any] = {}
    threads = [
        threading.Thread(
            target=_run_transfer,
            args=(transfer, alice, bob, 10, errors),
            name="transfer-1",
            daemon=True,
        ),
        threading.Thread(
            target=_run_transfer,
            args=(transfer, bob, alice, 5, errors),
            name="transfer-2",
            daemon=True,
        ),
    ]
    with Watchdog(registry, interval_s=0.02, break_cycles=True) as dog:
        for t in threads:
            t.start()
        join_all(threads, registry, 2.0)
    events = registry.events()
    first: dict[str, str] = {}  # the first lock each transfer took
    for e in events:
        if e.kind == "acquire":
            first.setdefault(e.thread, e.lock)
    if dog.found:
        _, deadlock = dog.found[0]
        if (first.get("transfer-1"), first.get("transfer-2")) == ("alice", "bob"):
            why = "Each transfer locks its source account first"
        elif (first.get("transfer-1"), first.get("transfer-2")) == ("bob", "alice"):
            why = "Each transfer locks its destination account first"
        else:
            why = "The two transfers take their first locks in opposite orders"
        return Feedback(
            False,
            f"Deadlock: {'; '.join(str(s) for s in deadlock.steps)}. {why}, so two transfers "
            f"in opposite directions wait for each other. Take the two locks in one global "
            f"order, e.g. sorted by account name.",
        )
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        return Feedback(
            False,
            f"{', '.join(alive)} never finished. Does every acquire() get "
            "its release()? 'with account.lock:' does that for you.",
        )
    for name, exc in errors.items():
        if isinstance(exc, LockMisuseError):
            return Feedback(False, f"{name} misused a lock: {exc}")
        if not isinstance(exc, DeadlockError):
            return Feedback(
                False,
                f"{name} raised {type(exc).__name__}: {exc}. Use "
                "src.balance, dst.balance, src.lock and dst.lock.",
            )
    if (alice.balance, bob.balance) != (95, 105):
        return Feedback(
            False,
            f"After transfer(alice, bob, 10) and transfer(bob, alice, 5) the balances should be "
            f"alice=95, bob=105, but they are alice={alice.balance}, bob={bob.balance}. Subtract "
            f"'amount' from src.balance and add it to dst.balance.",
        )
    both_held = _held_both(registry)
    if not both_held:
        return Feedback(
            False,
            "The balances are right and nothing deadlocked, but no transfer held both accounts' "
            "locks at once, so another thread could see money in flight (or lose an update). "
            "Hold both locks while you move the money.",
        )
    # A transfer backed off if a wait for a lock gave up, or if it took a lock again
    # (each transfer needs only two acquires when nothing is put down).
    n_acquires: dict[str, int] = {}
    for e in events:
        if e.kind == "acquire":
            n_acquires[e.thread] = n_acquires.get(e.thread, 0) + 1
    backed_off = any(e.kind == "giveup" for e in events) or max(n_acquires.values()) > 2
    if backed_off:
        how = (
            "when a lock was busy, a transfer put down what it held and tried again, which "
            "removes hold and wait"
        )
    elif len(set(first.values())) == 1:
        how = (
            f"both transfers took {next(iter(first.values()))} first: one global order "
            f"removes the circular wait"
        )
    else:
        how = "no circle of waiting formed"
    return Feedback(True, f"No deadlock even in the worst order, and the money adds up: {how}.")


def _held_both(registry: LockRegistry) -> bool:
    """Whether each transfer thread held both account locks at the same time."""
    holding: dict[str, set[str]] = {}
    ok: set[str] = set()
    for e in registry.events():
        held = holding.setdefault(e.thread, set())
        if e.kind == "acquire":
            held.add(e.lock)
            if {"alice", "bob"} <= held:
                ok.add(e.thread)
        elif e.kind == "release":
            held.discard(e.lock)
    return ok == {"transfer-1", "transfer-2"}


class _GuardedProcess:
    """A process whose ``join()`` never waits longer than a moment, and remembers how it went."""

    def __init__(self, process: Any, queue: _GuardedQueue) -> None:
        self._p = process
        self._q = queue
        self.joined_while_full = False
        self.joined = False

    def join(self, timeout: float | None = None) -> None:
        self.joined = True
        limit = 1.0 if timeout is None else min(timeout, 1.0)
        self._p.join(timeout=limit)
        # Only a join() without a timeout would wait forever; a timed one just returns.
        if timeout is None and self._p.is_alive() and self._q.taken < self._q.n_items:
            self.joined_while_full = True

    def is_alive(self) -> bool:
        return self._p.is_alive()

    @property
    def exitcode(self) -> int | None:
        return self._p.exitcode


class _GuardedQueue:
    """A queue whose ``get()`` never waits longer than 2 s."""

    def __init__(self, q: Any, n_items: int) -> None:
        self._q = q
        self.n_items = n_items
        self.taken = 0

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        limit = 2.0 if timeout is None else min(timeout, 2.0)
        item = self._q.get(block, limit if block else None)
        self.taken += 1
        return item

    def empty(self) -> bool:
        return bool(self._q.empty())


def collect_is_safe(
    collect: Callable[..., Any], *, start_method: str | None = None, n_items: int = 4
) -> Feedback:
    """Check a ``collect(process, queue, n_items)`` that returns the items a child put on a queue.

    The child puts ``n_items`` items of 256 KiB each (more than a pipe holds), so
    it cannot end before they are read. Your function must get them all and
    leave the process finished. For safety the process's ``join()`` here waits at
    most 1 s and the queue's ``get()`` at most 2 s. Exercise 3 of
    ``05-deadlocks.ipynb``.
    """
    from ..core.children import stop_processes
    from ..core.machine import get_context

    if not callable(collect):
        return Feedback(False, "Pass your function itself: collect_is_safe(collect).")
    ctx = get_context(start_method)
    q = ctx.Queue()
    p = ctx.Process(target=queue_producer, args=(q, n_items, 256 * 1024), daemon=True)
    guarded_q = _GuardedQueue(q, n_items)
    guarded_p = _GuardedProcess(p, guarded_q)
    error: BaseException | None = None
    items: Any = None
    t0 = time.monotonic()
    try:
        p.start()
        try:
            items = collect(guarded_p, guarded_q, n_items)
        except queue_module.Empty:
            error = queue_module.Empty()
        except Exception as exc:
            error = exc
        p.join(timeout=5)
        finished = not p.is_alive()
    finally:
        stop_processes([p])
        q.close()
        q.join_thread()
    took = time.monotonic() - t0
    if guarded_p.joined_while_full:
        return Feedback(
            False,
            "You called join() while the child still had items to hand over: the child waits "
            "for you to read, you wait for it to end. (Here join() gave up after 1 s; a real "
            "one would wait forever.) Read all the items first, then join.",
        )
    if isinstance(error, queue_module.Empty):
        return Feedback(
            False,
            f"A get() waited 2 s for an item that never came: the child puts "
            f"exactly {n_items} items; get that many, no more.",
        )
    if error is not None:
        return Feedback(False, f"Your function raised {type(error).__name__}: {error}")
    if not isinstance(items, list) or len(items) != n_items:
        got = f"{len(items)} items" if isinstance(items, list) else repr(type(items).__name__)
        return Feedback(False, f"Return a list of the {n_items} items you got (got {got}).")
    if not guarded_p.joined or not finished:
        return Feedback(
            False,
            "You got the items, but never joined the process: call process.join() after "
            "reading them, so the finished child is waited for and cleaned up.",
        )
    return Feedback(
        True,
        f"All {n_items} items read, then the process joined, in {took:.2f} s: "
        f"no waiting in a circle.",
    )
