"""How many cores, and what more workers than cores do: counting CPUs, oversubscription.

``os.cpu_count()`` counts the machine's logical CPUs. A container, a job scheduler or
``taskset`` may let a process use fewer: ``os.process_cpu_count()`` (Python 3.13+) and, on
Linux, ``len(os.sched_getaffinity(0))`` count what this process may run on, and
``cl.usable_cores()`` also honours container CPU quotas (cgroups). CPU-bound workers beyond
the usable cores do not make work finish sooner: they take turns on the same cores.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass
from typing import Literal

from ..core.load import Load, measure_load
from ..core.machine import (
    LESSON_MAX_PROCESSES,
    check_start_method,
    get_context,
    max_workers,
    usable_cores,
)
from ..core.results import Result
from ..core.validate import check_number, check_timeout, check_whole
from ..core.workloads import calibrate, cpu_bound
from .process_tree import stop_pool
from .scripts import run_script
from .vocabulary import StartMethodName

__all__ = [
    "OVERSUBSCRIBE_MAX_PROCESSES",
    "AffinityResult",
    "OversubscriptionResult",
    "cores_under_affinity",
    "oversubscribed_workers",
    "oversubscription",
    "timed_cpu_bound",
]

#: The most processes the oversubscription demo starts (one pool at a time): enough for
#: two workers per core up to 16 cores, little enough for a hub's memory (~15 MiB each).
OVERSUBSCRIBE_MAX_PROCESSES = 32


# --------------------------------------------------------------------------- counting cores

_AFFINITY_CHILD = """\
import json, os, sys
sys.path.insert(0, sys.argv[1])  # where concurrency_lab lives
os.sched_setaffinity(0, {int(c) for c in sys.argv[2:]})
import concurrency_lab as cl
count = getattr(os, "process_cpu_count", None)
print(json.dumps([os.cpu_count(), len(os.sched_getaffinity(0)),
                  count() if count else None, cl.usable_cores()]))
"""


@dataclass(frozen=True)
class AffinityResult(Result):
    """What a child pinned to some CPUs counted.

    Attributes:
        supported: this system can pin a process from the standard library (Linux).
        cpus: the CPUs the child was pinned to.
        cpu_count: ``os.cpu_count()`` in the child.
        affinity: ``len(os.sched_getaffinity(0))`` in the child.
        process_cpu_count: ``os.process_cpu_count()`` in the child (``None`` before 3.13).
        usable: ``cl.usable_cores()`` in the child.
    """

    supported: bool
    cpus: tuple[int, ...]
    cpu_count: int | None
    affinity: int | None
    process_cpu_count: int | None
    usable: int | None

    def summary(self) -> str:
        if not self.supported:
            return (
                "This system cannot pin a process to CPUs from the standard library (macOS "
                "has no such call; on Windows psutil.Process().cpu_affinity([...]) does it). "
                "On Linux, taskset, containers and job schedulers do, and os.cpu_count() then "
                "still counts every CPU of the machine."
            )
        cpus = ",".join(map(str, self.cpus))
        counts = [f"len(os.sched_getaffinity(0)) = {self.affinity}"]
        if self.process_cpu_count is not None:
            counts.append(f"os.process_cpu_count() = {self.process_cpu_count}")
        counts.append(f"cl.usable_cores() = {self.usable}")
        text = (
            f"A child pinned to CPU {cpus} (as 'taskset -c {cpus}' would do) still saw "
            f"os.cpu_count() = {self.cpu_count}, the machine's logical CPUs, while "
            f"{', '.join(counts[:-1])} and {counts[-1]} count the CPUs it may use. Size a "
            f"CPU-bound pool by those."
        )
        if self.process_cpu_count is None:
            text += " (os.process_cpu_count(), new in Python 3.13, counts them too.)"
        return text


def cores_under_affinity(
    cpus: tuple[int, ...] | None = None, *, timeout_s: float = 30.0
) -> AffinityResult:
    """Ask a child process pinned to ``cpus`` (as ``taskset`` or a container would) to count.

    Args:
        cpus: CPUs to pin the child to; default: the lowest CPU this process may use (which
            is not always CPU 0, e.g. under ``docker --cpuset-cpus=4-7``).
        timeout_s: the child is stopped after this long.

    Returns:
        An :class:`AffinityResult`; on macOS and Windows one that explains instead.

    Raises:
        ValueError: ``cpus`` names a CPU this process may not use.

    Introduced in ``08-common-problems.ipynb``.
    """
    if not hasattr(os, "sched_setaffinity"):
        return AffinityResult(False, tuple(cpus or ()), None, None, None, None)
    timeout_s = check_timeout(timeout_s)
    allowed = os.sched_getaffinity(0)
    chosen = (min(allowed),) if cpus is None else tuple(cpus)
    if not chosen or any(c not in allowed for c in chosen):
        raise ValueError(
            f"'cpus' must name CPUs this process may use, from {sorted(allowed)} "
            f"(got {cpus!r}); leave it out to use the first of them."
        )
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run = run_script(_AFFINITY_CHILD, args=[package_root, *map(str, chosen)], timeout_s=timeout_s)
    if run.returncode != 0:
        raise RuntimeError(f"the pinned child failed: {run.error or run.stderr[-500:]}")
    cpu_count, affinity, per_process, usable = json.loads(run.stdout)
    return AffinityResult(True, chosen, cpu_count, affinity, per_process, usable)


# --------------------------------------------------------------------------- oversubscription


def timed_cpu_bound(units: int) -> float:
    """Run :func:`~concurrency_lab.cpu_bound` for ``units``; return how long it took (s).

    The time is from the task's start to its end in the worker: when the worker has to
    share its core, the task takes longer although its work is the same.
    """
    start = time.perf_counter()
    cpu_bound(units)
    return time.perf_counter() - start


def pid_after_nap(seconds: float) -> int:
    """Sleep ``seconds`` and return this process's id (to see that every worker is up)."""
    time.sleep(seconds)
    return os.getpid()


def oversubscribed_workers(cores: int | None = None) -> int:
    """How many workers the oversubscription demo puts on ``cores`` usable cores.

    Four per core, but no more than the lessons' usual cap
    (:data:`~concurrency_lab.core.machine.LESSON_MAX_PROCESSES`) unless that leaves fewer
    than two per core, and never more than :data:`OVERSUBSCRIBE_MAX_PROCESSES` (or the
    platform's limit); rounded down to whole rounds of ``cores`` tasks. Equal to ``cores``
    when that leaves no room to oversubscribe.

    >>> oversubscribed_workers(2), oversubscribed_workers(6)
    (8, 12)
    >>> oversubscribed_workers(40)
    40
    """
    cores = usable_cores() if cores is None else check_whole(cores, "cores", low=1)
    big = min(
        4 * cores,
        max(LESSON_MAX_PROCESSES, 2 * cores),
        OVERSUBSCRIBE_MAX_PROCESSES,
        max_workers("process"),
    )
    return max(cores, big // cores * cores)


Verdict = Literal["no speed-up", "faster under load", "implausible", "cannot oversubscribe"]


@dataclass(frozen=True)
class OversubscriptionResult(Result):
    """The same CPU-bound tasks on a pool of ``cores`` workers and on a bigger pool.

    Attributes:
        usable_cores: the cores the pools could use.
        n_workers: the pool sizes, e.g. ``(2, 8)`` (only ``(cores,)`` when the machine has
            more cores than the lesson starts processes).
        n_tasks: tasks each pool ran (the same work each time).
        totals_s: per pool size, the wall-clock time of every repeat (pool already running).
        task_times_s: per pool size, the mean start-to-end time of one task, per repeat.
        startup_s: per pool size, the time to start the pool and see every worker, per repeat.
        load: what other programs took meanwhile (``None`` if unknown).
        start_method: how the workers started.
    """

    usable_cores: int
    n_workers: tuple[int, ...]
    n_tasks: int
    totals_s: tuple[tuple[float, ...], ...]
    task_times_s: tuple[tuple[float, ...], ...]
    startup_s: tuple[tuple[float, ...], ...]
    load: Load | None
    start_method: str

    @property
    def total_s(self) -> tuple[float, ...]:
        """The median wall-clock time of each pool size."""
        return tuple(statistics.median(t) for t in self.totals_s)

    @property
    def task_s(self) -> tuple[float, ...]:
        """The median of the mean start-to-end time of one task, per pool size."""
        return tuple(statistics.median(t) for t in self.task_times_s)

    @property
    def speedup(self) -> float | None:
        """How many times sooner the big pool finished than the pool of ``cores`` workers."""
        if len(self.total_s) < 2 or self.total_s[1] <= 0:
            return None
        return self.total_s[0] / self.total_s[1]

    @property
    def verdict(self) -> Verdict:
        """What the numbers support, with a guard for a speed-up the cores cannot give."""
        if self.speedup is None:
            return "cannot oversubscribe"
        if self.speedup < 1.2:
            return "no speed-up"
        if self.load is not None and self.load.busy:
            return "faster under load"
        return "implausible"

    def summary(self) -> str:
        cores = self.usable_cores
        if self.verdict == "cannot oversubscribe":
            return (
                f"Your {cores} usable cores are more than this demo starts processes for (at "
                f"most {OVERSUBSCRIBE_MAX_PROCESSES}), so it did not run: it needs more workers "
                f"than cores."
            )
        small, big = self.n_workers
        t_small, t_big = self.total_s
        task_small, task_big = self.task_s
        ratio = self.speedup or 0.0
        head = (
            f"{big} workers finished the same {self.n_tasks} tasks in {t_big:.2f} s, "
            f"{small} workers in {t_small:.2f} s (median of {len(self.totals_s[0])} runs, "
            f"pools already started)"
        )
        if self.verdict == "no speed-up":
            text = (
                f"{head}: no speed-up ({ratio:.2f}x), because {big} CPU-bound workers only "
                f"take turns on {cores} cores."
            )
        elif self.verdict == "faster under load":
            text = (
                f"{head}: {ratio:.1f}x sooner, because other programs were using the cores "
                f"too, and more processes win a bigger share of them. On a quiet machine "
                f"expect about the same time."
            )
        else:
            text = (
                f"{head}: {ratio:.1f}x sooner, which more workers on the same {cores} cores "
                f"cannot explain: treat it as noise and run it again."
            )
        text += (
            f" Each task took {task_big / task_small:.1f}x as long from its start to its end "
            f"({task_small * 1e3:.0f} ms with {small} workers, {task_big * 1e3:.0f} ms with "
            f"{big}). Starting a pool took {statistics.median(self.startup_s[0]):.2f} s and "
            f"{statistics.median(self.startup_s[1]):.2f} s, not counted above."
        )
        if self.load is not None and self.load.describe():
            text += " " + self.load.describe()
        return text


def _run_pool(
    ctx: multiprocessing.context.BaseContext,
    n_workers: int,
    units: int,
    n_tasks: int,
    timeout_s: float,
) -> tuple[float, float, float]:
    """Start a pool, wait until every worker answers, then time the tasks.

    Returns ``(start-up s, wall-clock s of the tasks, mean start-to-end s of one task)``.
    """
    begin = time.perf_counter()
    pool = ctx.Pool(n_workers)
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + timeout_s
        while len(seen) < n_workers and time.monotonic() < deadline:
            naps = pool.map_async(pid_after_nap, [0.01] * n_workers, chunksize=1)
            seen.update(naps.get(timeout=max(0.1, deadline - time.monotonic())))
        startup = time.perf_counter() - begin
        start = time.perf_counter()
        times = pool.map_async(timed_cpu_bound, [units] * n_tasks, chunksize=1).get(timeout_s)
        total = time.perf_counter() - start
    finally:
        stop_pool(pool)
    return startup, total, statistics.fmean(times)


def oversubscription(
    *,
    task_s: float = 0.05,
    repeats: int = 3,
    start_method: StartMethodName | None = None,
    timeout_s: float = 60.0,
) -> OversubscriptionResult:
    """Run the same CPU-bound tasks on ``usable_cores()`` workers, then on four times as many.

    Both pools get :func:`oversubscribed_workers` tasks of about ``task_s`` seconds of CPU
    each, so the pool of ``cores`` workers runs them in whole rounds. Each pool is started
    and warmed up (every worker has answered) before the clock starts, so start-up is
    reported apart. The two pool sizes take turns (ABBA) over ``repeats`` runs and the
    medians are compared; only one pool is alive at a time, so memory stays small.

    Introduced in ``08-common-problems.ipynb``.
    """
    task_s = check_number(task_s, "task_s", low=0.005, high=1.0, unit=" seconds")
    repeats = check_whole(repeats, "repeats", low=1, high=9)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    cores = usable_cores()
    big = oversubscribed_workers(cores)
    if big == cores:
        return OversubscriptionResult(cores, (cores,), 0, (), (), (), None, method)
    sizes = (cores, big)
    ctx = get_context(method)
    units = max(calibrate(cpu_bound, task_s), calibrate(cpu_bound, task_s))  # less disturbed
    runs: dict[int, list[tuple[float, float, float]]] = {n: [] for n in sizes}
    with measure_load(cores) as meter:
        for r in range(repeats):
            for n in sizes if r % 2 == 0 else sizes[::-1]:
                runs[n].append(_run_pool(ctx, n, units, big, timeout_s))
    gc.collect()  # a pool's semaphores are freed only when its objects are collected
    return OversubscriptionResult(
        usable_cores=cores,
        n_workers=sizes,
        n_tasks=big,
        totals_s=tuple(tuple(t for _, t, _ in runs[n]) for n in sizes),
        task_times_s=tuple(tuple(m for _, _, m in runs[n]) for n in sizes),
        startup_s=tuple(tuple(s for s, _, _ in runs[n]) for n in sizes),
        load=meter.load,
        start_method=method,
    )
