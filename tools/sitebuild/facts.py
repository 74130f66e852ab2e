"""Where and when the numbers on the site were measured: the machine, this Python, the run.

The kernels that run the lessons are this same interpreter with the same environment (see
``execute.py``), so what this process sees is what the lessons saw. Cores, start methods and the
GIL come from the course's own functions (``cl.usable_cores()``, …), the ones the lessons call,
so this page and the lessons count the same way; if the course cannot be imported, the standard
library answers and the page says so.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import platform
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Facts:
    """The measurement conditions, as ``(label, value)`` rows for the page."""

    rows: tuple[tuple[str, str], ...]
    usable_cores: int
    summary: str  # one line for every page: "Linux, 2 usable cores, Python 3.11.7 (GIL on), fork"
    source_note: str  # where the core and GIL facts came from


def collect(repo: Path) -> Facts:
    """Facts about this machine and interpreter (no measurement runs here)."""
    logical = os.cpu_count() or 1
    try:
        import concurrency_lab as cl

        usable = int(cl.usable_cores())
        default_method = str(cl.default_start_method())
        methods = ", ".join(cl.available_start_methods())
        gil_on = bool(cl.gil_enabled())
        free_threaded = bool(cl.free_threaded_build())
        source_note = (
            "Cores, start methods and the GIL as the lessons report them "
            "(cl.usable_cores(), cl.default_start_method(), cl.gil_enabled())."
        )
    except Exception as exc:  # any import or API failure: say so, go on
        usable = _stdlib_usable_cores()
        default_method = (
            multiprocessing.get_start_method(allow_none=True)
            or (multiprocessing.get_all_start_methods()[0])
        )
        methods = ", ".join(multiprocessing.get_all_start_methods())
        probe = getattr(sys, "_is_gil_enabled", None)
        gil_on = True if probe is None else bool(probe())
        free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
        source_note = (
            f"concurrency_lab could not be imported ({type(exc).__name__}: {exc}); "
            "these facts come from the standard library."
        )
    build = "free-threaded build" if free_threaded else "standard build (with the GIL)"
    gil = "on" if gil_on else "off"
    py = f"{platform.python_implementation()} {platform.python_version()}"
    system = f"{platform.system()} {platform.release()}"
    cpu = _cpu_model()
    rows = [
        ("Cores this Python may use", str(usable)),
        ("Logical CPUs on the machine", str(logical)),
        ("Processor", cpu),
        ("Python", f"{py}, {build}, GIL {gil} at run time"),
        ("Operating system", f"{system} ({platform.machine()})"),
        ("Default start method", default_method),
        ("Start methods available", methods),
        ("Course version", _course_version(repo)),
    ]
    summary = (
        f"{platform.system()}, {usable} usable core{'s' if usable != 1 else ''}, "
        f"Python {platform.python_version()} (GIL {gil}), start method {default_method}"
    )
    return Facts(tuple(rows), usable, summary, source_note)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def load_average() -> float | None:
    """The 1-minute load average (how busy the machine was), ``None`` where there is none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def describe_load(load: float | None) -> str:
    return "not available on this system" if load is None else f"{load:.2f}"


def _stdlib_usable_cores() -> int:
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _course_version(repo: Path) -> str:
    """The commit the site was built from (and whether files differed from it)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "notebooks", "concurrency_lab"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"commit {head}" + (" with local changes to the lessons or library" if dirty else "")
