"""Self-checks for ``07-choosing-a-model.ipynb``: ``cl.check.choosing.<exercise>(...)``.

Each check judges the learner's answer (running their code in a helper thread with a
timeout, so a version that hangs reports a hint instead of freezing the notebook). A failure
names the concept; ``cl.check.hint()`` gives more concrete hints, the last one the code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import inspect
import re
import time
from collections.abc import Callable
from typing import Any

from ..core.children import stop_processes
from ..core.feedback import Feedback, call_with_timeout, failed, passed
from ..core.machine import get_context
from .coroutines import run_coroutine
from .matrix import MatrixResult

__all__ = ["fetch_all", "run_all", "square", "tiny_tasks"]


def square(x: int) -> int:
    """``x * x``: the function Exercise 3 hands to your ``run_all`` (module-level, so a
    process pool can import it). Small numbers take longer (``(10 - x)`` × 4 ms), so tasks
    submitted first finish last, as real tasks often do: results gathered in the order
    they finish come out in another order than the items."""
    time.sleep(max(0, 10 - x) * 0.004)
    return x * x


# --------------------------------------------------------------------------- Exercise 2

_BATCH_CODE = """```python
# tiny tasks in batches of 250: one hand-over per batch, not per task
with ProcessPoolExecutor(max_workers=2) as pool:
    results = list(pool.map(cl.spin, [2_000] * 2_000, chunksize=250, timeout=60))
```"""


def tiny_tasks(prediction: str, result: MatrixResult) -> Feedback:
    """Exercise 2 (optional): predict which model runs 2,000 tiny tasks fastest, then measure.

    ``result`` is ``cl.choosing.compare_models(cl.spin, [2_000] * 2_000)``. Any model within
    10 % of the fastest counts as right (the difference is within a run's noise); a cell
    faster than the work allows is left out.
    """
    exercise = "choosing.tiny_tasks"
    if not isinstance(result, MatrixResult) or len(result.workloads) != 1:
        return failed(
            exercise,
            "Pass the measurement as the second argument: "
            "tiny = cl.choosing.compare_models(cl.spin, [2_000] * 2_000).",
        )
    models = [m for m in result.models]
    if not isinstance(prediction, str) or not prediction.strip():
        return failed(
            exercise,
            f"Write your prediction first: set my_prediction to one of "
            f"{', '.join(map(repr, models))}, before you look at the numbers.",
        )
    answer = prediction.strip().lower()
    if answer not in models:
        return failed(exercise, f"{prediction!r} is not one of {', '.join(map(repr, models))}.")
    w = result.workloads[0]
    fastest, best = result.fastest(w)
    speed = {m: result.speedup(w, m) for m in models}
    numbers = ", ".join(f"{m} {s:.2f}x" for m, s in speed.items() if m != "serial")
    fair = [m for m in models if not result.is_noise(w, m)]
    ok = [m for m in fair if speed[m] >= 0.9 * best]
    if answer in ok:
        why = (
            "each task is about a tenth of a millisecond of work, less than a pool needs to "
            "pickle it, hand it to a worker and send the result back"
            if fastest == "serial" or "serial" in ok
            else "on this machine the pools' hand-over was cheap enough to pay off"
        )
        return passed(
            exercise,
            f"Right: {answer} was among the fastest here (speedup over serial: {numbers}): {why}.",
        )
    if "serial" in ok:
        return failed(
            exercise,
            f"You predicted {answer}, but it ran at {speed[answer]:.2f}x of serial, and "
            f"{fastest} was fastest ({numbers}). What does a pool do for every task, before "
            f"and after the 0.1 ms of work?",
            "For each task a pool puts the call on a queue; a process pool also pickles it, "
            "sends it through a pipe to a worker and sends the result back. Compare that with "
            "0.1 ms of work.",
            "When each task is tiny, handing it over costs more than the work: serial wins. "
            "Batch the tasks (chunksize) or give each one more work, and pools pay again.",
            _BATCH_CODE,
        )
    # a pool won: on a machine with many cores, parallel work can outweigh the hand-over
    measured = (
        f"{fastest} ran {best:.2f}x as fast as serial here"
        if answer == "serial"
        else f"it ran at {speed[answer]:.2f}x of serial, and {fastest} was fastest"
    )
    return failed(
        exercise,
        f"You predicted {answer}, but {measured} ({numbers}). The tasks are tiny: what did "
        f"{fastest} have here that made up for handing each one over?",
        f"A pool pays for every task (a queue; a process pool also pickles it and sends it "
        f"through a pipe each way), but its {result.n_workers} workers run at the same time. "
        f"Pure-Python work holds the GIL, so threads take turns; processes each have a core "
        f"({result.usable_cores} usable here).",
        "Here the parallel work outweighed the hand-over, which is still the largest cost of "
        "a tiny task: batch the tasks (chunksize) and the pool gains more.",
        _BATCH_CODE,
    )


# --------------------------------------------------------------------------- Exercise 1

_GATHER_CODE = """```python
async def fetch_all(items, fetch):
    return list(await asyncio.gather(*(fetch(item) for item in items)))
```"""


def fetch_all(fetch_all_fn: Callable[..., Any]) -> Feedback:
    """Exercise 1: ``async def fetch_all(items, fetch)`` must have every fetch wait at once.

    The check hands your coroutine a ``fetch`` that counts how many fetches are waiting at
    the same moment, so the verdict does not depend on timing; results must come back in
    the order of ``items``.
    """
    exercise = "choosing.fetch_all"
    if not inspect.iscoroutinefunction(fetch_all_fn):
        return failed(
            exercise,
            "fetch_all must be a coroutine function, so that it can await: define it with "
            "'async def fetch_all(items, fetch):'.",
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
        got = run_coroutine(fetch_all_fn(items, fetch), timeout_s=10)
    except Exception as exc:
        said = f"Your coroutine raised {type(exc).__name__}: {str(exc).rstrip('.')}."
        if isinstance(exc, TypeError) and "unhashable" in str(exc):
            # asyncio.gather(coroutines): a list where it wants one argument per coroutine
            said += (
                " asyncio.gather takes each coroutine as a separate argument, not one list: "
                "unpack the list with *."
            )
        return failed(
            exercise,
            said,
            "Create all the coroutines first, without awaiting them one by one; then wait for "
            "all of them together.",
            "asyncio.gather(*coroutines) runs them all at once and returns their results in "
            "order (on Python 3.11+, an asyncio.TaskGroup does the same).",
            _GATHER_CODE,
        )
    want = [i * 10 for i in items]
    if inspect.isawaitable(got):
        if inspect.iscoroutine(got):
            what = "a coroutine"
            got.close()  # never awaited: close it, or Python warns about it
        else:
            what = "a future (as asyncio.gather and create_task return)"
            if isinstance(got, asyncio.Future) and got.done():
                with contextlib.suppress(BaseException):
                    got.exception()  # cancelled with its loop: read it, or asyncio logs it
        return failed(
            exercise,
            f"Your coroutine returned {what}, something still to wait for, not the results: "
            f"its values only arrive when it is awaited.",
            "Put 'await' in front of the call that waits for all the fetches together.",
            _GATHER_CODE,
        )
    try:
        same = got is not None and list(got) == want
    except TypeError:  # not a sequence at all
        same = False
    if not same:
        return failed(
            exercise,
            f"Return the results in the order of items: expected {want}, got {got!r}.",
            "asyncio.gather returns the results in the order you passed the coroutines, "
            "whichever finished first.",
            _GATHER_CODE,
        )
    if state["most"] < len(items):
        return failed(
            exercise,
            f"At most {state['most']} of {len(items)} fetches were waiting at the same time: "
            f"an 'await' inside the loop lets each fetch finish before the next one starts.",
            "Create all the coroutines first, without awaiting them one by one; then wait for "
            "all of them together.",
            "asyncio.gather(*coroutines) runs them all at once and returns their results in "
            "order (on Python 3.11+, an asyncio.TaskGroup does the same).",
            _GATHER_CODE,
        )
    return passed(exercise, f"All {len(items)} fetches waited together; results in order.")


# --------------------------------------------------------------------------- Exercise 3


class _Watch:
    """Records whether anything waited on the executor's results with a timeout, and how many
    tasks were submitted and not yet waited for at once (1 means one task at a time)."""

    def __init__(self) -> None:
        self.timed = False
        self.pending = 0
        self.most_pending = 0

    def submitted(self) -> None:
        self.pending += 1
        self.most_pending = max(self.most_pending, self.pending)

    def collected(self, future: Any) -> None:
        if not getattr(future, "_lab_collected", False):
            future._lab_collected = True
            self.pending -= 1


class _WatchedFuture(cf.Future):  # type: ignore[type-arg]
    _lab_watch: _Watch

    def result(self, timeout: float | None = None) -> Any:
        if timeout is not None:
            self._lab_watch.timed = True
        self._lab_watch.collected(self)
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if timeout is not None:
            self._lab_watch.timed = True
        return super().exception(timeout)


def _watched(base: Any, watch: _Watch) -> Any:
    """``base`` (an executor class) whose ``map`` and futures note a timeout in ``watch``."""

    class Watched(base):  # type: ignore[misc]
        def map(
            self, fn: Callable[..., Any], *iterables: Any, timeout: Any = None, **kw: Any
        ) -> Any:
            if timeout is not None:
                watch.timed = True
            return super().map(fn, *iterables, timeout=timeout, **kw)

        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            future = super().submit(fn, *args, **kwargs)
            future.__class__ = _WatchedFuture
            future._lab_watch = watch
            watch.submitted()
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


_MAP_CODE = """```python
def run_all(executor, fn, items):
    return list(executor.map(fn, items, timeout=30))
```"""


def run_all(run_all_fn: Callable[..., Any]) -> Feedback:
    """Exercise 3 (optional): ``run_all(executor, fn, items)``, for thread and process pools alike.

    It is called with a ``ThreadPoolExecutor`` and a ``ProcessPoolExecutor`` (``fn`` is
    :func:`square`) and must return a list of results in the order of ``items``, waiting
    with a timeout: the check's executors notice ``map(..., timeout=...)`` and
    ``future.result(timeout=...)``; a timeout given to ``cf.wait`` or ``cf.as_completed`` is
    found in your source.
    """
    exercise = "choosing.run_all"
    if not callable(run_all_fn):
        return failed(
            exercise, f"Pass your function itself, without calling it (got {run_all_fn!r})."
        )
    items = [1, 9, 4, 3, 5, 2]  # the first (slowest) finishes after the second
    want = [square(i) for i in items]
    watch = _Watch()
    executors: dict[str, Callable[[], Any]] = {
        "ThreadPoolExecutor": lambda: _watched(cf.ThreadPoolExecutor, watch)(2),
        "ProcessPoolExecutor": lambda: _watched(cf.ProcessPoolExecutor, watch)(
            2, mp_context=get_context()
        ),
    }
    for name, make in executors.items():
        ex = make()
        try:
            status, value = call_with_timeout(run_all_fn, ex, square, items, timeout_s=30)
        finally:
            procs = list((getattr(ex, "_processes", None) or {}).values())
            ex.shutdown(wait=False, cancel_futures=True)
            stop_processes(procs)
            # with its workers gone, the pool's own helper thread ends too: wait for it
            call_with_timeout(ex.shutdown, True, timeout_s=10)
        if status == "hung":
            return failed(
                exercise,
                f"With a {name} your function ran for 30 s without returning.",
                "Does it wait for something that never comes? Each result must be collected once.",
                _MAP_CODE,
            )
        if status == "error":
            return failed(
                exercise,
                f"With a {name} it raised {type(value).__name__}: {value}",
                "Call fn once per item, as fn(item): executor.map(fn, items) does that, and so "
                "does executor.submit(fn, item) for each item.",
                _MAP_CODE,
            )
        if value is not None and not isinstance(value, list) and hasattr(value, "__iter__"):
            return failed(
                exercise,
                "You returned an iterator: executor.map is lazy, and gives each result only "
                "when asked, so nothing waited for the tasks yet.",
                "Collect every result into a list before returning.",
                _MAP_CODE,
            )
        if isinstance(value, list) and value and isinstance(value[0], cf.Future):
            return failed(
                exercise,
                "You returned futures, not their results: a future is a promise of a value.",
                "Ask each future for its value, with a limit on the wait: "
                "future.result(timeout=30).",
                _MAP_CODE,
            )
        if value == want and watch.most_pending < 2:
            return failed(
                exercise,
                f"With a {name}: the right results, but one task at a time: each one was waited "
                f"for before the next was submitted, so the pool's workers never ran together.",
                "Submit every task first (a list of futures, or executor.map), then collect the "
                "results.",
                _MAP_CODE,
            )
        watch.pending = watch.most_pending = 0
        if value != want:
            shuffled = isinstance(value, list) and sorted(value, key=repr) == sorted(want, key=repr)
            return failed(
                exercise,
                f"With a {name}: expected {want}, got {value!r}."
                + (" The right results, in another order." if shuffled else ""),
                "Keep the order of items: as_completed gives results as tasks finish, while "
                "executor.map, or the futures read in the order you submitted them, keep it.",
                _MAP_CODE,
            )
    if not (watch.timed or _mentions_timeout(run_all_fn)):
        return failed(
            exercise,
            "The results are right, but nothing waited with a timeout: if one task hung, your "
            "function would wait for ever.",
            "executor.map and future.result both take timeout=...: give the wait a limit.",
            _MAP_CODE,
        )
    return passed(
        exercise,
        "The same function drove a thread pool and a process pool: one interface, two models.",
    )
