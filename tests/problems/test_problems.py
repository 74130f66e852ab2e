"""The problems clinic (08): each broken version fails the way the notebook says; each fix works.

Platforms we do not have (Windows, macOS) are simulated by patching what the demos ask
about them (``sys.platform``, the affinity call, the start methods), and the sentences they
then print are pinned.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

import concurrency_lab as cl
from concurrency_lab.core.results import Result
from concurrency_lab.problems import cores, failures, process_tree, sharing
from concurrency_lab.problems.all_problems import CLINIC

METHODS = cl.available_start_methods()
FRESH = [m for m in METHODS if m != "fork"]  # start methods whose child imports afresh
BOOTSTRAP = (
    "RuntimeError: An attempt has been made to start a new process before the current "
    "process has finished its bootstrapping phase."
)


def _python_c(code: str, timeout_s: float = 60) -> str:
    """Run ``python -c``: its ``__main__`` has no file, like a notebook's."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=True,
    )
    return out.stdout


# --------------------------------------------------------------------------- the switch


def test_fixed_must_be_a_bool():
    with pytest.raises(TypeError, match=r"'fixed' must be True \(run the fix\) or False"):
        cl.problems.thread_exception(fixed="yes")


# --------------------------------------------------------------------------- notebook functions


@pytest.mark.parametrize("method", FRESH)
def test_a_main_function_breaks_a_plain_pool_and_a_module_function_works(method):
    out = _python_c(
        f"""
        import concurrent.futures as cf, multiprocessing as mp
        import concurrency_lab as cl
        def square(x):
            return x * x
        with cf.ProcessPoolExecutor(1, mp_context=mp.get_context({method!r})) as pool:
            try:
                pool.submit(square, 3).result(timeout=60)
            except cf.process.BrokenProcessPool:
                print("broken")
        with cf.ProcessPoolExecutor(1, mp_context=mp.get_context({method!r})) as pool:
            print(pool.submit(cl.problems.crash_on_zero, 3).result(timeout=60))
        try:
            cl.run_tasks(square, [3], kind="process", start_method={method!r})
        except cl.NotebookFunctionError as exc:
            print("lab:", "%%worker_module" in str(exc))
        """
    )
    assert out.splitlines() == ["broken", "9", "lab: True"]


# --------------------------------------------------------------------------- the __main__ guard


@pytest.mark.parametrize("method", FRESH)
def test_script_without_main_guard_shows_the_bootstrapping_error(method):
    run = cl.problems.main_guard_script(start_method=method)
    assert run.bootstrapping_error and not run.timed_out
    assert run.error == BOOTSTRAP  # the key line, not only the freeze_support() tail
    assert BOOTSTRAP in run.summary() and f"the {method} child" in run.summary()
    assert run.stdout == "parent: child exit code 1\n"


@pytest.mark.parametrize("method", METHODS)
def test_script_with_main_guard_works(method):
    run = cl.problems.main_guard_script(fixed=True, start_method=method)
    assert run.stdout == "child: working\nparent: child exit code 0\n"
    assert not run.bootstrapping_error and run.returncode == 0 and run.error == ""
    assert 'if __name__ == "__main__":' in run.script
    assert "skipped the guarded block" in run.summary()


@pytest.mark.skipif("fork" not in METHODS, reason="needs fork")
def test_fork_does_not_need_the_guard_and_says_where_it_still_matters():
    run = cl.problems.main_guard_script(start_method="fork")
    assert run.stdout == "child: working\nparent: child exit code 0\n"
    assert "from Python 3.14, Linux" in run.summary()


def test_run_script_stops_a_script_and_its_children_on_timeout():
    source = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    start = time.perf_counter()
    run = cl.problems.run_script(source, timeout_s=2)
    assert run.timed_out and run.returncode is None and run.stdout == "started\n"
    assert time.perf_counter() - start < 10
    assert "did not finish in time" in run.summary()
    # the no_leftovers fixture checks that the grandchild is gone too


def test_script_error_is_one_line():
    run = cl.problems.run_script("import sys\nraise KeyError('gone')\n")
    assert run.returncode == 1 and run.error == "KeyError: 'gone'"
    assert "Its stderr reported KeyError: 'gone'" in run.summary()
    with pytest.raises(TypeError, match="'source' must be the script's text"):
        cl.problems.run_script(b"print(1)")


# --------------------------------------------------------------------------- a thread's exception


def test_thread_exception_is_lost_then_reported_by_a_future():
    hook = threading.excepthook
    broken = cl.problems.thread_exception()
    assert broken.join_returned and broken.caught is None
    assert broken.hook_saw == "ZeroDivisionError: division by zero"
    assert "join() returned as if all went well" in str(broken)
    fixed = cl.problems.thread_exception(fixed=True)
    assert fixed.caught == "ZeroDivisionError: division by zero" and fixed.hook_saw is None
    assert "future.result() raised ZeroDivisionError" in str(fixed)
    assert threading.excepthook is hook  # restored


# --------------------------------------------------------------------------- a dead pool worker


@pytest.mark.parametrize("method", METHODS)
def test_pool_waits_for_a_dead_worker_but_an_executor_reports_it(method):
    pool = cl.problems.dead_worker(start_method=method, timeout_s=0.5)
    assert pool.api == "multiprocessing.Pool"
    assert pool.outcome == "timed out" and pool.waited_s >= 0.5
    assert "without a timeout it would wait forever" in str(pool)
    ex = cl.problems.dead_worker(fixed=True, start_method=method, timeout_s=30)
    assert ex.api == "ProcessPoolExecutor" and ex.outcome == "BrokenProcessPool"
    assert "terminated abruptly" in ex.message and ex.waited_s < 30


def test_crash_on_zero_ends_the_process_with_code_7():
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=cl.problems.crash_on_zero, args=(0,))
    p.start()
    p.join(30)
    assert p.exitcode == 7
    assert cl.problems.crash_on_zero(4) == 16


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize("method", METHODS)
def test_exit_codes(method):
    r = cl.problems.exit_codes(start_method=method)
    assert dict(r.codes) == {
        "returned normally": 0,
        "raised ValueError": 1,
        "called sys.exit(3)": 3,
        "killed by its parent with kill()": -9,
    }
    assert "-9 is SIGKILL" in str(r)


def test_exit_codes_on_windows_explain_terminate_process():
    # Windows cannot run here: the values are what multiprocessing's popen_spawn_win32 reports.
    r = failures.ExitCodesResult(
        (("returned normally", 0), ("killed by its parent with kill()", -15)), "win32"
    )
    text = r.summary()
    assert "Windows has no signals" in text and "-15" in text and "SIGKILL" not in text


# --------------------------------------------------------------------------- where output goes


@pytest.mark.parametrize("method", METHODS)
def test_child_output_misses_the_parent_stdout_unless_returned(method):
    broken = cl.problems.where_output_goes(start_method=method)
    assert broken.parent_saw == ""
    assert "received nothing" in str(broken)
    fixed = cl.problems.where_output_goes(fixed=True, start_method=method)
    assert fixed.parent_saw.startswith("hello from process ")
    assert str(os.getpid()) not in fixed.parent_saw


# --------------------------------------------------------------------------- zombies and orphans


@pytest.mark.parametrize("method", [m for m in ("fork", "spawn") if m in METHODS])
def test_a_finished_child_is_a_zombie_until_joined(method):
    r = cl.problems.zombie_demo(start_method=method)
    assert r.supported and r.status_before_join == "zombie" and not r.exists_after_join
    assert "was a zombie" in str(r)


def test_zombie_demo_explains_forkserver():
    with pytest.raises(ValueError, match="a forkserver child is the server's child, not ours"):
        cl.problems.zombie_demo(start_method="forkserver")


def test_zombie_demo_on_windows_says_so_and_starts_nothing(monkeypatch):
    monkeypatch.setattr(process_tree.sys, "platform", "win32")
    start = time.perf_counter()
    r = cl.problems.zombie_demo()
    assert not r.supported and "Windows has no zombies" in str(r)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("method", METHODS)
def test_killing_a_worker_orphans_its_child_unless_the_tree_is_stopped(method):
    start = time.perf_counter()
    broken = cl.problems.orphan_demo(start_method=method)
    assert broken.orphan_survived
    assert broken.grandchild_parent_after not in (None, broken.child_pid)
    assert "re-parented it to process" in str(broken)
    fixed = cl.problems.orphan_demo(fixed=True, start_method=method)
    assert not fixed.orphan_survived and "nothing was left" in str(fixed)
    assert time.perf_counter() - start < 10  # never the old 10 s wait


def test_orphan_on_windows_is_found_by_the_parents_death_not_a_new_ppid():
    # Windows keeps the dead parent's pid as the orphan's ppid: the demo must still say orphan.
    r = process_tree.OrphanResult(False, 100, 101, True, 100, "win32")
    assert "kept running: an orphan" in str(r)
    assert "Windows does not re-parent orphans" in str(r) and "re-parented it" not in str(r)


def test_kill_tree_stops_three_levels():
    ctx = multiprocessing.get_context()
    reader, writer = ctx.Pipe(duplex=False)
    p = ctx.Process(target=process_tree.start_two_levels, args=(writer,))
    p.start()
    writer.close()
    assert reader.poll(30)
    below = reader.recv()
    reader.close()
    killed = cl.problems.kill_tree(p.pid)
    p.join(10)
    assert set(killed) == {p.pid, *below}
    for pid in below:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
    assert cl.problems.kill_tree(p.pid) == ()  # already gone: nothing to do


# --------------------------------------------------------------------------- fork with a held lock


@pytest.mark.skipif("fork" not in METHODS, reason="needs fork")
def test_fork_copies_a_lock_held_by_another_thread():
    r = cl.problems.fork_with_held_lock(start_method="fork", child_timeout_s=0.3)
    assert not r.child_acquired and r.child_exitcode == 3
    assert "The parent's thread let go right after the fork" in str(r)
    assert sharing._APP_LOCK.acquire(timeout=1)  # free in the parent again
    sharing._APP_LOCK.release()
    if sys.version_info >= (3, 12):
        assert r.warning is not None and "multi-threaded" in r.warning
        assert "Python warned at fork()" in str(r)
    else:
        assert r.warning is None and "3.12 and later also warn" in str(r)


@pytest.mark.parametrize("method", FRESH)
def test_a_fresh_child_has_its_own_free_lock(method):
    r = cl.problems.fork_with_held_lock(start_method=method, child_timeout_s=5)
    assert r.child_acquired and r.child_exitcode == 0 and r.warning is None
    assert "built its own, free lock" in str(r)


def test_without_fork_the_trap_cannot_happen(monkeypatch):
    monkeypatch.setattr(sharing, "available_start_methods", lambda: ("spawn",))
    r = cl.problems.fork_with_held_lock()
    assert not r.available and "this trap cannot happen here" in str(r)


def test_fork_is_labelled_unsafe_on_macos(monkeypatch):
    monkeypatch.setattr("concurrency_lab.core.machine.fork_is_unsafe", lambda: True)
    r = sharing.ForkLockResult("fork", True, None, False, 3, 1.0)
    assert "Under fork (unsafe on macOS)" in str(r)


# --------------------------------------------------------------------------- globals


@pytest.mark.parametrize("method", METHODS)
def test_globals_are_not_shared_and_returning_results_fixes_it(method):
    broken = cl.problems.global_counter(start_method=method)
    expected_seen = (101, 101) if method == "fork" else (1, 1)  # a copy vs a fresh import
    assert broken.seen_by_workers == expected_seen
    assert broken.parent_after == broken.parent_before == 100
    assert "is still 100" in str(broken)
    fixed = cl.problems.global_counter(start_method=method, fixed=True)
    assert fixed.parent_after == 102 and "100 became 102" in str(fixed)
    assert sharing._COUNTER == 0


# --------------------------------------------------------------------------- pickling and locks


def test_pickle_check_names_what_cannot_travel(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("a\nb\nc\n")
    with open(path) as f:
        results = [cl.problems.pickle_check(x) for x in (threading.Lock(), f, lambda x: x)]
    assert [r.ok for r in results] == [False, False, False]
    assert results[0].error == "TypeError: cannot pickle '_thread.lock' object"
    assert "cannot travel" in str(results[0])
    # the wording varies by version ("'_io.TextIOWrapper' object", "'TextIOWrapper' instances")
    assert results[1].error.startswith("TypeError: cannot pickle '")
    assert "TextIOWrapper" in results[1].error
    assert "lambda" in results[2].error
    ok = cl.problems.pickle_check(str(path))
    assert ok.ok and "can travel" in str(ok)


@pytest.mark.parametrize("method", METHODS)
def test_send_the_path_not_the_file(method, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("a\nb\nc\n")
    with open(path) as f, pytest.raises(cl.UnpicklableError, match="TextIOWrapper"):
        cl.run_tasks(cl.problems.count_lines, [f], kind="process", start_method=method)
    run = cl.run_tasks(cl.problems.count_lines, [str(path)], kind="process", start_method=method)
    assert run.results == (3,)


def test_large_argument_helpers_agree():
    data = bytes(1 << 20)
    assert cl.problems.checksum(data) == cl.problems.make_and_checksum(len(data))


@pytest.mark.parametrize("method", METHODS)
def test_a_lock_reaches_pool_workers_through_the_initializer_only(method, tmp_path):
    ctx = multiprocessing.get_context(method)
    lock = ctx.Lock()
    path = str(tmp_path / "log.txt")
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        with pytest.raises(RuntimeError, match="through inheritance"):
            pool.submit(cl.problems.log_line, path, "x", lock).result(timeout=30)
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        with pytest.raises(cl.LabError, match="has no lock"):
            pool.submit(cl.problems.log_line, path, "x").result(timeout=30)
    with cf.ProcessPoolExecutor(
        2, mp_context=ctx, initializer=cl.problems.remember_lock, initargs=(lock,)
    ) as pool:
        pids = [pool.submit(cl.problems.log_line, path, f"line {i}").result(30) for i in range(4)]
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f]
    assert [text for text, _ in rows] == [f"line {i}" for i in range(4)]
    assert {int(pid) for _, pid in rows} == set(pids) and os.getpid() not in pids


# --------------------------------------------------------------------------- cores


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")
def test_cpu_count_ignores_affinity_but_usable_cores_does_not():
    r = cl.problems.cores_under_affinity()
    assert r.supported and r.cpus == (min(os.sched_getaffinity(0)),)
    assert r.cpu_count == os.cpu_count() and r.affinity == 1 and r.usable == 1
    assert f"os.cpu_count() = {os.cpu_count()}" in str(r)
    with pytest.raises(ValueError, match="'cpus' must name CPUs this process may use"):
        cl.problems.cores_under_affinity((10_000,))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")
def test_affinity_defaults_to_an_allowed_cpu_when_cpu_0_is_not(monkeypatch):
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        pytest.skip("needs two CPUs")
    highest = max(allowed)
    monkeypatch.setattr(cores.os, "sched_getaffinity", lambda pid: {highest})
    r = cl.problems.cores_under_affinity()
    assert r.cpus == (highest,) and r.affinity == 1


def test_affinity_elsewhere_explains_instead_of_returning_none(monkeypatch):
    monkeypatch.delattr(cores.os, "sched_setaffinity", raising=False)
    r = cl.problems.cores_under_affinity()
    assert r is not None and not r.supported
    assert "macOS has no such call" in str(r) and "cpu_affinity" in str(r)


@pytest.mark.parametrize(
    ("n_cores", "workers"), [(1, 4), (2, 8), (4, 16), (6, 12), (8, 16), (16, 32), (40, 40)]
)
def test_oversubscribed_workers_are_capped_in_whole_rounds(n_cores, workers, monkeypatch):
    monkeypatch.setattr(cores, "max_workers", lambda kind: 8 * n_cores)  # as on that machine
    assert cores.oversubscribed_workers(n_cores) == workers


def test_oversubscribed_workers_respect_the_windows_pool_limit(monkeypatch):
    monkeypatch.setattr(cores, "max_workers", lambda kind: 61)
    monkeypatch.setattr(cores, "OVERSUBSCRIBE_MAX_PROCESSES", 100)
    assert cores.oversubscribed_workers(20) == 40
    assert cores.oversubscribed_workers(40) == 40  # 80 would be two rounds; 61 is the cap


def test_oversubscription_runs_the_same_work_on_each_pool():
    r = cl.problems.oversubscription(task_s=0.01, repeats=1)
    n = cl.usable_cores()
    big = cores.oversubscribed_workers(n)
    assert r.n_workers == (n, big) and r.n_tasks == big
    assert [len(t) for t in (r.totals_s, r.task_times_s, r.startup_s)] == [2, 2, 2]
    assert all(t > 0 for runs in r.totals_s for t in runs)
    assert r.verdict in ("no speed-up", "faster under load", "implausible")
    assert f"{big} workers finished the same {big} tasks" in str(r)
    with pytest.raises(ValueError, match="'repeats' must be a whole number between 1 and 9"):
        cl.problems.oversubscription(repeats=0)


def test_oversubscription_says_when_the_machine_has_too_many_cores(monkeypatch):
    monkeypatch.setattr(cores, "usable_cores", lambda: 40)
    r = cl.problems.oversubscription()
    assert r.verdict == "cannot oversubscribe" and r.n_tasks == 0
    assert "did not run" in str(r)


def _made(totals, tasks, busy):
    from concurrency_lab.core.load import Load

    return cores.OversubscriptionResult(
        usable_cores=2,
        n_workers=(2, 8),
        n_tasks=8,
        totals_s=tuple((t,) for t in totals),
        task_times_s=tuple((t,) for t in tasks),
        startup_s=((0.01,), (0.05,)),
        load=Load(1.0, 2, 0.9 if busy else 0.0),
        start_method="spawn",
    )


def test_oversubscription_verdicts_come_from_the_numbers():
    same = _made((0.40, 0.41), (0.05, 0.20), busy=False)
    assert same.verdict == "no speed-up" and "no speed-up (0.98x)" in str(same)
    assert "Each task took 4.0x as long" in str(same)
    busy = _made((0.60, 0.40), (0.05, 0.20), busy=True)
    assert busy.verdict == "faster under load" and "other programs were using" in str(busy)
    assert "about 0.9 of your 2 cores busy" in str(busy)
    odd = _made((0.60, 0.40), (0.05, 0.20), busy=False)
    assert odd.verdict == "implausible" and "treat it as noise" in str(odd)


# --------------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize("problem", list(CLINIC))
@pytest.mark.parametrize("fixed", [False, True])
def test_every_clinic_entry_says_what_happened(problem, fixed):
    result = cl.problems.clinic(problem, fixed=fixed)
    assert isinstance(result, Result) and result.summary().strip()
    assert not repr(result).startswith(type(result).__name__ + "(")  # a sentence, not a dump


def test_clinic_rejects_an_unknown_problem():
    with pytest.raises(ValueError, match=r"'problem' must be one of 'an exception in a thread'"):
        cl.problems.clinic("gremlins")


def _ignore_sigterm():
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@pytest.mark.skipif("fork" not in METHODS, reason="needs fork (and POSIX signals)")
def test_stop_pool_never_hangs_on_a_worker_that_ignores_sigterm():
    pool = multiprocessing.get_context("fork").Pool(2, initializer=_ignore_sigterm)
    pool.map_async(time.sleep, [30, 30])
    time.sleep(0.3)
    workers = list(pool._pool)  # the test peeks: these must all be gone afterwards
    start = time.perf_counter()
    process_tree.stop_pool(pool, timeout_s=1)
    assert time.perf_counter() - start < 5
    assert not any(w.is_alive() for w in workers)


def test_fidelity_judges_the_oversubscription_sentence():
    from concurrency_lab.problems.fidelity import HEADLINE_DEMOS, judge_oversubscription

    assert judge_oversubscription(_made((0.40, 0.41), (0.05, 0.20), busy=False)).verdict == "right"
    assert judge_oversubscription(_made((0.60, 0.40), (0.05, 0.20), busy=True)).verdict == "flagged"
    assert judge_oversubscription(_made((0.60, 0.40), (0.05, 0.20), busy=False)).verdict == (
        "flagged"
    )
    assert judge_oversubscription(_made((0.40, 0.41), (0.05, 0.06), busy=False)).verdict == (
        "flagged"
    )
    assert judge_oversubscription(_made((0.40, 0.41), (0.05, 0.04), busy=False)).verdict == "wrong"
    assert list(HEADLINE_DEMOS) == ["more workers than cores"]
