"""The model matrix: the same tasks run serially, on threads, on processes and with asyncio.

:func:`scenario_matrix` runs four kinds of work (rows) four ways (columns) on *this*
machine, with the plain code the lesson shows:

* ``serial``: ``for args in tasks: work(*args)``;
* ``threads``: ``list(thread_pool.map(work, ...))`` on a ``ThreadPoolExecutor``;
* ``processes``: the same on a ``ProcessPoolExecutor``, started and warmed **before** the
  timing (its start-up is measured and reported apart, so a slow ``spawn`` start cannot
  flip a row);
* ``asyncio``: ``await asyncio.gather(...)`` of ``async def`` twins of the tasks, at most
  ``n_workers`` in flight (an ``asyncio.Semaphore``), like a pool of that size. Waits are
  awaited; computing is called directly, as an ``async def`` would, so it blocks the loop.

For each row the models take turns in an order that reverses every round, and each cell
keeps the fastest of ``repeats`` runs (the one least slowed by other programs). Every cell
also gets a speed limit from what the work is (:mod:`~concurrency_lab.choosing.limits`): a
cell above it is noise, marked on the heat map and never used by the decision guide. While
a row runs, the lab measures how many cores other programs kept busy.

:func:`compare_models` does the same for one function of your own.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from ..core.load import Load
from ..core.machine import (
    StartMethodName,
    check_start_method,
    gil_enabled,
    lesson_processes,
    usable_cores,
)
from ..core.results import Result
from ..core.validate import (
    check_callable,
    check_can_send,
    check_n_workers,
    check_number,
    check_timeout,
    check_whole,
)
from ..core.workloads import (
    async_io_bound,
    calibrate,
    cpu_bound,
    gil_releasing,
    io_bound,
    mixed_task,
)
from .limits import TOLERANCE, Model, limit_reason, speed_limit
from .timing import Row, measure_rows

__all__ = [
    "MATRIX_MAX_WORKERS",
    "MODELS",
    "WORKLOADS",
    "MatrixResult",
    "Model",
    "Workload",
    "async_cpu_task",
    "async_hash_task",
    "async_mixed_task",
    "compare_models",
    "default_matrix_workers",
    "scenario_matrix",
]

Workload = Literal["cpu", "gil_releasing", "io", "mixed"]

#: The kinds of work, the rows of the matrix.
WORKLOADS: tuple[Workload, ...] = ("cpu", "gil_releasing", "io", "mixed")
#: The ways of running them, the columns; ``"serial"`` is the baseline, always measured.
MODELS: tuple[Model, ...] = ("serial", "threads", "processes", "asyncio")
#: The most workers a pool of the matrix gets: more would make the lesson slow on big
#: machines, and the heat map says so when it caps a machine's cores.
MATRIX_MAX_WORKERS = 8

#: What each row's task does, for sentences.
DESCRIPTIONS: dict[str, str] = {
    "cpu": "pure-Python computing (cl.cpu_bound)",
    "gil_releasing": "hashing in C code that releases the GIL (cl.gil_releasing, SHA-256)",
    "io": "waiting on I/O (cl.io_bound: a sleep, then a loopback round trip)",
    "mixed": "half pure-Python computing, half waiting (cl.mixed_task)",
}
#: Whether each row's computing holds the GIL.
HOLDS_GIL: dict[str, bool] = {"cpu": True, "gil_releasing": False, "io": True, "mixed": True}


# --------------------------------------------------------------------------- async twins


async def async_cpu_task(units: int) -> int:
    """``cpu_bound`` as an ``async def`` would run it: on the loop's thread, blocking it."""
    return cpu_bound(units)


async def async_hash_task(units: int) -> str:
    """``gil_releasing`` called from a coroutine: on the loop's thread, blocking it."""
    return gil_releasing(units)


async def async_mixed_task(units: int, wait_s: float) -> float:
    """``mixed_task`` as a coroutine: the computing blocks the loop, the wait is awaited."""
    start = time.perf_counter()
    cpu_bound(units)
    await async_io_bound(wait_s)
    return time.perf_counter() - start


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class MatrixResult(Result):
    """How long the same tasks took under each model, for each kind of work, on this machine.

    Attributes:
        workloads: row names, e.g. ``("cpu", "gil_releasing", "io", "mixed")``.
        models: column names; ``models[0]`` is always ``"serial"``, the baseline.
        elapsed_s: ``elapsed_s[i][j]``: seconds of row ``i`` under model ``j`` (best run).
        cpu_share: per row, the computing part of the serial run: 1.0 for rows that only
            compute; for the others, the serial run's CPU seconds / wall seconds, which other
            programs can only make read low (so the speed limits looser, never tighter).
        holds_gil: per row, whether its computing holds the GIL (``None``: unknown).
        descriptions: per row, what its tasks do.
        others_cores: per row, cores other programs kept busy meanwhile (``None``: unknown).
        n_workers: threads or processes per pool; also coroutines in flight.
        n_tasks: tasks per row.
        task_s: the target seconds of one task (``None`` for :func:`compare_models`).
        start_method: how the process pool started its workers.
        pool_startup_s: seconds to start and warm the process pool (not in any cell).
        usable_cores: :func:`~concurrency_lab.usable_cores` when it ran.
        gil_enabled: whether the measuring interpreter ran with the GIL.
        repeats: runs per cell (the fastest is kept).
    """

    workloads: tuple[str, ...]
    models: tuple[Model, ...]
    elapsed_s: tuple[tuple[float, ...], ...]
    cpu_share: tuple[float, ...]
    holds_gil: tuple[bool | None, ...]
    descriptions: tuple[str, ...]
    others_cores: tuple[float | None, ...]
    n_workers: int
    n_tasks: int
    task_s: float | None
    start_method: str
    pool_startup_s: float | None
    usable_cores: int
    gil_enabled: bool
    repeats: int

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

    def elapsed(self, workload: str, model: str) -> float:
        """Seconds that ``workload`` took under ``model``."""
        return self.elapsed_s[self._row(workload)][self._col(model)]

    def speedup(self, workload: str, model: str) -> float:
        """How many times faster than serial ``model`` ran ``workload`` (1.0 = no gain)."""
        row = self.elapsed_s[self._row(workload)]
        return row[0] / row[self._col(model)]

    @property
    def speedups(self) -> tuple[tuple[float, ...], ...]:
        """The whole table of speedups: rows = workloads, columns = models."""
        return tuple(tuple(row[0] / e for e in row) for row in self.elapsed_s)

    def _facts(self, workload: str) -> dict[str, Any]:
        i = self._row(workload)
        return {
            "cpu_share": self.cpu_share[i],
            "holds_gil": self.holds_gil[i],
            "n_tasks": self.n_tasks,
            "n_workers": self.n_workers,
            "cores": self.usable_cores,
            "gil_enabled": self.gil_enabled,
        }

    def limit(self, workload: str, model: str) -> float:
        """The highest speedup ``model`` can reach on ``workload`` here (see ``limits``)."""
        self._col(model)
        return speed_limit(model, **self._facts(workload))

    def limit_reason(self, workload: str, model: str) -> str:
        """Why :meth:`limit` is what it is, as a phrase."""
        self._col(model)
        return limit_reason(model, **self._facts(workload))

    def is_noise(self, workload: str, model: str) -> bool:
        """True when the cell's speedup is more than 20 % above what the work allows."""
        return self.speedup(workload, model) > TOLERANCE * self.limit(workload, model)

    def noise_cells(self) -> tuple[tuple[str, str], ...]:
        """Every ``(workload, model)`` whose speedup the work cannot produce."""
        return tuple((w, m) for w in self.workloads for m in self.models if self.is_noise(w, m))

    def load(self, workload: str) -> Load:
        """Other programs' CPU use while ``workload``'s row ran (``.busy``, ``.describe()``)."""
        i = self._row(workload)
        return Load(sum(self.elapsed_s[i]), self.usable_cores, self.others_cores[i])

    def fastest(self, workload: str) -> tuple[str, float]:
        """The fastest model whose cell is not noise, and its speedup."""
        fair = [
            (m, self.speedup(workload, m)) for m in self.models if not self.is_noise(workload, m)
        ]
        return max(fair, key=lambda ms: ms[1])

    @property
    def capped(self) -> bool:
        """True when the pools were capped below what this machine's cores could use."""
        return self.n_workers == MATRIX_MAX_WORKERS and self.usable_cores > MATRIX_MAX_WORKERS

    def summary(self) -> str:
        cores = f"{self.usable_cores} usable core{'s' if self.usable_cores != 1 else ''}"
        size = f" of about {self.task_s * 1000:.0f} ms" if self.task_s else ""
        parts = [
            f"{len(self.workloads)} kind(s) of work x {len(self.models)} models on {cores}, "
            f"{self.n_workers} workers, {self.n_tasks} tasks{size} per row "
            f"(best of {self.repeats} run{'s' if self.repeats != 1 else ''})."
        ]
        best = []
        for w in self.workloads:
            m, s = self.fastest(w)
            best.append(f"{w} {m} {s:.1f}x")
        parts.append("Fastest per row, noise left out: " + "; ".join(best) + ".")
        noise = self.noise_cells()
        if noise:
            parts.append(
                "Faster than the work allows, so noise: "
                + "; ".join(
                    f"{m} on {w} ({self.speedup(w, m):.1f}x, at most {self.limit(w, m):.1f}x)"
                    for w, m in noise
                )
                + "."
            )
        if self.pool_startup_s is not None:
            parts.append(
                f"Starting the {self.n_workers}-process pool ({self.start_method}) took "
                f"{self.pool_startup_s:.2f} s before the timing; a program that starts a pool "
                f"for one short job pays that too."
            )
        if self.capped:
            parts.append(
                f"The pools were capped at {MATRIX_MAX_WORKERS} workers, fewer than this "
                f"machine's {self.usable_cores} cores: no cell can show more than "
                f"{MATRIX_MAX_WORKERS}x."
            )
        busy = [w for w in self.workloads if self.load(w).busy]
        if busy:
            worst = max(busy, key=lambda w: self.others_cores[self._row(w)] or 0.0)
            load = self.load(worst)
            rows = f" (busy during: {', '.join(busy)})" if len(busy) > 1 else ""
            parts.append(
                f"Other programs kept about {load.others_cores:.1f} of your {self.usable_cores} "
                f"cores busy while the {worst} row ran, so about {load.free_cores:.1f} were "
                f"free{rows}."
            )
        return " ".join(parts)


# --------------------------------------------------------------------------- measuring


def default_matrix_workers() -> int:
    """Workers per pool in :func:`scenario_matrix`: twice the usable cores, from 2 to 8.

    More workers than cores lets waiting work overlap further, while computing stays capped
    by the cores.

    >>> 2 <= default_matrix_workers() <= MATRIX_MAX_WORKERS
    True
    """
    return max(2, min(MATRIX_MAX_WORKERS, lesson_processes(2.0)))


def _result(
    rows: list[Row],
    cols: tuple[Model, ...],
    n_workers: int,
    n_tasks: int,
    task_s: float | None,
    method: str,
    repeats: int,
    timeout_s: float,
    progress: bool,
) -> MatrixResult:
    t = measure_rows(
        rows,
        cols,
        n_workers=n_workers,
        method=method,
        repeats=repeats,
        timeout_s=timeout_s,
        progress=progress,
    )
    return MatrixResult(
        workloads=tuple(r.name for r in rows),
        models=cols,
        elapsed_s=t.elapsed_s,
        cpu_share=tuple(
            max(measured, r.known_share or 0.0) for r, measured in zip(rows, t.cpu_share)
        ),
        holds_gil=tuple(r.holds_gil for r in rows),
        descriptions=tuple(r.description for r in rows),
        others_cores=t.others_cores,
        n_workers=n_workers,
        n_tasks=n_tasks,
        task_s=task_s,
        start_method=method,
        pool_startup_s=t.pool_startup_s,
        usable_cores=usable_cores(),
        gil_enabled=gil_enabled(),
        repeats=repeats,
    )


def _names(values: object, allowed: tuple[str, ...], name: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(f"'{name}' must be a list of names from {allowed} (got {values!r}).")
    chosen = tuple(values)
    if not chosen or any(v not in allowed for v in chosen):
        raise ValueError(
            f"'{name}' must be a non-empty list of names from {', '.join(map(repr, allowed))} "
            f"(got {chosen!r})."
        )
    return tuple(dict.fromkeys(chosen))


def _columns(models: object) -> tuple[Model, ...]:
    chosen = _names(models, MODELS, "models")
    return cast(tuple[Model, ...], ("serial", *(m for m in chosen if m != "serial")))


def _units(workload: Callable[..., Any], target_s: float) -> int:
    """Calibrate twice and keep the larger size: the run least slowed by other programs."""
    return max(calibrate(workload, target_s), calibrate(workload, target_s))


def scenario_matrix(
    *,
    workloads: Sequence[Workload] = WORKLOADS,
    models: Sequence[Model] = MODELS,
    n_workers: int | None = None,
    n_tasks: int | None = None,
    task_s: float = 0.05,
    start_method: StartMethodName | None = None,
    repeats: int = 3,
    progress: bool = True,
    timeout_s: float = 60.0,
) -> MatrixResult:
    """Measure every kind of work under every model, here and now (see the module).

    Each row gets ``n_tasks`` tasks that each take about ``task_s`` alone (sized with
    :func:`~concurrency_lab.calibrate`). With the defaults the matrix takes about 10 to 20 s
    on 2 cores (more cores: more workers, the same tasks per worker).

    >>> m = scenario_matrix(workloads=["io"], models=["serial", "threads"], n_workers=2,
    ...                     n_tasks=2, task_s=0.01, repeats=1, progress=False)
    >>> m.models, m.workloads
    (('serial', 'threads'), ('io',))

    Args:
        workloads: the rows: any of ``"cpu"``, ``"gil_releasing"``, ``"io"``, ``"mixed"``.
        models: the columns: any of ``"serial"``, ``"threads"``, ``"processes"``,
            ``"asyncio"``; ``"serial"`` is always added as the baseline.
        n_workers: pool size (default :func:`default_matrix_workers`: 2 x the usable cores,
            from 2 to 8).
        n_tasks: tasks per row (default ``2 * n_workers``).
        task_s: target seconds of one task.
        start_method: for the process pool (``None``: the platform's default).
        repeats: runs per cell; the fastest is kept.
        progress: show a progress bar (tqdm, from the lab extra).
        timeout_s: limit for each cell.

    Returns:
        A :class:`MatrixResult`; draw it with ``cl.choosing.plot_scenario_matrix``, read it
        with :func:`~concurrency_lab.choosing.recommend`.

    Raises:
        ValueError, TypeError: unknown names or bad sizes (nothing was started).

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    rows_wanted = _names(workloads, WORKLOADS, "workloads")
    cols = _columns(models)
    n_workers = default_matrix_workers() if n_workers is None else n_workers
    n_workers = check_n_workers(n_workers, "process" if "processes" in cols else "thread")
    n_tasks = 2 * n_workers if n_tasks is None else check_whole(n_tasks, "n_tasks", low=1)
    task_s = check_number(task_s, "task_s", low=0, high=5, unit=" seconds", low_open=True)
    repeats = check_whole(repeats, "repeats", low=1, high=10)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)

    rows: list[Row] = []
    cpu_units = _units(cpu_bound, task_s) if {"cpu", "mixed"} & set(rows_wanted) else 1
    fn: Callable[..., Any]
    afn: Callable[..., Any]
    args: tuple[Any, ...]
    for w in rows_wanted:
        if w == "cpu":
            fn, afn, args = cpu_bound, async_cpu_task, (cpu_units,)
        elif w == "gil_releasing":
            fn, afn, args = gil_releasing, async_hash_task, (_units(gil_releasing, task_s),)
        elif w == "io":
            fn, afn, args = io_bound, async_io_bound, (task_s,)
        else:
            fn, afn, args = mixed_task, async_mixed_task, (max(1, cpu_units // 2), task_s / 2)
        known = 1.0 if w in ("cpu", "gil_releasing") else None  # only computing
        rows.append(Row(w, fn, afn, [args] * n_tasks, HOLDS_GIL[w], DESCRIPTIONS[w], known))
    return _result(rows, cols, n_workers, n_tasks, task_s, method, repeats, timeout_s, progress)


def compare_models(
    fn: Callable[..., Any],
    tasks: Iterable[Any],
    *,
    models: Sequence[Model] = ("serial", "threads", "processes"),
    async_fn: Callable[..., Any] | None = None,
    n_workers: int | None = None,
    start_method: StartMethodName | None = None,
    repeats: int = 3,
    releases_gil: bool | None = None,
    timeout_s: float = 60.0,
) -> MatrixResult:
    """Time your own function ``fn`` over ``tasks`` serially, on threads, on processes: one row.

    Each task is the argument of one call (``fn(task)``, or ``fn(*task)`` for a tuple). The
    pools are the matrix's: started and warmed before the timing. For an ``asyncio`` column
    pass ``async_fn``, an ``async def`` twin of ``fn``.

    >>> r = compare_models(abs, [-1, -2], models=["serial", "threads"], n_workers=2,
    ...                    repeats=1)
    >>> r.workloads
    ('abs',)

    Args:
        fn: a module-level function (processes must import it: in a notebook use
            ``%%worker_module``, lesson 01).
        tasks: the tasks' arguments.
        models: which columns (``"serial"`` is always added).
        async_fn: the coroutine function for the ``asyncio`` column.
        n_workers: pool size (default :func:`default_matrix_workers`).
        start_method: for the process pool (``None``: the platform's default).
        repeats: runs per cell; the fastest is kept.
        releases_gil: ``True`` if ``fn``'s computing releases the GIL (C code), ``False``
            if it is pure Python; ``None`` (unknown) lets threads count as parallel.
        timeout_s: limit for each cell.

    Raises:
        ValueError, TypeError: bad arguments; ``fn`` or a task cannot reach a process.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    check_callable(fn, "fn")
    cols = _columns(models)
    if "asyncio" in cols and async_fn is None:
        raise ValueError(
            "'models' includes 'asyncio': pass async_fn=..., an 'async def' version of fn "
            "(or leave 'asyncio' out)."
        )
    task_list = [t if isinstance(t, tuple) else (t,) for t in tasks]
    if not task_list:
        raise ValueError("'tasks' is empty: give at least one task.")
    n_workers = default_matrix_workers() if n_workers is None else n_workers
    n_workers = check_n_workers(n_workers, "process" if "processes" in cols else "thread")
    repeats = check_whole(repeats, "repeats", low=1, high=10)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    if "processes" in cols:
        check_can_send(fn, "fn", method)
        for i, args in enumerate(task_list):
            for a in args:
                check_can_send(a, f"task {i}: argument", method)
    name = getattr(fn, "__name__", type(fn).__name__)
    holds = None if releases_gil is None else not releases_gil
    row = Row(name, fn, async_fn, task_list, holds, f"your function {name}")
    return _result([row], cols, n_workers, len(task_list), None, method, repeats, timeout_s, False)
