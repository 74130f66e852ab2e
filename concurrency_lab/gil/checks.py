"""Self-checks for ``02-the-gil.ipynb`` and ``03-core-scaling.ipynb``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ..core.feedback import Feedback, call_checked, not_callable
from ..core.machine import KINDS, gil_enabled, usable_cores
from ..core.workloads import cpu_bound, gil_releasing, io_bound, sleep_then_return
from ..scaling.measure import io_wait, spin
from .measure import zlib_compress

__all__ = ["check_faster_config", "check_restores_switch_interval", "check_threads_scale"]


def check_faster_config(kind: str, n_workers: int) -> Feedback:
    """02, exercise 1: a ``kind`` and ``n_workers`` that make pure-Python CPU work faster here.

    Judged by reasoning about this machine's usable cores and interpreter, not by
    a (noisy) timing. Without the GIL (a free-threaded build), threads are right too.
    """
    cores = usable_cores()
    if kind not in KINDS:
        return Feedback(False, f"'kind' must be 'thread' or 'process' (got {kind!r}).")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        return Feedback(False, f"'n_workers' must be a whole number >= 1 (got {n_workers!r}).")
    free = not gil_enabled()
    if kind == "thread" and not free:
        return Feedback(
            False,
            "Threads take turns holding the GIL, so pure-Python work in threads runs one "
            "thread at a time: look at your hand-off timeline. Which kind has a GIL of its own "
            "per worker?",
        )
    if cores == 1:
        return Feedback(
            True,
            "This machine lets you use only 1 core, so no configuration can speed up CPU work; "
            "on a machine with more cores, processes would.",
        )
    word = "threads" if kind == "thread" else "processes"
    if n_workers == 1:
        return Feedback(False, "One worker is the serial case with extra overhead: use more.")
    if n_workers > cores:
        return Feedback(
            False,
            f"{word.capitalize()} do scale, but you have {cores} usable cores: {n_workers} "
            f"{word} share them and queue. Pick a number from 2 to {cores}.",
        )
    if kind == "thread":
        return Feedback(
            True,
            f"Your interpreter runs without the GIL, so {n_workers} threads can run Python code "
            f"on {n_workers} of your {cores} cores at once (processes would work too).",
        )
    return Feedback(
        True,
        f"{n_workers} processes each have their own interpreter and GIL, and your {cores} "
        f"cores can run them at the same time.",
    )


_SCALES_WITH_THREADS = {
    gil_releasing: "hashlib releases the GIL while it hashes a large buffer",
    zlib_compress: "zlib releases the GIL while it compresses a large buffer",
    io_wait: "a thread waiting on I/O (here: sleeping) does not hold the GIL",
    io_bound: "a thread waiting on I/O does not hold the GIL",
    sleep_then_return: "a sleeping thread does not hold the GIL",
}


_HOLDS_THE_GIL = {
    cpu_bound: "cl.cpu_bound",
    spin: "cl.spin",
}


def check_threads_scale(workload: Callable[..., Any]) -> Feedback:
    """02, exercise 2: a lab workload that threads DO speed up, despite the GIL.

    Without the GIL (a free-threaded build), pure-Python work counts too.
    """
    problem = not_callable(workload)
    if problem is not None:
        return problem
    if workload in _HOLDS_THE_GIL and not gil_enabled():
        return Feedback(
            True,
            f"Yes, on your interpreter: it runs without the GIL, so even pure-Python work like "
            f"{_HOLDS_THE_GIL[workload]} runs in several threads at once. With the GIL it would "
            f"not: there the answers are cl.gil_releasing, cl.zlib_compress or cl.io_wait.",
        )
    if workload in _HOLDS_THE_GIL:
        return Feedback(
            False,
            f"{_HOLDS_THE_GIL[workload]} is pure Python: it holds the GIL the whole time, so "
            f"threads take turns. Look for work that spends its time outside the interpreter "
            f"(in C code that releases the GIL, or waiting).",
        )
    why = _SCALES_WITH_THREADS.get(workload)
    if why is None:
        return Feedback(
            False,
            "Pick one of the lab's workloads (cl.cpu_bound, cl.gil_releasing, cl.zlib_compress, "
            "cl.io_wait), so the check knows what it does.",
        )
    return Feedback(True, f"Yes: {why}, so other threads run meanwhile.")


def check_restores_switch_interval(
    with_switch_interval: Callable[[float, Callable[[], Any]], Any],
) -> Feedback:
    """02, exercise 3: ``with_switch_interval(interval_s, action)`` sets, runs, and always restores.

    The check first sets an unusual interval (4.2 ms), so that a function which
    "restores" the default 5 ms instead of the previous value is caught. Then it
    calls your function with an action that reports the interval it sees, and
    with one that raises; each time the interval must be back at 4.2 ms
    afterwards. It restores the learner's own interval whatever happens.
    """
    problem = not_callable(with_switch_interval)
    if problem is not None:
        return problem
    saved = sys.getswitchinterval()
    before = 0.0042
    target = 0.00123
    sys.setswitchinterval(before)
    before = sys.getswitchinterval()  # as the interpreter stores it
    try:
        seen: list[float] = []

        def look() -> str:
            seen.append(sys.getswitchinterval())
            return "result"

        value, exc = call_checked(with_switch_interval, target, look)
        if exc is not None:
            return Feedback(False, f"Your function raised {type(exc).__name__}: {exc}")
        if not seen:
            return Feedback(False, "The action was never called: call action() inside.")
        if abs(seen[0] - target) > 1e-9:
            return Feedback(
                False,
                f"While the action ran the interval was {seen[0]:g} s, not {target:g} s: call "
                f"sys.setswitchinterval(interval_s) before action().",
            )
        if value != "result":
            return Feedback(False, f"Return what action() returns (got {value!r}).")
        after = sys.getswitchinterval()
        if abs(after - before) > 1e-9:
            fixed = " (not a fixed value like 0.005)" if abs(after - 0.005) < 1e-9 else ""
            return Feedback(
                False,
                f"The interval was {before * 1e3:g} ms before your function ran and "
                f"{after * 1e3:g} ms after a normal run: remember sys.getswitchinterval() first "
                f"and set that value{fixed} back at the end.",
            )

        class Boom(Exception):
            pass

        def explode() -> None:
            raise Boom("the action failed")

        _, exc = call_checked(with_switch_interval, target, explode)
        if not isinstance(exc, Boom):
            return Feedback(
                False,
                "When the action raises, let the exception through (do not swallow it): the "
                "caller must know it failed.",
            )
        if abs(sys.getswitchinterval() - before) > 1e-9:
            return Feedback(
                False,
                f"When the action raised, the interval stayed at {sys.getswitchinterval():g} s. "
                f"Restore it in a 'finally:' block, which runs even when an exception passes.",
            )
        return Feedback(True, "The interval is set while the action runs and restored always.")
    finally:
        sys.setswitchinterval(saved)
