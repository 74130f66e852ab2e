"""Facts about this machine and interpreter that every lesson needs.

How many cores this process may really use (affinity, cgroup quotas, ``PYTHON_CPU_COUNT``),
which start methods exist and which one is the default, a ``multiprocessing`` context for a
start method, how many workers a pool may have here, and whether the GIL is on.

Introduced in ``00-start-here.ipynb``.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import sys
import sysconfig
from multiprocessing.context import BaseContext

__all__ = [
    "FORKSERVER_PRELOAD",
    "KINDS",
    "MAX_THREADS",
    "START_METHODS",
    "available_start_methods",
    "cgroup_cpu_quota",
    "default_start_method",
    "free_threaded_build",
    "get_context",
    "gil_enabled",
    "max_workers",
    "usable_cores",
]


KINDS = ("thread", "process")


START_METHODS = ("fork", "spawn", "forkserver")


MAX_THREADS = 256


# Modules a forkserver child imports once, in the server, instead of once per child.
FORKSERVER_PRELOAD = [
    "concurrency_lab",
    "concurrency_lab.core.children",
    "concurrency_lab.core.runners",
    "concurrency_lab.core.workloads",
]


def usable_cores() -> int:
    """The number of CPU cores this process may run on (not always ``os.cpu_count()``).

    Containers, ``taskset`` and job schedulers can restrict a process to fewer
    cores than the machine has; this respects the CPU affinity mask where the
    platform has one, and a cgroup CPU quota on Linux.

    >>> 1 <= usable_cores() <= (os.cpu_count() or 1)
    True
    """
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        n = os.process_cpu_count() or 1
    elif hasattr(os, "sched_getaffinity"):
        n = len(os.sched_getaffinity(0)) or 1
    else:  # macOS, Windows on 3.10-3.12
        n = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        n = max(1, min(n, int(quota + 0.5)))
    return n


def cgroup_cpu_quota() -> float | None:
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            limit, period = f.read().split()[:2]
    except (OSError, ValueError):
        return None
    if limit == "max":
        return None
    try:
        return int(limit) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def available_start_methods() -> tuple[str, ...]:
    """The start methods this platform supports, e.g. ``('fork', 'spawn', 'forkserver')`` on Linux.

    >>> "spawn" in available_start_methods()
    True
    """
    return tuple(m for m in multiprocessing.get_all_start_methods() if m in START_METHODS)


def default_start_method() -> str:
    """The start method used when you pass ``start_method=None``.

    It is the one a program would get from ``multiprocessing`` by default: ``fork``
    on Linux up to Python 3.13, ``forkserver`` on Linux from 3.14, ``spawn`` on
    macOS and Windows. Asking does not fix the global default.

    >>> default_start_method() in START_METHODS
    True
    """
    return (
        multiprocessing.get_start_method(allow_none=True)
        or multiprocessing.get_all_start_methods()[0]
    )


def get_context(start_method: str | None = None) -> BaseContext:
    """A ``multiprocessing`` context for ``start_method`` (``None`` = the default).

    Raises:
        ValueError: unknown start method, or one this platform lacks.
    """
    method = check_start_method(start_method)
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # Only takes effect when the server starts; it makes each child cheap to create.
        ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
    return ctx


def max_workers(kind: str) -> int:
    return MAX_THREADS if kind == "thread" else max(16, 8 * usable_cores())


def gil_enabled() -> bool:
    """True when this interpreter runs with the GIL (every CPython before 3.13, and most after).

    Introduced in ``02-the-gil.ipynb``.

    A free-threaded build (``python3.13t``, ``python3.14t``) answers ``False``
    unless the GIL was switched back on (``PYTHON_GIL=1`` or an extension that
    needs it). Uses :func:`sys._is_gil_enabled` where it exists (3.13+).

    >>> isinstance(gil_enabled(), bool)
    True
    """
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def free_threaded_build() -> bool:
    """True when this Python was built free-threaded (``Py_GIL_DISABLED``), GIL on or off.

    Introduced in ``02-the-gil.ipynb``.

    >>> free_threaded_build() in (True, False)
    True
    """
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def check_start_method(start_method: object) -> str:
    if start_method is None:
        return default_start_method()
    if start_method not in START_METHODS:
        raise ValueError(
            f"'start_method' must be one of 'fork', 'spawn', 'forkserver' or None for the "
            f"default (got {start_method!r})."
        )
    if start_method not in available_start_methods():
        raise ValueError(
            f"start method {start_method!r} is not available on this platform "
            f"(available: {', '.join(available_start_methods())}). Use start_method=None."
        )
    return str(start_method)
