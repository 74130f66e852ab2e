"""asyncio beside threads: running a coroutine from plain code, and what thousands of waits cost.

* :func:`run_coroutine` runs a coroutine to the end from ordinary (non-async) code, also
  where this thread already runs an event loop (a notebook), where ``asyncio.run`` refuses.
  The lab uses it to time coroutines and to run the learner's coroutines in the checks; in
  a notebook cell plain ``await`` is simpler, and a library should offer ``async def``
  functions and let its caller run them.
* :func:`many_waits` measures what the lesson's plain code shows: thousands of waits as
  coroutines and as threads, their time and their memory, each in a fresh Python.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal

from ..core.errors import WorkerTimeoutError
from ..core.results import Result
from ..core.runners import start_join
from ..core.validate import check_number, check_timeout, check_whole

__all__ = ["ManyWaitsResult", "WaitsRun", "many_waits", "run_coroutine", "waits_in_this_process"]

WaitKind = Literal["coroutines", "threads"]


def run_coroutine(coro: Awaitable[Any], *, timeout_s: float = 60.0) -> Any:
    """Run a coroutine to the end from ordinary code, even inside a notebook.

    ``asyncio.run`` refuses to start when this thread already runs an event loop, as a
    Jupyter kernel's does ("asyncio.run() cannot be called from a running event loop").
    This runs the coroutine on a fresh loop in a helper thread and waits for it, with a
    timeout, so it works in a script and in a notebook alike. In a notebook cell, ``await
    coro`` is simpler; in a script, call ``asyncio.run(main())`` once.

    >>> run_coroutine(asyncio.sleep(0, result="done"))
    'done'

    Args:
        coro: the coroutine (or other awaitable) to run.
        timeout_s: how long to wait for it.

    Returns:
        What the coroutine returned (its exception is raised here).

    Raises:
        WorkerTimeoutError: the coroutine was still running after ``timeout_s`` (it is
            cancelled and its loop closed).
    """
    timeout_s = check_timeout(timeout_s)
    box: dict[str, Any] = {}
    loop = asyncio.new_event_loop()

    async def main() -> Any:
        return await coro

    def body() -> None:
        asyncio.set_event_loop(loop)
        try:
            box["result"] = loop.run_until_complete(main())
        except BaseException as exc:
            box["error"] = exc
        finally:
            try:
                _cancel_all(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def cancel_and_wait() -> None:
        with contextlib.suppress(RuntimeError):  # the loop may close meanwhile
            for task in asyncio.all_tasks(loop):
                loop.call_soon_threadsafe(task.cancel)
        helper.join(5)

    helper = threading.Thread(target=body, name="lab-event-loop", daemon=True)
    helper.start()
    try:
        helper.join(timeout_s)
    except BaseException:  # e.g. KeyboardInterrupt: stop the coroutine too
        cancel_and_wait()
        raise
    if helper.is_alive():
        cancel_and_wait()
        raise WorkerTimeoutError(
            f"the coroutine was still running after timeout_s={timeout_s:g} s; it was cancelled.",
            workers=("lab-event-loop",),
            timeout_s=timeout_s,
        )
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


# --------------------------------------------------------------------------- many waits


def _memory() -> tuple[int, int] | None:
    """(resident, virtual) bytes of this process, or ``None`` where it cannot be read."""
    try:
        import psutil

        info = psutil.Process().memory_info()
        return int(info.rss), int(info.vms)
    except Exception:
        return None


def waits_in_this_process(kind: WaitKind, n_waits: int, wait_s: float) -> dict[str, Any]:
    """Run ``n_waits`` waits as coroutines or as threads here; report memory, then time.

    What :func:`many_waits` runs in a fresh child process (module-level, so a ``spawn``
    child can import it). First every waiter is parked on an event at once and the
    process's memory is read (resident and reserved, with psutil); then they are let go.
    Then the lesson's plain code runs: start ``n_waits`` waits of ``wait_s``, wait for all.

    Threads that the system refuses to start ("can't start new thread": many systems limit
    threads per process or per user) are counted, not raised.

    Returns:
        ``{"started": int, "elapsed_s": float, "rss_b": int | None, "vms_b": int | None,
        "error": str}``: memory for all parked waiters together.
    """
    out: dict[str, Any] = {"started": n_waits, "rss_b": None, "vms_b": None, "error": ""}
    before = _memory()

    def note_memory() -> None:
        after = _memory()
        if before and after:
            out["rss_b"], out["vms_b"] = after[0] - before[0], after[1] - before[1]

    if kind == "coroutines":

        async def parked() -> None:
            go = asyncio.Event()
            tasks = [asyncio.ensure_future(go.wait()) for _ in range(n_waits)]
            await asyncio.sleep(0)  # every task runs up to its first await
            note_memory()
            go.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)

        async def plain() -> None:  # the lesson's code
            await asyncio.gather(*(asyncio.sleep(wait_s) for _ in range(n_waits)))

        asyncio.run(parked())
        start = time.perf_counter()
        asyncio.run(plain())
        out["elapsed_s"] = time.perf_counter() - start
        return out

    def start_all(target: Any, args: tuple[Any, ...]) -> list[threading.Thread]:
        threads: list[threading.Thread] = []
        try:
            for _ in range(n_waits):
                t = threading.Thread(target=target, args=args, daemon=True)
                t.start()
                threads.append(t)
        except RuntimeError as exc:  # the system's limit on threads
            out["error"] = f"{type(exc).__name__}: {exc}"
        out["started"] = min(out["started"], len(threads))
        return threads

    go, ready = threading.Event(), threading.Semaphore(0)

    def park() -> None:
        ready.release()
        go.wait(60)

    threads = start_all(park, ())
    try:
        for _ in threads:
            ready.acquire(timeout=30)
        note_memory()
    finally:
        go.set()
        for t in threads:
            t.join(60)
    start = time.perf_counter()
    threads = start_all(time.sleep, (wait_s,))  # the lesson's code
    for t in threads:
        t.join(60)
    out["elapsed_s"] = time.perf_counter() - start
    return out


@dataclass(frozen=True)
class WaitsRun:
    """One kind of waiter in :class:`ManyWaitsResult`.

    Attributes:
        kind: ``"coroutines"`` or ``"threads"``.
        started: how many waiters could start (fewer than asked: a system limit).
        elapsed_s: seconds to start every wait and see all of them end.
        rss_per_wait_b: resident memory per waiter, in bytes (``None``: not measurable here).
        vms_per_wait_b: address space reserved per waiter, in bytes (``None``: as above).
        error: what stopped more threads from starting (``""`` if nothing did).
    """

    kind: WaitKind
    started: int
    elapsed_s: float
    rss_per_wait_b: float | None
    vms_per_wait_b: float | None
    error: str = ""


def _kib(b: float | None) -> str:
    return "?" if b is None else f"{b / 1024:.1f} KiB"


@dataclass(frozen=True)
class ManyWaitsResult(Result):
    """Thousands of waits as coroutines and as threads: time and memory, each in a fresh Python.

    Attributes:
        n_waits: waits asked for.
        wait_s: how long each waits.
        coroutines, threads: what each kind did.

    Introduced in ``07-choosing-a-model.ipynb``.
    """

    n_waits: int
    wait_s: float
    coroutines: WaitsRun
    threads: WaitsRun

    def runs(self) -> tuple[WaitsRun, WaitsRun]:
        """Both kinds, coroutines first."""
        return self.coroutines, self.threads

    def summary(self) -> str:
        c, t = self.coroutines, self.threads
        parts = [
            f"{self.n_waits:,} waits of {self.wait_s:g} s: as coroutines on one event loop they "
            f"took {c.elapsed_s:.2f} s, as threads {t.elapsed_s:.2f} s"
            + (
                f" ({t.elapsed_s / c.elapsed_s:.1f} times as long)."
                if t.elapsed_s > 1.15 * c.elapsed_s
                else "."
            )
        ]
        if t.started < self.n_waits:
            parts.append(
                f"Only {t.started:,} threads could start here ({t.error or 'a system limit'}): "
                f"systems limit threads per process or per user, never coroutines."
            )
        if c.rss_per_wait_b is not None and t.rss_per_wait_b is not None:
            ratio = t.rss_per_wait_b / c.rss_per_wait_b if c.rss_per_wait_b > 0 else None
            parts.append(
                f"Memory per waiter: about {_kib(c.rss_per_wait_b)} for a coroutine, "
                f"{_kib(t.rss_per_wait_b)} for a thread"
                + (f" ({ratio:.0f} times as much)" if ratio and ratio >= 1.5 else "")
                + "."
            )
            if t.vms_per_wait_b and t.vms_per_wait_b > 4 * t.rss_per_wait_b:
                parts.append(
                    f"Each thread also reserved about {t.vms_per_wait_b / 2**20:.1f} MiB of "
                    f"address space for its stack, most of it never touched."
                )
        else:
            parts.append("Memory could not be read here (it needs psutil, from the lab extra).")
        return " ".join(parts)


def many_waits(
    n_waits: int = 5_000, *, wait_s: float = 0.2, timeout_s: float = 120.0
) -> ManyWaitsResult:
    """Thousands of waits as coroutines and as threads: how long, and how much memory.

    Each kind runs in a fresh Python (``spawn``), so it never reuses memory the other freed:
    :func:`waits_in_this_process` parks every waiter at once and reads the process's
    resident and reserved memory (psutil), then times the lesson's plain code (start every
    wait, wait for all). A system that refuses more threads is reported, not an error. On
    Windows a thread reserves 1 MiB of address space for its stack (8 MiB on Linux, 512 KiB
    on macOS) and commits it page by page: the same picture, other numbers.

    >>> r = many_waits(20, wait_s=0.01)
    >>> r.coroutines.started, r.threads.started
    (20, 20)

    Args:
        n_waits: how many waits of each kind (at most 20,000).
        wait_s: seconds each waits.
        timeout_s: limit for each child process.

    Returns:
        A :class:`ManyWaitsResult`; draw it with :func:`~concurrency_lab.choosing.plot_many_waits`.

    Raises:
        ValueError, TypeError: bad sizes.
        WorkerTimeoutError: a child overran ``timeout_s`` (it is stopped).

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    n_waits = check_whole(n_waits, "n_waits", low=1, high=20_000)
    wait_s = check_number(wait_s, "wait_s", low=0, high=10, unit=" seconds")
    timeout_s = check_timeout(timeout_s)
    runs: dict[str, WaitsRun] = {}
    kinds: tuple[WaitKind, ...] = ("coroutines", "threads")
    for kind in kinds:
        run = start_join(
            waits_in_this_process,
            1,
            kind="process",
            start_method="spawn",
            args=(kind, n_waits, wait_s),
            timeout_s=timeout_s,
        )
        got = run.results[0]
        n = max(1, int(got["started"]))
        runs[kind] = WaitsRun(
            kind=kind,
            started=int(got["started"]),
            elapsed_s=float(got["elapsed_s"]),
            rss_per_wait_b=None if got["rss_b"] is None else max(0.0, got["rss_b"] / n),
            vms_per_wait_b=None if got["vms_b"] is None else max(0.0, got["vms_b"] / n),
            error=str(got["error"]),
        )
    return ManyWaitsResult(n_waits, wait_s, runs["coroutines"], runs["threads"])
