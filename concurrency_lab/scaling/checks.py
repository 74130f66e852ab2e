"""Self-checks for ``03-core-scaling.ipynb``: ``cl.check.scaling.<exercise>(your_answer)``.

* :func:`efficiency`: your ``speedup(serial_s, parallel_s)`` and
  ``efficiency(serial_s, parallel_s, n_workers)``.
* :func:`pool_map`: your ``timed_map(work, tasks, n_workers, chunksize)``, which runs
  ``work`` over ``tasks`` on a ``ProcessPoolExecutor`` and times it. The check runs it with a
  work function of its own that reports, from inside each worker, the process it ran in and
  how many tasks came in the same message (``chunksize``).
* :func:`amdahl`: your ``amdahl(n_workers, serial_fraction)``.

A failed check names the concept; ``cl.check.hint()`` gives more concrete hints, the last one
the code.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from ..core.feedback import (
    Feedback,
    call_checked,
    call_with_timeout,
    failed,
    not_a_function,
    passed,
)
from .maths import amdahl_speedup

__all__ = ["amdahl", "efficiency", "pool_map"]


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_SPEEDUP_CODE = (
    "```python\ndef speedup(serial_s, parallel_s):\n    return serial_s / parallel_s\n```"
)


def efficiency(
    speedup: Callable[[float, float], float],
    efficiency: Callable[[float, float, int], float],
) -> Feedback:
    """03, exercise 1: ``speedup(serial_s, parallel_s)`` and ``efficiency(serial_s,
    parallel_s, n_workers)``: how many times faster, and how much of that per worker."""
    ex = "scaling.efficiency"
    for fn in (speedup, efficiency):
        problem = not_a_function(ex, fn)
        if problem is not None:
            return problem
    for serial_s, parallel_s, want in [(3.0, 1.0, 3.0), (4.0, 2.0, 2.0), (1.0, 2.0, 0.5)]:
        got, exc = call_checked(speedup, serial_s, parallel_s)
        call = f"speedup({serial_s}, {parallel_s})"
        if exc is not None:
            return failed(ex, f"{call} raised {type(exc).__name__}: {exc}")
        if not _number(got):
            return failed(ex, f"{call} should return a number (got {got!r}).")
        if abs(got - want) < 1e-9:
            continue
        if abs(got - 1 / want) < 1e-9:
            return failed(
                ex,
                f"{call} returned {got:g}: upside down. A speedup above 1 means the parallel "
                f"run was faster, so its time is the smaller one.",
                "Which time goes on top: the long one (one worker) or the short one?",
                _SPEEDUP_CODE,
            )
        return failed(
            ex,
            f"{call} should be {want:g} (got {got!r}): how many times faster the parallel run was.",
            "Speedup compares two times of the same work: one worker against several.",
            _SPEEDUP_CODE,
        )
    cases = [(3.0, 1.0, 4, 0.75), (4.0, 2.0, 2, 1.0), (4.0, 2.0, 4, 0.5), (1.0, 1.0, 8, 0.125)]
    for serial_s, parallel_s, n, want in cases:
        got, exc = call_checked(efficiency, serial_s, parallel_s, n)
        call = f"efficiency({serial_s}, {parallel_s}, {n})"
        if exc is not None:
            return failed(ex, f"{call} raised {type(exc).__name__}: {exc}")
        if not _number(got):
            return failed(ex, f"{call} should return a number (got {got!r}).")
        if abs(got - want) < 1e-9:
            continue
        ratio = serial_s / parallel_s
        hints = (
            "Efficiency is the speedup shared out: how much of the ideal 'n times faster' "
            "each worker delivered.",
            "Divide the speedup by n_workers; 1.0 (100 %) means no worker idled.",
            "```python\ndef efficiency(serial_s, parallel_s, n_workers):\n"
            "    return speedup(serial_s, parallel_s) / n_workers\n```",
        )
        if abs(got - ratio) < 1e-9:
            return failed(ex, f"{call} returned {got:g}: that is the speedup itself.", *hints)
        if abs(got - 100 * want) < 1e-9:
            return failed(
                ex,
                f"{call} returned {got:g}: give a fraction (0.75), and print it with :.0% "
                f"to see per cent.",
            )
        return failed(ex, f"{call} should be {want:g} (got {got!r}).", *hints)
    return passed(
        ex,
        "Right: speedup = 1-worker time / N-worker time, efficiency = speedup / N (1.0 means "
        "every worker was busy all along).",
    )


# --------------------------------------------------------------------------- pool_map


def _chunk_length() -> int | None:
    """How many tasks arrived in this worker's current message, read from the pool's frame.

    ``ProcessPoolExecutor.map`` runs each message as ``_process_chunk(fn, chunk)``;
    ``multiprocessing.Pool.map`` as ``mapstar((fn, chunk))``. ``None`` for anything else.
    """
    frame: FrameType | None = sys._getframe(2)
    for _ in range(8):
        if frame is None:
            return None
        name, local = frame.f_code.co_name, frame.f_locals
        if name == "_process_chunk" and "chunk" in local:
            return len(local["chunk"])
        if name == "mapstar" and "args" in local:
            return len(local["args"][1])
        frame = frame.f_back
    return None


def report_task(x: int) -> tuple[int, int | None, int]:
    """The check's work function: ``(pid, tasks in this message, x * x)``, from the worker."""
    return os.getpid(), _chunk_length(), x * x


def _pool_hints() -> tuple[str, ...]:
    return (
        "A ProcessPoolExecutor starts worker processes; its map(work, tasks, chunksize=...) "
        "sends the tasks to them and gives the results back in order.",
        "Start the clock, run list(pool.map(work, tasks, chunksize=chunksize)) inside "
        "`with ProcessPoolExecutor(max_workers=n_workers) as pool:`, stop the clock after list().",
        "```python\ndef timed_map(work, tasks, n_workers, chunksize):\n"
        "    with ProcessPoolExecutor(max_workers=n_workers) as pool:\n"
        "        start = time.perf_counter()\n"
        "        results = list(pool.map(work, tasks, chunksize=chunksize))\n"
        "        seconds = time.perf_counter() - start\n"
        "    return results, seconds\n```",
    )


def pool_map(timed_map: Callable[..., Any], *, timeout_s: float = 60.0) -> Feedback:
    """03, exercise 1 (second part): ``timed_map(work, tasks, n_workers, chunksize)`` returns
    ``(results, seconds)``, running ``work`` on each task in a pool of ``n_workers``
    processes, ``chunksize`` tasks per message.

    The check calls it with 24 tasks, 2 workers and chunksize 4, and a work function that
    reports from inside each worker its process id and how many tasks its message held.
    """
    ex = "scaling.pool_map"
    problem = not_a_function(ex, timed_map)
    if problem is not None:
        return problem
    tasks, n_workers, chunksize = list(range(24)), 2, 4
    start = time.perf_counter()
    status, value = call_with_timeout(
        timed_map, report_task, tasks, n_workers, chunksize, timeout_s=timeout_s
    )
    wall = time.perf_counter() - start
    if status == "hung":
        return failed(
            ex,
            f"timed_map did not return within {timeout_s:g} s. Does every task get a result, "
            f"and does the pool shut down (a `with` block does that)?",
            *_pool_hints(),
        )
    if status == "error":
        hints = _pool_hints()
        if "BrokenProcessPool" in type(value).__name__ or "pickle" in str(value).lower():
            return failed(
                ex,
                f"timed_map raised {type(value).__name__}: {value}. Pass `work` itself to "
                f"pool.map (the check gives a function the workers can import).",
                *hints,
            )
        return failed(ex, f"timed_map raised {type(value).__name__}: {value}", *hints)
    if not (isinstance(value, tuple) and len(value) == 2):
        return failed(
            ex, f"Return two things, (results, seconds) (got {value!r:.80}).", *_pool_hints()
        )
    results, seconds = value
    if not isinstance(results, (list, tuple)):
        return failed(
            ex,
            f"results is a {type(results).__name__}, not a list: pool.map gives an iterator "
            f"that fills in as tasks finish. Wrap it in list(...) inside the `with` block, and "
            f"stop the clock after that, or you time only the sending.",
            *_pool_hints(),
        )
    if len(results) != len(tasks) or [r[2] if isinstance(r, tuple) else r for r in results] != [
        t * t for t in tasks
    ]:
        return failed(
            ex,
            "The results are not work(task) for each task, in order. pool.map(work, tasks) "
            "keeps the order of tasks.",
            *_pool_hints(),
        )
    pids = {r[0] for r in results}
    if pids == {os.getpid()}:
        return failed(
            ex,
            "The work ran in this notebook's own process: use a pool of worker PROCESSES, "
            "concurrent.futures.ProcessPoolExecutor (a ThreadPoolExecutor or a plain loop stays "
            "in this process).",
            *_pool_hints(),
        )
    if len(pids) > n_workers:
        return failed(
            ex,
            f"The tasks ran in {len(pids)} different processes, more than n_workers={n_workers}: "
            f"pass max_workers=n_workers to the pool.",
            *_pool_hints(),
        )
    sizes = [r[1] for r in results]
    known = [s for s in sizes if s is not None]
    if known and max(known) != chunksize:
        return failed(
            ex,
            f"Each message to a worker held {max(known)} task(s), but chunksize={chunksize} was "
            f"asked for: pass chunksize=chunksize to pool.map (its default is 1).",
            *_pool_hints(),
        )
    if not _number(seconds) or not 0 < seconds <= wall + 0.01:
        return failed(
            ex,
            f"seconds should be the time the pool took, in seconds, measured with "
            f"time.perf_counter() (got {seconds!r}; the whole call took {wall:.3f} s).",
            *_pool_hints(),
        )
    how = (
        f", {chunksize} tasks per message ({len(tasks) // chunksize} messages)"
        if known
        else " (how many tasks per message could not be seen: fine for Pool.map, which "
        "the check cannot look into the same way)"
    )
    return passed(
        ex,
        f"Your pool ran {len(tasks)} tasks in {len(pids)} worker process(es){how}, results in "
        f"order, in {seconds * 1e3:.0f} ms.",
    )


# --------------------------------------------------------------------------- amdahl


def _close(want: float) -> float:
    """Tolerance for a predicted speedup: 0.1 %, or enough for a value rounded to 2 decimals."""
    return max(1e-3 * abs(want), 0.0051)


def amdahl(amdahl: Callable[[int, float], float]) -> Feedback:
    """03, exercise 2: ``amdahl(n_workers, serial_fraction)``, the speedup Amdahl's law predicts."""
    ex = "scaling.amdahl"
    problem = not_a_function(ex, amdahl)
    if problem is not None:
        return problem
    hints = (
        "Time on n workers, as a share of the 1-worker time: the serial part s stays, the "
        "rest (1 - s) is divided by n.",
        "The speedup is 1 divided by that share of the time.",
        "```python\ndef amdahl(n_workers, serial_fraction):\n"
        "    s = serial_fraction\n    return 1 / (s + (1 - s) / n_workers)\n```",
    )
    # Cases with a serial part first: with s = 0 some wrong formulas give the right number.
    for n, s in [(4, 0.1), (16, 0.5), (1000, 0.05), (1, 0.3), (2, 0.0), (8, 1.0)]:
        want = amdahl_speedup(n, serial_fraction=s)
        got, exc = call_checked(amdahl, n, s)
        call = f"amdahl({n}, {s})"
        if exc is not None:
            return failed(ex, f"{call} raised {type(exc).__name__}: {exc}", *hints)
        if not _number(got):
            return failed(ex, f"{call} should return a number (got {got!r}).", *hints)
        if abs(got - want) <= _close(want):
            continue
        time_share = s + (1 - s) / n
        if s > 0 and abs(got - time_share) <= _close(time_share):
            return failed(
                ex,
                f"{call} returned {got:.4g}: that is the TIME of the parallel run as a share of "
                f"the 1-worker time, not the speedup.",
                *hints[1:],
            )
        if abs(got - n) < 1e-9 and s > 0:
            return failed(
                ex, f"{call} returned {got:g}: the serial part does not get faster with n.", *hints
            )
        return failed(ex, f"{call} should be about {want:.4g} (got {got!r}).", *hints)
    return passed(
        ex, "That is Amdahl's law: with 5 % serial work, even 1000 workers give under 20x."
    )
