"""The pools the scaling measurements run on: always shut down, every wait bounded.

These are the room's plumbing (not listed in ``cl.scaling``): a ``concurrent.futures`` pool
that is shut down on the way out and whose processes are stopped if anything went wrong, a
wait for a batch of futures that turns a timeout, a crash or an exception into the lab's
friendly errors, and a timed batch (the serial part, then the chunks in parallel).

Introduced in ``03-core-scaling.ipynb``.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..core.children import stop_processes
from ..core.errors import WorkerCrashedError, WorkerError, WorkerTimeoutError
from ..core.machine import get_context

__all__ = ["pool", "timed_batch", "wait_all"]


def _pool_processes(ex: Any) -> list[Any]:
    # ``_processes`` is private to concurrent.futures, but it is the only handle on a broken
    # pool's children.
    return list((getattr(ex, "_processes", None) or {}).values())


@contextmanager
def pool(kind: str, n_workers: int, start_method: str | None) -> Iterator[cf.Executor]:
    """A thread or process pool that is always shut down; processes are stopped on an error.

    >>> with pool("thread", 2, None) as ex:
    ...     ex.submit(sum, [1, 2]).result()
    3
    """
    if kind == "thread":
        ex: cf.Executor = cf.ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="lab")
    else:
        ex = cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=get_context(start_method))
    ok = False
    try:
        yield ex
        ok = True
    finally:
        procs = _pool_processes(ex)
        if ok:
            ex.shutdown(wait=True)
        else:
            ex.shutdown(wait=False, cancel_futures=True)
            stop_processes(procs)


def wait_all(futures: list[cf.Future[Any]], timeout_s: float, what: str) -> list[Any]:
    """The futures' results, in order; a lab error if one failed or time ran out.

    Raises:
        WorkerTimeoutError: some were unfinished after ``timeout_s`` (they are cancelled).
        WorkerCrashedError: a worker process died.
        WorkerError: a task raised.
    """
    _, pending = cf.wait(futures, timeout=timeout_s)
    if pending:
        for f in pending:
            f.cancel()
        raise WorkerTimeoutError(
            f"{len(pending)} of {len(futures)} {what} tasks unfinished after timeout_s="
            f"{timeout_s:g} s; the lab stopped the pool. Use less total_work or a larger "
            f"timeout_s.",
            workers=(what,),
            timeout_s=timeout_s,
        )
    out = []
    for i, f in enumerate(futures):
        try:
            out.append(f.result())
        except cf.process.BrokenProcessPool:
            raise WorkerCrashedError(
                f"a worker process of the {what} pool died while running task {i}; the lab "
                f"shut the pool down.",
                worker=f"task {i}",
                exitcode=None,
            ) from None
        except Exception as exc:
            raise WorkerError(
                f"task {i} on the {what} pool raised {type(exc).__name__}: {exc}",
                worker=f"task {i}",
                exc_type=type(exc).__name__,
            ) from exc
    return out


def timed_batch(
    ex: cf.Executor,
    workload: Callable[..., Any],
    serial_units: int,
    chunks: Sequence[int],
    timeout_s: float,
    what: str,
) -> float:
    """Run the serial part (one task), then the chunks in parallel; return the seconds taken."""
    start = time.perf_counter()
    if serial_units:
        wait_all([ex.submit(workload, serial_units)], timeout_s, what)
    wait_all([ex.submit(workload, c) for c in chunks if c], timeout_s, what)
    return time.perf_counter() - start
