"""Self-checks for the exercises of lesson 04 (races and locks)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import runners
from ..errors import WorkerError, WorkerTimeoutError
from ..races import Program, ProgramError, SharedCounter, interleavings
from ._base import Feedback

__all__ = ["bounded_buffer_is_correct", "counter_is_correct", "counter_program_is_correct"]


def _call_increment(
    fn: Callable[..., Any], counter: SharedCounter, n: int, barrier: threading.Barrier
) -> None:
    barrier.wait(timeout=5)
    fn(counter, n)


def counter_is_correct(
    increment_many: Callable[[SharedCounter, int], Any],
    *,
    n_workers: int = 2,
    n_increments: int = 100_000,
    n_runs: int = 6,
) -> Feedback:
    """Check an ``increment_many(counter, n)`` that adds 1 to ``counter.value`` ``n`` times.

    It runs in ``n_workers`` threads at once, ``n_runs`` times, on a fresh
    :class:`~concurrency_lab.races.SharedCounter`. While the check runs, the
    interpreter's switch interval is lowered (and then restored) so that threads
    switch far more often and a race has many chances to show. No lost update in
    all runs does not prove the code correct, but any lost update proves it wrong.
    Exercise 1 of ``04-races-and-locks.ipynb``.
    """
    if not callable(increment_many):
        return Feedback(False, "Pass your function itself: counter_is_correct(increment_many).")
    expected = n_workers * n_increments
    old = sys.getswitchinterval()
    finals = []
    try:
        sys.setswitchinterval(1e-5)
        for _ in range(n_runs):
            counter = SharedCounter()
            runners.start_join(
                _call_increment,
                n_workers,
                kind="thread",
                args=(increment_many, counter, n_increments, threading.Barrier(n_workers)),
                timeout_s=30,
            )
            finals.append(counter.value)
    except WorkerTimeoutError:
        return Feedback(
            False,
            "Your threads were still running after 30 s. Is a thread waiting for a lock it "
            "never gets (did each `acquire()` get its `release()`)? `with counter.lock:` "
            "releases for you.",
        )
    except WorkerError as exc:
        return Feedback(
            False,
            f"A thread raised {exc.exc_type}: {str(exc).splitlines()[0]}. Use `counter.value` "
            f"to read and write the count, and `counter.lock` as the lock.",
        )
    finally:
        sys.setswitchinterval(old)
    if all(f == 0 for f in finals):
        return Feedback(
            False, "The counter stayed at 0: does your function add 1 to `counter.value`, n times?"
        )
    if any(f > expected for f in finals):
        return Feedback(
            False,
            f"The counter went past {expected:,} (got {max(finals):,}): each thread should "
            f"add exactly n.",
        )
    lost = [expected - f for f in finals]
    if any(lost):
        return Feedback(
            False,
            f"{sum(1 for x in lost if x)} of {n_runs} runs lost updates (up to {max(lost):,} of "
            f"{expected:,}). `counter.value += 1` reads, adds and writes in separate steps, and "
            f"another thread can write in between. Hold the lock around the whole "
            f"read-add-write: `with counter.lock: counter.value += 1`.",
        )
    return Feedback(
        True,
        f"{n_runs} runs of {n_workers} threads x {n_increments:,} increments: every update "
        f"counted ({expected:,} each time).",
    )


def counter_program_is_correct(prog: Program) -> Feedback:
    """Check a step program where each thread adds 1 to ``counter``: every schedule must end right.

    Exercise 2 of ``04-races-and-locks.ipynb``.
    """
    if not isinstance(prog, Program):
        return Feedback(False, "Pass the program built with cl.program(...).")
    if "counter" not in dict(prog.shared):
        return Feedback(False, "The program needs a shared variable 'counter' starting at 0.")
    try:
        result = interleavings(prog)
    except ProgramError as exc:
        return Feedback(False, f"A schedule misuses a lock: {exc}")
    target = f"counter={len(prog.threads)}"
    hist = result.histogram
    if result.n_deadlocks:
        return Feedback(
            False,
            f"{result.n_deadlocks} of {result.n_schedules} schedules deadlock. Does each "
            f"thread release every lock it acquires, and take locks in the same order?",
        )
    wrong = {o: n for o, n in hist.items() if not o.startswith(target)}
    if wrong:
        n_wrong = sum(wrong.values())
        return Feedback(
            False,
            f"{n_wrong} of {result.n_schedules} schedules still end with "
            f"{', '.join(sorted(wrong))} instead of {target}. The load, the add and the store "
            f"must all sit between ('acquire', 'lock') and ('release', 'lock'), in every thread.",
        )
    return Feedback(
        True,
        f"All {result.n_schedules} schedules end with {target}: the lock leaves no room "
        f"for a race.",
    )


def _producer(buf: Any, state: dict[str, Any]) -> None:
    with state["lock"]:
        start = state["next_producer"]
        state["next_producer"] += 1
    if start >= state["n_producers"]:  # a consumer
        time.sleep(0.02)  # consumers start late, so the producers fill the buffer first
        got = []
        for _ in range(state["per_consumer"]):
            got.append(buf.get())
        with state["lock"]:
            state["received"].extend(got)
        return
    for k in range(state["per_producer"]):
        buf.put((start, k))
        items = getattr(buf, "items", None)
        if items is not None:
            n = len(items)
            with state["lock"]:
                state["max_len"] = max(state["max_len"], n)


def bounded_buffer_is_correct(buffer_class: type, *, capacity: int = 3) -> Feedback:
    """Check a bounded buffer class: ``buffer_class(capacity)`` with ``put(item)`` and ``get()``.

    Two producers put 30 items each while two consumers, starting a little
    later, get 30 each. Every item must arrive exactly once, ``get()`` must wait
    while the buffer is empty, and ``put()`` must wait while it holds
    ``capacity`` items (checked through ``len(buffer.items)`` when there is an
    ``items`` attribute). Exercise 3 of ``04-races-and-locks.ipynb``.
    """
    if not isinstance(buffer_class, type):
        return Feedback(False, "Pass the class itself: bounded_buffer_is_correct(BoundedBuffer).")
    try:
        buf = buffer_class(capacity)
    except Exception as exc:
        return Feedback(False, f"BoundedBuffer({capacity}) raised {type(exc).__name__}: {exc}.")
    per = 30
    state: dict[str, Any] = {
        "lock": threading.Lock(),
        "next_producer": 0,
        "n_producers": 2,
        "per_producer": per,
        "per_consumer": per,
        "received": [],
        "max_len": 0,
    }
    try:
        runners.start_join(_producer, 4, kind="thread", args=(buf, state), timeout_s=10)
    except WorkerTimeoutError:
        return Feedback(
            False,
            "Threads were still waiting after 10 s (they stay blocked in the background). "
            "After a put() or get() changes the buffer, wake the others with "
            "`self.cond.notify_all()`, and wait with `self.cond.wait_for(condition, "
            "timeout=...)` so a waiter rechecks its condition.",
        )
    except WorkerError as exc:
        if exc.exc_type == "IndexError":
            hint = (
                " A consumer ran while the buffer was empty: get() must wait until there is "
                "an item, e.g. `with self.cond: self.cond.wait_for(lambda: len(self.items) > 0, "
                "timeout=5)`."
            )
        elif exc.exc_type == "TimeoutError":
            hint = (
                " A put() or get() waited in vain until its timeout: nobody woke it. After "
                "changing the buffer, call `self.cond.notify_all()` (inside `with self.cond:`)."
            )
        else:
            hint = " The last line of the traceback in the error shows where."
        return Feedback(False, f"A thread raised {exc.exc_type}: {str(exc).splitlines()[0]}.{hint}")
    if state["max_len"] > capacity:
        return Feedback(
            False,
            f"The buffer held {state['max_len']} items, more than its capacity {capacity}: "
            f"put() must wait while it is full, e.g. `self.cond.wait_for(lambda: "
            f"len(self.items) < self.capacity, timeout=5)` inside `with self.cond:`.",
        )
    received = state["received"]
    expected = [(p, k) for p in range(2) for k in range(per)]
    if sorted(x for x in received if isinstance(x, tuple)) != expected:
        missing = len(set(expected) - {x for x in received if isinstance(x, tuple)})
        dupes = len(received) - len(set(map(repr, received)))
        return Feedback(
            False,
            f"Of {len(expected)} items, {missing} never arrived and {dupes} arrived twice "
            f"(get() returned {received.count(None)} times None). get() must wait for an "
            f"item and take it out inside the same `with self.cond:` block.",
        )
    return Feedback(
        True,
        f"All {len(expected)} items arrived exactly once, and the buffer never held more "
        f"than {capacity}.",
    )
