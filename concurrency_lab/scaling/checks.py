"""Self-checks for ``02-the-gil.ipynb`` and ``03-core-scaling.ipynb``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.feedback import Feedback, call_checked, not_callable
from .measure import amdahl_speedup

__all__ = ["check_amdahl", "check_efficiency", "check_split_work"]


# --------------------------------------------------------------------------- 02 the GIL


# --------------------------------------------------------------------------- 03 core scaling


def check_efficiency(efficiency: Callable[[float, float, int], float]) -> Feedback:
    """03, exercise 1: ``efficiency(serial_s, parallel_s, n_workers)`` = speedup per worker."""
    problem = not_callable(efficiency)
    if problem is not None:
        return problem
    cases = [(3.0, 1.0, 4, 0.75), (4.0, 2.0, 2, 1.0), (4.0, 2.0, 4, 0.5), (1.0, 1.0, 8, 0.125)]
    for serial_s, parallel_s, n, want in cases:
        got, exc = call_checked(efficiency, serial_s, parallel_s, n)
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
    problem = not_callable(split)
    if problem is not None:
        return problem
    for total, n in [(10, 2), (10, 3), (7, 7), (3, 5), (1001, 8), (0, 2)]:
        got, exc = call_checked(split, total, n)
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
    problem = not_callable(amdahl)
    if problem is not None:
        return problem
    # Cases with a serial part first: with s = 0 some wrong formulas give the right number.
    for n, s in [(4, 0.1), (16, 0.5), (1000, 0.05), (1, 0.3), (2, 0.0), (8, 1.0)]:
        want = amdahl_speedup(n, serial_fraction=s)
        got, exc = call_checked(amdahl, n, s)
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
