"""A producer-consumer pipeline: producers and consumers around one bounded queue.

:func:`run_pipeline` starts producers and consumers (processes around a
``multiprocessing.Queue``, or threads around a ``queue.Queue``), shuts them down
with sentinels and returns a :class:`PipelineResult`: every item consumed once,
a timeline, and the queue depth over time.

The worker functions live here, at module level, so ``spawn`` and ``forkserver``
children can import them. Introduced in ``06-ipc.ipynb``.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any, Literal

from ..core.children import worker_error
from ..core.errors import WorkerTimeoutError
from ..core.machine import check_start_method, get_context
from ..core.results import Result
from ..core.tracing import Span
from ..core.validate import check_choice, check_count, check_number, check_timeout
from .children import POLL_S, Children, close_queue, put_watched

__all__ = ["PipelineResult", "run_pipeline"]

Kind = Literal["process", "thread"]
#: A sleep this much longer than asked for (and at least 2 ms longer) means a coarse timer.
_LATE_FACTOR = 1.5


@dataclass(frozen=True)
class PipelineResult(Result):
    """What happened when producers and consumers shared one bounded queue.

    Attributes:
        kind: ``"process"`` or ``"thread"``.
        start_method: for processes; ``None`` for threads.
        n_producers, n_consumers, queue_size, n_items, item_cost_s, make_cost_s: the settings.
        elapsed_s: from the moment all workers were ready (they start together at a
            barrier, so process start-up is left out) to the end of the last item.
        consumed: per consumer, the items it processed, in order.
        depth: ``(seconds since start, items in the queue)`` after each put and each get,
            computed from the times the calls returned (no ``qsize()`` needed).
        spans: a timeline. Producers: ``make i`` (making item i), then ``put i`` when the
            queue had room at once, or ``blocked i`` when the put had to wait because the
            queue was full. Consumers: ``wait`` (in ``get``, the queue empty), ``item i``.
        started_ns: the ``perf_counter_ns()`` reading the timeline starts at.
    """

    kind: Kind
    start_method: str | None
    n_producers: int
    n_consumers: int
    queue_size: int
    n_items: int
    item_cost_s: float
    make_cost_s: float
    elapsed_s: float
    consumed: tuple[tuple[int, ...], ...]
    depth: tuple[tuple[float, int], ...]
    spans: tuple[Span, ...]
    started_ns: int

    @property
    def throughput(self) -> float:
        """Items per second through the whole pipeline."""
        return self.n_items / self.elapsed_s if self.elapsed_s > 0 else float("inf")

    @property
    def every_item_once(self) -> bool:
        """True when every item was consumed exactly once."""
        return sorted(i for c in self.consumed for i in c) == list(range(self.n_items))

    @property
    def max_depth(self) -> int:
        """The most items ever waiting in the queue."""
        return max((d for _, d in self.depth), default=0)

    def busy_fraction(self) -> float:
        """The share of the consumers' time spent working on items (not waiting)."""
        work = sum(s.duration_s for s in self.spans if s.label.startswith("item"))
        return work / (self.n_consumers * self.elapsed_s) if self.elapsed_s > 0 else 0.0

    def blocked_puts(self) -> int:
        """How many puts had to wait because the queue was full."""
        return sum(1 for s in self.spans if s.label.startswith("blocked"))

    def slept_s(self, phase: Literal["make", "item"]) -> float | None:
        """The median time a ``make`` or ``item`` step really took (``None`` if none ran)."""
        times = [s.duration_s for s in self.spans if s.label.split(" ", 1)[0] == phase]
        return median(times) if times else None

    def coarse_sleeps(self) -> str:
        """A sentence when sleeps lasted much longer than asked (a coarse system timer), or ``""``.

        Windows before Python 3.11 rounds ``time.sleep`` up to its 15.6 ms timer tick; the
        pipeline's shape then follows the tick, not the settings.
        """
        notes = []
        for phase, asked in (("make", self.make_cost_s), ("item", self.item_cost_s)):
            took = self.slept_s(phase)  # type: ignore[arg-type]
            if asked > 0 and took is not None and took > max(_LATE_FACTOR * asked, asked + 2e-3):
                what = "making" if phase == "make" else "processing"
                notes.append(f"{what} an item took {took * 1e3:.1f} ms, not {asked * 1e3:g} ms")
        if not notes:
            return ""
        return (
            f"Sleeps ran long here ({'; '.join(notes)}): this system's timer is coarse (e.g. "
            f"Windows with Python 3.10 rounds sleeps up to about 15.6 ms), so the timeline "
            f"follows its ticks."
        )

    def summary(self) -> str:
        how = "threads" if self.kind == "thread" else "processes"
        text = (
            f"{self.n_producers} producer(s) and {self.n_consumers} consumer(s) ({how}) moved "
            f"{self.n_items} items in {self.elapsed_s * 1e3:.0f} ms ({self.throughput:.0f} items/s"
            f"); {'every item was' if self.every_item_once else 'NOT every item was'} consumed "
            f"exactly once. The queue held at most {self.max_depth} of {self.queue_size}; "
            f"{self.blocked_puts()} of {self.n_items} puts waited for room; the consumers were "
            f"busy {self.busy_fraction():.0%} of the time."
        )
        late = self.coarse_sleeps()
        return f"{text} {late}" if late else text


def _wait_put(q: Any, item: Any, stop: Any, deadline: float) -> bool | None:
    """Put ``item``; ``True`` if it had to wait for room, ``False`` if not, ``None`` if stopped."""
    try:
        q.put_nowait(item)
        return False
    except queue.Full:
        pass
    while True:
        try:
            q.put(item, timeout=POLL_S)
            return True
        except queue.Full:
            if stop.is_set():
                return None
            if time.monotonic() > deadline:
                raise TimeoutError("the queue stayed full: no consumer took an item") from None


def _wait_get(q: Any, stop: Any, deadline: float) -> tuple[bool, Any]:
    while True:
        try:
            return True, q.get(timeout=POLL_S)
        except queue.Empty:
            if stop.is_set():
                return False, None
            if time.monotonic() > deadline:
                raise TimeoutError("the queue stayed empty: no producer sent an item") from None


def _producer(
    q: Any,
    items: Sequence[int],
    make_cost_s: float,
    stop: Any,
    barrier: Any,
    timeout_s: float,
) -> tuple[int, list[tuple[str, int, int]], list[int]]:
    """Pipeline producer: make each item (a short sleep), put it on the queue."""
    clock = time.perf_counter_ns
    deadline = time.monotonic() + timeout_s
    barrier.wait(timeout=timeout_s)  # everyone starts together, start-up cost left out
    go = clock()
    raw: list[tuple[str, int, int]] = []
    puts: list[int] = []
    for i in items:
        t0 = clock()
        if make_cost_s:
            time.sleep(make_cost_s)
        t1 = clock()
        waited = _wait_put(q, i, stop, deadline)
        if waited is None:
            break
        t2 = clock()
        raw += [(f"make {i}", t0, t1), (f"{'blocked' if waited else 'put'} {i}", t1, t2)]
        puts.append(t2)
    if hasattr(q, "join_thread"):
        # A multiprocessing.Queue hands items to a background thread that writes them to the
        # pipe later. Wait until all of ours are in the pipe before reporting "done": only
        # then can the parent's sentinels not overtake them.
        q.close()
        q.join_thread()
    return go, raw, puts


def _consumer(
    q: Any,
    item_cost_s: float,
    fail_at_item: int | None,
    stop: Any,
    barrier: Any,
    timeout_s: float,
) -> tuple[int, list[int], list[tuple[str, int, int]], list[int]]:
    """Pipeline consumer: take items until the sentinel ``None``; each takes ``item_cost_s``."""
    clock = time.perf_counter_ns
    deadline = time.monotonic() + timeout_s
    barrier.wait(timeout=timeout_s)
    go = clock()
    raw: list[tuple[str, int, int]] = []
    gets: list[int] = []
    done: list[int] = []
    while True:
        t0 = clock()
        got, item = _wait_get(q, stop, deadline)
        t1 = clock()
        if not got or item is None:  # stopped, or the sentinel: no more items
            return go, done, raw, gets
        gets.append(t1)
        raw.append(("wait", t0, t1))
        if item == fail_at_item:
            raise RuntimeError(f"injected failure while processing item {item}")
        if item_cost_s:
            time.sleep(item_cost_s)
        raw.append((f"item {item}", t1, clock()))
        done.append(item)


def _depth_curve(
    puts: list[int], gets: list[int], t0: int, limit: int
) -> tuple[tuple[float, int], ...]:
    """Items in the queue after each put and get, from the times those calls returned.

    The times are taken just *after* each call returns, so a get can be stamped a
    hair after the put it made room for: the count is kept within 0 and the
    queue's ``maxsize`` (which the real queue never leaves).
    """
    events = sorted([(t, 1) for t in puts] + [(t, -1) for t in gets])
    depth, out = 0, [(0.0, 0)]
    for t, step in events:
        depth = min(limit, max(0, depth + step))
        out.append(((t - t0) / 1e9, depth))
    return tuple(out)


def run_pipeline(
    *,
    n_producers: int = 2,
    n_consumers: int = 2,
    queue_size: int = 4,
    n_items: int = 24,
    item_cost_s: float = 0.01,
    make_cost_s: float = 0.002,
    kind: Kind = "process",
    start_method: str | None = None,
    timeout_s: float = 60,
    fail_at_item: int | None = None,
) -> PipelineResult:
    """Producers put items on one bounded queue, consumers take and process them.

    Shutdown uses *sentinels*: once every producer has finished, the parent puts
    one ``None`` per consumer; a consumer that takes ``None`` stops. A
    ``multiprocessing.Queue`` keeps order only per sender, and a producer's last
    items may still wait in its background thread when it returns, so each
    producer flushes (``q.close(); q.join_thread()``) before it reports done. The queue
    holds at most ``queue_size`` items: producers that get ahead block in ``put``
    (back-pressure), consumers with nothing to do wait in ``get``. Both show up in
    the timeline. Making an item and processing one are sleeps, so the pipeline's
    shape does not depend on how many cores you have.

    >>> res = run_pipeline(n_items=6, item_cost_s=0, make_cost_s=0, kind="thread")
    >>> res.every_item_once, res.n_items
    (True, 6)

    Args:
        n_producers, n_consumers: how many of each (1 to 16).
        queue_size: the queue's ``maxsize`` (1 to 1000).
        n_items: items in all, shared round-robin between producers (1 to 10,000).
        item_cost_s: seconds a consumer spends on each item (0 to 1).
        make_cost_s: seconds a producer spends making each item (0 to 1).
        kind: ``"process"`` (a ``multiprocessing.Queue``) or ``"thread"`` (``queue.Queue``).
        start_method: ``"fork"``, ``"spawn"``, ``"forkserver"`` or ``None`` (the default).
        timeout_s: give up (and stop every worker) after this long.
        fail_at_item: make the consumer that takes this item raise (to see the clean-up).

    Returns:
        A :class:`PipelineResult`; ``print`` it for what happened in words.

    Raises:
        ValueError, TypeError: a setting out of range, with what is allowed.
        WorkerError: a worker raised; every other worker is stopped first.
        WorkerTimeoutError: the pipeline did not finish within ``timeout_s``.

    Introduced in ``06-ipc.ipynb``.
    """
    n_producers = check_count(n_producers, "n_producers", 1, 16)
    n_consumers = check_count(n_consumers, "n_consumers", 1, 16)
    queue_size = check_count(queue_size, "queue_size", 1, 1000)
    n_items = check_count(n_items, "n_items", 1, 10_000)
    item_cost_s = check_number(item_cost_s, "item_cost_s", low=0, high=1, unit=" seconds")
    make_cost_s = check_number(make_cost_s, "make_cost_s", low=0, high=1, unit=" seconds")
    timeout_s = check_timeout(timeout_s)
    kind = check_choice(kind, "kind", ("process", "thread"))  # type: ignore[assignment]
    if fail_at_item is not None:
        check_count(fail_at_item, "fail_at_item", 0, n_items - 1)
    shares = [list(range(j, n_items, n_producers)) for j in range(n_producers)]
    names = [f"producer-{j + 1}" for j in range(n_producers)] + [
        f"consumer-{k + 1}" for k in range(n_consumers)
    ]
    if kind == "thread":
        prods, cons, pid = _pipeline_threads(
            shares, n_consumers, queue_size, item_cost_s, make_cost_s, timeout_s, fail_at_item
        )
        method = None
        pids = [pid] * len(names)
    else:
        method = check_start_method(start_method)
        prods, cons, pids = _pipeline_processes(
            method,
            shares,
            n_consumers,
            queue_size,
            item_cost_s,
            make_cost_s,
            timeout_s,
            fail_at_item,
        )
    spans: list[Span] = []
    puts: list[int] = []
    gets: list[int] = []
    started_ns = min(r[0] for r in [*prods, *cons])
    for name, pid, (_, raw, put_ns) in zip(names, pids, prods):
        spans += [Span(name, pid, 0, label, a, b) for label, a, b in raw]
        puts += put_ns
    for name, pid, (_, _, raw, get_ns) in zip(names[n_producers:], pids[n_producers:], cons):
        spans += [Span(name, pid, 0, label, a, b) for label, a, b in raw]
        gets += get_ns
    spans.sort(key=lambda s: s.start_ns)
    ended_ns = max((s.end_ns for s in spans), default=started_ns)
    return PipelineResult(
        kind=kind,
        start_method=method,
        n_producers=n_producers,
        n_consumers=n_consumers,
        queue_size=queue_size,
        n_items=n_items,
        item_cost_s=item_cost_s,
        make_cost_s=make_cost_s,
        elapsed_s=(ended_ns - started_ns) / 1e9,
        consumed=tuple(tuple(c[1]) for c in cons),
        depth=_depth_curve(puts, gets, started_ns, queue_size),
        spans=tuple(spans),
        started_ns=started_ns,
    )


def _pipeline_processes(
    method: str,
    shares: list[list[int]],
    n_consumers: int,
    queue_size: int,
    item_cost_s: float,
    make_cost_s: float,
    timeout_s: float,
    fail_at_item: int | None,
) -> tuple[list[Any], list[Any], list[int]]:
    ctx = get_context(method)
    q = ctx.Queue(maxsize=queue_size)
    stop = ctx.Event()
    n_producers = len(shares)
    barrier = ctx.Barrier(n_producers + n_consumers)
    ok = False
    try:
        with Children(ctx, timeout_s) as kids:
            for j, items in enumerate(shares):
                kids.start(
                    f"producer-{j + 1}", _producer, q, items, make_cost_s, stop, barrier, timeout_s
                )
            for k in range(n_consumers):
                kids.start(
                    f"consumer-{k + 1}",
                    _consumer,
                    *(q, item_cost_s, fail_at_item, stop, barrier, timeout_s),
                )
            try:
                prods = kids.results(range(n_producers))
                for _ in range(n_consumers):
                    put_watched(kids, q, None)  # one sentinel per consumer
                cons = kids.results(range(n_producers, n_producers + n_consumers))
            except BaseException:
                stop.set()  # let the others stop on their own before they are terminated
                raise
            pids = [p.pid for p in kids.procs]
            ok = True
    finally:
        close_queue(q, ok)
    return prods, cons, pids


def _pipeline_threads(
    shares: list[list[int]],
    n_consumers: int,
    queue_size: int,
    item_cost_s: float,
    make_cost_s: float,
    timeout_s: float,
    fail_at_item: int | None,
) -> tuple[list[Any], list[Any], int]:
    import os

    q: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
    stop = threading.Event()
    n_producers = len(shares)
    barrier = threading.Barrier(n_producers + n_consumers)
    slots: list[list[Any]] = [[None, None] for _ in range(n_producers + n_consumers)]

    def run(slot: list[Any], fn: Callable[..., Any], *args: Any) -> None:
        try:
            slot[0] = fn(*args)
        except BaseException as exc:
            slot[1] = (type(exc).__name__, str(exc), traceback.format_exc())
            stop.set()

    jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (_producer, (q, items, make_cost_s, stop, barrier, timeout_s)) for items in shares
    ] + [(_consumer, (q, item_cost_s, fail_at_item, stop, barrier, timeout_s))] * n_consumers
    names = [f"producer-{j + 1}" for j in range(n_producers)] + [
        f"consumer-{k + 1}" for k in range(n_consumers)
    ]
    threads = [
        threading.Thread(target=run, args=(slot, fn, *args), name=name, daemon=True)
        for slot, (fn, args), name in zip(slots, jobs, names)
    ]
    deadline = time.monotonic() + timeout_s
    try:
        for t in threads:
            t.start()
        for t in threads[:n_producers]:
            t.join(max(0.0, deadline - time.monotonic()))
        if not stop.is_set():
            for _ in range(n_consumers):
                if _wait_put(q, None, stop, deadline) is None:
                    break
        for t in threads[n_producers:]:
            t.join(max(0.0, deadline - time.monotonic()))
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    for name, (_, error) in zip(names, slots):
        if error is not None:
            raise worker_error(name, *error)
    late = tuple(name for name, t in zip(names, threads) if t.is_alive())
    if late or any(result is None for result, _ in slots):
        raise WorkerTimeoutError(
            f"{', '.join(late) or 'the pipeline'} did not finish within timeout_s={timeout_s:g} s.",
            workers=late,
            timeout_s=timeout_s,
        )
    results = [result for result, _ in slots]
    return results[:n_producers], results[n_producers:], os.getpid()
