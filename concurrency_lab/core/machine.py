"""Facts about this machine and interpreter that every lesson needs.

How many cores this process may really use (affinity, cgroup v1/v2 quotas, nested too,
``PYTHON_CPU_COUNT``), which start methods exist, which is the default and which are unsafe
here, a ``multiprocessing`` context for a start method, how many workers a pool may have on
this platform, how much room ``/dev/shm`` has, and whether the GIL is on.

Every reader of the file system takes a ``root`` so tests can point it at a fake tree.

Introduced in ``00-start-here.ipynb``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Literal

__all__ = [
    "FORKSERVER_PRELOAD",
    "KINDS",
    "LESSON_MAX_PROCESSES",
    "MAX_THREADS",
    "START_METHODS",
    "WINDOWS_MAX_PROCESSES",
    "CpuFacts",
    "GilStatus",
    "Kind",
    "StartMethodName",
    "available_start_methods",
    "cgroup_cpu_quota",
    "check_start_method",
    "cpu_facts",
    "default_start_method",
    "fork_is_unsafe",
    "forkserver_preloaded",
    "forkserver_running",
    "free_threaded_build",
    "get_context",
    "gil_enabled",
    "gil_status",
    "lesson_processes",
    "max_workers",
    "shm_free_bytes",
    "start_method_label",
    "start_methods_to_compare",
    "usable_cores",
]

#: What runs the work: a thread of this process, or a process of its own.
Kind = Literal["thread", "process"]
#: How a new process starts (``multiprocessing`` start methods).
StartMethodName = Literal["fork", "spawn", "forkserver"]
KINDS: tuple[Kind, ...] = ("thread", "process")
START_METHODS: tuple[StartMethodName, ...] = ("fork", "spawn", "forkserver")
MAX_THREADS = 256
#: ``concurrent.futures.ProcessPoolExecutor`` refuses more than 61 workers on Windows
#: (``_MAX_WINDOWS_WORKERS = 63 - 2`` in CPython), and before Python 3.13 waiting on more
#: than 63 handles at once fails there too.
WINDOWS_MAX_PROCESSES = 61
#: The most processes one lesson cell starts at once: on a 64- or 128-core server the
#: lessons then run in about the time they take on a 16-core laptop, within memory.
LESSON_MAX_PROCESSES = 16

# Modules a forkserver child imports once, in the server, instead of once per child.
FORKSERVER_PRELOAD = [
    "concurrency_lab",
    "concurrency_lab.core.children",
    "concurrency_lab.core.runners",
    "concurrency_lab.core.workloads",
]


# --------------------------------------------------------------------------- cores


@dataclass(frozen=True)
class CpuFacts:
    """Where the number of usable cores comes from.

    Attributes:
        logical: logical CPUs of the machine (``os.cpu_count()``), ``None`` if unknown.
        allowed: CPUs this process may run on (affinity), ``None`` where the OS cannot say.
        quota: the tightest cgroup CPU quota in cores (e.g. ``2.5``), ``None`` without one.
        env_override: ``PYTHON_CPU_COUNT`` when set to a number (Python honours it from 3.13).
        usable: what the lab uses: the override if set, else ``min(allowed, floor(quota))``.
    """

    logical: int | None
    allowed: int | None
    quota: float | None
    env_override: int | None
    usable: int

    def describe(self) -> str:
        """One sentence: the usable cores and what limited them."""
        why = []
        if self.env_override is not None:
            why.append(f"PYTHON_CPU_COUNT={self.env_override}")
        else:
            if self.allowed is not None and self.logical and self.allowed < self.logical:
                why.append(f"allowed to run on {self.allowed} of {self.logical} CPUs")
            if self.quota is not None and math.floor(self.quota) < (self.allowed or 10**9):
                why.append(f"a CPU quota of {self.quota:g} cores (cgroup)")
        cores = f"{self.usable} usable core{'s' if self.usable != 1 else ''}"
        machine = f" of {self.logical} logical CPUs" if self.logical else ""
        return f"{cores}{machine}" + (f" ({'; '.join(why)})" if why else "") + "."


def _env_cpu_count() -> int | None:
    raw = os.environ.get("PYTHON_CPU_COUNT", "").strip()
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    return None


def _allowed_cpus() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0)) or None
        except OSError:
            return None
    if sys.platform == "win32" or sys.platform == "darwin":
        try:
            import psutil  # optional: gives the affinity on Windows

            return len(psutil.Process().cpu_affinity()) or None
        except Exception:
            return None
    return None


def cpu_facts(*, root: str | os.PathLike[str] = "/") -> CpuFacts:
    """How many cores this process may use, and why (see :class:`CpuFacts`).

    >>> f = cpu_facts()
    >>> f.usable >= 1
    True
    """
    logical = os.cpu_count()
    allowed = _allowed_cpus()
    quota = cgroup_cpu_quota(root=root)
    env = _env_cpu_count()
    if env is not None:
        usable = env
    else:
        usable = allowed or logical or 1
        if quota is not None:
            usable = min(usable, max(1, math.floor(quota + 1e-9)))
    return CpuFacts(logical, allowed, quota, env, max(1, usable))


def usable_cores() -> int:
    """The number of CPU cores this process may really use (not always ``os.cpu_count()``).

    Containers, ``taskset``, job schedulers and JupyterHub limits can give a process fewer
    cores than the machine has. This honours ``PYTHON_CPU_COUNT`` (as Python 3.13+ does),
    the CPU affinity mask, and cgroup v1 and v2 CPU quotas, including a quota set on a
    parent cgroup, rounding a fractional quota down (2.5 cores → 2).

    >>> 1 <= usable_cores()
    True
    """
    return cpu_facts().usable


def _own_cgroups(root: Path) -> list[tuple[str, str]]:
    """``(controllers, path)`` pairs from ``/proc/self/cgroup``."""
    try:
        text = (root / "proc/self/cgroup").read_text()
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            out.append((parts[1], parts[2]))
    return out


def _v1_cpu_mount(root: Path) -> Path | None:
    """Where the cgroup v1 ``cpu`` controller is mounted, from ``/proc/self/mountinfo``."""
    try:
        lines = (root / "proc/self/mountinfo").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, extra = left.split(), right.split()
        if len(fields) >= 5 and extra and extra[0] == "cgroup":
            options = extra[-1].split(",") if len(extra) >= 3 else []
            if "cpu" in options:
                return root / fields[4].lstrip("/")
    for guess in ("sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpu"):
        if (root / guess / "cpu.cfs_quota_us").exists():
            return root / guess
    return None


def _walk_up(base: Path, inner: str) -> list[Path]:
    """``base/inner``, then each parent folder up to ``base`` itself."""
    parts = [p for p in inner.strip("/").split("/") if p and p != ".."]
    return [base.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def _read_v2(folder: Path) -> float | None:
    try:
        limit, period = (folder / "cpu.max").read_text().split()[:2]
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _read_v1(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_cpu_quota(*, root: str | os.PathLike[str] = "/") -> float | None:
    """The tightest cgroup CPU quota on this process, in cores (``None``: no quota, or not Linux).

    Reads cgroup v2 (``cpu.max``) and v1 (``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``) in the
    process's own cgroup (from ``/proc/self/cgroup``) and every parent up to the root: a
    JupyterHub or systemd slice often sets the limit one level above the process, and a
    container sees its own cgroup as the root.
    """
    base = Path(root)
    quotas: list[float] = []
    v2_root = base / "sys/fs/cgroup"
    for controllers, inner in _own_cgroups(base):
        if controllers == "":  # cgroup v2
            for folder in _walk_up(v2_root, inner):
                q = _read_v2(folder)
                if q is not None:
                    quotas.append(q)
        elif "cpu" in controllers.split(","):
            mount = _v1_cpu_mount(base)
            if mount is not None:
                for folder in _walk_up(mount, inner):
                    q = _read_v1(folder)
                    if q is not None:
                        quotas.append(q)
    if not quotas:  # no /proc/self/cgroup (e.g. a minimal container): look at the roots
        for q in (_read_v2(v2_root), _read_v1(base / "sys/fs/cgroup/cpu")):
            if q is not None:
                quotas.append(q)
    return min(quotas) if quotas else None


def max_workers(kind: str) -> int:
    """The most workers of ``kind`` the lab accepts in one run on this machine."""
    if kind == "thread":
        return MAX_THREADS
    limit = max(16, 8 * usable_cores())
    return min(limit, WINDOWS_MAX_PROCESSES) if sys.platform == "win32" else limit


def lesson_processes(factor: float = 1.0) -> int:
    """How many processes a lesson should start: ``factor`` × the usable cores, capped.

    The cap (:data:`LESSON_MAX_PROCESSES`, and 61 on Windows) keeps every notebook quick
    and within memory on 64- or 128-core servers; the lessons say so when it applies.

    >>> 1 <= lesson_processes() <= LESSON_MAX_PROCESSES
    True
    """
    n = max(1, math.ceil(factor * usable_cores()))
    return min(n, LESSON_MAX_PROCESSES, max_workers("process"))


# --------------------------------------------------------------------------- start methods


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


def fork_is_unsafe() -> bool:
    """True on macOS, where CPython's docs call ``fork`` unsafe (system libraries use threads).

    ``fork`` is still offered there, but a forked child can crash (bpo-33725), which is why
    ``spawn`` has been the macOS default since Python 3.8.
    """
    return sys.platform == "darwin"


def start_method_label(method: str) -> str:
    """A start method's name for menus and plots, e.g. ``"fork (unsafe on macOS)"``."""
    if method == "fork" and fork_is_unsafe():
        return "fork (unsafe on macOS)"
    return method


def start_methods_to_compare() -> tuple[str, ...]:
    """The start methods a lesson should loop over here: all available ones, default first,
    without ``fork`` on macOS (unsafe there; pass it explicitly to try it anyway).

    >>> start_methods_to_compare()[0] == default_start_method()
    True
    """
    methods = [m for m in available_start_methods() if not (m == "fork" and fork_is_unsafe())]
    default = default_start_method()
    if default in methods:
        methods.remove(default)
        methods.insert(0, default)
    return tuple(methods)


def check_start_method(start_method: object) -> str:
    """Return the start method to use (``None`` → the default), or raise a clear error."""
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


def forkserver_running() -> bool | None:
    """Whether this program's forkserver process is running (``None``: cannot tell).

    Reads a private attribute of :mod:`multiprocessing.forkserver`, only to tell whether the
    next forkserver child will first have to start the server.
    """
    try:
        from multiprocessing import forkserver

        server = forkserver._forkserver
    except Exception:
        return None
    if not hasattr(server, "_forkserver_pid"):
        return None
    return server._forkserver_pid is not None


# Whether the lab's preload reached this program's forkserver: True once the lab set it
# before the server started, False when the server was already running the first time the
# lab asked for a forkserver context (started by earlier code, without the preload).
_preloaded: bool | None = None


def forkserver_preloaded() -> bool | None:
    """Whether this program's forkserver preloads the lab's modules.

    ``True``: the lab set :data:`FORKSERVER_PRELOAD` before the server started (whoever
    started it then, the lab or your own code, the server imported those modules once).
    ``False``: the server was already running when the lab first asked for it, so the lab's
    preload came too late: on Python 3.14 on Linux, where ``forkserver`` is the default, a
    cell with plain ``multiprocessing`` code run before the lab's may have started it.
    ``None``: the lab has not asked for a forkserver context yet, or cannot tell.
    """
    return _preloaded


def get_context(start_method: str | None = None) -> BaseContext:
    """A ``multiprocessing`` context for ``start_method`` (``None`` = the default).

    Under ``forkserver`` the lab asks the server to preload its own modules, so each child
    starts faster. A program has one forkserver, started by its first forkserver child, and
    the preload list is the program's, not the context's: it works only if the server is not
    running yet, and then your own forkserver processes in this program share it too
    (:func:`forkserver_preloaded` tells which happened). A plain program gets Python's default
    preload (only ``__main__``); lesson 01 measures both.

    Raises:
        ValueError: unknown start method, or one this platform lacks.
    """
    global _preloaded
    method = check_start_method(start_method)
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        running = forkserver_running()
        if running is None or not running:
            ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
            if running is False:
                _preloaded = True
        elif _preloaded is None:
            _preloaded = False
    return ctx


# --------------------------------------------------------------------------- shared memory


def shm_free_bytes(*, path: str = "/dev/shm") -> int | None:
    """Free bytes where POSIX shared memory lives (``/dev/shm`` on Linux), ``None`` elsewhere.

    Docker gives containers a 64 MiB ``/dev/shm`` by default; writing past it kills the
    writer with SIGBUS, which no ``try`` can catch, so check before a large segment.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


# --------------------------------------------------------------------------- the GIL


@dataclass(frozen=True)
class GilStatus:
    """Which interpreter this is, as far as the GIL goes.

    Attributes:
        free_threaded_build: built with ``Py_GIL_DISABLED`` (``python3.13t``, ``3.14t``).
        enabled: the GIL is on right now.
        env: the ``PYTHON_GIL`` environment variable (``"0"``, ``"1"``) or ``None``.
    """

    free_threaded_build: bool
    enabled: bool
    env: str | None

    def describe(self) -> str:
        """One sentence a learner can act on."""
        if not self.free_threaded_build:
            return "A standard build: the GIL is on, so one thread runs Python code at a time."
        if not self.enabled:
            return "A free-threaded build with the GIL off: threads can run Python in parallel."
        if self.env == "1":
            return "A free-threaded build with the GIL switched on by PYTHON_GIL=1."
        return (
            "A free-threaded build, but the GIL is on: an extension module that is not "
            "marked free-threading-safe switched it back on when it was imported (Python "
            "printed a RuntimeWarning naming it). Start Python with PYTHON_GIL=0 to keep it "
            "off anyway."
        )


def free_threaded_build() -> bool:
    """True when this Python was built free-threaded (``Py_GIL_DISABLED``), GIL on or off.

    Introduced in ``02-the-gil.ipynb``.
    """
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """True when this interpreter runs with the GIL (every CPython before 3.13, and most after).

    A free-threaded build (``python3.13t``, ``python3.14t``) answers ``False`` unless the
    GIL was switched back on (``PYTHON_GIL=1`` or an extension that needs it). Uses
    :func:`sys._is_gil_enabled` where it exists (3.13+).

    Introduced in ``02-the-gil.ipynb``.
    """
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def gil_status() -> GilStatus:
    """The build, the GIL's state and ``PYTHON_GIL`` together (see :class:`GilStatus`).

    >>> s = gil_status()
    >>> s.enabled or s.free_threaded_build  # the GIL can only be off on a free-threaded build
    True
    """
    return GilStatus(free_threaded_build(), gil_enabled(), os.environ.get("PYTHON_GIL"))
