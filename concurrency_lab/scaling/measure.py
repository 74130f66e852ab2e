"""How much faster does it get with more workers? Strong-scaling sweeps, speedup and Amdahl's law.

A *strong-scaling* sweep keeps the total amount of work fixed and splits it over
1, 2, 3, ... workers. If N workers finish in 1/N of the time, the *speedup* is N
and the *efficiency* (speedup per worker) is 100 %. Threads running pure-Python
code stay near 1x (the GIL lets one run at a time); processes climb until they
run out of cores, then flatten or dip.

How :func:`measure_scaling` keeps the numbers honest:

* Each configuration is timed right after its own serial baseline (the same
  total work in one worker thread), and the speedup is their ratio: a machine
  whose speed drifts from second to second then still gives fair ratios.
  Repeats are summarised by their median, and their spread is kept.
* Pools are created once per point and warmed up first: process start-up is
  measured separately (``cold_s``), not mixed into the curve.
* Every wait is bounded, and pools are shut down (processes terminated on an
  error or an interrupt).

Amdahl's law (:func:`amdahl_speedup`, :func:`fit_amdahl`) says how far a
program can scale when part of it runs serially.

Introduced in ``03-core-scaling.ipynb`` (and used in ``02-the-gil.ipynb``).
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from statistics import median
from typing import Any

from ..core.children import stop_processes
from ..core.errors import WorkerCrashedError, WorkerError, WorkerTimeoutError
from ..core.machine import check_start_method, get_context, usable_cores
from ..core.validate import (
    check_callable,
    check_can_send,
    check_kind,
    check_n_workers,
    check_timeout,
)
from ..core.workloads import IO_UNIT_S, calibrate, cpu_bound, gil_releasing, io_wait, spin

__all__ = [
    "SCALING_WORKLOADS",
    "ArgumentCost",
    "GranularityResult",
    "PoolStartup",
    "ScalingPoint",
    "ScalingResult",
    "amdahl_speedup",
    "efficiency",
    "fit_amdahl",
    "measure_argument_cost",
    "measure_granularity",
    "measure_pool_startup",
    "measure_scaling",
    "scaling_experiment",
    "speedup",
    "split_work",
    "worker_counts",
]


# --------------------------------------------------------------------------- workloads


def _spin_many(sizes: Sequence[int]) -> list[int]:
    return [spin(s) for s in sizes]


def _echo_size(data: bytes) -> int:
    return len(data)


def _noop_task(_: int = 0) -> int:
    return 0


# --------------------------------------------------------------------------- pure maths


def speedup(serial_s: float, parallel_s: float) -> float:
    """How many times faster the parallel run was: ``serial_s / parallel_s``.

    Introduced in ``03-core-scaling.ipynb``.

    >>> speedup(2.0, 0.5)
    4.0

    Raises:
        ValueError: a time is not positive.
    """
    for name, value in (("serial_s", serial_s), ("parallel_s", parallel_s)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
            raise ValueError(f"'{name}' must be a positive number of seconds (got {value!r}).")
    return serial_s / parallel_s


def efficiency(speedup_: float, n_workers: int) -> float:
    """Speedup per worker: 1.0 means every worker was fully used.

    Introduced in ``03-core-scaling.ipynb``.

    >>> efficiency(3.0, 4)
    0.75

    Raises:
        ValueError: ``n_workers`` < 1.
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"'n_workers' must be a whole number >= 1 (got {n_workers!r}).")
    return speedup_ / n_workers


def _check_fraction(serial_fraction: object) -> float:
    if (
        isinstance(serial_fraction, bool)
        or not isinstance(serial_fraction, (int, float))
        or not 0 <= serial_fraction <= 1
    ):
        raise ValueError(
            f"'serial_fraction' must be a number from 0 to 1, e.g. 0.1 for 10 % "
            f"(got {serial_fraction!r})."
        )
    return float(serial_fraction)


def amdahl_speedup(n_workers: int, *, serial_fraction: float) -> float:
    """The speedup Amdahl's law predicts on ``n_workers`` with a serial share of the work.

    Introduced in ``03-core-scaling.ipynb``.

    ``1 / (s + (1 - s) / n)``: the serial part takes as long as ever, only the
    rest is divided. However many workers, the speedup stays below ``1 / s``.

    >>> amdahl_speedup(4, serial_fraction=0.0)
    4.0
    >>> round(amdahl_speedup(4, serial_fraction=0.1), 3)
    3.077
    >>> amdahl_speedup(1_000_000, serial_fraction=0.5) < 2
    True

    Raises:
        ValueError: ``n_workers`` < 1 or ``serial_fraction`` outside 0..1.
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"'n_workers' must be a whole number >= 1 (got {n_workers!r}).")
    s = _check_fraction(serial_fraction)
    return 1.0 / (s + (1.0 - s) / n_workers)


def fit_amdahl(n_workers: Sequence[int], speedups: Sequence[float]) -> float:
    """The serial fraction whose Amdahl curve best fits measured speedups (least squares).

    Introduced in ``03-core-scaling.ipynb``.

    Finds ``s`` in 0..1 minimising ``sum((speedup_i - amdahl_speedup(n_i, s))**2)``.
    Points with one worker carry no information (the speedup is 1 whatever ``s``);
    a measured speedup above ``n`` gives ``s = 0``.

    >>> ns = [1, 2, 4, 8]
    >>> curve = [amdahl_speedup(n, serial_fraction=0.2) for n in ns]
    >>> round(fit_amdahl(ns, curve), 4)
    0.2

    Raises:
        ValueError: lengths differ, a speedup is not positive, or no point has
            ``n_workers >= 2``.
    """
    ns = [int(n) for n in n_workers]
    ss = [float(x) for x in speedups]
    if len(ns) != len(ss):
        raise ValueError(
            f"'n_workers' and 'speedups' must have the same length (got {len(ns)} and {len(ss)})."
        )
    if any(n < 1 for n in ns):
        raise ValueError(f"every n_workers must be >= 1 (got {ns}).")
    if any(not (x > 0 and math.isfinite(x)) for x in ss):
        raise ValueError(f"every speedup must be a positive number (got {ss}).")
    if not any(n >= 2 for n in ns):
        raise ValueError(
            "fitting Amdahl's law needs at least one point with n_workers >= 2 "
            f"(got n_workers={ns})."
        )

    def cost(s: float) -> float:
        return sum((x - 1.0 / (s + (1.0 - s) / n)) ** 2 for n, x in zip(ns, ss))

    # A coarse grid finds the right valley, golden-section search polishes it.
    grid = [i / 200 for i in range(201)]
    best = min(grid, key=cost)
    lo, hi = max(0.0, best - 0.005), min(1.0, best + 0.005)
    g = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if cost(a) <= cost(b):
            hi = b
        else:
            lo = a
    s = (lo + hi) / 2
    return s if cost(s) <= cost(best) else best


def split_work(total_work: int, n_workers: int) -> tuple[int, ...]:
    """Split ``total_work`` units into ``n_workers`` chunks as even as possible.

    Introduced in ``03-core-scaling.ipynb``.

    >>> split_work(10, 3)
    (4, 3, 3)
    >>> sum(split_work(1001, 7))
    1001

    Raises:
        ValueError: ``total_work`` < 0 or ``n_workers`` < 1.
    """
    if isinstance(total_work, bool) or not isinstance(total_work, int) or total_work < 0:
        raise ValueError(f"'total_work' must be a whole number >= 0 (got {total_work!r}).")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"'n_workers' must be a whole number >= 1 (got {n_workers!r}).")
    base, extra = divmod(total_work, n_workers)
    return tuple(base + (1 if i < extra else 0) for i in range(n_workers))


def worker_counts(max_workers: int, *, max_points: int = 8) -> tuple[int, ...]:
    """Worker counts worth measuring up to ``max_workers``: all of them when few, else a spread.

    Introduced in ``03-core-scaling.ipynb``.

    The usable core count is always included when it is in range, since that is
    where the curve should bend.

    >>> worker_counts(4)
    (1, 2, 3, 4)
    >>> len(worker_counts(128)) <= 9
    True
    """
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ValueError(f"'max_workers' must be a whole number >= 1 (got {max_workers!r}).")
    if max_workers <= max_points:
        return tuple(range(1, max_workers + 1))
    ratio = max_workers ** (1 / (max_points - 1))
    counts = {1, max_workers}
    counts.update(max(1, round(ratio**i)) for i in range(max_points))
    cores = usable_cores()
    if cores <= max_workers:
        counts.add(cores)
    return tuple(sorted(counts))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ScalingPoint:
    """One configuration of a sweep: ``kind`` with ``n_workers``, timed ``repeats`` times.

    Attributes:
        kind: ``"thread"`` or ``"process"``.
        n_workers: how many workers shared the work.
        elapsed_s: seconds for the whole work, one per repeat (warm pool).
        baseline_s: the serial baseline timed just before each repeat.
        cold_s: the first run on a freshly created pool, start-up included
            (not part of the medians).
    """

    kind: str
    n_workers: int
    elapsed_s: tuple[float, ...]
    baseline_s: tuple[float, ...]
    cold_s: float

    @property
    def speedups(self) -> tuple[float, ...]:
        """Each repeat's speedup over the baseline timed just before it."""
        return tuple(b / e for b, e in zip(self.baseline_s, self.elapsed_s))

    @property
    def speedup(self) -> float:
        """The median speedup over the repeats."""
        return median(self.speedups)

    @property
    def speedup_range(self) -> tuple[float, float]:
        """The lowest and highest speedup over the repeats (the spread)."""
        return min(self.speedups), max(self.speedups)

    @property
    def efficiency(self) -> float:
        """Median speedup per worker (1.0 = every worker fully used)."""
        return self.speedup / self.n_workers

    @property
    def noisy(self) -> bool:
        """True when the repeats disagree too much for the median to mean much.

        That is when the highest repeat is over 1.3 times the lowest, or when the
        repeats fall on both sides of 1x while the median claims a clear gain or
        loss (more than 10 % away from 1x).
        """
        lo, hi = self.speedup_range
        if hi > 1.3 * lo:
            return True
        return lo < 1.0 < hi and abs(self.speedup - 1.0) > 0.1

    def describe(self) -> str:
        """E.g. ``'2 threads 1.0x (repeats 0.95x to 1.05x)'``, computed from the repeats."""
        lo, hi = self.speedup_range
        text = f"{_plural(self.kind, self.n_workers)} {self.speedup:.1f}x"
        if len(self.elapsed_s) > 1:
            text += f" (repeats {lo:.2f}x to {hi:.2f}x)"
        return text

    @property
    def median_s(self) -> float:
        """The median elapsed time over the repeats."""
        return median(self.elapsed_s)


@dataclass(frozen=True)
class ScalingResult:
    """A strong-scaling sweep: the same total work split over each worker count.

    Attributes:
        workload: the name of the workload function.
        total_work: work units in total, the same at every point.
        serial_fraction: the share of the work really run serially before the
            parallel part (whole units, so it can differ a little from the share asked for).
        start_method: the process start method used (``None`` if only threads ran).
        usable_cores: :func:`~concurrency_lab.usable_cores` when it ran.
        repeats: timed repeats per point.
        points: one :class:`ScalingPoint` per (kind, n_workers), in the order measured.
        notes: warnings about the set-up, e.g. too little work to split evenly
            (empty when all is well).
    """

    workload: str
    total_work: int
    serial_fraction: float
    start_method: str | None
    usable_cores: int
    repeats: int
    points: tuple[ScalingPoint, ...]
    notes: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds measured, in order."""
        return tuple(dict.fromkeys(p.kind for p in self.points))

    @property
    def n_workers(self) -> tuple[int, ...]:
        """The worker counts measured, ascending."""
        return tuple(sorted({p.n_workers for p in self.points}))

    @property
    def serial_s(self) -> float:
        """The median serial baseline over the whole sweep, in seconds."""
        return median(b for p in self.points for b in p.baseline_s)

    def point(self, kind: str, n_workers: int) -> ScalingPoint:
        """The point for ``kind`` with ``n_workers``.

        Raises:
            KeyError: that configuration was not measured.
        """
        for p in self.points:
            if p.kind == kind and p.n_workers == n_workers:
                return p
        raise KeyError(f"no point for kind={kind!r} with n_workers={n_workers} in this sweep")

    def curve(self, kind: str) -> list[ScalingPoint]:
        """The points of one kind, by worker count."""
        return sorted((p for p in self.points if p.kind == kind), key=lambda p: p.n_workers)

    def speedup(self, kind: str, n_workers: int) -> float:
        """The median speedup of ``kind`` with ``n_workers``."""
        return self.point(kind, n_workers).speedup

    def efficiency(self, kind: str, n_workers: int) -> float:
        """The median efficiency of ``kind`` with ``n_workers``."""
        return self.point(kind, n_workers).efficiency

    def best(self, kind: str) -> ScalingPoint:
        """The point of ``kind`` with the highest median speedup, among those with 2+ workers.

        One worker is the baseline itself (its speedup is 1x up to noise), so it
        is only returned when no point has more workers.
        """
        curve = self.curve(kind)
        parallel = [p for p in curve if p.n_workers >= 2] or curve
        return max(parallel, key=lambda p: p.speedup)

    def at_cores(self, kind: str) -> ScalingPoint:
        """The point of ``kind`` at the usable core count, or the largest one below it."""
        curve = self.curve(kind)
        within = [p for p in curve if p.n_workers <= max(self.usable_cores, 1)]
        return within[-1] if within else curve[0]

    def beyond_cores(self, kind: str = "process") -> str:
        """Sentences, computed from the sweep: the best point, and what more workers than cores did.

        The largest worker count is compared with the point at the usable cores
        (not with the best, which may be the same point); speedups whose repeats
        overlap count as no clear difference.
        """
        best = self.best(kind)
        text = f"Best: {_plural(kind, best.n_workers)}, {best.speedup:.1f}x as fast as one worker."
        last = self.curve(kind)[-1]
        if last.n_workers <= self.usable_cores:
            return text
        ref = self.at_cores(kind)
        (lo, hi), (ref_lo, ref_hi) = last.speedup_range, ref.speedup_range
        head = (
            f"{text} {_plural(kind, last.n_workers)} on "
            f"{_plural('usable core', self.usable_cores)}: {last.speedup:.1f}x"
        )
        with_ref = f"{_plural(kind, ref.n_workers)} ({ref.speedup:.1f}x)"
        if hi < ref_lo:
            return f"{head}, slower than {with_ref}."
        if lo > ref_hi:
            return f"{head}, faster than {with_ref}."
        return f"{head}, against {with_ref}: their repeats overlap, so no clear difference."

    def amdahl_report(self, kind: str = "process") -> str:
        """How the fitted serial share compares with the one built into the work, in words."""
        fit = self.amdahl_fit(kind)
        chosen = self.serial_fraction
        if fit is None:
            return "No point with 2 or more workers within the usable cores: nothing to fit."
        diff = fit - chosen
        head = f"You built in {chosen:.0%} serial work; the fit to your curve says {fit:.0%}"
        if abs(diff) <= 0.05:
            return f"{head}: close, the curve follows Amdahl's law."
        if diff < 0:
            return (
                f"{head}: lower than built in, which the law does not allow for a steady "
                f"machine: noise (look at the error bars), rerun."
            )
        if diff <= 0.15:
            return (
                f"{head}: a little higher, since sending tasks and collecting results is "
                f"serial work too."
            )
        return (
            f"{head}: much higher, so overheads or a busy machine (wide error bars) cost "
            f"more than the serial part itself; rerun, or use more work."
        )

    def amdahl_fit(self, kind: str = "process") -> float | None:
        """The serial fraction fitted to ``kind``'s curve, up to the usable core count.

        Points beyond the cores are left out: there the workers share cores,
        which Amdahl's law does not model. ``None`` when no point in range has
        two or more workers.
        """
        pts = [p for p in self.curve(kind) if p.n_workers <= max(self.usable_cores, 1)]
        if not any(p.n_workers >= 2 for p in pts):
            return None
        return fit_amdahl([p.n_workers for p in pts], [p.speedup for p in pts])

    def conclusion(self) -> str:
        """One sentence, computed from this measurement, comparing the kinds at the core count."""
        in_range = [n for n in self.n_workers if 2 <= n <= self.usable_cores]
        n = max(in_range) if in_range else max(self.n_workers)
        shown = [
            self.point(kind, n)
            for kind in self.kinds
            if any(p.n_workers == n for p in self.curve(kind))
        ]
        parts = [f"with {p.describe()}" for p in shown]
        cores = _plural("usable core", self.usable_cores)
        text = (
            f"On your {cores}, {self.workload} ran this many times as fast as on one worker: "
            + "; ".join(parts)
        )
        top = max(self.n_workers)
        if top > self.usable_cores and top != n:
            beyond = [f"{_plural(k, top)} {self.speedup(k, top):.1f}x" for k in self.kinds]
            text += f" (more workers than cores: {'; '.join(beyond)})"
        text += "."
        noisy = [p for p in shown if p.noisy]
        if noisy:
            text += (
                f" Too noisy to conclude: the repeats of {noisy[0].describe()} disagree, so "
                f"the machine is busy; rerun."
            )
        for note in self.notes:
            text += f" Note: {note}"
        return text

    def __repr__(self) -> str:
        rows = ", ".join(f"{p.kind}x{p.n_workers}: {p.speedup:.2f}x" for p in self.points)
        return (
            f"ScalingResult({self.workload}, total_work={self.total_work}, "
            f"usable_cores={self.usable_cores}, serial {self.serial_s * 1e3:.0f} ms; {rows})"
        )


def _plural(word: str, n: int) -> str:
    """``_plural("process", 2)`` -> ``'2 processes'``."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith("s") else f"{n} {word}s"


# --------------------------------------------------------------------------- pools


def _pool_processes(ex: Any) -> list[Any]:
    # ``_processes`` is private, but it is the only handle on a broken pool's children.
    return list((getattr(ex, "_processes", None) or {}).values())


@contextmanager
def _pool(kind: str, n_workers: int, start_method: str | None) -> Iterator[cf.Executor]:
    """A pool that is always shut down; its processes are terminated if anything went wrong."""
    if kind == "thread":
        ex: cf.Executor = cf.ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="lab")
    else:
        ex = cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=get_context(start_method))
    ok = False
    try:
        yield ex
        ok = True
    finally:
        procs = _pool_processes(ex)
        if ok:
            ex.shutdown(wait=True)
        else:
            ex.shutdown(wait=False, cancel_futures=True)
            stop_processes(procs)


def _wait_all(futures: list[cf.Future[Any]], timeout_s: float, what: str) -> list[Any]:
    _, pending = cf.wait(futures, timeout=timeout_s)
    if pending:
        for f in pending:
            f.cancel()
        raise WorkerTimeoutError(
            f"{len(pending)} of {len(futures)} {what} tasks unfinished after timeout_s="
            f"{timeout_s:g} s; the lab stopped the pool. Use less total_work or a larger "
            f"timeout_s.",
            workers=(what,),
            timeout_s=timeout_s,
        )
    out = []
    for i, f in enumerate(futures):
        try:
            out.append(f.result())
        except cf.process.BrokenProcessPool:
            raise WorkerCrashedError(
                f"a worker process of the {what} pool died while running task {i}; the lab "
                f"shut the pool down.",
                worker=f"task {i}",
                exitcode=None,
            ) from None
        except Exception as exc:
            raise WorkerError(
                f"task {i} on the {what} pool raised {type(exc).__name__}: {exc}",
                worker=f"task {i}",
                exc_type=type(exc).__name__,
            ) from exc
    return out


def _timed_batch(
    ex: cf.Executor,
    workload: Callable[..., Any],
    serial_units: int,
    chunks: Sequence[int],
    timeout_s: float,
    what: str,
) -> float:
    """Run the serial part (one task), then the chunks in parallel; return the seconds taken."""
    start = time.perf_counter()
    if serial_units:
        _wait_all([ex.submit(workload, serial_units)], timeout_s, what)
    _wait_all([ex.submit(workload, c) for c in chunks if c], timeout_s, what)
    return time.perf_counter() - start


# --------------------------------------------------------------------------- the sweep


def _check_repeats(repeats: object) -> int:
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"'repeats' must be a whole number >= 1 (got {repeats!r}).")
    return repeats


def measure_scaling(
    workload: Callable[[int], Any] = cpu_bound,
    *,
    kinds: Sequence[str] = ("thread", "process"),
    n_workers: Sequence[int] | None = None,
    total_work: int | None = None,
    serial_fraction: float = 0.0,
    start_method: str | None = None,
    repeats: int = 3,
    timeout_s: float = 60.0,
    progress: bool | Callable[[int, int], None] = False,
) -> ScalingResult:
    """Split a fixed total of work over each worker count, on threads and/or processes; time it.

    Introduced in ``02-the-gil.ipynb`` and ``03-core-scaling.ipynb``.

    For every worker count ``n`` and kind, a pool of ``n`` workers is created and
    run once cold (its start-up time is kept as ``cold_s``); then, ``repeats``
    times, the serial baseline (all the work as one task in one worker thread)
    is timed, immediately followed by the same work split into ``n`` chunks on
    the warm pool. Speedup = baseline / parallel time, per repeat.

    >>> r = measure_scaling(cpu_bound, kinds=("thread",), n_workers=(1, 2), total_work=4, repeats=1)
    >>> r.n_workers, r.kinds, len(r.points)
    ((1, 2), ('thread',), 2)

    Args:
        workload: a module-level function taking a number of work units, e.g.
            :func:`~concurrency_lab.cpu_bound`, :func:`~concurrency_lab.gil_releasing`
            or :func:`io_wait`.
        kinds: which of ``"thread"`` and ``"process"`` to measure.
        n_workers: the worker counts; default :func:`worker_counts` up to twice
            the usable cores.
        total_work: work units in total; default: calibrated to about 0.1 s here.
        serial_fraction: share of the work (0..1) that runs as one task before the
            rest is split: Amdahl's serial part.
        start_method: for processes: ``"fork"``, ``"spawn"``, ``"forkserver"`` or ``None``.
        repeats: timed repeats per point (medians are reported).
        timeout_s: limit for any one batch of tasks.
        progress: ``True`` for a tqdm progress bar, or a function ``f(done, total)``.

    Returns:
        A :class:`ScalingResult`.

    Raises:
        ValueError, TypeError: bad arguments (nothing was started).
        NotebookFunctionError, UnpicklableError: the workload cannot reach a process.
        WorkerError, WorkerCrashedError, WorkerTimeoutError: a task failed; pools are stopped.
    """
    check_callable(workload, "workload")
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(dict.fromkeys(check_kind(k) for k in kinds))
    if not kinds:
        raise ValueError("'kinds' is empty: give 'thread', 'process' or both.")
    if n_workers is None:
        counts = worker_counts(2 * usable_cores())
    else:
        if isinstance(n_workers, int):
            n_workers = (n_workers,)
        counts = tuple(sorted(set(n_workers)))
        if not counts:
            raise ValueError("'n_workers' is empty: give at least one worker count, e.g. (1, 2).")
    for kind in kinds:
        for n in counts:
            check_n_workers(n, kind)
    fraction = _check_fraction(serial_fraction)
    repeats = _check_repeats(repeats)
    timeout_s = check_timeout(timeout_s)
    method = check_start_method(start_method) if "process" in kinds else None
    if method is not None:
        check_can_send(workload, "workload", method)
    if total_work is None:
        total_work = calibrate(workload, 0.1)
    if isinstance(total_work, bool) or not isinstance(total_work, int) or total_work < 1:
        raise ValueError(f"'total_work' must be a whole number of units >= 1 (got {total_work!r}).")
    serial_units = round(total_work * fraction)
    parallel_units = total_work - serial_units
    notes = _setup_notes(total_work, serial_units, fraction, counts)

    steps = len(counts) * len(kinds) * (repeats + 1)
    bar, report = _progress(progress, steps)
    done = 0
    points: list[ScalingPoint] = []
    name = getattr(workload, "__name__", type(workload).__name__)
    try:
        # The baseline runs in a worker thread too: the main thread can be slower or
        # faster (different heap, page faults), which would bias every ratio.
        with _pool("thread", 1, None) as serial_pool:
            _timed_batch(serial_pool, workload, 0, [min(total_work, 1)], timeout_s, "baseline")
            for n in counts:
                chunks = split_work(parallel_units, n)
                for kind in kinds:
                    what = f"{kind} x{n}"
                    with _pool(kind, n, method) as ex:
                        cold = _timed_batch(ex, workload, serial_units, chunks, timeout_s, what)
                        done += 1
                        report(done)
                        base: list[float] = []
                        runs: list[float] = []
                        for _ in range(repeats):
                            base.append(
                                _timed_batch(
                                    serial_pool, workload, 0, [total_work], timeout_s, "baseline"
                                )
                            )
                            runs.append(
                                _timed_batch(ex, workload, serial_units, chunks, timeout_s, what)
                            )
                            done += 1
                            report(done)
                    points.append(ScalingPoint(kind, n, tuple(runs), tuple(base), cold))
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
        points=tuple(points),
        notes=notes,
    )


def _setup_notes(
    total_work: int, serial_units: int, fraction: float, counts: Sequence[int]
) -> tuple[str, ...]:
    """Warnings about a sweep's set-up that make its numbers hard to read.

    >>> _setup_notes(3, 1, 0.3, (1, 2))[0][:44]
    'only 2 work units to split over up to 2 work'
    >>> _setup_notes(100, 30, 0.3, (1, 2))
    ()
    """
    notes = []
    parallel = total_work - serial_units
    top = max(counts)
    if parallel < 10 * top:
        notes.append(
            f"only {parallel} work units to split over up to {top} workers, so the chunks "
            f"differ by a whole unit (e.g. {split_work(parallel, top)[:4]}) and the split "
            f"cannot be even; use total_work >= {10 * top + serial_units} (10 units per worker)."
        )
    real = serial_units / total_work
    if abs(real - fraction) > 0.005:
        notes.append(
            f"serial_fraction={fraction:g} became {serial_units} of {total_work} whole units, "
            f"a real serial share of {real:.1%}."
        )
    return tuple(notes)


def _progress(progress: bool | Callable[[int, int], None], total: int) -> tuple[Any, Any]:
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


#: The workloads the scaling explorer offers: key -> (label, function).
SCALING_WORKLOADS: dict[str, tuple[str, Callable[[int], Any]]] = {
    "cpu": ("pure-Python CPU", cpu_bound),
    "c": ("GIL-releasing C (sha256)", gil_releasing),
    "io": ("I/O (waiting)", io_wait),
}
_units_cache: dict[tuple[str, float], int] = {}


def scaling_experiment(
    *,
    workload: str = "cpu",
    max_workers: int | None = None,
    kinds: Sequence[str] = ("thread", "process"),
    start_method: str | None = None,
    size_s: float = 0.05,
    repeats: int = 3,
    progress: bool | Callable[[int, int], None] = False,
) -> ScalingResult:
    """The sweep behind :func:`concurrency_lab.scaling_explorer`, callable without widgets.

    Sizes the work to take about ``size_s`` serially here (measured once per
    workload and size, then remembered), and sweeps :func:`worker_counts` up to
    ``max_workers`` (default: the usable cores, at least 2).

    >>> r = scaling_experiment(workload="io", max_workers=2, kinds=("thread",), size_s=0.01,
    ...                        repeats=1)
    >>> r.n_workers
    (1, 2)

    Args:
        workload: ``"cpu"``, ``"c"`` (GIL-releasing C) or ``"io"``.
        max_workers: the largest worker count in the sweep.
        kinds, start_method, repeats, progress: as for :func:`measure_scaling`.
        size_s: about how long all the work takes on one worker, in seconds.

    Raises:
        ValueError: unknown workload, or a bad size.
    """
    if workload not in SCALING_WORKLOADS:
        raise ValueError(
            f"'workload' must be one of {', '.join(map(repr, SCALING_WORKLOADS))} "
            f"(got {workload!r})."
        )
    if isinstance(size_s, bool) or not isinstance(size_s, (int, float)) or not 0 < size_s <= 10:
        raise ValueError(f"'size_s' must be above 0 and at most 10 seconds (got {size_s!r}).")
    fn = SCALING_WORKLOADS[workload][1]
    if workload == "io":
        units = max(1, round(size_s / IO_UNIT_S))
    else:
        key = (workload, float(size_s))
        if key not in _units_cache:
            _units_cache[key] = calibrate(fn, size_s)
        units = _units_cache[key]
    if max_workers is None:
        max_workers = max(2, usable_cores())
    return measure_scaling(
        fn,
        kinds=kinds,
        n_workers=worker_counts(max_workers),
        total_work=units,
        start_method=start_method,
        repeats=repeats,
        progress=progress,
    )


# --------------------------------------------------------------------------- overheads


@dataclass(frozen=True)
class PoolStartup:
    """Cold versus warm: one batch of tiny tasks on a new pool, then on the same pool again.

    Attributes:
        kind, n_workers, start_method: the pool.
        cold_s: per repeat, seconds to create the pool and finish ``n_workers`` tiny tasks.
        warm_s: per repeat, seconds for the same tasks on the pool once it is running.
    """

    kind: str
    n_workers: int
    start_method: str | None
    cold_s: tuple[float, ...]
    warm_s: tuple[float, ...]

    @property
    def cold_median_s(self) -> float:
        """Median cold time, in seconds."""
        return median(self.cold_s)

    @property
    def warm_median_s(self) -> float:
        """Median warm time, in seconds."""
        return median(self.warm_s)

    @property
    def ratio(self) -> float:
        """How many times longer the cold batch took than the warm one."""
        return self.cold_median_s / self.warm_median_s


def measure_pool_startup(
    *,
    kind: str = "process",
    n_workers: int = 2,
    start_method: str | None = None,
    repeats: int = 3,
    timeout_s: float = 60.0,
) -> PoolStartup:
    """Time a batch of tiny tasks on a brand-new pool (cold) and on the same pool again (warm).

    Introduced in ``03-core-scaling.ipynb``.

    >>> r = measure_pool_startup(kind="thread", n_workers=2, repeats=1)
    >>> len(r.cold_s), len(r.warm_s)
    (1, 1)
    """
    kind = check_kind(kind)
    n_workers = check_n_workers(n_workers, kind)
    repeats = _check_repeats(repeats)
    timeout_s = check_timeout(timeout_s)
    method = check_start_method(start_method) if kind == "process" else None
    cold, warm = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        with _pool(kind, n_workers, method) as ex:
            _wait_all([ex.submit(_noop_task) for _ in range(n_workers)], timeout_s, "startup")
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            _wait_all([ex.submit(_noop_task) for _ in range(n_workers)], timeout_s, "startup")
            warm.append(time.perf_counter() - start)
    return PoolStartup(kind, n_workers, method, tuple(cold), tuple(warm))


@dataclass(frozen=True)
class GranularityResult:
    """The same total work cut into tasks of different sizes, run on a warm process pool.

    Attributes:
        total_iterations: loop iterations of :func:`spin` in total, the same in every row.
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
                    f"{n} tasks in chunks of {self.chunksize} make {_plural('message', m)} for "
                    f"{self.n_workers} workers: {_plural('worker', idle)} had nothing to do."
                )
        return tuple(notes)

    def table(self) -> str:
        """The rows as a small text table."""
        lines = [f"{'iterations/task':>16} {'tasks':>7} {'messages':>9} {'time':>9} {'speedup':>8}"]
        rows = zip(self.task_sizes, self.n_tasks, self.n_messages, self.elapsed_s, self.speedups)
        for size, n, m, t, s in rows:
            lines.append(f"{size:>16,} {n:>7,} {m:>9,} {t * 1e3:>7.1f}ms {s:>7.2f}x")
        return "\n".join(lines)


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
    """Time the same total of :func:`spin` work cut into many small or few large tasks.

    Introduced in ``03-core-scaling.ipynb``.

    Each task is a message to a worker process and a result back: with tiny
    tasks that overhead dominates. ``chunksize`` > 1 sends several tasks per
    message (like ``Pool.map(..., chunksize=...)``).

    >>> r = measure_granularity(task_sizes=(1000,), total_iterations=2000, repeats=1)
    >>> r.n_tasks
    (2,)
    """
    n_workers = check_n_workers(n_workers, "process")
    repeats = _check_repeats(repeats)
    timeout_s = check_timeout(timeout_s)
    method = check_start_method(start_method)
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError(f"'chunksize' must be a whole number >= 1 (got {chunksize!r}).")
    if (
        isinstance(total_iterations, bool)
        or not isinstance(total_iterations, int)
        or total_iterations < 1
    ):
        raise ValueError(
            f"'total_iterations' must be a whole number >= 1 (got {total_iterations!r})."
        )
    sizes = tuple(task_sizes)
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"'task_sizes' must be whole numbers >= 1 (got {task_sizes!r}).")
    serial = []
    elapsed = []
    ratios = []
    with _pool("thread", 1, None) as one, _pool("process", n_workers, method) as ex:
        _wait_all([ex.submit(spin, 10) for _ in range(n_workers)], timeout_s, "warm-up")
        for size in sizes:
            tasks = [size] * (total_iterations // size)
            if total_iterations % size:
                tasks.append(total_iterations % size)
            groups = [tasks[i : i + chunksize] for i in range(0, len(tasks), chunksize)]
            times, row = [], []
            for _ in range(repeats):
                serial.append(_timed_batch(one, spin, 0, [total_iterations], timeout_s, "serial"))
                start = time.perf_counter()
                _wait_all([ex.submit(_spin_many, g) for g in groups], timeout_s, "granularity")
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


@dataclass(frozen=True)
class ArgumentCost:
    """What it costs to send an argument of each size to a warm worker and get an answer back.

    Attributes:
        sizes_bytes: argument sizes, one per row.
        thread_s: median seconds per call on a thread pool (nothing is copied).
        process_s: median seconds per call on a process pool (pickled, sent, unpickled).
        start_method: the process start method.
    """

    sizes_bytes: tuple[int, ...]
    thread_s: tuple[float, ...]
    process_s: tuple[float, ...]
    start_method: str

    @property
    def process_gb_per_s(self) -> tuple[float, ...]:
        """Bytes sent per second to a process, in GB/s, per row."""
        return tuple(n / t / 1e9 for n, t in zip(self.sizes_bytes, self.process_s))

    def table(self) -> str:
        """The rows as a small text table."""
        lines = [f"{'argument':>10} {'thread':>10} {'process':>10} {'ratio':>8}"]
        for n, t, p in zip(self.sizes_bytes, self.thread_s, self.process_s):
            lines.append(f"{_human(n):>10} {t * 1e3:>8.2f}ms {p * 1e3:>8.2f}ms {p / t:>7.0f}x")
        return "\n".join(lines)


def _human(n: int) -> str:
    """``_human(16 * 1024**2)`` -> ``'16 MiB'``.

    >>> _human(1000), _human(1024), _human(16 * 1024**2)
    ('1000 B', '1 KiB', '16 MiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "B" else f"{n:.0f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def measure_argument_cost(
    *,
    sizes_bytes: Sequence[int] = (1024, 1024**2, 16 * 1024**2),
    start_method: str | None = None,
    repeats: int = 3,
    timeout_s: float = 60.0,
) -> ArgumentCost:
    """Time a call with a ``bytes`` argument of each size, on a warm thread and process pool.

    Introduced in ``03-core-scaling.ipynb``.

    A thread gets a reference to the same object; a process gets a pickled copy
    sent through a pipe. The worker only returns ``len(data)``.

    >>> r = measure_argument_cost(sizes_bytes=(10,), repeats=1)
    >>> r.sizes_bytes
    (10,)
    """
    repeats = _check_repeats(repeats)
    timeout_s = check_timeout(timeout_s)
    method = check_start_method(start_method)
    sizes = tuple(sizes_bytes)
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in sizes):
        raise ValueError(f"'sizes_bytes' must be whole numbers >= 0 (got {sizes_bytes!r}).")
    if max(sizes) > 256_000_000:
        raise ValueError(f"'sizes_bytes' must each be <= 256_000_000 (got {max(sizes)}).")
    thread_s, process_s = [], []
    with _pool("thread", 1, None) as tp, _pool("process", 1, method) as pp:
        _wait_all([pp.submit(_echo_size, b"")], timeout_s, "warm-up")
        for size in sizes:
            data = bytes(size)
            pickle.dumps(data)  # fail here, not in the pool, if something is wrong
            per = {"thread": [], "process": []}  # type: dict[str, list[float]]
            for _ in range(repeats):
                for label, ex in (("thread", tp), ("process", pp)):
                    start = time.perf_counter()
                    _wait_all([ex.submit(_echo_size, data)], timeout_s, "argument")
                    per[label].append(time.perf_counter() - start)
            thread_s.append(median(per["thread"]))
            process_s.append(median(per["process"]))
    return ArgumentCost(sizes, tuple(thread_s), tuple(process_s), method)
