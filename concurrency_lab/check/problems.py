"""Self-checks for ``07-choosing-a-model.ipynb`` and ``08-common-problems.ipynb``.

Each check runs your function with a timeout in a helper thread, so a version
that would hang reports a hint instead of freezing the notebook.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
import inspect
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from ..models import ScenarioMatrix, run_coroutine
from ..problems import _divide, _put_big, _start_two_levels, _wait_dead, square
from ..runners import _stop_processes, get_context
from ._base import Feedback

__all__ = [
    "best_model",
    "drains_before_join",
    "fetches_concurrently",
    "reports_thread_exception",
    "runs_on_any_executor",
    "stops_whole_tree",
]


def _call_with_timeout(fn: Callable[..., Any], *args: Any, timeout_s: float) -> tuple[str, Any]:
    """Run ``fn(*args)`` in a helper thread.

    Returns ``("ok", value)``, ``("error", exc)`` or ``("hung", thread)``.
    """
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=main, name="lab-check", daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        return "hung", t
    if "error" in box:
        return "error", box["error"]
    return "ok", box.get("value")


# --------------------------------------------------------------------------- 07


def best_model(matrix: ScenarioMatrix, workload: str, answer: str) -> Feedback:
    """Exercise 07-1: which model ran ``workload`` fastest on *your* machine?

    Any model within 10% of the fastest counts as right: the difference is
    within the noise of one measurement.
    """
    if not isinstance(matrix, ScenarioMatrix):
        return Feedback(False, "Pass the matrix you measured: matrix = cl.scenario_matrix().")
    if workload not in matrix.workloads:
        return Feedback(False, f"{workload!r} is not a row of your matrix: {matrix.workloads}.")
    if not answer:
        return Feedback(
            False,
            f"Set my_answer to the model whose cell in the {workload!r} row of your heat map is "
            f"the greenest: one of {', '.join(map(repr, matrix.models))}.",
        )
    if answer not in matrix.models:
        return Feedback(
            False, f"{answer!r} is not a column of your matrix; choose from {matrix.models}."
        )
    speed = {m: matrix.speedup(workload, m) for m in matrix.models}
    fastest = max(speed, key=speed.__getitem__)
    if speed[answer] >= 0.9 * speed[fastest]:
        if answer == "serial":
            return Feedback(
                True,
                f"Here nothing beat serial by more than 10% on {workload} (best: {fastest}, "
                f"{speed[fastest]:.1f}x). Was the machine busy? Run the matrix again to see.",
            )
        return Feedback(
            True,
            f"{answer} ran {workload} {speed[answer]:.1f}x faster than serial here"
            + (f" (fastest: {fastest}, {speed[fastest]:.1f}x)." if fastest != answer else "."),
        )
    return Feedback(
        False,
        f"On your machine {answer} ran {workload} at {speed[answer]:.1f}x, but {fastest} reached "
        f"{speed[fastest]:.1f}x. Read the {workload!r} row of the heat map: the greenest cell "
        f"wins.",
    )


def fetches_concurrently(fetch_all: Callable[..., Any]) -> Feedback:
    """Exercise 07-2: ``async def fetch_all(items, fetch)`` must await every ``fetch`` at once.

    The check hands you a ``fetch`` coroutine function that counts how many
    fetches are in flight together, so the verdict does not depend on timing.
    """
    if not inspect.iscoroutinefunction(fetch_all):
        return Feedback(
            False, "Define it with 'async def fetch_all(items, fetch):' so it can use await."
        )
    items = list(range(8))
    state = {"now": 0, "most": 0}

    async def fetch(item: int) -> int:
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])
        try:
            await asyncio.sleep(0.02)
        finally:
            state["now"] -= 1
        return item * 10

    try:
        got = run_coroutine(fetch_all(items, fetch), timeout_s=10)
    except Exception as exc:
        return Feedback(False, f"Your coroutine raised {type(exc).__name__}: {exc}")
    if got is None or list(got) != [i * 10 for i in items]:
        return Feedback(
            False,
            f"Return the results in the order of items: expected {[i * 10 for i in items]}, got "
            f"{got!r}. (asyncio.gather returns them in the order you passed the coroutines.)",
        )
    if state["most"] < len(items):
        return Feedback(
            False,
            f"At most {state['most']} fetch(es) were waiting at once: each "
            f"'await fetch(item)' in a "
            f"loop waits for that one to finish. Create all the coroutines first, then "
            f"'await asyncio.gather(*(fetch(i) for i in items))'.",
        )
    return Feedback(True, f"All {len(items)} fetches waited together, results in order.")


class _Watch:
    """Records whether anything waited on the executor's results with a timeout."""

    def __init__(self) -> None:
        self.timed = False


class _WatchedFuture(cf.Future):  # type: ignore[type-arg]
    _lab_watch: _Watch

    def result(self, timeout: float | None = None) -> Any:
        if timeout is not None:
            self._lab_watch.timed = True
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if timeout is not None:
            self._lab_watch.timed = True
        return super().exception(timeout)


def _watched(base: type[cf.Executor], watch: _Watch) -> type[cf.Executor]:
    """``base`` with ``map`` and the futures of ``submit`` noting a timeout in ``watch``."""

    class Watched(base):  # type: ignore[valid-type, misc]
        def map(self, fn: Callable[..., Any], *iterables: Any, timeout: Any = None, **kw: Any):
            if timeout is not None:
                watch.timed = True
            return super().map(fn, *iterables, timeout=timeout, **kw)

        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
            future = super().submit(fn, *args, **kwargs)
            future.__class__ = _WatchedFuture
            future._lab_watch = watch
            return future

    Watched.__name__ = Watched.__qualname__ = base.__name__
    return Watched


def _mentions_timeout(fn: Callable[..., Any]) -> bool:
    """True if ``fn``'s source passes a timeout (e.g. to ``cf.wait`` or ``cf.as_completed``)."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return False
    return re.search(r"\btimeout\s*=\s*(?!None\b)", source) is not None


def runs_on_any_executor(run_all: Callable[..., Any]) -> Feedback:
    """Exercise 07-3: ``run_all(executor, fn, items)`` must work with threads and processes alike.

    It is called with a ``ThreadPoolExecutor`` and a ``ProcessPoolExecutor``
    (``fn`` is :func:`concurrency_lab.problems.square`), and must return a list of
    results in the order of ``items``, waiting with a timeout: the check's
    executors notice ``map(..., timeout=...)`` and ``future.result(timeout=...)``;
    a timeout given to ``cf.wait`` or ``cf.as_completed`` is found in your source.
    """
    if not callable(run_all):
        return Feedback(False, f"Pass your function itself (got {type(run_all).__name__}).")
    items = [3, 1, 4, 1, 5, 9]
    want = [square(i) for i in items]
    watch = _Watch()
    executors = {
        "ThreadPoolExecutor": lambda: _watched(cf.ThreadPoolExecutor, watch)(2),
        "ProcessPoolExecutor": lambda: _watched(cf.ProcessPoolExecutor, watch)(
            2, mp_context=get_context()
        ),
    }
    for name, make in executors.items():
        ex = make()
        try:
            status, value = _call_with_timeout(run_all, ex, square, items, timeout_s=30)
        finally:
            ex.shutdown(wait=False, cancel_futures=True)
            _stop_processes((getattr(ex, "_processes", None) or {}).values())
        if status == "hung":
            return Feedback(False, f"With a {name} your function ran for 30 s without returning.")
        if status == "error":
            return Feedback(False, f"With a {name} it raised {type(value).__name__}: {value}")
        if value is not None and not isinstance(value, list) and hasattr(value, "__iter__"):
            return Feedback(
                False,
                "You returned an iterator (executor.map is lazy): wrap it in list(...), with a "
                "timeout: list(executor.map(fn, items, timeout=30)).",
            )
        if isinstance(value, list) and value and isinstance(value[0], cf.Future):
            return Feedback(
                False, "You returned futures: collect their values with f.result(timeout=30)."
            )
        if value != want:
            return Feedback(False, f"With a {name}: expected {want}, got {value!r}.")
    if not (watch.timed or _mentions_timeout(run_all)):
        return Feedback(
            False,
            "The results are right, but nothing waited with a timeout: if a task hung, so would "
            "your function. Give the wait a limit: list(executor.map(fn, items, timeout=30)), "
            "or future.result(timeout=30).",
        )
    return Feedback(
        True, "The same function drove a thread pool and a process pool: one interface, two models."
    )


# --------------------------------------------------------------------------- 08


def reports_thread_exception(run_in_thread: Callable[[Callable[[], Any]], Any]) -> Feedback:
    """Exercise 08-1: ``run_in_thread(target)`` runs ``target`` in another thread and returns
    the exception it raised (or ``None``)."""
    if not callable(run_in_thread):
        return Feedback(False, f"Pass your function itself (got {type(run_in_thread).__name__}).")
    saved = threading.excepthook
    threading.excepthook = lambda args: None  # a bare Thread's error would only be printed
    try:
        status, value = _call_with_timeout(
            run_in_thread, functools.partial(_divide, 1, 0), timeout_s=10
        )
        status_ok, value_ok = _call_with_timeout(
            run_in_thread, functools.partial(_divide, 1, 1), timeout_s=10
        )
    finally:
        threading.excepthook = saved
    if "hung" in (status, status_ok):
        return Feedback(False, "Your function did not return within 10 s. Wait with a timeout.")
    if status == "error":
        return Feedback(
            False,
            f"The error reached you as an exception ({type(value).__name__}): good instinct, but "
            f"return it instead of raising it, e.g. future.exception(timeout=10).",
        )
    if not isinstance(value, ZeroDivisionError):
        return Feedback(
            False,
            f"For a target that divides by zero you returned {value!r}. A bare threading.Thread "
            f"hands its exception to threading.excepthook, not to join(). Use "
            f"cf.ThreadPoolExecutor: executor.submit(target).exception(timeout=10).",
        )
    if status_ok != "ok" or value_ok is not None:
        return Feedback(False, f"For a target that succeeds, return None (got {value_ok!r}).")
    return Feedback(True, "The worker thread's ZeroDivisionError reached the caller.")


def drains_before_join(
    collect: Callable[[Any, Any], Any], *, size_bytes: int = 1 << 20
) -> Feedback:
    """Exercise 08-2: ``collect(q, p)`` takes the child's one item from ``q``, joins ``p``, returns
    the item. The child puts 1 MiB, more than a pipe holds, so the order matters."""
    if not callable(collect):
        return Feedback(False, f"Pass your function itself (got {type(collect).__name__}).")
    ctx = get_context()
    q = ctx.Queue()
    p = ctx.Process(target=_put_big, args=(q, size_bytes), daemon=True)
    p.start()
    try:
        status, value = _call_with_timeout(collect, q, p, timeout_s=5)
        if status == "hung":
            _stop_processes([p])
            _unblock_reader(q, value)
            return Feedback(
                False,
                "Deadlock: your function was still waiting after 5 s. If you join() first, the "
                "child waits for its 1 MiB to leave through the pipe and you wait for the child. "
                "Take the item with q.get(timeout=...) first, then join.",
            )
        if status == "error":
            return Feedback(False, f"Your function raised {type(value).__name__}: {value}")
        if not isinstance(value, bytes) or len(value) != size_bytes:
            got = len(value) if isinstance(value, (bytes, bytearray)) else repr(value)[:60]
            return Feedback(False, f"Return the item you took from the queue (got {got}).")
        if p.exitcode is None:
            return Feedback(False, "You returned the item but did not join the process.")
        return Feedback(True, "Item taken first, then the child could finish and be joined.")
    finally:
        if p.pid is not None:
            _stop_processes([p])
        q.close()
        q.join_thread()


def _unblock_reader(q: Any, thread: threading.Thread, timeout_s: float = 5.0) -> None:
    """Free a thread stuck in ``q.get()`` on a message its dead sender never finished.

    The killed child left part of a message in the pipe; filler bytes complete it,
    so the stuck ``get()`` returns (with garbage, or an unpickling error).
    """
    import os

    fd = q._writer.fileno()
    os.set_blocking(fd, False)
    chunk = bytes(1 << 16)
    deadline = time.monotonic() + timeout_s
    while thread.is_alive() and time.monotonic() < deadline:
        try:
            os.write(fd, chunk)
        except BlockingIOError:
            thread.join(0.01)
    thread.join(1)


def _running(pid: int | None) -> bool:
    import psutil

    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stops_whole_tree(stop_tree: Callable[[int], Any]) -> Feedback:
    """Exercise 08-3: ``stop_tree(pid)`` must stop process ``pid`` *and* every process it started.

    The check starts a worker that started a process, which started one more
    (three levels, so ``children()`` without ``recursive=True`` misses the last
    one), calls ``stop_tree(worker_pid)``, then looks for survivors (and removes them).
    """
    import psutil

    if not callable(stop_tree):
        return Feedback(False, f"Pass your function itself (got {type(stop_tree).__name__}).")
    ctx = get_context()
    reader, writer = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_start_two_levels, args=(writer,), daemon=False)
    p.start()
    writer.close()
    below: list[int] = []
    try:
        try:
            if not reader.poll(20):
                raise EOFError
            below = [int(pid) for pid in reader.recv()]
        except (EOFError, OSError, TypeError, ValueError):
            return Feedback(False, "The check's worker did not start in time; run it again.")
        status, value = _call_with_timeout(stop_tree, p.pid, timeout_s=10)
        if status == "hung":
            return Feedback(
                False, "stop_tree did not return within 10 s: give its waits a timeout."
            )
        if status == "error":
            return Feedback(False, f"stop_tree raised {type(value).__name__}: {value}")
        tree = {"the worker": p.pid, "its child": below[0], "its grandchild": below[1]}
        deadline = time.monotonic() + 2
        survivors: dict[str, int] = {}
        while time.monotonic() < deadline:
            # psutil, not p.exitcode: stop_tree may already have reaped the worker itself.
            survivors = {who: pid for who, pid in tree.items() if _running(pid)}
            if not survivors:
                break
            time.sleep(0.02)
        if survivors:
            if "the worker" in survivors:
                hint = "Stop the process itself too: psutil.Process(pid).kill()."
            elif "its child" in survivors:
                hint = (
                    "Killing a process does not kill its children: collect "
                    "psutil.Process(pid).children(recursive=True) first, kill them, then the "
                    "process."
                )
            else:
                hint = (
                    "children() lists only direct children, not their children: collect "
                    "psutil.Process(pid).children(recursive=True) before you kill anything."
                )
            survivors_text = " and ".join(f"{who} {pid}" for who, pid in survivors.items())
            return Feedback(False, f"Still running: {survivors_text}. {hint}")
        return Feedback(True, "The worker, its child and its grandchild are all gone.")
    finally:
        reader.close()
        if p.pid is not None:
            _stop_processes([p])
        leftovers = []
        for pid in below:
            try:
                proc = psutil.Process(pid)
                proc.kill()
                leftovers.append(proc)
            except psutil.Error:
                pass
        _wait_dead(leftovers)
