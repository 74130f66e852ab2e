"""Watch any plain code: every thread and process it starts, and when each was on a CPU.

The lab is a lens: you write ordinary ``threading`` / ``multiprocessing`` /
``concurrent.futures`` code, and the watcher shows what it did::

    import threading
    import concurrency_lab as cl

    def countdown(n):
        while n:
            n -= 1

    with cl.watch() as w:                        # your code, unchanged
        t1 = threading.Thread(target=countdown, args=(5_000_000,))
        t2 = threading.Thread(target=countdown, args=(5_000_000,))
        t1.start(); t2.start(); t1.join(); t2.join()

    w.summary()   # '2 threads used 0.97 s of CPU in 1.01 s: on average 1.0 of ...'
    w.plot()      # one lane per thread: solid where it was on a CPU

How it sees:

* **Names and lifetimes** come from hooks on ``threading.Thread.start`` and
  ``multiprocessing``'s ``Process.start``, installed for the ``with`` block only (and
  restored on the way out, even on an error).
* **On-CPU time** comes from outside the interpreter: a separate sampler *process*
  (:mod:`concurrency_lab.core.watch_sampler`) reads the kernel's per-thread CPU counters
  about every 2 ms on Linux, for this process and all its descendants. It never needs the
  GIL, so two CPU-bound threads cannot hide or distort their own picture.
* On macOS and Windows the kernel counters are read through ``psutil`` and only **totals**
  are shown (each thread's total from ``time.thread_time()``); the summary and the plot
  say so.

What appears as a lane:

* every thread and process the code started, and their children and grandchildren;
* the main thread (where a cell's own code runs) if it was on a CPU for at least 20 ms
  (``MAIN_MIN_S``), or for half the watched time when the code started nothing else: real
  work shows, mere starting and joining does not;
* threads and processes that existed before (from earlier cells) if they were on a CPU for
  at least 10 % of the watched time and 10 ms (``SHOW_SHARE``, ``SHOW_MIN_S``).

The standard library's helpers (a ``Pool``'s three handler threads, a ``Queue``'s feeder
thread, ``ProcessPoolExecutor``'s manager thread, the forkserver, the resource tracker) are
never lanes; the summary mentions them when they used noticeable CPU. Everything left out
is in ``w.hidden`` (``cl.watch(show_all=True)`` draws it).

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import select
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any, Literal

from . import watch_hooks
from .errors import LabError
from .load import machine_ticks
from .watch_build import build_result
from .watch_hooks import Hooks
from .watch_result import MAIN_MIN_S, SHOW_MIN_S, SHOW_SHARE, WatchedWorker, WatchResult

__all__ = [
    "DEFAULT_INTERVAL_S",
    "MAIN_MIN_S",
    "SHOW_MIN_S",
    "SHOW_SHARE",
    "Watch",
    "WatchError",
    "WatchResult",
    "WatchedWorker",
    "watch",
]

#: How often the sampler reads the CPU counters on Linux, in seconds. Just under 2 ms keeps the
#: watched code within 5 % of its unwatched time on 2 cores (benchmarks/bench_watch.py; every
#: 1 ms cost 7-11 % there), stays at 2 ms or finer when a wake-up comes a little late, and
#: still shows the GIL's 5 ms turns.
DEFAULT_INTERVAL_S = 0.0019
#: Coarser polling where only totals are shown (psutil on macOS/Windows).
TOTALS_INTERVAL_S = 0.02
_READY_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0
_SAMPLER = Path(__file__).with_name("watch_sampler.py")

Mode = Literal["proc", "psutil", "none"]


class WatchError(LabError, RuntimeError):
    """The watcher was used in a way it cannot support (e.g. two watches at once).

    Introduced in ``02-the-gil.ipynb``.
    """


# --------------------------------------------------------------------------- the sampler


def _sampling_mode() -> Mode:
    """How this platform lets a separate process read per-thread CPU time."""
    if sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        if os.path.exists(f"/proc/{os.getpid()}/task/{tid}/schedstat"):
            return "proc"
    try:
        import psutil  # noqa: F401
    except ImportError:
        return "none"
    return "psutil"


class _Sampler:
    """The sampler process: start, wait until it is ready, stop, read its samples."""

    def __init__(self, mode: Mode, interval_s: float) -> None:
        # /proc needs nothing but the standard library: isolated (-I) and without site
        # packages (-S), Python starts fastest. psutil may live in any site directory.
        flags = ["-I", "-S"] if mode == "proc" else []
        pid = str(os.getpid())
        args = ["--root", pid, "--parent", pid, "--interval", repr(interval_s), "--reader", mode]
        self.proc = subprocess.Popen(
            [sys.executable, *flags, str(_SAMPLER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own session / process group: Ctrl-C in a terminal reaches only the watched
            # program, which then stops the sampler itself.
            start_new_session=os.name == "posix",
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
        )

    def wait_ready(self, timeout_s: float) -> str:
        """Wait for the sampler's first scan; return ``""``, or what went wrong in words."""
        if _read_line(self.proc, timeout_s).startswith(b"ready "):
            return ""
        if self.proc.poll() is None:
            return f"the sampler process did not start within {timeout_s:g} s"
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        last = (err.strip().splitlines() or ["no message"])[-1]
        return f"the sampler process failed to start ({last})"

    def stop(self, timeout_s: float) -> tuple[dict[str, Any] | None, str]:
        """Ask for the samples; return ``(payload or None, problem in words)``."""
        try:
            out, err = self.proc.communicate(b"stop\n", timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, f"the sampler did not answer within {timeout_s:g} s"
        except BaseException:
            self.kill()
            raise
        head, _, blob = out.partition(b"\n")
        if not head.startswith(b"data "):
            detail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            return None, f"the sampler stopped without samples ({detail[0]})"
        return marshal.loads(blob[: int(head.split()[1])]), ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.communicate(timeout=_STOP_TIMEOUT_S)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            pass


def _read_line(
    proc: subprocess.Popen[bytes], timeout_s: float, *, use_select: bool = os.name == "posix"
) -> bytes:
    """Read one line from the sampler's stdout, waiting at most ``timeout_s``.

    Windows has no ``select()`` for pipes (``use_select=False``): a helper thread reads.
    """
    stdout = proc.stdout
    assert stdout is not None
    fd = stdout.fileno()
    deadline = time.monotonic() + timeout_s
    data = b""
    if not use_select:
        box: list[bytes] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout_s)
        return box[0] if box else b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return b""
        chunk = os.read(fd, 1)
        if not chunk:
            return b""
        data += chunk
    return data


# --------------------------------------------------------------------------- the context manager


class Watch:
    """The object ``with cl.watch() as w:`` gives you; read it after the block.

    After the block it has the :class:`WatchResult`'s attributes and methods
    (``workers``, ``hidden``, ``wall_s``, ``resolution``, ``sample_interval_s``, ``note``,
    ``raised``, ``summary()``, ``plot()``, ``cores_busy()``) and the result itself as
    ``w.result``. Reading them inside the block raises :class:`WatchError`.

    Introduced in ``02-the-gil.ipynb``.
    """

    def __init__(self, *, interval_s: float, show_all: bool, mode: Mode | None = None) -> None:
        self._interval_s = interval_s
        self._show_all = show_all
        self._mode = mode
        self._result: WatchResult | None = None
        self._state: Hooks | None = None
        self._sampler: _Sampler | None = None

    @property
    def result(self) -> WatchResult:
        """The frozen :class:`WatchResult` (after the block)."""
        if self._result is None:
            raise WatchError(
                "The watch is still running (or never ran): read w.workers, w.summary() and "
                "w.plot() after the 'with cl.watch() as w:' block has ended."
            )
        return self._result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in WatchResult.__dataclass_fields__ or hasattr(WatchResult, name):
            return getattr(self.result, name)
        raise AttributeError(f"'Watch' object has no attribute {name!r}")

    def __repr__(self) -> str:
        if self._result is None:
            return "<Watch: running>" if self._state else "<Watch: not started>"
        return repr(self._result).replace("<WatchResult", "<Watch", 1)

    def __str__(self) -> str:
        return self.result.summary() if self._result else repr(self)

    def _repr_markdown_(self) -> str:
        return self.result._repr_markdown_() if self._result else repr(self)

    def __enter__(self) -> Watch:
        if self._state is not None:
            raise WatchError(
                "This watch has already been used: a Watch records one block. Start a new one "
                "with 'with cl.watch() as w:'."
            )
        state = Hooks()
        if not watch_hooks.claim(state):
            raise WatchError(
                "cl.watch() is already watching in this process: one watch at a time. "
                "Put all the code you want to see in one 'with cl.watch()' block (or one "
                "%%timeline cell)."
            )
        self._state = state
        notes = state.notes
        notes.names = {t.native_id: t.name for t in threading.enumerate() if t.native_id}
        notes.entered_tid = threading.get_native_id()
        notes.entered_name = threading.current_thread().name
        notes.process_name = multiprocessing.current_process().name
        mode = self._mode or _sampling_mode()
        try:
            if mode != "none":
                interval = self._interval_s if mode == "proc" else TOTALS_INTERVAL_S
                self._sampler = _Sampler(mode, interval)
                problem = self._sampler.wait_ready(_READY_TIMEOUT_S)
                if problem:
                    self._sampler.kill()
                    self._sampler = None
                    notes.problem = problem
                    mode = "none"
            notes.mode = mode
            state.install()
        except BaseException:
            self._abandon()
            raise
        notes.machine_enter = machine_ticks()
        notes.cpu_enter_ns = time.thread_time_ns()
        notes.t0_ns = time.perf_counter_ns()
        return self

    def _abandon(self) -> None:
        try:
            if self._state is not None:
                watch_hooks.release(self._state)
        finally:
            if self._sampler is not None:
                self._sampler.kill()
                self._sampler = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> Literal[False]:
        assert self._state is not None
        notes = self._state.notes
        notes.t1_ns = time.perf_counter_ns()
        notes.cpu_exit_ns = time.thread_time_ns()
        notes.machine_exit = machine_ticks()
        sampler = self._sampler
        self._sampler = None
        try:
            self._abandon()  # hooks off first, whatever happens next
        finally:
            payload, problem = (None, "")
            if sampler is not None:
                payload, problem = sampler.stop(_STOP_TIMEOUT_S)
        if problem:
            notes.problem = problem
        raised = None if exc is None else f"{type(exc).__name__}: {exc}".rstrip(": ")
        try:
            self._result = build_result(notes, payload, show_all=self._show_all, raised=raised)
        except Exception as build_error:
            if exc is None:
                raise
            # Never hide the learner's own error behind one of ours.
            notes.problem = f"the watcher could not read its samples ({build_error!r})"
            self._result = build_result(notes, None, show_all=self._show_all, raised=raised)
        return False


def watch(*, interval_s: float = DEFAULT_INTERVAL_S, show_all: bool = False) -> Watch:
    """Watch a block of plain code: every thread and process it starts, and its CPU use.

    >>> import threading
    >>> with watch() as w:
    ...     t = threading.Thread(target=sum, args=(range(10),), name="adder")
    ...     t.start(); t.join()
    >>> [(worker.name, worker.kind) for worker in w.workers]
    [('adder', 'thread')]
    >>> w.workers[0].end_s is not None   # it ended inside the block
    True

    Args:
        interval_s: time between two samples on Linux, in seconds (0.0005 to 0.1; default
            1 ms). Elsewhere only totals are shown, sampled every 20 ms.
        show_all: also draw what is normally hidden: an idle main thread, the standard
            library's helper threads and processes, idle threads from earlier cells.

    Returns:
        A :class:`Watch` to use in a ``with`` statement; read it after the block.

    Raises:
        TypeError: ``interval_s`` is not a number or ``show_all`` not a bool.
        ValueError: ``interval_s`` is outside 0.0005–0.1 s.
        WatchError: (on entering) another watch is already running in this process.
        NotebookFunctionError: (inside the block, before the process starts) code starts a
            ``spawn``/``forkserver`` process, pool task or executor task with a function
            defined in the notebook; the message gives the one-step fix.

    Introduced in ``02-the-gil.ipynb``.
    """
    if isinstance(interval_s, bool) or not isinstance(interval_s, (int, float)):
        raise TypeError(
            f"'interval_s' must be a number of seconds, e.g. 0.001 (got {interval_s!r})."
        )
    if not 0.0005 <= interval_s <= 0.1:
        raise ValueError(
            f"'interval_s' must be between 0.0005 and 0.1 seconds (got {interval_s!r}); "
            f"the default, {DEFAULT_INTERVAL_S}, shows the GIL's 5 ms turns clearly."
        )
    if not isinstance(show_all, bool):
        raise TypeError(f"'show_all' must be True or False (got {show_all!r}).")
    return Watch(interval_s=float(interval_s), show_all=show_all)
