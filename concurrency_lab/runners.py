"""Run work on threads or processes, the two classic ways, and record what happened.

* :func:`start_join` is the pattern every tutorial starts with: create N
  ``threading.Thread`` or ``multiprocessing.Process`` objects, ``start()`` them
  all, then ``join()`` them all.
* :func:`run_tasks` is the pattern real programs use: a pool of N workers
  (:mod:`concurrent.futures`) working through many tasks.

Both return a frozen :class:`Run` with the results in task order and the
:class:`~concurrency_lab.tracing.Span` of every worker, ready for
:func:`concurrency_lab.plot_timeline`. Both are safe to use in a notebook:

* ``start_method`` picks ``"fork"``, ``"spawn"`` or ``"forkserver"`` through an
  explicit context; the global default is never changed.
* A worker that raises, crashes or overruns ``timeout_s`` becomes a clear
  :class:`~concurrency_lab.errors.LabError` naming the worker, and no child
  process is left behind.
* Bad arguments are rejected before anything starts, with what to do instead.
* What workers print appears in the cell that started them, each line
  labelled with the worker's name.

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import Any

from ._workers import (
    _print_labelled,
    _process_main,
    _RoutedOutput,
    _task_main,
    _thread_main,
    _thread_task_main,
    _ThreadSlot,
)
from .errors import (
    NotebookFunctionError,
    UnpicklableError,
    WorkerCrashedError,
    WorkerError,
    WorkerTimeoutError,
)
from .tracing import Span

__all__ = [
    "KINDS",
    "START_METHODS",
    "Run",
    "available_start_methods",
    "default_start_method",
    "get_context",
    "run_tasks",
    "start_join",
    "usable_cores",
]

KINDS = ("thread", "process")
START_METHODS = ("fork", "spawn", "forkserver")
MAX_THREADS = 256

# Modules a forkserver child imports once, in the server, instead of once per child.
_FORKSERVER_PRELOAD = [
    "concurrency_lab",
    "concurrency_lab._workers",
    "concurrency_lab.runners",
    "concurrency_lab.workloads",
]


# --------------------------------------------------------------------------- machine facts


def usable_cores() -> int:
    """The number of CPU cores this process may run on (not always ``os.cpu_count()``).

    Containers, ``taskset`` and job schedulers can restrict a process to fewer
    cores than the machine has; this respects the CPU affinity mask where the
    platform has one, and a cgroup CPU quota on Linux.

    >>> 1 <= usable_cores() <= (os.cpu_count() or 1)
    True
    """
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        n = os.process_cpu_count() or 1
    elif hasattr(os, "sched_getaffinity"):
        n = len(os.sched_getaffinity(0)) or 1
    else:  # macOS, Windows on 3.10-3.12
        n = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    if quota is not None:
        n = max(1, min(n, int(quota + 0.5)))
    return n


def _cgroup_cpu_quota() -> float | None:
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            limit, period = f.read().split()[:2]
    except (OSError, ValueError):
        return None
    if limit == "max":
        return None
    try:
        return int(limit) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def available_start_methods() -> tuple[str, ...]:
    """The start methods this platform supports, e.g. ``('fork', 'spawn', 'forkserver')`` on Linux.

    >>> "spawn" in available_start_methods()
    True
    """
    return tuple(m for m in multiprocessing.get_all_start_methods() if m in START_METHODS)


def default_start_method() -> str:
    """The start method used when you pass ``start_method=None``.

    It is the one a program would get from ``multiprocessing`` by default: ``fork``
    on Linux up to Python 3.13, ``forkserver`` on Linux from 3.14, ``spawn`` on
    macOS and Windows. Asking does not fix the global default.

    >>> default_start_method() in START_METHODS
    True
    """
    return (
        multiprocessing.get_start_method(allow_none=True)
        or multiprocessing.get_all_start_methods()[0]
    )


def get_context(start_method: str | None = None) -> BaseContext:
    """A ``multiprocessing`` context for ``start_method`` (``None`` = the default).

    Raises:
        ValueError: unknown start method, or one this platform lacks.
    """
    method = _check_start_method(start_method)
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # Only takes effect when the server starts; it makes each child cheap to create.
        ctx.set_forkserver_preload(_FORKSERVER_PRELOAD)
    return ctx


# --------------------------------------------------------------------------- argument checks


def _check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise ValueError(f"'kind' must be 'thread' or 'process' (got {kind!r}).")
    return str(kind)


def _check_start_method(start_method: object) -> str:
    if start_method is None:
        return default_start_method()
    if start_method not in START_METHODS:
        raise ValueError(
            f"'start_method' must be one of 'fork', 'spawn', 'forkserver' or None for the "
            f"default (got {start_method!r})."
        )
    if start_method not in available_start_methods():
        raise ValueError(
            f"start method {start_method!r} is not available on this platform "
            f"(available: {', '.join(available_start_methods())}). Use start_method=None."
        )
    return str(start_method)


def _max_workers(kind: str) -> int:
    return MAX_THREADS if kind == "thread" else max(16, 8 * usable_cores())


def _check_n_workers(n_workers: object, kind: str) -> int:
    if isinstance(n_workers, bool) or not isinstance(n_workers, int):
        raise TypeError(
            f"'n_workers' must be a whole number (got {n_workers!r} of type "
            f"{type(n_workers).__name__})."
        )
    if n_workers < 1:
        raise ValueError(f"'n_workers' must be >= 1 (got {n_workers}).")
    limit = _max_workers(kind)
    if n_workers > limit:
        why = (
            "each thread costs memory and the lessons never need more"
            if kind == "thread"
            else f"this machine has {usable_cores()} usable cores; more processes only queue up"
        )
        raise ValueError(
            f"'n_workers' must be <= {limit} for kind={kind!r} (got {n_workers}): {why}."
        )
    return n_workers


def _check_count(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"'{name}' must be a whole number (got {value!r}).")
    if not low <= value <= high:
        raise ValueError(f"'{name}' must be between {low} and {high} (got {value}).")
    return value


def _check_timeout(timeout_s: object) -> float:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ValueError(f"'timeout_s' must be a positive number of seconds (got {timeout_s!r}).")
    return float(timeout_s)


def _check_callable(target: object, name: str) -> None:
    if not callable(target):
        raise TypeError(
            f"'{name}' must be a function to run in each worker (got {target!r} of type "
            f"{type(target).__name__}). Pass the function itself, without calling it: "
            f"{name}=cl.cpu_bound, not {name}=cl.cpu_bound(10)."
        )


def _main_module_is_importable() -> bool:
    """True when ``__main__`` is a file a spawned child can re-import (a script)."""
    main = sys.modules.get("__main__")
    return bool(getattr(main, "__file__", None)) and not hasattr(main, "get_ipython")


def _describe(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)


def _check_can_send(obj: object, what: str, start_method: str) -> None:
    """Fail early, and helpfully, if ``obj`` cannot reach a child process."""
    if (
        callable(obj)
        and getattr(obj, "__module__", None) == "__main__"
        and not _main_module_is_importable()
    ):
        name = _describe(obj)
        raise NotebookFunctionError(
            f"{what} {name!r} is defined in this notebook (module __main__), and a "
            f"{start_method!r} child process cannot see it.\n"
            f"Why: processes do not share memory. pickle sends a function by name "
            f"('{name} from __main__'); the child starts a fresh Python whose __main__ is "
            f"not your notebook, so it would die with \"AttributeError: Can't get attribute "
            f"'{name}'\".\n"
            f"Fix: put the function in a module the child can import. Run "
            f"'%load_ext concurrency_lab' once, then begin the cell that defines {name} with "
            f"'%%worker_module my_tasks': the cell is saved as my_tasks.py and imported, and "
            f"you pass my_tasks.{name}. (Or use one of the lab's functions, e.g. cl.cpu_bound.)"
        )
    try:
        pickle.dumps(obj)
    except Exception as exc:
        if callable(obj):
            fix = (
                "Fix: define the function with 'def' at the top level of a .py module (in a "
                "notebook: '%%worker_module', see lesson 01) and pass it by name."
            )
        else:
            fix = (
                "Fix: pass plain data (numbers, strings, lists, dicts, arrays) and create locks, "
                "files or connections inside the worker instead."
            )
        shown = _describe(obj) if callable(obj) else type(obj).__name__
        raise UnpicklableError(
            f"{what} {shown!r} cannot be sent to a process: pickle failed with "
            f"{type(exc).__name__}: {exc}.\n"
            f"Why: a child process gets its own copy of everything it needs, made with pickle. "
            f"Lambdas, functions defined inside other functions, locks and open files cannot "
            f"be pickled (plain pickle cannot send sockets either).\n{fix}"
        ) from None


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class Run:
    """What happened when workers ran: results in worker/task order, and every span.

    Attributes:
        kind: ``"thread"`` or ``"process"``.
        n_workers: how many workers ran.
        start_method: ``"fork"``, ``"spawn"`` or ``"forkserver"`` for processes, ``None`` for
            threads.
        elapsed_s: wall-clock seconds from the first ``start()`` to the last ``join()``.
        results: what each worker (``start_join``) or each task (``run_tasks``) returned.
        spans: every recorded :class:`~concurrency_lab.tracing.Span`, sorted by start.
        started_ns: the ``perf_counter_ns()`` reading when the run began (the timeline's zero).
        workers: the worker names, e.g. ``("worker-1", "worker-2")``.
    """

    kind: str
    n_workers: int
    start_method: str | None
    elapsed_s: float
    results: tuple[Any, ...]
    spans: tuple[Span, ...]
    started_ns: int = 0
    workers: tuple[str, ...] = field(default=())

    @property
    def first_start_s(self) -> float:
        """Seconds from the run's start until the first worker began its work."""
        if not self.spans:
            return 0.0
        return (min(s.start_ns for s in self.spans) - self.started_ns) / 1e9

    def __repr__(self) -> str:
        method = f", start_method={self.start_method!r}" if self.start_method else ""
        shown = ", ".join(repr(r) for r in self.results[:4])
        more = ", ..." if len(self.results) > 4 else ""
        return (
            f"Run(kind={self.kind!r}, n_workers={self.n_workers}{method}, "
            f"elapsed_s={self.elapsed_s:.4f}, results=({shown}{more}), {len(self.spans)} spans)"
        )


# --------------------------------------------------------------------------- start_join


def _worker_error(worker: str, exc_type: str, message: str, tb: str) -> WorkerError:
    text = f"{worker} raised {exc_type}: {message}"
    if tb:
        text += f"\n\n--- traceback inside {worker} ---\n{tb.rstrip()}"
    return WorkerError(text, worker=worker, exc_type=exc_type, remote_traceback=tb)


def _describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "it was still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"it was killed by {name} (exit code {exitcode})"
    return f"it exited with code {exitcode} without reporting a result (e.g. os._exit)"


def start_join(
    target: Callable[..., Any],
    n_workers: int = 2,
    *,
    kind: str = "thread",
    start_method: str | None = None,
    args: Sequence[Any] = (),
    timeout_s: float = 60.0,
) -> Run:
    """Start ``n_workers`` threads or processes running ``target(*args)``, then join them all.

    This is the classic pattern::

        workers = [Thread(target=f) for _ in range(n)]   # or Process(...)
        for w in workers: w.start()                       # all begin
        for w in workers: w.join()                        # wait for each to end

    with a timeline recorded, output labelled, and errors made readable.

    >>> from concurrency_lab import sleep_then_return
    >>> run = start_join(sleep_then_return, 2, args=("hi", 0.01))
    >>> run.results
    ('hi', 'hi')
    >>> run.workers
    ('worker-1', 'worker-2')

    Args:
        target: a function; for processes under ``spawn``/``forkserver`` it must
            live in an importable module (see
            :class:`~concurrency_lab.errors.NotebookFunctionError`).
        n_workers: how many threads or processes to start.
        kind: ``"thread"`` or ``"process"``.
        start_method: for processes, ``"fork"``, ``"spawn"``, ``"forkserver"`` or
            ``None`` for the platform default. Ignored for threads.
        args: the positional arguments every worker gets.
        timeout_s: how long to wait for all workers together.

    Returns:
        A :class:`Run` whose ``results`` are in worker order.

    Raises:
        ValueError, TypeError: bad arguments (nothing was started).
        NotebookFunctionError, UnpicklableError: ``target`` or ``args`` cannot reach a child.
        WorkerError: a worker raised; the message names it and shows its traceback.
        WorkerCrashedError: a worker process died without reporting (signal, ``os._exit``).
        WorkerTimeoutError: workers still ran after ``timeout_s``; processes are terminated,
            threads (which cannot be killed) are left to finish in the background.
    """
    kind = _check_kind(kind)
    n_workers = _check_n_workers(n_workers, kind)
    timeout_s = _check_timeout(timeout_s)
    _check_callable(target, "target")
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise TypeError(
            f"'args' must be a tuple of arguments (got {args!r}); for one argument write "
            f"args=(value,)."
        )
    args = tuple(args)
    if kind == "thread":
        if start_method is not None:
            _check_start_method(start_method)
        return _start_join_threads(target, n_workers, args, timeout_s)
    method = _check_start_method(start_method)
    if method != "fork":
        _check_can_send(target, "target", method)
        for a in args:
            _check_can_send(a, "argument", method)
    return _start_join_processes(target, n_workers, method, args, timeout_s)


def _start_join_threads(
    target: Callable[..., Any], n_workers: int, args: tuple[Any, ...], timeout_s: float
) -> Run:
    names = tuple(f"worker-{i + 1}" for i in range(n_workers))
    slots = [_ThreadSlot() for _ in names]
    with _RoutedOutput() as routed:
        threads = [
            threading.Thread(
                target=_thread_main, args=(slot, routed, target, args, name), name=name, daemon=True
            )
            for slot, name in zip(slots, names)
        ]
        started_ns = time.perf_counter_ns()
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout_s
        for t in threads:
            while t.is_alive() and time.monotonic() < deadline:
                t.join(timeout=min(0.05, max(0.0, deadline - time.monotonic())))
                routed.drain()
        elapsed_s = (time.perf_counter_ns() - started_ns) / 1e9
    late = tuple(name for t, name in zip(threads, names) if t.is_alive())
    if late:
        raise WorkerTimeoutError(
            f"{', '.join(late)} still running after timeout_s={timeout_s:g} s. Threads cannot be "
            f"stopped from outside, so they go on in the background until their function "
            f"returns. Give them less work, or a larger timeout_s.",
            workers=late,
            timeout_s=timeout_s,
        )
    for slot, name in zip(slots, names):
        if slot.error is not None:
            raise _worker_error(name, *slot.error)
    spans = sorted((s for slot in slots for s in slot.spans), key=lambda s: s.start_ns)
    return Run(
        kind="thread",
        n_workers=n_workers,
        start_method=None,
        elapsed_s=elapsed_s,
        results=tuple(slot.result for slot in slots),
        spans=tuple(spans),
        started_ns=started_ns,
        workers=names,
    )


def _stop_processes(procs: Iterable[Any], grace_s: float = 1.0) -> None:
    """Terminate, then kill, then join every process that is still alive."""
    procs = list(procs)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join(timeout=5)


def _start_join_processes(
    target: Callable[..., Any],
    n_workers: int,
    method: str,
    args: tuple[Any, ...],
    timeout_s: float,
) -> Run:
    ctx = get_context(method)
    names = tuple(f"worker-{i + 1}" for i in range(n_workers))
    procs: list[Any] = []
    readers: dict[Any, int] = {}
    results: list[Any] = [None] * n_workers
    spans: list[Span] = []
    try:
        started_ns = time.perf_counter_ns()
        for i, name in enumerate(names):
            reader, writer = ctx.Pipe(duplex=False)
            p = ctx.Process(
                target=_process_main, args=(target, args, name, writer), name=name, daemon=True
            )
            p.start()
            writer.close()  # the child holds the only write end: EOF now means "it is gone"
            procs.append(p)
            readers[reader] = i
        deadline = time.monotonic() + timeout_s
        while readers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                late = tuple(names[i] for i in sorted(readers.values()))
                raise WorkerTimeoutError(
                    f"{', '.join(late)} still running after timeout_s={timeout_s:g} s; the lab "
                    f"terminated all {n_workers} worker processes. Give them less work, or a "
                    f"larger timeout_s.",
                    workers=late,
                    timeout_s=timeout_s,
                )
            for reader in multiprocessing.connection.wait(list(readers), timeout=remaining):
                i = readers[reader]  # type: ignore[index]
                name, pid = names[i], procs[i].pid
                try:
                    message = reader.recv()  # type: ignore[union-attr]
                except (EOFError, OSError):
                    procs[i].join(timeout=2)
                    exitcode = procs[i].exitcode
                    raise WorkerCrashedError(
                        f"{name} (pid {pid}) ended without reporting back: "
                        f"{_describe_exit(exitcode)}. The lab stopped the other workers.",
                        worker=name,
                        exitcode=exitcode,
                    ) from None
                kind = message[0]
                if kind == "out":
                    _print_labelled(name, message[1])
                    continue
                raw = message[-1]
                spans.extend(Span(name, pid, 0, label, s, e) for label, s, e in raw)
                del readers[reader]  # type: ignore[arg-type]
                reader.close()  # type: ignore[union-attr]
                if kind == "error":
                    raise _worker_error(name, message[1], message[2], message[3])
                results[i] = message[1]
        for p in procs:
            p.join(timeout=max(1.0, deadline - time.monotonic()))
        elapsed_s = (time.perf_counter_ns() - started_ns) / 1e9
    finally:
        for reader in readers:
            reader.close()  # type: ignore[union-attr]
        _stop_processes(procs)
        for p in procs:
            p.close() if p.exitcode is not None else None
    spans.sort(key=lambda s: s.start_ns)
    return Run(
        kind="process",
        n_workers=n_workers,
        start_method=method,
        elapsed_s=elapsed_s,
        results=tuple(results),
        spans=tuple(spans),
        started_ns=started_ns,
        workers=names,
    )


# --------------------------------------------------------------------------- run_tasks


def _as_args(task: Any) -> tuple[Any, ...]:
    return task if isinstance(task, tuple) else (task,)


def run_tasks(
    workload: Callable[..., Any],
    tasks: Iterable[Any],
    *,
    kind: str = "thread",
    n_workers: int = 2,
    start_method: str | None = None,
    timeout_s: float = 60.0,
    progress: bool = False,
) -> Run:
    """Run ``workload`` once per task on a pool of ``n_workers`` threads or processes.

    Each task is the argument for one call: ``workload(task)``, or
    ``workload(*task)`` when the task is a tuple. Uses
    :class:`concurrent.futures.ThreadPoolExecutor` or
    :class:`~concurrent.futures.ProcessPoolExecutor`.

    >>> from concurrency_lab import cpu_bound
    >>> run = run_tasks(cpu_bound, [1, 2, 3], n_workers=2)
    >>> run.results == (cpu_bound(1), cpu_bound(2), cpu_bound(3))
    True

    Args:
        workload: the function each task calls (module-level for processes).
        tasks: the tasks' arguments.
        kind: ``"thread"`` or ``"process"``.
        n_workers: pool size.
        start_method: for processes: ``"fork"``, ``"spawn"``, ``"forkserver"`` or ``None``.
        timeout_s: how long to wait for all tasks together.
        progress: show a tqdm progress bar (needs ``tqdm``).

    Returns:
        A :class:`Run`; ``results`` are in task order, one span per task.

    Raises:
        ValueError, TypeError: bad arguments (nothing was started).
        NotebookFunctionError, UnpicklableError: the workload or a task cannot reach a process.
        WorkerError: a task raised (the message names the task and worker).
        WorkerCrashedError: a worker process died; the pool is shut down.
        WorkerTimeoutError: tasks were unfinished after ``timeout_s``; pending tasks are
            cancelled and worker processes terminated.
    """
    kind = _check_kind(kind)
    n_workers = _check_n_workers(n_workers, kind)
    timeout_s = _check_timeout(timeout_s)
    _check_callable(workload, "workload")
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Iterable):
        raise TypeError(
            f"'tasks' must be a list of task arguments, e.g. [100, 100, 100] (got {tasks!r})."
        )
    task_list = [_as_args(t) for t in tasks]
    if not task_list:
        raise ValueError("'tasks' is empty: give at least one task.")
    method = _check_start_method(start_method) if (kind == "process" or start_method) else None
    if kind == "process":
        assert method is not None
        _check_can_send(workload, "workload", method)
        for i, task_args in enumerate(task_list):
            for a in task_args:
                _check_can_send(a, f"task {i}: argument", method)
    bar = _progress_bar(len(task_list), f"{kind}s") if progress else None
    try:
        if kind == "thread":
            return _run_tasks_threads(workload, task_list, n_workers, timeout_s, bar)
        assert method is not None
        return _run_tasks_processes(workload, task_list, n_workers, method, timeout_s, bar)
    finally:
        if bar is not None:
            bar.close()


def _progress_bar(total: int, unit: str) -> Any:
    from ._progress import progress_bar

    return progress_bar(total, f"tasks ({unit})")


def _collect(
    futures: list[cf.Future[Any]],
    timeout_s: float,
    bar: Any,
    poll: Callable[[], None],
    on_timeout: Callable[[list[int]], Exception],
    on_broken: Callable[[list[int]], Exception],
    worker_of: Callable[[tuple[int, int]], str],
    echo_output: bool,
) -> tuple[list[Any], list[Span]]:
    results: list[Any] = [None] * len(futures)
    spans: list[Span] = []
    index = {f: i for i, f in enumerate(futures)}
    pending = set(futures)
    deadline = time.monotonic() + timeout_s
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise on_timeout(sorted(index[f] for f in pending))
        done, pending = cf.wait(
            pending, timeout=min(0.05, remaining), return_when=cf.FIRST_COMPLETED
        )
        poll()
        for f in sorted(done, key=index.__getitem__):
            i = index[f]
            try:
                status, payload, raw, ident, output = f.result()
            except cf.process.BrokenProcessPool:
                raise on_broken(
                    sorted(index[g] for g in pending | {f} if not g.done() or g is f)
                ) from None
            worker = worker_of(ident)
            if echo_output:
                for line in output.splitlines():
                    _print_labelled(worker, line)
            *inner, (_, t_start, t_end) = raw  # the last span recorded is the whole task
            spans.extend(Span(worker, ident[0], ident[1], label, s, e) for label, s, e in inner)
            spans.append(Span(worker, ident[0], ident[1], f"task {i}", t_start, t_end))
            if status == "error":
                exc_type, message, tb = payload
                raise _worker_error(f"{worker} (task {i})", exc_type, message, tb)
            results[i] = payload
            if bar is not None:
                bar.update(1)
    spans.sort(key=lambda s: s.start_ns)
    return results, spans


def _run_tasks_threads(
    workload: Callable[..., Any],
    task_list: list[tuple[Any, ...]],
    n_workers: int,
    timeout_s: float,
    bar: Any,
) -> Run:
    names: dict[int, str] = {}
    lock = threading.Lock()
    with _RoutedOutput() as routed:
        ex = cf.ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="lab")
        try:
            started_ns = time.perf_counter_ns()
            futures = [
                ex.submit(_thread_task_main, routed, names, lock, workload, args)
                for args in task_list
            ]

            def on_timeout(left: list[int]) -> Exception:
                return WorkerTimeoutError(
                    f"{len(left)} of {len(task_list)} tasks unfinished after timeout_s="
                    f"{timeout_s:g} s (first unfinished: task {left[0]}). Queued tasks were "
                    f"cancelled; threads already running cannot be stopped and finish in the "
                    f"background.",
                    workers=tuple(f"task {i}" for i in left),
                    timeout_s=timeout_s,
                )

            results, spans = _collect(
                futures,
                timeout_s,
                bar,
                routed.drain,
                on_timeout,
                on_timeout,  # a thread pool cannot break
                lambda ident: names.get(ident[1], "worker-?"),
                echo_output=False,
            )
            elapsed_s = (time.perf_counter_ns() - started_ns) / 1e9
        finally:
            ex.shutdown(wait=False, cancel_futures=True)
    return Run(
        kind="thread",
        n_workers=n_workers,
        start_method=None,
        elapsed_s=elapsed_s,
        results=tuple(results),
        spans=tuple(spans),
        started_ns=started_ns,
        workers=tuple(sorted(names.values(), key=lambda n: int(n.split("-")[1]))),
    )


def _run_tasks_processes(
    workload: Callable[..., Any],
    task_list: list[tuple[Any, ...]],
    n_workers: int,
    method: str,
    timeout_s: float,
    bar: Any,
) -> Run:
    ctx = get_context(method)
    ex = cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx)
    # Processes the pool started, remembered so none can outlive a failure or a timeout.
    # (``_processes`` is private, but it is the only handle on a broken pool's children.)
    seen: dict[int, Any] = {}
    names: dict[int, str] = {}

    def poll() -> None:
        seen.update(getattr(ex, "_processes", None) or {})

    def worker_of(ident: tuple[int, int]) -> str:
        return names.setdefault(ident[0], f"worker-{len(names) + 1}")

    def on_timeout(left: list[int]) -> Exception:
        return WorkerTimeoutError(
            f"{len(left)} of {len(task_list)} tasks unfinished after timeout_s={timeout_s:g} s "
            f"(first unfinished: task {left[0]}); the lab terminated the pool's processes. Give "
            f"the tasks less work, or a larger timeout_s.",
            workers=tuple(f"task {i}" for i in left),
            timeout_s=timeout_s,
        )

    def on_broken(left: list[int]) -> Exception:
        poll()
        dead = [(pid, p.exitcode) for pid, p in seen.items() if p.exitcode not in (None, 0)]
        if dead:
            pid, code = dead[0]
            who = f"worker process {pid}: {_describe_exit(code)}"
        else:
            who = "a worker process died"
        tasks = ", ".join(str(i) for i in left[:5]) + (" ..." if len(left) > 5 else "")
        return WorkerCrashedError(
            f"The process pool broke while running task(s) {tasks}: {who}. A pool cannot "
            f"recover from a dead worker, so the lab shut it down.",
            worker=f"task {left[0]}" if left else "?",
            exitcode=dead[0][1] if dead else None,
        )

    ok = False
    try:
        started_ns = time.perf_counter_ns()
        futures = [ex.submit(_task_main, workload, args, True) for args in task_list]
        poll()
        results, spans = _collect(
            futures, timeout_s, bar, poll, on_timeout, on_broken, worker_of, echo_output=True
        )
        elapsed_s = (time.perf_counter_ns() - started_ns) / 1e9
        ok = True
    finally:
        poll()
        if ok:
            ex.shutdown(wait=True)
        else:
            ex.shutdown(wait=False, cancel_futures=True)
            _stop_processes(seen.values())
    return Run(
        kind="process",
        n_workers=n_workers,
        start_method=method,
        elapsed_s=elapsed_s,
        results=tuple(results),
        spans=tuple(spans),
        started_ns=started_ns,
        workers=tuple(sorted(set(names.values()), key=lambda n: int(n.split("-")[1]))),
    )
