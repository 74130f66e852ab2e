"""Self-checks for ``07-choosing-a-model.ipynb`` and ``08-common-problems.ipynb``.

Each check runs your function with a timeout in a helper thread, so a version
that would hang reports a hint instead of freezing the notebook.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.children import stop_processes
from ..core.feedback import Feedback, call_with_timeout
from ..core.machine import get_context
from .traps import divide, put_big, start_two_levels, wait_dead

__all__ = ["drains_before_join", "reports_thread_exception", "stops_whole_tree"]


# --------------------------------------------------------------------------- 07


# --------------------------------------------------------------------------- 08


def reports_thread_exception(run_in_thread: Callable[[Callable[[], Any]], Any]) -> Feedback:
    """Exercise 08-1: ``run_in_thread(target)`` runs ``target`` in another thread and returns
    the exception it raised (or ``None``)."""
    if not callable(run_in_thread):
        return Feedback(False, f"Pass your function itself (got {type(run_in_thread).__name__}).")
    saved = threading.excepthook
    threading.excepthook = lambda args: None  # a bare Thread's error would only be printed
    try:
        status, value = call_with_timeout(
            run_in_thread, functools.partial(divide, 1, 0), timeout_s=10
        )
        status_ok, value_ok = call_with_timeout(
            run_in_thread, functools.partial(divide, 1, 1), timeout_s=10
        )
    finally:
        threading.excepthook = saved
    if "hung" in (status, status_ok):
        return Feedback(False, "Your function did not return within 10 s. Wait with a timeout.")
    if status == "error":
        return Feedback(
            False,
            f"The error reached you as an exception ({type(value).__name__}): good instinct, but "
            f"return it instead of raising it, e.g. future.exception(timeout=10).",
        )
    if not isinstance(value, ZeroDivisionError):
        return Feedback(
            False,
            f"For a target that divides by zero you returned {value!r}. A bare threading.Thread "
            f"hands its exception to threading.excepthook, not to join(). Use "
            f"cf.ThreadPoolExecutor: executor.submit(target).exception(timeout=10).",
        )
    if status_ok != "ok" or value_ok is not None:
        return Feedback(False, f"For a target that succeeds, return None (got {value_ok!r}).")
    return Feedback(True, "The worker thread's ZeroDivisionError reached the caller.")


def drains_before_join(
    collect: Callable[[Any, Any], Any], *, size_bytes: int = 1 << 20
) -> Feedback:
    """Exercise 08-2: ``collect(q, p)`` takes the child's one item from ``q``, joins ``p``, returns
    the item. The child puts 1 MiB, more than a pipe holds, so the order matters."""
    if not callable(collect):
        return Feedback(False, f"Pass your function itself (got {type(collect).__name__}).")
    ctx = get_context()
    q = ctx.Queue()
    p = ctx.Process(target=put_big, args=(q, size_bytes), daemon=True)
    p.start()
    try:
        status, value = call_with_timeout(collect, q, p, timeout_s=5)
        if status == "hung":
            stop_processes([p])
            _unblock_reader(q, value)
            return Feedback(
                False,
                "Deadlock: your function was still waiting after 5 s. If you join() first, the "
                "child waits for its 1 MiB to leave through the pipe and you wait for the child. "
                "Take the item with q.get(timeout=...) first, then join.",
            )
        if status == "error":
            return Feedback(False, f"Your function raised {type(value).__name__}: {value}")
        if not isinstance(value, bytes) or len(value) != size_bytes:
            got = len(value) if isinstance(value, (bytes, bytearray)) else repr(value)[:60]
            return Feedback(False, f"Return the item you took from the queue (got {got}).")
        if p.exitcode is None:
            return Feedback(False, "You returned the item but did not join the process.")
        return Feedback(True, "Item taken first, then the child could finish and be joined.")
    finally:
        if p.pid is not None:
            stop_processes([p])
        q.close()
        q.join_thread()


def _unblock_reader(q: Any, thread: threading.Thread, timeout_s: float = 5.0) -> None:
    """Free a thread stuck in ``q.get()`` on a message its dead sender never finished.

    The killed child left part of a message in the pipe; filler bytes complete it,
    so the stuck ``get()`` returns (with garbage, or an unpickling error).
    """
    import os

    fd = q._writer.fileno()
    os.set_blocking(fd, False)
    chunk = bytes(1 << 16)
    deadline = time.monotonic() + timeout_s
    while thread.is_alive() and time.monotonic() < deadline:
        try:
            os.write(fd, chunk)
        except BlockingIOError:
            thread.join(0.01)
    thread.join(1)


def _running(pid: int | None) -> bool:
    import psutil

    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stops_whole_tree(stop_tree: Callable[[int], Any]) -> Feedback:
    """Exercise 08-3: ``stop_tree(pid)`` must stop process ``pid`` *and* every process it started.

    The check starts a worker that started a process, which started one more
    (three levels, so ``children()`` without ``recursive=True`` misses the last
    one), calls ``stop_tree(worker_pid)``, then looks for survivors (and removes them).
    """
    import psutil

    if not callable(stop_tree):
        return Feedback(False, f"Pass your function itself (got {type(stop_tree).__name__}).")
    ctx = get_context()
    reader, writer = ctx.Pipe(duplex=False)
    p = ctx.Process(target=start_two_levels, args=(writer,), daemon=False)
    p.start()
    writer.close()
    below: list[int] = []
    try:
        try:
            if not reader.poll(20):
                raise EOFError
            below = [int(pid) for pid in reader.recv()]
        except (EOFError, OSError, TypeError, ValueError):
            return Feedback(False, "The check's worker did not start in time; run it again.")
        status, value = call_with_timeout(stop_tree, p.pid, timeout_s=10)
        if status == "hung":
            return Feedback(
                False, "stop_tree did not return within 10 s: give its waits a timeout."
            )
        if status == "error":
            return Feedback(False, f"stop_tree raised {type(value).__name__}: {value}")
        tree = {"the worker": p.pid, "its child": below[0], "its grandchild": below[1]}
        deadline = time.monotonic() + 2
        survivors: dict[str, int] = {}
        while time.monotonic() < deadline:
            # psutil, not p.exitcode: stop_tree may already have reaped the worker itself.
            survivors = {who: pid for who, pid in tree.items() if _running(pid)}
            if not survivors:
                break
            time.sleep(0.02)
        if survivors:
            if "the worker" in survivors:
                hint = "Stop the process itself too: psutil.Process(pid).kill()."
            elif "its child" in survivors:
                hint = (
                    "Killing a process does not kill its children: collect "
                    "psutil.Process(pid).children(recursive=True) first, kill them, then the "
                    "process."
                )
            else:
                hint = (
                    "children() lists only direct children, not their children: collect "
                    "psutil.Process(pid).children(recursive=True) before you kill anything."
                )
            survivors_text = " and ".join(f"{who} {pid}" for who, pid in survivors.items())
            return Feedback(False, f"Still running: {survivors_text}. {hint}")
        return Feedback(True, "The worker, its child and its grandchild are all gone.")
    finally:
        reader.close()
        if p.pid is not None:
            stop_processes([p])
        leftovers = []
        for pid in below:
            try:
                proc = psutil.Process(pid)
                proc.kill()
                leftovers.append(proc)
            except psutil.Error:
                pass
        wait_dead(leftovers)
