"""Self-checks for ``06-ipc.ipynb``: ``cl.check.ipc.<exercise>(your_function)``.

Each check runs the learner's plain ``multiprocessing`` code (in a helper thread, so that a
hang cannot freeze the notebook), judges what it did, cleans up whatever it left behind, and
answers with a :class:`~concurrency_lab.core.feedback.Feedback`. A failure names the concept;
``cl.check.hint()`` gives more concrete hints, the last one the code.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable
from multiprocessing import shared_memory
from multiprocessing.process import BaseProcess
from typing import Any

from ..core.children import stop_processes
from ..core.errors import WorkerError
from ..core.feedback import Feedback, call_with_timeout, failed, passed
from .workers import silent_server, square_server

__all__ = ["pipe_exchange", "queue_workers", "shared_memory_freed"]

# --------------------------------------------------------------------------- Exercise 1


class SpyContext:
    """A ``multiprocessing`` context that notes every ``Pipe`` and ``Process`` made through it.

    Everything else is the real context's. The check uses the notes to find (and stop) a
    child the learner's code left running, and to unblock a ``recv()`` that waits forever.
    """

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self.pipes: list[tuple[Any, Any]] = []
        self.processes: list[BaseProcess] = []

    def Pipe(self, duplex: bool = True) -> tuple[Any, Any]:
        ends = self._ctx.Pipe(duplex)
        self.pipes.append(ends)
        return ends  # type: ignore[no-any-return]

    def Process(self, *args: Any, **kwargs: Any) -> BaseProcess:
        p = self._ctx.Process(*args, **kwargs)
        self.processes.append(p)
        return p  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def alive(self) -> list[BaseProcess]:
        return [p for p in self.processes if _alive(p)]

    def clean_up(self) -> None:
        """Stop every child, then close the child ends, so a parent's ``recv()`` sees EOF."""
        stop_processes(self.alive(), grace_s=1.0)
        for _, child_end in self.pipes:
            child_end.close()


def _started(p: BaseProcess) -> bool:
    return getattr(p, "_popen", None) is not None


def _alive(p: BaseProcess) -> bool:
    try:
        return _started(p) and p.is_alive()
    except ValueError:  # closed with close(): it had ended
        return False


_POLL_CODE = """```python
for x in numbers:
    parent_end.send(x)
    if not parent_end.poll(timeout_s):   # wait at most timeout_s for an answer
        raise TimeoutError(f"no answer from the child within {timeout_s} s")
    answers.append(parent_end.recv())
```"""

_STOP_CODE = """```python
finally:
    parent_end.close()
    child.join(timeout=timeout_s)
    if child.is_alive():        # join() only waits; it stops nothing
        child.terminate()
        child.join(timeout=5)
```"""


def pipe_exchange(ask_child: Callable[..., Any], *, hang_s: float = 5.0) -> Feedback:
    """Exercise 1: ``ask_child(ctx, server, numbers, timeout_s)`` talks to a child over a Pipe.

    The check calls your function twice, with a ``spawn`` context (as on macOS and Windows):

    1. with :func:`~concurrency_lab.ipc.square_server`, which answers each number with its
       square: you must return the answers in order, and leave no child running;
    2. with :func:`~concurrency_lab.ipc.silent_server`, which never answers, and
       ``timeout_s=0.5``: you must raise ``TimeoutError`` within a few seconds (``recv()``
       alone would wait forever) and stop the child, which would not end by itself.
    """
    exercise = "ipc.pipe_exchange"
    if not callable(ask_child):
        return failed(
            exercise, f"Pass your function itself, without calling it (got {ask_child!r})."
        )
    ctx = multiprocessing.get_context("spawn")
    numbers = [3, 1, 4, 1, 5]
    spy = SpyContext(ctx)
    status, value = call_with_timeout(ask_child, spy, square_server, numbers, 5, timeout_s=hang_s)
    left = spy.alive()
    spy.clean_up()
    if status == "hung":
        value.join(5)
        return failed(
            exercise,
            f"With a child that answers every number, your function did not return within "
            f"{hang_s:g} s. Does it send every number, and read one answer per number?",
            "Each round is: send one number on parent_end, then receive one answer on it.",
            _POLL_CODE,
        )
    if status == "error":
        return failed(
            exercise,
            f"With a child that answers every number, your function raised "
            f"{type(value).__name__}: {value}",
            "Start the child with ctx.Process(target=server, args=(child_end,)), using the "
            "ctx and the server your function is given.",
        )
    want = [x * x for x in numbers]
    if not spy.processes or not spy.pipes:
        return failed(
            exercise,
            "Your function did not use the context it was given: make the pipe with ctx.Pipe() "
            "and the child with ctx.Process(...), so the check can run it with any start method.",
            "ctx is multiprocessing for one start method: ctx.Pipe() is multiprocessing.Pipe().",
        )
    if value != want:
        return failed(
            exercise,
            f"ask_child(ctx, square_server, {numbers}) returned {value!r}; the child answers "
            f"each number with its square, so expected {want}, in order.",
            "Collect each answer in a list as it arrives, and return the list.",
        )
    if left:
        return failed(
            exercise,
            "The answers are right, but the child was still running when your function "
            "returned. Tell it to stop, then wait for it (with a timeout).",
            "square_server stops when it receives None; then join(timeout=...) the child.",
            _STOP_CODE,
        )
    # 2. A child that never answers: the function must give up, and stop the child.
    spy = SpyContext(ctx)
    start = time.monotonic()
    status, value = call_with_timeout(ask_child, spy, silent_server, [7], 0.5, timeout_s=hang_s)
    took = time.monotonic() - start
    left = spy.alive()
    spy.clean_up()
    if status == "hung":
        value.join(5)  # clean_up closed the child's end: recv() has seen EOF and raised
        return failed(
            exercise,
            f"With a child that never answers, your function was still waiting after "
            f"{hang_s:g} s: recv() has no timeout of its own, so it waits forever.",
            "Which method of a Connection waits for a message for at most some seconds, and "
            "tells you whether one arrived?",
            "Before recv(), call parent_end.poll(timeout_s): it returns False when nothing "
            "arrived in time. Then raise TimeoutError.",
            _POLL_CODE,
        )
    if status == "ok":
        return failed(
            exercise,
            f"With a child that never answers (timeout_s=0.5), your function returned "
            f"{value!r} instead of raising TimeoutError: the caller cannot tell that the "
            f"answer is missing.",
            "When poll(timeout_s) returns False, raise TimeoutError(...) instead of going on.",
            _POLL_CODE,
        )
    if not isinstance(value, (TimeoutError, multiprocessing.TimeoutError)):
        return failed(
            exercise,
            f"With a child that never answers, your function raised {type(value).__name__}: "
            f"{value}. Raise TimeoutError, so the caller knows the partner went quiet.",
            "raise TimeoutError(f'no answer within {timeout_s} s')",
        )
    if left:
        return failed(
            exercise,
            "Your function raised TimeoutError, good, but the silent child was still running "
            "when it returned: join(timeout) only waits; it stops nothing.",
            "What can a parent do to a child that will not end by itself?",
            "After child.join(timeout=...), if child.is_alive(), call child.terminate() and "
            "join it again.",
            _STOP_CODE,
        )
    return passed(
        exercise,
        f"All {len(numbers)} answers came back in order, and with a silent child your function "
        f"gave up after {took:.1f} s and stopped it.",
    )


# --------------------------------------------------------------------------- Exercise 2


class _SegmentSpy:
    """Notes the name of every ``SharedMemory`` segment created, and every ``unlink()``."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.unlinked: set[str] = set()

    def __enter__(self) -> _SegmentSpy:
        cls = shared_memory.SharedMemory
        self._init, self._unlink = cls.__init__, cls.unlink
        spy, init, unlink = self, cls.__init__, cls.unlink

        def watched_init(seg: Any, *args: Any, **kwargs: Any) -> None:
            init(seg, *args, **kwargs)
            if kwargs.get("create", args[1] if len(args) > 1 else False):
                spy.created.append(seg.name)

        def watched_unlink(seg: Any) -> None:
            spy.unlinked.add(seg.name)
            unlink(seg)

        cls.__init__ = watched_init  # type: ignore[method-assign,assignment]
        cls.unlink = watched_unlink  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        shared_memory.SharedMemory.__init__ = self._init  # type: ignore[method-assign]
        shared_memory.SharedMemory.unlink = self._unlink  # type: ignore[method-assign]

    def not_unlinked(self) -> list[str]:
        """Segments created but never unlinked; those still there are freed here."""
        left = [name for name in self.created if name not in self.unlinked]
        for name in self.created:
            try:
                seg = shared_memory.SharedMemory(name=name)
            except FileNotFoundError:
                continue
            seg.close()
            try:
                seg.unlink()
            except FileNotFoundError:
                pass
        return left


def current_platform() -> str:
    """``sys.platform``; tests replace this function to see another system's messages."""
    return sys.platform


def where_segments_live() -> str:
    """Where a segment that was never unlinked stays, on this system, in a few words."""
    platform = current_platform()
    if platform.startswith("linux"):
        return "a file in /dev/shm, using memory until someone unlinks it"
    if platform == "win32":
        return (
            "on Windows it goes away with its last handle, but the same code leaks it on Linux "
            "and macOS, where it stays in memory until someone unlinks it"
        )
    return "in memory (POSIX shared memory) until someone unlinks it"


_FREE_CODE = """```python
shm = shared_memory.SharedMemory(create=True, size=8 * len(values))
try:
    view = shm.buf.cast("d")
    for i, v in enumerate(values):
        view[i] = v
    view.release()                      # no view may outlive close()
    return cl.ipc.shm_child_sum(shm.name, len(values), fail=fail)
finally:
    shm.close()                         # this process's mapping
    shm.unlink()                        # the segment itself (the creator does this)
```"""


def shared_memory_freed(total_in_child: Callable[..., Any]) -> Feedback:
    """Exercise 2: ``total_in_child(values, fail=...)`` sums in a child and always frees memory.

    The check calls your function twice: once normally (it must return the sum) and once
    with ``fail=True`` (the child raises: the error must reach the caller, and the segment
    must be closed and unlinked anyway). It notes every segment created and every
    ``unlink()`` call (on Windows a segment vanishes with its last handle even without
    ``unlink()``, so the call itself is what counts), and frees what your function left.
    """
    exercise = "ipc.shared_memory_freed"
    if not callable(total_in_child):
        return failed(
            exercise, f"Pass your function itself, without calling it (got {total_in_child!r})."
        )
    values = [1.5, 2.5, 3.0, 4.0]
    with _SegmentSpy() as spy:
        try:
            got = total_in_child(values)
        except BufferError as exc:
            spy.not_unlinked()
            return failed(
                exercise,
                f"close() failed ({exc}): a view of the segment was still alive.",
                "A memoryview or numpy array made from shm.buf must be gone before close().",
                "Call view.release() (or `del` the numpy array) before shm.close().",
            )
        except Exception as exc:
            spy.not_unlinked()
            return failed(exercise, f"Your function raised {type(exc).__name__}: {exc}")
        left = spy.not_unlinked()
        if got != sum(values):
            return failed(
                exercise,
                f"total_in_child({values}) returned {got!r}, expected {sum(values)}.",
                "Copy every value into the segment before the child sums it, and return what "
                "cl.ipc.shm_child_sum gives back.",
            )
        if not spy.created:
            return failed(
                exercise,
                "No shared-memory segment was created: the child must read the values from one.",
                "shared_memory.SharedMemory(create=True, size=8 * len(values)) makes one.",
            )
        if left:
            return failed(
                exercise,
                f"The sum is right, but segment {left[0]!r} was never unlinked: it stays "
                f"{where_segments_live()}.",
                "Two calls free a segment: one ends this process's mapping, one removes the "
                "segment itself. Which are they?",
                "shm.close(), then shm.unlink(), once you are done with it.",
                _FREE_CODE,
            )
        spy.created.clear()
        raised: Exception | None = None
        try:
            total_in_child(values, fail=True)
        except Exception as exc:
            raised = exc
        left = spy.not_unlinked()
    if left:
        return failed(
            exercise,
            f"When the child failed, segment {left[0]!r} was never unlinked: it stays "
            f"{where_segments_live()}. Python's resource tracker frees leftovers only when the "
            f"program (here: the notebook's kernel) ends.",
            "Which kind of block runs its code whether or not an exception happened?",
            "Wrap the work in try: ... and put shm.close() and shm.unlink() in its finally: "
            "block, so they run even when cl.ipc.shm_child_sum raises.",
            _FREE_CODE,
        )
    if raised is None:
        return failed(
            exercise,
            "With fail=True the child raises, but your function returned normally: the "
            "caller never learns that the sum is missing.",
            "Clean up in finally:, and do not catch the error with except: let it pass.",
        )
    if not isinstance(raised, WorkerError):
        return failed(
            exercise,
            f"With fail=True your function raised {type(raised).__name__}: {raised}. Expected "
            f"the child's WorkerError to come through unchanged.",
            "Let the WorkerError from cl.ipc.shm_child_sum pass; do not raise another.",
        )
    return passed(
        exercise,
        "The sum is right, and the segment is unlinked whether the child succeeds or fails.",
    )


# --------------------------------------------------------------------------- Exercise 3

#: Two of the numbers the Exercise 3 check sends are this large (200,001 bits, 25 KB pickled):
#: each of their result pairs ``(x, x * x)`` pickles to about 75 KB, more than a pipe holds
#: (64 KiB on Linux, ``man 7 pipe``; less on macOS and Windows), so the worker that squared one
#: cannot end before its results are read, and joining it first really blocks. The tasks, all
#: 20 together, still fit in the pipe (about 50 KB), so the parent never blocks feeding them.
BIG = 1 << 200_000

#: What the Exercise 3 check sends: 18 small numbers and two big ones.
NUMBERS = (BIG + 1, *range(1, 10), BIG + 2, *range(10, 19))


def short_repr(value: object, depth: int = 0) -> str:
    """A short repr that never prints a huge integer (repr of those fails since Python 3.11).

    >>> short_repr([1, 2, (3, 1 << 100), 4, 5, 1 << 100])
    '[1, 2, (3, <an int of 101 bits>), ..., <an int of 101 bits>]'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<an int of {value.bit_length()} bits>"
    if isinstance(value, (list, tuple)) and depth < 2:
        parts = [short_repr(x, depth + 1) for x in value]
        if len(parts) > 4:
            parts = [*parts[:3], "...", parts[-1]]
        inner = ", ".join(parts)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    text = repr(value) if not isinstance(value, (list, tuple)) else "[...]"
    return text if len(text) <= 60 else text[:57] + "..."


class _JoinSpy:
    """Notes each new process that ``join(timeout)`` gave up on (still running afterwards)."""

    def __init__(self, before: set[int | None]) -> None:
        self.before = before
        self.gave_up: list[str] = []

    def __enter__(self) -> _JoinSpy:
        self._join = join = BaseProcess.join
        spy = self

        def watched(p: BaseProcess, timeout: float | None = None) -> None:
            join(p, timeout)
            if p.pid not in spy.before and p.exitcode is None:
                spy.gave_up.append(p.name)

        BaseProcess.join = watched  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        BaseProcess.join = self._join  # type: ignore[method-assign]


_SQUARES_CODE = """```python
for _ in workers:
    tasks.put(None)                                   # one sentinel per worker
pairs = [results.get(timeout=10) for _ in numbers]    # read every result first ...
for w in workers:
    w.join(timeout=10)                                # ... then join
return sorted(square for _, square in pairs)
```"""


def queue_workers(squares: Callable[[list[int], int], Any], *, timeout_s: float = 30) -> Feedback:
    """Exercise 3: ``squares(numbers, n_workers)`` uses worker processes and two queues.

    The check runs your function (in a helper thread, so a hang cannot freeze the notebook)
    on 20 numbers, two of them huge: their results are larger than a pipe holds, so a worker
    that squared one cannot end until its results are read. It compares the result with the
    squares, notes every ``join(timeout)`` that gave up on a running worker (joined before its
    results were collected), and makes sure every worker has ended. Processes it finds still
    running are terminated.
    """
    exercise = "ipc.queue_workers"
    if not callable(squares):
        return failed(exercise, f"Pass your function itself, without calling it (got {squares!r}).")
    numbers = list(NUMBERS)
    before = {p.pid for p in multiprocessing.active_children()}
    start = time.monotonic()
    with _JoinSpy(before) as joins:
        status, value = call_with_timeout(squares, numbers, 3, timeout_s=timeout_s)
    late = [p for p in multiprocessing.active_children() if p.pid not in before]
    stop_processes(late)
    if status == "hung":
        value.join(5)
        return failed(
            exercise,
            f"Your function did not return within {timeout_s:g} s: someone waited for "
            f"something that never came.",
            "Does every worker get its sentinel? And do you join a worker before reading "
            "its results (it cannot end while they wait in the queue)?",
            "Put one None per worker on tasks; read one result per number; join only then.",
            _SQUARES_CODE,
        )
    if status == "error":
        return failed(exercise, f"Your function raised {type(value).__name__}: {value}")
    want = sorted(x * x for x in numbers)
    try:
        ok = sorted(value) == want
        numbers_back = not ok and sorted(value) == sorted(numbers)
    except TypeError:
        ok = numbers_back = False
    if numbers_back:
        return failed(
            exercise,
            "You returned the numbers themselves: each result is a pair (x, x * x).",
            "Return the second item of each pair, sorted.",
        )
    if not ok:
        n = len(value) if isinstance(value, (list, tuple)) else 0
        return failed(
            exercise,
            f"Expected the {len(want)} squares {want[:3]}...; got {n} item(s): "
            f"{short_repr(value)}.",
            "Read one result per number from the results queue (with a timeout).",
            "pairs = [results.get(timeout=10) for _ in numbers]; each pair is (x, x * x).",
            _SQUARES_CODE,
        )
    if joins.gave_up:
        return failed(
            exercise,
            f"The squares are right, but join(timeout) gave up on {joins.gave_up[0]} while it "
            f"was still running: a worker cannot end while its results wait in the queue (two "
            f"of the check's results are larger than a pipe holds).",
            "In which order must reading the results and joining the workers happen?",
            "Collect every result first, then join each worker.",
            _SQUARES_CODE,
        )
    if late:
        return failed(
            exercise,
            f"The squares are right, but {len(late)} worker process(es) were still running "
            f"when your function returned.",
            "Each worker stops at its own sentinel: put one None per worker, then join each.",
            _SQUARES_CODE,
        )
    return passed(
        exercise,
        f"All {len(want)} squares, every worker stopped by its sentinel and joined after its "
        f"results were read ({time.monotonic() - start:.2f} s).",
    )
