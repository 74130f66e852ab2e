"""cl.watch(): what plain code started, when, and how much CPU it used.

Structural facts (which lanes, names, kinds, parents, hooks restored, nothing left behind) are
asserted strictly. Timing facts are asserted loosely and against the kernel's own accounting
(``RUSAGE_CHILDREN``, ``time.thread_time``) or a bare control measured right beside the watched
run, never against a hard-coded speed. Shape-of-timing goals live in benchmarks/bench_watch.py.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import psutil
import pytest

from concurrency_lab.core import watch as watch_module
from concurrency_lab.core.machine import available_start_methods, gil_enabled
from concurrency_lab.core.watch import WatchError, watch
from concurrency_lab.core.watch_result import parallel_share
from concurrency_lab.core.workloads import calibrate, cpu_bound

METHODS = available_start_methods()
LINUX = sys.platform.startswith("linux")
needs_proc = pytest.mark.skipif(
    not LINUX or watch_module._sampling_mode() != "proc", reason="needs Linux /proc sampling"
)

# --------------------------------------------------------------------------- workers
# Module-level, so spawn and forkserver children can import them.

_UNITS: dict[float, int] = {}


def units_for(seconds: float) -> int:
    if seconds not in _UNITS:
        _UNITS[seconds] = calibrate(cpu_bound, seconds)
    return _UNITS[seconds]


def start_a_child(units: int, method: str) -> None:
    child = multiprocessing.get_context(method).Process(target=cpu_bound, args=(units,))
    child.start()
    child.join(60)


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_two_processes(units: int, method: str = "fork") -> float:
    ctx = multiprocessing.get_context(method)
    procs = [ctx.Process(target=cpu_bound, args=(units,)) for _ in range(2)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- threads


@needs_proc
def test_two_cpu_bound_threads_share_about_one_core_and_take_turns():
    units = units_for(0.25)
    with watch() as w:
        threads = [
            threading.Thread(target=cpu_bound, args=(units,), name=f"worker-{i}") for i in (1, 2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    names = [x.name for x in w.workers]
    assert names == ["worker-1", "worker-2"]
    assert all(x.kind == "thread" and x.role == "started" for x in w.workers)
    assert [x.tid for x in w.workers] == [t.native_id for t in threads]
    assert all(x.pid == os.getpid() and x.parent == "MainProcess" for x in w.workers)
    assert all(x.end_s is not None and 0 <= x.start_s < x.end_s <= w.wall_s for x in w.workers)
    assert w.resolution == "samples"
    assert w.sample_interval_s is not None and w.sample_interval_s <= 0.002
    for x in w.workers:
        # The sampler's series (kernel counter, read from outside) agrees with the thread's own
        # time.thread_time() total, to within a sample or two.
        assert x.cpu_s is not None and x.cpu_s > 0.05
        assert abs(x.cpu_seen_s[-1] - x.cpu_s) <= 0.01 + 0.05 * x.cpu_s
    if gil_enabled():
        assert w.cpu_s <= 1.3 * w.wall_s, w.summary()
        share = parallel_share(w.result)
        assert share is not None and share < 0.35, w.summary()
    assert w.summary().startswith("2 threads used ")


@needs_proc
def test_a_sleeping_thread_uses_almost_no_cpu():
    with watch() as w:
        t = threading.Thread(target=time.sleep, args=(0.3,), name="sleeper")
        t.start()
        t.join(10)
    (sleeper,) = w.workers
    assert sleeper.name == "sleeper"
    assert sleeper.end_s is not None and sleeper.end_s - sleeper.start_s >= 0.29
    assert sleeper.cpu_s is not None and sleeper.cpu_s < 0.02
    assert max(sleeper.on_cpu([0.0, w.wall_s])) < 0.1


def test_main_thread_appears_only_when_it_does_the_work():
    with watch() as idle:
        time.sleep(0.1)
    assert idle.workers == ()
    # e.g. pytest's faulthandler thread: earlier; a forkserver or resource tracker that an
    # earlier test started: helper (they live as long as this process)
    roles = sorted(x.role for x in idle.hidden)
    assert roles.count("main") == 1 and set(roles) <= {"main", "earlier", "helper"}
    with watch() as busy:
        cpu_bound(units_for(0.1))
    (main,) = [x for x in (*busy.workers, *busy.hidden) if x.role == "main"]
    assert main.name == "MainThread" and main.cpu_s > 0.02
    # The rule, whatever the machine's load: 20 ms of CPU, or half the watched time.
    expected = main.cpu_s >= watch_module.MAIN_MIN_S or main.cpu_s >= 0.5 * busy.wall_s
    assert not [x for x in busy.workers if x.role == "started"]
    assert (main in busy.workers) == expected
    with watch(show_all=True) as everything:
        time.sleep(0.05)
    assert "main" in [x.role for x in everything.workers]


@needs_proc
def test_a_thread_that_outlives_the_watch_is_still_running():
    stop = threading.Event()
    t = None
    try:
        with watch() as w:
            t = threading.Thread(target=stop.wait, args=(10,), name="lingers")
            t.start()
            time.sleep(0.02)
    finally:
        stop.set()
        if t is not None:
            t.join(10)
    (x,) = w.workers
    assert x.name == "lingers" and x.end_s is None
    assert "still running at the end" in x.summary()


def test_thread_pool_workers_are_named_and_a_failing_thread_traceback_has_no_watcher_frame(
    monkeypatch,
):
    printed: list[str] = []

    def excepthook(args: threading.ExceptHookArgs) -> None:
        printed.extend(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )

    monkeypatch.setattr(threading, "excepthook", excepthook)
    with watch() as w:
        with ThreadPoolExecutor(2, thread_name_prefix="pool") as ex:
            list(ex.map(time.sleep, [0.02, 0.02]))
        t = threading.Thread(target=cpu_bound, args=(-1,), name="bad")
        t.start()
        t.join(10)
    names = {x.name for x in w.workers}
    assert {"pool_0", "bad"} <= names
    err = "".join(printed)
    assert "ValueError" in err and "cpu_bound" in err
    assert "watch.py" not in err  # our hook wraps the thread's outermost frame only


# --------------------------------------------------------------------------- processes


@needs_proc
@pytest.mark.parametrize("method", METHODS)
def test_processes_are_named_and_timed_under_every_start_method(method):
    units = units_for(0.1)
    before = children_cpu_s()
    with watch() as w:
        ctx = multiprocessing.get_context(method)
        procs = [ctx.Process(target=cpu_bound, args=(units,), name=f"proc-{i}") for i in (1, 2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
    spent = children_cpu_s() - before  # every child we waited for: the two and the sampler
    lanes = [x for x in w.workers if x.kind == "process"]
    assert [x.name for x in lanes] == ["proc-1", "proc-2"]
    assert [x.pid for x in lanes] == [p.pid for p in procs]
    assert all(x.parent == "MainProcess" and x.tid is None for x in lanes)
    assert all(x.end_s is not None and x.start_s < x.end_s for x in lanes)
    # The forkserver and resource tracker are infrastructure: never lanes.
    assert all(x.role == "helper" for x in w.hidden if "forkserver" in x.name)
    assert not any("resource tracker" in x.name or "forkserver" in x.name for x in w.workers)
    # CPU read from outside agrees with the kernel's own accounting of the children we waited
    # for (forkserver children are the forkserver's: RUSAGE_CHILDREN cannot see them).
    if method != "forkserver":
        measured = sum(x.cpu_s for x in lanes) + (w.sampler_cpu_s or 0.0)
        assert abs(measured - spent) <= 0.02 + 0.1 * spent, (measured, spent)


@needs_proc
def test_two_processes_use_about_as_many_cores_as_a_bare_control():
    """On 2+ free cores two CPU-bound processes keep ~2 busy; the watched run must match a bare
    run measured right before and after it (the machine may be shared: the control says how
    many cores were really free)."""
    if os.cpu_count() < 2:
        pytest.skip("needs 2 cores")
    units = units_for(0.3)
    for _attempt in range(3):
        c0 = children_cpu_s()
        wall_before = run_two_processes(units)
        cpu_before = children_cpu_s() - c0
        with watch() as w:
            run_two_processes(units)
        c1 = children_cpu_s()
        wall_after = run_two_processes(units)
        cpu_after = children_cpu_s() - c1
        control = min(cpu_before / wall_before, cpu_after / wall_after)
        watched = sum(x.cpu_s for x in w.workers if x.kind == "process") / w.wall_s
        if watched >= 0.75 * control:
            break
    assert watched >= 0.75 * control, (watched, control, w.summary())
    if control >= 1.6:  # the machine really had two free cores: say so strongly
        assert watched >= 1.3, (watched, control, w.summary())


@needs_proc
@pytest.mark.parametrize("method", METHODS)
def test_grandchildren_are_found_and_labelled(method):
    units = units_for(0.05)
    with watch() as w:
        p = multiprocessing.get_context(method).Process(
            target=start_a_child, args=(units, method), name="parent-proc"
        )
        p.start()
        p.join(60)
    procs = {x.name: x for x in w.workers if x.kind == "process"}
    assert "parent-proc" in procs
    grandchildren = [x for x in procs.values() if x.name != "parent-proc"]
    assert len(grandchildren) == 1, list(procs)
    (g,) = grandchildren
    assert g.name.startswith(f"pid {g.pid} (child of ")
    # Under forkserver the grandchild is a child of a forkserver, not of its logical parent.
    assert g.parent == "parent-proc" or "forkserver" in g.parent
    assert g.cpu_s is not None and g.cpu_s > 0.01


@needs_proc
def test_pool_workers_are_lanes_and_its_helper_threads_are_hidden():
    with watch() as w:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(cpu_bound, [units_for(0.05)] * 4)
    workers = [x.name for x in w.workers if x.kind == "process"]
    assert len(workers) == 2 and all(re.fullmatch(r"ForkPoolWorker-\d+", n) for n in workers)
    helpers = [x for x in w.hidden if x.role == "helper" and x.kind == "thread"]
    assert len(helpers) >= 3  # the Pool's task, result and worker handler threads


@needs_proc
def test_a_plain_subprocess_is_a_lane_named_after_its_program():
    with watch() as w:
        subprocess.run(["sleep", "0.05"], check=True, timeout=10)
    (x,) = w.workers
    assert x.kind == "process" and x.name.startswith("sleep, pid ")
    assert x.name.endswith("(child of MainProcess)")


def test_process_pool_executor_workers_are_lanes():
    with watch() as w:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
            assert list(ex.map(cpu_bound, [1, 1])) == [cpu_bound(1)] * 2
    assert sum(1 for x in w.workers if x.kind == "process") == 2


# --------------------------------------------------------------------------- safety


def test_an_exception_inside_the_block_stops_the_watch_and_restores_the_hooks():
    original = threading.Thread.start, multiprocessing.process.BaseProcess.start
    with pytest.raises(ZeroDivisionError):
        with watch() as w:
            t = threading.Thread(target=time.sleep, args=(0.01,), name="before-error")
            t.start()
            t.join(10)
            1 / 0  # noqa: B018
    assert (threading.Thread.start, multiprocessing.process.BaseProcess.start) == original
    assert w.raised == "ZeroDivisionError: division by zero"
    assert [x.name for x in w.workers] == ["before-error"]
    assert "The block stopped with ZeroDivisionError" in w.summary()
    with watch():  # a new watch can start: nothing is left marked active
        pass


def test_keyboard_interrupt_is_re_raised_after_cleaning_up():
    original = threading.Thread.start
    with pytest.raises(KeyboardInterrupt):
        with watch() as w:
            raise KeyboardInterrupt
    assert threading.Thread.start is original
    assert w.raised == "KeyboardInterrupt"


def test_one_watch_at_a_time_and_results_only_after_the_block():
    with watch() as w:
        with pytest.raises(WatchError, match="already watching in this process"):
            with watch():
                pass
        with pytest.raises(WatchError, match=r"read w\.workers, w\.summary"):
            w.workers  # noqa: B018
    assert isinstance(w.workers, tuple)
    assert repr(w).startswith("<Watch: ")
    with pytest.raises(WatchError, match="already been used"):
        with w:
            pass


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"interval_s": "1ms"}, TypeError, "'interval_s' must be a number of seconds"),
        ({"interval_s": True}, TypeError, "'interval_s' must be a number of seconds"),
        ({"interval_s": 0.5}, ValueError, r"between 0.0005 and 0.1 seconds \(got 0.5\)"),
        ({"show_all": "yes"}, TypeError, "'show_all' must be True or False"),
    ],
)
def test_bad_options_are_explained(kwargs, error, message):
    with pytest.raises(error, match=message):
        watch(**kwargs)


@pytest.mark.skipif(os.name != "posix", reason="kills with SIGKILL")
def test_the_sampler_exits_when_the_watched_process_dies():
    script = textwrap.dedent(
        """
        import time
        from concurrency_lab.core.watch import watch
        with watch() as w:
            print(w._sampler.proc.pid, flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        sampler = int(proc.stdout.readline())
        assert psutil.pid_exists(sampler)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if psutil.Process(sampler).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    else:
        psutil.Process(sampler).kill()
        pytest.fail("the sampler outlived its parent by 5 s")


def test_the_windows_ways_of_waiting_on_a_pipe_work_too():
    """Windows has no select() for pipes: both ends then wait with a reader thread."""
    from concurrency_lab.core.watch_sampler import _StopSignal

    code = "import time; print('ready 1', flush=True); time.sleep(0.2)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert watch_module._read_line(proc, 10, use_select=False) == b"ready 1\n"
    finally:
        proc.wait(10)
        proc.stdout.close()
    read_end, write_end = os.pipe()
    try:
        stop = _StopSignal(read_end, use_thread=True)
        assert stop.wait(0.01) is False
        os.write(write_end, b"stop\n")
        assert stop.wait(5) is True
    finally:
        os.close(write_end)
        os.close(read_end)


@needs_proc
def test_without_children_files_the_sampler_scans_proc_for_children():
    """Kernels built without CONFIG_PROC_CHILDREN: children are found by their parent id."""
    from concurrency_lab.core.watch_sampler import ProcReader

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        reader = ProcReader(os.getpid(), exclude=-1, interval_s=0.001)
        reader.use_children_files = False
        reader.discover(existed=True)
        assert child.pid in reader.procs
        assert reader.procs[child.pid]["parent"] == os.getpid()
        reader.close()
    finally:
        child.kill()
        child.wait(10)


# --------------------------------------------------------------------------- notebook functions

NOTEBOOK_SIM = textwrap.dedent(
    """
    # __main__ has no __file__ under `python -c`: just like a notebook kernel.
    import multiprocessing, concurrent.futures
    from concurrency_lab.core.errors import NotebookFunctionError
    from concurrency_lab.core.watch import watch

    def square(x):
        return x * x

    ctx = multiprocessing.get_context({method!r})
    attempts = {{
        "Process": lambda: ctx.Process(target=square, args=(3,)).start(),
        "submit": lambda: concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx)
            .submit(square, 3),
        "executor map": lambda: list(concurrent.futures.ProcessPoolExecutor(
            1, mp_context=ctx).map(square, [3])),
        "Pool.map": lambda: ctx.Pool(1).map(square, [3]),
    }}
    for name, attempt in attempts.items():
        try:
            with watch() as w:
                attempt()
        except NotebookFunctionError as exc:
            started = multiprocessing.active_children()
            print("CAUGHT", name, "started:", len(started))
            print(exc)
        for child in multiprocessing.active_children():
            child.terminate()
            child.join(5)
    """
)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "fork"])
def test_notebook_functions_get_the_runners_explanation_before_anything_starts(method):
    proc = subprocess.run(
        [sys.executable, "-c", NOTEBOOK_SIM.format(method=method)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # Process: nothing started. Pool: its worker processes start in Pool(), before map().
    for name in ("Process", "submit", "executor map"):
        assert f"CAUGHT {name} started: 0" in out, out
    assert "CAUGHT Pool.map" in out
    assert "'square' is defined in this notebook" in out
    assert "%%worker_module my_tasks" in out  # the runners' one-step fix, same text


def test_fork_children_need_no_check():
    script = textwrap.dedent(
        """
        import multiprocessing
        from concurrency_lab.core.watch import watch
        def square(x):
            return x * x
        with watch() as w:
            with multiprocessing.get_context("fork").Pool(1) as pool:
                print("RESULT", pool.map(square, [7]))
        """
    )
    if "fork" not in METHODS:
        pytest.skip("no fork here")
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert "RESULT [49]" in proc.stdout, proc.stderr


# --------------------------------------------------------------------------- other platforms


def test_totals_only_where_no_per_thread_sampling(monkeypatch):
    """macOS/Windows path, simulated: psutil gives process totals; threads time themselves."""
    monkeypatch.setattr(watch_module, "_sampling_mode", lambda: "psutil")
    units = units_for(0.05)
    with watch() as w:
        t = threading.Thread(target=cpu_bound, args=(units,), name="t")
        t.start()
        t.join(30)
        p = multiprocessing.get_context("spawn").Process(target=cpu_bound, args=(units,), name="p")
        p.start()
        p.join(60)
    assert w.resolution == "totals" and w.sample_interval_s is None
    by_name = {x.name: x for x in w.workers}
    assert by_name["t"].cpu_s > 0.02 and by_name["t"].sample_s == ()
    assert by_name["p"].cpu_s is not None and by_name["p"].cpu_s > 0.02
    assert w.cores_busy()[1] == []
    assert "CPU totals only" in w.summary()


def test_without_psutil_processes_cpu_is_unknown_and_said_so(monkeypatch):
    monkeypatch.setattr(watch_module, "_sampling_mode", lambda: "none")
    with watch() as w:
        p = multiprocessing.get_context("spawn").Process(target=cpu_bound, args=(1,), name="p")
        p.start()
        p.join(60)
    (x,) = w.workers
    assert x.name == "p" and x.cpu_s is None
    assert "install psutil" in w.summary()


def test_a_sampler_that_does_not_start_degrades_to_totals(monkeypatch):
    monkeypatch.setattr(watch_module, "_READY_TIMEOUT_S", 0.0)
    with watch() as w:
        pass
    assert w.resolution == "totals"
    assert "did not start within" in w.note
