"""The child-process and worker-thread harness: what runs inside each worker, and how the
parent stops, describes and reports on them.

Inside a worker: output forwarding (each line labelled with the worker's name), span
recording and result reporting, all module-level so ``spawn`` and ``forkserver`` children can
unpickle them by name. In the parent: :func:`stop_processes` (terminate, then kill, then join),
:func:`describe_exit` (an exit code in words) and :func:`worker_error` (a remote traceback as a
:class:`~concurrency_lab.core.errors.WorkerError`). The runners in
:mod:`concurrency_lab.core.runners` are built on it.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing.connection
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .errors import WorkerError
from .tracing import Recorder, Span, activate

__all__ = [
    "ProgramRun",
    "describe_exit",
    "end_process_tree",
    "run_program",
    "stop_processes",
    "worker_error",
]

# --------------------------------------------------------------------------- output routing


class _LineWriter(io.TextIOBase):
    """A text stream that hands each complete line to ``emit(line)``."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        super().__init__()
        self._emit = emit
        self._buffer = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        with self._lock:
            self._buffer += s
            *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._emit(line)
        return len(s)

    def flush(self) -> None:
        with self._lock:
            rest, self._buffer = self._buffer, ""
        if rest:
            self._emit(rest)


class _ThreadRouter(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr`` while worker threads run.

    Lines printed by a registered worker thread are queued, labelled, and printed
    by the thread that started the run: in Jupyter, that lands them in the cell
    that started the workers instead of whichever cell happens to run later.
    Other threads write straight through.
    """

    def __init__(self, original: TextIO, lines: queue.SimpleQueue[tuple[str, str]]) -> None:
        super().__init__()
        self.original = original
        self._lines = lines
        self._local = threading.local()

    def writable(self) -> bool:
        return True

    def register(self, worker: str) -> None:
        self._local.writer = _LineWriter(lambda line: self._lines.put((worker, line)))

    def unregister(self) -> None:
        writer = getattr(self._local, "writer", None)
        if writer is not None:
            writer.flush()
        self._local.writer = None

    def write(self, s: str) -> int:
        writer = getattr(self._local, "writer", None)
        written: int = (self.original if writer is None else writer).write(s)
        return written

    def flush(self) -> None:
        writer = getattr(self._local, "writer", None)
        if writer is None and not getattr(self.original, "closed", False):
            self.original.flush()

    def close(self) -> None:
        """Never close the stream we stand in for (``io`` calls this when collected)."""


class RoutedOutput:
    """Context manager: route worker-thread output, print it labelled from the caller."""

    def __init__(self) -> None:
        self.lines: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self.routers: list[_ThreadRouter] = []

    def __enter__(self) -> RoutedOutput:
        self._saved = (sys.stdout, sys.stderr)
        self.stdout = _ThreadRouter(sys.stdout, self.lines)
        self.stderr = _ThreadRouter(sys.stderr, self.lines)
        sys.stdout, sys.stderr = self.stdout, self.stderr
        return self

    def register(self, worker: str) -> None:
        self.stdout.register(worker)
        self.stderr.register(worker)

    def unregister(self) -> None:
        self.stdout.unregister()
        self.stderr.unregister()

    def drain(self) -> None:
        while True:
            try:
                worker, line = self.lines.get_nowait()
            except queue.Empty:
                return
            print_labelled(worker, line, self._saved[0])

    def __exit__(self, *exc: object) -> None:
        if sys.stdout is self.stdout:
            sys.stdout = self._saved[0]
        if sys.stderr is self.stderr:
            sys.stderr = self._saved[1]
        self.drain()


def print_labelled(worker: str, line: str, stream: TextIO | None = None) -> None:
    print(f"[{worker}] {line}", file=stream or sys.stdout, flush=True)


def _run_label(target: Callable[..., Any]) -> str:
    return getattr(target, "__name__", None) or type(target).__name__


def process_main(
    target: Callable[..., Any],
    args: tuple[Any, ...],
    worker: str,
    conn: multiprocessing.connection.Connection,
) -> None:
    """Body of each child process of :func:`start_join` (module-level, so picklable)."""
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            conn.send(message)

    out = _LineWriter(lambda line: send(("out", line)))
    sys.stdout = sys.stderr = out
    rec = Recorder(worker)
    activate(rec)
    start = time.perf_counter_ns()
    try:
        result = target(*args)
    except BaseException as exc:  # report everything, even SystemExit
        end = time.perf_counter_ns()
        out.flush()
        rec.record(_run_label(target), start, end)
        send(("error", type(exc).__name__, str(exc), traceback.format_exc(), rec.raw()))
    else:
        end = time.perf_counter_ns()
        out.flush()
        rec.record(_run_label(target), start, end)
        try:
            send(("done", result, rec.raw()))
        except Exception as exc:
            send(
                (
                    "error",
                    "UnpicklableError",
                    f"the worker finished, but its result of type {type(result).__name__} "
                    f"cannot be sent back to the parent ({exc}). Return plain data instead.",
                    "",
                    rec.raw(),
                )
            )
    finally:
        conn.close()


class ThreadSlot:
    __slots__ = ("done", "error", "result", "spans")

    def __init__(self) -> None:
        self.done = False
        self.result: Any = None
        self.error: tuple[str, str, str] | None = None
        self.spans: list[Span] = []


def thread_main(
    slot: ThreadSlot,
    routed: RoutedOutput,
    target: Callable[..., Any],
    args: tuple[Any, ...],
    worker: str,
) -> None:
    rec = Recorder(worker)
    activate(rec)
    routed.register(worker)
    start = time.perf_counter_ns()
    try:
        slot.result = target(*args)
    except BaseException as exc:
        slot.error = (type(exc).__name__, str(exc), traceback.format_exc())
    finally:
        rec.record(_run_label(target), start, time.perf_counter_ns())
        routed.unregister()
        activate(None)
        slot.spans = rec.spans()
        slot.done = True


def task_main(
    workload: Callable[..., Any], task_args: tuple[Any, ...], capture: bool
) -> tuple[Any, ...]:
    """Body of one pool task (module-level, so picklable); never raises."""
    rec = Recorder("")
    activate(rec)
    buffer = io.StringIO()
    saved = sys.stdout, sys.stderr
    if capture:  # a pool process runs one task at a time: swapping its stdout is safe
        sys.stdout = sys.stderr = buffer
    start = time.perf_counter_ns()
    try:
        result = workload(*task_args)
        status, payload = "done", result
    except BaseException as exc:
        status, payload = "error", (type(exc).__name__, str(exc), traceback.format_exc())
    finally:
        end = time.perf_counter_ns()
        if capture:
            sys.stdout, sys.stderr = saved
        activate(None)
    rec.record(_run_label(workload), start, end)
    ident = (os.getpid(), threading.get_ident())
    if status == "done" and capture:  # a process must send it back; a thread shares it
        try:
            pickle.dumps(payload)
        except Exception as exc:
            status, payload = (
                "error",
                (
                    "UnpicklableError",
                    f"the task finished, but its result of type {type(payload).__name__} cannot "
                    f"be sent back to the parent ({exc}). Return plain data instead.",
                    "",
                ),
            )
    return status, payload, rec.raw(), ident, buffer.getvalue()


def thread_task_main(
    routed: RoutedOutput,
    names: dict[int, str],
    lock: threading.Lock,
    workload: Callable[..., Any],
    task_args: tuple[Any, ...],
) -> tuple[Any, ...]:
    tid = threading.get_ident()
    with lock:
        name = names.setdefault(tid, f"worker-{len(names) + 1}")
    routed.register(name)
    try:
        return task_main(workload, task_args, capture=False)
    finally:
        routed.unregister()


def worker_error(worker: str, exc_type: str, message: str, tb: str) -> WorkerError:
    text = f"{worker} raised {exc_type}: {message}"
    if tb:
        text += f"\n\n--- traceback inside {worker} ---\n{tb.rstrip()}"
    return WorkerError(text, worker=worker, exc_type=exc_type, remote_traceback=tb)


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "it was still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"it was killed by {name} (exit code {exitcode})"
    return f"it exited with code {exitcode} without reporting a result (e.g. os._exit)"


def stop_processes(procs: Iterable[Any], grace_s: float = 1.0) -> None:
    """Terminate, then kill, then join every process that is still alive."""
    procs = list(procs)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join(timeout=5)


# --------------------------------------------------------------------------- whole programs


@dataclass(frozen=True)
class ProgramRun:
    """How a child program ended (see :func:`run_program`).

    Attributes:
        returncode: its exit code; ``None`` when the lab stopped it on timeout.
        stdout, stderr: what it printed (UTF-8, undecodable bytes replaced).
        timed_out: it ran past the timeout, and it and its children were killed.
    """

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool


def end_process_tree(
    proc: subprocess.Popen[Any],
    *,
    platform: str = sys.platform,
    run: Callable[..., Any] = subprocess.run,
) -> None:
    """End ``proc`` and every process it started, then reap ``proc``.

    POSIX: :func:`run_program` starts the child in a new session (its own process group), so
    ``os.killpg`` ends the whole group. Windows has no process groups to kill: the child's
    descendants are found with psutil (from the lab extra) and killed, then the child;
    without psutil, ``taskkill /T /F`` does it.
    """
    if platform != "win32" and hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    else:
        try:
            import psutil

            try:
                kids = psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                kids = []
            for kid in kids:
                with contextlib.suppress(psutil.Error):
                    kid.kill()
            proc.kill()
            psutil.wait_procs(kids, timeout=5)
        except ImportError:
            run(
                ["taskkill", "/T", "/F", "/PID", str(proc.pid)],
                capture_output=True,
                timeout=15,
                check=False,
            )
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def run_program(
    args: Sequence[str],
    *,
    timeout_s: float,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> ProgramRun:
    """Run ``args`` as a child program and wait for it, at most ``timeout_s`` seconds.

    On timeout (and on an interrupt) the program and every process it started are ended
    (:func:`end_process_tree`); nothing is left behind.
    """
    posix = sys.platform != "win32" and hasattr(os, "killpg")
    proc = subprocess.Popen(
        list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=cwd,
        env=env,
        start_new_session=posix,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        end_process_tree(proc)
        out, err = "", ""
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
            out, err = proc.communicate(timeout=5)
        return ProgramRun(None, out or "", err or "", True)
    except BaseException:  # e.g. KeyboardInterrupt: leave nothing behind
        end_process_tree(proc)
        raise
    return ProgramRun(proc.returncode, out, err, False)
