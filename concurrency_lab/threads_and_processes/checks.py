"""Self-checks for ``01-threads-and-processes.ipynb``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..core.errors import LabError, NotebookFunctionError, UnpicklableError
from ..core.feedback import Feedback
from ..core.machine import available_start_methods
from ..core.runners import run_tasks
from .demos import StartupResult

__all__ = ["check_cube_in_spawn", "check_fastest_to_start", "check_start_then_join"]


def check_start_then_join(run_two: Callable[[Callable[[], None]], Any]) -> Feedback:
    """Exercise 1: ``run_two(task)`` must run ``task`` in two threads at the same time.

    The check hands your function a task that waits, with a timeout, until the
    other thread arrives too. Two threads that really overlap both get through;
    threads started and joined one at a time do not.
    """
    if not callable(run_two):
        return Feedback(False, f"Pass your function itself (got {type(run_two).__name__}).")
    barrier = threading.Barrier(2, timeout=1.0)
    finished: list[str] = []
    lock = threading.Lock()

    def task() -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            with lock:
                finished.append("alone")
            return
        time.sleep(0.05)
        with lock:
            finished.append("together")

    start = time.perf_counter()
    try:
        run_two(task)
    except Exception as exc:
        return Feedback(False, f"Your function raised {type(exc).__name__}: {exc}")
    elapsed = time.perf_counter() - start
    deadline = time.monotonic() + 3
    while len(finished) < 2 and time.monotonic() < deadline and threading.active_count() > 1:
        time.sleep(0.02)
    if not finished:
        return Feedback(
            False,
            "The task never ran. Create threading.Thread(target=task) objects and call start() "
            "on each.",
        )
    if "alone" in finished:
        return Feedback(
            False,
            f"The two threads did not overlap (it took {elapsed:.1f} s): each waited for a partner "
            "that had not started. Start BOTH threads first, then join both — not start, join, "
            "start, join.",
        )
    if len(finished) < 2 or elapsed < 0.05:
        return Feedback(
            False,
            "Your function returned before both threads finished. Call join() on each thread "
            "after starting them all.",
        )
    return Feedback(True, f"Both threads ran at the same time and were joined ({elapsed:.2f} s).")


def check_fastest_to_start(ranking: Sequence[str], result: StartupResult) -> Feedback:
    """Exercise 2: rank the configurations from fastest to slowest to start, as measured.

    ``ranking`` lists labels of ``result.labels`` (e.g. ``"thread"``,
    ``"process (spawn)"``); it is compared with the medians you measured.
    """
    measured = [lab for _, lab in sorted(zip(result.medians_s, result.labels))]
    ranking = list(ranking)
    unknown = [r for r in ranking if r not in result.labels]
    if unknown:
        return Feedback(
            False, f"{unknown} are not measured labels; use some of {list(result.labels)}."
        )
    if sorted(ranking) != sorted(result.labels):
        missing = [lab for lab in result.labels if lab not in ranking]
        return Feedback(False, f"Rank every measured label once; missing: {missing}.")
    if ranking == measured:
        return Feedback(True, f"That is the order you measured: {' < '.join(measured)}.")
    wrong = next(i for i, (a, b) in enumerate(zip(ranking, measured)) if a != b)
    med = dict(zip(result.labels, result.medians_s))
    a, b = ranking[wrong], measured[wrong]
    return Feedback(
        False,
        f"Look at position {wrong + 1}: you put {a!r} ({med[a] * 1e3:.2f} ms) where the "
        f"measurement has {b!r} ({med[b] * 1e3:.2f} ms). Think about what each must do: a "
        "thread needs only a stack; fork copies this (large) process; forkserver copies a "
        "small server process; spawn starts and imports a whole new Python.",
    )


def check_cube_in_spawn(cube: Callable[[Any], Any]) -> Feedback:
    """Exercise 3: ``cube`` must compute ``x ** 3`` in a process started with ``spawn``.

    The check runs ``cube(3)`` and ``cube(-2)`` in two spawned processes and
    compares the answers with 27 and -8.
    """
    name = getattr(cube, "__name__", "cube")
    if not callable(cube):
        return Feedback(False, f"Pass your function itself (got {type(cube).__name__}).")
    if "spawn" not in available_start_methods():  # pragma: no cover - spawn is universal
        return Feedback(False, "This platform has no spawn start method.")
    try:
        run = run_tasks(
            cube, [3, -2], kind="process", n_workers=2, start_method="spawn", timeout_s=60
        )
    except NotebookFunctionError:
        return Feedback(
            False,
            f"{name!r} still lives in the notebook (__main__), which a spawned child cannot "
            "import. Start the cell that defines it with %%worker_module exercise_tasks (a new "
            f"module name, so my_tasks keeps shout), run it, and pass exercise_tasks.{name}.",
        )
    except UnpicklableError as exc:
        return Feedback(False, f"It cannot be pickled: {str(exc).splitlines()[0]}")
    except LabError as exc:
        return Feedback(False, f"It reached the child but failed there: {str(exc).splitlines()[0]}")
    if run.results != (27, -8):
        return Feedback(
            False,
            f"It ran in spawned processes, but returned {run.results[0]!r} for 3 and "
            f"{run.results[1]!r} for -2 (expected 27 and -8): is it x ** 3?",
        )
    return Feedback(True, f"{name} ran in spawned processes: 3 -> 27, -2 -> -8.")
