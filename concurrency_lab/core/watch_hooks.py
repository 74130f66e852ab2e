"""The watcher's hooks: what ``Thread.start``, ``Process.start``, pools and executors note.

Installed by :class:`concurrency_lab.core.watch.Watch` for the ``with`` block only and
restored on the way out. They write :class:`Notes` (a thread's name, native id, first and
last moment, its CPU total from ``time.thread_time()``; a process's name and pid) and, under
``spawn``/``forkserver``, stop a notebook-defined function before anything starts, with the
runners' own explanation (:func:`concurrency_lab.core.validate.check_can_send`).

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Hooks",
    "Notes",
    "ProcessNote",
    "ThreadNote",
    "active_in_this_process",
    "claim",
    "release",
]


# --------------------------------------------------------------------------- notes


@dataclass
class ThreadNote:
    """What the ``Thread.start`` hook learned about one thread (mutable while it runs)."""

    name: str
    called_ns: int
    helper: bool = False
    tid: int | None = None
    begin_ns: int | None = None
    end_ns: int | None = None
    cpu_ns: int | None = None


@dataclass
class ProcessNote:
    """What the ``Process.start`` hook learned about one process."""

    name: str
    called_ns: int
    parent: str
    pid: int | None = None


@dataclass
class Notes:
    """Everything one watch noted in the watched process."""

    threads: list[ThreadNote] = field(default_factory=list)
    processes: list[ProcessNote] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    entered_tid: int = 0
    entered_name: str = "MainThread"
    process_name: str = "MainProcess"
    mode: str = "none"
    problem: str = ""
    t0_ns: int = 0
    t1_ns: int = 0
    cpu_enter_ns: int = 0
    cpu_exit_ns: int = 0
    machine_enter: tuple[float, float, int] | None = None  # core.load.machine_ticks()
    machine_exit: tuple[float, float, int] | None = None


# --------------------------------------------------------------------------- which watch is on

_active: Hooks | None = None
_active_lock = threading.Lock()


def active_in_this_process() -> bool:
    """True while a watch is running in this process."""
    return _active is not None and _active.pid == os.getpid()


def claim(hooks: Hooks) -> bool:
    """Make ``hooks`` the active watch; False if another watch runs in this process."""
    global _active
    with _active_lock:
        if active_in_this_process():
            return False
        _active = hooks
        return True


def release(hooks: Hooks) -> None:
    """Restore what ``hooks`` patched and end its turn as the active watch."""
    global _active
    try:
        hooks.restore()
    finally:
        with _active_lock:
            if _active is hooks:
                _active = None


# --------------------------------------------------------------------------- the hooks

_HELPER_TARGETS = frozenset(
    {
        "Pool._handle_workers",
        "Pool._handle_tasks",
        "Pool._handle_results",
        "Queue._feed",
        "_ResourceSharer._serve",
    }
)


def _is_helper_thread(thread: threading.Thread) -> bool:
    """True for the threads the standard library starts for its own bookkeeping."""
    if type(thread).__name__ == "_ExecutorManagerThread":
        return True
    target = getattr(thread, "_target", None)  # threading keeps the target here
    return (
        getattr(target, "__module__", "").startswith("multiprocessing")
        and getattr(target, "__qualname__", "") in _HELPER_TARGETS
    )


def _functions_in(obj: object) -> Iterator[Any]:
    """The functions and classes that pickle would send *by name* inside ``obj``."""
    if isinstance(obj, functools.partial):
        yield from _functions_in(obj.func)
        for arg in (*obj.args, *obj.keywords.values()):
            yield from _functions_in(arg)
    elif isinstance(obj, (types.FunctionType, types.MethodType, type)):
        yield obj


def _check_sendable(obj: object, what: str, start_method: str) -> None:
    """The runners' own check, so plain code gets the same explanation as ``start_join``."""
    try:
        from .validate import check_can_send
    except ImportError:  # pragma: no cover - before the lead's move of the runners' check
        from .runners import check_can_send  # type: ignore[attr-defined]
    for fn in _functions_in(obj):
        check_can_send(fn, what, start_method)


def _start_method_of_process(process: Any) -> str:
    method = getattr(type(process), "_start_method", None)
    return method or multiprocessing.get_start_method()


def _context_method(ctx: Any) -> str:
    getter = getattr(ctx, "get_start_method", None)
    return getter() if callable(getter) else multiprocessing.get_start_method()


class Hooks:
    """The live state of one watch: its notes and the patches it installed."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.notes = Notes()
        self.saved: list[tuple[type, str, Any]] = []

    def mine(self) -> bool:
        """True in the watched process while this watch is the active one.

        A forked child inherits the patched classes: it must not record into our copy.
        """
        return _active is self and os.getpid() == self.pid

    def patch(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        self.saved.append((owner, name, original))
        setattr(owner, name, functools.wraps(original)(make(original)))

    def restore(self) -> None:
        while self.saved:
            owner, name, original = self.saved.pop()
            setattr(owner, name, original)

    # ---- the hooks
    def install(self) -> None:
        import concurrent.futures.process as cf_process
        import multiprocessing.pool as mp_pool
        import multiprocessing.process as mp_process

        self.patch(threading.Thread, "start", self._thread_start)
        self.patch(mp_process.BaseProcess, "start", self._process_start)
        for name in (
            "apply",
            "apply_async",
            "map",
            "map_async",
            "starmap",
            "starmap_async",
            "imap",
            "imap_unordered",
        ):
            self.patch(mp_pool.Pool, name, self._pool_method)
        for name in ("__init__", "submit", "map"):
            self.patch(cf_process.ProcessPoolExecutor, name, self._executor_method(name))

    def _thread_start(self, original: Callable[..., Any]) -> Callable[..., Any]:
        state = self

        def start(thread: threading.Thread) -> Any:
            if not state.mine():
                return original(thread)
            note = ThreadNote(
                name=thread.name,
                called_ns=time.perf_counter_ns(),
                helper=_is_helper_thread(thread),
            )
            # Wrap the thread's outermost function (not run()): our frame stays out of the
            # tracebacks a failing thread prints.
            where = "_bootstrap" if hasattr(thread, "_bootstrap") else "run"
            inner = getattr(thread, where)

            def noted() -> None:
                note.begin_ns = time.perf_counter_ns()
                note.tid = threading.get_native_id()
                try:
                    inner()
                finally:
                    note.cpu_ns = time.thread_time_ns()
                    note.end_ns = time.perf_counter_ns()

            setattr(thread, where, noted)
            state.notes.threads.append(note)
            try:
                return original(thread)
            finally:
                thread.__dict__.pop(where, None)

        return start

    def _process_start(self, original: Callable[..., Any]) -> Callable[..., Any]:
        state = self

        def start(process: Any) -> Any:
            if not state.mine():
                return original(process)
            method = _start_method_of_process(process)
            if method != "fork":
                cls = type(process)
                if cls.__module__ == "__main__":
                    _check_sendable(cls, "process class", method)
                target = getattr(process, "_target", None)
                if target is not None:
                    _check_sendable(target, "target", method)
                for arg in (*process._args, *process._kwargs.values()):
                    if isinstance(arg, (types.FunctionType, functools.partial, type)):
                        _check_sendable(arg, "argument", method)
            note = ProcessNote(
                name=process.name,
                called_ns=time.perf_counter_ns(),
                parent=multiprocessing.current_process().name,
            )
            original(process)
            note.pid = process.pid
            state.notes.processes.append(note)

        return start

    def _pool_method(self, original: Callable[..., Any]) -> Callable[..., Any]:
        state = self

        def method(pool: Any, *args: Any, **kwargs: Any) -> Any:
            from multiprocessing.pool import ThreadPool

            if state.mine() and not isinstance(pool, ThreadPool):
                start_method = _context_method(getattr(pool, "_ctx", None))
                func = args[0] if args else kwargs.get("func")
                if start_method != "fork":
                    _check_sendable(func, "function", start_method)
            return original(pool, *args, **kwargs)

        return method

    def _executor_method(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        state = self

        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def method(executor: Any, *args: Any, **kwargs: Any) -> Any:
                if state.mine():
                    if name == "__init__":
                        ctx = kwargs.get("mp_context", args[1] if len(args) > 1 else None)
                        fn = kwargs.get("initializer", args[2] if len(args) > 2 else None)
                        what = "initializer"
                    else:
                        ctx = getattr(executor, "_mp_context", None)
                        fn = args[0] if args else kwargs.get("fn")
                        what = "function"
                    start_method = _context_method(ctx)
                    if fn is not None and start_method != "fork":
                        _check_sendable(fn, what, start_method)
                return original(executor, *args, **kwargs)

            return method

        return make
