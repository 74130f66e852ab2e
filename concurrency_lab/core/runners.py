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
  explicit context; the global default start method is never changed. (Under forkserver
  the lab adds its modules to the program's forkserver preload list, which your own
  forkserver processes share: see :func:`~concurrency_lab.core.machine.get_context`.)
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
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import Connection
from typing import Any, cast

from .children import (
    RoutedOutput,
    ThreadSlot,
    describe_exit,
    print_labelled,
    process_main,
    stop_processes,
    task_main,
    thread_main,
    thread_task_main,
    worker_error,
)
from .errors import (
    WorkerCrashedError,
    WorkerTimeoutError,
)
from .machine import check_start_method, get_context
from .run import Run
from .tracing import Span
from .validate import check_callable, check_can_send, check_kind, check_n_workers, check_timeout

__all__ = ["Run", "run_tasks", "start_join"]


# --------------------------------------------------------------------------- machine facts


# --------------------------------------------------------------------------- argument checks


# --------------------------------------------------------------------------- the result


# --------------------------------------------------------------------------- start_join


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
    kind = check_kind(kind)
    n_workers = check_n_workers(n_workers, kind)
    timeout_s = check_timeout(timeout_s)
    check_callable(target, "target")
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise TypeError(
            f"'args' must be a tuple of arguments (got {args!r}); for one argument write "
            f"args=(value,)."
        )
    args = tuple(args)
    if kind == "thread":
        if start_method is not None:
            check_start_method(start_method)
        return _start_join_threads(target, n_workers, args, timeout_s)
    method = check_start_method(start_method)
    if method != "fork":
        check_can_send(target, "target", method)
        for a in args:
            check_can_send(a, "argument", method)
    return _start_join_processes(target, n_workers, method, args, timeout_s)


def _start_join_threads(
    target: Callable[..., Any], n_workers: int, args: tuple[Any, ...], timeout_s: float
) -> Run:
    names = tuple(f"worker-{i + 1}" for i in range(n_workers))
    slots = [ThreadSlot() for _ in names]
    with RoutedOutput() as routed:
        threads = [
            threading.Thread(
                target=thread_main, args=(slot, routed, target, args, name), name=name, daemon=True
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
            raise worker_error(name, *slot.error)
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


def _start_join_processes(
    target: Callable[..., Any],
    n_workers: int,
    method: str,
    args: tuple[Any, ...],
    timeout_s: float,
) -> Run:
    ctx: Any = get_context(method)  # typeshed's BaseContext lacks .Process and .Pipe
    names = tuple(f"worker-{i + 1}" for i in range(n_workers))
    procs: list[Any] = []
    readers: dict[Connection, int] = {}
    results: list[Any] = [None] * n_workers
    spans: list[Span] = []
    try:
        started_ns = time.perf_counter_ns()
        for i, name in enumerate(names):
            reader, writer = ctx.Pipe(duplex=False)
            p = ctx.Process(
                target=process_main, args=(target, args, name, writer), name=name, daemon=True
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
            for ready in multiprocessing.connection.wait(list(readers), timeout=remaining):
                reader = cast(Connection, ready)
                i = readers[reader]
                name, pid = names[i], procs[i].pid
                try:
                    message = reader.recv()
                except (EOFError, OSError):
                    procs[i].join(timeout=2)
                    exitcode = procs[i].exitcode
                    raise WorkerCrashedError(
                        f"{name} (pid {pid}) ended without reporting back: "
                        f"{describe_exit(exitcode)}. The lab stopped the other workers.",
                        worker=name,
                        exitcode=exitcode,
                    ) from None
                kind = message[0]
                if kind == "out":
                    print_labelled(name, message[1])
                    continue
                raw = message[-1]
                spans.extend(Span(name, pid, 0, label, s, e) for label, s, e in raw)
                del readers[reader]
                reader.close()
                if kind == "error":
                    raise worker_error(name, message[1], message[2], message[3])
                results[i] = message[1]
        for p in procs:
            p.join(timeout=max(1.0, deadline - time.monotonic()))
        elapsed_s = (time.perf_counter_ns() - started_ns) / 1e9
    finally:
        for reader in readers:
            reader.close()
        stop_processes(procs)
        for p in procs:
            if p.exitcode is not None:
                p.close()
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
    kind = check_kind(kind)
    n_workers = check_n_workers(n_workers, kind)
    timeout_s = check_timeout(timeout_s)
    check_callable(workload, "workload")
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Iterable):
        raise TypeError(
            f"'tasks' must be a list of task arguments, e.g. [100, 100, 100] (got {tasks!r})."
        )
    task_list = [_as_args(t) for t in tasks]
    if not task_list:
        raise ValueError("'tasks' is empty: give at least one task.")
    method = check_start_method(start_method) if (kind == "process" or start_method) else None
    if kind == "process":
        assert method is not None
        check_can_send(workload, "workload", method)
        for i, task_args in enumerate(task_list):
            for a in task_args:
                check_can_send(a, f"task {i}: argument", method)
    bar = (
        _progress_bar(len(task_list), "threads" if kind == "thread" else "processes")
        if progress
        else None
    )
    try:
        if kind == "thread":
            return _run_tasks_threads(workload, task_list, n_workers, timeout_s, bar)
        assert method is not None
        return _run_tasks_processes(workload, task_list, n_workers, method, timeout_s, bar)
    finally:
        if bar is not None:
            bar.close()


def _progress_bar(total: int, unit: str) -> Any:
    from .progress import progress_bar

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
                    print_labelled(worker, line)
            *inner, (_, t_start, t_end) = raw  # the last span recorded is the whole task
            spans.extend(Span(worker, ident[0], ident[1], label, s, e) for label, s, e in inner)
            spans.append(Span(worker, ident[0], ident[1], f"task {i}", t_start, t_end))
            if status == "error":
                exc_type, message, tb = payload
                raise worker_error(f"{worker} (task {i})", exc_type, message, tb)
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
    with RoutedOutput() as routed:
        ex = cf.ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="lab")
        try:
            started_ns = time.perf_counter_ns()
            futures = [
                ex.submit(thread_task_main, routed, names, lock, workload, args)
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
            who = f"worker process {pid}: {describe_exit(code)}"
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
        futures = [ex.submit(task_main, workload, args, True) for args in task_list]
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
            stop_processes(seen.values())
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
