"""Choosing a model: measure serial, threads, processes and asyncio on four kinds of work.

* :func:`scenario_matrix` runs the same tasks four ways on *this* machine and
  returns how long each took; :func:`recommend` reads that measurement and
  explains which model fits a workload, with the numbers behind the choice.
* :func:`async_io_bound` is the ``asyncio`` twin of :func:`~concurrency_lab.io_bound`;
  :func:`gather_waits` overlaps many of them; :func:`run_coroutine` runs a
  coroutine from ordinary code even where an event loop is already running
  (a notebook), where ``asyncio.run`` refuses.
* :func:`find_interpreters` looks for free-threaded CPython (3.13t, 3.14t) and
  for Pythons with sub-interpreter pools (3.14+); :func:`interpreter_sweep`
  runs a small thread-scaling sweep in any interpreter, as a subprocess.
* :func:`dask_overhead` runs the same work on a Dask ``LocalCluster`` and on a
  local process pool, if the optional ``dask`` extra is installed.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import LabError, WorkerTimeoutError
from ..core.machine import check_start_method, usable_cores
from ..core.runners import run_tasks
from ..core.validate import check_n_workers, check_timeout
from ..core.workloads import (
    async_io_bound,
    calibrate,
    cpu_bound,
    gil_releasing,
    io_bound,
    mixed_task,
)

__all__ = [
    "MODELS",
    "WORKLOADS",
    "DaskComparison",
    "DaskNotInstalledError",
    "InterpreterInfo",
    "InterpreterSweep",
    "Recommendation",
    "ScenarioMatrix",
    "async_mixed_task",
    "dask_available",
    "dask_overhead",
    "default_matrix_workers",
    "explain_interpreters",
    "find_interpreters",
    "gather_waits",
    "interpreter_sweep",
    "noop_task",
    "recommend",
    "run_coroutine",
    "scenario_matrix",
]

#: The kinds of work in the scenario matrix.
WORKLOADS = ("cpu", "gil_releasing", "io", "mixed")
#: The ways of running it; ``"serial"`` is the baseline and always measured.
MODELS = ("serial", "threads", "processes", "asyncio")

_WORKLOAD_TEXT = {
    "cpu": "pure-Python CPU work (cl.cpu_bound)",
    "gil_releasing": "C code that releases the GIL (cl.gil_releasing, SHA-256)",
    "io": "waiting on I/O (cl.io_bound: sleep + a loopback round trip)",
    "mixed": "half CPU work, half waiting (cl.mixed_task)",
}


# --------------------------------------------------------------------------- tasks


async def async_mixed_task(units: int, wait_s: float) -> float:
    """The ``asyncio`` version of :func:`mixed_task`: the CPU part still blocks the loop."""
    start = time.perf_counter()
    cpu_bound(units)
    await async_io_bound(wait_s)
    return time.perf_counter() - start


async def gather_waits(n_tasks: int, *, wait_s: float = 0.1) -> float:
    """Run ``n_tasks`` copies of :func:`async_io_bound` at once on this event loop.

    In a notebook, ``await`` it directly (the kernel already runs a loop)::

        elapsed_s = await cl.choosing.gather_waits(50, wait_s=0.1)

    Returns the wall-clock seconds for all of them (about ``wait_s``, not
    ``n_tasks * wait_s``, because the waits overlap).

    >>> run_coroutine(gather_waits(3, wait_s=0.01)) < 3 * 0.01 + 1
    True

    Raises:
        ValueError: ``n_tasks`` < 1.
    """
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, int) or n_tasks < 1:
        raise ValueError(f"'n_tasks' must be a whole number >= 1 (got {n_tasks!r}).")
    start = time.perf_counter()
    await asyncio.gather(*(async_io_bound(wait_s) for _ in range(n_tasks)))
    return time.perf_counter() - start


def run_coroutine(coro: Awaitable[Any], *, timeout_s: float = 60.0) -> Any:
    """Run a coroutine to the end from ordinary code, even inside a notebook.

    ``asyncio.run`` refuses to start when this thread already runs an event loop
    (as a Jupyter kernel does): "asyncio.run() cannot be called from a running
    event loop". This runs the coroutine on a fresh loop in a helper thread and
    waits for it, so it works in a script and in a notebook alike. In a notebook
    cell, plain ``await coro`` is simpler.

    >>> run_coroutine(asyncio.sleep(0, result="done"))
    'done'

    Raises:
        WorkerTimeoutError: the coroutine was still running after ``timeout_s``
            (it is cancelled and its loop closed).
    """
    timeout_s = check_timeout(timeout_s)
    box: dict[str, Any] = {}
    loop = asyncio.new_event_loop()

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            box["result"] = loop.run_until_complete(coro)  # type: ignore[arg-type]
        except BaseException as exc:
            box["error"] = exc
        finally:
            try:
                _cancel_all(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def cancel_and_wait() -> None:
        with contextlib.suppress(RuntimeError):  # the loop may close meanwhile
            for task in asyncio.all_tasks(loop):
                loop.call_soon_threadsafe(task.cancel)
        t.join(5)

    t = threading.Thread(target=main, name="lab-event-loop", daemon=True)
    t.start()
    try:
        t.join(timeout_s)
    except BaseException:  # e.g. KeyboardInterrupt: stop the coroutine too
        cancel_and_wait()
        raise
    if t.is_alive():
        cancel_and_wait()
        raise WorkerTimeoutError(
            f"the coroutine was still running after timeout_s={timeout_s:g} s; it was cancelled.",
            workers=("lab-event-loop",),
            timeout_s=timeout_s,
        )
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


# --------------------------------------------------------------------------- the scenario matrix


@dataclass(frozen=True)
class ScenarioMatrix:
    """How long the same tasks took under each model, for each workload, on this machine.

    Attributes:
        workloads: row names, e.g. ``("cpu", "gil_releasing", "io", "mixed")``.
        models: column names; ``models[0]`` is always ``"serial"``, the baseline.
        elapsed_s: ``elapsed_s[i][j]`` is the wall-clock seconds of workload ``i``
            under model ``j`` (for processes, pool start-up included).
        n_workers: threads or processes in each pool; also the most tasks ``asyncio``
            ran at once.
        n_tasks: tasks per workload, each sized to about ``task_s`` when run alone.
        task_s: the target duration of one task.
        start_method: how the process pool started its workers.
        usable_cores: :func:`~concurrency_lab.usable_cores` when it ran.
        gil_enabled: whether the interpreter that measured it ran with the GIL
            (:func:`~concurrency_lab.gil_enabled`; ``False`` on a free-threaded build).
    """

    workloads: tuple[str, ...]
    models: tuple[str, ...]
    elapsed_s: tuple[tuple[float, ...], ...]
    n_workers: int
    n_tasks: int
    task_s: float
    start_method: str
    usable_cores: int
    gil_enabled: bool = True

    def elapsed(self, workload: str, model: str) -> float:
        """Seconds that ``workload`` took under ``model``."""
        return self.elapsed_s[self._row(workload)][self._col(model)]

    def speedup(self, workload: str, model: str) -> float:
        """How many times faster than serial ``model`` ran ``workload`` (1.0 = no gain)."""
        row = self.elapsed_s[self._row(workload)]
        return row[0] / row[self._col(model)]

    @property
    def speedups(self) -> tuple[tuple[float, ...], ...]:
        """The whole table of speedups, rows = workloads, columns = models."""
        return tuple(tuple(row[0] / e for e in row) for row in self.elapsed_s)

    def _row(self, workload: str) -> int:
        if workload not in self.workloads:
            raise ValueError(
                f"'workload' must be one of {', '.join(map(repr, self.workloads))} "
                f"(got {workload!r})."
            )
        return self.workloads.index(workload)

    def _col(self, model: str) -> int:
        if model not in self.models:
            raise ValueError(
                f"'model' must be one of {', '.join(map(repr, self.models))} (got {model!r})."
            )
        return self.models.index(model)


def _check_choice(values: object, allowed: tuple[str, ...], name: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(f"'{name}' must be a list of names from {allowed} (got {values!r}).")
    chosen = tuple(values)
    bad = [v for v in chosen if v not in allowed]
    if bad or not chosen:
        raise ValueError(
            f"'{name}' must be a non-empty list of names from {', '.join(map(repr, allowed))} "
            f"(got {chosen!r})."
        )
    return tuple(dict.fromkeys(chosen))


def default_matrix_workers() -> int:
    """Workers per pool in :func:`scenario_matrix`: twice the usable cores, from 2 to 8.

    More workers than cores lets waiting work overlap further, while CPU work
    stays capped by the cores.

    >>> 2 <= default_matrix_workers() <= 8
    True
    """
    return max(2, min(8, 2 * usable_cores()))


async def _async_limited(
    fn: Callable[..., Any], tasks: list[tuple[Any, ...]], n_workers: int
) -> list[Any]:
    limit = asyncio.Semaphore(n_workers)

    async def one(args: tuple[Any, ...]) -> Any:
        async with limit:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

    return list(await asyncio.gather(*(one(a) for a in tasks)))


def _time_model(
    model: str,
    fn: Callable[..., Any],
    async_fn: Callable[..., Any],
    tasks: list[tuple[Any, ...]],
    n_workers: int,
    start_method: str,
    timeout_s: float,
) -> float:
    if model == "serial":
        start = time.perf_counter()
        for args in tasks:
            fn(*args)
        return time.perf_counter() - start
    if model == "threads":
        return run_tasks(
            fn, tasks, kind="thread", n_workers=n_workers, timeout_s=timeout_s
        ).elapsed_s
    if model == "processes":
        run = run_tasks(
            fn,
            tasks,
            kind="process",
            n_workers=n_workers,
            start_method=start_method,
            timeout_s=timeout_s,
        )
        return run.elapsed_s
    start = time.perf_counter()
    run_coroutine(_async_limited(async_fn, tasks, n_workers), timeout_s=timeout_s)
    return time.perf_counter() - start


def _units(workload: Callable[..., Any], target_s: float) -> int:
    """Calibrate twice and keep the larger size: the run least slowed by other programs."""
    return max(calibrate(workload, target_s), calibrate(workload, target_s))


def _progress(total: int, desc: str) -> Any:
    """A tqdm bar (notebook-aware) that starts no monitor thread, which would outlive it."""
    from ..core.progress import progress_bar

    return progress_bar(total, desc)


def scenario_matrix(
    *,
    workloads: Sequence[str] = WORKLOADS,
    models: Sequence[str] = MODELS,
    n_workers: int | None = None,
    n_tasks: int | None = None,
    task_s: float = 0.05,
    start_method: str | None = None,
    repeats: int = 2,
    progress: bool = True,
    timeout_s: float = 60.0,
) -> ScenarioMatrix:
    """Measure every workload under every model, here and now.

    Each workload gets ``n_tasks`` tasks that each take about ``task_s`` alone
    (sized with :func:`~concurrency_lab.calibrate`). They run one after another
    (``serial``), on a pool of ``n_workers`` threads, on a pool of ``n_workers``
    processes, and as ``asyncio`` tasks on one event loop with at most
    ``n_workers`` in flight. For each workload the models take turns, in an order
    that reverses every round (serial first, then serial last, ...), so no model
    always runs first or last, when the machine may be busier or quieter; each
    cell keeps the fastest of ``repeats`` runs. With the defaults, the whole
    matrix takes about 10 s on 2 cores.

    The ``asyncio`` column runs the tasks as coroutines: waits are awaited
    (:func:`async_io_bound`), but CPU and C work is called directly, as an
    ``async def`` would, so it blocks the loop.

    >>> m = scenario_matrix(workloads=["io"], models=["serial", "threads"], n_workers=2,
    ...                     n_tasks=2, task_s=0.01, progress=False)
    >>> m.models, m.workloads
    (('serial', 'threads'), ('io',))

    Args:
        workloads: which rows: any of ``"cpu"``, ``"gil_releasing"``, ``"io"``, ``"mixed"``.
        models: which columns: any of ``"serial"``, ``"threads"``, ``"processes"``,
            ``"asyncio"``; ``"serial"`` is always added as the baseline.
        n_workers: pool size (default :func:`default_matrix_workers`).
        n_tasks: tasks per workload (default ``2 * n_workers``).
        task_s: target seconds of one task.
        start_method: for the process pool (``None`` = the platform default).
        repeats: measure each cell this many times and keep the fastest run, the one
            least disturbed by other programs on the machine.
        progress: show a progress bar (tqdm) over the cells of the matrix.
        timeout_s: limit for each cell.

    Returns:
        A :class:`ScenarioMatrix`; read it with :func:`recommend`, draw it with
        :func:`~concurrency_lab.plot_scenario_matrix`.

    Raises:
        ValueError, TypeError: unknown workload or model names, bad sizes.
    """
    rows = _check_choice(workloads, WORKLOADS, "workloads")
    cols = ("serial", *(m for m in _check_choice(models, MODELS, "models") if m != "serial"))
    n_workers = default_matrix_workers() if n_workers is None else n_workers
    n_workers = check_n_workers(n_workers, "process" if "processes" in cols else "thread")
    if n_tasks is None:
        n_tasks = 2 * n_workers
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, int) or n_tasks < 1:
        raise ValueError(f"'n_tasks' must be a whole number >= 1 (got {n_tasks!r}).")
    if isinstance(task_s, bool) or not isinstance(task_s, (int, float)) or not 0 < task_s <= 5:
        raise ValueError(f"'task_s' must be a number of seconds in (0, 5] (got {task_s!r}).")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"'repeats' must be a whole number >= 1 (got {repeats!r}).")
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)

    bar = None
    if progress:
        bar = _progress(len(rows) * len(cols) * repeats, "scenario matrix")
    try:
        plans: dict[str, tuple[Callable[..., Any], Callable[..., Any], list[tuple[Any, ...]]]] = {}
        if "cpu" in rows:
            plans["cpu"] = (cpu_bound, cpu_bound, [(_units(cpu_bound, task_s),)] * n_tasks)
        if "gil_releasing" in rows:
            units = _units(gil_releasing, task_s)
            plans["gil_releasing"] = (gil_releasing, gil_releasing, [(units,)] * n_tasks)
        if "io" in rows:
            plans["io"] = (io_bound, async_io_bound, [(float(task_s),)] * n_tasks)
        if "mixed" in rows:
            half = (
                max(1, _units(cpu_bound, task_s / 2))
                if "cpu" not in plans
                else max(1, plans["cpu"][2][0][0] // 2)
            )
            plans["mixed"] = (mixed_task, async_mixed_task, [(half, task_s / 2)] * n_tasks)
        table = []
        for w in rows:
            fn, async_fn, tasks = plans[w]
            best = [float("inf")] * len(cols)
            for j, m in _rounds(cols, repeats):
                if bar is not None:
                    bar.set_postfix_str(f"{w} / {m}")
                t = _time_model(m, fn, async_fn, tasks, n_workers, method, timeout_s)
                best[j] = min(best[j], t)
                if bar is not None:
                    bar.update(1)
            table.append(tuple(best))
    finally:
        if bar is not None:
            bar.close()
    return ScenarioMatrix(
        workloads=rows,
        models=cols,
        elapsed_s=tuple(table),
        n_workers=n_workers,
        n_tasks=n_tasks,
        task_s=float(task_s),
        start_method=method,
        usable_cores=usable_cores(),
        gil_enabled=_gil_enabled(),
    )


def _rounds(cols: tuple[str, ...], repeats: int) -> list[tuple[int, str]]:
    """The order of the timed runs: ``(column, model)``, reversed every other round.

    >>> [m for _, m in _rounds(("serial", "threads", "asyncio"), 2)]
    ['serial', 'threads', 'asyncio', 'asyncio', 'threads', 'serial']
    """
    order = list(enumerate(cols))
    return [jm for r in range(repeats) for jm in (order if r % 2 == 0 else order[::-1])]


def _gil_enabled() -> bool:
    """The same answer as :func:`concurrency_lab.gil_enabled`."""
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


# --------------------------------------------------------------------------- the decision guide

#: Simplest first: among models that did about equally well, the guide picks the earliest.
_SIMPLICITY = ("serial", "threads", "asyncio", "processes")
_WHY_SIMPLER = {
    "serial": "no concurrency at all: nothing to synchronise, nothing to debug",
    "threads": "threads start fast, share memory, and work with ordinary blocking libraries",
    "asyncio": "one thread, no locks, and very cheap waits, but every library on the path "
    "must be async",
    "processes": "each process has its own interpreter and GIL, but starts slowly and must "
    "pickle every argument and result",
}


@dataclass(frozen=True)
class Recommendation:
    """The decision guide's choice for one workload, with the numbers it used.

    Attributes:
        workload: the row of the matrix.
        model: the recommended model.
        speedup: that model's measured speedup over serial.
        ranking: ``(model, speedup)`` pairs, fastest first.
        reasoning: the numbers, the choice, and why, in sentences.
        disagrees: models whose measured speedup this kind of work cannot produce
            (e.g. threads faster than serial on pure-Python code under the GIL): the
            run was disturbed, and the choice leaves them out.
    """

    workload: str
    model: str
    speedup: float
    ranking: tuple[tuple[str, float], ...]
    reasoning: str
    disagrees: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.reasoning

    def _repr_markdown_(self) -> str:
        return f"**{self.workload} → {self.model}**\n\n{self.reasoning}"


#: Why each workload behaves as it does: from what its code does, never from the numbers.
#: Keyed by (workload, GIL enabled).
_WHY_WORK = {
    ("cpu", True): "pure-Python code holds the GIL the whole time, so threads take turns and "
    "run it no faster than serial, while each process has its own interpreter and GIL and can "
    "use a core of its own. asyncio runs the tasks one after another on its single thread.",
    ("cpu", False): "this interpreter runs without a GIL, so threads can run pure-Python code "
    "on several cores at once, as processes do, without their start-up and pickling. asyncio "
    "still runs the tasks one after another on its single thread.",
    ("gil_releasing", True): "hashlib releases the GIL while it hashes a large block, so "
    "threads hash on several cores at once, as processes do, without their start-up and "
    "pickling. asyncio calls the hash on its single thread, one task after another.",
    ("io", True): "the tasks mostly wait, and a waiting thread releases the GIL and uses no "
    "core, so threads and asyncio both overlap the waits, even beyond the number of cores; "
    "processes overlap them too, but pay to start.",
    ("mixed", True): "half of each task is pure-Python work that holds the GIL, half is "
    "waiting: threads and asyncio overlap the waits but run the Python halves one at a time, "
    "while processes also run the Python halves in parallel, up to the cores.",
    ("mixed", False): "half of each task is pure-Python work, half is waiting; without a GIL, "
    "threads run both halves in parallel, up to the cores, while asyncio overlaps the waits "
    "but runs the Python halves one at a time.",
}
_WHY_WORK[("gil_releasing", False)] = _WHY_WORK[("gil_releasing", True)]
_WHY_WORK[("io", False)] = _WHY_WORK[("io", True)]

#: asyncio runs CPU work on its one thread: it is serial in disguise, so more than this is noise.
_SERIAL_IN_DISGUISE = 1.1


def implausible(
    matrix: ScenarioMatrix, workload: str, speed: dict[str, float], min_gain: float
) -> dict[str, str]:
    """Models whose speedup contradicts what ``workload`` does, each with the reason."""
    odd: dict[str, str] = {}
    computes = workload in ("cpu", "gil_releasing")
    if workload == "cpu" and matrix.gil_enabled and speed.get("threads", 0) > min_gain:
        odd["threads"] = "pure-Python code under the GIL runs on one thread at a time"
    if computes and speed.get("asyncio", 0) > _SERIAL_IN_DISGUISE:
        odd["asyncio"] = "its one thread runs these tasks one after another"
    if computes:
        cap = matrix.usable_cores * 1.2
        for m, s in speed.items():
            if m not in odd and m != "serial" and s > cap:
                odd[m] = f"computing cannot go faster than the {matrix.usable_cores} cores allow"
    return odd


def recommend(
    matrix: ScenarioMatrix,
    *,
    workload: str,
    min_gain: float = 1.2,
    tie: float = 0.9,
) -> Recommendation:
    """Pick a model for ``workload`` from a measured matrix, and say why.

    The rules, applied to the measured speedups:

    1. A speedup that the work cannot produce (threads above ``min_gain`` on
       pure-Python CPU work under the GIL; asyncio above 1.1x on CPU or C work,
       which it runs one task after another; anything beyond the cores on CPU
       work) means the run was disturbed: it is reported, and left out of the choice.
    2. If no model ran at least ``min_gain`` times faster than serial, stay serial.
    3. Otherwise, among the models within ``tie`` of the best speedup (by default
       at least 90% of it), pick the simplest: threads, then asyncio, then processes.

    The *why* comes from what the work is known to do (hold the GIL, release it,
    wait) and from whether the GIL was on, never from the numbers alone, which a
    busy machine can bend.

    >>> m = ScenarioMatrix(("cpu",), ("serial", "threads", "processes"), ((1.0, 1.0, 0.5),),
    ...                    n_workers=2, n_tasks=4, task_s=0.1, start_method="fork",
    ...                    usable_cores=2)
    >>> recommend(m, workload="cpu").model
    'processes'

    Raises:
        ValueError: ``workload`` is not a row of ``matrix``, or bad thresholds.
    """
    if not isinstance(matrix, ScenarioMatrix):
        raise TypeError(
            f"'matrix' must be the result of cl.choosing.scenario_matrix(...) "
            f"(got {type(matrix).__name__})."
        )
    if not (isinstance(min_gain, (int, float)) and min_gain >= 1):
        raise ValueError(f"'min_gain' must be a number >= 1 (got {min_gain!r}).")
    if not (isinstance(tie, (int, float)) and 0 < tie <= 1):
        raise ValueError(f"'tie' must be a number in (0, 1] (got {tie!r}).")
    speed = {m: matrix.speedup(workload, m) for m in matrix.models}
    ranking = tuple(sorted(speed.items(), key=lambda kv: -kv[1]))
    what = _WORKLOAD_TEXT.get(workload, workload)
    cores = matrix.usable_cores
    setup = (
        f"Measured here: {matrix.n_tasks} tasks of {what}, {matrix.n_workers} workers, "
        f"{cores} usable core{'s' if cores != 1 else ''}. Speedup over serial: "
        + ", ".join(f"{m} {s:.1f}x" for m, s in ranking if m != "serial")
        + "."
    )
    why: list[str] = []
    odd = implausible(matrix, workload, speed, min_gain)
    if odd:
        why.append(
            "This run disagrees with what the work does: "
            + "; ".join(f"{m} {speed[m]:.1f}x, although {reason}" for m, reason in odd.items())
            + ". The machine was busy; run again. The choice below leaves "
            + ("this cell" if len(odd) == 1 else "these cells")
            + " out."
        )
    fair = [(m, s) for m, s in ranking if m not in odd]
    best_model, best = fair[0]
    if best < min_gain:
        choice = "serial"
        why.append(
            f"No model ran even {min_gain:g}x faster than serial (best: {best_model} "
            f"{best:.2f}x), so concurrency does not pay for its complexity here."
        )
    else:
        close = [
            m
            for m in _SIMPLICITY
            if m in speed and m != "serial" and m not in odd and speed[m] >= tie * best
        ]
        choice = close[0]
        why.append(f"Choose {choice} ({speed[choice]:.1f}x): {_WHY_SIMPLER[choice]}.")
        others = [m for m in close if m != choice]
        if others:
            why.append(
                "Within {:.0f}% of the best, and so not worth their extra cost here: {}.".format(
                    100 * (1 - tie), ", ".join(f"{m} {speed[m]:.1f}x" for m in others)
                )
            )
        elif choice != best_model:
            why.append(f"It was within {100 * (1 - tie):.0f}% of the fastest.")
    known = _WHY_WORK.get((workload, matrix.gil_enabled))
    if known:
        why.append("Why: " + known)
    could = min(cores, matrix.n_workers)
    t = speed.get("threads")
    if workload == "gil_releasing" and could >= 2 and t is not None and t < min_gain:
        why.append(
            f"Threads reached only {t:.1f}x, although this work could run up to about {could}x "
            f"faster on {cores} cores: other programs were probably using them; run again."
        )
    p = speed.get("processes")
    if p is not None and "processes" not in odd and p < tie * best and best_model != "processes":
        why.append(
            f"Processes ({p:.1f}x) paid for starting {matrix.n_workers} interpreters "
            f"({matrix.start_method}) and for pickling every task and result."
        )
    if workload in ("io", "mixed") and best > cores * 1.2 and choice != "serial":
        why.append(
            f"The speedup exceeds the {cores} cores: the tasks spend time waiting, and waits "
            f"overlap without using a core."
        )
    return Recommendation(
        workload=workload,
        model=choice,
        speedup=speed[choice],
        ranking=ranking,
        reasoning=setup + " " + " ".join(why),
        disagrees=tuple(odd),
    )


# --------------------------------------------------------------------------- other interpreters


@dataclass(frozen=True)
class InterpreterInfo:
    """One Python interpreter found on this machine, and what it can do.

    Attributes:
        path: the executable.
        version: e.g. ``"3.13.1"``.
        free_threaded: built without the GIL (``Py_GIL_DISABLED``), e.g. ``python3.13t``.
        gil_enabled: whether the GIL is on in that interpreter right now (a free-threaded
            build can turn it back on, e.g. with ``PYTHON_GIL=1``).
        interpreter_pool: has ``concurrent.futures.InterpreterPoolExecutor`` (3.14+).
    """

    path: str
    version: str
    free_threaded: bool
    gil_enabled: bool
    interpreter_pool: bool

    @property
    def label(self) -> str:
        """A short name, e.g. ``"3.13.1t (no GIL)"`` or ``"3.11.7 (GIL)"``."""
        suffix = "t" if self.free_threaded else ""
        return f"{self.version}{suffix} ({'GIL' if self.gil_enabled else 'no GIL'})"

    @property
    def is_new_model(self) -> bool:
        """True if it runs threads without a GIL or has sub-interpreter pools."""
        return (self.free_threaded and not self.gil_enabled) or self.interpreter_pool


_PROBE = """\
import concurrent.futures as cf, json, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", None)
print(json.dumps({
    "version": "%d.%d.%d" % sys.version_info[:3],
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": True if gil is None else bool(gil()),
    "interpreter_pool": hasattr(cf, "InterpreterPoolExecutor"),
}))
"""

_NAME = re.compile(r"^python3\.(\d+)(t?)$")
_PYENV_DIR = re.compile(r"^3\.(\d+)[.\d]*(\S*)$")


def _candidate_paths() -> list[str]:
    """Executables that might be free-threaded (3.13t+) or have sub-interpreter pools (3.14+)."""
    found: list[str] = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            m = _NAME.match(name)
            if m and int(m.group(1)) >= 13 and (m.group(2) or int(m.group(1)) >= 14):
                found.append(os.path.join(d, name))
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for d in sorted(glob.glob(os.path.join(root, "versions", "*"))):
        m = _PYENV_DIR.match(os.path.basename(d))
        if m and int(m.group(1)) >= 13 and ("t" in m.group(2) or int(m.group(1)) >= 14):
            found.extend(sorted(glob.glob(os.path.join(d, "bin", "python3.*")))[:1] or [])
    uv = os.path.expanduser("~/.local/share/uv/python")
    for d in sorted(glob.glob(os.path.join(uv, "cpython-3.1[3-9]*"))):
        exe = sorted(glob.glob(os.path.join(d, "bin", "python3.*")))
        if exe and ("freethreaded" in d or not d.split("cpython-3.")[1].startswith("13")):
            found.append(exe[0])
    unique: dict[str, str] = {}
    for path in found:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


def _probe(path: str, timeout_s: float) -> InterpreterInfo | None:
    try:
        out = subprocess.run(
            [path, "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        data = json.loads(out.stdout)
        return InterpreterInfo(
            path=path,
            version=str(data["version"]),
            free_threaded=bool(data["free_threaded"]),
            gil_enabled=bool(data["gil_enabled"]),
            interpreter_pool=bool(data["interpreter_pool"]),
        )
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError):
        return None  # not a Python we can ask (or not a Python at all)


def find_interpreters(
    *, candidates: Sequence[str] | None = None, include_all: bool = False, timeout_s: float = 10
) -> tuple[InterpreterInfo, ...]:
    """Look for interpreters that change the picture: free-threaded or with interpreter pools.

    Searches ``PATH`` for ``python3.13t``, ``python3.14`` and the like, pyenv's
    ``~/.pyenv/versions/3.13t``-style folders and uv's managed Pythons, then runs
    each one briefly (``-c``, with a timeout) to ask what it is. Nothing is
    downloaded or installed.

    >>> here = find_interpreters(candidates=[sys.executable], include_all=True)
    >>> here[0].version == "%d.%d.%d" % sys.version_info[:3]
    True

    Args:
        candidates: executables to probe instead of searching.
        include_all: keep interpreters that have a GIL and no interpreter pools too.
        timeout_s: limit for each probe.

    Returns:
        What was found, possibly nothing; :func:`explain_interpreters` says what
        that means.
    """
    timeout_s = check_timeout(timeout_s)
    paths = _candidate_paths() if candidates is None else [str(c) for c in candidates]
    infos = [info for p in paths if (info := _probe(p, timeout_s)) is not None]
    return tuple(i for i in infos if include_all or i.is_new_model)


def explain_interpreters(found: Sequence[InterpreterInfo]) -> str:
    """Say what the search found, and what a free-threaded build would change.

    >>> "free-threaded" in explain_interpreters(())
    True
    """
    if found:
        lines = [f"Found {len(found)} interpreter(s) beyond the classic GIL build:"]
        for info in found:
            what = []
            if info.free_threaded:
                what.append(
                    "free-threaded build, GIL "
                    + (
                        "ON (PYTHON_GIL=1 or an extension re-enabled it)"
                        if info.gil_enabled
                        else "off"
                    )
                )
            if info.interpreter_pool:
                what.append("has InterpreterPoolExecutor (one GIL per sub-interpreter)")
            lines.append(f"  {info.path}: Python {info.label}: {'; '.join(what)}")
        lines.append("cl.choosing.interpreter_sweep(path) measures thread scaling there.")
        return "\n".join(lines)
    return (
        "No free-threaded CPython (3.13t/3.14t) and no Python 3.14+ found on this machine "
        "(searched PATH, pyenv and uv).\n"
        "What would change: in a free-threaded build there is no GIL, so pure-Python CPU work "
        "on threads can use every core, and the 'threads' cell of the cpu row would approach "
        "the 'processes' cell, without start-up or pickling costs; code that relied on the GIL "
        "to make 'x += 1' look safe would lose updates more often. Python 3.14's "
        "InterpreterPoolExecutor runs each task in a sub-interpreter with its own GIL: "
        "process-like isolation inside one process.\n"
        "How to get one: 'uv python install 3.14t', 'pyenv install 3.14t', the python.org "
        "installers (macOS, Windows: tick 'free-threaded binaries'), or a free-threaded package "
        "of your Linux distribution; then run this cell again."
    )


@dataclass(frozen=True)
class InterpreterSweep:
    """Thread (and sub-interpreter) scaling measured inside one interpreter.

    Attributes:
        python: the executable that ran the sweep.
        label: e.g. ``"3.11.7 (GIL)"``.
        n_workers: the pool sizes tried.
        n_tasks: equal pure-Python tasks per pool size.
        elapsed_s: ``{kind: seconds per pool size}``; kinds are ``"thread"`` and, on
            3.14+, ``"interpreter"``.
        errors: ``{kind: message}`` for kinds that could not run there.
        usable_cores: the cores the sweep could use.
    """

    python: str
    label: str
    n_workers: tuple[int, ...]
    n_tasks: int
    elapsed_s: dict[str, tuple[float, ...]]
    errors: dict[str, str]
    usable_cores: int = 1

    def speedups(self, kind: str = "thread") -> tuple[float, ...]:
        """Speedup of each pool size over one worker, for ``kind``."""
        times = self.elapsed_s[kind]
        return tuple(times[0] / t for t in times)


_SWEEP_WORK = """\
def work(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x
"""

_SWEEP = """\
import concurrent.futures as cf, json, sys, sysconfig, time
from _lab_sweep_work import work
task_s, n_tasks, sizes = float(sys.argv[1]), int(sys.argv[2]), [int(a) for a in sys.argv[3:]]
n = 1000
while True:
    t0 = time.perf_counter(); work(n); dt = time.perf_counter() - t0
    if dt >= 0.02 or n > 10**9:
        break
    n *= 2
units = max(1, int(n * task_s / dt))
kinds = {"thread": cf.ThreadPoolExecutor}
if hasattr(cf, "InterpreterPoolExecutor"):
    kinds["interpreter"] = cf.InterpreterPoolExecutor
out, errors = {}, {}
for kind, Executor in kinds.items():
    try:
        times = []
        for size in sizes:
            with Executor(max_workers=size) as ex:
                list(ex.map(work, [1] * size))  # start the workers first
                t0 = time.perf_counter()
                list(ex.map(work, [units] * n_tasks, timeout=120))
                times.append(time.perf_counter() - t0)
        out[kind] = times
    except Exception as exc:
        errors[kind] = "%s: %s" % (type(exc).__name__, exc)
gil = getattr(sys, "_is_gil_enabled", None)
label = "%d.%d.%d%s (%s)" % (sys.version_info[:3] + (
    "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "",
    "GIL" if gil is None or gil() else "no GIL"))
print(json.dumps({"label": label, "elapsed_s": out, "errors": errors}))
"""


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout=5)


def _run_child(args: list[str], *, timeout_s: float, env: dict[str, str] | None = None) -> str:
    """Run a child in its own session; on timeout kill its whole process group."""
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=hasattr(os, "killpg"),
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate(timeout=5)
        raise WorkerTimeoutError(
            f"{os.path.basename(args[0])} was still running after timeout_s={timeout_s:g} s; "
            f"the lab killed it and its children.",
            workers=(args[0],),
            timeout_s=timeout_s,
        ) from None
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-5:])
        raise LabError(f"{args[0]} failed with exit code {proc.returncode}:\n{tail}")
    return out


def interpreter_sweep(
    python: str | InterpreterInfo | None = None,
    *,
    n_workers: Sequence[int] | None = None,
    task_s: float = 0.04,
    timeout_s: float = 60.0,
) -> InterpreterSweep:
    """Measure how pure-Python threads scale in another interpreter (run as a subprocess).

    The same small, standard-library-only script runs in ``python`` (default: this
    one): for each pool size it times ``max(n_workers)`` equal CPU tasks on a
    ``ThreadPoolExecutor`` and, if the interpreter has one, an
    ``InterpreterPoolExecutor``. With a GIL, threads stay near 1x; without one,
    they approach the number of cores.

    Args:
        python: an executable path, or an :class:`InterpreterInfo` from :func:`find_interpreters`.
        n_workers: pool sizes (default 1, 2, 4, ... up to twice the usable cores, at most 8).
        task_s: seconds of one task.
        timeout_s: limit for the whole subprocess (it is killed after that).

    Raises:
        WorkerTimeoutError: the sweep overran ``timeout_s``.
        LabError: the interpreter failed to run the script.
    """
    exe = python.path if isinstance(python, InterpreterInfo) else (python or sys.executable)
    if n_workers is None:
        top = max(2, min(8, 2 * usable_cores()))
        sizes = [1]
        while sizes[-1] * 2 <= top:
            sizes.append(sizes[-1] * 2)
    else:
        sizes = [check_n_workers(n, "thread") for n in n_workers]
        if not sizes:
            raise ValueError("'n_workers' must list at least one pool size, e.g. (1, 2, 4).")
    if isinstance(task_s, bool) or not isinstance(task_s, (int, float)) or not 0 < task_s <= 5:
        raise ValueError(f"'task_s' must be a number of seconds in (0, 5] (got {task_s!r}).")
    timeout_s = check_timeout(timeout_s)
    n_tasks = max(sizes)
    with tempfile.TemporaryDirectory(prefix="lab-sweep-") as tmp:
        with open(os.path.join(tmp, "_lab_sweep_work.py"), "w") as f:
            f.write(_SWEEP_WORK)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = tmp
        out = _run_child(
            [exe, "-c", _SWEEP, str(task_s), str(n_tasks), *map(str, sizes)],
            timeout_s=timeout_s,
            env=env,
        )
    data = json.loads(out.strip().splitlines()[-1])
    return InterpreterSweep(
        python=exe,
        label=data["label"],
        n_workers=tuple(sizes),
        n_tasks=n_tasks,
        elapsed_s={k: tuple(v) for k, v in data["elapsed_s"].items()},
        errors=dict(data["errors"]),
        usable_cores=usable_cores(),
    )


# --------------------------------------------------------------------------- Dask (optional)


class DaskNotInstalledError(LabError, ImportError):
    """The optional ``dask`` extra is not installed."""


_DASK_HINT = (
    "Dask is not installed, so this part is skipped. It is optional: "
    "pip install 'concurrency_lab[dask]' (or: pip install 'dask[distributed]'), then restart "
    "the kernel."
)


def dask_available() -> bool:
    """True if ``dask.distributed`` can be imported here (the optional ``dask`` extra).

    >>> isinstance(dask_available(), bool)
    True
    """
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class DaskComparison:
    """The same tasks on a local process pool and on a Dask ``LocalCluster``.

    Attributes:
        n_workers: worker processes on each side (one thread each for Dask).
        n_tasks, units: the real work: ``n_tasks`` calls of ``cpu_bound(units)``.
        n_tiny: near-empty tasks used to measure per-task overhead.
        startup_s: ``{"pool": s, "dask": s}`` to get workers ready.
        work_s: the real work's wall-clock seconds on each side.
        tiny_s: the near-empty tasks' wall-clock seconds on each side.
        start_method: how the pool started; Dask's workers start with
            ``dask_start_method``.
    """

    n_workers: int
    n_tasks: int
    units: int
    n_tiny: int
    startup_s: dict[str, float]
    work_s: dict[str, float]
    tiny_s: dict[str, float]
    start_method: str
    dask_start_method: str

    def per_task_overhead_s(self, side: str) -> float:
        """Average seconds one near-empty task cost on ``side`` (``"pool"`` or ``"dask"``)."""
        return self.tiny_s[side] / self.n_tiny


def _dask_measure(
    n_workers: int, n_tasks: int, units: int, n_tiny: int, start_method: str, timeout_s: float
) -> dict[str, Any]:
    """Runs in a child process (see :func:`dask_overhead`); returns plain data."""
    import dask
    from distributed import Client, LocalCluster

    from ..core.machine import get_context

    startup, work, tiny = {}, {}, {}
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(n_workers, mp_context=get_context(start_method)) as ex:
        list(ex.map(noop_task, range(n_workers), timeout=timeout_s))
        startup["pool"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(ex.map(cpu_bound, [units] * n_tasks, timeout=timeout_s))
        work["pool"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(ex.map(cpu_bound, [0] * n_tiny, timeout=timeout_s))
        tiny["pool"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    try:
        client = Client(cluster, timeout=timeout_s)
        try:
            client.wait_for_workers(n_workers, timeout=timeout_s)
            client.gather(client.map(noop_task, range(n_workers), pure=False))
            startup["dask"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            futures = client.map(cpu_bound, [units] * n_tasks, pure=False)
            client.gather(futures)
            work["dask"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            client.gather(client.map(cpu_bound, [0] * n_tiny, pure=False))
            tiny["dask"] = time.perf_counter() - t0
        finally:
            client.close(timeout=10)
    finally:
        cluster.close(timeout=10)
    return {
        "startup_s": startup,
        "work_s": work,
        "tiny_s": tiny,
        "dask_start_method": str(dask.config.get("distributed.worker.multiprocessing-method")),
    }


def noop_task(i: int) -> int:
    """A near-empty task: return ``i``. Used to warm up pools and measure overhead."""
    return i


def dask_overhead(
    *,
    n_workers: int = 2,
    n_tasks: int = 8,
    task_s: float = 0.05,
    n_tiny: int = 200,
    start_method: str | None = "spawn",
    timeout_s: float = 60.0,
) -> DaskComparison:
    """Run the same CPU tasks on a local process pool and on a Dask ``LocalCluster``.

    A ``LocalCluster`` is Dask's distributed scheduler with its workers on this
    machine (loopback only, dashboard off); pointed at a real cluster's scheduler,
    the same ``client.map`` code runs across machines. Here it shows the price of
    that generality: a scheduler process in between, and messages for every task.
    Both sides are measured in one helper child process, which is killed with all
    its workers if it overruns ``timeout_s``.

    Args:
        n_workers: worker processes on each side.
        n_tasks: real tasks, each about ``task_s`` of ``cpu_bound``.
        n_tiny: near-empty tasks for the per-task overhead.
        start_method: the local pool's start method (Dask's workers use ``spawn`` by
            default; ``"spawn"`` here compares like with like).
        timeout_s: limit for the whole measurement.

    Raises:
        DaskNotInstalledError: the optional extra is missing (the message says how to
            install it).
    """
    if not dask_available():
        raise DaskNotInstalledError(_DASK_HINT)
    n_workers = check_n_workers(n_workers, "process")
    for name, value in (("n_tasks", n_tasks), ("n_tiny", n_tiny)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"'{name}' must be a whole number >= 1 (got {value!r}).")
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    units = _units(cpu_bound, task_s)
    code = (
        "import json, sys\n"
        "from concurrency_lab.choosing.models import _dask_measure\n"
        "print(json.dumps(_dask_measure(*json.loads(sys.argv[1]))))\n"
    )
    params = json.dumps([n_workers, n_tasks, units, n_tiny, method, timeout_s])
    out = _run_child([sys.executable, "-c", code, params], timeout_s=timeout_s + 20)
    data = json.loads(out.strip().splitlines()[-1])
    return DaskComparison(
        n_workers=n_workers,
        n_tasks=n_tasks,
        units=units,
        n_tiny=n_tiny,
        start_method=method,
        **data,
    )
