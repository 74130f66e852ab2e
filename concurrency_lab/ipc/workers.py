"""What the child processes of lesson 06 run: short, plain functions to read and to start.

The lesson's code cells start these with plain ``multiprocessing`` calls
(``ctx.Process(target=cl.ipc.square_server, args=(child_end,))``). They live in a module,
not in the notebook, because a ``spawn`` or ``forkserver`` child re-imports the function it
runs by name, and a notebook is not importable (lesson 01). ``cl.show_source(fn)`` shows any
of them in the notebook.

Every wait in them has a timeout, so a child whose parent has gone away ends by itself.

Introduced in ``06-ipc.ipynb``.
"""

from __future__ import annotations

import queue
import time
from contextlib import closing
from multiprocessing import shared_memory
from multiprocessing.connection import Connection
from typing import Any

from ..core.machine import check_start_method, get_context
from ..core.validate import check_count, check_timeout
from .children import Children

__all__ = [
    "count_up",
    "double_in_place",
    "echo_pipe",
    "echo_queue",
    "echo_shm",
    "echo_thread",
    "put_big",
    "shm_child_sum",
    "silent_server",
    "square_server",
    "square_worker",
    "store_square",
    "sum_in_place",
]


def square_server(conn: Connection) -> None:
    """Answer each number that arrives on ``conn`` with its square; stop at ``None``.

    The child side of a ``Pipe`` conversation. ``conn.recv()`` has no timeout, so the
    child first waits with ``conn.poll(60)``: after a minute without a message it stops.

    Introduced in ``06-ipc.ipynb``.
    """
    try:
        while conn.poll(60):  # wait at most 60 s for the next number
            x = conn.recv()
            if x is None:  # the parent says: no more
                break
            conn.send(x * x)
    except EOFError:  # the parent closed its end
        pass
    finally:
        conn.close()


def silent_server(conn: Connection, *, quiet_s: float = 60.0) -> None:
    """A child that never answers: it holds ``conn`` open and sleeps (at most ``quiet_s``).

    Use it to see what a parent does when its partner goes quiet: a ``conn.recv()``
    without ``conn.poll(timeout)`` first would wait the whole time.

    Introduced in ``06-ipc.ipynb``.
    """
    time.sleep(quiet_s)
    conn.close()


def square_worker(tasks: Any, results: Any) -> int:
    """Take numbers from ``tasks`` until the sentinel ``None``; put ``(x, x * x)`` on ``results``.

    Send one ``None`` per worker to stop them all. Returns how many numbers it squared.
    Each ``get`` waits at most 60 s, so a worker whose parent forgot the sentinel ends
    anyway (with ``queue.Empty``).

    Introduced in ``06-ipc.ipynb``.
    """
    n = 0
    while True:
        x = tasks.get(timeout=60)
        if x is None:  # the sentinel: no more work for this worker
            return n
        results.put((x, x * x))
        n += 1


def store_square(d: Any, x: int) -> None:
    """Store ``x * x`` under the key ``x`` in ``d``, a ``Manager().dict()`` proxy.

    The assignment is a message to the manager's server process and an answer back; every
    process that holds a proxy of ``d`` sees the new key.

    Introduced in ``06-ipc.ipynb``.
    """
    d[x] = x * x


def put_big(q: Any, size: int) -> None:
    """Put ``size`` bytes on queue ``q`` as one item, then return.

    The process still cannot *end* until the item is through the queue's pipe, which
    holds only a little (64 KiB on Linux): someone must read it first.

    Introduced in ``06-ipc.ipynb``.
    """
    q.put(b"x" * size)


def count_up(counter: Any, n: int, start: Any, use_lock: bool = False) -> None:
    """Add 1 to the shared ``counter`` (a ``multiprocessing.Value``) ``n`` times.

    ``start`` is a ``Barrier`` that the workers pass together, so they really overlap.
    ``counter.value += 1`` reads, adds and writes: two steps for the shared value. The
    default ``Value`` has a lock, but ``+=`` does not hold it across both steps; with
    ``use_lock=True`` each update holds ``counter.get_lock()``.

    Introduced in ``06-ipc.ipynb``.
    """
    start.wait(timeout=30)
    if use_lock:
        for _ in range(n):
            with counter.get_lock():  # read, add and write as one step
                counter.value += 1
    else:
        for _ in range(n):
            counter.value += 1  # another process may write between the read and the write


def double_in_place(name: str, n: int) -> None:
    """Attach to the shared-memory segment ``name`` and double its first ``n`` float64 values.

    Nothing is copied or sent: the child works on the bytes the parent sees. It closes its
    own mapping (``closing`` calls ``shm.close()``); the process that created the segment
    unlinks it.

    Introduced in ``06-ipc.ipynb``.
    """
    import numpy as np

    with closing(shared_memory.SharedMemory(name=name)) as shm:  # attach by name
        values = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
        values *= 2  # in place: the parent sees the change
        del values  # no view of the segment may outlive close()


def sum_in_place(name: str, n: int, fail: bool = False) -> float:
    """Attach to segment ``name`` and return the sum of its first ``n`` float64 values.

    With ``fail=True`` it raises after attaching instead (to see the clean-up).

    Introduced in ``06-ipc.ipynb``.
    """
    import numpy as np

    with closing(shared_memory.SharedMemory(name=name)) as shm:
        values = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
        try:
            if fail:
                raise RuntimeError("injected failure: the child stopped before summing")
            return float(values.sum())
        finally:
            del values


def shm_child_sum(
    name: str,
    n: int,
    *,
    start_method: str | None = None,
    fail: bool = False,
    timeout_s: float = 30,
) -> float:
    """Sum ``n`` float64 values held in the shared-memory segment ``name``, in a child process.

    A helper for the exercises: the child attaches to the segment by name, sums the first
    ``n`` values and detaches. It does not unlink the segment: the process that created a
    segment frees it.

    >>> import struct
    >>> seg = shared_memory.SharedMemory(create=True, size=16)
    >>> seg.buf[:16] = struct.pack("2d", 1.5, 2.5)
    >>> shm_child_sum(seg.name, 2)
    4.0
    >>> seg.close(); seg.unlink()

    Args:
        name: the segment's name, ``shm.name``.
        n: how many float64 values to sum (at least 1).
        start_method: ``"fork"``, ``"spawn"``, ``"forkserver"`` or ``None`` (the default).
        fail: make the child raise instead of summing.
        timeout_s: give up (and stop the child) after this long.

    Returns:
        The sum.

    Raises:
        TypeError: ``name`` is not a string.
        WorkerError: with ``fail=True``, or whatever the child raised.
        WorkerTimeoutError: the child took longer than ``timeout_s``.

    Introduced in ``06-ipc.ipynb``.
    """
    if not isinstance(name, str):
        raise TypeError(f"'name' must be the segment's name, shm.name (got {name!r}).")
    n = check_count(n, "n", 1, 1_000_000_000)
    ctx = get_context(check_start_method(start_method))
    with Children(ctx, check_timeout(timeout_s)) as kids:
        kids.start("shm-child", sum_in_place, name, n, bool(fail))
        (total,) = kids.results()
    return float(total)


# ----------------------------------------------------------------- the measurement's echoes


def echo_pipe(conn: Any) -> int:
    """Measuring child: answer each message with its length; stop at ``None``."""
    n = 0
    while conn.poll(60):
        msg = conn.recv()
        if msg is None:
            return n
        conn.send(len(msg))
        n += 1
    raise TimeoutError("no message for 60 s")


def echo_queue(inq: Any, outq: Any) -> int:
    """Measuring child: take each message from ``inq``, put its length on ``outq``."""
    n = 0
    while True:
        if hasattr(inq, "put_nowait"):
            msg = inq.get(timeout=60)
        elif inq._reader.poll(60):  # a SimpleQueue: its get() has no timeout
            msg = inq.get()
        else:
            raise TimeoutError("no message for 60 s")
        if msg is None:
            return n
        outq.put(len(msg))
        n += 1


def echo_thread(inq: queue.Queue[Any], outq: queue.Queue[Any]) -> None:
    """Measuring thread: the same echo between threads, for ``queue.Queue``."""
    while True:
        msg = inq.get(timeout=60)
        if msg is None:
            return
        outq.put(len(msg))


def echo_shm(conn: Any, name: str) -> int:
    """Measuring child: on each length ``n``, read bytes ``0`` and ``n - 1`` of the segment.

    The data is already in this process's memory (the segment is mapped here), so receiving
    it needs no copy. It reads only two bytes, to prove they arrived; a child that used all
    the data would pay for reading it, not for moving it. Answers ``(n, first, last)``.
    """
    shm = shared_memory.SharedMemory(name=name)
    buf = shm.buf
    if buf is None:  # pragma: no cover - only a closed segment has none
        raise RuntimeError(f"segment {name!r} has no buffer")
    n_msgs = 0
    try:
        while conn.poll(60):
            n = conn.recv()
            if n is None:
                return n_msgs
            conn.send((n, buf[0], buf[n - 1]))
            n_msgs += 1
        raise TimeoutError("no message for 60 s")
    finally:
        buf.release()
        shm.close()
