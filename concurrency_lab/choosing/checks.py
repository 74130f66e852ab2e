"""Self-checks for ``07-choosing-a-model.ipynb`` and ``08-common-problems.ipynb``.

Each check runs your function with a timeout in a helper thread, so a version
that would hang reports a hint instead of freezing the notebook.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import inspect
import re
from collections.abc import Callable
from typing import Any

from ..core.children import stop_processes
from ..core.feedback import Feedback, call_with_timeout
from ..core.machine import get_context
from ..problems.traps import square
from .models import ScenarioMatrix, run_coroutine

__all__ = ["best_model", "fetches_concurrently", "runs_on_any_executor"]


def best_model(matrix: ScenarioMatrix, workload: str, answer: str) -> Feedback:
    """Exercise 07-1: which model ran ``workload`` fastest on *your* machine?

    Any model within 10% of the fastest counts as right: the difference is
    within the noise of one measurement.
    """
    if not isinstance(matrix, ScenarioMatrix):
        return Feedback(
            False, "Pass the matrix you measured: matrix = cl.choosing.scenario_matrix()."
        )
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
            status, value = call_with_timeout(run_all, ex, square, items, timeout_s=30)
        finally:
            ex.shutdown(wait=False, cancel_futures=True)
            stop_processes((getattr(ex, "_processes", None) or {}).values())
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
