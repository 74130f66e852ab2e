"""Children that the parent talks to while they run: the harness of lesson 06's measurements.

``cl.start_join`` starts workers and waits for their end. The IPC cost measurement and the
pipeline need more: the parent sends and receives messages *while* the children run, and
must stop at once if one of them fails, instead of waiting for a partner that is gone.
:class:`Children` does that, on the same child body as the runners
(:func:`concurrency_lab.core.children.process_main`: output labelled with the worker's name,
result or traceback sent back on a pipe of its own).

The interface is small on purpose (the course will fold it into its one runner):
``start(name, target, *args)``, ``check()``, ``results()``, and ``procs``; the helpers
:func:`recv_watched`, :func:`get_watched`, :func:`put_watched` wait on a connection or a
queue in short steps, calling ``check()`` between them.

Introduced in ``06-ipc.ipynb``.
"""

from __future__ import annotations

import multiprocessing.connection
import queue
import time
from collections.abc import Callable, Iterable
from multiprocessing.context import BaseContext
from types import TracebackType
from typing import Any

from ..core.children import (
    describe_exit,
    print_labelled,
    process_main,
    stop_processes,
    worker_error,
)
from ..core.errors import WorkerCrashedError, WorkerTimeoutError

__all__ = ["POLL_S", "Children", "close_queue", "get_watched", "put_watched", "recv_watched"]

#: How long each wait step lasts before the children are checked again (seconds).
POLL_S = 0.05


class Children:
    """Start module-level functions in child processes and collect what they return.

    A context manager: on leaving, children are joined (briefly) and any still alive are
    terminated, so none outlives the ``with`` block, whatever happened. :meth:`check`
    raises at once if a child failed or crashed, or the deadline passed.

    >>> from concurrency_lab.core.machine import get_context
    >>> from concurrency_lab.core.workloads import cpu_bound
    >>> with Children(get_context(), timeout_s=30) as kids:
    ...     _ = kids.start("worker-1", cpu_bound, 1)
    ...     kids.results() == [cpu_bound(1)]
    True

    Args:
        ctx: the ``multiprocessing`` context to start children with.
        timeout_s: the deadline for everything inside the ``with`` block, from now.
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
        """Start ``target(*args)`` in a child process called ``name``; return its index."""
        reader, writer = self.ctx.Pipe(duplex=False)
        p = self.ctx.Process(  # type: ignore[attr-defined]
            target=process_main, args=(target, args, name, writer), name=name, daemon=True
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
        self._readers[reader] = len(self.procs) - 1
        return len(self.procs) - 1

    def _handle(self, reader: Any) -> None:
        """Read one message from a child: a line of output, its result, or its error."""
        i = self._readers[reader]
        name, proc = self.names[i], self.procs[i]
        try:
            message = reader.recv()
        except (EOFError, OSError):
            self._finished(reader, i)
            proc.join(timeout=2)
            raise WorkerCrashedError(
                f"{name} (pid {proc.pid}) ended without reporting back: "
                f"{describe_exit(proc.exitcode)}. The lab stopped the other processes and "
                f"cleaned up.",
                worker=name,
                exitcode=proc.exitcode,
            ) from None
        if message[0] == "out":
            print_labelled(name, message[1])
            return
        self._finished(reader, i)
        if message[0] == "error":
            raise worker_error(name, message[1], message[2], message[3])
        self._results[i] = message[1]

    def _finished(self, reader: Any, i: int) -> None:
        del self._readers[reader]
        self._reported.add(i)
        reader.close()

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
        while self._readers:
            ready = multiprocessing.connection.wait(list(self._readers), timeout=0)
            if not ready:
                break
            for reader in ready:
                self._handle(reader)
        if time.monotonic() > self.deadline:
            raise self._timeout()

    def partner_gone(self) -> None:
        """A connection to a child broke: give the children a moment to say why, and raise."""
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
            for reader in multiprocessing.connection.wait(list(self._readers), remaining):
                self._handle(reader)
        return [self._results[i] for i in wanted]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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


def recv_watched(kids: Children, conn: Any) -> Any:
    """``conn.recv()``, but give up as soon as a child fails or time runs out.

    ``recv()`` has no timeout of its own: wait with ``conn.poll(POLL_S)`` in steps.
    """
    while not conn.poll(POLL_S):
        kids.check()
    try:
        return conn.recv()
    except (EOFError, OSError):
        kids.partner_gone()
        raise


def get_watched(kids: Children, q: Any) -> Any:
    """``q.get()`` on any ``multiprocessing`` queue, with the same care as :func:`recv_watched`.

    A ``SimpleQueue`` has no ``get(timeout=...)``: waiting on its pipe's read end (the
    ``_reader`` connection) with ``poll`` is how to wait with a timeout there.
    """
    if not hasattr(q, "put_nowait"):  # a SimpleQueue
        while not q._reader.poll(POLL_S):
            kids.check()
        return q.get()
    while True:
        try:
            return q.get(timeout=POLL_S)
        except queue.Empty as exc:
            _drop_traceback(exc)
            kids.check()


def put_watched(kids: Children, q: Any, item: Any) -> None:
    """``q.put(item)`` on a bounded queue, checking the children while it is full."""
    while True:
        try:
            q.put(item, timeout=POLL_S)
            return
        except queue.Full as exc:
            _drop_traceback(exc)
            kids.check()


def _drop_traceback(exc: BaseException) -> None:
    """Cut an expected exception from its traceback before it is dropped.

    A manager proxy re-raises the server's ``queue.Empty`` from a frame that also holds the
    exception: a reference cycle through every frame up to the caller's, which keeps the
    caller's queues (and their semaphores in /dev/shm) alive until the garbage collector runs.
    """
    exc.__traceback__ = None


def close_queue(q: Any, ok: bool) -> None:
    """Close a ``multiprocessing.Queue``; after a failure, never wait for its feeder thread."""
    q.close()
    if ok:
        q.join_thread()
    else:
        q.cancel_join_thread()
