"""Self-checks for the exercises of ``08-common-problems.ipynb``: ``cl.check.problems.<name>``.

Each check runs your function with a timeout in a helper thread, so a version that would
hang gets a hint instead of freezing the notebook. A failure names the idea that is
missing; ``cl.check.hint()`` then gives more and more concrete hints, the last one the code.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.children import stop_processes
from ..core.feedback import Feedback, call_with_timeout, failed, not_a_function, passed
from ..core.machine import get_context
from .failures import divide
from .process_tree import kill_tree, start_two_levels

__all__ = ["log_with_lock", "run_in_thread", "stop_tree"]


# --------------------------------------------------------------------------- exercise 1

_EX1 = "problems.run_in_thread"


def run_in_thread(run_in_thread: Callable[[Callable[[], Any]], Any]) -> Feedback:
    """Exercise 1: ``run_in_thread(target)`` runs ``target`` in another thread and returns the
    exception it raised, or ``None`` when it raised nothing.

    Introduced in ``08-common-problems.ipynb``.
    """
    if (bad := not_a_function(_EX1, run_in_thread)) is not None:
        return bad
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
        return failed(
            _EX1,
            "Your function was still waiting after 10 s: every wait for another thread "
            "needs a timeout.",
            "join(timeout=...), future.result(timeout=...) and future.exception(timeout=...) "
            "all take one.",
        )
    code = (
        "```python\nimport concurrent.futures as cf\n\ndef run_in_thread(target):\n"
        "    with cf.ThreadPoolExecutor(max_workers=1) as executor:\n"
        "        return executor.submit(target).exception(timeout=10)\n```"
    )
    if status == "error":
        return failed(
            _EX1,
            f"The worker's error reached you ({type(value).__name__}): good, but return it "
            f"instead of letting it escape.",
            "A Future can hand you its exception as a value instead of raising it.",
            "future.exception(timeout=10) returns the exception (or None); "
            "future.result() raises it.",
            code,
        )
    if not isinstance(value, ZeroDivisionError):
        return failed(
            _EX1,
            f"For a target that divides by zero you returned {value!r}: a bare "
            f"threading.Thread hands its exception to threading.excepthook, not to join().",
            "Which tool keeps what a worker raised and gives it to the code that asks "
            "for the result?",
            "concurrent.futures: submit the target to a ThreadPoolExecutor; the Future keeps "
            "the exception, and future.exception(timeout=...) returns it.",
            code,
        )
    if status_ok != "ok" or value_ok is not None:
        return failed(
            _EX1,
            f"For a target that succeeds, return None (got {value_ok!r}).",
            "future.exception(timeout=...) is None when the target raised nothing.",
        )
    return passed(_EX1, "The worker thread's ZeroDivisionError reached the caller as a value.")


# --------------------------------------------------------------------------- exercise 2

_EX2 = "problems.log_with_lock"
_LINES = tuple(f"line {i}" for i in range(1, 7))
_HOLD_MAX_S = 10.0  # hold the lock at most this long while the workers start
_HOLD_AFTER_START_S = 1.0  # ...and this long after a new process appeared


def _new_children(before: set[int]) -> bool:
    import psutil

    try:
        return any(c.pid not in before for c in psutil.Process().children(recursive=True))
    except psutil.Error:
        return False


def _read_log(path: str) -> list[tuple[str, int]]:
    try:
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except FileNotFoundError:
        return []
    return [(row[0], int(row[1])) for row in rows if len(row) == 2 and row[1].isdigit()]


def log_with_lock(log_with_lock: Callable[[Any, str, list[str]], Any]) -> Feedback:
    """Exercise 2: ``log_with_lock(lock, path, lines)`` has worker *processes* write each line
    with ``cl.problems.log_line``, all holding the one ``multiprocessing.Lock`` given.

    The check holds the lock itself while your workers start: a worker that really shares
    it must wait, so no line may appear until the check lets go.

    Introduced in ``08-common-problems.ipynb``.
    """
    import psutil

    if (bad := not_a_function(_EX2, log_with_lock)) is not None:
        return bad
    lock = get_context().Lock()
    folder = tempfile.mkdtemp(prefix="lab-log-")
    path = os.path.join(folder, "log.txt")
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    box: dict[str, Any] = {}

    def call() -> None:
        try:
            box["value"] = log_with_lock(lock, path, list(_LINES))
        except BaseException as exc:
            box["error"] = exc

    code = (
        "```python\ndef log_with_lock(lock, path, lines):\n"
        "    with cf.ProcessPoolExecutor(\n"
        "        max_workers=2, initializer=cl.problems.remember_lock, initargs=(lock,)\n"
        "    ) as pool:\n"
        "        for future in [pool.submit(cl.problems.log_line, path, line) for line in lines]:\n"
        "            future.result(timeout=30)\n```"
    )
    worker = threading.Thread(target=call, name="lab-check", daemon=True)
    lock.acquire()
    held = True
    try:
        worker.start()
        start = time.monotonic()
        started_at = None
        while worker.is_alive() and not _read_log(path):
            now = time.monotonic()
            if started_at is None and _new_children(before):
                started_at = now
            if now - start > _HOLD_MAX_S or (
                started_at is not None and now - started_at > _HOLD_AFTER_START_S
            ):
                break
            time.sleep(0.02)
        written_while_held = _read_log(path)
        lock.release()
        held = False
        worker.join(30)
        if worker.is_alive():
            return failed(
                _EX2,
                "Your function was still running 30 s after the lock was free: wait for each "
                "task with a timeout.",
                "future.result(timeout=30) for each future, inside the `with` block.",
            )
        error = box.get("error")
        if error is not None:
            text = f"{type(error).__name__}: {error}"
            if "inheritance" in str(error):
                return failed(
                    _EX2,
                    f"Python refused to send the lock with a task ({text}). A "
                    f"multiprocessing.Lock may reach a process only when that process is "
                    f"created.",
                    "Where can you hand something to every worker process of a pool at the "
                    "moment it starts?",
                    "ProcessPoolExecutor (and multiprocessing.Pool) take initializer= and "
                    "initargs=: each worker calls initializer(*initargs) once as it starts. "
                    "cl.problems.remember_lock keeps the lock for cl.problems.log_line.",
                    code,
                )
            if "has no lock" in str(error):
                return failed(
                    _EX2,
                    f"A worker had no lock to hold ({text}).",
                    "Each worker process must receive the lock when it starts: a pool's "
                    "initializer runs once in every worker.",
                    "initializer=cl.problems.remember_lock, initargs=(lock,)",
                    code,
                )
            return failed(_EX2, f"Your function raised {text}.", code)
        rows = _read_log(path)
        texts = sorted(text for text, _ in rows)
        pids = {pid for _, pid in rows}
        if written_while_held:
            return failed(
                _EX2,
                "Lines were written while the check held the lock you were given: your "
                "workers held some other lock, or none.",
                "Give every worker the lock passed to your function, not a new one.",
                code,
            )
        if texts != sorted(_LINES):
            return failed(
                _EX2,
                f"The log should hold each of the {len(_LINES)} lines once; it holds {texts!r}.",
                "Submit one cl.problems.log_line(path, line) task per line and wait for each.",
                code,
            )
        if pids <= {os.getpid()}:
            return failed(
                _EX2,
                "Every line was written by this process (threads?): the exercise is about "
                "worker processes.",
                "Use a ProcessPoolExecutor (or multiprocessing.Pool).",
                code,
            )
        return passed(
            _EX2,
            f"Workers in {len(pids)} process(es) waited for the lock you gave them, then "
            f"wrote all {len(_LINES)} lines.",
        )
    finally:
        if held:
            lock.release()
        worker.join(5)
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- exercise 3

_EX3 = "problems.stop_tree"


def _running(pid: int | None) -> bool:
    import psutil

    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_tree(stop_tree: Callable[[int], Any]) -> Feedback:
    """Exercise 3: ``stop_tree(pid)`` stops process ``pid`` *and* every process below it.

    The check starts a worker that started a process, which started one more (three levels,
    so ``children()`` without ``recursive=True`` misses the last one), calls
    ``stop_tree(worker_pid)``, then looks for survivors (and removes them).

    Introduced in ``08-common-problems.ipynb``.
    """
    if (bad := not_a_function(_EX3, stop_tree)) is not None:
        return bad
    code = (
        "```python\nimport psutil\n\ndef stop_tree(pid):\n"
        "    parent = psutil.Process(pid)\n"
        "    family = [*parent.children(recursive=True), parent]  # list them first\n"
        "    for process in family:\n"
        "        process.kill()\n"
        "    psutil.wait_procs(family, timeout=5)\n```"
    )
    ctx = get_context()
    reader, writer = ctx.Pipe(duplex=False)
    p = ctx.Process(  # type: ignore[attr-defined]
        target=start_two_levels, args=(writer,), daemon=False
    )
    p.start()
    writer.close()
    below: list[int] = []
    try:
        try:
            if not reader.poll(20):
                raise EOFError
            below = [int(pid) for pid in reader.recv()]
        except (EOFError, OSError, TypeError, ValueError):
            return failed(_EX3, "The check's worker did not start in time; run it again.")
        status, value = call_with_timeout(stop_tree, p.pid, timeout_s=10)
        if status == "hung":
            return failed(
                _EX3,
                "stop_tree did not return within 10 s: give its waits a timeout.",
                "psutil.wait_procs(processes, timeout=5)",
            )
        if status == "error":
            import psutil

            if isinstance(value, psutil.NoSuchProcess):  # it asked a dead process for its children
                return failed(
                    _EX3,
                    f"stop_tree raised NoSuchProcess ({value}): it asked about a process that "
                    f"had already ended.",
                    "Find the processes below it *before* you kill it: once it is dead, they "
                    "can no longer be found through it.",
                    "List them first with psutil.Process(pid).children(recursive=True), then "
                    "kill them all.",
                    code,
                )
            return failed(_EX3, f"stop_tree raised {type(value).__name__}: {value}", code)
        tree = {"the worker": p.pid, "its child": below[0], "its grandchild": below[1]}
        deadline = time.monotonic() + 2
        survivors: dict[str, int | None] = {}
        while time.monotonic() < deadline:
            # psutil, not p.exitcode: stop_tree may already have reaped the worker itself.
            survivors = {who: pid for who, pid in tree.items() if _running(pid)}
            if not survivors:
                break
            time.sleep(0.02)
        if not survivors:
            return passed(_EX3, "The worker, its child and its grandchild are all gone.")
        still = " and ".join(f"{who} ({pid})" for who, pid in survivors.items())
        if "the worker" in survivors:
            return failed(
                _EX3,
                f"Still running: {still}. The process you were given must end too.",
                "psutil.Process(pid).kill() ends one process (on every system).",
                code,
            )
        if "its child" in survivors:
            return failed(
                _EX3,
                f"Still running: {still}. Killing a process does not kill its children: "
                f"they live on as orphans.",
                "Find the processes below it *before* you kill it: once it is dead, they can "
                "no longer be found through it.",
                "psutil.Process(pid).children(recursive=True) lists every process below pid.",
                code,
            )
        return failed(
            _EX3,
            f"Still running: {still}. children() lists only direct children, not theirs.",
            "Ask psutil for the whole tree below the process.",
            "psutil.Process(pid).children(recursive=True)",
            code,
        )
    finally:
        reader.close()
        if p.pid is not None:
            stop_processes([p])
        for pid in below:
            kill_tree(pid)
