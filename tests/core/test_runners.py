"""start_join and run_tasks: results, spans, output, every start method, every failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

import concurrency_lab as cl
from concurrency_lab.core import children as _workers
from concurrency_lab.core import workloads as wl
from concurrency_lab.core.machine import KINDS

METHODS = cl.available_start_methods()


def _local_function(x):  # module-level in a test module: importable, but not the lab's
    return x


# --------------------------------------------------------------------------- happy paths


def test_threads_start_join_results_in_worker_order():
    run = cl.start_join(cl.sleep_then_return, 3, args=("x", 0.01))
    assert run.kind == "thread"
    assert run.start_method is None
    assert run.results == ("x", "x", "x")
    assert run.workers == ("worker-1", "worker-2", "worker-3")
    assert {s.worker for s in run.spans} == set(run.workers)
    assert all(s.pid == os.getpid() for s in run.spans)
    assert run.elapsed_s > 0


@pytest.mark.parametrize("method", METHODS)
def test_processes_start_join_every_start_method(method):
    run = cl.start_join(cl.cpu_bound, 2, kind="process", start_method=method, args=(2,))
    assert run.start_method == method
    assert run.results == (cl.cpu_bound(2),) * 2
    pids = {s.pid for s in run.spans}
    assert len(pids) == 2 and os.getpid() not in pids
    assert all(s.start_ns >= run.started_ns for s in run.spans)


def test_default_start_method_is_the_platform_default_and_not_fixed():
    assert cl.default_start_method() == (
        __import__("multiprocessing").get_start_method(allow_none=True)
        or __import__("multiprocessing").get_all_start_methods()[0]
    )
    run = cl.start_join(cl.noop, 1, kind="process")
    assert run.start_method == cl.default_start_method()


@pytest.mark.parametrize("kind", KINDS)
def test_run_tasks_results_in_task_order(kind):
    tasks = [3, 1, 2, 0]
    run = cl.run_tasks(cl.cpu_bound, tasks, kind=kind, n_workers=2)
    assert run.results == tuple(cl.cpu_bound(t) for t in tasks)
    outer = [s for s in run.spans if s.label.startswith("task ")]
    assert sorted(s.label for s in outer) == [f"task {i}" for i in range(4)]
    assert 1 <= len(run.workers) <= 2


@pytest.mark.parametrize("method", METHODS)
def test_run_tasks_processes_every_start_method_with_tuple_tasks(method):
    run = cl.run_tasks(
        cl.sleep_then_return, [("a", 0.0), ("b", 0.0)], kind="process", start_method=method
    )
    assert run.results == ("a", "b")
    assert run.start_method == method


def test_spans_recorded_inside_workers_are_gathered(capsys):
    run = cl.start_join(_traced_worker, 2, kind="thread")
    labels = sorted(s.label for s in run.spans)
    assert labels == ["_traced_worker", "_traced_worker", "inner", "inner"]
    for w in run.workers:
        inner = next(s for s in run.spans if s.worker == w and s.label == "inner")
        outer = next(s for s in run.spans if s.worker == w and s.label == "_traced_worker")
        assert outer.start_ns <= inner.start_ns <= inner.end_ns <= outer.end_ns


@pytest.mark.parametrize("method", METHODS)
def test_spans_from_child_processes_are_gathered(method):
    run = cl.start_join(_traced_worker, 2, kind="process", start_method=method)
    assert sorted(s.label for s in run.spans).count("inner") == 2


def _traced_worker():
    with cl.span("inner"):
        sum(range(1000))
    return "done"


# --------------------------------------------------------------------------- output


def _chatty(tag):
    print(f"hello from {tag}")
    print("second line", file=sys.stderr)
    return tag


def test_thread_output_is_labelled_and_printed_by_the_caller(capsys):
    cl.start_join(_chatty, 2, args=("t",))
    out = capsys.readouterr().out.splitlines()
    assert sorted(out) == sorted(
        [
            "[worker-1] hello from t",
            "[worker-1] second line",
            "[worker-2] hello from t",
            "[worker-2] second line",
        ]
    )
    assert sys.stdout is not None and not isinstance(sys.stdout, _workers._ThreadRouter)


@pytest.mark.parametrize("method", METHODS)
def test_process_output_reaches_the_parent_labelled(method, capsys):
    cl.start_join(_chatty, 2, kind="process", start_method=method, args=("p",))
    out = capsys.readouterr().out.splitlines()
    assert "[worker-1] hello from p" in out
    assert "[worker-2] second line" in out


@pytest.mark.parametrize("kind", KINDS)
def test_run_tasks_output_is_labelled(kind, capsys):
    cl.run_tasks(_chatty, ["a", "b"], kind=kind, n_workers=1)
    out = capsys.readouterr().out.splitlines()
    assert "[worker-1] hello from a" in out and "[worker-1] hello from b" in out


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_workers": 0}, ValueError, "'n_workers' must be >= 1 (got 0)."),
        (
            {"n_workers": 2.5},
            TypeError,
            "'n_workers' must be a whole number (got 2.5 of type float).",
        ),
        (
            {"n_workers": 10_000},
            ValueError,
            "'n_workers' must be <= 256 for kind='thread' (got 10000)",
        ),
        ({"kind": "fiber"}, ValueError, "'kind' must be 'thread' or 'process' (got 'fiber')."),
        ({"kind": "process", "start_method": "clone"}, ValueError, "'start_method' must be one of"),
        ({"timeout_s": 0}, ValueError, "'timeout_s' must be a positive number of seconds (got 0)."),
        ({"args": 5}, TypeError, "'args' must be a tuple of arguments (got 5)"),
    ],
)
def test_bad_arguments_are_rejected_before_anything_starts(kwargs, error, message):
    before = threading.active_count()
    with pytest.raises(error) as info:
        cl.start_join(cl.noop, **{"n_workers": 1, **kwargs})
    assert str(info.value).startswith(message)
    assert threading.active_count() == before


def test_too_many_processes_explains_the_core_count():
    limit = max(16, 8 * cl.usable_cores())
    with pytest.raises(ValueError, match=rf"<= {limit} for kind='process'.*usable cores"):
        cl.start_join(cl.noop, limit + 1, kind="process")


def test_target_must_be_callable_and_not_called():
    with pytest.raises(TypeError, match=r"Pass the function itself, without calling it"):
        cl.start_join(cl.cpu_bound(1), 1)


def test_run_tasks_rejects_empty_and_non_list_tasks():
    with pytest.raises(ValueError, match="'tasks' is empty"):
        cl.run_tasks(cl.noop, [])
    with pytest.raises(TypeError, match="'tasks' must be a list of task arguments"):
        cl.run_tasks(cl.cpu_bound, 5)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "fork"])
def test_lambda_is_unpicklable_with_a_fix(method):
    with pytest.raises(cl.UnpicklableError) as info:
        cl.start_join(lambda: 1, 1, kind="process", start_method=method)
    text = str(info.value)
    assert "cannot be sent to a process: pickle failed" in text
    assert "Fix: define the function with 'def' at the top level of a .py module" in text


def test_unpicklable_argument_is_named():
    with pytest.raises(
        cl.UnpicklableError,
        match=r"(?s)task 0: argument 'lock' cannot be sent.*create locks, files",
    ):
        cl.run_tasks(_local_function, [threading.Lock()], kind="process", start_method="spawn")


NOTEBOOK_SIM = textwrap.dedent(
    """
    # __main__ has no __file__ under `python -c`: just like a notebook kernel.
    import concurrency_lab as cl

    def square(x):
        return x * x

    try:
        cl.run_tasks(square, [1, 2], kind="process", start_method={method!r})
    except cl.NotebookFunctionError as exc:
        print("CAUGHT", type(exc).__name__)
        print(exc)
    # The same call under fork works: the child is a copy that already has square.
    if "fork" in cl.available_start_methods():
        run = cl.start_join(square, 1, kind="process", start_method="fork", args=(7,))
        print("FORK", run.results)
        run = cl.run_tasks(square, [2, 3], kind="process", start_method="fork")
        print("FORK POOL", run.results)
    """
)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "fork"])
def test_notebook_function_under_spawn_is_caught_up_front_with_the_fix(method):
    proc = subprocess.run(
        [sys.executable, "-c", NOTEBOOK_SIM.format(method=method)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "CAUGHT NotebookFunctionError" in proc.stdout
    assert "'square' is defined in this notebook" in proc.stdout
    assert "%%worker_module my_tasks" in proc.stdout
    assert "Can't get attribute" in proc.stdout  # names the error the child would die with
    if "fork" in METHODS:
        assert "FORK (49,)" in proc.stdout
        assert "FORK POOL (4, 9)" in proc.stdout  # a pool forked after the definition has it


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("kind", KINDS)
def test_worker_exception_names_worker_and_keeps_traceback(kind):
    with pytest.raises(cl.WorkerError) as info:
        cl.start_join(wl.raise_error, 2, kind=kind, args=("bad input",))
    err = info.value
    assert str(err).startswith("worker-1 raised RuntimeError: bad input")
    assert err.exc_type == "RuntimeError"
    assert "raise RuntimeError(message)" in err.remote_traceback


@pytest.mark.parametrize("method", METHODS)
def test_exit_abruptly_is_reported_as_crash(method):
    with pytest.raises(cl.WorkerCrashedError) as info:
        cl.start_join(wl.exit_abruptly, 2, kind="process", start_method=method, args=(7,))
    assert "ended without reporting back: it exited with code 7" in str(info.value)
    assert info.value.exitcode == 7


@pytest.mark.parametrize("method", METHODS)
def test_signal_kill_is_reported_with_signal_name(method):
    with pytest.raises(cl.WorkerCrashedError, match=r"killed by SIGKILL \(exit code -9\)"):
        cl.start_join(wl.die_by_signal, 1, kind="process", start_method=method)


@pytest.mark.parametrize("method", METHODS)
def test_process_timeout_terminates_all_workers_quickly(method):
    import time

    t0 = time.monotonic()
    with pytest.raises(cl.WorkerTimeoutError) as info:
        cl.start_join(
            cl.sleep_then_return, 2, kind="process", start_method=method, args=(1, 30), timeout_s=1
        )
    assert time.monotonic() - t0 < 10
    assert info.value.workers == ("worker-1", "worker-2")
    assert "the lab terminated all 2 worker processes" in str(info.value)


def test_thread_timeout_explains_threads_cannot_be_killed():
    with pytest.raises(cl.WorkerTimeoutError, match="Threads cannot be stopped from outside"):
        cl.start_join(cl.sleep_then_return, 1, args=(1, 1.0), timeout_s=0.2)
    # the thread finishes by itself within the fixture's grace period


@pytest.mark.parametrize("kind", KINDS)
def test_run_tasks_exception_names_task(kind):
    with pytest.raises(cl.WorkerError, match=r"\(task 1\) raised RuntimeError: boom"):
        cl.run_tasks(_boom_second, [0, 1], kind=kind)


def _boom_second(i):
    if i == 1:
        raise RuntimeError("boom")
    return i


@pytest.mark.parametrize("method", METHODS)
def test_run_tasks_broken_pool_is_reported_and_cleaned(method):
    with pytest.raises(cl.WorkerCrashedError, match=r"The process pool broke while running task"):
        cl.run_tasks(wl.exit_abruptly, [3, 3], kind="process", start_method=method)


@pytest.mark.parametrize("method", METHODS)
def test_run_tasks_timeout_terminates_pool(method):
    with pytest.raises(cl.WorkerTimeoutError, match=r"terminated the pool's processes"):
        cl.run_tasks(
            cl.sleep_then_return,
            [(1, 30), (2, 30), (3, 30)],
            kind="process",
            start_method=method,
            timeout_s=1,
        )


def test_unpicklable_result_is_explained():
    with pytest.raises(cl.WorkerError, match=r"cannot be sent back to the parent"):
        cl.start_join(threading.Lock, 1, kind="process", start_method="fork")


def _waiting_for_workers(ident: int) -> bool:
    """Is that thread blocked in start_join's wait for its workers (not starting or cleaning up)?"""
    frame = sys._current_frames().get(ident)
    names = []
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    lab = [n for n in names if n in ("_start_join_processes", "stop_processes")]
    return "wait" in names and lab[:1] == ["_start_join_processes"]


def test_keyboard_interrupt_leaves_no_child():
    """An interrupted cell (KeyboardInterrupt in the waiting parent) still cleans up.

    Ctrl-C is pressed while the parent waits for its workers, and pressed again every 0.5 s if
    the call is still waiting (as a learner would): in one full run on Python 3.10 the first
    press at a fixed 0.5 s did not interrupt the wait.
    """
    done = threading.Event()
    main = threading.main_thread().ident
    assert main is not None

    def press_ctrl_c() -> None:
        while not done.wait(0.5):
            if _waiting_for_workers(main):
                signal.pthread_kill(main, signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            cl.start_join(cl.sleep_then_return, 2, kind="process", args=(0, 30), timeout_s=20)
    finally:
        done.set()
        presser.join()


def test_usable_cores_respects_affinity():
    if hasattr(os, "sched_getaffinity"):
        assert cl.usable_cores() <= len(os.sched_getaffinity(0))
    assert cl.usable_cores() >= 1


def test_run_repr_is_short():
    run = cl.run_tasks(cl.noop, [()] * 6)
    text = repr(run)
    assert text.startswith("Run(kind='thread', n_workers=2, elapsed_s=")
    assert "..." in text and "spans)" in text


# --------------------------------------------------------------------------- fixed defects


def test_thread_tasks_may_return_what_pickle_cannot_send():
    run = cl.run_tasks(threading.Lock, [(), ()], kind="thread")  # threads share memory
    assert all(hasattr(r, "acquire") for r in run.results)
    with pytest.raises(cl.WorkerError, match="cannot be sent back to the parent"):
        cl.run_tasks(threading.Lock, [()], kind="process", start_method=METHODS[0])


def test_recorder_clear_keeps_recording():
    from concurrency_lab.core import tracing

    rec = tracing.Recorder("w")
    tracing.activate(rec)
    try:
        with cl.span("before"):
            pass
        rec.clear()
        assert rec.spans() == []
        with cl.span("after"):
            pass
        assert [s.label for s in rec.spans()] == ["after"]
    finally:
        tracing.activate(None)


def test_die_by_signal_uses_a_number_where_signal_has_no_sigkill(monkeypatch):
    killed = []
    monkeypatch.delattr(signal, "SIGKILL", raising=False)
    monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append(sig))
    monkeypatch.setattr(wl.time, "sleep", lambda s: None)
    wl.die_by_signal()
    assert killed == [9]  # Windows: TerminateProcess with exit code 9
