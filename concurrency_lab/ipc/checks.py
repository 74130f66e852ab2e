"""Self-checks for ``06-ipc.ipynb``."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from multiprocessing import shared_memory
from multiprocessing.process import BaseProcess
from typing import Any

from ..core.children import stop_processes
from ..core.errors import WorkerError
from ..core.feedback import Feedback
from .primitives import IPCResult

__all__ = ["check_fastest_small", "check_queue_workers", "check_shared_memory_freed"]


def check_fastest_small(answer: object, result: IPCResult) -> Feedback:
    """Exercise 1: ``answer`` must name the inter-process method with the shortest round trip
    at the smallest size measured in ``result``.

    >>> from concurrency_lab.ipc import IPCResult
    >>> res = IPCResult(("memcpy", "Pipe", "Queue"), (64,), ((1e-6,), (3e-5,), (6e-5,)),
    ...                 (1e-6,), "fork", ((3,), (3,), (3,)))
    >>> check_fastest_small("Pipe", res).ok
    True
    """
    if not isinstance(result, IPCResult):
        return Feedback(False, "Pass the measurement too: check_fastest_small(answer, res).")
    small = min(result.sizes)
    try:
        right = result.fastest(small)
    except ValueError:
        return Feedback(False, "Measure at least one method between processes, e.g. 'Pipe'.")
    if answer == right:
        return Feedback(
            True,
            f"{right} needed {result.latency_us(right, small):.0f} µs per round trip at "
            f"{small} bytes on this machine.",
        )
    if answer in ("memcpy", "queue.Queue"):
        return Feedback(
            False,
            f"{answer!r} does not cross between processes (it stays inside one). Look only at the "
            f"others: compare res.latency_us(method, {small}).",
        )
    if not isinstance(answer, str) or answer not in result.methods:
        return Feedback(
            False,
            f"Answer with one of the measured names, a string: {', '.join(result.methods)} "
            f"(got {answer!r}).",
        )
    return Feedback(
        False,
        f"{answer} took {result.latency_us(answer, small):.0f} µs at {small} bytes; another "
        f"method was quicker. Compute res.latency_us(m, {small}) for every m in res.methods.",
    )


def _recording_segments() -> tuple[list[str], Callable[[], None]]:
    """Record the name of every SharedMemory segment created until ``restore()`` is called."""
    names: list[str] = []
    original = shared_memory.SharedMemory.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if kwargs.get("create", args[1] if len(args) > 1 else False):
            names.append(self.name)

    shared_memory.SharedMemory.__init__ = init  # type: ignore[method-assign]

    def restore() -> None:
        shared_memory.SharedMemory.__init__ = original  # type: ignore[method-assign]

    return names, restore


def _leftover(names: list[str]) -> list[str]:
    """Names of recorded segments that still exist; each is freed here, to leave no leak."""
    left = []
    for name in names:
        try:
            shm = shared_memory.SharedMemory(name=name)
        except FileNotFoundError:
            continue
        left.append(name)
        shm.close()
        shm.unlink()
    return left


def check_shared_memory_freed(total_in_child: Callable[..., Any]) -> Feedback:
    """Exercise 2: ``total_in_child(values, fail=...)`` sums in a child and always frees memory.

    The check calls your function twice: once normally (it must return the sum)
    and once with ``fail=True`` (the child raises; the error must reach you, and
    the segment must be closed and unlinked anyway). Segments your function
    leaves behind are freed by the check, after it has noted them.
    """
    if not callable(total_in_child):
        return Feedback(False, f"Pass your function itself (got {type(total_in_child).__name__}).")
    values = [1.5, 2.5, 3.0, 4.0]
    names, restore = _recording_segments()
    try:
        try:
            got = total_in_child(values)
        except BufferError as exc:
            return Feedback(
                False,
                f"close() failed ({exc}): a view of the segment was still alive. Call "
                f"view.release() (or del the numpy array) before shm.close().",
            )
        except Exception as exc:
            return Feedback(False, f"Your function raised {type(exc).__name__}: {exc}")
        if got != sum(values):
            return Feedback(
                False,
                f"total_in_child({values}) returned {got!r}, expected {sum(values)}. Copy every "
                f"value into the segment before the child sums it, and return what "
                f"cl.ipc.shm_child_sum gives back.",
            )
        if not names:
            return Feedback(
                False,
                "No SharedMemory segment was created: make one with "
                "shared_memory.SharedMemory(create=True, size=8 * len(values)).",
            )
        left = _leftover(names)
        if left:
            return Feedback(
                False,
                f"The sum is right, but segment {left[0]!r} was left behind: call shm.close() "
                f"and then shm.unlink() once you are done.",
            )
        names.clear()
        raised: Exception | None = None
        try:
            total_in_child(values, fail=True)
        except Exception as exc:
            raised = exc
        left = _leftover(names)
        if left:
            return Feedback(
                False,
                f"When the child failed, segment {left[0]!r} was left behind in /dev/shm, using "
                f"memory until the kernel stops (Python's resource tracker frees leftovers only "
                f"when the program ends). Put shm.close() and shm.unlink() in a 'finally:' "
                f"block so they run even when cl.ipc.shm_child_sum raises.",
            )
        if raised is None:
            return Feedback(
                False,
                "With fail=True the child raises, but your function returned normally: let the "
                "error reach the caller (clean up in 'finally:', do not swallow it with 'except').",
            )
        if not isinstance(raised, WorkerError):
            return Feedback(
                False,
                f"With fail=True your function raised {type(raised).__name__}: {raised}. Expected "
                f"the child's WorkerError to come through unchanged.",
            )
        return Feedback(
            True,
            "The sum is right, and the segment is freed whether the child succeeds or fails.",
        )
    finally:
        restore()
        _leftover(names)


#: Two of the numbers the Exercise 3 check sends are this large (200,001 bits, 25 KB pickled):
#: each of their result pairs ``(x, x * x)`` pickles to about 75 KB, more than a pipe holds
#: (64 KiB on Linux, ``man 7 pipe``), so the worker that squared one cannot end before its
#: results are read, and joining it first really blocks. The tasks, all 20 together, still fit
#: in the pipe (about 50 KB), so the parent never blocks while feeding them.
_BIG = 1 << 200_000

#: What the Exercise 3 check sends: 18 small numbers and two big ones.
_NUMBERS = (_BIG + 1, *range(1, 10), _BIG + 2, *range(10, 19))


def _short(value: object, depth: int = 0) -> str:
    """A short repr that never prints a huge integer (repr of those fails since Python 3.11).

    >>> _short([1, 2, (3, 1 << 100), 4, 5, 1 << 100])
    '[1, 2, (3, <an int of 101 bits>), ..., <an int of 101 bits>]'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<an int of {value.bit_length()} bits>"
    if isinstance(value, (list, tuple)) and depth < 2:
        parts = [_short(x, depth + 1) for x in value]
        if len(parts) > 4:
            parts = [*parts[:3], "...", parts[-1]]
        inner = ", ".join(parts)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    text = repr(value) if not isinstance(value, (list, tuple)) else "[...]"
    return text if len(text) <= 60 else text[:57] + "..."


def _recording_joins(before: set[int | None]) -> tuple[list[str], Callable[[], None]]:
    """Record each new process that ``join()`` gave up on (still running after the timeout)."""
    gave_up: list[str] = []
    original = BaseProcess.join

    def join(self: BaseProcess, timeout: float | None = None) -> None:
        original(self, timeout)
        if self.pid not in before and self.exitcode is None:
            gave_up.append(self.name)

    BaseProcess.join = join  # type: ignore[method-assign]

    def restore() -> None:
        BaseProcess.join = original  # type: ignore[method-assign]

    return gave_up, restore


def check_queue_workers(
    squares: Callable[[list[int], int], Any], *, timeout_s: float = 30
) -> Feedback:
    """Exercise 3: ``squares(numbers, n_workers)`` uses worker processes and two queues.

    The check runs your function (in a helper thread, so a hang cannot freeze the
    notebook) on 20 numbers, two of them huge: their results are larger than a pipe
    holds, so a worker that squared one cannot end until its results are read. It
    compares the result with the squares, notes every ``join(timeout)`` that gave up
    on a running worker (joined before its results were collected), and makes sure
    every worker process has ended. Processes it finds still running are terminated.
    """
    if not callable(squares):
        return Feedback(False, f"Pass your function itself (got {type(squares).__name__}).")
    numbers = list(_NUMBERS)
    before = {p.pid for p in multiprocessing.active_children()}
    box: dict[str, Any] = {}

    def call() -> None:
        try:
            box["result"] = squares(numbers, 3)
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=call, daemon=True, name="check-squares")
    gave_up, restore = _recording_joins(before)
    start = time.monotonic()
    try:
        t.start()
        t.join(timeout_s)
    finally:
        restore()
    late = [p for p in multiprocessing.active_children() if p.pid not in before]
    if t.is_alive():
        stop_processes(late)
        t.join(5)
        return Feedback(
            False,
            f"Your function did not return within {timeout_s:g} s. Two usual causes: a worker "
            f"never got its sentinel (put one None per worker), or you joined the workers before "
            f"reading their results (collect all results first, then join).",
        )
    if late:
        stop_processes(late)
    if "error" in box:
        exc = box["error"]
        return Feedback(False, f"Your function raised {type(exc).__name__}: {exc}")
    got = box.get("result")
    want = sorted(x * x for x in numbers)
    try:
        ok = sorted(got) == want
    except TypeError:
        ok = False
    if not ok:
        try:
            numbers_back = sorted(got) == sorted(numbers)
        except TypeError:
            numbers_back = False
        if numbers_back:
            return Feedback(
                False,
                "You returned the numbers themselves. Each result is a pair (x, x * x): return "
                "the second item of each pair, sorted.",
            )
        n = len(got) if isinstance(got, (list, tuple)) else 0
        return Feedback(
            False,
            f"Expected the {len(want)} squares {want[:3]}...; got {n} item(s): {_short(got)}. "
            f"Read one result per number with results.get(timeout=10); each result is a pair "
            f"(x, x * x).",
        )
    if gave_up:
        return Feedback(
            False,
            f"The squares are right, but join(timeout) gave up on {gave_up[0]} while it was "
            f"still running: a worker cannot end while its results wait in the queue (two of "
            f"the check's results are larger than a pipe holds). Collect every result first, "
            f"then join each worker.",
        )
    if late:
        return Feedback(
            False,
            f"The squares are right, but {len(late)} worker process(es) were still running when "
            f"your function returned. Put one None per worker, then join each with a timeout.",
        )
    return Feedback(
        True,
        f"All {len(want)} squares, every worker stopped by its sentinel and joined after its "
        f"results were read ({time.monotonic() - start:.2f} s).",
    )
