"""Self-checks for ``02-the-gil.ipynb`` and ``03-core-scaling.ipynb``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .. import gil, runners, scaling, workloads
from ._base import Feedback

__all__ = [
    "check_amdahl",
    "check_efficiency",
    "check_faster_config",
    "check_restores_switch_interval",
    "check_split_work",
    "check_threads_scale",
]


def _call(fn: Callable[..., Any], *args: Any) -> tuple[Any, Exception | None]:
    try:
        return fn(*args), None
    except Exception as exc:
        return None, exc


def _not_callable(obj: object) -> Feedback | None:
    if callable(obj):
        return None
    return Feedback(
        False, f"Pass your function itself, without calling it (got {type(obj).__name__})."
    )


# --------------------------------------------------------------------------- 02 the GIL


def check_faster_config(kind: str, n_workers: int) -> Feedback:
    """02, exercise 1: a ``kind`` and ``n_workers`` that make pure-Python CPU work faster here.

    Judged by reasoning about this machine's usable cores and interpreter, not by
    a (noisy) timing. Without the GIL (a free-threaded build), threads are right too.
    """
    cores = runners.usable_cores()
    if kind not in runners.KINDS:
        return Feedback(False, f"'kind' must be 'thread' or 'process' (got {kind!r}).")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        return Feedback(False, f"'n_workers' must be a whole number >= 1 (got {n_workers!r}).")
    free = not gil.gil_enabled()
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
    workloads.gil_releasing: "hashlib releases the GIL while it hashes a large buffer",
    gil.zlib_compress: "zlib releases the GIL while it compresses a large buffer",
    scaling.io_wait: "a thread waiting on I/O (here: sleeping) does not hold the GIL",
    workloads.io_bound: "a thread waiting on I/O does not hold the GIL",
    workloads.sleep_then_return: "a sleeping thread does not hold the GIL",
}
_HOLDS_THE_GIL = {
    workloads.cpu_bound: "cl.cpu_bound",
    scaling.spin: "cl.spin",
}


def check_threads_scale(workload: Callable[..., Any]) -> Feedback:
    """02, exercise 2: a lab workload that threads DO speed up, despite the GIL.

    Without the GIL (a free-threaded build), pure-Python work counts too.
    """
    problem = _not_callable(workload)
    if problem is not None:
        return problem
    if workload in _HOLDS_THE_GIL and not gil.gil_enabled():
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
    problem = _not_callable(with_switch_interval)
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

        value, exc = _call(with_switch_interval, target, look)
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

        _, exc = _call(with_switch_interval, target, explode)
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


# --------------------------------------------------------------------------- 03 core scaling


def check_efficiency(efficiency: Callable[[float, float, int], float]) -> Feedback:
    """03, exercise 1: ``efficiency(serial_s, parallel_s, n_workers)`` = speedup per worker."""
    problem = _not_callable(efficiency)
    if problem is not None:
        return problem
    cases = [(3.0, 1.0, 4, 0.75), (4.0, 2.0, 2, 1.0), (4.0, 2.0, 4, 0.5), (1.0, 1.0, 8, 0.125)]
    for serial_s, parallel_s, n, want in cases:
        got, exc = _call(efficiency, serial_s, parallel_s, n)
        if exc is not None:
            return Feedback(False, f"Your function raised {type(exc).__name__}: {exc}")
        if not isinstance(got, (int, float)):
            return Feedback(False, f"Return a number (got {got!r}).")
        if abs(got - want) < 1e-9:
            continue
        speedup = serial_s / parallel_s
        args = f"efficiency({serial_s}, {parallel_s}, {n})"
        if abs(got - speedup) < 1e-9:
            return Feedback(
                False,
                f"{args} returned {got:g}: that is the speedup. Efficiency is speedup per "
                f"worker: divide by n_workers.",
            )
        if abs(got - 1 / want) < 1e-9:
            return Feedback(False, f"{args} returned {got:g}, upside down: serial_s goes on top.")
        return Feedback(False, f"{args} should be {want:g} (got {got!r}).")
    return Feedback(True, "Speedup divided by the number of workers: 1.0 means no worker idled.")


def check_split_work(split: Callable[[int, int], Any]) -> Feedback:
    """03, exercise 2: ``split(total, n)`` gives n whole chunks that add up and differ by <= 1."""
    problem = _not_callable(split)
    if problem is not None:
        return problem
    for total, n in [(10, 2), (10, 3), (7, 7), (3, 5), (1001, 8), (0, 2)]:
        got, exc = _call(split, total, n)
        call = f"split({total}, {n})"
        if exc is not None:
            return Feedback(False, f"{call} raised {type(exc).__name__}: {exc}")
        try:
            chunks = list(got)
        except TypeError:
            return Feedback(False, f"{call} should return a list of chunk sizes (got {got!r}).")
        if len(chunks) != n:
            return Feedback(False, f"{call} gave {len(chunks)} chunks: give one per worker ({n}).")
        if any(not isinstance(c, int) or isinstance(c, bool) for c in chunks):
            return Feedback(
                False, f"{call} gave {chunks}: work units are whole numbers (use // and %)."
            )
        if sum(chunks) != total:
            return Feedback(
                False,
                f"{call} gave {chunks}, which adds up to {sum(chunks)}, not {total}: hand out the "
                f"remainder total % n too, one extra unit each to some workers.",
            )
        if chunks and max(chunks) - min(chunks) > 1:
            return Feedback(
                False,
                f"{call} gave {chunks}: the slowest worker decides when the run ends, so chunks "
                f"should differ by at most 1 unit.",
            )
    return Feedback(True, "Balanced chunks: every worker finishes at about the same time.")


def _close(want: float) -> float:
    """Tolerance for a predicted speedup: 0.1 %, or enough for a value rounded to 2 decimals."""
    return max(1e-3 * abs(want), 0.0051)


def check_amdahl(amdahl: Callable[[int, float], float]) -> Feedback:
    """03, exercise 3: ``amdahl(n_workers, serial_fraction)``, the speedup Amdahl's law predicts."""
    problem = _not_callable(amdahl)
    if problem is not None:
        return problem
    # Cases with a serial part first: with s = 0 some wrong formulas give the right number.
    for n, s in [(4, 0.1), (16, 0.5), (1000, 0.05), (1, 0.3), (2, 0.0), (8, 1.0)]:
        want = scaling.amdahl_speedup(n, serial_fraction=s)
        got, exc = _call(amdahl, n, s)
        call = f"amdahl({n}, {s})"
        if exc is not None:
            return Feedback(False, f"{call} raised {type(exc).__name__}: {exc}")
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return Feedback(False, f"{call} should return a number (got {got!r}).")
        if abs(got - want) <= _close(want):
            continue
        time_share = s + (1 - s) / n
        if s > 0 and abs(got - time_share) <= _close(time_share):
            return Feedback(
                False,
                f"{call} returned {got:.4g}: that is the TIME of the parallel run as a fraction "
                f"of the serial one. The speedup is 1 divided by it.",
            )
        if abs(got - n) < 1e-9 and s > 0:
            return Feedback(
                False, f"{call} returned {got:g}: the serial part does not get faster with n."
            )
        return Feedback(False, f"{call} should be about {want:.4g} (got {got!r}).")
    return Feedback(
        True, "That is Amdahl's law: with 5 % serial work, even 1000 workers give under 20x."
    )
