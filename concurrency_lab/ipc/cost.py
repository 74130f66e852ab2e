"""What moving a message between processes costs, per method and size, beside an in-process copy.

:func:`measure_ipc` starts one echoing child per method, sends messages of each size one
at a time and times each from "send" until a tiny acknowledgement comes back. Small
messages so measure the *round trip* (there and back through the operating system); large
ones the *throughput*. Beside them, in the same run, it times an in-process copy of the same
bytes with numpy (``"copy"``): one way, no second process, no reply.

Introduced in ``06-ipc.ipynb``.
"""

from __future__ import annotations

import pickle
import queue
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing import shared_memory
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from statistics import median
from types import TracebackType
from typing import Any, Literal, get_args

from ..core.load import Load, measure_load
from ..core.machine import check_start_method, get_context, shm_free_bytes
from ..core.results import Result
from ..core.validate import check_count, check_number, check_timeout
from .children import Children, close_queue, get_watched, recv_watched
from .workers import echo_pipe, echo_queue, echo_shm, echo_thread

__all__ = [
    "DEFAULT_SIZES",
    "LABELS",
    "METHODS",
    "IPCResult",
    "Method",
    "measure_ipc",
    "size_label",
]

KiB = 1024
MiB = 1024 * 1024

Method = Literal["copy", "queue.Queue", "Pipe", "SimpleQueue", "Queue", "SharedMemory", "Manager"]
#: Every method :func:`measure_ipc` knows; ``"copy"`` (in this process, the reference) first.
METHODS: tuple[Method, ...] = get_args(Method)
#: How plots and sentences name each method.
LABELS: dict[str, str] = {
    "copy": "in-process copy (numpy, one way)",
    "queue.Queue": "queue.Queue between threads",
    "Pipe": "Pipe",
    "SimpleQueue": "SimpleQueue",
    "Queue": "Queue",
    "SharedMemory": "SharedMemory",
    "Manager": "Manager queue",
}
#: Methods that stay inside one process.
IN_PROCESS = ("copy", "queue.Queue")
#: Message sizes measured when you give none: 64 B to 4 MiB, quick enough for a notebook.
DEFAULT_SIZES = (64, 4 * KiB, 256 * KiB, 4 * MiB)
#: The largest message: the run holds several copies of it in memory at once.
MAX_SIZE = 256 * MiB
#: Room left free in /dev/shm besides the segment (semaphores, other programs).
SHM_MARGIN = 4 * MiB
#: Methods closer than this fraction are "about as quick": repeats differ that much.
TIE = 0.15


def size_label(n: float) -> str:
    """``4194304`` -> ``'4 MiB'``; ``1536`` -> ``'1.5 KiB'``; ``64`` -> ``'64 B'``.

    >>> size_label(64), size_label(4 * 1024), size_label(1536), size_label(4 << 20)
    ('64 B', '4 KiB', '1.5 KiB', '4 MiB')
    """
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n:g} B"


@dataclass(frozen=True)
class IPCResult(Result):
    """Time to move one message, per method and message size, beside an in-process copy.

    Each time is a median over several messages. Between processes (and between threads,
    ``queue.Queue``) it is a round trip: the message there, a tiny acknowledgement back.
    ``"copy"`` is one in-process copy of the same bytes with numpy: one way, no reply, and
    at small sizes mostly the cost of calling numpy from Python.

    Attributes:
        methods: the methods measured, ``"copy"`` first.
        sizes: message sizes in bytes.
        seconds: ``seconds[i][j]``: median seconds per message for ``methods[i]``, ``sizes[j]``.
        pickle_s: per size, the median seconds to pickle and unpickle the message in this
            process, timed with the same repeats and budget as the messages.
        start_method: how the child processes started.
        samples: ``samples[i][j]``: how many messages were timed.
        pickle_samples: per size, how many pickle round trips were timed.
        load: what other programs did meanwhile (``None`` if not measured).
    """

    methods: tuple[str, ...]
    sizes: tuple[int, ...]
    seconds: tuple[tuple[float, ...], ...]
    pickle_s: tuple[float, ...]
    start_method: str
    samples: tuple[tuple[int, ...], ...]
    pickle_samples: tuple[int, ...] = ()
    load: Load | None = None

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
        """Median time per message in microseconds (a round trip, except for ``"copy"``)."""
        return self.time_s(method, size) * 1e6

    def gbps(self, method: str, size: int) -> float:
        """Throughput in GB/s (10**9 bytes per second)."""
        return size / self.time_s(method, size) / 1e9

    def ratio(self, method: str, size: int) -> float:
        """Throughput of ``method`` as a fraction of the in-process copy at the same size."""
        return self.gbps(method, size) / self.gbps("copy", size)

    def pickle_share(self, method: str, size: int) -> float:
        """The fraction of ``method``'s time per message that pickling alone would take.

        A ``Pipe`` or ``Queue`` message includes pickling, so a share above 1 can only come
        from noise (another program running during the measurement).
        """
        return self.pickle_s[self.sizes.index(size)] / self.time_s(method, size)

    def fastest(self, size: int, *, between_processes: bool = True) -> str:
        """The method with the shortest time at ``size`` (by default only between processes)."""
        names = [m for m in self.methods if not between_processes or m not in IN_PROCESS]
        if not names:
            raise ValueError("no method between processes was measured.")
        return min(names, key=lambda m: self.time_s(m, size))

    def leaders(self, size: int, *, within: float = TIE) -> list[str]:
        """The methods between processes within ``within`` (a fraction) of the best at ``size``.

        Repeated medians on a busy laptop differ by 10-20 %: methods closer than that are a
        tie, and naming one of them "the quickest" would be reading noise.
        """
        best = self.time_s(self.fastest(size), size)
        names = [m for m in self.methods if m not in IN_PROCESS]
        close = [m for m in names if self.time_s(m, size) <= best * (1 + within)]
        return sorted(close, key=lambda m: self.time_s(m, size))

    def copy_floor_us(self) -> float:
        """The in-process copy's time at the smallest size: the cost of one numpy call."""
        return self.latency_us("copy", min(self.sizes))

    def table(self) -> str:
        """A text table: microseconds per message and GB/s, per method and size."""
        head = f"{'method':<13}" + "".join(f"{size_label(s):>26}" for s in self.sizes)
        lines = [head]
        for m in self.methods:
            cells = "".join(
                f"{self.latency_us(m, s):>11.1f} µs {self.gbps(m, s):>7.3g} GB/s"
                for s in self.sizes
            )
            lines.append(f"{m:<13}{cells}")
        pick = "".join(f"{t * 1e6:>11.1f} µs{'':>12}" for t in self.pickle_s)
        lines.append(f"{'(pickling)':<13}{pick}")
        return "\n".join(lines)

    def summary(self) -> str:
        small, big = min(self.sizes), max(self.sizes)
        out = []
        between = [m for m in self.methods if m not in IN_PROCESS]
        if between:
            lead = self.leaders(small)
            times = [self.latency_us(m, small) for m in lead]
            if len(lead) == 1:
                who = f"the quickest at {size_label(small)} was {lead[0]}: {times[0]:,.0f} µs"
            else:
                who = (
                    f"{_and(lead)} were about as quick at {size_label(small)} "
                    f"({min(times):,.0f} to {max(times):,.0f} µs, closer than the noise)"
                )
            out.append(f"Between processes, {who} for the message and the reply.")
            if big != small:
                top = self.leaders(big)
                speed = f"{self.gbps(top[0], big):.2f} GB/s, {self.ratio(top[0], big):.2f} times"
                if len(top) == 1:
                    who = f"{top[0]} moved data fastest: {speed}"
                else:
                    who = f"{_and(top)} moved data about as fast; the best, {top[0]}: {speed}"
                out.append(
                    f"At {size_label(big)}, {who} the speed of a one-way copy inside this process."
                )
        if "Pipe" in self.methods and big >= 64 * KiB:
            share = self.pickle_share("Pipe", big)
            if share > 1:
                out.append(
                    f"Pickling alone timed slower than a whole Pipe message at {size_label(big)}, "
                    f"which cannot be: other programs disturbed the timing, so that share is noise."
                )
            else:
                out.append(
                    f"Pickling took {share:.0%} of a Pipe message's time at {size_label(big)}; "
                    f"the rest went to the trip through the operating system (copies into and out "
                    f"of the kernel, waking the child, the reply)."
                )
        if small <= 4 * KiB:
            out.append(
                f"The in-process copy of {size_label(small)} took {self.copy_floor_us():.1f} µs: "
                f"at that size it measures one numpy call from Python, not moving bytes."
            )
        if self.load is not None and self.load.describe():
            out.append(self.load.describe())
        return " ".join(out)


def _and(names: Sequence[str]) -> str:
    """``['a', 'b', 'c']`` -> ``'a, b and c'``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --------------------------------------------------------------------------- senders

Send = Callable[[int], None]


def _ack(got: Any, n: int, method: str) -> None:
    if got != n:
        raise RuntimeError(f"{method}: the echo answered {got!r} for a message of {n} bytes")


def _queue_closer(q: Any) -> Callable[..., None]:
    """An exit callback for ExitStack: close ``q``, waiting for its feeder only on success."""

    def close(
        exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        close_queue(q, ok=exc_type is None)

    return close


def _open(
    method: str, ctx: BaseContext, kids: Children, payloads: dict[int, bytes], stack: ExitStack
) -> tuple[Send, Callable[[], None]]:
    """Set up ``method``'s sender and its echo; every clean-up goes on ``stack`` at once.

    Returns ``(send, stop)``: ``send(n)`` moves the first ``n`` bytes and waits for the
    acknowledgement; ``stop()`` asks the echo to return.
    """
    if method == "queue.Queue":
        tin: queue.Queue[Any] = queue.Queue()
        tout: queue.Queue[Any] = queue.Queue()
        t = threading.Thread(target=echo_thread, args=(tin, tout), daemon=True, name="echo")
        t.start()
        stack.callback(t.join, 5)
        stack.callback(tin.put, None)

        def send_thread(n: int) -> None:
            tin.put(payloads[n])
            _ack(tout.get(timeout=kids.timeout_s), n, method)

        return send_thread, lambda: None
    if method == "Pipe":
        here, there = ctx.Pipe()
        stack.callback(here.close)
        kids.start("echo-Pipe", echo_pipe, there)
        there.close()  # the child has its own copy of this end

        def send_pipe(n: int) -> None:
            here.send(payloads[n])
            _ack(recv_watched(kids, here), n, method)

        return send_pipe, lambda: here.send(None)
    if method == "SharedMemory":
        return _open_shm(ctx, kids, payloads, stack)
    if method in ("Queue", "SimpleQueue", "Manager"):
        if method == "Manager":
            manager = stack.enter_context(ctx.Manager())
            inq, outq = manager.Queue(), manager.Queue()
        else:
            make = getattr(ctx, method)
            inq, outq = make(), make()
            for q in (inq, outq):
                stack.push(_queue_closer(q) if method == "Queue" else _simple_closer(q))
        kids.start(f"echo-{method}", echo_queue, inq, outq)

        def send_queue(n: int) -> None:
            inq.put(payloads[n])
            _ack(get_watched(kids, outq), n, method)

        return send_queue, lambda: inq.put(None)
    raise ValueError(method)  # pragma: no cover - checked before


def _simple_closer(q: Any) -> Callable[..., None]:
    def close(*exc: object) -> None:
        q.close()

    return close


def _open_shm(
    ctx: BaseContext, kids: Children, payloads: dict[int, bytes], stack: ExitStack
) -> tuple[Send, Callable[[], None]]:
    """SharedMemory: copy the bytes into a segment both processes map; send only the length."""
    import numpy as np

    size = max(payloads)
    shm = shared_memory.SharedMemory(create=True, size=size)
    views: list[Any] = []

    def free() -> None:
        views.clear()  # no numpy view may outlive close()
        try:
            shm.close()
        finally:
            try:
                shm.unlink()
            except FileNotFoundError:  # already gone counts as freed
                pass

    stack.callback(free)
    seg = np.ndarray((size,), dtype=np.uint8, buffer=shm.buf)
    views.append(seg)
    seg[:] = 0  # touch every page once, outside the timing
    src = np.frombuffer(payloads[size], dtype=np.uint8)
    mine, theirs = ctx.Pipe()
    stack.callback(mine.close)
    kids.start("echo-SharedMemory", echo_shm, theirs, shm.name)
    theirs.close()

    def send_shm(n: int) -> None:
        np.copyto(seg[:n], src[:n])  # the one copy: into memory both processes map
        mine.send(n)
        got = recv_watched(kids, mine)
        if got != (n, int(src[0]), int(src[n - 1])):
            raise RuntimeError(f"SharedMemory: the child read {got!r}, not the bytes sent")

    return send_shm, lambda: mine.send(None)


def _open_copy(payloads: dict[int, bytes]) -> Send:
    """The reference: one copy of the bytes inside this process, with numpy."""
    import numpy as np

    src = np.frombuffer(payloads[max(payloads)], dtype=np.uint8)
    dst = np.empty_like(src)
    dst[:] = src  # touch every page once, outside the timing

    def send_copy(n: int) -> None:
        np.copyto(dst[:n], src[:n])

    return send_copy


# --------------------------------------------------------------------------- the measurement


def _time_messages(
    send: Send, n: int, *, min_repeats: int, max_repeats: int, budget_s: float
) -> tuple[float, int]:
    """Median seconds of ``send(n)`` after one untimed warm-up; and how many were timed."""
    send(n)
    times: list[float] = []
    spent = 0.0
    while len(times) < max_repeats and (len(times) < min_repeats or spent < budget_s):
        t0 = time.perf_counter()
        send(n)
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    return median(times), len(times)


def _check_methods(methods: Sequence[str] | str | None) -> tuple[str, ...]:
    if methods is None:
        return METHODS
    chosen = [methods] if isinstance(methods, str) else list(methods)
    for m in chosen:
        if m not in METHODS:
            raise ValueError(f"'methods' must be chosen from {', '.join(METHODS)} (got {m!r}).")
    if not chosen:
        raise ValueError("'methods' is empty: give at least one, e.g. ['Pipe', 'Queue'].")
    return ("copy", *dict.fromkeys(m for m in chosen if m != "copy"))


def _check_sizes(sizes: Sequence[int] | int | None) -> tuple[int, ...]:
    if sizes is None:
        return DEFAULT_SIZES
    given = [sizes] if isinstance(sizes, int) and not isinstance(sizes, bool) else sizes
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
        raise TypeError(f"'sizes' must be a list of message sizes in bytes (got {sizes!r}).")
    out = {check_count(s, "sizes", 1, MAX_SIZE) for s in given}
    if not out:
        raise ValueError("'sizes' is empty: give at least one, e.g. [64, 1_048_576].")
    return tuple(sorted(out))


def check_shm_room(size: int, *, free: int | None = None) -> None:
    """Refuse a shared-memory segment of ``size`` bytes that would not fit where it lives.

    On Linux a segment is a file in ``/dev/shm``, a RAM disk of fixed size (64 MiB in a
    Docker container unless it was started with ``--shm-size``). Writing past its end kills
    the writing process with SIGBUS, which no ``try`` can catch: in a notebook, the kernel
    dies. So check first. Elsewhere (macOS, Windows) there is no such limit to read.

    Raises:
        ValueError: the segment would not fit, with what to do instead.
    """
    free = shm_free_bytes() if free is None else free
    if free is not None and size > free - SHM_MARGIN:
        raise ValueError(
            f"A {size_label(size)} shared-memory segment does not fit: /dev/shm has only "
            f"{size_label(max(free, 0))} free here (a Docker container gets 64 MiB unless "
            f"started with --shm-size). Writing past it would kill the kernel with SIGBUS, "
            f"which no try/except can catch. Choose smaller sizes, or leave out 'SharedMemory'."
        )


def _pickle_round(payload: bytes) -> None:
    pickle.loads(ForkingPickler.dumps(payload))  # what Pipe.send/Queue.put + recv/get do


def measure_ipc(
    methods: Sequence[str] | str | None = None,
    sizes: Sequence[int] | int | None = None,
    *,
    start_method: str | None = None,
    min_repeats: int = 3,
    max_repeats: int = 200,
    budget_s: float = 0.03,
    timeout_s: float = 60,
) -> IPCResult:
    """Time moving messages of each size with each method, beside an in-process copy.

    For every method one child process (a thread for ``queue.Queue``) echoes a tiny
    acknowledgement for each message. For each size, the methods take turns (so a busy
    moment hits them alike); messages are sent one at a time, each is timed from send to
    acknowledgement, and the median is kept.

    * ``Pipe``, ``Queue``, ``SimpleQueue``: the message (a ``bytes``) is pickled, written
      to an operating-system pipe, read and unpickled: several copies.
    * ``Manager``: a manager's queue: parent -> manager process -> child, two trips.
    * ``SharedMemory``: the sender copies the bytes into a segment both processes map
      (one copy) and sends only the length; the child reads two bytes in place.
    * ``queue.Queue`` between threads hands over a reference: no copy at all.
    * ``"copy"`` (always measured): one ``numpy.copyto`` of the bytes in this process.

    >>> res = measure_ipc(["Pipe"], [64, 4096], min_repeats=2, budget_s=0)
    >>> res.methods, res.sizes
    (('copy', 'Pipe'), (64, 4096))

    Args:
        methods: any of :data:`METHODS` (default: all); ``"copy"`` is always added.
        sizes: message sizes in bytes, 1 B to 256 MiB (default :data:`DEFAULT_SIZES`).
        start_method: for the child processes (``None``: the default).
        min_repeats, max_repeats: messages timed per method and size ...
        budget_s: ... repeating until at least this many seconds were spent (0 to 10).
        timeout_s: give up (and clean up) after this long in all.

    Returns:
        An :class:`IPCResult`.

    Raises:
        ValueError: an unknown method, a bad size, or a segment larger than /dev/shm's room.
        WorkerError, WorkerCrashedError, WorkerTimeoutError: an echo child failed.
    """
    chosen = _check_methods(methods)
    size_list = _check_sizes(sizes)
    method = check_start_method(start_method)
    timeout_s = check_timeout(timeout_s)
    min_repeats = check_count(min_repeats, "min_repeats", 1, 10_000)
    max_repeats = check_count(max_repeats, "max_repeats", min_repeats, 100_000)
    budget_s = check_number(budget_s, "budget_s", low=0, high=10, unit=" seconds")
    if "SharedMemory" in chosen:
        check_shm_room(max(size_list))
    ctx = get_context(method)
    import numpy as np

    data = np.random.default_rng(0).integers(0, 256, max(size_list), dtype=np.uint8).tobytes()
    payloads = {n: data[:n] for n in size_list}
    seconds = {m: [0.0] * len(size_list) for m in chosen}
    counts = {m: [0] * len(size_list) for m in chosen}
    pickle_s, pickle_counts = [0.0] * len(size_list), [0] * len(size_list)

    def timed(send: Send, n: int) -> tuple[float, int]:
        return _time_messages(
            send, n, min_repeats=min_repeats, max_repeats=max_repeats, budget_s=budget_s
        )

    with measure_load() as meter, ExitStack() as stack:
        kids = stack.enter_context(Children(ctx, timeout_s))
        channels = {m: _open(m, ctx, kids, payloads, stack) for m in chosen[1:]}
        # The copy's buffers are made after every fork: a forked child shares the parent's
        # pages copy-on-write, and writing to them afterwards would make each copy pay for
        # page faults it should not.
        senders: dict[str, Send] = {"copy": _open_copy(payloads)}
        senders.update({m: send for m, (send, _) in channels.items()})
        for j, n in enumerate(size_list):
            for m in chosen:
                seconds[m][j], counts[m][j] = timed(senders[m], n)
                kids.check()
            # Pickling is timed like the messages (same repeats, budget and median).
            pickle_s[j], pickle_counts[j] = timed(lambda n: _pickle_round(payloads[n]), n)
        for _, stop in channels.values():
            stop()  # each echo returns ...
        kids.results()  # ... and reports back
    return IPCResult(
        methods=chosen,
        sizes=size_list,
        seconds=tuple(tuple(seconds[m]) for m in chosen),
        pickle_s=tuple(pickle_s),
        start_method=method,
        samples=tuple(tuple(counts[m]) for m in chosen),
        pickle_samples=tuple(pickle_counts),
        load=meter.load,
    )
