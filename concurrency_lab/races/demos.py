"""Races made visible: lost updates measured, bytecode shown, each primitive broken and fixed.

* :func:`lost_updates` runs threads that increment one shared counter and counts
  how many increments vanished, run after run, with and without a lock.
* :func:`bytecode` shows that ``counter += 1`` is several bytecode instructions:
  a load, an add and a store. Another thread may run between them.
* :func:`primitive_demo` shows each synchronization primitive of :mod:`threading`
  (and :class:`queue.Queue`) as a broken/fixed pair with a timeline.

The step programs, small enough to try every schedule (:func:`program`,
:func:`interleavings`, :class:`Scheduler`, :func:`level`), live in
:mod:`concurrency_lab.race_programs`; their names are reachable from this module
too (``concurrency_lab.races.interleavings``), as before.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import collections
import dis
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..core import runners, tracing

__all__ = [
    "PRIMITIVES",
    "Bytecode",
    "LostUpdates",
    "PrimitiveDemo",
    "SharedCounter",
    "bytecode",
    "lost_updates",
    "primitive_demo",
]

_WAIT_S = 5.0  # the longest any demo thread waits for anything


# =========================================================================== lost updates


class SharedCounter:
    """A counter that several threads increment; ``value`` is read and written through a property.

    ``counter.value += 1`` is the same read-modify-write as ``counter += 1``: read
    the value, add one, write it back. The difference is *where CPython may switch
    threads*. Since Python 3.10 the interpreter checks whether to hand the GIL to
    another thread only at a few places: around calls to Python functions (as a
    function starts, or as a call returns, depending on the version) and where a
    loop jumps back to its start (the ``CHECK_EVAL_BREAKER`` sites in CPython's
    ``Python/ceval.c``). ``n += 1`` on a plain variable has no such place between
    its read and its write, so the race is there but almost never hit. Reading
    ``value`` and writing it call the property's getter and setter, Python
    functions, so a switch can fall after the read and before the write. The race
    is the same; only its odds change, and now it shows.

    ``lock`` is a :class:`threading.Lock` for the fixed version.

    >>> c = SharedCounter()
    >>> c.value += 1
    >>> c.value
    1
    """

    def __init__(self, value: int = 0) -> None:
        self._value = value
        self.plain = value  # a plain attribute, for the `plain` demo
        self.lock = threading.Lock()

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        self._value = new

    def __repr__(self) -> str:
        return f"SharedCounter(value={self._value})"


def _increment_plain(counter: SharedCounter, n: int, barrier: threading.Barrier) -> None:
    barrier.wait(timeout=_WAIT_S)
    for _ in range(n):
        counter.plain += 1


def _increment_property(counter: SharedCounter, n: int, barrier: threading.Barrier) -> None:
    barrier.wait(timeout=_WAIT_S)
    for _ in range(n):
        counter.value += 1


def _increment_locked(counter: SharedCounter, n: int, barrier: threading.Barrier) -> None:
    barrier.wait(timeout=_WAIT_S)
    for _ in range(n):
        with counter.lock:
            counter.value += 1


_HOW = {
    "plain": (_increment_plain, "counter.plain += 1 (a plain attribute)"),
    "property": (_increment_property, "counter.value += 1 (through a property)"),
    "locked": (_increment_locked, "with counter.lock: counter.value += 1"),
}


@dataclass(frozen=True)
class LostUpdates:
    """How many increments vanished in each of several runs of the same threads.

    Attributes:
        how: ``"plain"``, ``"property"`` or ``"locked"``.
        code: the line each thread ran in its loop.
        n_workers: threads per run.
        n_increments: increments each thread made per run.
        finals: the counter's final value in each run.
        elapsed_s: wall-clock seconds for all runs.
        python: the interpreter version, e.g. ``"3.11"``.
        switch_interval_s: the interpreter's switch interval during the runs
            (``sys.getswitchinterval()``).
    """

    how: str
    code: str
    n_workers: int
    n_increments: int
    finals: tuple[int, ...]
    elapsed_s: float
    python: str
    switch_interval_s: float = 0.005

    @property
    def expected(self) -> int:
        """What the counter would read if no update were lost."""
        return self.n_workers * self.n_increments

    @property
    def lost(self) -> tuple[int, ...]:
        """Lost updates in each run."""
        return tuple(self.expected - f for f in self.finals)

    @property
    def total_lost(self) -> int:
        return sum(self.lost)

    @property
    def runs_with_loss(self) -> int:
        return sum(1 for x in self.lost if x > 0)

    @property
    def lost_fraction(self) -> float:
        """Lost updates as a fraction of all increments, over all runs."""
        return self.total_lost / (self.expected * len(self.finals))

    def __repr__(self) -> str:
        return (
            f"LostUpdates({self.code!r}: {self.n_workers} threads x {self.n_increments:,} "
            f"increments, {len(self.finals)} runs; expected {self.expected:,} each, lost "
            f"{self.total_lost:,} in all ({self.lost_fraction:.1%}), {self.runs_with_loss} of "
            f"{len(self.finals)} runs lost some)"
        )


def lost_updates(
    *,
    how: str = "property",
    n_workers: int = 2,
    n_increments: int = 100_000,
    n_runs: int = 5,
    switch_interval_s: float | None = 1e-4,
    timeout_s: float = 30.0,
) -> LostUpdates:
    """Let threads increment one shared counter, several times over, and count the lost updates.

    Each run starts ``n_workers`` threads (with :func:`concurrency_lab.start_join`);
    they wait at a barrier so they really run together, then each adds one to a
    fresh :class:`SharedCounter` ``n_increments`` times.

    CPython lets a thread run for a *switch interval* (5 ms by default, see
    ``sys.getswitchinterval()``) before it asks it to hand over to another
    thread. A run of a few tens of milliseconds would see only a handful of
    switches, and on a fast machine perhaps none in the racy spot. So during the
    runs the switch interval is lowered to ``switch_interval_s`` (and restored
    afterwards, also on errors): the same race, many more chances to show.

    >>> r = lost_updates(how="locked", n_increments=1_000, n_runs=2)
    >>> r.finals, r.total_lost
    ((2000, 2000), 0)

    Args:
        how: ``"plain"`` (``counter.plain += 1``: on CPython 3.10+ it hardly ever
            loses, though it is still a race), ``"property"`` (``counter.value += 1``:
            the same race, made visible, see :class:`SharedCounter`) or ``"locked"``
            (the fix: never loses).
        n_workers: threads per run.
        n_increments: increments per thread per run.
        n_runs: how many times to repeat.
        switch_interval_s: the switch interval in seconds during the runs
            (``None``: leave the interpreter's own, usually 5 ms).
        timeout_s: give up on a run after this long.

    Returns:
        A :class:`LostUpdates`.

    Raises:
        ValueError: an unknown ``how``, a size below 1 or a switch interval that is not > 0.
    """
    if how not in _HOW:
        raise ValueError(f"'how' must be 'plain', 'property' or 'locked' (got {how!r}).")
    for name, v in (("n_increments", n_increments), ("n_runs", n_runs)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"'{name}' must be a whole number >= 1 (got {v!r}).")
    if switch_interval_s is not None and (
        isinstance(switch_interval_s, bool)
        or not isinstance(switch_interval_s, (int, float))
        or not switch_interval_s > 0
    ):
        raise ValueError(
            f"'switch_interval_s' must be a number of seconds > 0, or None to leave the "
            f"interpreter's own (got {switch_interval_s!r})."
        )
    target, code = _HOW[how]
    finals = []
    old_interval = sys.getswitchinterval()
    start = time.perf_counter()
    try:
        if switch_interval_s is not None:
            sys.setswitchinterval(switch_interval_s)
        used_interval = sys.getswitchinterval()
        for _ in range(n_runs):
            counter = SharedCounter()
            barrier = threading.Barrier(n_workers)
            runners.start_join(
                target,
                n_workers,
                kind="thread",
                args=(counter, n_increments, barrier),
                timeout_s=timeout_s,
            )
            finals.append(counter.plain if how == "plain" else counter.value)
    finally:
        sys.setswitchinterval(old_interval)
    return LostUpdates(
        how=how,
        code=code,
        n_workers=n_workers,
        n_increments=n_increments,
        finals=tuple(finals),
        elapsed_s=time.perf_counter() - start,
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        switch_interval_s=used_interval,
    )


# =========================================================================== bytecode


_STEP_OF_OP = {
    "LOAD": "load",
    "STORE": "store",
    "BINARY_OP": "compute",
    "INPLACE_ADD": "compute",
    "BINARY_ADD": "compute",
}


@dataclass(frozen=True)
class Bytecode:
    """The bytecode instructions of a line of Python, each labelled with its step kind.

    Attributes:
        source: the line compiled.
        instructions: ``(opname, argument, step)`` for each instruction, where
            ``step`` is ``"load"``, ``"compute"``, ``"store"`` or ``""``.
    """

    source: str
    instructions: tuple[tuple[str, str, str], ...]

    @property
    def steps(self) -> tuple[str, ...]:
        """The step kinds in order, e.g. ``('load', 'load', 'compute', 'store')``."""
        return tuple(s for _, _, s in self.instructions if s)

    def __repr__(self) -> str:
        lines = [
            f"bytecode of {self.source!r} (Python {sys.version_info[0]}.{sys.version_info[1]}):"
        ]
        for op, arg, step in self.instructions:
            lines.append(f"  {op:<16} {arg:<10} {'<- ' + step if step else ''}".rstrip())
        return "\n".join(lines)


def bytecode(source: str = "counter += 1") -> Bytecode:
    """Compile one statement and list its bytecode, to see the separate read, add and write.

    The statement is compiled inside a function with its names declared
    ``global``, as in a function that bumps a shared counter. Bookkeeping
    instructions (``RESUME``, the final ``return None``) are left out.

    >>> b = bytecode("counter += 1")
    >>> b.steps
    ('load', 'compute', 'store')

    Raises:
        ValueError: ``source`` is not one valid Python statement.
    """
    if not isinstance(source, str):
        raise TypeError(f"'source' must be a line of Python as a string (got {source!r}).")
    try:
        tree = compile(source, "<line>", "exec", flags=0x400, dont_inherit=True)  # PyCF_ONLY_AST
    except SyntaxError as exc:
        raise ValueError(f"'source' must be valid Python (got {source!r}: {exc.msg}).") from None
    import ast

    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
    body = (f"global {', '.join(names)}\n" if names else "") + source
    text = "def _f():\n" + "".join(f"    {line}\n" for line in body.splitlines())
    ns: dict[str, Any] = {}
    exec(compile(text, "<line>", "exec"), ns)
    out = []
    instrs = list(dis.get_instructions(ns["_f"]))
    for ins in instrs:
        if ins.opname in ("RESUME", "RETURN_CONST", "RETURN_VALUE", "NOP", "CACHE"):
            continue
        if ins.opname == "LOAD_CONST" and ins.argval is None:
            continue
        step = ""
        if ins.opname == "LOAD_CONST":  # pushes a constant: no shared read
            out.append((ins.opname, ins.argrepr, step))
            continue
        for prefix, kind in _STEP_OF_OP.items():
            if ins.opname.startswith(prefix):
                step = kind
        out.append((ins.opname, ins.argrepr, step))
    return Bytecode(source=source, instructions=tuple(out))


# =========================================================================== primitives


PRIMITIVES = ("Lock", "RLock", "Semaphore", "Event", "Condition", "Barrier", "Queue")

# Labels of the spans that cover a whole worker (the runner names them after the function).
WORKER_LABELS = frozenset(
    {
        "_increment_plain",
        "_increment_property",
        "_increment_locked",
        "_rlock_worker",
        "_semaphore_worker",
        "_event_worker",
        "_buffer_worker",
        "_barrier_worker",
    }
)


@dataclass(frozen=True)
class PrimitiveDemo:
    """One run of a broken or fixed example of a synchronization primitive.

    Attributes:
        primitive: e.g. ``"Semaphore"``.
        fixed: whether the primitive was used (``True``) or left out (``False``).
        ok: whether the run behaved correctly, judged from what it measured.
        summary: what happened, computed from the measurement.
        run: the threads' :class:`~concurrency_lab.runners.Run`, for ``cl.plot_timeline``.
        facts: the measured numbers behind ``summary``.
        roles: ``(worker, role)`` pairs, e.g. ``("worker-2", "consumer")``, where
            the threads play different parts.
    """

    primitive: str
    fixed: bool
    ok: bool
    summary: str
    run: runners.Run = field(repr=False)
    facts: tuple[tuple[str, Any], ...] = ()
    roles: tuple[tuple[str, str], ...] = ()

    def fact(self, name: str) -> Any:
        return dict(self.facts)[name]

    def __repr__(self) -> str:
        which = "fixed" if self.fixed else "broken"
        return f"{self.primitive} ({which}): {'✅' if self.ok else '❌'} {self.summary}"


class _Roles:
    """Hands each worker thread a number, 0, 1, 2, ... (start_join gives all the same args)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def take(self) -> int:
        with self._lock:
            n, self._next = self._next, self._next + 1
            return n


def _rlock_worker(lock: Any) -> bool:
    with lock:
        with tracing.span("holds the lock"):
            time.sleep(0.01)
        # a helper that also protects itself with the same lock
        with tracing.span("wait: take it again"):
            got = lock.acquire(timeout=0.05)
        if got:
            with tracing.span("helper runs"):
                time.sleep(0.01)
            lock.release()
        return bool(got)


def _semaphore_worker(state: dict[str, Any]) -> int:
    state["barrier"].wait(timeout=_WAIT_S)
    sem = state["sem"]
    if sem is not None:
        with tracing.span("wait for a permit"):
            if not sem.acquire(timeout=_WAIT_S):
                raise TimeoutError("the semaphore was not free within 5 s")
    try:
        with state["lock"]:
            state["active"] += 1
            state["max_active"] = max(state["max_active"], state["active"])
        with tracing.span("using the resource"):
            time.sleep(0.02)
        with state["lock"]:
            state["active"] -= 1
    finally:
        if sem is not None:
            sem.release()
    return 0


def _event_worker(state: dict[str, Any]) -> Any:
    if state["roles"].take() == 0:  # the loader
        with tracing.span("loading config"):
            time.sleep(0.03)
        state["config"] = {"ready": True}
        state["event"].set()
        return "loaded"
    if state["fixed"]:
        with tracing.span("wait for event"):
            state["event"].wait(timeout=_WAIT_S)
    with tracing.span("read config"):
        return state["config"]


def _buffer_worker(state: dict[str, Any]) -> Any:
    role = state["roles"].take()
    n = state["n_items"]
    if role == 0:  # producer
        for item in range(n):
            with tracing.span("make item"):
                time.sleep(0.0005)
            state["put"](item)
        return "producer"
    got = []
    with tracing.span("starting up"):
        time.sleep(0.01)  # the consumer starts a little late and is slower
    deadline = time.monotonic() + _WAIT_S
    while len(got) + state["dropped"][0] < n and time.monotonic() < deadline:
        item = state["get"]()
        if item is not None:
            got.append(item)
        with tracing.span("handle item"):
            time.sleep(0.001)
    return got


def _barrier_worker(state: dict[str, Any]) -> bool:
    i = state["roles"].take()
    with tracing.span("phase 1"):
        time.sleep(0.01 * (i + 1))  # workers finish phase 1 at different times
        state["parts"][i] = i + 1
    if state["barrier"] is not None:
        with tracing.span("wait at the barrier"):
            state["barrier"].wait(timeout=_WAIT_S)
    with tracing.span("phase 2"):
        complete = None not in state["parts"]  # saw every part of phase 1?
        time.sleep(0.005)
    return complete


def _bounded_buffer(kind: str, capacity: int, state: dict[str, Any]) -> None:
    """Install put/get for a bounded buffer: dropping (broken), Condition, or Queue."""
    if kind == "Queue":
        q: queue.Queue[int] = queue.Queue(maxsize=capacity)

        def put(item: int) -> None:
            if q.full():
                with tracing.span("wait: full"):
                    q.put(item, timeout=_WAIT_S)
            else:
                q.put(item, timeout=_WAIT_S)
            state["max_len"] = max(state["max_len"], q.qsize())

        def get() -> int | None:
            try:
                return q.get(timeout=_WAIT_S)
            except queue.Empty:
                return None

    elif kind == "Condition":
        items: collections.deque[int] = collections.deque()
        cond = threading.Condition()

        def put(item: int) -> None:
            with cond:
                if len(items) >= capacity:
                    with tracing.span("wait: full"):
                        room = cond.wait_for(lambda: len(items) < capacity, timeout=_WAIT_S)
                    if not room:
                        raise TimeoutError("the buffer stayed full for 5 s")
                items.append(item)
                state["max_len"] = max(state["max_len"], len(items))
                cond.notify_all()

        def get() -> int | None:
            with cond:
                if not cond.wait_for(lambda: len(items) > 0, timeout=_WAIT_S):
                    return None
                item = items.popleft()
                cond.notify_all()
                return item

    else:  # broken: no waiting; a full buffer drops the item, an empty one gives None
        items2: collections.deque[int] = collections.deque()

        def put(item: int) -> None:
            if len(items2) >= capacity:
                state["dropped"][0] += 1
                now = time.perf_counter_ns()
                tracing.record_span("drop item", now, now)
                return
            items2.append(item)
            state["max_len"] = max(state["max_len"], len(items2))

        def get() -> int | None:
            return items2.popleft() if items2 else None

    state["put"], state["get"] = put, get


def primitive_demo(primitive: str, *, fixed: bool = True) -> PrimitiveDemo:
    """Run a short broken (``fixed=False``) or fixed example of one primitive, with a timeline.

    ===========  ====================================  =========================================
    primitive    broken                                fixed
    ===========  ====================================  =========================================
    Lock         2 threads bump a counter: updates     ``with lock:`` around the read-add-write
                 are lost
    RLock        a function holding a Lock calls a     an RLock lets its owner take it again
                 helper that takes it again: stuck
                 (the demo waits 50 ms, not forever)
    Semaphore    4 threads use a resource meant for    ``Semaphore(2)`` lets 2 in at a time
                 2 at a time
    Event        readers read the config before the    readers ``event.wait()`` for the loader
                 loader has set it
    Condition    a bounded buffer that drops items     producer waits while full, consumer
                 when full                             while empty (``wait_for``)
    Barrier      workers start phase 2 before all      ``barrier.wait()`` between the phases
                 have finished phase 1
    Queue        the dropping buffer again             ``queue.Queue(maxsize)`` does it all
    ===========  ====================================  =========================================

    >>> primitive_demo("RLock").ok
    True

    Raises:
        ValueError: an unknown primitive.
    """
    if primitive not in PRIMITIVES:
        raise ValueError(f"'primitive' must be one of {', '.join(PRIMITIVES)} (got {primitive!r}).")
    facts: dict[str, Any]
    roles: dict[str, str] = {}
    if primitive == "Lock":
        counter = SharedCounter()
        target = _increment_locked if fixed else _increment_property
        n = 300_000  # long enough for several thread switches, so the race rarely hides
        run = runners.start_join(
            target, 2, kind="thread", args=(counter, n, threading.Barrier(2)), timeout_s=30
        )
        lost = 2 * n - counter.value
        facts = {"expected": 2 * n, "final": counter.value, "lost": lost}
        ok = lost == 0
        summary = f"2 threads x {n:,} increments gave {counter.value:,}: {lost:,} lost."
    elif primitive == "RLock":
        lock: Any = threading.RLock() if fixed else threading.Lock()
        run = runners.start_join(_rlock_worker, 1, kind="thread", args=(lock,), timeout_s=10)
        got = run.results[0]
        facts = {"acquired_again": got}
        ok = bool(got)
        summary = (
            "the owner took the RLock a second time and went on."
            if got
            else "the thread waited for a Lock it already held; without the 50 ms timeout "
            "it would wait forever (a self-deadlock)."
        )
    elif primitive == "Semaphore":
        n_workers, limit = 4, 2
        state = {
            "barrier": threading.Barrier(n_workers),
            "sem": threading.Semaphore(limit) if fixed else None,
            "lock": threading.Lock(),
            "active": 0,
            "max_active": 0,
        }
        run = runners.start_join(
            _semaphore_worker, n_workers, kind="thread", args=(state,), timeout_s=10
        )
        facts = {"limit": limit, "max_active": state["max_active"], "n_workers": n_workers}
        ok = state["max_active"] <= limit
        summary = (
            f"at most {state['max_active']} of {n_workers} threads used the resource at once "
            f"(it allows {limit})."
        )
    elif primitive == "Event":
        state = {"roles": _Roles(), "event": threading.Event(), "config": None, "fixed": fixed}
        run = runners.start_join(_event_worker, 3, kind="thread", args=(state,), timeout_s=10)
        readers = [r for r in run.results if r != "loaded"]
        n_none = sum(1 for r in readers if r is None)
        facts = {"readers": len(readers), "saw_nothing": n_none}
        roles = {
            w: "loader" if r == "loaded" else "reader" for w, r in zip(run.workers, run.results)
        }
        ok = n_none == 0
        if n_none == 0:
            every = "both" if len(readers) == 2 else f"all {len(readers)}"
            summary = f"{every} readers got the config."
        else:
            summary = f"{n_none} of {len(readers)} readers found no config (it was not loaded yet)."
    elif primitive in ("Condition", "Queue"):
        n_items, capacity = 20, 3
        state = {
            "roles": _Roles(),
            "n_items": n_items,
            "dropped": [0],
            "max_len": 0,
        }
        _bounded_buffer(primitive if fixed else "broken", capacity, state)
        run = runners.start_join(_buffer_worker, 2, kind="thread", args=(state,), timeout_s=20)
        got = next(r for r in run.results if r != "producer")
        roles = {
            w: "producer" if r == "producer" else "consumer"
            for w, r in zip(run.workers, run.results)
        }
        lost = n_items - len(got)
        facts = {
            "n_items": n_items,
            "received": len(got),
            "lost": lost,
            "in_order": got == sorted(got),
            "capacity": capacity,
            "max_len": state["max_len"],
        }
        ok = got == list(range(n_items)) and state["max_len"] <= capacity
        summary = (
            f"the consumer received {len(got)} of {n_items} items ({lost} lost); the buffer "
            f"held at most {state['max_len']} (capacity {capacity})."
        )
    else:  # Barrier
        n_workers = 3
        state = {
            "roles": _Roles(),
            "parts": [None] * n_workers,
            "barrier": threading.Barrier(n_workers) if fixed else None,
        }
        run = runners.start_join(
            _barrier_worker, n_workers, kind="thread", args=(state,), timeout_s=10
        )
        early = sum(1 for r in run.results if not r)
        facts = {"n_workers": n_workers, "started_early": early}
        ok = early == 0
        summary = f"{early} of {n_workers} workers began phase 2 before phase 1 was complete."
    return PrimitiveDemo(
        primitive=primitive,
        fixed=fixed,
        ok=ok,
        summary=summary,
        run=run,
        facts=tuple(facts.items()),
        roles=tuple(roles.items()),
    )
