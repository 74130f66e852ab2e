"""Which work do threads speed up? Threads against processes, and four kinds of work.

* :func:`threads_vs_processes`: the lesson's headline. The same pure-Python work on one
  worker, split over N threads and over N processes, timed in interleaved repeats with the
  scaling engine (:func:`~concurrency_lab.scaling.measure_scaling`). With the GIL on, expect
  threads near 1x and processes near N (on N free cores).
* :func:`measure_thread_scaling`: N threads on four kinds of work, interleaved: pure-Python
  arithmetic (holds the GIL), SHA-256 and zlib in C (release it), and waiting (releases it).

Both results say in one line what happened, and ask for a rerun instead of concluding when the
repeats disagree or the numbers contradict what the machine makes possible (see
:mod:`concurrency_lab.scaling.results`).

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..core.load import Load, measure_load
from ..core.machine import gil_enabled, usable_cores
from ..core.results import Result
from ..core.validate import check_n_workers, check_number, check_timeout, check_whole
from ..core.workloads import cpu_bound, gil_releasing, io_wait, zlib_compress
from ..scaling.maths import split_work
from ..scaling.pools import pool, timed_batch
from ..scaling.results import HOLDS_THE_GIL, ScalingPoint, ScalingResult, plural
from ..scaling.sweep import measure_scaling, size_work

__all__ = [
    "THREAD_WORKLOADS",
    "ThreadScalingResult",
    "ThreadsVsProcessesResult",
    "default_workers",
    "measure_thread_scaling",
    "threads_vs_processes",
]


def default_workers() -> int:
    """The worker count lesson 02 compares: the usable cores, at least 2, at most 4."""
    return max(2, min(usable_cores(), 4))


@dataclass(frozen=True)
class ThreadsVsProcessesResult(Result):
    """Pure-Python work on N threads and on N processes, each against one worker.

    Attributes:
        n_workers: N.
        scaling: the measurement (one point per kind at N workers).
    """

    n_workers: int
    scaling: ScalingResult

    @property
    def threads(self) -> ScalingPoint:
        """The N-threads point."""
        return self.scaling.point("thread", self.n_workers)

    @property
    def processes(self) -> ScalingPoint:
        """The N-processes point."""
        return self.scaling.point("process", self.n_workers)

    @property
    def outcome(self) -> Literal["as expected", "flagged"]:
        """``"as expected"`` when both points agree with what this machine makes possible
        (with the GIL and 2+ cores: threads no gain, processes faster), else ``"flagged"``."""
        points = (self.threads, self.processes)
        if all(self.scaling.status(p) == "as expected" for p in points):
            return "as expected"
        return "flagged"

    def summary(self) -> str:
        sc = self.scaling
        t, p = self.threads, self.processes
        n = self.n_workers
        head = f"With {n} workers on your {plural('usable core', sc.usable_cores)}"
        load = f" {sc.load.describe()}" if sc.load is not None and sc.load.describe() else ""
        if self.outcome == "flagged":
            return (
                f"{head}: {sc.verdict(t)}; {sc.verdict(p)}. No conclusion this time: rerun.{load}"
            )
        if sc.usable_cores < 2:
            return (
                f"{head}: threads {t.speedup:.2f}x, processes {p.speedup:.2f}x. One core runs "
                f"one worker at a time, so neither can speed up CPU work here; on 2 or more "
                f"cores processes would.{load}"
            )
        if sc.gil:
            return (
                f"{head}: threads {t.speedup:.2f}x (no gain: one thread at a time held the "
                f"GIL), processes {p.speedup:.2f}x (each has its own interpreter and GIL)."
                f"{load}"
            )
        return (
            f"{head}: threads {t.speedup:.2f}x and processes {p.speedup:.2f}x. Your "
            f"interpreter runs without the GIL, so threads ran Python on several cores too."
            f"{load}"
        )


def threads_vs_processes(
    n_workers: int | None = None,
    *,
    work_s: float = 0.4,
    repeats: int = 5,
    start_method: str | None = None,
) -> ThreadsVsProcessesResult:
    """Pure-Python work (``cl.cpu_bound``) split over N threads and over N processes.

    Introduced in ``02-the-gil.ipynb``.

    Calls :func:`~concurrency_lab.scaling.measure_scaling` with both kinds at N workers: each
    repeat times the work on one worker, then on the warm thread and process pools in turn,
    so every speedup compares runs taken moments apart. About ``(2 + 2/N) * work_s`` seconds
    per repeat.

    Args:
        n_workers: N; default :func:`default_workers` (your cores, 2 to 4).
        work_s: the 1-worker time of the work, in seconds.
        repeats: interleaved repeats (medians are reported, the spread is plotted).
        start_method: for the processes (``None``: the default).

    Returns:
        A :class:`ThreadsVsProcessesResult`; ``print`` it for the verdict.
    """
    n = default_workers() if n_workers is None else check_n_workers(n_workers, "process")
    work_s = check_number(work_s, "work_s", low=0, high=10, low_open=True, unit=" seconds")
    result = measure_scaling(
        cpu_bound,
        kinds=("thread", "process"),
        n_workers=(n,),
        work_s=work_s,
        repeats=repeats,
        start_method=start_method,
    )
    return ThreadsVsProcessesResult(n, result)


#: The kinds of work :func:`measure_thread_scaling` compares, by label.
THREAD_WORKLOADS: dict[str, Callable[[int], Any]] = {
    "pure Python": cpu_bound,
    "sha256 (C)": gil_releasing,
    "zlib (C)": zlib_compress,
    "waiting (I/O)": io_wait,
}


@dataclass(frozen=True)
class ThreadScalingResult(Result):
    """Thread speedups for several kinds of work, measured in interleaved repeats.

    Attributes:
        n_threads: how many threads shared each workload.
        labels: the kinds of work, e.g. ``"pure Python"``.
        results: one thread-only :class:`~concurrency_lab.scaling.ScalingResult` per label.
        load: how busy other programs kept the machine meanwhile.
    """

    n_threads: int
    labels: tuple[str, ...]
    results: tuple[ScalingResult, ...]
    load: Load | None = None

    @property
    def speedups(self) -> tuple[float, ...]:
        """The median speedup with ``n_threads`` threads, per label."""
        return tuple(r.speedup("thread", self.n_threads) for r in self.results)

    def holds_gil(self, label: str) -> bool:
        """Whether that kind of work holds the GIL while it runs."""
        return self.results[self.labels.index(label)].workload in HOLDS_THE_GIL

    @property
    def outcome(self) -> Literal["as expected", "flagged"]:
        """``"as expected"`` when every bar agrees with what the machine makes possible."""
        ok = all(r.status(r.point("thread", self.n_threads)) == "as expected" for r in self.results)
        return "as expected" if ok else "flagged"

    def summary(self) -> str:
        parts = []
        for label, r in zip(self.labels, self.results):
            parts.append(r.verdict(r.point("thread", self.n_threads), subject=label))
        text = f"With {self.n_threads} threads: " + "; ".join(parts) + "."
        if self.outcome == "flagged":
            text += " Rerun to conclude."
        elif self.results and self.results[0].gil:
            text += (
                " Only the work that releases the GIL (C code, waiting) ran in several threads "
                "at once."
            )
        if self.load is not None and self.load.describe():
            text += f" {self.load.describe()}"
        notes = {note for r in self.results for note in r.notes}
        for note in sorted(notes):
            text += f" Note: {note}"
        return text


def measure_thread_scaling(
    n_threads: int | None = None,
    *,
    work_s: float = 0.1,
    repeats: int = 5,
    timeout_s: float = 60.0,
) -> ThreadScalingResult:
    """How much faster ``n_threads`` threads make each kind of work: CPU, C without the GIL, I/O.

    Each workload is sized to about ``work_s`` on one thread here (at least 10 units per
    thread). Each repeat times, for every workload in turn (the order rotates), the work on
    one thread and then split over ``n_threads`` on a warm pool. Introduced in
    ``02-the-gil.ipynb``.

    >>> r = measure_thread_scaling(2, work_s=0.02, repeats=1)
    >>> r.labels[0], len(r.speedups)
    ('pure Python', 4)

    Raises:
        TypeError, ValueError: bad arguments.
        WorkerError, WorkerTimeoutError: a task failed or took too long.
    """
    n = default_workers() if n_threads is None else check_n_workers(n_threads, "thread")
    work_s = check_number(work_s, "work_s", low=0, high=10, low_open=True, unit=" seconds")
    repeats = check_whole(repeats, "repeats", low=1)
    timeout_s = check_timeout(timeout_s)
    labels = tuple(THREAD_WORKLOADS)
    units = {label: size_work(fn, (n,), work_s) for label, fn in THREAD_WORKLOADS.items()}
    base: dict[str, list[float]] = {label: [] for label in labels}
    runs: dict[str, list[float]] = {label: [] for label in labels}
    with measure_load() as meter, pool("thread", 1, None) as one, pool("thread", n, None) as ex:
        for fn in THREAD_WORKLOADS.values():  # warm up both pools, every workload
            timed_batch(one, fn, 0, [1], timeout_s, "warm-up")
            timed_batch(ex, fn, 0, [1] * n, timeout_s, "warm-up")
        for r in range(repeats):
            for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
                fn = THREAD_WORKLOADS[label]
                base[label].append(timed_batch(one, fn, 0, [units[label]], timeout_s, label))
                chunks = split_work(units[label], n)
                runs[label].append(timed_batch(ex, fn, 0, chunks, timeout_s, label))
    results = tuple(
        ScalingResult(
            workload=THREAD_WORKLOADS[label].__name__,
            total_work=units[label],
            serial_fraction=0.0,
            start_method=None,
            usable_cores=usable_cores(),
            repeats=repeats,
            points=(ScalingPoint("thread", n, tuple(runs[label]), tuple(base[label]), 0.0),),
            gil=gil_enabled(),
        )
        for label in labels
    )
    return ThreadScalingResult(n, labels, results, meter.load)
