"""What starting a worker costs: one thread, and one process under each start method.

:func:`measure_startup` times plain ``threading.Thread`` and ``multiprocessing`` ``Process``
objects (not the lab's runners) that run a function doing nothing: ``start()`` then
``join()``, several times each, in turns, and reports the fastest try of each (other
programs can only slow a start down).

``forkserver`` gets three rows, because its cost depends on what has happened before:

* in this kernel, with its server already running: the lab asks the server to preload the
  lab's own modules (``core.machine.FORKSERVER_PRELOAD``), so a child starts with them
  imported. That works only if the server was not running yet: when earlier code in the
  kernel started it (on Python 3.14 on Linux, plain ``multiprocessing`` code does), the row
  says it ran without the lab's preload;
* in a fresh Python without that preload, the **first** child, which pays for starting the
  server;
* in that fresh Python, later children: each imports its task's module itself, as the
  children of a plain notebook do (a script's server preloads the script's own module).

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any, Literal

from ..core.children import describe_exit, stop_processes
from ..core.errors import WorkerCrashedError, WorkerTimeoutError
from ..core.load import Load, measure_load
from ..core.machine import (
    check_start_method,
    forkserver_preloaded,
    get_context,
    start_method_label,
    start_methods_to_compare,
)
from ..core.results import Result
from ..core.validate import check_timeout, check_whole
from ..core.workloads import noop

__all__ = [
    "FIRST_CHILD",
    "NO_PRELOAD",
    "THREADS_PER_ROUND",
    "StartupResult",
    "StartupRow",
    "measure_startup",
]

#: Threads are timed this many times per round (they are cheap, and their fastest time is the
#: yardstick of every ratio).
THREADS_PER_ROUND = 4
#: Labels of the two rows measured in a fresh Python (forkserver only).
FIRST_CHILD = "forkserver: first child"
NO_PRELOAD = "forkserver: no preload"

# Run in a fresh interpreter: the first forkserver child (which starts the server) and later
# ones, with Python's default preload. ``-c`` code has no main module for the server to
# preload, as in a notebook; the task's module is imported by each child.
_FRESH_FORKSERVER = r"""
import json, multiprocessing, sys, time
from concurrency_lab.core.workloads import noop
repeats, timeout_s = int(sys.argv[1]), float(sys.argv[2])
ctx = multiprocessing.get_context("forkserver")
def one():
    began = time.perf_counter()
    p = ctx.Process(target=noop)
    p.start()
    p.join(timeout_s)
    took = time.perf_counter() - began
    if p.exitcode != 0:
        p.kill()
        p.join(timeout_s)
        raise SystemExit("a forkserver child did not finish (exit code %r)" % (p.exitcode,))
    return took
first = one()
print("STARTUP " + json.dumps({"first": first, "later": [one() for _ in range(repeats)]}))
"""


@dataclass(frozen=True)
class StartupRow:
    """Every timing of one way to start a worker.

    Attributes:
        label: ``"thread"``, a start method (``"fork"``, ``"spawn"``, ``"forkserver"``), or
            one of the fresh-Python forkserver rows (:data:`FIRST_CHILD`, :data:`NO_PRELOAD`).
        kind: ``"thread"`` or ``"process"``.
        samples_s: each start + join, in seconds, in the order measured.
        preloaded: for the ``"forkserver"`` row, whether the kernel's server preloads the
            lab's modules (``None``: not known, or another row).
    """

    label: str
    kind: Literal["thread", "process"]
    samples_s: tuple[float, ...]
    preloaded: bool | None = None

    @property
    def best_s(self) -> float:
        """The fastest sample, in seconds: the cost itself, with the least added by other
        programs (a busy machine can only make a start slower, never faster)."""
        return min(self.samples_s)

    @property
    def median_s(self) -> float:
        """The median of the samples, in seconds (what a start costs on this machine as busy
        as it was)."""
        return median(self.samples_s)

    @property
    def shown(self) -> str:
        """The label for a plot: what starts, and how."""
        if self.label == FIRST_CHILD:
            return "forkserver, first child\n(starts the server)"
        if self.label == NO_PRELOAD:
            return "forkserver, later child\n(no preload)"
        if self.label == "forkserver" and self.preloaded is not None:
            return "forkserver\n(lab's preload)" if self.preloaded else "forkserver\n(no preload)"
        return self.label if self.kind == "thread" else start_method_label(self.label)


@dataclass(frozen=True, repr=False)
class StartupResult(Result):
    """What starting and joining one worker that does nothing cost, per way of starting it.

    Attributes:
        rows: the thread first, then each start method, then the fresh-Python forkserver rows.
        load: how busy other programs kept the machine meanwhile (``None`` if unknown).
        problem: why a part could not be measured ("" when all was).
    """

    rows: tuple[StartupRow, ...]
    load: Load | None = None
    problem: str = ""

    def row(self, label: str) -> StartupRow:
        """The row called ``label``.

        Raises:
            KeyError: no such row; the message lists the labels.
        """
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(f"no row {label!r}; the rows are {[r.label for r in self.rows]}")

    def ratio(self, label: str) -> float:
        """How many times a thread's start + join the row ``label`` took (fastest samples)."""
        return self.row(label).best_s / self.row("thread").best_s

    def summary(self) -> str:
        """The fastest times and their ratios to a thread, computed from the samples."""
        labels = [r.label for r in self.rows]
        thread = self.row("thread")
        text = (
            f"Starting and joining one thread took {_ms(thread.best_s)} (the fastest of "
            f"{len(thread.samples_s)} tries)."
        )
        methods = [r for r in self.rows if r.kind == "process" and r.label not in _FRESH]
        if methods:
            parts = [
                f"{_ms(r.best_s)} with {r.label} ({self.ratio(r.label):,.0f} times a thread)"
                for r in methods
            ]
            text += f" One process took {_join(parts)}."
            if "forkserver" in labels:
                preloaded = self.row("forkserver").preloaded
                text += " Forkserver's number is with its server already running" + (
                    " and the lab's modules preloaded into it."
                    if preloaded
                    else ", started by earlier code in this kernel without the lab's preload."
                    if preloaded is False
                    else "."
                )
        if FIRST_CHILD in labels and NO_PRELOAD in labels:
            text += (
                f" In a fresh Python, the first forkserver child took "
                f"{_ms(self.row(FIRST_CHILD).best_s)}, because it starts the server; later "
                f"ones took {_ms(self.row(NO_PRELOAD).best_s)} without a preload."
            )
        if self.problem:
            text += f" Not measured: {self.problem}."
        if self.load is not None and self.load.describe():
            text += " " + self.load.describe()
        return text


_FRESH = (FIRST_CHILD, NO_PRELOAD)


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.2f} ms" if ms < 1 else f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _start_thread() -> float:
    began = time.perf_counter()
    t = threading.Thread(target=noop)
    t.start()
    t.join()
    return time.perf_counter() - began


def _start_process(ctx: Any, method: str, timeout_s: float) -> float:
    began = time.perf_counter()
    p = ctx.Process(target=noop)
    p.start()
    p.join(timeout_s)
    took = time.perf_counter() - began
    if p.exitcode is None:
        stop_processes([p])
        raise WorkerTimeoutError(
            f"a {method} process that does nothing did not finish within {timeout_s:g} s; it "
            "was stopped. Is the machine very busy? Close other programs and run it again.",
            workers=(method,),
            timeout_s=timeout_s,
        )
    if p.exitcode != 0:
        raise WorkerCrashedError(
            f"a {method} process that does nothing ended badly: {describe_exit(p.exitcode)}.",
            worker=method,
            exitcode=p.exitcode,
        )
    p.close()
    return took


def fresh_forkserver(repeats: int, *, timeout_s: float = 60.0) -> tuple[float, tuple[float, ...]]:
    """Time forkserver children in a fresh Python: the first (it starts the server), then more.

    Args:
        repeats: how many later children to time.
        timeout_s: limit for the whole fresh Python; it is killed after that.

    Returns:
        ``(first child's seconds, later children's seconds)``.

    Raises:
        RuntimeError: the fresh Python failed or timed out; the message says how.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", _FRESH_FORKSERVER, str(repeats), str(timeout_s)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"a fresh Python did not finish within {timeout_s:g} s") from None
    for line in done.stdout.splitlines():
        if line.startswith("STARTUP "):
            data = json.loads(line.removeprefix("STARTUP "))
            return float(data["first"]), tuple(float(x) for x in data["later"])
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    raise RuntimeError(f"a fresh Python exited with code {done.returncode} ({last})")


def measure_startup(
    *,
    start_methods: Sequence[str] | None = None,
    repeats: int = 5,
    fresh_forkserver_rows: bool = True,
    timeout_s: float = 60.0,
) -> StartupResult:
    """Time ``start()`` + ``join()`` of one thread and of one process per start method.

    The workers run :func:`~concurrency_lab.core.workloads.noop`. Each way of starting is
    warmed up once (untimed), then timed ``repeats`` times, in turns (thread, fork, spawn, …,
    thread, fork, …), so that a moment when the machine was busy touches all of them alike.
    Threads, which are cheap, are timed four times per turn. The summary reports the
    fastest time of each row: other programs can only add to a start's time.

    >>> res = measure_startup(start_methods=(), repeats=3, fresh_forkserver_rows=False)
    >>> [r.label for r in res.rows], len(res.row("thread").samples_s)
    (['thread'], 12)

    Args:
        start_methods: which process start methods to time; default: those worth comparing
            here, the default first (``start_methods_to_compare()``: no ``fork`` on macOS).
        repeats: rounds of timings, 1 to 50 (each row's fastest is reported).
        fresh_forkserver_rows: when ``forkserver`` is timed, also time its first child and
            later children in a fresh Python without the lab's preload (about 0.5 s more).
        timeout_s: limit for any one start + join.

    Returns:
        A :class:`StartupResult`; it prints as sentences with each row's fastest try and
        its ratio to a thread's.

    Raises:
        ValueError, TypeError: bad arguments (nothing was started).
        WorkerTimeoutError: a process did not finish within ``timeout_s``; it was stopped.

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    methods = (
        start_methods_to_compare()
        if start_methods is None
        else tuple(check_start_method(m) for m in start_methods)
    )
    repeats = check_whole(repeats, "repeats", low=1, high=50)
    timeout_s = check_timeout(timeout_s)
    if not isinstance(fresh_forkserver_rows, bool):
        raise TypeError(
            f"'fresh_forkserver_rows' must be True or False (got {fresh_forkserver_rows!r})."
        )
    contexts = {m: get_context(m) for m in methods}
    samples: dict[str, list[float]] = {"thread": [], **{m: [] for m in methods}}
    problem = ""
    fresh: tuple[float, tuple[float, ...]] | None = None
    with measure_load() as meter:
        _start_thread()
        for m in methods:  # warm-up: imports, and forkserver's server if it is not running
            _start_process(contexts[m], m, timeout_s)
        for _ in range(repeats):
            samples["thread"] += [_start_thread() for _ in range(THREADS_PER_ROUND)]
            for m in methods:
                samples[m].append(_start_process(contexts[m], m, timeout_s))
        if fresh_forkserver_rows and "forkserver" in methods:
            try:
                fresh = fresh_forkserver(repeats, timeout_s=timeout_s)
            except RuntimeError as exc:
                problem = f"forkserver in a fresh Python ({exc})"
    rows = [StartupRow("thread", "thread", tuple(samples["thread"]))]
    preloaded = forkserver_preloaded()
    rows += [
        StartupRow(m, "process", tuple(samples[m]), preloaded if m == "forkserver" else None)
        for m in methods
    ]
    if fresh is not None:
        rows.append(StartupRow(FIRST_CHILD, "process", (fresh[0],)))
        rows.append(StartupRow(NO_PRELOAD, "process", fresh[1]))
    return StartupResult(tuple(rows), meter.load, problem)
