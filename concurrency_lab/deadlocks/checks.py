"""Self-checks for the exercises of lesson 05 (deadlocks): ``cl.check.deadlocks.<exercise>``.

* :func:`transfer`: a ``transfer(src, dst, amount)`` that cannot deadlock (Exercise 1).
* :func:`back_off`: a ``pick_up(first, second)`` that never waits while holding (Exercise 2).
* :func:`where_stuck`: a ``where_stuck(thread)`` that names the line a thread waits on
  (Exercise 3).

Each runs the learner's code in threads, in the worst timing, with a watchdog and timeouts,
so a wrong answer deadlocks or spins only inside the check and is always brought back.
A failure names the concept; ``cl.check.hint()`` gives more, the last hint the code.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ..core.feedback import Feedback, call_with_timeout, failed, not_a_function, passed
from .locks import (
    Account,
    DeadlockError,
    LockClosedError,
    LockEvent,
    LockMisuseError,
    LockRegistry,
    TracedLock,
    WorstTiming,
)
from .watchdog import Watchdog

__all__ = ["back_off", "transfer", "where_stuck"]

_DONE = "the self-check has ended"


def _run(fn: Callable[..., Any], args: tuple[Any, ...], errors: dict[str, BaseException]) -> None:
    try:
        fn(*args)
    except (DeadlockError, LockClosedError):
        pass  # the check broke a deadlock or ended; reported from its own records
    except BaseException as exc:  # shown to the learner
        errors[threading.current_thread().name] = exc


def _join_then_close(
    threads: list[threading.Thread], registry: LockRegistry, timeout_s: float
) -> list[str]:
    """Join; then close the registry (every wait and try raises) and join again.

    Returns the threads that had not finished within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    late = [t.name for t in threads if t.is_alive()]
    registry.close(_DONE)
    for t in threads:
        t.join(timeout=2)
    return late


def _hold_and_wait(events: tuple[LockEvent, ...], threads: set[str]) -> tuple[str, str] | None:
    """The first ``(thread, "timed" | "blocking")`` that waited for a lock while holding one."""
    held: dict[str, set[str]] = {}
    for i, e in enumerate(events):
        if e.thread not in threads:
            continue
        mine = held.setdefault(e.thread, set())
        if e.kind == "acquire":
            mine.add(e.lock)
        elif e.kind == "release":
            mine.discard(e.lock)
        elif e.kind == "wait" and mine:
            later = (x for x in events[i + 1 :] if x.thread == e.thread and x.lock == e.lock)
            end = next(later, None)
            return e.thread, "timed" if end is not None and end.kind == "giveup" else "blocking"
    return None


# --------------------------------------------------------------------------- Exercise 1


_TRANSFER_CODE = """```python
def transfer(src, dst, amount):
    first, second = sorted([src, dst], key=lambda account: account.name)
    with first.lock:
        with second.lock:
            src.balance -= amount
            dst.balance += amount
```"""


def transfer(fn: Callable[..., Any]) -> Feedback:
    """Check a ``transfer(src, dst, amount)`` that moves money between two accounts.

    Two threads run ``transfer(alice, bob, 10)`` and ``transfer(bob, alice, 5)`` at the same
    time, in the worst timing: each thread's first lock is taken before either thread asks
    for a second. A watchdog looks for a deadlock and breaks it, so the check always ends.
    Then the balances and the locking are checked. Exercise 1 of ``05-deadlocks.ipynb``.
    """
    ex = "deadlocks.transfer"
    if (bad := not_a_function(ex, fn, "transfer")) is not None:
        return bad
    registry = LockRegistry()
    alice = Account("alice", 100, registry=registry)
    bob = Account("bob", 100, registry=registry)
    names = ["transfer-1", "transfer-2"]
    registry.on_acquire = WorstTiming(registry, names, timeout_s=0.3)
    errors: dict[str, BaseException] = {}
    threads = [
        threading.Thread(target=_run, args=(fn, (src, dst, amount), errors), name=name, daemon=True)
        for name, (src, dst, amount) in zip(names, [(alice, bob, 10), (bob, alice, 5)])
    ]
    with Watchdog(registry, interval_s=0.02, break_cycles=True) as dog:
        for t in threads:
            t.start()
        late = _join_then_close(threads, registry, 2.0)
    events = registry.events()
    first: dict[str, str] = {}  # the first lock each transfer took
    for e in events:
        if e.kind == "acquire":
            first.setdefault(e.thread, e.lock)
    if dog.found:
        _, deadlock = dog.found[0]
        order = (first.get("transfer-1"), first.get("transfer-2"))
        if order == ("alice", "bob"):
            why = "Each transfer locks its source account first"
        elif order == ("bob", "alice"):
            why = "Each transfer locks its destination account first"
        else:
            why = "The two transfers take their locks in opposite orders"
        return failed(
            ex,
            f"Deadlock: {'; '.join(str(s) for s in deadlock.steps)}. {why}, so two transfers "
            f"in opposite directions wait for each other in a circle (the check broke it).",
            "Which of the four conditions can a transfer take away? Look at the order in "
            "which the two transfers take the two locks.",
            "If every transfer takes the two locks in the same order, whatever way the money "
            "goes, no circle of waiting can form. Any fixed order works: by account name, or "
            "by id().",
            _TRANSFER_CODE,
        )
    if late:
        return failed(
            ex,
            f"{', '.join(late)} did not finish within 2 s. Does every acquire() get its "
            f"release(), and does a retry loop end?",
            "'with account.lock:' releases the lock for you, even when an error happens.",
            _TRANSFER_CODE,
        )
    for name, exc in errors.items():
        return failed(
            ex,
            f"{name} raised {type(exc).__name__}: {exc}",
            "Use src.balance, dst.balance, src.lock and dst.lock; take each lock once.",
            _TRANSFER_CODE,
        )
    if (alice.balance, bob.balance) != (95, 105):
        return failed(
            ex,
            f"After transfer(alice, bob, 10) and transfer(bob, alice, 5) the balances should "
            f"be alice=95, bob=105, but they are alice={alice.balance}, bob={bob.balance}.",
            "Subtract 'amount' from src.balance and add it to dst.balance, once each.",
            _TRANSFER_CODE,
        )
    if not _held_both(events, set(names)):
        return failed(
            ex,
            "The balances are right and nothing deadlocked, but a transfer did not hold both "
            "accounts' locks while it moved the money, so another thread could see money in "
            "flight (or lose an update).",
            "Take both locks, then move the money, then let both go.",
            _TRANSFER_CODE,
        )
    gave_up = any(e.kind == "giveup" for e in events)
    tried = any(e.kind == "busy" for e in events)
    if gave_up:
        how = (
            "a transfer waited only a bounded time, then gave its lock back itself (that "
            "removes no preemption)"
        )
    elif tried:
        how = "a transfer never waited while it held a lock (that removes hold and wait)"
    elif len(set(first.values())) == 1:
        how = (
            f"both transfers took {next(iter(first.values()))} first: one global order "
            f"removes the circular wait"
        )
    else:
        how = "no circle of waiting formed"
    return passed(ex, f"No deadlock even in the worst timing, and the money adds up: {how}.")


def _held_both(events: tuple[LockEvent, ...], threads: set[str]) -> bool:
    """Whether each of ``threads`` held both account locks at the same time."""
    holding: dict[str, set[str]] = {}
    ok: set[str] = set()
    for e in events:
        held = holding.setdefault(e.thread, set())
        if e.kind == "acquire":
            held.add(e.lock)
            if {"alice", "bob"} <= held:
                ok.add(e.thread)
        elif e.kind == "release":
            held.discard(e.lock)
    return ok >= threads


# --------------------------------------------------------------------------- Exercise 2

_BACK_OFF_CODE = """```python
import random
import time

def pick_up(first, second):
    while True:
        first.acquire()
        if second.acquire(blocking=False):   # never wait while holding `first`
            return
        first.release()                      # put it down ...
        time.sleep(random.uniform(0, 0.002)) # ... and wait a random moment
```"""
_HOLD_S = 0.1  # how long the check keeps `second` busy in the first scene
_ROUNDS = 5  # meals each picker eats in the second scene


def _pick_and_put_down(
    pick_up: Callable[..., Any],
    first: TracedLock,
    second: TracedLock,
    rounds: int,
    report: dict[str, Any],
) -> None:
    me = threading.current_thread().name
    for _ in range(rounds):
        pick_up(first, second)
        owners = (first.statistics().owner, second.statistics().owner)
        if owners != (me, me):
            report.setdefault("not held", (me, owners))
            return
        time.sleep(0.001)
        second.release()
        first.release()
        report[me] = report.get(me, 0) + 1


def back_off(pick_up: Callable[..., Any]) -> Feedback:
    """Check a ``pick_up(first, second)`` that returns holding both locks, never waiting for
    ``second`` while it holds ``first``, and backing off for a random moment between tries.

    Two scenes, each with its own traced locks, a watchdog and timeouts:

    1. The check holds ``second`` for 100 ms; ``pick_up`` must wait that out without holding
       ``first`` while it waits, pausing between tries (no busy loop), for pauses that are
       not all the same.
    2. Two threads call it with the locks in opposite orders, five times each, in the worst
       timing (both hold their first lock before either tries a second); both must finish.

    Exercise 2 of ``05-deadlocks.ipynb``.
    """
    ex = "deadlocks.back_off"
    if (bad := not_a_function(ex, pick_up, "pick_up")) is not None:
        return bad
    hints = (
        "Which of the four conditions does this exercise take away? Hold and wait: never "
        "wait for `second` while you hold `first`.",
        "Try `second` without waiting: second.acquire(blocking=False) returns True or False at "
        "once. If False, release `first`, wait a random moment (random.uniform), try again.",
        _BACK_OFF_CODE,
    )
    # Scene 1: `second` is busy for a while.
    reg = LockRegistry()
    first, second = TracedLock("first", registry=reg), TracedLock("second", registry=reg)
    busy, go = threading.Event(), threading.Event()

    def holder() -> None:
        with second:
            busy.set()
            go.wait(timeout=_HOLD_S)

    report: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}
    keeper = threading.Thread(target=holder, name="holder", daemon=True)
    picker = threading.Thread(
        target=_run,
        args=(_pick_and_put_down, (pick_up, first, second, 1, report), errors),
        name="picker",
        daemon=True,
    )
    keeper.start()
    busy.wait(timeout=2)
    picker.start()
    late = _join_then_close([picker, keeper], reg, 2.0)
    verdict = _judge(ex, reg.events(), {"picker"}, late, errors, report, hints)
    if verdict is not None:
        return verdict
    tries = [e.time_ns for e in reg.events() if e.thread == "picker" and e.kind == "busy"]
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    if _no_pause(len(tries), gaps):
        return failed(
            ex,
            f"pick_up tried {len(tries)} times in {_HOLD_S * 1e3:.0f} ms: it retries at once, "
            f"without a pause, which keeps a CPU busy doing nothing useful.",
            "After putting `first` down, wait a moment before the next try.",
            "time.sleep(random.uniform(0, 0.002)) waits between 0 and 2 ms.",
            _BACK_OFF_CODE,
        )
    if _same_pause(gaps):
        return failed(
            ex,
            f"pick_up paused about {min(gaps) / 1e6:.1f} ms between tries, the same "
            f"every time. Two identical threads that collide and then wait the same time can "
            f"collide again and again: a livelock.",
            "Make the pause random, so that two threads drift apart.",
            "time.sleep(random.uniform(0, 0.002)) instead of a fixed time.sleep(...).",
            _BACK_OFF_CODE,
        )
    # Scene 2: two pickers, opposite orders, the worst timing.
    reg = LockRegistry()
    a, b = TracedLock("A", registry=reg), TracedLock("B", registry=reg)
    names = ["picker-1", "picker-2"]
    reg.on_acquire = WorstTiming(reg, names, timeout_s=0.3)
    report, errors = {}, {}
    threads = [
        threading.Thread(
            target=_run,
            args=(_pick_and_put_down, (pick_up, x, y, _ROUNDS, report), errors),
            name=name,
            daemon=True,
        )
        for name, (x, y) in zip(names, [(a, b), (b, a)])
    ]
    with Watchdog(reg, interval_s=0.02, break_cycles=True) as dog:
        for t in threads:
            t.start()
        late = _join_then_close(threads, reg, 2.0)
    if dog.found:
        return failed(
            ex,
            f"Deadlock with two threads: {dog.found[0][1]}. Each waited for its second lock "
            f"while holding its first (the check broke it).",
            *hints,
        )
    verdict = _judge(ex, reg.events(), set(names), late, errors, report, hints)
    if verdict is not None:
        return verdict
    if len(gaps) >= 6 and not sleep_is_coarse():
        pauses = f"paused a varying moment between its {len(tries)} tries while `second` was busy"
    else:
        pauses = f"waited out a busy `second` in {len(tries)} tries"
    return passed(
        ex,
        f"pick_up never waited while holding a lock (no hold and wait), {pauses}, and two "
        f"threads taking the locks in opposite orders each got both {_ROUNDS} times in the "
        f"worst timing.",
    )


def sleep_is_coarse(platform: str = sys.platform, version: tuple[int, int] | None = None) -> bool:
    """Whether ``time.sleep`` rounds short pauses up to the system timer's tick (about 15.6 ms):
    Windows before Python 3.11, which brought high-resolution timers there. Every short pause
    then lasts one tick, random or not, so a fixed pause cannot be told from the gaps."""
    major_minor = version if version is not None else sys.version_info[:2]
    return platform == "win32" and major_minor < (3, 11)


def _no_pause(n_tries: int, gaps_ns: list[int]) -> bool:
    """Whether ``pick_up`` retried without pausing: more than 1,000 tries in the 100 ms that
    ``second`` was busy, or tries a median 50 µs apart or closer. The count alone misjudges a
    busy machine, where a spinning thread gets little CPU time and makes fewer tries (here,
    under a load average of about 100, fewer than 1,000), but those tries still come in quick
    bursts. No ``time.sleep`` of any length brings the median that low: the shortest sleep
    lasted about 60 µs here, and a random pause of up to 0.2 ms had a median near 175 µs."""
    return n_tries > 1000 or (len(gaps_ns) >= 6 and statistics.median(gaps_ns) <= 50_000)


def _same_pause(gaps_ns: list[int]) -> bool:
    """Whether the pauses between tries look fixed: 6 or more, and 60 % of them within 25 %
    of the shortest. A sleep never ends early, and a late wake-up on a busy machine makes a
    gap longer, so a fixed pause keeps most gaps near its shortest one; a random pause does
    not. Measured here (2 cores, load average about 4): fixed 1 ms and 5 ms pauses kept at
    least 82 % of their gaps there; uniform(0, 2 ms), (0, 10 ms), (0, 20 ms) and (1, 3 ms)
    at most 35 %."""
    if len(gaps_ns) < 6 or sleep_is_coarse():
        return False
    shortest = min(gaps_ns)
    return sum(g <= 1.25 * shortest for g in gaps_ns) >= 0.6 * len(gaps_ns)


def _judge(
    ex: str,
    events: tuple[LockEvent, ...],
    threads: set[str],
    late: list[str],
    errors: dict[str, BaseException],
    report: dict[str, Any],
    hints: tuple[str, ...],
) -> Feedback | None:
    """The verdicts both scenes share; ``None`` when the scene went well."""
    waited = _hold_and_wait(events, threads)
    if waited is not None and waited[1] == "timed":
        return failed(
            ex,
            f"{waited[0]} waited for its second lock with a timeout while holding the first. "
            f"A timed wait still holds while it waits: that is hold and wait, only bounded.",
            *hints,
        )
    if waited is not None:
        return failed(
            ex,
            f"{waited[0]} waited for its second lock while holding the first: hold and wait.",
            *hints,
        )
    for name, exc in errors.items():
        if isinstance(exc, LockMisuseError):
            return failed(
                ex,
                f"{name}: {exc}",
                "Put `first` down (first.release()) before you try again.",
                *hints[1:],
            )
        return failed(ex, f"{name} raised {type(exc).__name__}: {exc}", *hints)
    if "not held" in report:
        who, owners = report["not held"]
        return failed(
            ex,
            f"pick_up returned in {who}, but then `first` was held by {owners[0] or 'nobody'} "
            f"and `second` by {owners[1] or 'nobody'}: it must return only once it holds both.",
            "Loop until the try for `second` succeeds; return then, still holding both.",
            *hints[1:],
        )
    if late:
        return failed(
            ex,
            f"{', '.join(late)} did not finish in time: pick_up kept trying without ever "
            f"getting both locks. Does it put `first` down before it tries again?",
            *hints,
        )
    return None


# --------------------------------------------------------------------------- Exercise 3

_WHERE_CODE = """```python
import sys
import traceback

def where_stuck(thread):
    frame = sys._current_frames()[thread.ident]      # its innermost frame
    return traceback.extract_stack(frame)[-1].line   # the last call is where it is now
```"""


def _wait_for_the_other(first: Any, second: Any, meet: threading.Barrier, stop: Any) -> None:
    with first:
        meet.wait()
        while not stop.is_set():
            # Both threads wait on the next line, each for the lock the other holds.
            if second.acquire(timeout=0.2):
                second.release()
                return


def _stuck_line() -> tuple[int, str]:
    lines, start = _source_of_waiter()
    for offset, text in enumerate(lines):
        if "second.acquire(" in text:
            return start + offset, text.strip()
    raise RuntimeError("the check's waiting line is missing")  # pragma: no cover


def _source_of_waiter() -> tuple[list[str], int]:
    import inspect

    return inspect.getsourcelines(_wait_for_the_other)


def where_stuck(fn: Callable[[threading.Thread], Any]) -> Feedback:
    """Check a ``where_stuck(thread)`` that returns the line of code ``thread`` is running now.

    Two threads take two plain ``threading.Lock``\\ s in opposite orders and wait for each
    other (with a short timeout, in a loop, so the check can stop them). While they are
    stuck, ``fn`` is called with each thread; it must return the source line each one is
    waiting on, as text (the line number is accepted too). Exercise 3 of
    ``05-deadlocks.ipynb``.
    """
    ex = "deadlocks.where_stuck"
    if (bad := not_a_function(ex, fn, "where_stuck")) is not None:
        return bad
    hints = (
        "Python keeps every thread's current frame: sys._current_frames() maps each thread's "
        "id (thread.ident) to its innermost frame.",
        "traceback.extract_stack(frame) lists the calls from the outermost to the innermost; "
        "the last one is where the thread is now, and its .line is the source text.",
        _WHERE_CODE,
    )
    lineno, text = _stuck_line()
    lock_a, lock_b = threading.Lock(), threading.Lock()
    meet, stop = threading.Barrier(2, timeout=2), threading.Event()
    threads = [
        threading.Thread(
            target=_wait_for_the_other, args=(x, y, meet, stop), name=name, daemon=True
        )
        for name, (x, y) in (("A then B", (lock_a, lock_b)), ("B then A", (lock_b, lock_a)))
    ]
    answers: dict[str, tuple[str, Any]] = {}
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not all(_at_line(t, lineno) for t in threads):
            time.sleep(0.005)
        for t in threads:
            answers[t.name] = call_with_timeout(fn, t, timeout_s=2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=2)
    for name, (status, value) in answers.items():
        if status == "hung":
            return failed(ex, f"where_stuck({name!r}) did not return within 2 s.", *hints)
        if status == "error":
            return failed(ex, f"where_stuck raised {type(value).__name__}: {value}", *hints)
        if value == lineno or (isinstance(value, str) and text in value):
            continue
        if isinstance(value, traceback.FrameSummary) or hasattr(value, "f_lineno"):
            return failed(
                ex,
                f"where_stuck returned a {type(value).__name__}; return the line itself, as text.",
                *hints[1:],
            )
        if isinstance(value, str) and value.strip():
            return failed(
                ex,
                f"For thread {name!r} you returned {value.strip()!r}, but it waits on another "
                f"line. The outermost calls are where it started; where it is now is the "
                f"innermost, the last one.",
                *hints[1:],
            )
        return failed(
            ex, f"where_stuck returned {value!r}: return the line of code, as text.", *hints
        )
    return passed(
        ex,
        f"Both threads wait on `{text}` (line {lineno}): each holds one lock and waits for "
        f"the other's. That is how you find a real hang: look at every thread's innermost "
        f"frame.",
    )


def _at_line(thread: threading.Thread, lineno: int) -> bool:
    frame = sys._current_frames().get(thread.ident or -1)
    return frame is not None and frame.f_lineno == lineno
