"""Self-checks for the exercises of lesson 04 (races and locks): ``cl.check.races.<exercise>``.

Each check runs the learner's answer and answers with a :class:`Feedback`. A wrong answer's
message names the concept that is missing; ``cl.check.hint()`` then gives more and more
concrete hints, the last one the code.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from ..core.feedback import Feedback, call_with_timeout, failed, passed
from ..core.validate import check_number, check_whole
from .counters import SharedCounter
from .schedules import interleavings
from .steps import Program, ProgramError
from .watched_buffer import put_when_full, watch_buffer

__all__ = ["bounded_buffer", "locked_counter", "locked_steps"]

_COUNTER = "races.locked_counter"
_STEPS = "races.locked_steps"
_BUFFER = "races.bounded_buffer"
_RUN_S = 30.0

_LOCK_CODE = """```python
def count_in_two_threads(counter, n):
    lock = threading.Lock()              # one lock, shared by both threads

    def add_many():
        for _ in range(n):
            with lock:                   # one thread at a time from here ...
                counter.value += 1       # ... the read, the add and the write
                                         # ... to here (released even on an error)
    threads = [threading.Thread(target=add_many) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
```"""


class WatchedCounter(SharedCounter):
    """A :class:`SharedCounter` that also notes which threads write, and how often they alternate.

    Asking which thread is writing is a function call inside the setter, one more place
    where a thread switch can fall between a read and its write: an unlocked increment
    loses updates even more reliably here.
    """

    def __init__(self) -> None:
        super().__init__()
        self.writers: list[threading.Thread] = []  # the objects: a thread id can be reused
        self.turns = 0
        self._last: threading.Thread | None = None

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        me = threading.current_thread()
        if me is not self._last:
            self._last = me
            self.turns += 1
            if me not in self.writers:
                self.writers.append(me)
        if new <= self._value:
            self.splits += 1
        self._value = new


def locked_counter(
    count_in_two_threads: Callable[[Any, int], Any],
    *,
    n_increments: int = 100_000,
    n_runs: int = 4,
) -> Feedback:
    """Check ``count_in_two_threads(counter, n)``: two threads, each adding 1 ``n`` times.

    Each run passes a fresh counter (``counter.value`` is read and written through a
    property) and lowers the interpreter's switch interval meanwhile (restored after), so
    threads switch far more often and a race has many chances to show. No lost update does
    not prove the code correct, but any lost update proves it wrong. Exercise 1 of
    ``04-races-and-locks.ipynb``.

    Raises:
        ValueError, TypeError: ``n_increments`` or ``n_runs`` out of range.
    """
    n = check_whole(n_increments, "n_increments", low=1, high=1_000_000)
    n_runs = check_whole(n_runs, "n_runs", low=1, high=20)
    if not callable(count_in_two_threads):
        return Feedback(
            False,
            "Pass your function itself, without calling it: "
            "cl.check.races.locked_counter(count_in_two_threads).",
        )
    expected = 2 * n
    finals: list[int] = []
    turns: list[int] = []
    old = sys.getswitchinterval()
    try:
        sys.setswitchinterval(1e-5)
        for _ in range(n_runs):
            counter = WatchedCounter()
            status, value = call_with_timeout(count_in_two_threads, counter, n, timeout_s=_RUN_S)
            if status == "hung":
                return failed(
                    _COUNTER,
                    f"Your function was still running after {_RUN_S:g} s. A thread that waits "
                    f"for a lock nobody releases waits forever.",
                    "Does every `lock.acquire()` have its `lock.release()`, also when the "
                    "code between them raises?",
                    "`with lock:` acquires the lock and releases it when the block ends, "
                    "whatever happens inside.",
                    _LOCK_CODE,
                )
            if status == "error":
                return failed(
                    _COUNTER,
                    f"Your function raised {type(value).__name__}: {value}.",
                    "The check calls `count_in_two_threads(counter, n)`: read and write "
                    "`counter.value`, and start the threads inside the function.",
                    _LOCK_CODE,
                )
            running = [t.name for t in counter.writers if t.is_alive()]
            if running:
                for t in counter.writers:
                    t.join(timeout=_RUN_S)
                return failed(
                    _COUNTER,
                    f"Your function returned while {', '.join(running)} still added to the "
                    f"counter, so the count was read before the work was done.",
                    "Wait for each thread to finish before the function returns.",
                    "Call `t.join()` for every thread you started, after starting them all.",
                    _LOCK_CODE,
                )
            finals.append(counter.value)
            turns.append(counter.turns)
            if len(counter.writers) < 2 and counter.value > 0:
                return failed(
                    _COUNTER,
                    f"Only {len(counter.writers)} thread added to the counter: the exercise "
                    f"is about two threads sharing it.",
                    "Start two `threading.Thread`s that each run the adding loop, then join both.",
                    _LOCK_CODE,
                )
    finally:
        sys.setswitchinterval(old)
    if all(f == 0 for f in finals):
        return failed(
            _COUNTER,
            "The counter stayed at 0: nothing added 1 to `counter.value`.",
            "Each of the two threads should run a loop that adds 1 to `counter.value`, n times.",
            _LOCK_CODE,
        )
    if max(finals) > expected:
        return failed(
            _COUNTER,
            f"The counter went past {expected:,} (got {max(finals):,}): each of the two "
            f"threads should add exactly n.",
            _LOCK_CODE,
        )
    lost = [expected - f for f in finals]
    if any(lost):
        runs_lost = sum(1 for x in lost if x)
        return failed(
            _COUNTER,
            f"{runs_lost} of {n_runs} runs lost updates (up to {max(lost):,} of {expected:,}): "
            f"one thread's read-add-write can still be split by the other's.",
            "Which object of `threading` lets only one thread at a time run a block of code? "
            "Both threads must use the same one.",
            "Create one `threading.Lock()` before starting the threads (a lock made inside "
            "the thread's function is a different lock in each thread, and protects "
            "nothing), and hold it around `counter.value += 1`.",
            _LOCK_CODE,
        )
    text = (
        f"{n_runs} runs of 2 threads x {n:,} increments, with the switch interval lowered to "
        f"0.01 ms so that threads switch far more often: every update counted ({expected:,} "
        f"each time)."
    )
    if max(turns) <= 2:
        text += (
            " In every run one thread did all its increments before the other began (a lock "
            "around the whole loop does that, and so does starting the second thread after "
            "joining the first). Correct, but then only one thread works at a time: hold a "
            "lock only around the steps that must not be split."
        )
    return passed(_COUNTER, text)


def locked_steps(prog: Program) -> Feedback:
    """Check a step program where each thread adds 1 to ``counter``: every schedule must end right.

    Exercise 2 of ``04-races-and-locks.ipynb``.
    """
    if not isinstance(prog, Program):
        return Feedback(False, "Pass the program built with cl.races.program(...).")
    if "counter" not in dict(prog.shared):
        return Feedback(False, "The program needs a shared variable 'counter' starting at 0.")
    code = """```python
t1 = [("acquire", "lock"), ("load", "counter", "tmp"), ("add", "tmp", 1),
      ("store", "counter", "tmp"), ("release", "lock")]
t2 = list(t1)
```"""
    try:
        result = interleavings(prog)
    except ProgramError as exc:
        return failed(
            _STEPS,
            f"A schedule misuses a lock: {exc}",
            "A thread may release only a lock it acquired itself, after acquiring it.",
            code,
        )
    target = f"counter={len(prog.threads)}"
    ended_badly = result.n_deadlocks + result.n_stuck
    if ended_badly:
        return failed(
            _STEPS,
            f"{ended_badly} of {result.n_schedules} schedules end with a thread waiting "
            f"forever ({result.n_deadlocks} deadlocked, {result.n_stuck} stuck).",
            "A thread that acquires a lock must release it, or the other thread waits for it "
            "forever.",
            "Give each thread one ('acquire', 'lock') at the start and one ('release', "
            "'lock') at the end.",
            code,
        )
    wrong = {o: n for o, n in result.histogram.items() if not o.startswith(target)}
    if wrong:
        return failed(
            _STEPS,
            f"{sum(wrong.values())} of {result.n_schedules} schedules still end with "
            f"{', '.join(sorted(wrong))} instead of {target}: another thread can still run "
            f"between a load and its store.",
            "Which steps must no other thread's step fall between? Put a lock around all of "
            "them, in every thread.",
            "The load, the add and the store must all sit between ('acquire', 'lock') and "
            "('release', 'lock'), in both threads, with the same lock.",
            code,
        )
    return passed(
        _STEPS,
        f"All {result.n_schedules} schedules end with {target}: the lock leaves no room for a "
        f"race.",
    )


_BUFFER_CODE = """```python
def put(self, item):
    with self.cond:
        if not self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5):
            raise TimeoutError("the buffer stayed full for 5 s")
        self.items.append(item)
        self.cond.notify_all()          # wake whoever waits for an item

def get(self):
    with self.cond:
        if not self.cond.wait_for(lambda: len(self.items) > 0, timeout=5):
            raise TimeoutError("no item came within 5 s")
        item = self.items.popleft()
        self.cond.notify_all()          # wake whoever waits for room
        return item
```"""
_WAIT_FOR_HINT = (
    "`self.cond.wait_for(predicate, timeout=5)` checks the predicate first, sleeps, and "
    "checks it again after every wake-up; it returns False if the time ran out: check that "
    "result and raise, or you carry on as if there were room."
)


def bounded_buffer(
    buffer_class: type, *, capacity: int = 3, n_items: int = 200, timeout_s: float = 3.0
) -> Feedback:
    """Check a bounded buffer class: ``buffer_class(capacity)`` with ``put(item)`` and ``get()``.

    Two producers put ``n_items`` items each while two consumers, starting a little later,
    get as many each (see :func:`~concurrency_lab.races.watched_buffer.watch_buffer`). Every
    item must arrive exactly once, ``get()`` must wait while the buffer is empty, ``put()``
    while it holds ``capacity`` items, and (when the buffer keeps a ``threading.Condition``
    in ``self.cond`` and a deque in ``self.items``, as in the exercise) every change to
    ``self.items`` must happen while holding ``self.cond``. Then a ``put()`` on a full buffer
    with nobody to take an item, every timeout of ``self.cond`` cut to 50 ms, must raise or
    return ``False``: not add the item anyway, drop it silently, or wait on. Exercise 3 of
    ``04-races-and-locks.ipynb``.

    Raises:
        ValueError, TypeError: ``capacity`` or ``n_items`` below 1, or ``timeout_s`` not > 0.
    """
    capacity = check_whole(capacity, "capacity", low=1)
    n_items = check_whole(n_items, "n_items", low=1)
    timeout_s = check_number(timeout_s, "timeout_s", low=0, low_open=True, unit=" seconds")
    if not isinstance(buffer_class, type):
        return Feedback(False, "Pass the class itself: bounded_buffer(BoundedBuffer).")
    try:
        buf = buffer_class(capacity)
    except Exception as exc:
        return Feedback(False, f"BoundedBuffer({capacity}) raised {type(exc).__name__}: {exc}.")
    watch = watch_buffer(buf, capacity=capacity, n_items=n_items, timeout_s=timeout_s)
    if watch.errors:
        name, error = watch.errors[0]
        kind = type(error).__name__
        said = f"{name} raised {kind}: {error}."
        if kind == "IndexError":
            return failed(
                _BUFFER,
                f"{said} A consumer took from an empty buffer: get() must wait until there "
                f"is an item.",
                "Wait inside `with self.cond:` until the buffer is not empty, and check again "
                "after waking: another consumer may have been faster.",
                _WAIT_FOR_HINT,
                _BUFFER_CODE,
            )
        if kind == "TimeoutError":
            return failed(
                _BUFFER,
                f"{said} A put() or get() waited in vain until its timeout: nobody woke it.",
                "After a put() or get() changes the buffer, wake the threads that wait for "
                "that change.",
                "Call `self.cond.notify_all()` inside `with self.cond:`, after changing "
                "`self.items`.",
                _BUFFER_CODE,
            )
        if kind == "RuntimeError" and "un-acquired" in str(error):
            return failed(
                _BUFFER,
                f"{said} wait() and notify_all() need the condition's lock held.",
                "Call them inside `with self.cond:`.",
                _BUFFER_CODE,
            )
        return failed(_BUFFER, f"{said} Check the line of your class that raised it.", _BUFFER_CODE)
    if watch.max_len > capacity:
        return failed(
            _BUFFER,
            f"The buffer held {watch.max_len} items, more than its capacity {capacity}: "
            f"put() must wait while it is full.",
            "Inside `with self.cond:`, wait until `len(self.items) < self.capacity`, and "
            "check again after every wake-up.",
            _WAIT_FOR_HINT,
            _BUFFER_CODE,
        )
    if watch.stuck:
        return failed(
            _BUFFER,
            f"{', '.join(watch.stuck)} still waited after {timeout_s:g} s (the check has now "
            f"stopped them): a thread went to sleep and nobody woke it.",
            "Who waits for what? Consumers wait for an item, producers for room: after "
            "changing the buffer, wake them.",
            "Call `self.cond.notify_all()` after `append` and after `popleft`, inside "
            "`with self.cond:`; wait with `self.cond.wait_for(..., timeout=5)`.",
            _BUFFER_CODE,
        )
    received = watch.received
    expected = [(p, k) for p in range(2) for k in range(n_items)]
    if sorted(x for x in received if isinstance(x, tuple)) != expected:
        missing = len(set(expected) - {x for x in received if isinstance(x, tuple)})
        dupes = len(received) - len(set(map(repr, received)))
        return failed(
            _BUFFER,
            f"Of {len(expected)} items, {missing} never arrived and {dupes} arrived twice "
            f"(get() returned None {received.count(None)} times).",
            "get() must wait for an item and take it out inside the same `with self.cond:` block.",
            _BUFFER_CODE,
        )
    if watch.unguarded:
        op, name = next(iter(watch.unguarded.items()))
        return failed(
            _BUFFER,
            f"Every item arrived this time, but {name} called self.items.{op}() without "
            f"holding self.cond: another thread can change the buffer between your check "
            f"and your change (a race that just did not show).",
            "Do the waiting and the change inside one `with self.cond:` block.",
            _BUFFER_CODE,
        )
    if watch.cond is not None and not {"producer-1", "consumer-1"} <= watch.cond.used_by:
        return failed(
            _BUFFER,
            "Every item arrived, but put() or get() never took self.cond.",
            "Use the condition to wait: `with self.cond:` and then `self.cond.wait_for(...)`.",
            _BUFFER_CODE,
        )
    late = _when_full(buffer_class, capacity)
    if late is not None:
        return late
    return passed(
        _BUFFER,
        f"All {len(expected)} items arrived exactly once, and the buffer never held more than "
        f"{capacity}. A put() on a full buffer whose wait ran out did not carry on as if "
        f"there were room.",
    )


def _when_full(buffer_class: type, capacity: int) -> Feedback | None:
    """The second scene: a full buffer, nobody to take an item, and every timeout cut to
    50 ms. ``None`` if ``put`` raised or returned ``False`` (or the scene could not run)."""
    try:
        buf = buffer_class(capacity)
    except Exception:  # it worked for the first scene; nothing more to learn here
        return None
    outcome = put_when_full(buf, capacity=capacity)
    scene = (
        f"The check filled a new buffer with {capacity} items, with nobody to take one, cut "
        f"every timeout of self.cond to 50 ms, and called put() once more:"
    )
    check_it = (
        "What does put() do when its wait runs out? wait_for(..., timeout=...) then returns "
        "False: check that result."
    )
    if outcome == "appended":
        return failed(
            _BUFFER,
            f"{scene} after its wait ran out, put() added the item anyway, so the buffer held "
            f"more than {capacity}. A timeout you ignore is worse than none.",
            check_it,
            _WAIT_FOR_HINT,
            _BUFFER_CODE,
        )
    if outcome == "dropped":
        return failed(
            _BUFFER,
            f"{scene} after its wait ran out, put() returned without adding the item and "
            f"without saying so: the item is lost, and the caller cannot know.",
            check_it,
            "If wait_for returns False, raise (TimeoutError) or return False, so the caller "
            "knows the item did not go in.",
            _BUFFER_CODE,
        )
    if outcome == "waiting":
        return failed(
            _BUFFER,
            f"{scene} a second later it was still waiting (the check has now stopped it). "
            f"Give every wait a timeout, and when it runs out, stop waiting: raise "
            f"TimeoutError.",
            check_it,
            _WAIT_FOR_HINT,
            _BUFFER_CODE,
        )
    return None
