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
  every millisecond on Linux, for this process and all its descendants. It never needs the
  GIL, so two CPU-bound threads cannot hide or distort their own picture.
* On macOS and Windows the kernel counters are read through ``psutil`` and only **totals**
  are shown (each thread's total from ``time.thread_time()``); the summary and the plot
  say so.

What appears as a lane: every thread and process the code started (children and their
children); the main thread, threads and processes that existed before (from earlier
cells), and the standard library's helpers (a ``Pool``'s three handler threads, a
``Queue``'s feeder thread, the forkserver, the resource tracker) only if they were on a
CPU for at least 10 % of the watched time and 10 ms (``SHOW_SHARE``, ``SHOW_MIN_S``); the
rest are in ``w.hidden``.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import functools
import marshal
import multiprocessing
import os
import select
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import LabError
from .results import Result
from .watch_build import (
    Notes,
    ProcessNote,
    ThreadNote,
    WatchedWorker,
    build_result,
    cores_busy,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_INTERVAL_S",
    "SHOW_MIN_S",
    "SHOW_SHARE",
    "Watch",
    "WatchError",
    "WatchResult",
    "WatchedWorker",
    "watch",
]

#: How often the sampler reads the CPU counters on Linux, in seconds.
DEFAULT_INTERVAL_S = 0.001
#: Coarser polling where only totals are shown (psutil on macOS/Windows).
TOTALS_INTERVAL_S = 0.02
#: Anything the code did not start itself (the main thread, threads and processes from
#: earlier cells) is shown only if it was on a CPU for this share of the watched time ...
SHOW_SHARE = 0.1
#: ... and for at least this many seconds.
SHOW_MIN_S = 0.01
_READY_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0
_SAMPLER = Path(__file__).with_name("watch_sampler.py")

Mode = Literal["proc", "psutil", "none"]
Resolution = Literal["samples", "totals"]


class WatchError(LabError, RuntimeError):
    """The watcher was used in a way it cannot support (e.g. two watches at once)."""


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, repr=False)
class WatchResult(Result):
    """What a watch saw. Built by :class:`Watch` when its ``with`` block ends.

    Attributes:
        workers: the lanes, in the order they started: every thread and process the code
            started, plus anything else that was on a CPU for at least ``SHOW_SHARE`` of
            the time (the main thread doing the work itself, a pool from an earlier cell).
        hidden: what was seen but left out of the picture (idle main thread, the standard
            library's helper threads and processes, idle threads from earlier cells).
        wall_s: seconds from the start of the ``with`` block to its end.
        resolution: ``"samples"`` (when each worker ran, sampled from outside the GIL) or
            ``"totals"`` (only how much CPU each used in all).
        sample_interval_s: the median time between two samples, or ``None`` for totals.
        cores: how many cores this process could use (``usable_cores()``).
        note: why the data is limited, in words ("" when nothing is missing).
        raised: ``"ZeroDivisionError: division by zero"`` if the block ended with an
            exception, else ``None``.
        sampler_cpu_s: CPU seconds the sampler process itself used (its cost).
        others_busy: how many cores *other* programs kept busy on average meanwhile (from
            ``/proc/stat``, in 10 ms ticks, minus this watch's own CPU); ``None`` where
            unknown. A busy machine explains workers that could not run side by side.
    """

    workers: tuple[WatchedWorker, ...]
    hidden: tuple[WatchedWorker, ...]
    wall_s: float
    resolution: Resolution
    sample_interval_s: float | None
    cores: int
    note: str = ""
    raised: str | None = None
    sampler_cpu_s: float | None = None
    others_busy: float | None = None

    @property
    def cpu_s(self) -> float:
        """CPU seconds used by the workers shown (unknown totals count as 0)."""
        return sum(w.cpu_s or 0.0 for w in self.workers)

    def cores_busy(self, edges: list[float] | None = None) -> tuple[list[float], list[float]]:
        """How many cores the shown workers kept busy, per time bin.

        Args:
            edges: bin edges in seconds since the watch began; default: one bin per sample
                interval (at most 2,000 bins) from 0 to ``wall_s``.

        Returns:
            ``(edges, busy)`` with ``len(busy) == len(edges) - 1``; ``busy`` is empty for
            totals-only results.
        """
        return cores_busy(self, edges)

    def summary(self) -> str:
        """One or two sentences computed from the data."""
        from .watch_build import summarize

        return summarize(self)

    def plot(self, ax: Axes | None = None) -> Figure:
        """Draw the timeline: see :func:`concurrency_lab.view.watch_plot.plot_watch`."""
        from ..view.watch_plot import plot_watch

        return plot_watch(self, ax=ax)


# --------------------------------------------------------------------------- hooks

_active: _State | None = None
_active_lock = threading.Lock()

_HELPER_TARGETS = frozenset(
    {
        "Pool._handle_workers",
        "Pool._handle_tasks",
        "Pool._handle_results",
        "Queue._feed",
        "_ResourceSharer._serve",
    }
)


def _is_helper_thread(thread: threading.Thread) -> bool:
    """True for the threads the standard library starts for its own bookkeeping."""
    if type(thread).__name__ == "_ExecutorManagerThread":
        return True
    target = getattr(thread, "_target", None)  # threading keeps the target here
    return (
        getattr(target, "__module__", "").startswith("multiprocessing")
        and getattr(target, "__qualname__", "") in _HELPER_TARGETS
    )


def _functions_in(obj: object) -> Iterator[Any]:
    """The functions and classes that pickle would send *by name* inside ``obj``."""
    if isinstance(obj, functools.partial):
        yield from _functions_in(obj.func)
        for arg in (*obj.args, *obj.keywords.values()):
            yield from _functions_in(arg)
    elif isinstance(obj, (types.FunctionType, types.MethodType, type)):
        yield obj


def _check_sendable(obj: object, what: str, start_method: str) -> None:
    """The runners' own check, so plain code gets the same explanation as ``start_join``."""
    try:
        from .validate import check_can_send
    except ImportError:  # pragma: no cover - before the lead's move of the runners' check
        from .runners import check_can_send  # type: ignore[attr-defined,no-redef]
    for fn in _functions_in(obj):
        check_can_send(fn, what, start_method)


def _start_method_of_process(process: Any) -> str:
    method = getattr(type(process), "_start_method", None)
    return method or multiprocessing.get_start_method()


def _context_method(ctx: Any) -> str:
    getter = getattr(ctx, "get_start_method", None)
    return getter() if callable(getter) else multiprocessing.get_start_method()


class _State:
    """The live state of one watch: its notes and the patches it installed."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.notes = Notes()
        self.saved: list[tuple[type, str, Any]] = []

    def mine(self) -> bool:
        # A forked child inherits the patched classes: it must not record into our copy.
        return _active is self and os.getpid() == self.pid

    def patch(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        self.saved.append((owner, name, original))
        setattr(owner, name, functools.wraps(original)(make(original)))

    def restore(self) -> None:
        while self.saved:
            owner, name, original = self.saved.pop()
            setattr(owner, name, original)

    # ---- the hooks
    def install(self) -> None:
        import concurrent.futures.process as cf_process
        import multiprocessing.pool as mp_pool
        import multiprocessing.process as mp_process

        self.patch(threading.Thread, "start", self._thread_start)
        self.patch(mp_process.BaseProcess, "start", self._process_start)
        for name in (
            "apply",
            "apply_async",
            "map",
            "map_async",
            "starmap",
            "starmap_async",
            "imap",
            "imap_unordered",
        ):
            self.patch(mp_pool.Pool, name, self._pool_method)
        for name in ("__init__", "submit", "map"):
            self.patch(cf_process.ProcessPoolExecutor, name, self._executor_method(name))

    def _thread_start(self, original: Callable[..., Any]) -> Callable[..., Any]:
        state = self

        def start(thread: threading.Thread) -> None:
            if not state.mine():
                return original(thread)
            note = ThreadNote(
                name=thread.name,
                called_ns=time.perf_counter_ns(),
                helper=_is_helper_thread(thread),
            )
            # Wrap the thread's outermost function (not run()): our frame stays out of the
            # tracebacks a failing thread prints.
            where = "_bootstrap" if hasattr(thread, "_bootstrap") else "run"
            inner = getattr(thread, where)

            def noted() -> None:
                note.begin_ns = time.perf_counter_ns()
                note.tid = threading.get_native_id()
                try:
                    inner()
                finally:
                    note.cpu_ns = time.thread_time_ns()
                    note.end_ns = time.perf_counter_ns()

            setattr(thread, where, noted)
            state.notes.threads.append(note)
            try:
                return original(thread)
            finally:
                thread.__dict__.pop(where, None)

        return start

    def _process_start(self, original: Callable[..., Any]) -> Callable[..., Any]:
        state = self

        def start(process: Any) -> None:
            if not state.mine():
                return original(process)
            method = _start_method_of_process(process)
            if method != "fork":
                cls = type(process)
                if cls.__module__ == "__main__":
                    _check_sendable(cls, "process class", method)
                target = getattr(process, "_target", None)
                if target is not None:
                    _check_sendable(target, "target", method)
                for arg in (*process._args, *process._kwargs.values()):
                    if isinstance(arg, (types.FunctionType, functools.partial, type)):
                        _check_sendable(arg, "argument", method)
            note = ProcessNote(
                name=process.name,
                called_ns=time.perf_counter_ns(),
                parent=multiprocessing.current_process().name,
            )
            original(process)
            note.pid = process.pid
            state.notes.processes.append(note)

        return start

    def _pool_method(self, original: Callable[..., Any]) -> Callable[..., Any]:
        state = self

        def method(pool: Any, *args: Any, **kwargs: Any) -> Any:
            from multiprocessing.pool import ThreadPool

            if state.mine() and not isinstance(pool, ThreadPool):
                start_method = _context_method(getattr(pool, "_ctx", None))
                func = args[0] if args else kwargs.get("func")
                if start_method != "fork":
                    _check_sendable(func, "function", start_method)
            return original(pool, *args, **kwargs)

        return method

    def _executor_method(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        state = self

        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def method(executor: Any, *args: Any, **kwargs: Any) -> Any:
                if state.mine():
                    if name == "__init__":
                        ctx = kwargs.get("mp_context", args[1] if len(args) > 1 else None)
                        fn = kwargs.get("initializer", args[2] if len(args) > 2 else None)
                        what = "initializer"
                    else:
                        ctx = getattr(executor, "_mp_context", None)
                        fn = args[0] if args else kwargs.get("fn")
                        what = "function"
                    start_method = _context_method(ctx)
                    if fn is not None and start_method != "fork":
                        _check_sendable(fn, what, start_method)
                return original(executor, *args, **kwargs)

            return method

        return make


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
        flags = ["-I", "-S"] if mode == "proc" else ["-I"]
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

    def wait_ready(self, timeout_s: float) -> bool:
        line = _read_line(self.proc, timeout_s)
        return line.startswith(b"ready ")

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


def _machine_ticks() -> tuple[int, int, int] | None:
    """``(busy, total, n_cpus)`` clock ticks of the whole machine so far (Linux), else None."""
    try:
        with open("/proc/stat", "rb") as f:
            text = f.read(65536)
    except OSError:
        return None
    lines = text.split(b"\n")
    try:
        fields = [int(x) for x in lines[0].split()[1:9]]
    except ValueError:
        return None
    if len(fields) < 8:
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    n_cpus = sum(1 for line in lines[1:] if line.startswith(b"cpu"))
    return sum(fields) - idle, sum(fields), n_cpus


def _read_line(proc: subprocess.Popen[bytes], timeout_s: float) -> bytes:
    """Read one line from the sampler's stdout, waiting at most ``timeout_s``."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout_s
    data = b""
    if os.name != "posix":  # select() works on sockets only there: read in a thread
        box: list[bytes] = []
        reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()))  # type: ignore[union-attr]
        reader.daemon = True
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
        self._state: _State | None = None
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
        global _active
        with _active_lock:
            if _active is not None and _active.pid == os.getpid():
                raise WatchError(
                    "cl.watch() is already watching in this process: one watch at a time. "
                    "Put all the code you want to see in one 'with cl.watch()' block (or one "
                    "%%timeline cell)."
                )
            state = _State()
            _active = state
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
                if not self._sampler.wait_ready(_READY_TIMEOUT_S):
                    self._sampler.kill()
                    self._sampler = None
                    notes.problem = (
                        f"the sampler process did not start within {_READY_TIMEOUT_S:g} s"
                    )
                    mode = "none"
            notes.mode = mode
            state.install()
        except BaseException:
            self._abandon()
            raise
        notes.machine_enter = _machine_ticks()
        notes.cpu_enter_ns = time.thread_time_ns()
        notes.t0_ns = time.perf_counter_ns()
        return self

    def _abandon(self) -> None:
        global _active
        state = self._state
        try:
            if state is not None:
                state.restore()
        finally:
            with _active_lock:
                if _active is state:
                    _active = None
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
        notes.machine_exit = _machine_ticks()
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
            self._result = build_result(
                notes, payload, show_all=self._show_all, raised=raised, result_type=WatchResult
            )
        except Exception as build_error:
            if exc is None:
                raise
            # Never hide the learner's own error behind one of ours.
            notes.problem = f"the watcher could not read its samples ({build_error!r})"
            self._result = build_result(
                notes, None, show_all=self._show_all, raised=raised, result_type=WatchResult
            )
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
