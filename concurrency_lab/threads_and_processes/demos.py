"""Lesson-01 measurements: who sees whose memory, and what starting a worker costs.

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from ..core.children import stop_processes
from ..core.errors import WorkerTimeoutError
from ..core.machine import available_start_methods, check_start_method, get_context
from ..core.runners import start_join
from ..core.workloads import noop

__all__ = ["MemoryDemo", "StartupResult", "measure_startup", "memory_isolation"]

_SHARED_LIST: list[str] = []


def _append_to_shared(worker_label: str) -> int:
    """Append to this process's ``_SHARED_LIST``; return how long the list now looks."""
    _SHARED_LIST.append(worker_label)
    return len(_SHARED_LIST)


@dataclass(frozen=True)
class MemoryDemo:
    """What each side saw when workers appended to a list that lives in the parent.

    Attributes:
        kind, start_method, n_workers: how the workers ran.
        parent_before: length of the parent's list before the workers started.
        seen_by_workers: the list's length each worker saw right after its own append.
        parent_after: length of the parent's list after all workers were joined.
    """

    kind: str
    start_method: str | None
    n_workers: int
    parent_before: int
    seen_by_workers: tuple[int, ...]
    parent_after: int

    @property
    def shared(self) -> bool:
        """True when the workers' appends reached the parent's memory."""
        return self.parent_after - self.parent_before == self.n_workers


def memory_isolation(
    *,
    kind: str = "thread",
    n_workers: int = 2,
    start_method: str | None = None,
    timeout_s: float = 30,
) -> MemoryDemo:
    """Workers each append to a list in the parent's memory; does the parent see it?

    Threads share their process's memory, so the parent sees every append.
    Each process works on its own copy, so the parent's list stays as it was.

    >>> memory_isolation(kind="thread", n_workers=3).parent_after
    3
    """
    _SHARED_LIST.clear()
    before = len(_SHARED_LIST)
    run = start_join(
        _append_to_shared,
        n_workers,
        kind=kind,
        start_method=start_method,
        args=(kind,),
        timeout_s=timeout_s,
    )
    after = len(_SHARED_LIST)
    _SHARED_LIST.clear()
    return MemoryDemo(
        kind=kind,
        start_method=run.start_method,
        n_workers=n_workers,
        parent_before=before,
        seen_by_workers=tuple(run.results),
        parent_after=after,
    )


@dataclass(frozen=True)
class StartupResult:
    """Cost of starting and joining one worker that does nothing, per configuration.

    Attributes:
        labels: e.g. ``("thread", "process (fork)", "process (spawn)")``.
        samples_s: for each label, every measured start+join time in seconds.
    """

    labels: tuple[str, ...]
    samples_s: tuple[tuple[float, ...], ...]

    @property
    def medians_s(self) -> tuple[float, ...]:
        """The median start+join time for each label, in seconds."""
        return tuple(median(s) for s in self.samples_s)

    def ratio(self, label: str, baseline: str = "thread") -> float:
        """How many times slower ``label`` was to start than ``baseline`` (by medians)."""
        m = dict(zip(self.labels, self.medians_s))
        return m[label] / m[baseline]


def measure_startup(
    *, start_methods: Sequence[str] | None = None, repeats: int = 5, timeout_s: float = 60
) -> StartupResult:
    """Time bare ``start()`` + ``join()`` of one thread and one process per start method.

    This measures the plain standard-library objects (not the lab's runners), with
    a no-op target, so the numbers are what any program pays. The first, cold
    start of a forkserver (which launches the server itself) is left out.

    Args:
        start_methods: which process start methods to time; default: all available.
        repeats: timings per configuration (the median is reported).
        timeout_s: limit for any single join.
    """
    methods = tuple(start_methods) if start_methods is not None else available_start_methods()
    for m in methods:
        check_start_method(m)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"'repeats' must be a whole number >= 1 (got {repeats!r}).")
    labels = ["thread"]
    samples: list[tuple[float, ...]] = []
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        t = threading.Thread(target=noop)
        t.start()
        t.join(timeout_s)
        times.append(time.perf_counter() - t0)
    samples.append(tuple(times))
    for method in methods:
        ctx = get_context(method)
        warm = ctx.Process(target=noop)
        warm.start()  # starts the forkserver if needed; not counted
        warm.join(timeout_s)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            p = ctx.Process(target=noop)
            p.start()
            p.join(timeout_s)
            times.append(time.perf_counter() - t0)
            if p.is_alive():
                stop_processes([p])
                raise WorkerTimeoutError(
                    f"a {method} process did not finish within {timeout_s:g} s",
                    workers=(method,),
                    timeout_s=timeout_s,
                )
        labels.append(f"process ({method})")
        samples.append(tuple(times))
    return StartupResult(labels=tuple(labels), samples_s=tuple(samples))
