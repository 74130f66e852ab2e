"""Dining philosophers as processes: a deadlock between processes, found by timeouts.

Processes deadlock on ``multiprocessing`` locks just as threads do on ``threading`` locks.
A blocked process cannot report to a registry in the parent, so here each philosopher waits
for its second fork with a *timeout*, then reports what it held and what it waited for;
from those reports the parent builds the same wait-for graph as for threads.

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import queue as queue_module
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..core.children import stop_processes
from ..core.machine import check_start_method, get_context, start_method_label
from ..core.results import Result
from ..core.validate import check_number, check_whole
from .graph import Deadlock, WaitForGraph
from .watchdog import find_deadlock

__all__ = ["ProcessPhilosophersResult", "dining_philosophers_processes"]


@dataclass(frozen=True)
class ProcessPhilosophersResult(Result):
    """Dining philosophers as processes sharing ``multiprocessing`` locks.

    Attributes:
        n: philosopher processes.
        fixed: whether they took their forks in one global order.
        start_method: how the processes were started.
        graph: the wait-for graph built from the reports of those that timed out.
        deadlock: its cycle, or ``None``.
        meals: philosopher -> 1 if it got both forks, else 0.
        timeout_s: how long each waited for its second fork.
        elapsed_s: how long the demo took, start-up included.

    Introduced in ``05-deadlocks.ipynb``.
    """

    n: int
    fixed: bool
    start_method: str
    graph: WaitForGraph
    deadlock: Deadlock | None
    meals: Mapping[str, int]
    timeout_s: float
    elapsed_s: float

    @property
    def deadlocked(self) -> bool:
        return self.deadlock is not None

    def summary(self) -> str:
        head = (
            f"{self.n} philosopher processes ({start_method_label(self.start_method)}, "
            f"{'one global order' if self.fixed else 'left fork first'}): "
        )
        if self.deadlock is not None:
            return (
                head + f"every one gave up after waiting {self.timeout_s:g} s, and their reports "
                f"form a cycle: {'; '.join(str(s) for s in self.deadlock.steps)}."
            )
        ate = sum(self.meals.values())
        return head + f"{ate} of {self.n} ate, and the reports form no cycle."


def _process_philosopher(
    name: str,
    first: Any,
    second: Any,
    first_name: str,
    second_name: str,
    barrier: Any,
    reported: Any,
    results: Any,
    timeout_s: float,
) -> None:
    """A philosopher process: take the first fork, then the second with a timeout; report."""
    if not first.acquire(timeout=10):
        results.put((name, "error", first_name, ""))
        return
    try:
        if barrier is not None:
            barrier.wait(timeout=10)  # everyone now holds one fork
        if second.acquire(timeout=timeout_s):
            second.release()
            results.put((name, "ate", first_name, second_name))
        else:
            results.put((name, "timeout", first_name, second_name))
        if barrier is not None:
            reported.wait(timeout=10)  # keep holding until all have reported
    finally:
        first.release()


def dining_philosophers_processes(
    n: int = 3,
    *,
    fixed: bool = False,
    start_method: str | None = None,
    timeout_s: float = 0.5,
) -> ProcessPhilosophersResult:
    """Dining philosophers as processes sharing ``multiprocessing`` locks; found by timeout.

    Without the fix every philosopher holds its left fork before asking for the right one,
    so all of them time out, and the reports form the full cycle. With ``fixed=True``
    (lower-numbered fork first: one global order) all eat. Works under every start method;
    every child is joined or terminated.

    Args:
        n: number of philosopher processes (2 to 8).
        fixed: take the forks in one global order.
        start_method: ``"fork"``, ``"spawn"``, ``"forkserver"`` or ``None`` (the default).
        timeout_s: how long a philosopher waits for its second fork.

    Raises:
        ValueError, TypeError: an argument out of range, or a start method this platform
            lacks.

    Introduced in ``05-deadlocks.ipynb``.
    """
    n = check_whole(n, "n", low=2, high=8)
    timeout_s = check_number(timeout_s, "timeout_s", low=0, high=60, unit=" seconds", low_open=True)
    method = check_start_method(start_method)
    ctx = get_context(method)
    forks = [ctx.Lock() for _ in range(n)]
    barrier = None if fixed else ctx.Barrier(n)
    reported = ctx.Event()
    results = ctx.Queue()
    procs = []
    reports: dict[str, tuple[str, str, str]] = {}
    t0 = time.monotonic()
    try:
        for i in range(n):
            a, b = i, (i + 1) % n
            if fixed and a > b:
                a, b = b, a
            p = ctx.Process(  # type: ignore[attr-defined]
                target=_process_philosopher,
                args=(
                    f"phil-{i}",
                    forks[a],
                    forks[b],
                    f"fork-{a}",
                    f"fork-{b}",
                    barrier,
                    reported,
                    results,
                    max(timeout_s, 10.0) if fixed else timeout_s,
                ),
                name=f"phil-{i}",
                daemon=True,
            )
            p.start()
            procs.append(p)
        deadline = time.monotonic() + 30 + timeout_s
        while len(reports) < n and time.monotonic() < deadline:
            try:
                name, what, first, second = results.get(timeout=0.1)
            except queue_module.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            reports[name] = (what, first, second)
        reported.set()
        for p in procs:
            p.join(timeout=5)
    finally:
        reported.set()
        stop_processes(procs)
        results.close()
        results.join_thread()
    timed_out = {name: r for name, r in reports.items() if r[0] == "timeout"}
    graph = WaitForGraph(
        holds={name: (first,) for name, (_, first, _) in timed_out.items()},
        waits={name: second for name, (_, _, second) in timed_out.items()},
    )
    meals = {f"phil-{i}": int(reports.get(f"phil-{i}", ("",))[0] == "ate") for i in range(n)}
    return ProcessPhilosophersResult(
        n=n,
        fixed=fixed,
        start_method=method,
        graph=graph,
        deadlock=find_deadlock(graph),
        meals=MappingProxyType(meals),
        timeout_s=timeout_s,
        elapsed_s=time.monotonic() - t0,
    )
