"""Beyond one machine: the same tasks on a local process pool and on Dask's distributed scheduler.

:func:`dask_overhead` runs, in one helper child process, the same ``client.map`` code that
would run on a real cluster, against a ``LocalCluster`` (scheduler and workers on this
machine, on 127.0.0.1, dashboard off), and the same tasks on a ``ProcessPoolExecutor``. It
measures the start-up, the real work and the cost of each near-empty task on both sides.
If it overruns its timeout, the child and everything it started are killed (on Windows
too). Dask is optional: without it a clear :class:`DaskNotInstalledError` says how to add it
from the course folder.

A ``LocalCluster`` listens on the loopback address without encryption or a password. On a
machine shared with other users (a JupyterHub without separate network namespaces, say),
anyone there could connect to it while it runs and submit tasks, which would run as you.
The lab looks for other users' processes first and, if it finds any, refuses to start the
cluster (:class:`SharedMachineError`) unless you pass ``allow_shared=True``; the result then
says so.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..core.errors import LabError
from ..core.install import install_hint
from ..core.machine import StartMethodName, check_start_method, get_context
from ..core.results import Result
from ..core.validate import check_n_workers, check_number, check_timeout, check_whole
from ..core.workloads import calibrate, cpu_bound
from .scripts import run_child

__all__ = [
    "DaskNotInstalledError",
    "DaskOverheadResult",
    "SharedMachineError",
    "dask_available",
    "dask_in_this_process",
    "dask_overhead",
    "other_users",
]


class DaskNotInstalledError(LabError, ImportError):
    """The optional ``dask`` part of the course is not installed."""


class SharedMachineError(LabError):
    """Other users run programs here, so the lab did not start a password-less Dask cluster."""


def dask_available() -> bool:
    """True if ``dask.distributed`` can be imported here (the optional ``dask`` part).

    >>> dask_available() in (True, False)
    True
    """
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def other_users(
    *, processes: Iterable[Any] | None = None, platform: str = sys.platform
) -> tuple[str, ...]:
    """Names of other people who run programs on this machine (POSIX; needs psutil).

    Counts login accounts only (user ids from 1000 on Linux, 501 on macOS), not the
    system's own (``root``, ``nobody``, daemons). Empty where it cannot tell (Windows, no
    psutil): the lab then assumes a personal machine.

    Args:
        processes: ``psutil.Process``-like objects with ``.uids()`` and ``.username()``
            (default: every process; tests pass fakes).
        platform: ``sys.platform``.
    """
    if platform == "win32" or not hasattr(os, "getuid"):
        return ()
    uid_min = 501 if platform == "darwin" else 1000
    me = os.getuid()
    try:
        import psutil

        procs = psutil.process_iter() if processes is None else processes
        names = set()
        for p in procs:
            try:
                uid = p.uids().real
                if uid >= uid_min and uid != me and uid != 65534:
                    names.add(p.username())
            except Exception:  # gone, or not ours to look at
                continue
    except ImportError:
        return ()
    return tuple(sorted(names))


@dataclass(frozen=True)
class DaskOverheadResult(Result):
    """The same tasks on a local process pool and on a Dask ``LocalCluster``.

    Attributes:
        n_workers: worker processes on each side (one thread each for Dask).
        n_tasks: real tasks, each ``cpu_bound(units)``.
        units: the real tasks' size.
        n_tiny: near-empty tasks, to measure the cost of one task.
        startup_s: ``{"pool": s, "dask": s}``: seconds to get the workers ready.
        work_s: the real tasks' seconds on each side.
        tiny_s: the near-empty tasks' seconds on each side.
        start_method: how the pool started its workers.
        dask_start_method: how Dask started its workers.
        other_users: other people running programs here while the cluster listened.

    Introduced in ``07-choosing-a-model.ipynb``.
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
    other_users: tuple[str, ...] = ()

    def per_task_ms(self, side: str) -> float:
        """Average milliseconds one near-empty task cost on ``side`` (``"pool"``, ``"dask"``)."""
        return 1000 * self.tiny_s[side] / self.n_tiny

    def summary(self) -> str:
        pool, dask = self.per_task_ms("pool"), self.per_task_ms("dask")
        ratio = f" ({dask / pool:.0f} times as much)" if pool > 0 and dask > 1.5 * pool else ""
        text = (
            f"{self.n_workers} worker processes each side. Per near-empty task: process pool "
            f"{pool:.2f} ms, Dask {dask:.2f} ms{ratio}. Start-up: pool "
            f"{self.startup_s['pool']:.2f} s, Dask {self.startup_s['dask']:.2f} s. "
            f"{self.n_tasks} real tasks: pool {self.work_s['pool']:.2f} s, Dask "
            f"{self.work_s['dask']:.2f} s."
        )
        if self.other_users:
            text += (
                f" Other users run programs on this machine ({', '.join(self.other_users)}): "
                f"while the cluster listened on 127.0.0.1 without a password they could have "
                f"sent it tasks."
            )
        return text


def dask_in_this_process(
    n_workers: int, n_tasks: int, units: int, n_tiny: int, start_method: str, timeout_s: float
) -> dict[str, Any]:
    """What the helper child of :func:`dask_overhead` runs; returns plain data.

    The Dask side is the lesson's code: ``client.gather(client.map(work, items))``.
    """
    import dask
    import distributed

    dist: Any = distributed  # untyped: give mypy one Any instead of many untyped calls

    startup, work, tiny = {}, {}, {}
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(n_workers, mp_context=get_context(start_method)) as pool:
        list(pool.map(cpu_bound, [0] * n_workers, timeout=timeout_s))  # start the workers
        startup["pool"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(pool.map(cpu_bound, [units] * n_tasks, timeout=timeout_s))
        work["pool"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(pool.map(cpu_bound, [0] * n_tiny, timeout=timeout_s))
        tiny["pool"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cluster = dist.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    try:
        client = dist.Client(cluster, timeout=timeout_s)
        try:
            client.wait_for_workers(n_workers, timeout=timeout_s)
            client.gather(client.map(cpu_bound, [0] * n_workers, pure=False))
            startup["dask"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            client.gather(client.map(cpu_bound, [units] * n_tasks, pure=False))
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
        "dask_start_method": str(
            getattr(dask, "config").get("distributed.worker.multiprocessing-method")  # noqa: B009
        ),
    }


def dask_overhead(
    *,
    n_workers: int = 2,
    n_tasks: int = 8,
    task_s: float = 0.05,
    n_tiny: int = 200,
    start_method: StartMethodName | None = "spawn",
    timeout_s: float = 60.0,
    allow_shared: bool = False,
) -> DaskOverheadResult:
    """Run the same CPU tasks on a local process pool and on a Dask ``LocalCluster``.

    Args:
        n_workers: worker processes on each side.
        n_tasks: real tasks, each about ``task_s`` of ``cl.cpu_bound``.
        task_s: seconds of one real task.
        n_tiny: near-empty tasks, for the cost of one task.
        start_method: the pool's (Dask's workers use ``spawn`` by default, so ``"spawn"``
            compares like with like).
        timeout_s: limit for the whole measurement (its child is killed after that).
        allow_shared: start the cluster even when other users run programs on this machine
            (they could send it tasks while it listens, which would run as you).

    Returns:
        A :class:`DaskOverheadResult`; draw it with ``cl.choosing.plot_dask_overhead``.

    Raises:
        DaskNotInstalledError: Dask is missing; the message says how to add it.
        SharedMachineError: other users run programs here and ``allow_shared`` is False;
            nothing was started.
        WorkerTimeoutError: it overran ``timeout_s``; everything it started was killed.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    if not dask_available():
        raise DaskNotInstalledError(
            "Dask is not installed, so this optional part is skipped. To add it to this "
            f"Python, run {install_hint('dask', notebook='ipykernel' in sys.modules)} (in the "
            "course folder), then restart the kernel."
        )
    n_workers = check_n_workers(n_workers, "process")
    n_tasks = check_whole(n_tasks, "n_tasks", low=1, high=1000)
    n_tiny = check_whole(n_tiny, "n_tiny", low=1, high=100_000)
    task_s = check_number(task_s, "task_s", low=0, high=5, unit=" seconds", low_open=True)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    if not isinstance(allow_shared, bool):
        raise TypeError(f"'allow_shared' must be True or False (got {allow_shared!r}).")
    users = other_users()
    if users and not allow_shared:
        raise SharedMachineError(
            f"Other users run programs on this machine ({', '.join(users)}), so the lab did "
            f"not start the Dask cluster: it listens on 127.0.0.1 without a password for a few "
            f"seconds, and they could send it tasks that would run as you. Skip this part, or "
            f"if you trust everyone here, call dask_overhead(allow_shared=True)."
        )
    units = max(calibrate(cpu_bound, task_s), calibrate(cpu_bound, task_s))
    code = (
        "import json, sys\n"
        "from concurrency_lab.choosing.dask_cost import dask_in_this_process\n"
        "print(json.dumps(dask_in_this_process(*json.loads(sys.argv[1]))))\n"
    )
    params = json.dumps([n_workers, n_tasks, units, n_tiny, method, timeout_s])
    out = run_child([sys.executable, "-I", "-c", code, params], timeout_s=timeout_s + 20)
    data = json.loads(out.strip().splitlines()[-1])
    return DaskOverheadResult(
        n_workers=n_workers,
        n_tasks=n_tasks,
        units=units,
        n_tiny=n_tiny,
        start_method=method,
        other_users=users,
        **data,
    )
