"""Inter-process communication: every way Python processes can talk, and what each costs.

Threads share their process's memory; processes do not (see
:func:`concurrency_lab.memory_isolation`). Anything one process wants another to
see must be *sent*: copied through the operating system, or placed in memory
both map. This module holds:

* one short, correct example of each primitive, each returning what went in and
  what came out (:func:`pipe_demo`, :func:`queue_demo`, :func:`manager_demo`,
  :func:`counter_demo`, :func:`shared_memory_demo`, :func:`shareable_list_demo`,
  :func:`thread_queue_demo`), plus two pitfalls (:func:`join_before_drain`,
  :func:`qsize_available`) and the cost of a proxy call (:func:`proxy_cost`);
* :func:`measure_ipc`: throughput and round-trip time per method and message
  size, next to an in-process memory copy measured in the same run, with the
  pickling cost measured on its own.

The producer-consumer pipeline (:func:`run_pipeline`: producers and consumers
around one bounded queue, with sentinel shutdown, a timeline and the queue depth
over time) lives in :mod:`concurrency_lab.pipeline`, built on the child-process
plumbing here; its names are reachable from this module too
(``concurrency_lab.ipc.run_pipeline``), as before.

Every child process is joined or terminated, every shared-memory segment closed
and unlinked and every manager shut down, also when a worker fails or the cell
is interrupted. Worker functions live here, at module level, so ``spawn`` and
``forkserver`` children can import them.

Introduced in ``06-ipc.ipynb``.
"""

from __future__ import annotations

import multiprocessing.connection
import pickle
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing import shared_memory
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from statistics import median
from typing import Any

from ..core.children import describe_exit, stop_processes, worker_error
from ..core.errors import WorkerCrashedError, WorkerTimeoutError
from ..core.machine import check_start_method, get_context
from ..core.validate import check_count, check_timeout

__all__ = [
    "DEFAULT_SIZES",
    "METHODS",
    "CounterDemo",
    "DrainDemo",
    "IPCDemo",
    "IPCResult",
    "ProxyCost",
    "counter_demo",
    "join_before_drain",
    "manager_demo",
    "measure_ipc",
    "pipe_demo",
    "proxy_cost",
    "qsize_available",
    "queue_demo",
    "queue_square_worker",
    "shareable_list_demo",
    "shared_memory_demo",
    "shm_child_sum",
    "thread_queue_demo",
]

KiB = 1024
MiB = 1024 * 1024

#: Every method :func:`measure_ipc` knows, "memcpy" (the in-process limit) first.
METHODS = ("memcpy", "queue.Queue", "Pipe", "SimpleQueue", "Queue", "SharedMemory", "Manager")
#: Message sizes measured when you give none: 64 B to 4 MiB, quick enough for a notebook.
DEFAULT_SIZES = (64, 4 * KiB, 256 * KiB, 4 * MiB)
_MAX_SIZE = 1024 * MiB
POLL_S = 0.05


# --------------------------------------------------------------------------- child processes


def _child_main(target: Callable[..., Any], args: tuple[Any, ...], conn: Any) -> None:
    """Body of every child process here: run ``target`` and report how it ended."""
    try:
        result = target(*args)
    except BaseException as exc:  # report everything, even KeyboardInterrupt
        conn.send(("error", type(exc).__name__, str(exc), traceback.format_exc()))
    else:
        conn.send(("done", result))
    finally:
        conn.close()


class Children:
    """Start module-level functions in child processes and collect what they return.

    A context manager: on leaving, children are joined (briefly) and any still
    alive are terminated, so none outlives the ``with`` block, whatever happened.
    :meth:`check` raises at once if a child failed, crashed, or the deadline passed,
    so the parent never waits for a partner that is gone.
    """

    def __init__(self, ctx: BaseContext, timeout_s: float) -> None:
        self.ctx = ctx
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.procs: list[Any] = []
        self.names: list[str] = []
        self._readers: dict[Any, int] = {}
        self._results: dict[int, Any] = {}
        self._reported: set[int] = set()

    def __enter__(self) -> Children:
        return self

    def start(self, name: str, target: Callable[..., Any], *args: Any) -> int:
        reader, writer = self.ctx.Pipe(duplex=False)
        p = self.ctx.Process(  # type: ignore[attr-defined]
            target=_child_main, args=(target, args, writer), name=name, daemon=True
        )
        try:
            p.start()
        except BaseException:
            reader.close()
            raise
        finally:
            writer.close()  # the child holds the only write end: EOF means "it is gone"
        self.procs.append(p)
        self.names.append(name)
        i = len(self.procs) - 1
        self._readers[reader] = i
        return i

    def _handle(self, reader: Any) -> None:
        i = self._readers.pop(reader)
        self._reported.add(i)
        name, pid = self.names[i], self.procs[i].pid
        try:
            message = reader.recv()
        except (EOFError, OSError):
            self.procs[i].join(timeout=2)
            code = self.procs[i].exitcode
            raise WorkerCrashedError(
                f"{name} (pid {pid}) ended without reporting back: {describe_exit(code)}. "
                f"The lab stopped the other processes and cleaned up.",
                worker=name,
                exitcode=code,
            ) from None
        finally:
            reader.close()
        if message[0] == "error":
            raise worker_error(name, message[1], message[2], message[3])
        self._results[i] = message[1]

    def _timeout(self) -> WorkerTimeoutError:
        late = tuple(self.names[i] for i in sorted(self._readers.values()))
        return WorkerTimeoutError(
            f"{', '.join(late) or 'the exchange'} still running after timeout_s="
            f"{self.timeout_s:g} s; the lab terminated its processes and cleaned up. Give them "
            f"less work, or a larger timeout_s.",
            workers=late,
            timeout_s=self.timeout_s,
        )

    def check(self) -> None:
        """Raise if any child has failed or crashed, or the deadline has passed."""
        if self._readers:
            for reader in multiprocessing.connection.wait(list(self._readers), timeout=0):
                self._handle(reader)
        if time.monotonic() > self.deadline:
            raise self._timeout()

    def partner_gone(self) -> None:
        """The other end of a pipe vanished: give the children a moment to say why, and raise."""
        end = time.monotonic() + 2.0
        while self._readers and time.monotonic() < end:
            for reader in multiprocessing.connection.wait(list(self._readers), timeout=0.1):
                self._handle(reader)

    def results(self, indices: Iterable[int] | None = None) -> list[Any]:
        """Wait for the given children (default: all) to return; their results in order."""
        wanted = list(range(len(self.procs))) if indices is None else list(indices)
        while any(i not in self._results for i in wanted):
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise self._timeout()
            ready = multiprocessing.connection.wait(list(self._readers), timeout=remaining)
            for reader in ready:
                self._handle(reader)
        return [self._results[i] for i in wanted]

    def __exit__(self, exc_type: object, *rest: object) -> None:
        for reader in self._readers:
            reader.close()
        self._readers.clear()
        if exc_type is None:
            end = time.monotonic() + min(5.0, max(0.5, self.deadline - time.monotonic()))
            for p in self.procs:
                p.join(timeout=max(0.0, end - time.monotonic()))
        else:
            # A child that has reported (even an error) is about to exit by itself: let it.
            end = time.monotonic() + 0.5
            for i, p in enumerate(self.procs):
                if i in self._reported:
                    p.join(timeout=max(0.0, end - time.monotonic()))
        stop_processes(self.procs, grace_s=0.5)
        for p in self.procs:
            if p.exitcode is not None:
                p.close()


def _recv(kids: Children, conn: Any) -> Any:
    """``conn.recv()``, but give up as soon as a child fails or time runs out."""
    while not conn.poll(POLL_S):
        kids.check()
    try:
        return conn.recv()
    except (EOFError, OSError):
        kids.partner_gone()
        raise


def _get(kids: Children, q: Any) -> Any:
    """``q.get()`` for a ``Queue``, ``JoinableQueue`` or manager queue, with the same care."""
    while True:
        try:
            return q.get(timeout=POLL_S)
        except queue.Empty:
            kids.check()


def _get_simple(kids: Children, q: Any) -> Any:
    """``q.get()`` for a ``SimpleQueue``, whose ``get`` has no timeout.

    A SimpleQueue is a pipe plus a lock; waiting on the pipe's read end (its
    ``_reader``) is how to wait with a timeout.
    """
    while not q._reader.poll(POLL_S):
        kids.check()
    return q.get()


def put_watched(kids: Children, q: Any, item: Any) -> None:
    while True:
        try:
            q.put(item, timeout=POLL_S)
            return
        except queue.Full:
            kids.check()


def close_queue(q: Any, ok: bool) -> None:
    """Close a ``multiprocessing`` queue; after a failure, never wait for its feeder."""
    q.close()
    if ok:
        q.join_thread()
    else:
        q.cancel_join_thread()


def check_seconds(value: object, name: str, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high:
        raise ValueError(
            f"'{name}' must be a number of seconds from 0 to {high:g} (got {value!r})."
        )
    return float(value)


# --------------------------------------------------------------------------- one demo per primitive


@dataclass(frozen=True)
class IPCDemo:
    """What one primitive carried between processes: what went in, what came out.

    Attributes:
        primitive: e.g. ``"Pipe (duplex)"`` or ``"SharedMemory"``.
        start_method: how the children started; ``None`` when threads were used.
        sent: what the parent sent or wrote.
        received: what came back (or what the parent read afterwards).
        expected: what a correct exchange gives back.
        elapsed_s: wall-clock seconds, process start-up included.
    """

    primitive: str
    start_method: str | None
    sent: Any
    received: Any
    expected: Any
    elapsed_s: float

    @property
    def ok(self) -> bool:
        """True when what came back is what a correct exchange gives."""
        return bool(self.received == self.expected)


_NUMBERS = (1, 2, 3, 4, 5, 6, 7, 8)


def _pipe_square(conn: Any) -> int:
    """Child of :func:`pipe_demo` (duplex): answer each number with its square on the same end."""
    n = 0
    while True:
        x = conn.recv()
        if x is None:
            return n
        conn.send(x * x)
        n += 1


def _pipe_square_oneway(inbox: Any, outbox: Any) -> int:
    """Child of :func:`pipe_demo` (one-way pipes): read from ``inbox``, answer on ``outbox``."""
    n = 0
    while True:
        x = inbox.recv()
        if x is None:
            return n
        outbox.send(x * x)
        n += 1


def pipe_demo(
    *, duplex: bool = True, start_method: str | None = None, timeout_s: float = 30
) -> IPCDemo:
    """Send numbers to a child through a ``Pipe`` and get their squares back.

    ``Pipe()`` gives two connected ends. Duplex (the default) means both ends can
    send and receive; ``Pipe(duplex=False)`` gives a read end and a write end, so
    a conversation needs two pipes. Only two processes should use a pipe.

    >>> pipe_demo().received
    (1, 4, 9, 16, 25, 36, 49, 64)

    Args:
        duplex: one two-way pipe (True) or two one-way pipes (False).
        start_method: ``"fork"``, ``"spawn"``, ``"forkserver"`` or ``None``.
        timeout_s: give up (and clean up) after this long.
    """
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    t0 = time.perf_counter()
    got = []
    with Children(ctx, timeout_s) as kids:
        if duplex:
            here, there = ctx.Pipe()
            kids.start("pipe-child", _pipe_square, there)
            there.close()  # the child has its own copy of this end
            send, recv = here, here
            ends = [here]
        else:
            child_in, to_child = ctx.Pipe(duplex=False)  # (read end, write end)
            from_child, child_out = ctx.Pipe(duplex=False)
            kids.start("pipe-child", _pipe_square_oneway, child_in, child_out)
            child_in.close()
            child_out.close()
            send, recv = to_child, from_child
            ends = [to_child, from_child]
        try:
            for x in _NUMBERS:
                send.send(x)
                got.append(_recv(kids, recv))
            send.send(None)
            kids.results()
        finally:
            for end in ends:
                end.close()
    return IPCDemo(
        primitive="Pipe (duplex)" if duplex else "Pipe (two one-way)",
        start_method=method,
        sent=_NUMBERS,
        received=tuple(got),
        expected=tuple(x * x for x in _NUMBERS),
        elapsed_s=time.perf_counter() - t0,
    )


def queue_square_worker(tasks: Any, results: Any) -> int:
    """Take numbers from ``tasks`` until ``None``; put ``(x, x * x)`` on ``results``.

    A worker for queue exercises: it stops at the sentinel ``None`` (send one per
    worker) and returns how many numbers it squared. If ``tasks`` is a
    ``JoinableQueue`` it calls ``task_done()`` for every item, sentinel included.
    Waits at most 60 s for each item. Introduced in ``06-ipc.ipynb``.
    """
    joinable = hasattr(tasks, "task_done")
    n = 0
    while True:
        x = tasks.get(timeout=60) if _is_full_queue(tasks) else _simple_get(tasks, 60.0)
        try:
            if x is None:
                return n
            results.put((x, x * x))
            n += 1
        finally:
            if joinable:
                tasks.task_done()


def _is_full_queue(q: Any) -> bool:
    """True for queues whose ``get`` takes a timeout (``Queue``, ``JoinableQueue``, proxies)."""
    return hasattr(q, "put_nowait")


def _simple_get(q: Any, timeout_s: float) -> Any:
    if not q._reader.poll(timeout_s):
        raise TimeoutError(f"no item arrived within {timeout_s:g} s")
    return q.get()


QUEUE_KINDS = ("Queue", "SimpleQueue", "JoinableQueue")


def queue_demo(
    *,
    kind: str = "Queue",
    n_workers: int = 2,
    start_method: str | None = None,
    timeout_s: float = 30,
) -> IPCDemo:
    """Workers take numbers from one queue and put their squares on another.

    A ``Queue`` can have any number of writers and readers. Each worker stops at
    a sentinel (``None``), one per worker. The parent collects every result
    *before* joining the workers (see :func:`join_before_drain` for why).

    * ``Queue``: ``get``/``put`` with timeouts; a background thread sends the data.
    * ``SimpleQueue``: just a pipe and a lock; no timeouts, no ``qsize``; a little faster.
    * ``JoinableQueue``: a ``Queue`` that counts ``task_done()`` calls, so ``join()``
      waits until every item has been processed.

    >>> queue_demo(kind="SimpleQueue", ).received
    (1, 4, 9, 16, 25, 36, 49, 64)

    Args:
        kind: ``"Queue"``, ``"SimpleQueue"`` or ``"JoinableQueue"``.
        n_workers: how many worker processes share the task queue (1 to 8).
        start_method, timeout_s: as for :func:`pipe_demo`.
    """
    if kind not in QUEUE_KINDS:
        raise ValueError(f"'kind' must be one of {', '.join(QUEUE_KINDS)} (got {kind!r}).")
    n_workers = check_count(n_workers, "n_workers", 1, 8)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    make = getattr(ctx, kind)
    tasks, results = make(), ctx.Queue()
    got: list[tuple[int, int]] = []
    ok = False
    t0 = time.perf_counter()
    try:
        with Children(ctx, timeout_s) as kids:
            for i in range(n_workers):
                kids.start(f"worker-{i + 1}", queue_square_worker, tasks, results)
            for x in _NUMBERS:
                tasks.put(x)
            for _ in range(n_workers):
                tasks.put(None)  # one sentinel per worker
            for _ in _NUMBERS:  # drain the results first ...
                got.append(_get(kids, results))
            kids.results()  # ... then wait for the workers to end
            if kind == "JoinableQueue":
                _join_with_timeout(tasks, kids)
            ok = True
    finally:
        for q in (tasks, results):
            if hasattr(q, "cancel_join_thread"):
                close_queue(q, ok)
            else:
                q.close()
    return IPCDemo(
        primitive=kind,
        start_method=method,
        sent=_NUMBERS,
        received=tuple(sq for _, sq in sorted(got)),
        expected=tuple(x * x for x in _NUMBERS),
        elapsed_s=time.perf_counter() - t0,
    )


def _join_with_timeout(q: Any, kids: Children) -> None:
    """``JoinableQueue.join()`` has no timeout: wait for it in a helper thread instead."""
    t = threading.Thread(target=q.join, daemon=True, name="joinable-queue-join")
    t.start()
    while t.is_alive():
        t.join(POLL_S)
        if t.is_alive():
            kids.check()


def _thread_square(tasks: queue.Queue[Any], results: queue.Queue[Any]) -> None:
    while True:
        x = tasks.get(timeout=60)
        if x is None:
            return
        results.put((x, x * x))


def thread_queue_demo(*, n_workers: int = 2, timeout_s: float = 30) -> IPCDemo:
    """The in-process reference: ``queue.Queue`` between threads (no copy, no pickle).

    Threads share memory, so a ``queue.Queue`` hands over a *reference* to the
    object: nothing is copied or pickled. Same pattern as :func:`queue_demo`.

    >>> thread_queue_demo().received
    (1, 4, 9, 16, 25, 36, 49, 64)
    """
    n_workers = check_count(n_workers, "n_workers", 1, 8)
    timeout_s = check_timeout(timeout_s)
    tasks: queue.Queue[Any] = queue.Queue()
    results: queue.Queue[Any] = queue.Queue()
    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=_thread_square, args=(tasks, results), daemon=True)
        for _ in range(n_workers)
    ]
    for t in threads:
        t.start()
    try:
        for x in _NUMBERS:
            tasks.put(x)
        got = [results.get(timeout=timeout_s) for _ in _NUMBERS]
    finally:
        for _ in threads:
            tasks.put(None)
        for t in threads:
            t.join(timeout_s)
    return IPCDemo(
        primitive="queue.Queue (threads)",
        start_method=None,
        sent=_NUMBERS,
        received=tuple(sq for _, sq in sorted(got)),
        expected=tuple(x * x for x in _NUMBERS),
        elapsed_s=time.perf_counter() - t0,
    )


def _manager_worker(d: Any, items: Any, index: int, fail: bool) -> int:
    """Child of :func:`manager_demo`: write to a dict proxy and a list proxy."""
    d[f"worker-{index}"] = index * index  # one call to the manager process
    items.append(index)  # another
    if fail:
        raise RuntimeError(f"injected failure in worker-{index}")
    return len(items)


def manager_demo(
    *,
    n_workers: int = 2,
    start_method: str | None = None,
    timeout_s: float = 30,
    fail: bool = False,
) -> IPCDemo:
    """Workers write to a ``dict`` and a ``list`` that live in a manager process.

    ``Manager()`` starts a server process that owns ordinary Python objects;
    every process gets *proxies*, and each access (``d[k] = v``, ``lst.append``)
    is a message to the server and back. Convenient and flexible, but every
    access costs a round trip (see :func:`proxy_cost`). The manager is shut down
    when the demo ends, also after a failure.

    >>> demo = manager_demo()
    >>> demo.received
    ({'worker-1': 1, 'worker-2': 4}, [1, 2])

    Args:
        n_workers: how many worker processes (1 to 8).
        start_method, timeout_s: as for :func:`pipe_demo`.
        fail: make every worker raise after writing (to see the clean-up).

    Raises:
        WorkerError: with ``fail=True``; the manager and the workers are gone by then.
    """
    n_workers = check_count(n_workers, "n_workers", 1, 8)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    t0 = time.perf_counter()
    with ctx.Manager() as manager:  # leaving the block shuts the manager process down
        d, items = manager.dict(), manager.list()
        with Children(ctx, timeout_s) as kids:
            for i in range(1, n_workers + 1):
                kids.start(f"worker-{i}", _manager_worker, d, items, i, fail)
            kids.results()
        received = (dict(sorted(d.items())), sorted(items))
    return IPCDemo(
        primitive="Manager (dict and list proxies)",
        start_method=method,
        sent=tuple(range(1, n_workers + 1)),
        received=received,
        expected=(
            {f"worker-{i}": i * i for i in range(1, n_workers + 1)},
            list(range(1, n_workers + 1)),
        ),
        elapsed_s=time.perf_counter() - t0,
    )


@dataclass(frozen=True)
class ProxyCost:
    """Time per read of a plain ``dict`` versus a manager's ``dict`` proxy.

    Attributes:
        n_calls: reads timed of each.
        local_us: microseconds per ``d[key]`` on a plain dict.
        proxy_us: microseconds per ``d[key]`` on a dict proxy (a round trip to the manager).
    """

    n_calls: int
    local_us: float
    proxy_us: float

    @property
    def ratio(self) -> float:
        """How many times slower one proxy access is than one local access."""
        return self.proxy_us / self.local_us if self.local_us > 0 else float("inf")


def proxy_cost(*, n_calls: int = 500, start_method: str | None = None) -> ProxyCost:
    """Time ``n_calls`` reads of a plain dict and of a manager dict proxy.

    >>> cost = proxy_cost(n_calls=50, )
    >>> cost.proxy_us > cost.local_us
    True
    """
    n_calls = check_count(n_calls, "n_calls", 1, 1_000_000)
    ctx = get_context(check_start_method(start_method))
    local = {"key": 1}
    t0 = time.perf_counter()
    for _ in range(n_calls):
        local["key"]
    local_s = time.perf_counter() - t0
    with ctx.Manager() as manager:
        d = manager.dict(local)
        t0 = time.perf_counter()
        for _ in range(n_calls):
            d["key"]
        proxy_s = time.perf_counter() - t0
    return ProxyCost(
        n_calls=n_calls, local_us=local_s / n_calls * 1e6, proxy_us=proxy_s / n_calls * 1e6
    )


@dataclass(frozen=True)
class CounterDemo:
    """Several processes added 1 to a shared counter many times; how many updates survived?

    Attributes:
        shared: ``"Value"`` or ``"Array"``.
        lock: whether each update held the object's lock.
        n_workers, n_increments: each of ``n_workers`` processes added 1 ``n_increments`` times.
        start_method: how the processes started.
        final: the total the parent read at the end.
        elapsed_s: wall-clock seconds, process start-up included.
    """

    shared: str
    lock: bool
    n_workers: int
    n_increments: int
    start_method: str
    final: int
    elapsed_s: float

    @property
    def expected(self) -> int:
        """The total if no update were lost."""
        return self.n_workers * self.n_increments

    @property
    def lost(self) -> int:
        """Updates lost to the race (0 with the lock)."""
        return self.expected - self.final


def _increment_value(counter: Any, n: int, use_lock: bool, barrier: Any) -> int:
    """Child of :func:`counter_demo`: ``counter.value += 1``, ``n`` times."""
    barrier.wait(timeout=60)  # start together, so the processes really overlap
    if use_lock:
        for _ in range(n):
            with counter.get_lock():
                counter.value += 1  # read, add, write: no one else in between
    else:
        for _ in range(n):
            counter.value += 1  # read, add, write: another process may write in between
    return n


def _increment_array(arr: Any, n: int, use_lock: bool, barrier: Any) -> int:
    """Child of :func:`counter_demo`: add 1 to the elements of ``arr`` in turn, ``n`` times."""
    barrier.wait(timeout=60)
    size = len(arr)
    if use_lock:
        for k in range(n):
            with arr.get_lock():
                arr[k % size] += 1
    else:
        for k in range(n):
            arr[k % size] += 1
    return n


def counter_demo(
    *,
    shared: str = "Value",
    lock: bool = True,
    n_workers: int = 2,
    n_increments: int = 20_000,
    start_method: str | None = None,
    timeout_s: float = 60,
) -> CounterDemo:
    """Processes add 1 to a shared ``Value`` (or ``Array``), with or without its lock.

    ``Value`` and ``Array`` live in shared memory, so every process sees the same
    number. ``x.value += 1`` is three steps (read, add, write); without the lock,
    two processes can read the same old value and one update is lost. With
    ``lock=True`` each update holds ``get_lock()``; with ``lock=False`` the object
    is created without a lock (``lock=False``), as fast as it gets and racy.

    >>> counter_demo(n_increments=1000, ).lost
    0

    Args:
        shared: ``"Value"`` (one integer) or ``"Array"`` (4 integers, updated in turn).
        lock: hold the lock for each update.
        n_workers: processes (2 to 8).
        n_increments: additions per process.
        start_method, timeout_s: as for :func:`pipe_demo`.
    """
    if shared not in ("Value", "Array"):
        raise ValueError(f"'shared' must be 'Value' or 'Array' (got {shared!r}).")
    n_workers = check_count(n_workers, "n_workers", 2, 8)
    n_increments = check_count(n_increments, "n_increments", 1, 10_000_000)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    lock = bool(lock)
    if shared == "Value":
        obj: Any = ctx.Value("i", 0, lock=lock)
        target: Callable[..., int] = _increment_value
    else:
        obj = ctx.Array("i", 4, lock=lock)
        target = _increment_array
    barrier = ctx.Barrier(n_workers)
    t0 = time.perf_counter()
    with Children(ctx, timeout_s) as kids:
        for i in range(n_workers):
            kids.start(f"worker-{i + 1}", target, obj, n_increments, lock, barrier)
        kids.results()
    final = int(obj.value) if shared == "Value" else int(sum(obj[:]))
    return CounterDemo(
        shared=shared,
        lock=lock,
        n_workers=n_workers,
        n_increments=n_increments,
        start_method=method,
        final=final,
        elapsed_s=time.perf_counter() - t0,
    )


def _shm_double(name: str, n: int, fail: bool) -> float:
    """Child of :func:`shared_memory_demo`: double ``n`` float64 in place; return their sum."""
    import numpy as np

    shm = shared_memory.SharedMemory(name=name)
    try:
        view = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
        try:
            if fail:
                raise RuntimeError("injected failure after attaching to the shared memory")
            view *= 2  # in place: the parent sees it, nothing is copied
            return float(view.sum())
        finally:
            del view  # a view must be gone before close()
    finally:
        shm.close()  # this process's mapping; only the owner unlinks


def _unlink(shm: shared_memory.SharedMemory) -> None:
    """Unlink a segment; one that is already gone counts as freed."""
    try:
        shm.unlink()
    except FileNotFoundError:
        pass


def shared_memory_demo(
    *, n: int = 100_000, start_method: str | None = None, timeout_s: float = 30, fail: bool = False
) -> IPCDemo:
    """A child doubles a numpy array in place in ``SharedMemory``; the parent sees it.

    The parent creates a segment, views it as a numpy array and fills it; the
    child attaches *by name* and works on the same bytes: nothing is pickled or
    copied. The parent closes and unlinks the segment in a ``finally`` block, so
    it is freed even if the child fails or the cell is interrupted.

    >>> demo = shared_memory_demo(n=10, )
    >>> demo.received
    (90.0, 90.0)

    Args:
        n: how many float64 values.
        start_method, timeout_s: as for :func:`pipe_demo`.
        fail: make the child raise after attaching (to see the clean-up).

    Returns:
        ``received`` is (the child's sum, the parent's sum afterwards), both ``2 * sum(range(n))``.
    """
    import numpy as np

    n = check_count(n, "n", 1, 100_000_000)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    t0 = time.perf_counter()
    shm = shared_memory.SharedMemory(create=True, size=n * 8)
    try:
        arr = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
        try:
            arr[:] = np.arange(n)
            with Children(ctx, timeout_s) as kids:
                kids.start("shm-child", _shm_double, shm.name, n, bool(fail))
                (child_sum,) = kids.results()
            parent_sum = float(arr.sum())
        finally:
            del arr  # no view may outlive close()
    finally:
        try:
            shm.close()
        finally:
            _unlink(shm)  # frees the segment, even if close() failed
    total = float(sum(range(n)))
    return IPCDemo(
        primitive="SharedMemory (numpy view)",
        start_method=method,
        sent=total,
        received=(child_sum, parent_sum),
        expected=(2 * total, 2 * total),
        elapsed_s=time.perf_counter() - t0,
    )


def _sl_update(name: str) -> list[Any]:
    """Child of :func:`shareable_list_demo`: change items in place; return what it sees."""
    sl = shared_memory.ShareableList(name=name)
    try:
        sl[0] = sl[0] + 10
        sl[2] = "xyz"  # a str or bytes may not grow beyond its original size
        return list(sl)
    finally:
        sl.shm.close()


def shareable_list_demo(*, start_method: str | None = None, timeout_s: float = 30) -> IPCDemo:
    """A ``ShareableList``: a fixed-length list of simple values in shared memory.

    Items may be ``int``, ``float``, ``bool``, ``str``, ``bytes`` or ``None``; the list
    cannot grow, and a ``str`` cannot grow beyond the length it had.

    >>> shareable_list_demo().received
    ([11, 2.5, 'xyz', True, None], [11, 2.5, 'xyz', True, None])
    """
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    ctx = get_context(method)
    start = [1, 2.5, "abc", True, None]
    t0 = time.perf_counter()
    sl = shared_memory.ShareableList(start)
    try:
        with Children(ctx, timeout_s) as kids:
            kids.start("shm-child", _sl_update, sl.shm.name)
            (child_view,) = kids.results()
        parent_view = list(sl)
    finally:
        try:
            sl.shm.close()
        finally:
            _unlink(sl.shm)
    after = [11, 2.5, "xyz", True, None]
    return IPCDemo(
        primitive="ShareableList",
        start_method=method,
        sent=start,
        received=(child_view, parent_view),
        expected=(after, after),
        elapsed_s=time.perf_counter() - t0,
    )


def _shm_sum(name: str, n: int, fail: bool) -> float:
    import numpy as np

    shm = shared_memory.SharedMemory(name=name)
    try:
        view = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
        try:
            if fail:
                raise RuntimeError("injected failure: the child stopped before summing")
            return float(view.sum())
        finally:
            del view
    finally:
        shm.close()


def shm_child_sum(
    name: str, n: int, *, start_method: str | None = None, fail: bool = False, timeout_s: float = 30
) -> float:
    """Sum ``n`` float64 values held in the shared-memory segment ``name``, in a child process.

    A helper for the exercises: the child attaches to the segment by name, sums
    the first ``n`` values and detaches. It does not unlink the segment: the
    process that created a segment frees it. Introduced in ``06-ipc.ipynb``.

    Raises:
        WorkerError: with ``fail=True`` the child raises instead of summing.
    """
    if not isinstance(name, str):
        raise TypeError(f"'name' must be the segment's name, shm.name (got {name!r}).")
    n = check_count(n, "n", 1, 1_000_000_000)
    ctx = get_context(check_start_method(start_method))
    with Children(ctx, check_timeout(timeout_s)) as kids:
        kids.start("shm-child", _shm_sum, name, n, bool(fail))
        (total,) = kids.results()
    return float(total)


# --------------------------------------------------------------------------- pitfalls


def _put_big(q: Any, size: int) -> int:
    """Child of :func:`join_before_drain`: put ``size`` bytes on a queue, then return."""
    q.put(b"x" * size)
    return size


@dataclass(frozen=True)
class DrainDemo:
    """A child put a large item on a ``Queue`` and returned; could the parent join it?

    Attributes:
        size: bytes put on the queue.
        alive_after_join: the child was still alive after ``join(wait_s)`` *before*
            the parent read the queue (it cannot exit while its data is unsent).
        alive_after_drain: still alive after the parent read the item and joined again.
        wait_s: how long the first ``join`` waited.
    """

    size: int
    alive_after_join: bool
    alive_after_drain: bool
    wait_s: float


def join_before_drain(
    *, size: int = 1 * MiB, wait_s: float = 0.5, start_method: str | None = None
) -> DrainDemo:
    """Show the classic hang: joining a process before reading what it put on a ``Queue``.

    A process that put data on a ``Queue`` does not exit until all of it has been
    written to the underlying pipe, and a pipe holds only a little (64 KiB on
    Linux) until someone reads. So ``p.join()`` before ``q.get()`` waits forever.
    Here the first join has a timeout, then the parent reads and joins again.

    >>> demo = join_before_drain()
    >>> demo.alive_after_join, demo.alive_after_drain
    (True, False)
    """
    size = check_count(size, "size", 1, 256 * MiB)
    wait_s = check_seconds(wait_s, "wait_s", 10.0)
    method = check_start_method(start_method)
    ctx = get_context(method)
    q = ctx.Queue()
    ok = False
    try:
        with Children(ctx, 30 + wait_s) as kids:
            kids.start("producer", _put_big, q, size)
            p = kids.procs[0]
            p.join(wait_s)  # the mistake: join before draining
            stuck = p.is_alive()
            data = _get(kids, q)  # drain ...
            kids.results()
            p.join(10)  # ... then join
            alive = p.is_alive()
            ok = len(data) == size
    finally:
        close_queue(q, ok)
    return DrainDemo(size=size, alive_after_join=stuck, alive_after_drain=alive, wait_s=wait_s)


def qsize_available(*, start_method: str | None = None) -> bool:
    """Whether ``multiprocessing.Queue.qsize()`` works here (it raises on macOS).

    On macOS ``qsize()`` raises ``NotImplementedError`` because the system lacks
    ``sem_getvalue()``. Portable code never relies on it (nor on ``empty()`` or
    ``full()``, which are only snapshots anyway).

    >>> isinstance(qsize_available(), bool)
    True
    """
    ctx = get_context(check_start_method(start_method))
    q = ctx.Queue()
    try:
        q.qsize()
    except NotImplementedError:
        return False
    finally:
        close_queue(q, True)
    return True


# --------------------------------------------------------------------------- measuring the cost


@dataclass(frozen=True)
class IPCResult:
    """Time to move one message, per method and message size, next to an in-process copy.

    Each time is a median over several messages: the sender sends the message and
    waits for a tiny acknowledgement, so small messages measure the round-trip
    latency and large ones the throughput. ``"memcpy"`` is one in-process copy of
    the same bytes, measured in the same run: the physical limit.

    Attributes:
        methods: the methods measured, ``"memcpy"`` first.
        sizes: message sizes in bytes.
        seconds: ``seconds[i][j]``: median seconds per message for ``methods[i]`` and ``sizes[j]``.
        pickle_s: per size, the median seconds to pickle and unpickle the message in this
            process, timed with the same repeats and budget as the messages.
        start_method: how the child processes started.
        samples: ``samples[i][j]``: how many messages were timed.
        pickle_samples: per size, how many pickle round trips were timed.
    """

    methods: tuple[str, ...]
    sizes: tuple[int, ...]
    seconds: tuple[tuple[float, ...], ...]
    pickle_s: tuple[float, ...]
    start_method: str
    samples: tuple[tuple[int, ...], ...]
    pickle_samples: tuple[int, ...] = ()

    def _index(self, method: str, size: int) -> tuple[int, int]:
        if method not in self.methods:
            raise ValueError(
                f"method {method!r} was not measured (measured: {', '.join(self.methods)})."
            )
        if size not in self.sizes:
            raise ValueError(f"size {size} was not measured (measured: {self.sizes}).")
        return self.methods.index(method), self.sizes.index(size)

    def time_s(self, method: str, size: int) -> float:
        """Median seconds to move one message of ``size`` bytes with ``method``."""
        i, j = self._index(method, size)
        return self.seconds[i][j]

    def latency_us(self, method: str, size: int) -> float:
        """Median round trip (message there, acknowledgement back) in microseconds."""
        return self.time_s(method, size) * 1e6

    def gbps(self, method: str, size: int) -> float:
        """Throughput in GB/s (10**9 bytes per second)."""
        return size / self.time_s(method, size) / 1e9

    def ratio(self, method: str, size: int) -> float:
        """Throughput of ``method`` as a fraction of the in-process copy at the same size."""
        return self.gbps(method, size) / self.gbps("memcpy", size)

    def pickle_share(self, method: str, size: int) -> float:
        """The fraction of ``method``'s time per message that pickling alone would take.

        A ``Pipe`` or ``Queue`` message includes pickling, so for them a share above 1
        can only come from noise (another program running during the measurement).
        """
        return self.pickle_s[self.sizes.index(size)] / self.time_s(method, size)

    def fastest(self, size: int, *, between_processes: bool = True) -> str:
        """The method with the shortest time at ``size`` (by default only between processes).

        ``between_processes=True`` leaves out ``memcpy`` and ``queue.Queue`` (threads).
        """
        names = [
            m for m in self.methods if not between_processes or m not in ("memcpy", "queue.Queue")
        ]
        if not names:
            raise ValueError("no inter-process method was measured.")
        return min(names, key=lambda m: self.time_s(m, size))

    def table(self) -> str:
        """A text table: microseconds per message and GB/s, per method and size."""
        head = f"{'method':<13}" + "".join(f"{fmt_size(s):>24}" for s in self.sizes)
        lines = [head]
        for m in self.methods:
            cells = "".join(
                f"{self.latency_us(m, s):>11.1f} us {self.gbps(m, s):>6.2f} GB/s"
                for s in self.sizes
            )
            lines.append(f"{m:<13}{cells}")
        pick = "".join(f"{t * 1e6:>11.1f} us{'':>10}" for t in self.pickle_s)
        lines.append(f"{'(pickling)':<13}{pick}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"IPCResult(methods={self.methods}, sizes={tuple(fmt_size(s) for s in self.sizes)}, "
            f"start_method={self.start_method!r})"
        )


def fmt_size(n: int) -> str:
    for unit, scale in (("MiB", MiB), ("KiB", KiB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def _echo_pipe(conn: Any) -> int:
    """Measuring child: receive each message, answer with its length."""
    n = 0
    while True:
        if not conn.poll(60):
            raise TimeoutError("no message for 60 s")
        msg = conn.recv()
        if msg is None:
            return n
        conn.send(len(msg))
        n += 1


def _echo_queue(inq: Any, outq: Any) -> int:
    """Measuring child: take each message from ``inq``, put its length on ``outq``."""
    n = 0
    while True:
        msg = inq.get(timeout=60) if _is_full_queue(inq) else _simple_get(inq, 60)
        if msg is None:
            return n
        outq.put(len(msg))
        n += 1


def _echo_thread(inq: queue.Queue[Any], outq: queue.Queue[Any]) -> None:
    while True:
        msg = inq.get(timeout=60)
        if msg is None:
            return
        outq.put(len(msg))


def _echo_shm(conn: Any, name: str) -> int:
    """Measuring child: on each length ``n``, read bytes ``0`` and ``n - 1`` of the segment.

    The data is already in this process's memory (the segment is mapped here):
    receiving it needs no copy. Answers with (n, first byte, last byte).
    """
    shm = shared_memory.SharedMemory(name=name)
    buf = shm.buf
    n_msgs = 0
    try:
        while True:
            if not conn.poll(60):
                raise TimeoutError("no message for 60 s")
            n = conn.recv()
            if n is None:
                return n_msgs
            conn.send((n, buf[0], buf[n - 1]))
            n_msgs += 1
    finally:
        buf.release()
        shm.close()


class _Channel:
    """One method's sender side.

    ``send(n)`` moves the first ``n`` bytes and waits for the acknowledgement;
    ``stop()`` asks the echoing child to return; ``cleanup`` frees everything
    (run in reverse order, also after a failure).
    """

    def __init__(self) -> None:
        self.send: Callable[[int], None] = lambda n: None
        self.stop: Callable[[], None] = lambda: None
        self.cleanup: list[Callable[[], Any]] = []

    def close(self, ok: bool) -> None:
        for fn in reversed(self.cleanup):
            try:
                fn()
            except Exception:
                if ok:
                    raise  # after a failure, clean-up goes on regardless


def _check_ack(got: Any, n: int, method: str) -> None:
    if got != n:
        raise RuntimeError(f"{method}: the echo answered {got!r} for a message of {n} bytes")


def _make_channel(
    method: str,
    ctx: BaseContext,
    kids: Children,
    payloads: dict[int, bytes],
    src: Any,
    np: Any,
    channels: list[_Channel],
) -> None:
    """Set up ``method``'s sender side and its echo; append it to ``channels`` at once,
    so that whatever it has set up is freed even if a later step fails."""
    ch = _Channel()
    channels.append(ch)
    if method == "memcpy":
        dst = np.empty_like(src)
        dst[:] = src  # touch every page once, outside the timing

        def send(n: int) -> None:
            np.copyto(dst[:n], src[:n])

    elif method == "queue.Queue":
        tin: queue.Queue[Any] = queue.Queue()
        tout: queue.Queue[Any] = queue.Queue()
        t = threading.Thread(target=_echo_thread, args=(tin, tout), daemon=True, name="echo")
        t.start()
        ch.cleanup.append(lambda: (tin.put(None), t.join(5)))

        def send(n: int) -> None:
            tin.put(payloads[n])
            _check_ack(tout.get(timeout=kids.timeout_s), n, method)

    elif method == "Pipe":
        here, there = ctx.Pipe()
        ch.cleanup.append(here.close)
        kids.start("echo-Pipe", _echo_pipe, there)
        there.close()
        ch.stop = lambda: here.send(None)

        def send(n: int) -> None:
            here.send(payloads[n])
            _check_ack(_recv(kids, here), n, method)

    elif method in ("Queue", "SimpleQueue"):
        make = getattr(ctx, method)
        inq, outq = make(), make()
        full = method == "Queue"
        for q in (inq, outq):
            ch.cleanup.append((lambda q=q: close_queue(q, False)) if full else q.close)
        kids.start(f"echo-{method}", _echo_queue, inq, outq)
        ch.stop = lambda: inq.put(None)
        get = _get if full else _get_simple

        def send(n: int) -> None:
            inq.put(payloads[n])
            _check_ack(get(kids, outq), n, method)

    elif method == "Manager":
        manager = ctx.Manager()
        ch.cleanup.append(manager.shutdown)
        minq, moutq = manager.Queue(), manager.Queue()
        kids.start("echo-Manager", _echo_queue, minq, moutq)
        ch.stop = lambda: minq.put(None)

        def send(n: int) -> None:
            minq.put(payloads[n])
            _check_ack(_get(kids, moutq), n, method)

    elif method == "SharedMemory":
        max_size = max(payloads)
        shm = shared_memory.SharedMemory(create=True, size=max_size)
        views: list[Any] = []

        def free() -> None:
            views.clear()  # no numpy view may outlive close()
            try:
                shm.close()
            finally:
                _unlink(shm)

        ch.cleanup.append(free)
        views.append(np.ndarray((max_size,), dtype=np.uint8, buffer=shm.buf))
        views[0][:] = 0  # touch every page once, outside the timing
        here, there = ctx.Pipe()
        ch.cleanup.append(here.close)
        kids.start("echo-SharedMemory", _echo_shm, there, shm.name)
        there.close()
        ch.stop = lambda: here.send(None)

        def send(n: int) -> None:
            np.copyto(views[0][:n], src[:n])  # the one copy: into memory both processes map
            here.send(n)
            got = _recv(kids, here)
            if got != (n, int(src[0]), int(src[n - 1])):
                raise RuntimeError(f"SharedMemory: the child read {got!r}, not the bytes sent")

    else:  # pragma: no cover - checked before
        raise ValueError(method)
    ch.send = send


def _time_messages(
    send: Callable[[int], None], n: int, *, min_repeats: int, max_repeats: int, budget_s: float
) -> tuple[float, int]:
    send(n)  # warm-up, not timed
    times: list[float] = []
    spent = 0.0
    while len(times) < max_repeats and (len(times) < min_repeats or spent < budget_s):
        t0 = time.perf_counter()
        send(n)
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    return median(times), len(times)


def _pickle_round(payload: bytes) -> None:
    pickle.loads(ForkingPickler.dumps(payload))  # what Pipe.send/Queue.put + recv/get do


def _check_methods(methods: Sequence[str] | None) -> tuple[str, ...]:
    if methods is None:
        return METHODS
    if isinstance(methods, str):
        methods = [methods]
    chosen = list(methods)
    for m in chosen:
        if m not in METHODS:
            raise ValueError(f"'methods' must be chosen from {', '.join(METHODS)} (got {m!r}).")
    if not chosen:
        raise ValueError("'methods' is empty: give at least one, e.g. ['Pipe', 'Queue'].")
    return ("memcpy", *dict.fromkeys(m for m in chosen if m != "memcpy"))


def _check_sizes(sizes: Sequence[int] | None) -> tuple[int, ...]:
    if sizes is None:
        return DEFAULT_SIZES
    if isinstance(sizes, int):
        sizes = [sizes]
    out = []
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= _MAX_SIZE:
            raise ValueError(
                f"'sizes' must be message sizes in bytes from 1 to {_MAX_SIZE} (1 GiB) (got {s!r})."
            )
        out.append(s)
    if not out:
        raise ValueError("'sizes' is empty: give at least one, e.g. [64, 1_048_576].")
    return tuple(sorted(set(out)))


def measure_ipc(
    methods: Sequence[str] | None = None,
    sizes: Sequence[int] | None = None,
    *,
    start_method: str | None = None,
    min_repeats: int = 3,
    max_repeats: int = 200,
    budget_s: float = 0.03,
    timeout_s: float = 60,
    progress: bool = False,
) -> IPCResult:
    """Time moving messages of each size with each method, beside an in-process copy.

    For every method one child process (a thread for ``queue.Queue``) echoes an
    acknowledgement for each message. For each size, messages are sent one at a
    time and each is timed from send to acknowledgement; the median is kept.
    ``"memcpy"`` (one in-process copy with numpy) is always measured, for each
    size just before the other methods, so the limit and the methods see the same
    machine state.

    * ``Pipe``, ``Queue``, ``SimpleQueue``: the message (a ``bytes``) is pickled,
      written to an OS pipe, read and unpickled: several copies.
    * ``Manager``: a manager queue: parent -> manager process -> child, two trips.
    * ``SharedMemory``: the sender copies the bytes into a segment both processes
      map (one copy) and sends only the length; the receiver reads in place.
    * ``queue.Queue`` between threads hands over a reference: no copy at all.

    >>> res = measure_ipc(["Pipe"], [64, 4096], min_repeats=2, budget_s=0)
    >>> res.methods, res.sizes
    (('memcpy', 'Pipe'), (64, 4096))

    Args:
        methods: any of :data:`METHODS` (default: all); ``"memcpy"`` is always added.
        sizes: message sizes in bytes (default :data:`DEFAULT_SIZES`, 64 B to 4 MiB).
        start_method: for the child processes.
        min_repeats, max_repeats: messages timed per method and size ...
        budget_s: ... repeating until at least this many seconds were spent.
        timeout_s: give up (and clean up) after this long in all.
        progress: show a progress bar (tqdm).

    Returns:
        An :class:`IPCResult`.
    """
    import numpy as np

    chosen = _check_methods(methods)
    size_list = _check_sizes(sizes)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    min_repeats = check_count(min_repeats, "min_repeats", 1, 10_000)
    max_repeats = check_count(max_repeats, "max_repeats", min_repeats, 100_000)
    budget_s = check_seconds(budget_s, "budget_s", 10.0)
    ctx = get_context(method)
    src = np.random.default_rng(0).integers(0, 256, max(size_list), dtype=np.uint8)
    payloads = {n: src[:n].tobytes() for n in size_list}
    seconds = {m: [0.0] * len(size_list) for m in chosen}
    counts = {m: [0] * len(size_list) for m in chosen}
    pickle_s = [0.0] * len(size_list)
    pickle_counts = [0] * len(size_list)
    bar = None
    if progress:
        from ..core.progress import progress_bar

        bar = progress_bar(len(chosen) * len(size_list))
    channels: list[_Channel] = []
    try:
        with Children(ctx, timeout_s) as kids:
            # The in-process copy's buffer is made last, after every fork: a forked child
            # shares the parent's pages copy-on-write, and writing to them afterwards would
            # make each memcpy pay for page faults and copies it should not.
            for m in (*chosen[1:], "memcpy"):
                _make_channel(m, ctx, kids, payloads, src, np, channels)
            channels.insert(0, channels.pop())  # back in the order of ``chosen``
            for j, n in enumerate(size_list):
                for m, ch in zip(chosen, channels):
                    seconds[m][j], counts[m][j] = _time_messages(
                        ch.send,
                        n,
                        min_repeats=min_repeats,
                        max_repeats=max_repeats,
                        budget_s=budget_s,
                    )
                    kids.check()
                    if bar is not None:
                        bar.update(1)
                # Pickling is timed like the messages (same repeats, budget and median):
                # a share of a median compared with a median of far fewer samples is noise.
                pickle_s[j], pickle_counts[j] = _time_messages(
                    lambda n: _pickle_round(payloads[n]),
                    n,
                    min_repeats=min_repeats,
                    max_repeats=max_repeats,
                    budget_s=budget_s,
                )
            for ch in channels:
                ch.stop()  # each echoing child returns ...
            kids.results()  # ... and reports back
            while channels:
                channels.pop().close(ok=True)
    finally:
        while channels:  # only after a failure
            channels.pop().close(ok=False)
        if bar is not None:
            bar.close()
    return IPCResult(
        methods=chosen,
        sizes=size_list,
        seconds=tuple(tuple(seconds[m]) for m in chosen),
        pickle_s=tuple(pickle_s),
        start_method=method,
        samples=tuple(tuple(counts[m]) for m in chosen),
        pickle_samples=tuple(pickle_counts),
    )
