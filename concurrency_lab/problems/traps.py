"""The common problems clinic: each trap reproduced safely, measured, and fixed.

Every function here reproduces one problem of threads or processes in a way
that cannot hang: each wait has a timeout, every child is joined or killed, and
the result says what happened (an exit code, a timeout, the error text) so the
notebook can show it and a test can assert it. Most take ``fix=True`` (or an
equivalent switch) to run the repaired version side by side.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import io
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.children import stop_processes
from ..core.errors import LabError
from ..core.machine import check_start_method, get_context, usable_cores
from ..core.runners import run_tasks, start_join
from ..core.validate import check_timeout
from ..core.workloads import calibrate, cpu_bound, noop

__all__ = [
    "CLINIC",
    "CoreCounts",
    "DeadWorkerResult",
    "ForkLockResult",
    "GlobalsDemo",
    "LargeArgumentCost",
    "OrphanResult",
    "OutputDemo",
    "OversubscriptionResult",
    "PickleCheck",
    "QueueJoinResult",
    "ScriptRun",
    "ThreadExceptionResult",
    "ZombieResult",
    "checksum",
    "clinic",
    "core_counts",
    "cores_under_affinity",
    "count_lines",
    "dead_worker",
    "fork_with_held_lock",
    "global_counter",
    "large_argument_cost",
    "late_thread_print",
    "main_guard_script",
    "orphan_demo",
    "oversubscription",
    "pickle_check",
    "plain_executor",
    "process_exit_codes",
    "queue_join",
    "square",
    "thread_exception",
    "where_output_goes",
    "zombie_demo",
]


# --------------------------------------------------------------------------- worker functions


def square(x: int) -> int:
    """Return ``x * x``: a worker that lives in a module, so every start method can find it.

    >>> square(7)
    49
    """
    return x * x


def checksum(data: bytes) -> int:
    """CRC-32 of ``data`` (a cheap way to prove the worker saw every byte).

    >>> checksum(b"abc")
    891568578
    """
    return zlib.crc32(data)


def _make_and_checksum(n_bytes: int) -> int:
    return zlib.crc32(bytes(n_bytes))


def count_lines(path: str) -> int:
    """Count the lines of the text file at ``path``: send the *path* to a process, not the file."""
    with open(path) as f:
        return sum(1 for _ in f)


# --------------------------------------------------------------------------- 0. notebook functions


def plain_executor(
    fn: Callable[..., Any], *args: Any, start_method: str = "spawn", timeout_s: float = 10.0
) -> str:
    """Run ``fn(*args)`` on a plain ``ProcessPoolExecutor`` (no lab checks); describe the outcome.

    With a function defined in a notebook (or in ``python -c``) under ``spawn`` or
    ``forkserver``, the worker cannot find it by name and dies; the executor then
    reports ``BrokenProcessPool``. The worker's own ``AttributeError`` goes to its
    stderr, which in Jupyter is the terminal, not the notebook.

    >>> plain_executor(square, 4, start_method="spawn")
    'result: 16'
    """
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ex = cf.ProcessPoolExecutor(1, mp_context=get_context(method))
    seen: dict[int, Any] = {}
    try:
        future = ex.submit(fn, *args)
        seen.update(getattr(ex, "_processes", None) or {})
        try:
            return f"result: {future.result(timeout=timeout_s)!r}"
        except cf.process.BrokenProcessPool as exc:
            return f"BrokenProcessPool: {exc}"
        except cf.TimeoutError:
            return f"timed out after {timeout_s:g} s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
    finally:
        seen.update(getattr(ex, "_processes", None) or {})
        ex.shutdown(wait=False, cancel_futures=True)
        stop_processes(seen.values())


# --------------------------------------------------------------------------- 1. the __main__ guard


_SCRIPT_HEAD = """\
import multiprocessing as mp


def work():
    print("child: working", flush=True)

"""

_SCRIPT_BODY = """\
ctx = mp.get_context({method!r})
p = ctx.Process(target=work)
p.start()
p.join(30)
print("parent: child exit code", p.exitcode, flush=True)
"""


@dataclass(frozen=True)
class ScriptRun:
    """A script run as a separate ``python`` process, and what it printed.

    Attributes:
        script: the script's source.
        returncode: the script's exit code (``None`` if it was killed on timeout).
        stdout, stderr: what it printed.
        timed_out: the lab killed it after ``timeout_s``.
    """

    script: str
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool

    @property
    def bootstrapping_error(self) -> bool:
        """True if a child refused to start a process during its own start-up."""
        return "bootstrapping phase" in self.stderr


def main_guard_script(
    *, guarded: bool, start_method: str = "spawn", timeout_s: float = 60.0
) -> ScriptRun:
    """Write a tiny script that starts one process, run it with ``python``, and capture it.

    Under ``spawn`` and ``forkserver`` a child imports the main script again to
    find ``work``. Without ``if __name__ == "__main__":`` that import runs the
    top-level code again, which tries to start another process from inside the
    child: multiprocessing stops it with ``RuntimeError: An attempt has been
    made to start a new process before the current process has finished its
    bootstrapping phase``. Under ``fork`` nothing is re-imported.

    Args:
        guarded: put the process-starting code under the ``__main__`` guard.
        start_method: the script's start method.
        timeout_s: the script is killed after this long.
    """
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    body = _SCRIPT_BODY.format(method=method)
    if guarded:
        body = 'if __name__ == "__main__":\n' + "".join(
            "    " + line + "\n" for line in body.splitlines()
        )
    script = _SCRIPT_HEAD + body
    with tempfile.TemporaryDirectory(prefix="lab-guard-") as tmp:
        path = os.path.join(tmp, "my_script.py")
        with open(path, "w") as f:
            f.write(script)
        proc = subprocess.Popen(
            [sys.executable, path],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp,
            start_new_session=hasattr(os, "killpg"),
        )
        try:
            out, err = proc.communicate(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            out, err = proc.communicate(timeout=5)
            timed_out = True
    return ScriptRun(
        script=script,
        returncode=None if timed_out else proc.returncode,
        stdout=out,
        stderr=err,
        timed_out=timed_out,
    )


def _kill_tree(pid: int, *, include_root: bool = True) -> None:
    """Kill ``pid``'s descendants (deepest first does not matter: SIGKILL), then ``pid``."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), *([root] if include_root else [])]
    except psutil.Error:
        return
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()
    # Only the root is our own child; the others are reaped by whoever adopts them,
    # so for those wait until they are dead (gone, or a zombie awaiting its reaper).
    if include_root:
        psutil.wait_procs([root], timeout=5)
    wait_dead([p for p in procs if p is not root])


def wait_dead(procs: list[Any], timeout_s: float = 5.0) -> None:
    import psutil

    deadline = time.monotonic() + timeout_s
    for p in procs:
        while time.monotonic() < deadline:
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.005)


# --------------------------------------------------------------------------- 2. fork with threads

_FORK_LOCK = threading.Lock()


def _try_lock_then_exit(timeout_s: float) -> None:
    got = _FORK_LOCK.acquire(timeout=timeout_s)
    if got:
        _FORK_LOCK.release()
    sys.exit(0 if got else 3)


@dataclass(frozen=True)
class ForkLockResult:
    """A child started while another thread of the parent held a lock.

    Attributes:
        start_method: how the child started.
        warning: the ``DeprecationWarning`` text Python 3.12+ gave at ``fork()``, or ``None``.
        child_acquired: whether the child could take the lock within its timeout.
        child_exitcode: 0 = acquired, 3 = gave up (it would have waited forever without a timeout).
    """

    start_method: str
    warning: str | None
    child_acquired: bool
    child_exitcode: int | None


def fork_with_held_lock(
    *, start_method: str = "fork", child_timeout_s: float = 1.0, timeout_s: float = 30.0
) -> ForkLockResult:
    """Start a child while a background thread holds a lock; can the child take it?

    ``fork()`` copies the whole memory, including the lock *in its held state*,
    but only the thread that called ``fork()``. In the child no thread will ever
    release the lock: a plain ``acquire()`` there waits forever. (This is how a
    forked child can hang inside ``logging``, ``print`` or a C library.) Here the
    child waits at most ``child_timeout_s`` and reports that it could not. Under
    ``spawn`` or ``forkserver`` the child builds its own, free lock.
    """
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with _FORK_LOCK:
            held.set()
            release.wait(timeout_s)

    t = threading.Thread(target=holder, name="lock-holder", daemon=True)
    t.start()
    p = None
    try:
        if not held.wait(timeout_s):
            raise LabError("the lock-holding thread did not start")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DeprecationWarning)
            p = ctx.Process(target=_try_lock_then_exit, args=(child_timeout_s,), daemon=True)
            p.start()
        p.join(child_timeout_s + timeout_s)
    finally:
        release.set()
        t.join(timeout_s)
        if p is not None and p.pid is not None:
            stop_processes([p])
    assert p is not None
    fork_warnings = [str(w.message) for w in caught if "fork()" in str(w.message)]
    return ForkLockResult(
        start_method=method,
        warning=fork_warnings[0] if fork_warnings else None,
        child_acquired=p.exitcode == 0,
        child_exitcode=p.exitcode,
    )


# --------------------------------------------------------------------------- 3. exceptions


def divide(a: float, b: float) -> float:
    return a / b


@dataclass(frozen=True)
class ThreadExceptionResult:
    """What the starting thread learned when a worker thread raised.

    Attributes:
        fix: ``False`` = a bare ``threading.Thread``; ``True`` = an executor's future.
        silent: the starting thread's wait (``join()``) ended with no sign of the error.
        hook_saw: what ``threading.excepthook`` received (it only prints by default).
        caught: the error the starting thread caught, or ``None``.
    """

    fix: bool
    silent: bool
    hook_saw: str | None
    caught: str | None


def thread_exception(*, fix: bool = False, timeout_s: float = 10.0) -> ThreadExceptionResult:
    """A worker thread divides by zero: does the thread that started it find out?

    With a bare ``threading.Thread``, no: the exception goes to
    ``threading.excepthook`` (which prints a traceback to stderr, perhaps not
    even in the notebook) and ``join()`` returns as if all went well. With
    ``concurrent.futures``, ``future.result()`` raises it again in the caller.
    The hook is replaced for the moment of the demo and then restored.
    """
    timeout_s = check_timeout(timeout_s)
    seen: list[str] = []
    saved = threading.excepthook
    threading.excepthook = lambda args: seen.append(f"{args.exc_type.__name__}: {args.exc_value}")
    caught = None
    joined = False
    try:
        if not fix:
            t = threading.Thread(target=divide, args=(1, 0), name="divider")
            t.start()
            t.join(timeout_s)
            joined = not t.is_alive()
        else:
            with cf.ThreadPoolExecutor(1) as ex:
                future = ex.submit(divide, 1, 0)
                try:
                    future.result(timeout=timeout_s)
                    joined = True
                except ZeroDivisionError as exc:
                    caught = f"{type(exc).__name__}: {exc}"
    finally:
        threading.excepthook = saved
    return ThreadExceptionResult(
        fix=fix, silent=joined, hook_saw=seen[0] if seen else None, caught=caught
    )


def _raise_value_error() -> None:
    sys.stderr = io.StringIO()  # keep the demo's traceback out of the terminal
    raise ValueError("something went wrong in the child")


def _exit_with(code: int) -> None:
    os._exit(code)


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def process_exit_codes(
    *, start_method: str | None = None, timeout_s: float = 30.0
) -> dict[str, int]:
    """Start four processes that end four ways; return each one's ``exitcode``.

    A bare ``Process`` does not pass its exception to the parent (executors do, by
    pickling it): all the parent gets is the exit code. 0 = returned normally;
    1 = an uncaught exception; any other positive number = ``sys.exit(n)`` or
    ``os._exit(n)``; negative = killed by that signal (``-9`` = ``SIGKILL``, e.g.
    the kernel's out-of-memory killer).
    """
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    plan: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
        "returned normally": (noop, ()),
        "raised ValueError": (_raise_value_error, ()),
        "called os._exit(3)": (_exit_with, (3,)),
        "killed by SIGKILL": (_kill_self, ()),
    }
    procs = {
        name: ctx.Process(target=fn, args=args, daemon=True) for name, (fn, args) in plan.items()
    }
    try:
        for p in procs.values():
            p.start()
        deadline = time.monotonic() + timeout_s
        for p in procs.values():
            p.join(max(0.0, deadline - time.monotonic()))
    finally:
        stop_processes(p for p in procs.values() if p.pid is not None)
    return {name: p.exitcode for name, p in procs.items()}  # type: ignore[misc]


def _maybe_die(i: int) -> int:
    if i == 0:
        os._exit(7)
    return i


@dataclass(frozen=True)
class DeadWorkerResult:
    """What the caller saw when a pool worker died mid-task.

    Attributes:
        api: ``"pool"`` (``multiprocessing.Pool``) or ``"executor"`` (``ProcessPoolExecutor``).
        outcome: ``"timed out"`` (it would have waited forever) or ``"BrokenProcessPool"``.
        message: the error text.
        waited_s: how long the caller waited before it knew.
    """

    api: str
    outcome: str
    message: str
    waited_s: float


def dead_worker(
    *, api: str = "executor", start_method: str | None = None, timeout_s: float = 2.0
) -> DeadWorkerResult:
    """One task kills its worker process (``os._exit(7)``); does the caller notice?

    ``multiprocessing.Pool`` quietly replaces the dead worker, but the task it was
    running never reports back, so ``result.get()`` without a timeout waits
    forever; here it waits ``timeout_s``. ``ProcessPoolExecutor`` notices the
    death and fails every pending future with ``BrokenProcessPool`` at once.
    """
    if api not in ("pool", "executor"):
        raise ValueError(f"'api' must be 'pool' or 'executor' (got {api!r}).")
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    start = time.perf_counter()
    if api == "pool":
        outcome, message, waited = _dead_worker_in_pool(ctx, timeout_s)
        # The pool's semaphores are unlinked only when its objects are collected.
        gc.collect()
        return DeadWorkerResult(api, outcome, message, waited)
    ex = cf.ProcessPoolExecutor(2, mp_context=ctx)
    seen: dict[int, Any] = {}
    try:
        try:
            futures = []
            for i in range(4):
                futures.append(ex.submit(_maybe_die, i))
                seen.update(getattr(ex, "_processes", None) or {})
            for f in futures:
                f.result(timeout=timeout_s)
            outcome, message = "finished", ""
        except cf.process.BrokenProcessPool as exc:
            outcome, message = "BrokenProcessPool", str(exc)
        except cf.TimeoutError:
            outcome, message = "timed out", f"no result after {timeout_s:g} s"
        waited = time.perf_counter() - start
    finally:
        seen.update(getattr(ex, "_processes", None) or {})
        ex.shutdown(wait=False, cancel_futures=True)
        stop_processes(seen.values())
    return DeadWorkerResult(api, outcome, message, waited)


def _dead_worker_in_pool(ctx: Any, timeout_s: float) -> tuple[str, str, float]:
    start = time.perf_counter()
    pool = ctx.Pool(2)
    try:
        pending = pool.map_async(_maybe_die, [0, 1, 2, 3])
        try:
            pending.get(timeout=timeout_s)
            outcome, message = "finished", ""
        except multiprocessing.TimeoutError:
            outcome = "timed out"
            message = (
                f"no result after {timeout_s:g} s: the task's worker died and the pool "
                f"replaced it, but nobody re-runs the lost task or reports it"
            )
        waited = time.perf_counter() - start
    finally:
        pool.terminate()
        pool.join()
    return outcome, message, waited


# --------------------------------------------------------------------------- 4. where output goes


@dataclass(frozen=True)
class OutputDemo:
    """Where printed text ended up.

    Attributes:
        where: label of each place we looked (e.g. ``"cell 1"``, ``"cell 2"``).
        seen: the text found in each place, same order.
    """

    where: tuple[str, ...]
    seen: tuple[str, ...]

    def text(self, where: str) -> str:
        """The text found in ``where``."""
        return self.seen[self.where.index(where)]


def late_thread_print(*, timeout_s: float = 10.0) -> OutputDemo:
    """A background thread started in one "cell" prints after that cell has finished.

    Jupyter points ``sys.stdout`` at the cell that is running. A thread that
    prints later writes wherever ``sys.stdout`` points *then*: under a later
    cell, or nowhere visible. Here two ``redirect_stdout`` blocks play the two
    cells.
    """
    timeout_s = check_timeout(timeout_s)
    go = threading.Event()
    cell_1, cell_2 = io.StringIO(), io.StringIO()

    def background() -> None:
        go.wait(timeout_s)
        print("background thread: finished my work")

    t = threading.Thread(target=background, name="background", daemon=True)
    try:
        with contextlib.redirect_stdout(cell_1):
            t.start()  # cell 1 starts the thread and ends
        with contextlib.redirect_stdout(cell_2):
            go.set()  # ...the thread prints while cell 2 runs
            t.join(timeout_s)
    finally:
        go.set()
        t.join(timeout_s)
    return OutputDemo(("cell 1", "cell 2"), (cell_1.getvalue(), cell_2.getvalue()))


def _hello_from_child() -> str:
    print(f"hello from process {os.getpid()}")
    sys.stdout.flush()
    return "returned value"


def where_output_goes(
    *, start_method: str | None = None, relay: bool = False, timeout_s: float = 30.0
) -> OutputDemo:
    """A child process prints; does the text reach the parent's ``sys.stdout`` object?

    A program that captures output (a test runner, a web server, a notebook)
    replaces ``sys.stdout`` with an object of its own. A ``spawn``/``forkserver``
    child has a fresh ``sys.stdout`` on file descriptor 1; a ``fork`` child writes
    to its own *copy* of the parent's object. Either way nothing arrives in the
    parent's object. (Jupyter's kernel adds plumbing that forwards some child
    output, at the file-descriptor level, into whichever cell is running; other
    runners, such as nbval, drop it.) Here the parent's ``sys.stdout`` is a plain
    buffer. With ``relay=True`` the lab's :func:`~concurrency_lab.start_join`
    sends the child's lines back through a pipe and prints them in the parent,
    labelled.

    Returns:
        An :class:`OutputDemo` with what the parent's ``sys.stdout`` received
        (``"parent"``) and the value the child returned (``"return value"``).
    """
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    buffer = io.StringIO()
    returned = ""
    with contextlib.redirect_stdout(buffer):
        if relay:
            run = start_join(
                _hello_from_child, 1, kind="process", start_method=method, timeout_s=timeout_s
            )
            returned = str(run.results[0])
        else:
            p = get_context(method).Process(target=_hello_from_child, daemon=True)
            try:
                p.start()
                p.join(timeout_s)
            finally:
                if p.pid is not None:
                    stop_processes([p])
            returned = f"(a bare Process returns nothing; exit code {p.exitcode})"
    return OutputDemo(("parent", "return value"), (buffer.getvalue(), returned))


# --------------------------------------------------------------------------- 5. zombies, orphans


@dataclass(frozen=True)
class ZombieResult:
    """A child that finished before its parent waited for it.

    Attributes:
        status_before_join: the child's state before ``join()``, e.g. ``"zombie"``.
        exists_after_join: whether any trace of it was left after ``join()``.
    """

    status_before_join: str
    exists_after_join: bool


def zombie_demo(*, start_method: str = "spawn", timeout_s: float = 10.0) -> ZombieResult:
    """Start a child that exits at once, look at it before ``join()``, then join it.

    A finished child stays in the process table as a *zombie* (it keeps its exit
    code for the parent) until the parent waits for it, which ``join()`` does.
    Only ``fork`` and ``spawn`` children are our own children; a ``forkserver``
    child belongs to the server, which reaps it.
    """
    import psutil

    if start_method not in ("fork", "spawn"):
        raise ValueError(
            f"'start_method' must be 'fork' or 'spawn' for this demo (got {start_method!r}): "
            f"a forkserver child is the server's child, not ours."
        )
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    p = get_context(method).Process(target=noop, daemon=True)
    p.start()
    status = "unknown"
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                status = psutil.Process(p.pid).status()
            except psutil.NoSuchProcess:
                status = "gone"
                break
            if status == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.01)
    finally:
        pid = p.pid
        p.join(timeout_s)
        stop_processes([p])
    try:
        exists = psutil.Process(pid).status() is not None
    except psutil.NoSuchProcess:
        exists = False
    return ZombieResult(status_before_join=status, exists_after_join=exists)


_GRANDCHILD = "import time; time.sleep(60)"


def _start_grandchild(conn: Any) -> None:
    gc = subprocess.Popen([sys.executable, "-c", _GRANDCHILD])
    conn.send(gc.pid)
    conn.close()
    time.sleep(60)


_GRANDCHILD_WITH_CHILD = (
    "import subprocess, sys, time\n"
    "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(c.pid, flush=True)\n"
    "time.sleep(60)\n"
)


def start_two_levels(conn: Any) -> None:
    """Start a process that starts one more; send both pids, then wait to be stopped."""
    gc = subprocess.Popen([sys.executable, "-c", _GRANDCHILD_WITH_CHILD], stdout=subprocess.PIPE)
    assert gc.stdout is not None
    line = gc.stdout.readline()  # the great-grandchild's pid (b"" if gc failed)
    conn.send((gc.pid, int(line)))
    conn.close()
    time.sleep(60)


@dataclass(frozen=True)
class OrphanResult:
    """What happened to a grandchild when its parent (our child) was killed.

    Attributes:
        cleanup: ``"none"`` (kill only the child) or ``"tree"`` (its children first).
        child_pid, grandchild_pid: the two processes.
        grandchild_parent_after: the grandchild's new parent pid (``None`` if it was gone).
        orphan_survived: the grandchild was still running after its parent died.
    """

    cleanup: str
    child_pid: int
    grandchild_pid: int
    grandchild_parent_after: int | None
    orphan_survived: bool


def orphan_demo(
    *, cleanup: str = "none", start_method: str | None = None, timeout_s: float = 10.0
) -> OrphanResult:
    """Kill a worker that started a process of its own: is the grandchild left behind?

    Killing a process (``terminate()``, ``kill()``, a crash) does not kill its
    children: they become *orphans*, adopted by ``init`` (pid 1) or a
    "subreaper", and run on. ``cleanup="tree"`` kills the children first
    (``psutil.Process(pid).children(recursive=True)``), then the worker. The lab
    always kills the grandchild at the end, so nothing is left running.
    """
    import psutil

    if cleanup not in ("none", "tree"):
        raise ValueError(f"'cleanup' must be 'none' or 'tree' (got {cleanup!r}).")
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    reader, writer = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_start_grandchild, args=(writer,), daemon=False)
    gc_pid = None
    try:
        p.start()
        writer.close()
        if not reader.poll(timeout_s):
            raise LabError("the worker did not report its grandchild in time")
        gc_pid = int(reader.recv())
        if cleanup == "tree":
            _kill_tree(p.pid, include_root=False)  # type: ignore[arg-type]
        p.kill()
        p.join(timeout_s)
        parent_after = None
        survived = False
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                gc = psutil.Process(gc_pid)
                if gc.status() == psutil.STATUS_ZOMBIE:
                    break
                parent_after = gc.ppid()
            except psutil.NoSuchProcess:
                parent_after = None
                break
            if parent_after != p.pid:
                survived = True
                break
            time.sleep(0.01)
    finally:
        reader.close()
        if p.pid is not None:
            stop_processes([p])
        if gc_pid is not None:
            with contextlib.suppress(psutil.Error):
                gc = psutil.Process(gc_pid)
                gc.kill()
                wait_dead([gc])
    return OrphanResult(
        cleanup=cleanup,
        child_pid=p.pid,  # type: ignore[arg-type]
        grandchild_pid=gc_pid,
        grandchild_parent_after=parent_after,
        orphan_survived=survived,
    )


# --------------------------------------------------------------------------- 6. globals

_COUNTER = 0


def _bump() -> int:
    global _COUNTER
    _COUNTER += 1
    return _COUNTER


def _one() -> int:
    return 1


@dataclass(frozen=True)
class GlobalsDemo:
    """Workers each add 1 to a counter; what did each side see?

    Attributes:
        start_method: how the workers started.
        fix: ``False`` = workers bump a module global; ``True`` = they return 1 and the
            parent adds the results.
        parent_before: the counter in the parent before the workers started.
        seen_by_workers: the value each worker saw after its own increment.
        parent_after: the counter in the parent afterwards.
    """

    start_method: str
    fix: bool
    parent_before: int
    seen_by_workers: tuple[int, ...]
    parent_after: int


def global_counter(
    *, start_method: str | None = None, n_workers: int = 2, fix: bool = False, start: int = 100
) -> GlobalsDemo:
    """The parent sets a global to ``start``; ``n_workers`` processes each add 1 to it.

    Under ``fork`` each child starts with a *copy* of the parent's memory (so it
    starts from ``start`` and ends at ``start + 1``), under ``spawn``/``forkserver``
    it imports the module afresh (so it starts from 0 and ends at 1); either way
    it increments its own copy and the parent's value does not change. The fix:
    send results back (here each worker returns 1, and the parent adds them up).
    """
    global _COUNTER
    method = check_start_method(start_method)
    _COUNTER = start
    try:
        run = start_join(_one if fix else _bump, n_workers, kind="process", start_method=method)
        if fix:
            _COUNTER += sum(run.results)
        after = _COUNTER
    finally:
        _COUNTER = 0
    return GlobalsDemo(
        start_method=method,
        fix=fix,
        parent_before=start,
        seen_by_workers=tuple(run.results),
        parent_after=after,
    )


# --------------------------------------------------------------------------- 7. cores


@dataclass(frozen=True)
class CoreCounts:
    """Two answers to "how many cores?".

    Attributes:
        cpu_count: ``os.cpu_count()``: the cores the machine has.
        usable: :func:`~concurrency_lab.usable_cores`: the cores this process may use
            (CPU affinity, container quota).
    """

    cpu_count: int
    usable: int


def core_counts() -> CoreCounts:
    """``os.cpu_count()`` and :func:`~concurrency_lab.usable_cores` for this process.

    >>> c = core_counts()
    >>> c.usable <= c.cpu_count
    True
    """
    return CoreCounts(cpu_count=os.cpu_count() or 1, usable=usable_cores())


_AFFINITY_CHILD = """\
import json, os, sys
os.sched_setaffinity(0, {int(c) for c in sys.argv[1:]})
import concurrency_lab as cl
print(json.dumps([os.cpu_count(), cl.usable_cores()]))
"""


def cores_under_affinity(
    cpus: tuple[int, ...] = (0,), *, timeout_s: float = 30.0
) -> CoreCounts | None:
    """Ask a child process pinned to ``cpus`` (as ``taskset`` or a container would) how many cores.

    ``os.cpu_count()`` still reports the whole machine; only the usable count
    shrinks. A pool sized with ``os.cpu_count()`` would then run more CPU-bound
    workers than it has cores. Returns ``None`` where CPU affinity cannot be set
    (macOS, Windows).
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    timeout_s = check_timeout(timeout_s)
    allowed = os.sched_getaffinity(0)
    bad = [c for c in cpus if c not in allowed]
    if not cpus or bad:
        raise ValueError(
            f"'cpus' must name cores this process may use, {sorted(allowed)} (got {cpus!r})."
        )
    out = subprocess.run(
        [sys.executable, "-c", _AFFINITY_CHILD, *map(str, cpus)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=True,
    )
    import json

    cpu_count, usable = json.loads(out.stdout)
    return CoreCounts(cpu_count=cpu_count, usable=usable)


@dataclass(frozen=True)
class OversubscriptionResult:
    """The same CPU-bound tasks on pools of different sizes.

    Attributes:
        n_workers: the pool sizes.
        n_tasks: tasks run by each pool (the same work each time).
        elapsed_s: wall-clock seconds per pool size.
        mean_task_s: the average time one task took from its start to its end, per pool size
            (it grows when workers share cores).
        usable_cores: the cores they had.
    """

    n_workers: tuple[int, ...]
    n_tasks: int
    elapsed_s: tuple[float, ...]
    mean_task_s: tuple[float, ...]
    usable_cores: int


def oversubscription(
    *,
    factors: tuple[int, ...] = (1, 4),
    task_s: float = 0.05,
    start_method: str | None = None,
    timeout_s: float = 60.0,
) -> OversubscriptionResult:
    """Run the same CPU-bound tasks with ``factor x usable_cores`` processes.

    More CPU-bound workers than cores do not finish sooner: they take turns on
    the cores, so each task takes longer from start to end, and the machine pays
    for the extra processes and switches.
    """
    if not factors or any(isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in factors):
        raise ValueError(f"'factors' must be whole numbers >= 1, e.g. (1, 4) (got {factors!r}).")
    method = check_start_method(start_method)
    cores = usable_cores()
    sizes = tuple(f * cores for f in factors)
    n_tasks = max(sizes)
    units = max(calibrate(cpu_bound, task_s), calibrate(cpu_bound, task_s))  # least disturbed
    elapsed, mean_task = [], []
    for n in sizes:
        run = run_tasks(
            cpu_bound,
            [units] * n_tasks,
            kind="process",
            n_workers=n,
            start_method=method,
            timeout_s=timeout_s,
        )
        elapsed.append(run.elapsed_s)
        mean_task.append(sum(s.duration_s for s in run.spans) / len(run.spans))
    return OversubscriptionResult(sizes, n_tasks, tuple(elapsed), tuple(mean_task), cores)


# --------------------------------------------------------------------------- 8. pickling


@dataclass(frozen=True)
class PickleCheck:
    """Can ``obj`` travel to another process, and how big is it on the way?

    Attributes:
        what: a short description of the object.
        ok: pickle succeeded.
        size_bytes: the pickled size (``None`` if it failed).
        error: why it failed.
    """

    what: str
    ok: bool
    size_bytes: int | None
    error: str | None


def pickle_check(obj: object) -> PickleCheck:
    """Try to pickle ``obj`` as a process pool would; report its size or the error.

    >>> pickle_check([1, 2, 3]).ok
    True
    >>> pickle_check(threading.Lock()).error
    "TypeError: cannot pickle '_thread.lock' object"
    """
    what = type(obj).__name__
    name = getattr(obj, "__qualname__", None)
    if name:
        what += f" {name}"
    try:
        size = len(pickle.dumps(obj))
    except Exception as exc:
        return PickleCheck(what, False, None, f"{type(exc).__name__}: {exc}")
    return PickleCheck(what, True, size, None)


@dataclass(frozen=True)
class LargeArgumentCost:
    """Sending data to a worker vs letting the worker make or load it.

    Attributes:
        size_bytes: the data's size.
        pickled_bytes: what travels when the data is the argument.
        send_s: one task that receives the data as its argument (pool start included).
        make_in_child_s: one task that receives only the size and builds the data itself.
        same_result: both tasks computed the same checksum.
    """

    size_bytes: int
    pickled_bytes: int
    send_s: float
    make_in_child_s: float
    same_result: bool

    @property
    def slowdown(self) -> float:
        """How many times as long sending took as making the data in the worker."""
        return self.send_s / self.make_in_child_s


def large_argument_cost(
    *, size_mb: int = 64, start_method: str | None = None, timeout_s: float = 60.0
) -> LargeArgumentCost:
    """Send ``size_mb`` MiB to a worker process as an argument, then send only its size.

    Every argument to a process is pickled, written into a pipe, read and
    unpickled: a copy or two of the whole thing, with the parent and the worker
    both busy. Sending a file name, a size or a shared-memory name instead costs
    almost nothing.
    """
    if isinstance(size_mb, bool) or not isinstance(size_mb, int) or not 1 <= size_mb <= 512:
        raise ValueError(f"'size_mb' must be a whole number from 1 to 512 (got {size_mb!r}).")
    method = check_start_method(start_method)
    n = size_mb << 20
    data = bytes(n)
    pickled = len(pickle.dumps(data))
    sent = run_tasks(
        checksum, [data], kind="process", n_workers=1, start_method=method, timeout_s=timeout_s
    )
    made = run_tasks(
        _make_and_checksum,
        [n],
        kind="process",
        n_workers=1,
        start_method=method,
        timeout_s=timeout_s,
    )
    return LargeArgumentCost(
        size_bytes=n,
        pickled_bytes=pickled,
        send_s=sent.elapsed_s,
        make_in_child_s=made.elapsed_s,
        same_result=sent.results == made.results,
    )


# --------------------------------------------------------------------------- 9. queue and join


def put_big(q: Any, n_bytes: int) -> None:
    q.put(b"x" * n_bytes)


@dataclass(frozen=True)
class QueueJoinResult:
    """A child put a large item on a ``multiprocessing.Queue``; the parent joined it.

    Attributes:
        get_first: the parent took the item before joining (the fix).
        joined_in_time: ``join(timeout)`` found the child finished.
        got_bytes: the size of the item the parent received in the end.
    """

    get_first: bool
    joined_in_time: bool
    got_bytes: int


def queue_join(
    *,
    get_first: bool = False,
    size_bytes: int = 1 << 20,
    start_method: str | None = None,
    timeout_s: float = 2.0,
) -> QueueJoinResult:
    """Join a child that put ``size_bytes`` on a queue, before or after taking it.

    A process that put data on a ``multiprocessing.Queue`` does not exit until a
    background thread has pushed all of it into the underlying pipe, and a pipe
    holds only about 64 KiB. If the parent calls ``join()`` before ``get()``, each
    waits for the other: a deadlock. Here ``join`` waits only ``timeout_s``; then
    the lab takes the item, which lets the child finish.
    """
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    q = ctx.Queue()
    p = ctx.Process(target=put_big, args=(q, size_bytes), daemon=True)
    got = b""
    try:
        p.start()
        if get_first:
            got = q.get(timeout=30)
        p.join(timeout_s)
        joined = p.exitcode is not None
        if not got:
            got = q.get(timeout=30)  # the rescue: now the child can finish
        p.join(30)
    finally:
        if p.pid is not None:
            stop_processes([p])
        q.close()
        q.join_thread()
    return QueueJoinResult(get_first=get_first, joined_in_time=joined, got_bytes=len(got))


# --------------------------------------------------------------------------- the clinic, by name

#: Each problem of the clinic: (broken version, fixed version), both safe to run.
CLINIC: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "exception in a thread": (
        lambda: thread_exception(),
        lambda: thread_exception(fix=True),
    ),
    "a pool worker dies": (
        lambda: dead_worker(api="pool", timeout_s=1.0),
        lambda: dead_worker(api="executor"),
    ),
    "join before get on a Queue": (
        lambda: queue_join(timeout_s=1.0),
        lambda: queue_join(get_first=True),
    ),
    "a killed worker's child": (
        lambda: orphan_demo(),
        lambda: orphan_demo(cleanup="tree"),
    ),
    "a global counter in processes": (
        lambda: global_counter(),
        lambda: global_counter(fix=True),
    ),
    "print in a child process": (
        lambda: where_output_goes(),
        lambda: where_output_goes(relay=True),
    ),
    "script without a __main__ guard": (
        lambda: main_guard_script(guarded=False),
        lambda: main_guard_script(guarded=True),
    ),
}


def clinic(problem: str, *, fixed: bool = False) -> Any:
    """Run the broken (or the fixed) version of one of the clinic's problems by name.

    >>> clinic("exception in a thread").caught is None
    True
    >>> clinic("exception in a thread", fixed=True).caught
    'ZeroDivisionError: division by zero'

    Raises:
        ValueError: unknown problem (the message lists them).
    """
    if problem not in CLINIC:
        raise ValueError(
            f"'problem' must be one of {', '.join(map(repr, CLINIC))} (got {problem!r})."
        )
    return CLINIC[problem][1 if fixed else 0]()
