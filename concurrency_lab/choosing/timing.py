"""How the model matrix times each cell: warm pools, alternating turns, best of several runs.

:func:`measure_rows` runs each row's tasks under each model with plain
``concurrent.futures`` and ``asyncio`` code. The thread and process pools are started once
and warmed before any timing (the process pool's start-up is measured apart); the models
take turns in an order that reverses every round, and each cell keeps its fastest run. For
each row it also measures the serial run's CPU share (for the speed limits) and how many
cores other programs kept busy (the machine's busy CPU time minus this process's and its
pool workers', which report their own CPU time through :func:`timed_call`).

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.children import stop_processes
from ..core.load import machine_ticks, own_cpu_s
from ..core.machine import get_context
from ..core.workloads import cpu_bound, gil_releasing, io_bound
from .coroutines import run_coroutine

__all__ = ["Row", "Timings", "measure_rows", "rounds", "timed_call", "warm_worker"]


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*args)


def timed_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> float:
    """Run ``fn(*args)`` in a pool process; return the CPU seconds it used there.

    The matrix sends every process task through this, so it can tell its own workers' CPU
    use from other programs' (module-level, so ``spawn`` children can import it).
    """
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def warm_worker(pause_s: float) -> int:
    """Start-up work for a pool process: load the lab's workloads, pause, return the pid."""
    cpu_bound(1)
    gil_releasing(1)
    io_bound(0.0)
    time.sleep(pause_s)
    return os.getpid()


class _Pools:
    """The matrix's thread and process pools, started once, warmed, and always shut down."""

    def __init__(self, models: Sequence[str], n_workers: int, method: str, timeout_s: float):
        self.n_workers, self.timeout_s = n_workers, timeout_s
        self.threads: cf.ThreadPoolExecutor | None = None
        self.processes: cf.ProcessPoolExecutor | None = None
        self.startup_s: float | None = None
        if "threads" in models:
            self.threads = cf.ThreadPoolExecutor(n_workers, thread_name_prefix="lab-matrix")
            list(self.threads.map(_call, [time.sleep] * n_workers, [(0.01,)] * n_workers))
        if "processes" in models:
            start = time.perf_counter()
            self.processes = cf.ProcessPoolExecutor(n_workers, mp_context=get_context(method))
            pids: set[int] = set()
            for _ in range(5):  # workers may start on demand: ask until all have answered
                futures = [self.processes.submit(warm_worker, 0.05) for _ in range(n_workers)]
                pids.update(f.result(timeout=timeout_s) for f in futures)
                if len(pids) >= n_workers:
                    break
            self.startup_s = time.perf_counter() - start

    def close(self, ok: bool) -> None:
        if self.threads is not None:
            self.threads.shutdown(wait=True, cancel_futures=not ok)
        if self.processes is not None:
            procs = list((getattr(self.processes, "_processes", None) or {}).values())
            if ok:
                self.processes.shutdown(wait=True)
            else:
                self.processes.shutdown(wait=False, cancel_futures=True)
                stop_processes(procs)
                self.processes.shutdown(wait=True)  # its workers are gone: this returns


@dataclass(frozen=True)
class Row:
    """One row of the matrix: a task function, its coroutine twin, and its tasks."""

    name: str
    fn: Callable[..., Any]
    async_fn: Callable[..., Any] | None
    tasks: list[tuple[Any, ...]]
    holds_gil: bool | None
    description: str
    #: the computing part of a serial run when the row's code fixes it (1.0: it only
    #: computes); ``None``: measure it
    known_share: float | None = None


async def _limited_gather(
    async_fn: Callable[..., Any], tasks: list[tuple[Any, ...]], n_workers: int
) -> float:
    limit = asyncio.Semaphore(n_workers)

    async def one(args: tuple[Any, ...]) -> Any:
        async with limit:  # at most n_workers tasks in flight, like a pool
            return await async_fn(*args)

    start = time.perf_counter()
    await asyncio.gather(*(one(a) for a in tasks))
    return time.perf_counter() - start


def _time_cell(model: str, row: Row, pools: _Pools, n_workers: int) -> tuple[float, float, float]:
    """``(wall s, CPU share of this thread, CPU s of the pool's processes)`` for one cell."""
    timeout = pools.timeout_s
    if model == "serial":
        start, cpu = time.perf_counter(), time.thread_time()
        for args in row.tasks:
            row.fn(*args)
        wall = time.perf_counter() - start
        return wall, (time.thread_time() - cpu) / wall if wall > 0 else 1.0, 0.0
    if model == "threads":
        assert pools.threads is not None
        start = time.perf_counter()
        list(pools.threads.map(_call, [row.fn] * len(row.tasks), row.tasks, timeout=timeout))
        return time.perf_counter() - start, 0.0, 0.0
    if model == "processes":
        assert pools.processes is not None
        start = time.perf_counter()
        used = pools.processes.map(
            timed_call, [row.fn] * len(row.tasks), row.tasks, timeout=timeout
        )
        worker_cpu = sum(used)
        return time.perf_counter() - start, 0.0, worker_cpu
    assert row.async_fn is not None
    wall = run_coroutine(_limited_gather(row.async_fn, row.tasks, n_workers), timeout_s=timeout)
    return float(wall), 0.0, 0.0


def rounds(models: Sequence[str], repeats: int) -> list[tuple[int, str]]:
    """The order of the timed runs, ``(column, model)``, reversed every other round.

    >>> [m for _, m in rounds(("serial", "threads", "asyncio"), 2)]
    ['serial', 'threads', 'asyncio', 'asyncio', 'threads', 'serial']
    """
    order = list(enumerate(models))
    return [jm for r in range(repeats) for jm in (order if r % 2 == 0 else order[::-1])]


@dataclass(frozen=True)
class Timings:
    """What :func:`measure_rows` measured (the matrix turns it into a ``MatrixResult``).

    Attributes:
        elapsed_s: per row, per model: the fastest run's seconds.
        cpu_share: per row: the serial run's CPU seconds / wall seconds (the largest seen).
        others_cores: per row: cores other programs kept busy (``None``: unknown).
        pool_startup_s: seconds to start and warm the process pool (``None``: no pool).
    """

    elapsed_s: tuple[tuple[float, ...], ...]
    cpu_share: tuple[float, ...]
    others_cores: tuple[float | None, ...]
    pool_startup_s: float | None


def measure_rows(
    rows: Sequence[Row],
    models: Sequence[str],
    *,
    n_workers: int,
    method: str,
    repeats: int,
    timeout_s: float,
    progress: bool,
) -> Timings:
    """Time every row under every model: warm pools, turns in alternating order, best of
    ``repeats``; measure each row's serial CPU share and other programs' load."""
    bar = None
    if progress:
        from ..core.progress import progress_bar

        bar = progress_bar(len(rows) * len(models) * repeats, "model matrix")
    pools = _Pools(models, n_workers, method, timeout_s)
    ok = False
    table: list[tuple[float, ...]] = []
    shares: list[float] = []
    others: list[float | None] = []
    try:
        for row in rows:
            best = [float("inf")] * len(models)
            share = []
            ticks0, own0, wall0, workers_cpu = (
                machine_ticks(),
                own_cpu_s(),
                time.perf_counter(),
                0.0,
            )
            for j, model in rounds(models, repeats):
                if bar is not None:
                    bar.set_postfix_str(f"{row.name} / {model}")
                wall, cpu_share, pool_cpu = _time_cell(model, row, pools, n_workers)
                best[j] = min(best[j], wall)
                workers_cpu += pool_cpu
                if model == "serial":
                    share.append(min(1.0, cpu_share))  # clock granularity: never above 1
                if bar is not None:
                    bar.update(1)
            wall = time.perf_counter() - wall0
            ticks1 = machine_ticks()
            busy: float | None = None
            if ticks0 is not None and ticks1 is not None and wall >= 0.2:
                ours = own_cpu_s() - own0 + workers_cpu
                busy = max(0.0, (ticks1[0] - ticks0[0] - ours) / wall)
            table.append(tuple(best))
            shares.append(max(share))  # the serial run least slowed down computed most
            others.append(busy)
        ok = True
    finally:
        pools.close(ok)
        if bar is not None:
            bar.close()
    return Timings(tuple(table), tuple(shares), tuple(others), pools.startup_s)
