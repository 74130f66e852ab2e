"""Self-checks for ``02-the-gil.ipynb``: ``cl.check.gil.<exercise>(your_answer)``.

* :func:`two_threads`: your ``two_threads(work, units)`` runs ``work(units)`` in two threads
  at once and returns the seconds both took. The check runs it with ``cl.cpu_bound`` and
  ``cl.gil_releasing``, watching from inside ``work`` which thread ran each call and when,
  then compares your timings with the same two calls one after the other.
* :func:`which_work`: the lab's workloads that threads speed up, on your interpreter.
* :func:`restore_interval`: your ``with_switch_interval(interval_s, action)`` sets the switch
  interval, runs the action and always puts the previous interval back.

A failed check names the concept; ``cl.check.hint()`` gives more concrete hints, the last one
the code.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..core.feedback import (
    Feedback,
    call_checked,
    call_with_timeout,
    failed,
    not_a_function,
    passed,
)
from ..core.load import measure_load
from ..core.machine import gil_enabled, usable_cores
from ..core.workloads import calibrate, cpu_bound, gil_releasing, io_wait, zlib_compress
from ..scaling.maths import NO_GAIN

__all__ = ["restore_interval", "two_threads", "which_work"]


# --------------------------------------------------------------------------- two_threads


class _Watched:
    """``work`` as the learner's threads call it, recording which thread ran each call, when.

    Each call first waits (up to ``meet_s``) for a second call to arrive, so that two threads
    started together really run together however the system schedules them, and two calls
    made one after the other are told apart without relying on timing: the first one waits
    in vain.
    """

    def __init__(self, work: Callable[[int], Any], meet_s: float = 2.0) -> None:
        self.work = work
        # The thread objects themselves: a finished thread's id can be reused by the next one.
        self.calls: list[tuple[threading.Thread, float, float]] = []
        self.met: list[bool] = []
        self.running = 0
        self._meet = threading.Barrier(2, timeout=meet_s)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self.__name__ = getattr(work, "__name__", "work")

    def __call__(self, units: int) -> Any:
        with self._lock:
            self.running += 1
        try:
            self._meet.wait()
            met = True
        except threading.BrokenBarrierError:
            met = False
        start = time.perf_counter()
        try:
            return self.work(units)
        finally:
            end = time.perf_counter()
            with self._lock:
                self.calls.append((threading.current_thread(), start, end))
                self.met.append(met)
                self.running -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> None:
        """Wait until no call is running (threads the learner did not join finish here)."""
        with self._lock:
            self._idle.wait_for(lambda: self.running == 0, timeout_s)


_units: dict[str, int] = {}


def _units_for(work: Callable[[int], Any]) -> int:
    name = work.__name__
    if name not in _units:
        _units[name] = calibrate(work, 0.1)
    return _units[name]


def _two_thread_hints() -> tuple[str, ...]:
    return (
        "Two threads run at the same time only if both are started before either is joined.",
        "Make two threading.Thread(target=work, args=(units,)) objects, start() both, then "
        "join() both; read time.perf_counter() before the starts and after the joins.",
        "```python\ndef two_threads(work, units):\n"
        "    threads = [threading.Thread(target=work, args=(units,)) for _ in range(2)]\n"
        "    start = time.perf_counter()\n"
        "    for t in threads:\n        t.start()\n"
        "    for t in threads:\n        t.join()\n"
        "    return time.perf_counter() - start\n```",
    )


class _Failed(Exception):
    """A wrong answer found while running the learner's function."""

    def __init__(self, feedback: Feedback) -> None:
        super().__init__(feedback.message)
        self.feedback = feedback


def _fail(message: str, *hints: str) -> _Failed:
    return _Failed(failed("gil.two_threads", message, *hints))


def _run_learner(fn: Callable[..., Any], work: Callable[[int], Any], timeout_s: float) -> float:
    """Run the learner's function once on ``work``; the seconds it returned.

    Raises:
        _Failed: with the feedback for what went wrong.
    """
    units = _units_for(work)
    watched = _Watched(work)
    caller: list[threading.Thread] = []

    def call() -> Any:
        caller.append(threading.current_thread())
        return fn(watched, units)

    status, value = call_with_timeout(call, timeout_s=timeout_s)
    returned_at = time.perf_counter()
    still_running = watched.running
    watched.wait_idle(timeout_s)
    hints = _two_thread_hints()
    if status == "ok" and still_running:
        raise _fail(
            "two_threads returned while the work was still running: join() both threads "
            "before you read the clock and return.",
            *hints,
        )
    if status == "hung":
        raise _fail(f"two_threads did not return within {timeout_s:g} s.", *hints)
    if status == "error":
        raise _fail(f"two_threads raised {type(value).__name__}: {value}", *hints)
    calls = list(watched.calls)
    if len(calls) != 2:
        msg = (
            f"work ran {len(calls)} time(s): run work(units) once in each of TWO threads, "
            f"each with the same units."
        )
        if not calls:
            msg += " Did you start the threads (t.start())?"
        raise _fail(msg, *hints)
    if any(thread is caller[0] for thread, _, _ in calls):
        raise _fail(
            "work(units) ran in the thread that called two_threads, not in new threads. A "
            "threading.Thread calls the function you hand it once you start() it; writing "
            "work(units) yourself, even inside Thread(...), calls it right here.",
            *hints,
        )
    if calls[0][0] is calls[1][0]:
        raise _fail("Both calls ran in the same thread: start two threads.", *hints)
    (_, s1, e1), (_, s2, e2) = sorted(calls, key=lambda c: c[1])
    if not all(watched.met):
        raise _fail(
            "Your two threads ran one after the other: the second started only after the "
            "first had finished. Start both before you join either.",
            *hints,
        )
    if max(e1, e2) > returned_at:
        raise _fail(
            "two_threads returned while the work was still running: join() both threads "
            "before you read the clock and return.",
            *hints,
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"Return the seconds both threads took, a number (got {value!r:.60}).", *hints)
    both = max(e1, e2) - min(s1, s2)
    if not both * 0.9 - 0.002 <= value <= both + 1.0:
        raise _fail(
            f"two_threads returned {value!r:.6}, but the two calls took {both:.3f} s from the "
            f"first start to the last end: read time.perf_counter() just before starting the "
            f"threads and just after joining them, and return the difference.",
            *hints,
        )
    return float(value)


def _serial_s(work: Callable[[int], Any], units: int) -> float:
    """The same two calls one after the other, in a thread of their own (like the learner's)."""
    out: list[float] = []

    def run() -> None:
        start = time.perf_counter()
        work(units)
        work(units)
        out.append(time.perf_counter() - start)

    t = threading.Thread(target=run, name="lab-serial")
    t.start()
    t.join(60)
    return out[0] if out else float("nan")


def _words(name: str, ratio: float, releases: bool, cores: int, gil: bool) -> str:
    ok_gain = ratio >= 1 + NO_GAIN
    if not releases and gil:
        if ok_gain:
            return (
                f"{name}: {ratio:.2f}x, more than the GIL allows for pure Python: the timing was "
                f"disturbed (rerun)"
            )
        return f"{name}: {ratio:.2f}x, no gain: the GIL let one thread at a time run it"
    if cores < 2:
        return f"{name}: {ratio:.2f}x (with 1 usable core, no work can run in parallel)"
    if ok_gain:
        why = "it runs in C without the GIL" if releases else "your Python runs without the GIL"
        return f"{name}: {ratio:.2f}x, a gain: {why}"
    return f"{name}: {ratio:.2f}x, less than it can do here: other programs kept cores busy (rerun)"


def two_threads(two_threads: Callable[..., Any], *, timeout_s: float = 60.0) -> Feedback:
    """02, exercise 1: ``two_threads(work, units)`` runs ``work(units)`` in two threads at once,
    waits for both, and returns the seconds that took.

    The check calls it with ``cl.cpu_bound`` and with ``cl.gil_releasing`` (each call sized to
    about 0.1 s here), watching from inside ``work`` which thread ran each call and when. The
    structure is judged (two new threads, running at the same time, joined before the clock is
    read); the speedups are reported, not judged, since a busy machine changes them.
    """
    ex = "gil.two_threads"
    problem = not_a_function(ex, two_threads)
    if problem is not None:
        return problem
    lines = []
    cores, gil = usable_cores(), gil_enabled()
    with measure_load() as meter:
        for work, releases in ((cpu_bound, False), (gil_releasing, True)):
            try:
                took = _run_learner(two_threads, work, timeout_s)
            except _Failed as wrong:
                return wrong.feedback
            serial = _serial_s(work, _units_for(work))
            lines.append(_words(f"cl.{work.__name__}", serial / took, releases, cores, gil))
    load = meter.load.describe() if meter.load is not None else ""
    return passed(
        ex,
        "Both threads ran at the same time and you timed them both. Against the same two calls "
        "one after the other: " + "; ".join(lines) + "." + (f" {load}" if load else ""),
    )


# --------------------------------------------------------------------------- which_work

_NAMES = {
    cpu_bound: "cl.cpu_bound",
    gil_releasing: "cl.gil_releasing",
    zlib_compress: "cl.zlib_compress",
    io_wait: "cl.io_wait",
}
_WHY = {
    gil_releasing: "hashlib releases the GIL while it hashes a large buffer",
    zlib_compress: "zlib releases the GIL while it compresses",
    io_wait: "a thread that waits (sleeps, reads a socket) does not hold the GIL",
}


def which_work(answer: Iterable[Callable[..., Any]]) -> Feedback:
    """02, exercise 2: which of ``cl.cpu_bound``, ``cl.gil_releasing``, ``cl.zlib_compress``,
    ``cl.io_wait`` do threads speed up on your interpreter? Give them as a set or list."""
    ex = "gil.which_work"
    try:
        chosen = set(answer)
    except TypeError:
        return failed(
            ex,
            f"Give the workloads as a set or list, e.g. {{cl.io_wait}} (got {answer!r:.60}).",
        )
    unknown = [w for w in chosen if w not in _NAMES]
    if unknown:
        return failed(
            ex,
            f"{unknown[0]!r:.60} is not one of the four workloads: choose among "
            f"{', '.join(_NAMES.values())} (the functions themselves, no brackets).",
        )
    gil = gil_enabled()
    want = set(_WHY) if gil else set(_NAMES)
    hints = (
        "Threads help when the work spends its time outside the interpreter: waiting, or in C "
        "code that lets go of the GIL.",
        "Look at the 'Which work do threads speed up' bars: solid bars release the GIL.",
        "```python\nmy_answer = {cl.gil_releasing, cl.zlib_compress, cl.io_wait}\n```",
    )
    if gil and cpu_bound in chosen:
        return failed(
            ex,
            "cl.cpu_bound is pure Python: it holds the GIL the whole time, so threads take "
            "turns and finish no sooner.",
            *hints,
        )
    missing = sorted(_NAMES[w] for w in want - chosen)
    if missing:
        return failed(ex, f"Threads speed up more of them: {', '.join(missing)} too.", *hints)
    if gil:
        return passed(ex, "Yes: " + "; ".join(_WHY[w] for w in _WHY) + ".")
    return passed(
        ex,
        "Yes, on your interpreter all four: it runs without the GIL, so even pure-Python "
        "cl.cpu_bound runs in several threads at once (with the GIL it would not).",
    )


# --------------------------------------------------------------------------- restore_interval


def restore_interval(
    with_switch_interval: Callable[[float, Callable[[], Any]], Any],
) -> Feedback:
    """02, exercise 3: ``with_switch_interval(interval_s, action)`` sets, runs, always restores.

    The check first sets an unusual interval (4.2 ms), so that a function which "restores"
    the default 5 ms instead of the previous value is caught. Then it calls your function with
    an action that reports the interval it sees, and with one that raises; each time the
    interval must be back at 4.2 ms afterwards. It restores your own interval whatever happens.
    """
    ex = "gil.restore_interval"
    problem = not_a_function(ex, with_switch_interval)
    if problem is not None:
        return problem
    hints = (
        "Remember the interval before you change it, and set that value back at the end, "
        "whatever happens in between.",
        "A `finally:` block runs on the way out of `try:`, whether it returned or raised.",
        "```python\ndef with_switch_interval(interval_s, action):\n"
        "    previous = sys.getswitchinterval()\n"
        "    sys.setswitchinterval(interval_s)\n"
        "    try:\n        return action()\n"
        "    finally:\n        sys.setswitchinterval(previous)\n```",
    )
    saved = sys.getswitchinterval()
    target = 0.00123
    sys.setswitchinterval(0.0042)
    before = sys.getswitchinterval()  # as the interpreter stores it
    try:
        seen: list[float] = []

        def look() -> str:
            seen.append(sys.getswitchinterval())
            return "result"

        value, exc = call_checked(with_switch_interval, target, look)
        if exc is not None:
            return failed(ex, f"Your function raised {type(exc).__name__}: {exc}", *hints)
        if not seen:
            return failed(ex, "The action was never called: call action() inside.", *hints)
        if abs(seen[0] - target) > 1e-9:
            return failed(
                ex,
                f"While the action ran the interval was {seen[0]:g} s, not {target:g} s: call "
                f"sys.setswitchinterval(interval_s) before action().",
                *hints,
            )
        if value != "result":
            return failed(ex, f"Return what action() returns (got {value!r:.60}).", *hints)
        after = sys.getswitchinterval()
        if abs(after - before) > 1e-9:
            fixed = " (not a fixed value like 0.005)" if abs(after - 0.005) < 1e-9 else ""
            return failed(
                ex,
                f"The interval was {before * 1e3:g} ms before your function ran and "
                f"{after * 1e3:g} ms after a normal run: put back the PREVIOUS value{fixed}.",
                *hints,
            )

        class Boom(Exception):
            pass

        def explode() -> None:
            raise Boom("the action failed")

        _, exc = call_checked(with_switch_interval, target, explode)
        if not isinstance(exc, Boom):
            return failed(
                ex,
                "When the action raises, let the exception through (do not swallow it): the "
                "caller must know it failed.",
                *hints[1:],
            )
        if abs(sys.getswitchinterval() - before) > 1e-9:
            return failed(
                ex,
                f"When the action raised, the interval stayed at {sys.getswitchinterval():g} s: "
                f"the restoring line never ran.",
                *hints[1:],
            )
        return passed(ex, "The interval is set while the action runs and restored always.")
    finally:
        sys.setswitchinterval(saved)
