"""The primitives of :mod:`threading`, each in a broken and a fixed version, with a timeline.

Each demo is a small function in :data:`PRIMITIVE_DEMOS` (``cl.show_source`` shows it and
the worker it runs). It starts real threads with :func:`concurrency_lab.start_join`; every
thread records what it is doing as spans ("wait for a permit", "using the resource"), and
every wait has a timeout, so nothing can hang. The result says what happened in a sentence
and :func:`concurrency_lab.races.plot_primitive_demo` draws the timeline.

============  ====================================  =========================================
primitive     broken (``fixed=False``)              fixed (``fixed=True``)
============  ====================================  =========================================
RLock         a function holding a Lock calls a     an RLock lets its owner take it again
              helper that takes it again: stuck
              (the demo gives up after 50 ms)
Semaphore     4 threads use a resource meant for    ``Semaphore(2)`` lets 2 in at a time
              2 at a time
Event         readers read the config before the    readers ``event.wait()`` for the loader
              loader has set it
Condition     a bounded buffer that drops items     the producer waits while the buffer is
              when full                             full, the consumer while it is empty
Barrier       workers start phase 2 before all      ``barrier.wait()`` between the phases
              have finished phase 1
Queue         the dropping buffer again             ``queue.Queue(maxsize)`` waits for you
============  ====================================  =========================================

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..core.results import Result
from ..core.runners import Run, start_join
from ..core.tracing import record_span, span
from ..core.validate import check_choice

__all__ = [
    "PRIMITIVES",
    "PRIMITIVE_DEMOS",
    "BarrierResult",
    "BufferResult",
    "EventResult",
    "Primitive",
    "PrimitiveDemoResult",
    "RLockResult",
    "SemaphoreResult",
    "barrier_demo",
    "buffer_demo",
    "event_demo",
    "primitive_demo",
    "rlock_demo",
    "semaphore_demo",
]

Primitive = Literal["RLock", "Semaphore", "Event", "Condition", "Barrier", "Queue"]
PRIMITIVES: tuple[Primitive, ...] = ("RLock", "Semaphore", "Event", "Condition", "Barrier", "Queue")

_WAIT_S = 5.0  # the longest any demo thread waits for anything


class Roles:
    """Hands each worker thread a number, 0, 1, 2, ... (``start_join`` gives all the same args)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def take(self) -> int:
        with self._lock:
            n, self._next = self._next, self._next + 1
            return n


@dataclass(frozen=True)
class PrimitiveDemoResult(Result):
    """What one run of a broken or fixed primitive demo did (the base of each demo's result).

    Attributes:
        primitive: e.g. ``"Semaphore"``.
        fixed: whether the primitive was used (``True``) or left out (``False``).
        run: the threads' run, with every span, for the timeline.
        roles: ``(worker, role)`` pairs, e.g. ``("worker-2", "consumer")``.
        worker_label: the label of the span that covers each whole worker.
    """

    primitive: Primitive
    fixed: bool
    run: Run = field(repr=False)
    roles: tuple[tuple[str, str], ...]
    worker_label: str

    @property
    def ok(self) -> bool:
        """Whether the run behaved correctly, judged from what it measured."""
        raise NotImplementedError

    def what_happened(self) -> str:
        raise NotImplementedError

    def summary(self) -> str:
        which = "fixed" if self.fixed else "broken"
        verdict = "correct" if self.ok else "wrong"
        return f"{self.primitive} ({which}, {verdict}): {self.what_happened()}"


# --------------------------------------------------------------------------- RLock


@dataclass(frozen=True)
class RLockResult(PrimitiveDemoResult):
    """Whether the owner of the lock could take it a second time."""

    took_again: bool = False

    @property
    def ok(self) -> bool:
        return self.took_again

    def what_happened(self) -> str:
        if self.took_again:
            return "the owner took the RLock a second time and went on."
        return (
            "the thread waited for a Lock it held itself; without the 50 ms timeout it would "
            "wait forever."
        )


def rlock_owner(lock: Any) -> bool:
    """Take ``lock``, then call a helper that takes the same lock again."""
    with lock:
        with span("holds the lock"):
            time.sleep(0.01)
        with span("wait: take it again"):
            again = lock.acquire(timeout=0.05)  # the helper takes the same lock
        if again:
            with span("helper runs"):
                time.sleep(0.01)
            lock.release()
        return bool(again)


def rlock_demo(*, fixed: bool = False) -> RLockResult:
    """A Lock taken twice by its owner waits for itself; an RLock counts and lets it in."""
    lock = threading.RLock() if fixed else threading.Lock()
    run = start_join(rlock_owner, 1, kind="thread", args=(lock,), timeout_s=10)
    return RLockResult("RLock", fixed, run, (), rlock_owner.__name__, bool(run.results[0]))


# --------------------------------------------------------------------------- Semaphore


@dataclass(frozen=True)
class SemaphoreResult(PrimitiveDemoResult):
    """How many threads used the resource at once, against how many it allows."""

    n_users: int = 0
    permits: int = 0
    most_inside: int = 0

    @property
    def ok(self) -> bool:
        return self.most_inside <= self.permits

    def what_happened(self) -> str:
        return (
            f"at most {self.most_inside} of {self.n_users} threads used the resource at once "
            f"(it allows {self.permits})."
        )


@dataclass
class _Resource:
    """A resource that notes how many threads use it at once."""

    n_users: int
    pool: threading.Semaphore | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    all_asked: threading.Event = field(default_factory=threading.Event)
    asked: int = 0
    inside: int = 0
    most_inside: int = 0

    def _ask(self) -> None:  # call with self.lock held
        self.asked += 1
        if self.asked == self.n_users:
            self.all_asked.set()

    def ask(self) -> None:
        """Note that one more user wants the resource."""
        with self.lock:
            self._ask()

    def use(self, *, asking: bool = False, hold_s: float = 0.02) -> None:
        """Use the resource for ``hold_s``, after every user has asked for it."""
        with self.lock:
            if asking:  # no pool: asking and getting in are one step
                self._ask()
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        with span("using the resource"):
            # Nobody leaves before every user has asked: so only the semaphore, not the
            # timing of the threads, decides how many meet here.
            self.all_asked.wait(timeout=_WAIT_S)
            time.sleep(hold_s)
        with self.lock:
            self.inside -= 1


def semaphore_user(resource: _Resource) -> None:
    """Use ``resource``, holding one of the pool's permits (if there is a pool)."""
    pool = resource.pool
    if pool is None:
        resource.use(asking=True)
        return
    resource.ask()
    with span("wait for a permit"):
        if not pool.acquire(timeout=5):  # wait for one of the 2 permits
            raise TimeoutError("no permit came within 5 s")
    try:
        resource.use()
    finally:
        pool.release()  # give the permit back


def semaphore_demo(*, fixed: bool = False) -> SemaphoreResult:
    """Four threads share a resource meant for two at a time; ``Semaphore(2)`` enforces it."""
    n_users, permits = 4, 2
    resource = _Resource(n_users, threading.Semaphore(permits) if fixed else None)
    run = start_join(semaphore_user, n_users, kind="thread", args=(resource,), timeout_s=10)
    return SemaphoreResult(
        "Semaphore",
        fixed,
        run,
        (),
        semaphore_user.__name__,
        n_users=n_users,
        permits=permits,
        most_inside=resource.most_inside,
    )


# --------------------------------------------------------------------------- Event


@dataclass(frozen=True)
class EventResult(PrimitiveDemoResult):
    """How many readers found the configuration loaded."""

    readers: int = 0
    saw_config: int = 0

    @property
    def ok(self) -> bool:
        return self.saw_config == self.readers

    def what_happened(self) -> str:
        if self.ok:
            every = "both" if self.readers == 2 else f"all {self.readers}"
            return f"{every} readers got the config."
        missing = self.readers - self.saw_config
        return f"{missing} of {self.readers} readers found no config (it was not loaded yet)."


@dataclass
class _Config:
    roles: Roles
    loaded: threading.Event
    fixed: bool
    value: dict[str, bool] | None = None


def config_worker(config: _Config) -> str:
    """The first thread loads the configuration; the others read it."""
    if config.roles.take() == 0:
        with span("loading config"):
            time.sleep(0.03)
        config.value = {"ready": True}
        config.loaded.set()  # tell every waiting reader
        return "loader"
    if config.fixed:
        with span("wait for the event"):
            if not config.loaded.wait(timeout=5):  # until the loader has set it
                raise TimeoutError("the config was not loaded within 5 s")
    with span("read config"):
        return "reader: got it" if config.value is not None else "reader: nothing"


def event_demo(*, fixed: bool = False) -> EventResult:
    """Readers must wait for the loader: ``event.wait()`` until ``event.set()``."""
    config = _Config(Roles(), threading.Event(), fixed)
    run = start_join(config_worker, 3, kind="thread", args=(config,), timeout_s=10)
    readers = [r for r in run.results if r != "loader"]
    roles = tuple(
        (w, "loader" if r == "loader" else "reader") for w, r in zip(run.workers, run.results)
    )
    return EventResult(
        "Event",
        fixed,
        run,
        roles,
        config_worker.__name__,
        readers=len(readers),
        saw_config=sum(1 for r in readers if r == "reader: got it"),
    )


# --------------------------------------------------------------------------- Condition, Queue


@dataclass(frozen=True)
class BufferResult(PrimitiveDemoResult):
    """What went through a bounded buffer between a fast producer and a slow consumer."""

    n_items: int = 0
    capacity: int = 0
    received: tuple[int, ...] = ()
    dropped: int = 0
    most_held: int = 0

    @property
    def ok(self) -> bool:
        return self.received == tuple(range(self.n_items)) and self.most_held <= self.capacity

    def what_happened(self) -> str:
        lost = self.n_items - len(self.received)
        return (
            f"the consumer received {len(self.received)} of {self.n_items} items ({lost} "
            f"lost); the buffer held at most {self.most_held} (capacity {self.capacity})."
        )


class DroppingBuffer:
    """The broken buffer: it never waits; when full it drops the item, when empty it gives None.

    ``must_wait`` is set when a put has to wait for room (never, here: it drops instead).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: collections.deque[int] = collections.deque()
        self.dropped = 0
        self.most_held = 0
        self.must_wait = threading.Event()

    def put(self, item: int) -> None:
        if len(self.items) >= self.capacity:
            self.dropped += 1
            now = time.perf_counter_ns()
            record_span("drop item", now, now)
            return
        self.items.append(item)
        self.most_held = max(self.most_held, len(self.items))

    def get(self) -> int | None:
        return self.items.popleft() if self.items else None


class ConditionBuffer(DroppingBuffer):
    """The fixed buffer: ``put`` waits while full, ``get`` while empty (``Condition.wait_for``)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.cond = threading.Condition()

    def put(self, item: int) -> None:
        with self.cond:
            if len(self.items) >= self.capacity:
                self.must_wait.set()
                with span("wait: full"):
                    room = self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5)
                if not room:
                    raise TimeoutError("the buffer stayed full for 5 s")
            self.items.append(item)
            self.most_held = max(self.most_held, len(self.items))
            self.cond.notify_all()  # wake anyone waiting for an item

    def get(self) -> int | None:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.items) > 0, timeout=5):
                return None  # nothing came: the caller decides what that means
            item = self.items.popleft()
            self.cond.notify_all()  # wake anyone waiting for room
            return item


class QueueBuffer(DroppingBuffer):
    """The buffer as a ``queue.Queue(maxsize=capacity)``: it does the waiting itself."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.queue: queue.Queue[int] = queue.Queue(maxsize=capacity)

    def put(self, item: int) -> None:
        if self.queue.full():
            self.must_wait.set()
            with span("wait: full"):
                self.queue.put(item, timeout=5)  # waits while full; queue.Full after 5 s
        else:
            self.queue.put(item, timeout=5)
        self.most_held = max(self.most_held, self.queue.qsize())

    def get(self) -> int | None:
        try:
            return self.queue.get(timeout=5)  # waits while empty
        except queue.Empty:
            return None


def make_item(seconds: float = 0.0005) -> None:
    """Stand-in work: keep the CPU busy for ``seconds`` (no sleep, so no timer granularity)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@dataclass
class _Line:
    """A production line: a buffer, a producer and a consumer that starts late."""

    buffer: DroppingBuffer
    n_items: int
    roles: Roles = field(default_factory=Roles)


def buffer_worker(line: _Line) -> str | list[int]:
    """The first thread makes items quickly; the second, which starts late, consumes slowly."""
    buf = line.buffer
    if line.roles.take() == 0:
        for item in range(line.n_items):
            with span("make item"):
                make_item()
            buf.put(item)
        buf.must_wait.set()  # done: nothing more will come
        return "producer"
    with span("starting up"):
        # The consumer starts late: once the producer is done, or has to wait for room.
        # So the broken buffer drops exactly what does not fit, on any machine.
        buf.must_wait.wait(timeout=_WAIT_S)
    got: list[int] = []
    deadline = time.monotonic() + _WAIT_S
    while len(got) + buf.dropped < line.n_items and time.monotonic() < deadline:
        taken = buf.get()
        if taken is None:
            continue
        got.append(taken)
        with span("handle item"):
            time.sleep(0.002)
    return got


_BUFFERS: dict[str, type[DroppingBuffer]] = {"Condition": ConditionBuffer, "Queue": QueueBuffer}


def buffer_demo(kind: Literal["Condition", "Queue"], *, fixed: bool = False) -> BufferResult:
    """A fast producer and a slow consumer share a buffer of 3: drop, or wait for room."""
    n_items, capacity = 20, 3
    buffer = _BUFFERS[kind](capacity) if fixed else DroppingBuffer(capacity)
    line = _Line(buffer, n_items)
    run = start_join(buffer_worker, 2, kind="thread", args=(line,), timeout_s=20)
    got = next(r for r in run.results if r != "producer")
    roles = tuple(
        (w, "producer" if r == "producer" else "consumer") for w, r in zip(run.workers, run.results)
    )
    return BufferResult(
        kind,
        fixed,
        run,
        roles,
        buffer_worker.__name__,
        n_items=n_items,
        capacity=capacity,
        received=tuple(got),
        dropped=buffer.dropped,
        most_held=buffer.most_held,
    )


# --------------------------------------------------------------------------- Barrier


@dataclass(frozen=True)
class BarrierResult(PrimitiveDemoResult):
    """How many workers began phase 2 before every part of phase 1 was there."""

    n_workers: int = 0
    started_early: int = 0

    @property
    def ok(self) -> bool:
        return self.started_early == 0

    def what_happened(self) -> str:
        return (
            f"{self.started_early} of {self.n_workers} workers began phase 2 before phase 1 "
            f"was complete."
        )


@dataclass
class _Phases:
    parts: list[int | None]
    barrier: threading.Barrier | None
    roles: Roles = field(default_factory=Roles)


def phase_worker(work: _Phases) -> bool:
    """Compute one part (phase 1), then use every part (phase 2)."""
    i = work.roles.take()
    with span("phase 1"):
        time.sleep(0.02 * (i + 1))  # the workers finish phase 1 at different times
        work.parts[i] = i + 1
    if work.barrier is not None:
        with span("wait at the barrier"):
            work.barrier.wait(timeout=5)  # BrokenBarrierError for all if one is late
    with span("phase 2"):
        complete = None not in work.parts
        time.sleep(0.005)
    return complete


def barrier_demo(*, fixed: bool = False) -> BarrierResult:
    """Three workers must all finish phase 1 before any starts phase 2: ``Barrier(3)``."""
    n = 3
    work = _Phases([None] * n, threading.Barrier(n) if fixed else None)
    run = start_join(phase_worker, n, kind="thread", args=(work,), timeout_s=10)
    return BarrierResult(
        "Barrier",
        fixed,
        run,
        (),
        phase_worker.__name__,
        n_workers=n,
        started_early=sum(1 for r in run.results if not r),
    )


# --------------------------------------------------------------------------- the registry


def _condition_demo(*, fixed: bool = False) -> BufferResult:
    return buffer_demo("Condition", fixed=fixed)


def _queue_demo(*, fixed: bool = False) -> BufferResult:
    return buffer_demo("Queue", fixed=fixed)


#: One small function per primitive: ``PRIMITIVE_DEMOS["Semaphore"](fixed=True)``.
PRIMITIVE_DEMOS: dict[Primitive, Callable[..., PrimitiveDemoResult]] = {
    "RLock": rlock_demo,
    "Semaphore": semaphore_demo,
    "Event": event_demo,
    "Condition": _condition_demo,
    "Barrier": barrier_demo,
    "Queue": _queue_demo,
}


def primitive_demo(primitive: Primitive, *, fixed: bool = False) -> PrimitiveDemoResult:
    """Run the broken (``fixed=False``) or fixed example of one primitive, with a timeline.

    >>> primitive_demo("RLock", fixed=True).ok
    True

    Args:
        primitive: one of :data:`PRIMITIVES`.
        fixed: use the primitive (``True``) or leave it out (``False``).

    Returns:
        The demo's result (a :class:`PrimitiveDemoResult`); ``print`` it for the sentence,
        ``cl.races.plot_primitive_demo(result)`` for the timeline.

    Raises:
        ValueError: an unknown primitive.
    """
    check_choice(primitive, "primitive", PRIMITIVES)
    return PRIMITIVE_DEMOS[primitive](fixed=fixed)
