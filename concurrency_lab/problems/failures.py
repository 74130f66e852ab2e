"""When a worker fails: an exception in a thread, a pool worker that dies, a process's exit code.

Each demo reproduces one failure with plain ``threading``, ``multiprocessing`` or
``concurrent.futures`` code, bounded by timeouts, and returns a result that says in a
sentence what the caller learned. ``cl.show_source(cl.problems.dead_worker)`` shows the code.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import io
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..core.children import stop_processes
from ..core.machine import check_start_method, get_context
from ..core.results import Result
from ..core.validate import check_timeout
from ..core.workloads import noop
from .process_tree import stop_pool
from .vocabulary import StartMethodName, check_fixed

__all__ = [
    "DeadWorkerResult",
    "ExitCodesResult",
    "ThreadExceptionResult",
    "crash_on_zero",
    "dead_worker",
    "divide",
    "exit_codes",
    "thread_exception",
]


# --------------------------------------------------------------------------- worker functions


def divide(a: float, b: float) -> float:
    """``a / b``: with ``b = 0`` a worker that raises ``ZeroDivisionError``.

    >>> divide(6, 3)
    2.0
    """
    return a / b


def crash_on_zero(x: int) -> int:
    """Return ``x * x``, but for ``x == 0`` end this process at once with exit code 7.

    ``os._exit`` skips every ``except`` and ``finally``: the process vanishes the way it
    would after a segfault in a C extension or a visit from the out-of-memory killer.

    >>> crash_on_zero(3)
    9
    """
    if x == 0:
        os._exit(7)
    return x * x


# --------------------------------------------------------------------------- a thread's exception


@dataclass(frozen=True)
class ThreadExceptionResult(Result):
    """What the starting thread learned when a worker thread raised.

    Attributes:
        fixed: ``False`` = a bare ``threading.Thread``; ``True`` = a ``ThreadPoolExecutor``.
        join_returned: the caller's wait ended normally (``join()`` or ``result()`` returned).
        hook_saw: what ``threading.excepthook`` received (by default it only prints it).
        caught: the error the caller caught, or ``None``.
    """

    fixed: bool
    join_returned: bool
    hook_saw: str | None
    caught: str | None

    def summary(self) -> str:
        if self.caught:
            return (
                f"Through a ThreadPoolExecutor, future.result() raised {self.caught} in the "
                f"caller, where a try/except can handle it."
            )
        if self.hook_saw and self.join_returned:
            return (
                f"The worker thread raised {self.hook_saw}, but join() returned as if all "
                f"went well: the error went only to threading.excepthook, which prints it to "
                f"stderr and tells the caller nothing."
            )
        return (
            f"The caller caught nothing (join returned: {self.join_returned}; "
            f"threading.excepthook saw: {self.hook_saw or 'nothing'})."
        )


def thread_exception(*, fixed: bool = False, timeout_s: float = 10.0) -> ThreadExceptionResult:
    """A worker thread divides by zero: does the thread that started it find out?

    With a bare ``threading.Thread``, no: the exception goes to ``threading.excepthook``
    (which prints a traceback to stderr) and ``join()`` returns as if all went well. With
    ``concurrent.futures``, ``future.result()`` raises it again in the caller. The hook is
    replaced for the moment of the demo and then restored.

    >>> thread_exception(fixed=True).caught
    'ZeroDivisionError: division by zero'

    Args:
        fixed: run the repaired version (an executor) instead of a bare thread.
        timeout_s: the longest wait for the worker.

    Introduced in ``08-common-problems.ipynb``.
    """
    fixed = check_fixed(fixed)
    timeout_s = check_timeout(timeout_s)
    seen: list[str] = []
    saved = threading.excepthook
    threading.excepthook = lambda args: seen.append(f"{args.exc_type.__name__}: {args.exc_value}")
    caught = None
    returned = False
    try:
        if not fixed:
            worker = threading.Thread(target=divide, args=(1, 0), name="divider")
            worker.start()
            worker.join(timeout_s)
            returned = not worker.is_alive()
        else:
            with cf.ThreadPoolExecutor(max_workers=1) as executor:
                future = executor.submit(divide, 1, 0)
                try:
                    future.result(timeout=timeout_s)
                    returned = True
                except ZeroDivisionError as exc:
                    caught = f"{type(exc).__name__}: {exc}"
    finally:
        threading.excepthook = saved
    return ThreadExceptionResult(fixed, returned, seen[0] if seen else None, caught)


# --------------------------------------------------------------------------- a dead pool worker

PoolApi = Literal["multiprocessing.Pool", "ProcessPoolExecutor"]
Outcome = Literal["timed out", "BrokenProcessPool", "finished"]


@dataclass(frozen=True)
class DeadWorkerResult(Result):
    """What the caller saw when a pool worker died in the middle of a task.

    Attributes:
        api: ``"multiprocessing.Pool"`` (the broken version) or ``"ProcessPoolExecutor"``.
        outcome: ``"timed out"`` (it would have waited forever), ``"BrokenProcessPool"`` or
            ``"finished"``.
        message: the error text.
        waited_s: how long the caller waited before it knew.
        timeout_s: the timeout the caller used.
    """

    api: PoolApi
    outcome: Outcome
    message: str
    waited_s: float
    timeout_s: float

    def summary(self) -> str:
        if self.outcome == "timed out":
            return (
                f"{self.api}: one task ended its worker process (os._exit(7)). The pool "
                f"started a new worker, but nobody reports or re-runs the lost task, so "
                f"get() was still waiting after {self.timeout_s:g} s; without a timeout it "
                f"would wait forever."
            )
        if self.outcome == "BrokenProcessPool":
            return (
                f"{self.api} noticed the dead worker after {self.waited_s:.2f} s and failed "
                f"every pending task with BrokenProcessPool: {self.message}"
            )
        return f"{self.api}: every task finished ({self.waited_s:.2f} s)."


def dead_worker(
    *,
    fixed: bool = False,
    start_method: StartMethodName | None = None,
    timeout_s: float = 2.0,
) -> DeadWorkerResult:
    """One task ends its own worker process (:func:`crash_on_zero`); does the caller notice?

    ``multiprocessing.Pool`` quietly replaces the dead worker, but the task it was running
    never reports back, so ``get()`` without a timeout waits forever; here it waits
    ``timeout_s``. ``ProcessPoolExecutor`` (``fixed=True``) notices the death and fails
    every pending future with ``BrokenProcessPool`` at once.

    Args:
        fixed: use ``ProcessPoolExecutor`` instead of ``multiprocessing.Pool``.
        start_method: how the workers start (``None``: the default).
        timeout_s: the longest wait for the results.

    Introduced in ``08-common-problems.ipynb``.
    """
    fixed = check_fixed(fixed)
    ctx = get_context(check_start_method(start_method))
    timeout_s = check_timeout(timeout_s)
    start = time.perf_counter()
    if not fixed:
        outcome, message, waited = _map_on_pool(ctx, timeout_s)
        gc.collect()  # a pool's semaphores are freed only when its objects are collected
        return DeadWorkerResult("multiprocessing.Pool", outcome, message, waited, timeout_s)
    executor = cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx)
    try:
        futures = [executor.submit(crash_on_zero, i) for i in range(4)]
        try:
            for future in futures:
                future.result(timeout=timeout_s)
            outcome, message = "finished", ""
        except cf.process.BrokenProcessPool as exc:
            outcome, message = "BrokenProcessPool", str(exc)
        except cf.TimeoutError:
            outcome, message = "timed out", f"no result after {timeout_s:g} s"
        waited = time.perf_counter() - start
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return DeadWorkerResult("ProcessPoolExecutor", outcome, message, waited, timeout_s)


def _map_on_pool(ctx: Any, timeout_s: float) -> tuple[Outcome, str, float]:
    start = time.perf_counter()
    pool = ctx.Pool(2)
    try:
        pending = pool.map_async(crash_on_zero, [0, 1, 2, 3])
        try:
            pending.get(timeout=timeout_s)
            outcome: Outcome = "finished"
            message = ""
        except multiprocessing.TimeoutError:
            outcome, message = "timed out", f"no result after {timeout_s:g} s"
        return outcome, message, time.perf_counter() - start
    finally:
        stop_pool(pool)


# --------------------------------------------------------------------------- exit codes


def raise_value_error() -> None:
    """Raise in a child process (its traceback is kept out of the terminal)."""
    sys.stderr = io.StringIO()
    raise ValueError("something went wrong in the child")


def exit_with_3() -> None:
    """End a child process with ``sys.exit(3)``."""
    sys.exit(3)


def sleep_until_killed(seconds: float = 30.0) -> None:
    """Sleep; the parent kills this child before it wakes."""
    time.sleep(seconds)


@dataclass(frozen=True)
class ExitCodesResult(Result):
    """The exit code of four child processes that ended four ways.

    Attributes:
        codes: ``(how it ended, exit code)`` per child.
        platform: ``sys.platform`` where it ran (exit codes of killed processes differ).
    """

    codes: tuple[tuple[str, int | None], ...]
    platform: str

    def summary(self) -> str:
        rows = "; ".join(f"{how}: {code}" for how, code in self.codes)
        text = (
            f"A bare Process gives its parent only an exit code. {rows}. 0 means it returned, "
            f"1 an uncaught exception, other positive numbers sys.exit(n) or os._exit(n)"
        )
        if self.platform == "win32":
            return text + (
                ". Windows has no signals: multiprocessing reports kill() and terminate() as "
                "-15 (it maps TerminateProcess onto -SIGTERM), and a process killed by another "
                "tool ends with the code that tool chose (psutil and os.kill use 15)."
            )
        return text + (
            ", and a negative number -n means that signal n ended it (-9 is SIGKILL, what "
            "Process.kill() and Linux's out-of-memory killer send; -15 is SIGTERM, from "
            "terminate())."
        )


def exit_codes(
    *, start_method: StartMethodName | None = None, timeout_s: float = 30.0
) -> ExitCodesResult:
    """Start four processes that end four ways; return each one's ``exitcode``.

    A bare ``Process`` does not pass its exception to the parent (executors do, by pickling
    it): all the parent gets is the exit code. The fourth child is killed by its parent with
    ``Process.kill()``, which works on every platform (``signal.SIGKILL`` does not exist on
    Windows).

    Introduced in ``08-common-problems.ipynb``.
    """
    ctx = get_context(check_start_method(start_method))
    timeout_s = check_timeout(timeout_s)
    plan: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
        "returned normally": (noop, ()),
        "raised ValueError": (raise_value_error, ()),
        "called sys.exit(3)": (exit_with_3, ()),
        "killed by its parent with kill()": (sleep_until_killed, (timeout_s,)),
    }
    procs = {
        how: ctx.Process(target=fn, args=args, daemon=True)  # type: ignore[attr-defined]
        for how, (fn, args) in plan.items()
    }
    try:
        for p in procs.values():
            p.start()
        procs["killed by its parent with kill()"].kill()
        deadline = time.monotonic() + timeout_s
        for p in procs.values():
            p.join(max(0.0, deadline - time.monotonic()))
    finally:
        stop_processes(p for p in procs.values() if p.pid is not None)
    return ExitCodesResult(tuple((how, p.exitcode) for how, p in procs.items()), sys.platform)
