"""Self-checks for the exercises of ``01-threads-and-processes.ipynb``.

Each check runs the learner's code and answers with a :class:`~concurrency_lab.core.feedback.
Feedback`. A wrong answer names the concept that is missing; ``cl.check.hint()`` then gives
more and more concrete hints, the last one the code.

* :func:`start_then_join`: two threads that really run at the same time.
* :func:`cube_in_spawn`: a function a ``spawn`` child can import.
* :func:`results_from_processes`: work done in processes, results sent back in order.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.errors import LabError, NotebookFunctionError, UnpicklableError
from ..core.feedback import Feedback, call_with_timeout, failed, not_a_function, passed
from ..core.runners import run_tasks
from ..core.watch import WatchError, watch
from ..core.workloads import cpu_bound
from .side_by_side import overlap

__all__ = ["cube_in_spawn", "results_from_processes", "start_then_join"]

_START_THEN_JOIN = "threads_and_processes.start_then_join"
_CUBE = "threads_and_processes.cube_in_spawn"
_RESULTS = "threads_and_processes.results_from_processes"
#: Work units of cl.cpu_bound the results exercise asks for (about 1 ms each): every task
#: takes several times what starting a process costs, so starting one is not mistaken for work.
RESULTS_UNITS = (180, 60, 120, 60)
#: A process counts as having worked if it used at least this share of the CPU time of the
#: process that used the most (starting an idle pool worker costs 20-30 ms of CPU when it
#: forks from a large notebook kernel; the smallest task costs about 60 ms).
WORKED_SHARE = 0.3
#: Seconds a learner's function may take (a spawned process can take seconds to start on a
#: Windows machine whose antivirus scans it).
CHECK_TIMEOUT_S = 60.0
#: Seconds ``run_two`` may take in exercise 1 (its threads wait at most 1 s each).
JOIN_TIMEOUT_S = 10.0


# --------------------------------------------------------------------------- exercise 1

_JOIN_CODE = """```python
def run_two(task):
    workers = [threading.Thread(target=task) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
```"""


def start_then_join(run_two: Callable[[Callable[[], None]], Any]) -> Feedback:
    """Exercise 1: ``run_two(task)`` runs ``task`` in two threads at the same time, then returns.

    The check hands your function a task that waits (at most 1 s) until the other thread
    arrives too. Two threads that really overlap both get through; threads started and
    joined one at a time each wait alone, and a task called in your function's own thread
    (``target=task()``, with parentheses) never ran in a new one. Then it checks that your
    function returned only after both had finished.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    problem = not_a_function(_START_THEN_JOIN, run_two, "run_two")
    if problem is not None:
        return problem
    barrier = threading.Barrier(2, timeout=1.0)
    finished: list[str] = []
    ran_in: list[int] = []  # the thread ids the task ran in
    caller: list[int] = []  # the thread id your function ran in
    lock = threading.Lock()

    def task() -> None:
        with lock:
            ran_in.append(threading.get_ident())
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            with lock:
                finished.append("alone")
            return
        time.sleep(0.05)
        with lock:
            finished.append("together")

    def call(given: Callable[[], None]) -> Any:
        caller.append(threading.get_ident())
        return run_two(given)

    began = time.perf_counter()
    status, value = call_with_timeout(call, task, timeout_s=JOIN_TIMEOUT_S)
    elapsed = time.perf_counter() - began
    done_at_return = len(finished)
    deadline = time.monotonic() + 3.0
    while len(finished) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    if status == "hung":
        return failed(
            _START_THEN_JOIN,
            f"Your function did not return within {JOIN_TIMEOUT_S:g} s: something waits for ever.",
            "join() waits for a thread to finish; is there a join() on a thread that never "
            "started, or a loop that never ends?",
            _JOIN_CODE,
        )
    if status == "error":
        return failed(
            _START_THEN_JOIN,
            f"Your function raised {type(value).__name__}: {value}",
            "A Thread is made with threading.Thread(target=task): pass the function, do not "
            "call it. start() runs it in the new thread.",
            _JOIN_CODE,
        )
    if not finished:
        return failed(
            _START_THEN_JOIN,
            "The task never ran: no thread was started.",
            "Create a threading.Thread(target=task) for each of the two runs; nothing runs "
            "until you call its start().",
            "Keep the threads in a list, so that you can start them all and then join them.",
            _JOIN_CODE,
        )
    if caller and caller[0] in ran_in:
        return failed(
            _START_THEN_JOIN,
            "The task ran in your function's own thread, not in a new one: a thread runs the "
            "function it was given as its target, and task() with parentheses runs right away, "
            "where it is written.",
            "Give the thread the function itself: target=task, without parentheses. start() is "
            "what calls it, in the new thread.",
            _JOIN_CODE,
        )
    if "alone" in finished:
        return failed(
            _START_THEN_JOIN,
            f"The two threads did not run at the same time (it took {elapsed:.1f} s): each "
            "waited for a partner that was not running yet.",
            "start() returns at once, join() waits until that thread has finished. Where are "
            "your join() calls?",
            "Start BOTH threads first, then join both: not start, join, start, join.",
            _JOIN_CODE,
        )
    if len(finished) < 2:
        return failed(
            _START_THEN_JOIN,
            "Only one thread ran the task.",
            "Make two threads, both with target=task.",
            _JOIN_CODE,
        )
    if done_at_return < 2:
        return failed(
            _START_THEN_JOIN,
            "Both threads ran at the same time, but your function returned before they had "
            "finished.",
            "join() is what waits for a thread: call it on each thread after starting them all.",
            _JOIN_CODE,
        )
    return passed(
        _START_THEN_JOIN,
        f"Both threads ran at the same time, and your function waited for both ({elapsed:.2f} s).",
    )


# --------------------------------------------------------------------------- exercise 2

_CUBE_CODE = """```python
%%worker_module exercise_tasks
def cube(x):
    return x**3
```
and then, in the next cell:
```python
cl.check.threads_and_processes.cube_in_spawn(exercise_tasks.cube)
```"""


def cube_in_spawn(cube: Callable[[Any], Any]) -> Feedback:
    """Exercise 2: ``cube`` computes ``x ** 3`` in processes started with ``spawn``.

    The check runs ``cube(3)`` and ``cube(-2)`` in two spawned processes (as every process
    starts on Windows and macOS) and compares the answers with 27 and -8.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    problem = not_a_function(_CUBE, cube, "exercise_tasks.cube")
    if problem is not None:
        return problem
    name = getattr(cube, "__name__", "cube")
    try:
        run = run_tasks(
            cube,
            [3, -2],
            kind="process",
            n_workers=2,
            start_method="spawn",
            timeout_s=CHECK_TIMEOUT_S,
        )
    except NotebookFunctionError:
        return failed(
            _CUBE,
            f"{name!r} is defined in this notebook (module __main__), which a spawned child "
            "cannot import: it starts a fresh Python and looks the function up by its module.",
            "Which cell magic turns a notebook cell into a module a child can import?",
            "Begin the cell that defines cube with %%worker_module exercise_tasks (a new name, "
            "so my_tasks keeps shout), run it, and pass exercise_tasks.cube to the check.",
            _CUBE_CODE,
        )
    except UnpicklableError as exc:
        return failed(
            _CUBE,
            f"It cannot be sent to a process: {str(exc).splitlines()[0]}",
            "A process gets its function by name, through pickle: a lambda or a function "
            "defined inside another function has no name it can be found by.",
            _CUBE_CODE,
        )
    except LabError as exc:
        return failed(
            _CUBE,
            f"It reached the spawned child but failed there: {str(exc).splitlines()[0]}",
            "Run the function in the notebook first, e.g. exercise_tasks.cube(3).",
            _CUBE_CODE,
        )
    if run.results != (27, -8):
        return failed(
            _CUBE,
            f"It ran in spawned processes, but returned {run.results[0]!r} for 3 and "
            f"{run.results[1]!r} for -2 (expected 27 and -8).",
            "x ** 3 is x to the power of 3.",
            _CUBE_CODE,
        )
    return passed(_CUBE, f"{name} ran in spawned processes: 3 → 27 and -2 → -8.")


# --------------------------------------------------------------------------- exercise 3

_RESULTS_CODE = """```python
from concurrent.futures import ProcessPoolExecutor


def run_in_processes(units):
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(cl.cpu_bound, units))
```"""


def _stop_started(result: Any) -> None:
    """Kill the processes a hung answer started that are still alive (our descendants only)."""
    import psutil

    try:
        ours = {p.pid: p for p in psutil.Process().children(recursive=True)}
    except psutil.Error:
        return
    for w in result.workers:
        if w.kind == "process" and w.role == "started" and w.pid in ours:
            try:
                ours[w.pid].kill()
            except psutil.Error:
                pass


def results_from_processes(run_in_processes: Callable[[list[int]], Any]) -> Feedback:
    """Exercise 3: ``run_in_processes(units)`` returns ``[cl.cpu_bound(u) for u in units]``,
    computed in processes, two or more at a time.

    The check calls your function with a few work sizes under ``cl.watch()``, which sees every
    process it starts, with the start method your code picks (your default, unless you chose
    one). It compares the results, their order, and whether two processes ran side by side.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    problem = not_a_function(_RESULTS, run_in_processes, "run_in_processes")
    if problem is not None:
        return problem
    units = list(RESULTS_UNITS)
    expected = [cpu_bound(u) for u in units]
    try:
        with watch() as seen:
            status, value = call_with_timeout(
                run_in_processes, list(units), timeout_s=CHECK_TIMEOUT_S
            )
    except WatchError:
        return Feedback(
            False,
            "Run this check in a cell without %%timeline: the check watches your function "
            "itself, and one watch runs at a time.",
        )
    watched = seen.result
    if status == "hung":
        _stop_started(watched)
        return failed(
            _RESULTS,
            f"Your function did not return within {CHECK_TIMEOUT_S:g} s (its processes were "
            "stopped): it waits for something that never comes.",
            "Queue.get() waits until an item arrives: one get() per result, and the children "
            "must put() before they end. A pool avoids this bookkeeping.",
            _RESULTS_CODE,
        )
    if status == "error":
        if isinstance(value, NotebookFunctionError):
            return failed(
                _RESULTS,
                "A function defined in this notebook was sent to a process that cannot import "
                "it (spawn or forkserver).",
                "Use cl.cpu_bound itself (the lab's functions can be imported), or put your own "
                "function in a %%worker_module cell.",
                _RESULTS_CODE,
            )
        return failed(
            _RESULTS,
            f"Your function raised {type(value).__name__}: {str(value).splitlines()[0]}",
            "Try it in the notebook first: run_in_processes([3, 1]).",
            _RESULTS_CODE,
        )
    try:
        got = list(value)
    except TypeError:
        got = None
    procs = [w for w in watched.workers if w.kind == "process" and w.role == "started"]
    if got is None or sorted(map(repr, got)) != sorted(map(repr, expected)):
        return failed(
            _RESULTS,
            f"For units {units} it returned {value!r}; expected {expected}.",
            "A process's memory is its own: appending to a list in a child changes the child's "
            "copy only. Results must be sent back: a pool does that for you.",
            "pool.map(cl.cpu_bound, units) returns the results, in the order of units.",
            _RESULTS_CODE,
        )
    if got != expected:
        return failed(
            _RESULTS,
            "The right results, in the wrong order: they came back in the order the "
            "processes finished.",
            "map() keeps the order of its input; a Queue gives results as they arrive (then "
            "send (index, result) pairs and sort them).",
            _RESULTS_CODE,
        )
    if not procs:
        threads = [
            w
            for w in watched.workers
            if w.kind == "thread" and w.role == "started" and w.name != "lab-check"
        ]
        where = "in threads" if threads else "here, in the notebook's own process"
        return failed(
            _RESULTS,
            f"The results are right, but no process was started: the work ran {where}.",
            "Threads share one process; to use other processes, start them with "
            "multiprocessing or concurrent.futures.",
            "concurrent.futures.ProcessPoolExecutor(max_workers=2) gives a pool of 2 processes.",
            _RESULTS_CODE,
        )
    if len(procs) < 2:
        return failed(
            _RESULTS,
            "The results are right, but one process did all the work: nothing ran beside it.",
            "Give the pool at least 2 workers (max_workers=2, or Pool(2)).",
            _RESULTS_CODE,
        )
    side_by_side = overlap(watched, kind="process")
    working = _computed_together(watched, procs)
    if not side_by_side.overlapped or working is False:
        return failed(
            _RESULTS,
            f"The results are right, but the {len(procs)} processes computed one after another"
            + (
                " (some were alive together, but only one worked at a time)."
                if working is False and side_by_side.overlapped
                else "."
            ),
            "Start all the work before you wait for any of it (join, get, result), in ONE "
            "pool or one set of processes.",
            _RESULTS_CODE,
        )
    return passed(
        _RESULTS,
        f"{len(procs)} processes computed the {len(units)} results and sent them back in "
        f"order; they were alive side by side for {side_by_side.together_s:.2f} s "
        f"(process ids {', '.join(str(w.pid) for w in procs[:4])}"
        f"{', …' if len(procs) > 4 else ''}; this notebook is {os.getpid()}).",
    )


def _computed_together(watched: Any, procs: list[Any]) -> bool | None:
    """Did two processes compute at the same time? ``None`` where that cannot be known.

    Being alive together is not enough: a fork pool starts all its workers at once, so a new
    2-worker pool per item has two processes alive while only one of them works, and the
    working ones (one per pool) live one after another. Each process that used at least 10 ms
    of CPU gets its working stretch: from when it had used 10 % of its CPU time to when it
    had used 90 % (from the watcher's samples). A process that used less than
    :data:`WORKED_SHARE` of the busiest one's CPU time only started (a fork worker copies
    pages of a large parent: tens of ms) and is left out. Two stretches that overlap mean two
    processes computed together; a busy machine stretches them but cannot pull apart the
    stretches of one pool's workers, nor join those of pools started one after another.
    Where the platform gives only CPU totals, two working processes alive together for a
    quarter of the shorter one's life stand in.
    """
    if any(w.cpu_s is None for w in procs):
        return None
    most = max(w.cpu_s for w in procs)
    working = [w for w in procs if w.cpu_s >= max(0.010, WORKED_SHARE * most)]
    stretches = []
    for w in working:
        times, cum = w.sample_s, w.cpu_seen_s
        if watched.resolution == "samples" and len(times) >= 2 and cum[-1] > cum[0]:
            used = [c - cum[0] for c in cum]
            total = used[-1]
            start = next(t for t, u in zip(times, used) if u >= 0.1 * total)
            end = next(t for t, u in zip(times, used) if u >= 0.9 * total)
            stretches.append((start, end, 0.0))
        else:
            life_end = w.end_s if w.end_s is not None else watched.wall_s
            stretches.append((w.start_s, life_end, 0.25))
    for i, (s1, e1, need1) in enumerate(stretches):
        for s2, e2, need2 in stretches[i + 1 :]:
            shared = min(e1, e2) - max(s1, s2)
            if shared > 0 and shared >= max(need1, need2) * min(e1 - s1, e2 - s2):
                return True
    return False
