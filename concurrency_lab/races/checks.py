"""Self-checks for the exercises of lesson 04 (races and locks)."""

from __future__ import annotations

import collections
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..core.errors import WorkerError, WorkerTimeoutError
from ..core.feedback import Feedback
from ..core.runners import start_join
from .demos import SharedCounter
from .programs import Program, ProgramError, interleavings

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
            start_join(
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
        return Feedback(False, "Pass the program built with cl.races.program(...).")
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


class _CheckOver(BaseException):
    """Raised in a learner's thread once the check has ended, to unwind it (not an Exception)."""


class _WatchedCondition:
    """Stands in for the buffer's ``threading.Condition``: knows which thread holds it.

    Every wait is cut into short slices, so once the check has ended a waiting
    thread notices and is unwound with :class:`_CheckOver` instead of staying
    blocked in the background.
    """

    def __init__(self, cond: threading.Condition, over: threading.Event) -> None:
        self._cond = cond
        self._over = over
        self._local = threading.local()
        self.used_by: set[str] = set()

    def held(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    def _enter(self) -> None:
        self._local.depth = getattr(self._local, "depth", 0) + 1
        self.used_by.add(threading.current_thread().name)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._cond.acquire(blocking, timeout)
        if got:
            self._enter()
        return got

    def release(self) -> None:
        self._local.depth = getattr(self._local, "depth", 0) - 1
        self._cond.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._over.is_set():
                raise _CheckOver
            left = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if left <= 0:
                return False
            if self._cond.wait(left):
                return True

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.wait(left)
            else:
                self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        self._cond.notify(n)

    def notify_all(self) -> None:
        self._cond.notify_all()


class _WatchedItems(collections.deque):  # type: ignore[type-arg]
    """Stands in for the buffer's ``items`` deque: notes every change made without ``self.cond``.

    It also notes when the buffer grows past its capacity, and once the check has
    ended, ``len()`` raises :class:`_CheckOver` so that a thread spinning on it stops.
    """

    def __init__(self, items: Iterable[Any], watch: _Watch) -> None:
        super().__init__(items)
        self._watch = watch

    def _changed(self, op: str) -> None:
        w = self._watch
        if w.cond is not None and not w.cond.held():
            w.unguarded.setdefault(op, threading.current_thread().name)
        n = collections.deque.__len__(self)
        if n > w.max_len:
            w.max_len = n
            if n > w.capacity:
                w.failed.set()

    def __len__(self) -> int:
        if self._watch.over.is_set():
            raise _CheckOver
        return collections.deque.__len__(self)

    def __bool__(self) -> bool:
        return len(self) > 0

    def append(self, x: Any) -> None:
        super().append(x)
        self._changed("append")

    def appendleft(self, x: Any) -> None:
        super().appendleft(x)
        self._changed("appendleft")

    def pop(self) -> Any:
        x = super().pop()
        self._changed("pop")
        return x

    def popleft(self) -> Any:
        x = super().popleft()
        self._changed("popleft")
        return x


class _Watch:
    """What the bounded-buffer check observed while the threads ran."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.over = threading.Event()  # the check has ended: unwind every thread
        self.failed = threading.Event()  # something went wrong: end the check now
        self.cond: _WatchedCondition | None = None
        self.unguarded: dict[str, str] = {}  # deque operation -> first thread doing it unlocked
        self.max_len = 0
        self.errors: list[tuple[str, BaseException]] = []
        self.received: list[Any] = []
        self.lock = threading.Lock()


def _buffer_worker(buf: Any, watch: _Watch, role: str, index: int, n: int) -> None:
    try:
        if role == "consumer":
            time.sleep(0.02)  # consumers start late, so the producers fill the buffer first
            got = [buf.get() for _ in range(n)]
            with watch.lock:
                watch.received.extend(got)
        else:
            for k in range(n):
                buf.put((index, k))
                if watch.cond is None:  # not watched: look at the length from outside
                    size = len(getattr(buf, "items", ()))
                    watch.max_len = max(watch.max_len, size)
                    if size > watch.capacity:
                        watch.failed.set()
    except _CheckOver:
        pass
    except BaseException as exc:  # shown to the learner
        with watch.lock:
            watch.errors.append((threading.current_thread().name, exc))
        watch.failed.set()


def bounded_buffer_is_correct(
    buffer_class: type, *, capacity: int = 3, n_items: int = 200, timeout_s: float = 3.0
) -> Feedback:
    """Check a bounded buffer class: ``buffer_class(capacity)`` with ``put(item)`` and ``get()``.

    Two producers put ``n_items`` items each while two consumers, starting a
    little later, get as many each. Every item must arrive exactly once,
    ``get()`` must wait while the buffer is empty, ``put()`` must wait while it
    holds ``capacity`` items, and (when the buffer has a ``threading.Condition``
    in ``self.cond`` and a deque in ``self.items``, as in the exercise) every
    change to ``self.items`` must happen while holding ``self.cond``. The
    interpreter's switch interval is lowered during the run so that threads
    switch often. The check stops as soon as a thread raises or the buffer
    overflows, and after ``timeout_s`` at the latest; threads still waiting on
    ``self.cond`` are then unwound. Exercise 3 of ``04-races-and-locks.ipynb``.

    Raises:
        ValueError: ``capacity`` or ``n_items`` below 1, or ``timeout_s`` not > 0.
    """
    for name, value in (("capacity", capacity), ("n_items", n_items)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"'{name}' must be a whole number >= 1 (got {value!r}).")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ValueError(f"'timeout_s' must be a number of seconds > 0 (got {timeout_s!r}).")
    if not isinstance(buffer_class, type):
        return Feedback(False, "Pass the class itself: bounded_buffer_is_correct(BoundedBuffer).")
    try:
        buf = buffer_class(capacity)
    except Exception as exc:
        return Feedback(False, f"BoundedBuffer({capacity}) raised {type(exc).__name__}: {exc}.")
    watch = _Watch(capacity)
    if isinstance(getattr(buf, "cond", None), threading.Condition):
        watch.cond = buf.cond = _WatchedCondition(buf.cond, watch.over)
    if isinstance(getattr(buf, "items", None), collections.deque):
        buf.items = _WatchedItems(buf.items, watch)
    roles = [("producer", 0), ("producer", 1), ("consumer", 0), ("consumer", 1)]
    threads = [
        threading.Thread(
            target=_buffer_worker,
            args=(buf, watch, role, i, n_items),
            name=f"{role}-{i + 1}",
            daemon=True,
        )
        for role, i in roles
    ]
    old = sys.getswitchinterval()
    try:
        sys.setswitchinterval(1e-4)
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout_s
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            if watch.failed.wait(0.01):
                break
        stuck = [t.name for t in threads if t.is_alive()]
    finally:
        sys.setswitchinterval(old)
        watch.over.set()
        for t in threads:
            t.join(timeout=0.5)
    if watch.errors:
        name, exc = watch.errors[0]
        kind = type(exc).__name__
        if kind == "IndexError":
            hint = (
                " A consumer took from an empty buffer: get() must wait until there is an item, "
                "and check again after it wakes (another consumer may have been faster): "
                "`with self.cond: self.cond.wait_for(lambda: len(self.items) > 0, timeout=5)`."
            )
        elif kind == "TimeoutError":
            hint = (
                " A put() or get() waited in vain until its timeout: nobody woke it. After "
                "changing the buffer, call `self.cond.notify_all()` (inside `with self.cond:`)."
            )
        elif kind == "RuntimeError" and "un-acquired" in str(exc):
            hint = " wait() and notify_all() must be called inside `with self.cond:`."
        else:
            hint = " Check the line of your class that raised it."
        return Feedback(False, f"{name} raised {kind}: {exc}.{hint}")
    if watch.max_len > capacity:
        return Feedback(
            False,
            f"The buffer held {watch.max_len} items, more than its capacity {capacity}: "
            f"put() must wait while it is full, and check again after it wakes, e.g. "
            f"`self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5)` inside "
            f"`with self.cond:`.",
        )
    if stuck:
        return Feedback(
            False,
            f"{', '.join(stuck)} still waited after {timeout_s:g} s (the check has now "
            f"stopped them). After a put() or get() changes "
            f"the buffer, wake the others with `self.cond.notify_all()`, and wait with "
            f"`self.cond.wait_for(condition, timeout=...)` so a waiter rechecks its condition.",
        )
    received = watch.received
    expected = [(p, k) for p in range(2) for k in range(n_items)]
    if sorted(x for x in received if isinstance(x, tuple)) != expected:
        missing = len(set(expected) - {x for x in received if isinstance(x, tuple)})
        dupes = len(received) - len(set(map(repr, received)))
        return Feedback(
            False,
            f"Of {len(expected)} items, {missing} never arrived and {dupes} arrived twice "
            f"(get() returned {received.count(None)} times None). get() must wait for an "
            f"item and take it out inside the same `with self.cond:` block.",
        )
    if watch.unguarded:
        op, name = next(iter(watch.unguarded.items()))
        return Feedback(
            False,
            f"Every item arrived this time, but {name} called self.items.{op}() without "
            f"holding self.cond, so another thread can change the buffer between your check "
            f"and your change (a race that just did not show). Do the waiting and the change "
            f"inside one `with self.cond:` block.",
        )
    if watch.cond is not None and not {"producer-1", "consumer-1"} <= watch.cond.used_by:
        return Feedback(
            False,
            "Every item arrived, but put() or get() never took self.cond. Use the "
            "condition to wait: `with self.cond: self.cond.wait_for(...)`.",
        )
    return Feedback(
        True,
        f"All {len(expected)} items arrived exactly once, and the buffer never held more "
        f"than {capacity}.",
    )
