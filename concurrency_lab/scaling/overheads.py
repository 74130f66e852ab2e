"""What eats the gain: starting a pool, and tasks too small for the cost of sending them.

* :func:`measure_pool_startup` times a batch of tiny tasks on a brand-new pool (*cold*: the
  processes start) and on the same pool again (*warm*), for one start method. The very first
  pool is reported apart: under ``forkserver`` it also starts the server process (once per
  program), which would otherwise be averaged into the cold time.
* :func:`compare_start_methods` does that for every start method worth comparing here
  (``fork`` is left out on macOS, where it is unsafe).
* :func:`measure_granularity` cuts the same total work into many small tasks or a few big
  ones, with and without ``chunksize``.

Sending large arguments is measured in plain code in the notebook (a thread pool against a
process pool); lesson 06 measures every way of moving data between processes.

Introduced in ``03-core-scaling.ipynb``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import cast

from ..core.machine import (
    Kind,
    check_start_method,
    forkserver_running,
    start_method_label,
    start_methods_to_compare,
)
from ..core.results import Result
from ..core.validate import check_kind, check_n_workers, check_timeout, check_whole
from ..core.workloads import noop, spin
from .pools import pool, timed_batch, wait_all
from .results import plural

__all__ = [
    "GranularityResult",
    "PoolStartupResult",
    "StartMethodsResult",
    "compare_start_methods",
    "measure_granularity",
    "measure_pool_startup",
]


def spin_many(sizes: Sequence[int]) -> list[int]:
    """Run :func:`~concurrency_lab.spin` once per size: several tasks sent as one message."""
    return [spin(s) for s in sizes]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds >= 0.001 else f"{seconds * 1e3:.2f} ms"


@dataclass(frozen=True)
class PoolStartupResult(Result):
    """Cold versus warm: a batch of tiny tasks on a new pool, then on the same pool again.

    Attributes:
        kind, n_workers, start_method: the pool.
        first_s: the first new pool of this measurement (cold), apart from the others.
        cold_s: per repeat after the first, seconds to create a pool and finish ``n_workers``
            tiny tasks.
        warm_s: per repeat, seconds for the same tasks on the pool once it is running.
        started_server: under ``forkserver``, whether the first pool had to start the server
            (``None`` for other methods, or when it cannot be told).
    """

    kind: str
    n_workers: int
    start_method: str | None
    first_s: float
    cold_s: tuple[float, ...]
    warm_s: tuple[float, ...]
    started_server: bool | None = None

    @property
    def cold_median_s(self) -> float:
        """Median cold time after the first pool, in seconds."""
        return median(self.cold_s)

    @property
    def warm_median_s(self) -> float:
        """Median warm time, in seconds."""
        return median(self.warm_s)

    @property
    def ratio(self) -> float:
        """How many times longer a cold batch took than a warm one (medians)."""
        return self.cold_median_s / self.warm_median_s

    @property
    def label(self) -> str:
        """The start method (labelled unsafe where it is), or ``'threads'``."""
        if self.kind == "thread" or self.start_method is None:
            return "threads"
        return start_method_label(self.start_method)

    def summary(self) -> str:
        what = f"{self.label}, {plural(self.kind, self.n_workers)}"
        first = f"the first new pool took {_ms(self.first_s)}"
        if self.started_server:
            first += " (it also started the forkserver, once per program)"
        return (
            f"{what}: {first}; later new pools took {_ms(self.cold_median_s)} (median of "
            f"{len(self.cold_s)}) and a batch on a running pool {_ms(self.warm_median_s)}: "
            f"cold/warm {self.ratio:.0f}x."
        )


def measure_pool_startup(
    *,
    kind: Kind = "process",
    n_workers: int = 2,
    start_method: str | None = None,
    repeats: int = 3,
    timeout_s: float = 60.0,
) -> PoolStartupResult:
    """Time a batch of tiny tasks on a brand-new pool (cold) and on the same pool again (warm).

    Introduced in ``03-core-scaling.ipynb``.

    The first pool is timed apart (``first_s``), then ``repeats`` more pools.

    >>> r = measure_pool_startup(kind="thread", n_workers=2, repeats=1)
    >>> len(r.cold_s), len(r.warm_s)
    (1, 2)

    Raises:
        TypeError, ValueError: bad arguments.
        WorkerTimeoutError: a batch did not finish within ``timeout_s``.
    """
    kind = cast(Kind, check_kind(kind))
    n_workers = check_n_workers(n_workers, kind)
    repeats = check_whole(repeats, "repeats", low=1)
    timeout_s = check_timeout(timeout_s)
    method = check_start_method(start_method) if kind == "process" else None
    started = None
    if method == "forkserver":
        running = forkserver_running()
        started = None if running is None else not running
    cold, warm = [], []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        with pool(kind, n_workers, method) as ex:
            wait_all([ex.submit(noop) for _ in range(n_workers)], timeout_s, "start-up")
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            wait_all([ex.submit(noop) for _ in range(n_workers)], timeout_s, "start-up")
            warm.append(time.perf_counter() - start)
    return PoolStartupResult(
        kind, n_workers, method, cold[0], tuple(cold[1:]), tuple(warm), started
    )


@dataclass(frozen=True)
class StartMethodsResult(Result):
    """:class:`PoolStartupResult` for each start method compared here."""

    rows: tuple[PoolStartupResult, ...]

    def table(self) -> str:
        """One row per start method: first pool, later new pools, running pool, cold/warm."""
        head = (
            f"{'start method':>24} {'first pool':>11} {'new pool':>10} {'running':>9} "
            f"{'cold/warm':>10}"
        )
        lines = [head]
        for r in self.rows:
            label = r.label + (" (server)" if r.started_server else "")
            lines.append(
                f"{label:>24} {_ms(r.first_s):>11} {_ms(r.cold_median_s):>10} "
                f"{_ms(r.warm_median_s):>9} {r.ratio:>9.0f}x"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        if len(self.rows) == 1:
            return self.rows[0].summary()
        slow = max(self.rows, key=lambda r: r.cold_median_s)
        fast = min(self.rows, key=lambda r: r.cold_median_s)
        text = (
            f"A new pool of {self.rows[0].n_workers} processes took longest with {slow.label} "
            f"({_ms(slow.cold_median_s)}) and least with {fast.label} "
            f"({_ms(fast.cold_median_s)}); on a running pool every method took under "
            f"{_ms(max(r.warm_median_s for r in self.rows))}."
        )
        server = [r for r in self.rows if r.started_server]
        if server:
            text += (
                f" The first forkserver pool ({_ms(server[0].first_s)}) also started the "
                f"server; later ones did not."
            )
        return text


def compare_start_methods(*, n_workers: int = 2, repeats: int = 3) -> StartMethodsResult:
    """:func:`measure_pool_startup` for every start method worth comparing on this platform.

    All available methods, the default first; ``fork`` is left out on macOS (unsafe there).
    Introduced in ``03-core-scaling.ipynb``.
    """
    rows = [
        measure_pool_startup(n_workers=n_workers, start_method=m, repeats=repeats)
        for m in start_methods_to_compare()
    ]
    return StartMethodsResult(tuple(rows))


@dataclass(frozen=True)
class GranularityResult(Result):
    """The same total work cut into tasks of different sizes, run on a warm process pool.

    Attributes:
        total_iterations: loop iterations of :func:`~concurrency_lab.spin` in total.
        n_workers: pool size.
        chunksize: tasks sent to a worker per message (``Executor.map``'s ``chunksize``).
        task_sizes: iterations per task, one per row.
        elapsed_s: median seconds for all the tasks, one per row.
        serial_s: median seconds for all the work as one call in one thread.
        row_speedups: per row, the median over the repeats of (serial run timed just
            before) / (pool run); empty for results built by hand, which then use
            ``serial_s``.
    """

    total_iterations: int
    n_workers: int
    chunksize: int
    task_sizes: tuple[int, ...]
    elapsed_s: tuple[float, ...]
    serial_s: float
    row_speedups: tuple[float, ...] = ()

    @property
    def n_tasks(self) -> tuple[int, ...]:
        """How many tasks each row used."""
        return tuple(-(-self.total_iterations // s) for s in self.task_sizes)

    @property
    def n_messages(self) -> tuple[int, ...]:
        """How many messages (groups of ``chunksize`` tasks) each row sent to the workers."""
        return tuple(-(-n // self.chunksize) for n in self.n_tasks)

    @property
    def speedups(self) -> tuple[float, ...]:
        """Speedup over the serial run, per row."""
        if self.row_speedups:
            return self.row_speedups
        return tuple(self.serial_s / e for e in self.elapsed_s)

    def idle_notes(self) -> tuple[str, ...]:
        """One sentence per row that sent fewer messages than there are workers.

        >>> r = GranularityResult(800, 2, 50, (100,), (0.01,), 0.01)
        >>> r.idle_notes()
        ('8 tasks in chunks of 50 make 1 message for 2 workers: 1 worker had nothing to do.',)
        """
        notes = []
        for n, m in zip(self.n_tasks, self.n_messages):
            if m < self.n_workers:
                idle = self.n_workers - m
                notes.append(
                    f"{n} tasks in chunks of {self.chunksize} make {plural('message', m)} for "
                    f"{self.n_workers} workers: {plural('worker', idle)} had nothing to do."
                )
        return tuple(notes)

    def table(self) -> str:
        """The rows as a small text table."""
        lines = [f"{'iterations/task':>16} {'tasks':>7} {'messages':>9} {'time':>9} {'speedup':>8}"]
        rows = zip(self.task_sizes, self.n_tasks, self.n_messages, self.elapsed_s, self.speedups)
        for size, n, m, t, s in rows:
            lines.append(f"{size:>16,} {n:>7,} {m:>9,} {t * 1e3:>7.1f}ms {s:>7.2f}x")
        return "\n".join(lines)

    def summary(self) -> str:
        parts = [
            f"{n:,} tasks of {size:,} iterations {s:.2f}x"
            for size, n, s in zip(self.task_sizes, self.n_tasks, self.speedups)
        ]
        text = (
            f"On {plural('process', self.n_workers)}, chunksize {self.chunksize}, as many times "
            f"as fast as one worker: " + "; ".join(parts) + "."
        )
        for note in self.idle_notes():
            text += f" {note}"
        return text


def measure_granularity(
    *,
    task_sizes: Sequence[int] = (250, 2_500, 25_000),
    total_iterations: int = 200_000,
    n_workers: int = 2,
    chunksize: int = 1,
    start_method: str | None = None,
    repeats: int = 3,
    timeout_s: float = 60.0,
) -> GranularityResult:
    """Time the same total of :func:`~concurrency_lab.spin` work cut into small or large tasks.

    Introduced in ``03-core-scaling.ipynb``.

    Each task is a message to a worker process and a result back: with tiny
    tasks that overhead dominates. ``chunksize`` > 1 sends several tasks per
    message (like ``Pool.map(..., chunksize=...)``).

    >>> r = measure_granularity(task_sizes=(1000,), total_iterations=2000, repeats=1)
    >>> r.n_tasks
    (2,)

    Raises:
        TypeError, ValueError: bad arguments.
        WorkerError, WorkerTimeoutError: a task failed or took too long.
    """
    n_workers = check_n_workers(n_workers, "process")
    repeats = check_whole(repeats, "repeats", low=1)
    timeout_s = check_timeout(timeout_s)
    method = check_start_method(start_method)
    chunksize = check_whole(chunksize, "chunksize", low=1)
    total_iterations = check_whole(total_iterations, "total_iterations", low=1)
    sizes = tuple(task_sizes)
    if not sizes:
        raise ValueError("'task_sizes' is empty: give at least one size, e.g. (1000,).")
    sizes = tuple(check_whole(s, "task_sizes", low=1) for s in sizes)
    serial, elapsed, ratios = [], [], []
    with pool("thread", 1, None) as one, pool("process", n_workers, method) as ex:
        wait_all([ex.submit(spin, 10) for _ in range(n_workers)], timeout_s, "warm-up")
        for size in sizes:
            tasks = [size] * (total_iterations // size)
            if total_iterations % size:
                tasks.append(total_iterations % size)
            groups = [tasks[i : i + chunksize] for i in range(0, len(tasks), chunksize)]
            times, row = [], []
            for _ in range(repeats):
                serial.append(timed_batch(one, spin, 0, [total_iterations], timeout_s, "serial"))
                start = time.perf_counter()
                wait_all([ex.submit(spin_many, g) for g in groups], timeout_s, "granularity")
                times.append(time.perf_counter() - start)
                row.append(serial[-1] / times[-1])
            elapsed.append(median(times))
            ratios.append(median(row))
    return GranularityResult(
        total_iterations,
        n_workers,
        chunksize,
        sizes,
        tuple(elapsed),
        median(serial),
        tuple(ratios),
    )
