"""Picklable work for threads and processes: CPU-bound, I/O-bound and GIL-releasing.

Every task here is a plain module-level function, so ``spawn`` and
``forkserver`` children can find it by name. Each returns a small value that
depends only on its arguments, so a test can check that the work really ran.

==================  =====================================  ====================
task                what it does                           holds the GIL?
==================  =====================================  ====================
:func:`cpu_bound`   pure-Python integer arithmetic         yes, all the time
:func:`io_bound`    sleeps, then a TCP round trip on       no, while it waits
                    loopback (127.0.0.1)
:func:`gil_releasing`  SHA-256 or zlib over 1 MiB blocks   no, inside the C code
==================  =====================================  ====================

:func:`calibrate` sizes a task to take about ``target_s`` on *this* machine, so
notebooks stay quick on a slow laptop and meaningful on a fast one.
Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import socket
import time
import zlib
from collections.abc import Callable
from typing import Any

__all__ = [
    "IO_UNIT_S",
    "UNIT_ITERATIONS",
    "ZLIB_UNIT_BYTES",
    "async_io_bound",
    "calibrate",
    "cpu_bound",
    "die_by_signal",
    "exit_abruptly",
    "gil_releasing",
    "io_bound",
    "io_wait",
    "mixed_task",
    "noop",
    "raise_error",
    "sleep_then_return",
    "spin",
    "whoami",
    "zlib_compress",
]

#: Loop iterations in one work unit of :func:`cpu_bound` (about 1 ms on a 2020s laptop).
UNIT_ITERATIONS = 20_000
_BLOCK = 1 << 20  # 1 MiB: one work unit of gil_releasing
_block_cache: dict[int, bytes] = {}


def _check_units(units: object, name: str = "units") -> int:
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(
            f"'{name}' must be a whole number of work units (got {units!r} of type "
            f"{type(units).__name__}). Try calibrate(...) to pick one."
        )
    if units < 0:
        raise ValueError(f"'{name}' must be >= 0 (got {units}).")
    return units


def cpu_bound(units: int) -> int:
    """Pure-Python arithmetic: holds the GIL for the whole run.

    One unit is :data:`UNIT_ITERATIONS` loop iterations. Returns a checksum that
    depends only on ``units``, so results can be checked.

    >>> cpu_bound(0)
    0
    >>> cpu_bound(2) == cpu_bound(2)
    True

    Raises:
        TypeError: ``units`` is not an int.
        ValueError: ``units`` is negative.
    """
    units = _check_units(units)
    total = 0
    for _ in range(units):
        x = 0
        for i in range(UNIT_ITERATIONS):
            x = (x + i * i) % 1_000_003
        total = (total + x) % 1_000_003
    return total


def io_bound(wait_s: float = 0.05, *, round_trips: int = 1) -> float:
    """Wait like a program waiting on a network: ``time.sleep``, then TCP round trips.

    The round trips go over a real TCP connection on 127.0.0.1 that this call
    opens and closes, so nothing leaves the machine. While sleeping or waiting on
    the socket, the thread does not hold the GIL. Returns the seconds it took.

    >>> io_bound(0.0) >= 0.0
    True

    Raises:
        ValueError: ``wait_s`` is negative or ``round_trips`` < 0.
    """
    if not isinstance(wait_s, (int, float)) or isinstance(wait_s, bool) or wait_s < 0:
        raise ValueError(f"'wait_s' must be a number of seconds >= 0 (got {wait_s!r}).")
    round_trips = _check_units(round_trips, "round_trips")
    start = time.perf_counter()
    time.sleep(wait_s)
    if round_trips:
        with socket.create_server(("127.0.0.1", 0)) as server:
            with socket.create_connection(server.getsockname(), timeout=5) as client:
                conn, _ = server.accept()
                with conn:
                    conn.settimeout(5)
                    for _ in range(round_trips):
                        client.sendall(b"ping")
                        conn.sendall(_recv_exactly(conn, 4))
                        _recv_exactly(client, 4)
    return time.perf_counter() - start


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the loopback peer closed the connection early")
        data += chunk
    return data


def _block(seed: int = 0) -> bytes:
    block = _block_cache.get(seed)
    if block is None:
        block = _block_cache[seed] = hashlib.shake_256(f"concurrency_lab-{seed}".encode()).digest(
            _BLOCK
        )
    return block


def gil_releasing(units: int, *, algorithm: str = "sha256") -> str:
    """Hash or compress ``units`` MiB in C code that releases the GIL while it works.

    ``algorithm`` is ``"sha256"`` (hashlib releases the GIL for buffers over
    2 KiB) or ``"zlib"`` (``zlib.compress`` releases it too). Returns a hex digest
    that depends only on the arguments.

    >>> gil_releasing(1) == gil_releasing(1)
    True

    Raises:
        ValueError: unknown ``algorithm``.
    """
    units = _check_units(units)
    block = _block()
    if algorithm == "sha256":
        h = hashlib.sha256()
        for _ in range(units):
            h.update(block)
        return h.hexdigest()
    if algorithm == "zlib":
        crc = 0
        for _ in range(units):
            crc = zlib.crc32(zlib.compress(block, 1), crc)
        return f"{crc:08x}"
    raise ValueError(f"'algorithm' must be 'sha256' or 'zlib' (got {algorithm!r}).")


def noop() -> None:
    """Do nothing: measures the bare cost of starting and joining a worker.

    >>> noop() is None
    True
    """


def sleep_then_return(value: Any, wait_s: float = 0.01) -> Any:
    """Sleep ``wait_s`` seconds, then return ``value`` unchanged.

    >>> sleep_then_return("done", 0)
    'done'
    """
    time.sleep(wait_s)
    return value


def whoami(wait_s: float = 0.0) -> tuple[int, str]:
    """Print and return where this code runs: its process id and its thread's name.

    >>> pid, thread = whoami()  # doctest: +ELLIPSIS
    running in process ..., thread MainThread
    """
    import os
    import threading

    pid, thread = os.getpid(), threading.current_thread().name
    # One write with its newline: print(text) writes the text and the "\n" separately, and
    # two workers printing at once could glue their lines together.
    print(f"running in process {pid}, thread {thread}\n", end="")
    time.sleep(wait_s)
    return pid, thread


def calibrate(
    workload: Callable[..., Any], target_s: float = 0.1, *, max_units: int = 1_000_000
) -> int:
    """Return how many work units make ``workload`` take about ``target_s`` here.

    Works for :func:`cpu_bound` and :func:`gil_releasing` (anything that takes
    a unit count as its first argument). It times one unit, doubles until a
    measurement is long enough to trust (20 ms), keeps the fastest of three
    timings of that size, then scales. The answer is at least 1.

    >>> units = calibrate(cpu_bound, 0.02)
    >>> units >= 1
    True

    Raises:
        ValueError: ``target_s`` is not positive, or the workload is
            :func:`io_bound` (its argument already is a time: pass ``target_s``).
    """
    if not isinstance(target_s, (int, float)) or target_s <= 0:
        raise ValueError(f"'target_s' must be a positive number of seconds (got {target_s!r}).")
    if workload is io_bound:
        raise ValueError(
            "io_bound is already sized in seconds: call io_bound(wait_s=target_s) instead."
        )
    workload(1)  # warm up: caches, first-call costs
    units, elapsed = 1, 0.0
    while units <= max_units:
        start = time.perf_counter()
        workload(units)
        elapsed = time.perf_counter() - start
        if elapsed >= 0.02 or elapsed >= target_s:
            break
        units *= 2
    # One timing can be inflated by a pause (another program, a page fault): keep the
    # fastest of three, which is closest to what the work itself costs.
    for _ in range(2):
        start = time.perf_counter()
        workload(units)
        elapsed = min(elapsed, time.perf_counter() - start)
    per_unit = max(elapsed, 1e-9) / units
    return max(1, min(max_units, math.floor(target_s / per_unit + 0.5)))


# --------------------------------------------------------------------------- faulty workers
# Tasks that fail on purpose, for the lessons (and tests) on what goes wrong.


def raise_error(message: str = "something went wrong") -> None:
    """Raise ``RuntimeError(message)``: a worker whose code has a bug.

    >>> raise_error("oops")
    Traceback (most recent call last):
    ...
    RuntimeError: oops
    """
    raise RuntimeError(message)


def exit_abruptly(exitcode: int = 3) -> None:
    """End the whole process at once with ``os._exit`` (no clean-up, no result sent back)."""
    import os

    os._exit(exitcode)


def die_by_signal(signum: int | None = None) -> None:
    """Kill the current process at once (default ``SIGKILL``), like the OOM killer would.

    POSIX: the parent sees exit code ``-signum`` (``-9``). Windows has no signals:
    ``os.kill`` ends the process with ``TerminateProcess`` and the exit code *is* the number
    passed (``9``), so the parent sees a positive code.
    """
    import os
    import signal

    os.kill(os.getpid(), signum if signum is not None else getattr(signal, "SIGKILL", 9))
    time.sleep(5)  # the signal arrives asynchronously


#: Seconds one unit of :func:`io_wait` waits.
IO_UNIT_S = 0.001


def io_wait(units: int) -> float:
    """Wait ``units`` milliseconds like a program waiting on I/O (no GIL held while waiting).

    Introduced in ``02-the-gil.ipynb``.

    A work-unit version of :func:`~concurrency_lab.io_bound`, so it can be split
    over workers like the CPU-bound tasks. Returns the seconds it took.

    >>> io_wait(2) >= 0.002
    True
    """
    if isinstance(units, bool) or not isinstance(units, int) or units < 0:
        raise ValueError(f"'units' must be a whole number >= 0 (got {units!r}).")
    return io_bound(units * IO_UNIT_S, round_trips=0)


def spin(iterations: int) -> int:
    """A tiny pure-Python loop of ``iterations`` steps: for tasks much shorter than a millisecond.

    >>> spin(10)
    285
    """
    x = 0
    for i in range(iterations):
        x = (x + i * i) % 1_000_003
    return x


#: Bytes one unit of :func:`zlib_compress` compresses: 64 KiB, about a millisecond, so that
#: work sized in seconds has many units to split evenly (1 MiB took 20-40 ms).
ZLIB_UNIT_BYTES = 64 * 1024


def zlib_compress(units: int) -> str:
    """Compress ``units`` blocks of 64 KiB with zlib (C code that releases the GIL while it works).

    One unit takes about a millisecond (like :func:`cpu_bound`), so a tenth of a second of
    work is about a hundred units and splits evenly over several threads.

    >>> zlib_compress(1) == zlib_compress(1)
    True
    """
    units = _check_units(units)
    block = _block()[:ZLIB_UNIT_BYTES]
    crc = 0
    for _ in range(units):
        crc = zlib.crc32(zlib.compress(block, 1), crc)
    return f"{crc:08x}"


async def async_io_bound(wait_s: float = 0.05, *, round_trips: int = 1) -> float:
    """The ``asyncio`` version of :func:`~concurrency_lab.io_bound`: ``await`` instead of block.

    Sleeps ``wait_s`` with ``asyncio.sleep``, then makes ``round_trips`` TCP round
    trips over a loopback connection (127.0.0.1) that it opens and closes. While it
    waits, the event loop runs other tasks. Returns the seconds it took.

    >>> asyncio.run(async_io_bound(0.0)) >= 0.0
    True

    Raises:
        ValueError: ``wait_s`` is negative or ``round_trips`` < 0.
    """
    if isinstance(wait_s, bool) or not isinstance(wait_s, (int, float)) or wait_s < 0:
        raise ValueError(f"'wait_s' must be a number of seconds >= 0 (got {wait_s!r}).")
    if isinstance(round_trips, bool) or not isinstance(round_trips, int) or round_trips < 0:
        raise ValueError(f"'round_trips' must be a whole number >= 0 (got {round_trips!r}).")
    start = time.perf_counter()
    await asyncio.sleep(wait_s)
    if round_trips:

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                for _ in range(round_trips):
                    writer.write(await reader.readexactly(4))
                    await writer.drain()
            finally:
                writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        try:
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            try:
                for _ in range(round_trips):
                    writer.write(b"ping")
                    await writer.drain()
                    await asyncio.wait_for(reader.readexactly(4), 5)
            finally:
                writer.close()
                await writer.wait_closed()
        finally:
            server.close()
            await server.wait_closed()
    return time.perf_counter() - start


def mixed_task(units: int, wait_s: float) -> float:
    """Half-and-half work: ``cpu_bound(units)``, then wait ``wait_s`` like :func:`io_bound`.

    Module-level, so process pools can run it. Returns the seconds it took.

    >>> mixed_task(1, 0.0) > 0
    True
    """
    start = time.perf_counter()
    cpu_bound(units)
    io_bound(wait_s)
    return time.perf_counter() - start
