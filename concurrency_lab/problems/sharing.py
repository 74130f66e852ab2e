"""What a child process gets from its parent, and what it cannot: copies, locks, pickles.

* ``fork`` copies the parent's memory (copy-on-write) but only the thread that called
  ``fork()``: a lock another thread held is copied *held*, with nobody left to release it.
* Globals are never shared: each process changes its own copy.
* Everything a worker process receives is pickled; locks, open files and lambdas cannot
  be. A ``multiprocessing.Lock`` may reach a process only when the process is created: as a
  ``Process(args=...)`` argument or through a pool's ``initializer``.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import warnings
import zlib
from dataclasses import dataclass
from typing import Any

from ..core.children import stop_processes
from ..core.errors import LabError
from ..core.machine import (
    available_start_methods,
    check_start_method,
    get_context,
    start_method_label,
)
from ..core.results import Result
from ..core.runners import start_join
from ..core.validate import check_number, check_timeout, check_whole
from .vocabulary import StartMethodName, check_fixed

__all__ = [
    "ForkLockResult",
    "GlobalCounterResult",
    "PickleCheckResult",
    "checksum",
    "count_lines",
    "fork_with_held_lock",
    "global_counter",
    "log_line",
    "make_and_checksum",
    "pickle_check",
    "remember_lock",
]


# --------------------------------------------------------------------------- fork with a held lock

# The application's own lock: logging re-creates its locks after fork (os.register_at_fork),
# a lock of yours gets no such care.
_APP_LOCK = threading.Lock()


def try_lock_then_exit(timeout_s: float) -> None:
    """In a child: take the module's lock within ``timeout_s``; exit 0 if it could, else 3."""
    got = _APP_LOCK.acquire(timeout=timeout_s)
    if got:
        _APP_LOCK.release()
    sys.exit(0 if got else 3)


@dataclass(frozen=True)
class ForkLockResult(Result):
    """A child started while another thread of the parent held a lock.

    Attributes:
        start_method: how the child started.
        available: the start method exists here (``fork`` does not on Windows).
        warning: the ``DeprecationWarning`` Python 3.12+ gave at ``fork()``, or ``None``.
        child_acquired: the child could take the lock within its timeout.
        child_exitcode: 0 = it took the lock, 3 = it gave up.
        child_timeout_s: how long the child tried.
    """

    start_method: str
    available: bool
    warning: str | None
    child_acquired: bool
    child_exitcode: int | None
    child_timeout_s: float

    def summary(self) -> str:
        label = start_method_label(self.start_method)
        if not self.available:
            return (
                f"This system has no {self.start_method!r} start method, so a child never "
                f"starts as a copy of a running program: this trap cannot happen here."
            )
        if self.child_acquired:
            return (
                f"Under {label} the child built its own, free lock and took it at once "
                f"(exit code {self.child_exitcode})."
            )
        text = (
            f"Under {label} the child got a copy of the lock in its held state. The parent's "
            f"thread let go right after the fork, but no thread in the child will ever release "
            f"the copy: it gave up after {self.child_timeout_s:g} s (exit code "
            f"{self.child_exitcode}); a plain acquire() would wait forever."
        )
        if self.warning:
            return text + f" Python warned at fork(): {self.warning}"
        return text + " (Python 3.12 and later also warn at fork() in a multi-threaded process.)"


def fork_with_held_lock(
    *,
    start_method: StartMethodName = "fork",
    child_timeout_s: float = 1.0,
    timeout_s: float = 30.0,
) -> ForkLockResult:
    """Start a child while a background thread holds a lock; can the child take the lock?

    ``fork()`` copies the memory, including the lock *in its held state*, but only the
    thread that called ``fork()``: in the child no thread will ever release the lock. Here
    the parent's thread lets go right after the child starts, and the child tries for
    ``child_timeout_s`` and reports. Under ``spawn`` or ``forkserver``
    the child imports the module afresh and gets its own, free lock.

    Introduced in ``08-common-problems.ipynb``.
    """
    child_timeout_s = check_number(
        child_timeout_s, "child_timeout_s", low=0, high=60, unit=" seconds", low_open=True
    )
    timeout_s = check_timeout(timeout_s)
    if start_method == "fork" and "fork" not in available_start_methods():
        return ForkLockResult("fork", False, None, False, None, child_timeout_s)
    ctx = get_context(check_start_method(start_method))
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with _APP_LOCK:
            held.set()
            release.wait(timeout_s)

    thread = threading.Thread(target=holder, name="lock-holder", daemon=True)
    thread.start()
    p = None
    try:
        if not held.wait(timeout_s):
            raise LabError("the lock-holding thread did not start; run it again")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DeprecationWarning)
            p = ctx.Process(  # type: ignore[attr-defined]
                target=try_lock_then_exit, args=(child_timeout_s,), daemon=True
            )
            p.start()
        release.set()  # the parent's thread lets go at once: the child's copy stays held
        p.join(child_timeout_s + timeout_s)
    finally:
        release.set()
        thread.join(timeout_s)
        if p is not None and p.pid is not None:
            stop_processes([p])
    said = [str(w.message) for w in caught if "fork()" in str(w.message)]
    return ForkLockResult(
        start_method=str(start_method),
        available=True,
        warning=said[0] if said else None,
        child_acquired=p.exitcode == 0,
        child_exitcode=p.exitcode,
        child_timeout_s=child_timeout_s,
    )


# --------------------------------------------------------------------------- globals

_COUNTER = 0


def add_one_to_global() -> int:
    """Add 1 to this module's counter in *this* process; return the new value."""
    global _COUNTER
    _COUNTER += 1
    return _COUNTER


def one() -> int:
    """Return 1 (the fix: send the result back instead of changing a global)."""
    return 1


@dataclass(frozen=True)
class GlobalCounterResult(Result):
    """Workers each added 1 to a counter; what did each side see?

    Attributes:
        start_method: how the workers started.
        fixed: ``False`` = workers change a module global; ``True`` = they return 1 and the
            parent adds the results.
        parent_before: the counter in the parent before the workers started.
        seen_by_workers: the value each worker had after its own +1 (the fix: what it sent).
        parent_after: the counter in the parent afterwards.
    """

    start_method: str
    fixed: bool
    parent_before: int
    seen_by_workers: tuple[int, ...]
    parent_after: int

    def summary(self) -> str:
        n = len(self.seen_by_workers)
        if self.fixed:
            return (
                f"Each of the {n} workers returned {list(self.seen_by_workers)} and the parent "
                f"added the results: {self.parent_before} became {self.parent_after}."
            )
        seen = set(self.seen_by_workers)
        if self.parent_before != 0 and seen == {self.parent_before + 1}:
            how = "started from a copy of the parent's memory and"
        elif seen == {1}:
            how = "imported the module afresh (counter 0) and"
        else:
            how = "had its own counter and"
        changed = "is still" if self.parent_after == self.parent_before else "became"
        return (
            f"The parent set the counter to {self.parent_before}. Under {self.start_method} "
            f"each worker {how} saw {list(self.seen_by_workers)} after its +1. The parent's "
            f"counter {changed} {self.parent_after}: each worker changed only its own copy."
        )


def global_counter(
    *,
    fixed: bool = False,
    start_method: StartMethodName | None = None,
    n_workers: int = 2,
    start: int = 100,
) -> GlobalCounterResult:
    """The parent sets a module global to ``start``; ``n_workers`` processes each add 1.

    Under ``fork`` each child starts with a copy of the parent's memory (so from ``start``),
    under ``spawn``/``forkserver`` it imports the module afresh (so from 0); either way it
    changes its own copy and the parent's value stays. The fix: each worker returns its part
    (here 1) and the parent adds them up.

    Introduced in ``08-common-problems.ipynb``.
    """
    global _COUNTER
    fixed = check_fixed(fixed)
    method = check_start_method(start_method)
    n_workers = check_whole(n_workers, "n_workers", low=1, high=8)
    start = check_whole(start, "start")
    _COUNTER = start
    try:
        run = start_join(
            one if fixed else add_one_to_global, n_workers, kind="process", start_method=method
        )
        if fixed:
            _COUNTER += sum(run.results)
        after = _COUNTER
    finally:
        _COUNTER = 0
    return GlobalCounterResult(method, fixed, start, tuple(run.results), after)


# --------------------------------------------------------------------------- pickling


@dataclass(frozen=True)
class PickleCheckResult(Result):
    """Can an object travel to another process, and how big is it on the way?

    Attributes:
        what: a short description of the object.
        ok: pickle succeeded.
        size_bytes: the pickled size (``None`` if it failed).
        error: why it failed.
    """

    what: str
    ok: bool
    size_bytes: int | None
    error: str | None

    def summary(self) -> str:
        if self.ok:
            return f"{self.what}: can travel ({self.size_bytes:,} bytes pickled)."
        return f"{self.what}: cannot travel ({self.error})."


def pickle_check(obj: object) -> PickleCheckResult:
    """Try to pickle ``obj`` as a process pool would; report its size or the error.

    >>> pickle_check([1, 2, 3]).ok
    True
    >>> pickle_check(threading.Lock()).error
    "TypeError: cannot pickle '_thread.lock' object"

    Introduced in ``08-common-problems.ipynb``.
    """
    what = type(obj).__name__
    name = getattr(obj, "__qualname__", None)
    if name:
        what += f" {name}"
    try:
        size = len(pickle.dumps(obj))
    except Exception as exc:
        return PickleCheckResult(what, False, None, f"{type(exc).__name__}: {exc}")
    return PickleCheckResult(what, True, size, None)


def count_lines(path: str) -> int:
    """Count the lines of the text file at ``path``: send the *path* to a process, not the file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return sum(1 for _ in f)


def checksum(data: bytes) -> int:
    """CRC-32 of ``data`` (proof that the worker saw every byte).

    >>> checksum(b"abc")
    891568578
    """
    return zlib.crc32(data)


def make_and_checksum(n_bytes: int) -> int:
    """Make ``n_bytes`` zero bytes *in this process* and return their CRC-32."""
    return zlib.crc32(bytes(n_bytes))


# --------------------------------------------------------------------------- a lock for workers

# Set in each worker process by remember_lock (a pool initializer).
_worker_lock: Any = None


def remember_lock(lock: Any) -> None:
    """Pool initializer: keep ``lock`` in this worker process for :func:`log_line`.

    A pool calls ``initializer(*initargs)`` once in each worker as it starts, which is the
    moment a ``multiprocessing.Lock`` may travel (it is handed down at process creation).
    """
    global _worker_lock
    _worker_lock = lock


def log_line(path: str, text: str, lock: Any = None) -> int:
    """Append ``text`` and this process's id as one line to ``path``, holding a lock.

    The lock is ``lock`` if given, else the one :func:`remember_lock` kept in this worker.
    Returns this process's id.

    Raises:
        LabError: this worker has no lock, or it waited 30 s for it.
    """
    lock = lock if lock is not None else _worker_lock
    if lock is None:
        raise LabError(
            f"worker process {os.getpid()} has no lock: the pool's workers must each "
            f"receive the shared lock when they start."
        )
    if not lock.acquire(timeout=30):
        raise LabError(f"worker process {os.getpid()} waited 30 s for the lock")
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{text}\t{os.getpid()}\n")
    finally:
        lock.release()
    return os.getpid()
