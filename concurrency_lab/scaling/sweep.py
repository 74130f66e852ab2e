"""How much faster does it get with more workers? The strong-scaling sweep.

A *strong-scaling* sweep keeps the total amount of work fixed and splits it over 1, 2, 3, ...
workers. :func:`measure_scaling` keeps the numbers honest:

* Each repeat times the serial baseline (all the work as one task in one worker thread) and,
  right after it, every kind at this worker count, in an order that rotates from repeat to
  repeat; each speedup is the ratio within its repeat. A machine whose speed drifts from
  second to second still gives fair ratios, and threads and processes see the same
  conditions. Repeats are summarised by their median, and their spread is kept.
* Pools are created once per worker count and warmed up first: process start-up is measured
  separately (``cold_s``), not mixed into the curve.
* The work is at least 10 units per worker, so every worker gets an even share; by default
  it is sized to about 0.25 s here (more on machines with many cores, at most 0.6 s), and the
  worker counts stop at twice the cores, at most 16 (``lesson_processes``). Five repeats by
  default: one disturbed repeat cannot decide a verdict (see :func:`~.maths.spread`).
* Other programs' CPU use is measured alongside (:func:`~concurrency_lab.core.load.measure_load`)
  and named in the result's sentence when it mattered.
* Every wait is bounded, and pools are shut down (processes stopped on an error or an
  interrupt).

Introduced in ``03-core-scaling.ipynb`` (and used in ``02-the-gil.ipynb``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any, Literal, cast

from ..core.load import measure_load
from ..core.machine import (
    Kind,
    check_start_method,
    gil_enabled,
    lesson_processes,
    usable_cores,
)
from ..core.validate import (
    check_callable,
    check_can_send,
    check_choice,
    check_kind,
    check_n_workers,
    check_number,
    check_timeout,
    check_whole,
)
from ..core.workloads import IO_UNIT_S, calibrate, cpu_bound, gil_releasing, io_wait, zlib_compress
from .maths import check_fraction, split_work, worker_counts
from .pools import pool, timed_batch
from .results import ScalingPoint, ScalingResult, plural

__all__ = [
    "SCALING_WORKLOADS",
    "measure_scaling",
    "physical_cores",
    "scaling_experiment",
    "setup_notes",
    "size_work",
    "sweep_counts",
]

#: At least this many work units per worker, so the chunks differ by at most 10 %.
UNITS_PER_WORKER = 10


def sweep_counts(factor: float = 2.0, *, max_points: int = 6) -> tuple[int, ...]:
    """The worker counts a lesson sweeps: up to ``factor`` x the usable cores, at most 16.

    >>> sweep_counts()[0]
    1
    """
    return worker_counts(lesson_processes(factor), max_points=max_points)


def size_work(
    workload: Callable[[int], Any], counts: Sequence[int], work_s: float | None = None
) -> int:
    """Work units for a sweep: about ``work_s`` seconds here, and >= 10 units per worker.

    ``work_s`` defaults to 0.25 s, more with more workers (30 ms per worker), at most 0.6 s.
    :func:`~concurrency_lab.io_wait` is sized in milliseconds, without calibrating.
    """
    top = max(counts)
    if work_s is None:
        work_s = min(0.6, max(0.25, 0.03 * top))
    if workload is io_wait:
        units = max(1, round(work_s / IO_UNIT_S))
    else:
        units = calibrate(workload, work_s)
    return max(units, UNITS_PER_WORKER * top)


def physical_cores(usable: int) -> int | None:
    """Physical cores behind the usable logical CPUs, when fewer (SMT) and knowable.

    Needs psutil (the ``lab`` extra). ``None`` when the usable CPUs are a subset of the
    machine (a quota or an affinity mask: which physical cores they sit on is unknown), or
    when every logical CPU is a core of its own.
    """
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except Exception:
        return None
    logical = os.cpu_count()
    if not physical or logical != usable or physical >= logical:
        return None
    return int(physical)


def setup_notes(
    total_work: int, serial_units: int, fraction: float, counts: Sequence[int]
) -> tuple[str, ...]:
    """Warnings about a sweep's set-up that make its numbers hard to read.

    >>> setup_notes(3, 1, 0.3, (1, 2))[0][:44]
    'only 2 work units to split over up to 2 work'
    >>> setup_notes(100, 30, 0.3, (1, 2))
    ()
    """
    notes = []
    parallel = total_work - serial_units
    top = max(counts)
    if parallel < UNITS_PER_WORKER * top:
        notes.append(
            f"only {parallel} work units to split over up to {top} workers, so the chunks "
            f"differ by a whole unit (e.g. {split_work(parallel, top)[:4]}) and the split "
            f"cannot be even; use total_work >= {UNITS_PER_WORKER * top + serial_units} "
            f"(10 units per worker)."
        )
    real = serial_units / total_work
    if abs(real - fraction) > 0.005:
        notes.append(
            f"serial_fraction={fraction:g} became {serial_units} of {total_work} whole units, "
            f"a real serial share of {real:.1%}."
        )
    return tuple(notes)


def _reporter(
    progress: bool | Callable[[int, int], None], total: int
) -> tuple[Any, Callable[[int], None]]:
    if callable(progress):
        return None, lambda done: progress(done, total)
    if progress:
        from ..core.progress import progress_bar

        bar = progress_bar(total)

        def report(done: int) -> None:
            bar.n = done
            bar.refresh()

        return bar, report
    return None, lambda done: None


def measure_scaling(
    workload: Callable[[int], Any] = cpu_bound,
    *,
    kinds: Sequence[Kind] = ("thread", "process"),
    n_workers: Sequence[int] | int | None = None,
    total_work: int | None = None,
    work_s: float | None = None,
    serial_fraction: float = 0.0,
    start_method: str | None = None,
    repeats: int = 5,
    timeout_s: float = 60.0,
    progress: bool | Callable[[int, int], None] = False,
) -> ScalingResult:
    """Split a fixed total of work over each worker count, on threads and/or processes; time it.

    Introduced in ``02-the-gil.ipynb`` and ``03-core-scaling.ipynb``.

    For every worker count ``n`` a pool of ``n`` workers per kind is created and run once cold
    (its start-up time is kept as ``cold_s``). Then, ``repeats`` times, the serial baseline
    (all the work as one task in one worker thread) is timed, followed by the same work split
    into ``n`` chunks on each warm pool (the kinds in turn, the first kind rotating). Speedup =
    baseline / parallel time, within each repeat.

    >>> r = measure_scaling(cpu_bound, kinds=("thread",), n_workers=(1, 2), total_work=20,
    ...                     repeats=1)
    >>> r.n_workers, r.kinds, len(r.points)
    ((1, 2), ('thread',), 2)

    Args:
        workload: a module-level function taking a number of work units, e.g.
            :func:`~concurrency_lab.cpu_bound`, :func:`~concurrency_lab.gil_releasing`
            or :func:`~concurrency_lab.io_wait`.
        kinds: which of ``"thread"`` and ``"process"`` to measure.
        n_workers: the worker counts; default :func:`sweep_counts` (up to twice the usable
            cores, at most 16).
        total_work: work units in total; default :func:`size_work` (``work_s`` seconds here,
            at least 10 units per worker).
        work_s: the 1-worker time to size the work for, when ``total_work`` is not given.
        serial_fraction: share of the work (0..1) that runs as one task before the
            rest is split: Amdahl's serial part.
        start_method: for processes: ``"fork"``, ``"spawn"``, ``"forkserver"`` or ``None``.
        repeats: timed repeats per point (medians are reported, 5 by default).
        timeout_s: limit for any one batch of tasks.
        progress: ``True`` for a progress bar, or a function ``f(done, total)``.

    Returns:
        A :class:`~concurrency_lab.scaling.ScalingResult`; ``print`` it for the verdict.

    Raises:
        ValueError, TypeError: bad arguments (nothing was started).
        NotebookFunctionError, UnpicklableError: the workload cannot reach a process.
        WorkerError, WorkerCrashedError, WorkerTimeoutError: a task failed; pools are stopped.
    """
    check_callable(workload, "workload")
    names: Sequence[str] = (kinds,) if isinstance(kinds, str) else kinds
    kinds = tuple(dict.fromkeys(cast(Kind, check_kind(k)) for k in names))
    if not kinds:
        raise ValueError("'kinds' is empty: give 'thread', 'process' or both.")
    if n_workers is None:
        counts = sweep_counts()
    else:
        if isinstance(n_workers, int):
            n_workers = (n_workers,)
        counts = tuple(sorted(set(n_workers)))
        if not counts:
            raise ValueError("'n_workers' is empty: give at least one worker count, e.g. (1, 2).")
    for kind in kinds:
        for n in counts:
            check_n_workers(n, kind)
    fraction = check_fraction(serial_fraction)
    repeats = check_whole(repeats, "repeats", low=1)
    timeout_s = check_timeout(timeout_s)
    if work_s is not None:
        work_s = check_number(work_s, "work_s", low=0, high=10, low_open=True, unit=" seconds")
    method = check_start_method(start_method) if "process" in kinds else None
    if method is not None:
        check_can_send(workload, "workload", method)
    if total_work is None:
        total_work = size_work(workload, counts, work_s)
    total_work = check_whole(total_work, "total_work", low=1)
    serial_units = round(total_work * fraction)
    parallel_units = total_work - serial_units
    notes = setup_notes(total_work, serial_units, fraction, counts)

    steps = len(counts) * len(kinds) * (repeats + 1)
    bar, report = _reporter(progress, steps)
    done = [0]

    def tick() -> None:
        done[0] += 1
        report(done[0])

    points: list[ScalingPoint] = []
    name = getattr(workload, "__name__", type(workload).__name__)
    try:
        with measure_load() as meter:
            # The baseline runs in a worker thread too: the main thread can be slower or
            # faster (different heap, page faults), which would bias every ratio.
            with pool("thread", 1, None) as serial_pool:
                timed_batch(serial_pool, workload, 0, [min(total_work, 1)], timeout_s, "warm-up")
                for n in counts:
                    batch = _Batch(workload, serial_units, split_work(parallel_units, n))
                    points += _measure_count(
                        batch, kinds, n, method, serial_pool, total_work, repeats, timeout_s, tick
                    )
    finally:
        if bar is not None:
            bar.close()
    return ScalingResult(
        workload=name,
        total_work=total_work,
        serial_fraction=serial_units / total_work,
        start_method=method,
        usable_cores=usable_cores(),
        repeats=repeats,
        points=tuple(sorted(points, key=lambda p: (kinds.index(p.kind), p.n_workers))),
        notes=notes,
        load=meter.load,
        physical_cores=physical_cores(usable_cores()),
        gil=gil_enabled(),
    )


class _Batch:
    """One run of the work: the serial part as one task, then the chunks in parallel."""

    def __init__(self, workload: Callable[[int], Any], serial_units: int, chunks: Sequence[int]):
        self.workload, self.serial_units, self.chunks = workload, serial_units, chunks

    def time(self, ex: Any, timeout_s: float, what: str) -> float:
        return timed_batch(ex, self.workload, self.serial_units, self.chunks, timeout_s, what)


def _measure_count(
    batch: _Batch,
    kinds: tuple[str, ...],
    n: int,
    method: str | None,
    serial_pool: Any,
    total_work: int,
    repeats: int,
    timeout_s: float,
    tick: Callable[[], None],
) -> list[ScalingPoint]:
    """Every kind at ``n`` workers: pools open together, repeats interleaved with the baseline."""
    with ExitStack() as stack:
        pools = {k: stack.enter_context(pool(k, n, method)) for k in kinds}
        cold = {}
        for kind, ex in pools.items():
            cold[kind] = batch.time(ex, timeout_s, f"{plural(kind, n)}")
            tick()
        base: list[float] = []
        runs: dict[str, list[float]] = {k: [] for k in kinds}
        for r in range(repeats):
            base.append(
                timed_batch(serial_pool, batch.workload, 0, [total_work], timeout_s, "baseline")
            )
            order = kinds[r % len(kinds) :] + kinds[: r % len(kinds)]
            for kind in order:
                runs[kind].append(batch.time(pools[kind], timeout_s, f"{plural(kind, n)}"))
                tick()
    return [ScalingPoint(k, n, tuple(runs[k]), tuple(base), cold[k]) for k in kinds]


#: The workloads the scaling explorer offers: key -> (label, function).
SCALING_WORKLOADS: dict[str, tuple[str, Callable[[int], Any]]] = {
    "cpu": ("pure-Python CPU (cl.cpu_bound)", cpu_bound),
    "c": ("C without the GIL: sha256 (cl.gil_releasing)", gil_releasing),
    "zlib": ("C without the GIL: zlib (cl.zlib_compress)", zlib_compress),
    "io": ("waiting for I/O (cl.io_wait)", io_wait),
}
_units_cache: dict[tuple[str, float], int] = {}


def scaling_experiment(
    *,
    workload: Literal["cpu", "c", "zlib", "io"] = "cpu",
    max_workers: int | None = None,
    kinds: Sequence[Kind] = ("thread", "process"),
    start_method: str | None = None,
    size_s: float = 0.05,
    repeats: int = 3,
    progress: bool | Callable[[int, int], None] = False,
) -> ScalingResult:
    """The sweep behind :func:`~concurrency_lab.scaling.scaling_explorer`, without widgets.

    Sizes the work to take about ``size_s`` serially here (calibrated once per workload and
    size, then remembered) and to give every worker at least 10 units, and sweeps
    :func:`~.maths.worker_counts` up to ``max_workers`` (default: the usable cores, at least 2
    and at most ``lesson_processes(2)``, 16 on big machines). Introduced in ``02-the-gil.ipynb``.

    >>> r = scaling_experiment(workload="io", max_workers=2, kinds=("thread",), size_s=0.02,
    ...                        repeats=1)
    >>> r.n_workers
    (1, 2)

    Args:
        workload: a key of :data:`SCALING_WORKLOADS`: ``"cpu"``, ``"c"``, ``"zlib"``, ``"io"``.
        max_workers: the largest worker count in the sweep.
        kinds, start_method, repeats, progress: as for :func:`measure_scaling`.
        size_s: about how long all the work takes on one worker, in seconds.

    Raises:
        ValueError: unknown workload, a bad size, or too many workers.
    """
    key = check_choice(workload, "workload", tuple(SCALING_WORKLOADS))
    size_s = check_number(size_s, "size_s", low=0, high=10, low_open=True, unit=" seconds")
    fn = SCALING_WORKLOADS[key][1]
    cap = max(2, lesson_processes(2))
    if max_workers is None:
        max_workers = min(cap, max(2, usable_cores()))
    max_workers = check_whole(max_workers, "max_workers", low=1, high=cap)
    counts = worker_counts(max_workers)
    cached = (key, float(size_s))
    if cached not in _units_cache:
        _units_cache[cached] = size_work(fn, (1,), size_s)
    units = max(_units_cache[cached], UNITS_PER_WORKER * max(counts))
    return measure_scaling(
        fn,
        kinds=kinds,
        n_workers=counts,
        total_work=units,
        start_method=start_method,
        repeats=repeats,
        progress=progress,
    )
