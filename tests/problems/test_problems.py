"""The problems clinic (08): each broken version fails the way the notebook says; each fix works."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

import concurrency_lab as cl
from concurrency_lab.problems import traps as problems

METHODS = cl.available_start_methods()
FRESH = [m for m in METHODS if m != "fork"]  # start methods whose child imports afresh


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


# --------------------------------------------------------------------------- notebook functions


@pytest.mark.parametrize("method", FRESH)
def test_function_defined_in_main_gets_the_friendly_error_then_the_module_fix_works(method):
    out = _python_c(
        f"""
        import concurrency_lab as cl
        def square(x):
            return x * x
        try:
            cl.run_tasks(square, [3], kind="process", start_method={method!r})
        except cl.NotebookFunctionError as exc:
            print("broken:", type(exc).__name__, "%%worker_module" in str(exc))
        run = cl.run_tasks(cl.problems.square, [3], kind="process", start_method={method!r})
        print("fixed:", run.results)
        """
    )
    assert out.splitlines() == ["broken: NotebookFunctionError True", "fixed: (9,)"]


@pytest.mark.parametrize("method", FRESH)
def test_without_the_lab_a_plain_executor_reports_broken_process_pool(method):
    out = _python_c(
        f"""
        import concurrency_lab as cl
        def square(x):
            return x * x
        print(cl.problems.plain_executor(square, 3, start_method={method!r}))
        print(cl.problems.plain_executor(cl.problems.square, 3, start_method={method!r}))
        """
    )
    broken, fixed = out.splitlines()
    assert broken.startswith("BrokenProcessPool: A process in the process pool was terminated")
    assert fixed == "result: 9"


# --------------------------------------------------------------------------- the __main__ guard


@pytest.mark.parametrize("method", FRESH)
def test_script_without_main_guard_fails_to_bootstrap(method):
    run = cl.problems.main_guard_script(guarded=False, start_method=method)
    assert run.bootstrapping_error
    assert "RuntimeError" in run.stderr and "if __name__ == '__main__':" in run.stderr
    assert run.stdout == "parent: child exit code 1\n"
    assert not run.timed_out


@pytest.mark.parametrize("method", METHODS)
def test_script_with_main_guard_works(method):
    run = cl.problems.main_guard_script(guarded=True, start_method=method)
    assert run.stdout == "child: working\nparent: child exit code 0\n"
    assert not run.bootstrapping_error and run.returncode == 0
    assert 'if __name__ == "__main__":' in run.script


@pytest.mark.skipif("fork" not in METHODS, reason="needs fork")
def test_fork_does_not_need_the_guard():
    run = cl.problems.main_guard_script(guarded=False, start_method="fork")
    assert run.stdout == "child: working\nparent: child exit code 0\n"


# --------------------------------------------------------------------------- fork with threads


@pytest.mark.skipif("fork" not in METHODS, reason="needs fork")
def test_fork_copies_a_lock_held_by_another_thread():
    r = cl.problems.fork_with_held_lock(start_method="fork", child_timeout_s=0.3)
    assert not r.child_acquired and r.child_exitcode == 3
    if sys.version_info >= (3, 12):
        assert r.warning is not None and "multi-threaded" in r.warning
    else:
        assert r.warning is None


@pytest.mark.parametrize("method", FRESH)
def test_a_fresh_child_has_its_own_free_lock(method):
    r = cl.problems.fork_with_held_lock(start_method=method, child_timeout_s=5)
    assert r.child_acquired and r.child_exitcode == 0 and r.warning is None


# --------------------------------------------------------------------------- exceptions


def test_thread_exception_is_lost_then_reported_by_a_future():
    hook = threading.excepthook
    broken = cl.problems.thread_exception()
    assert broken.silent and broken.caught is None
    assert broken.hook_saw == "ZeroDivisionError: division by zero"
    fixed = cl.problems.thread_exception(fix=True)
    assert fixed.caught == "ZeroDivisionError: division by zero" and fixed.hook_saw is None
    assert not fixed.silent
    assert threading.excepthook is hook  # restored


@pytest.mark.parametrize("method", METHODS)
def test_process_exit_codes(method):
    assert cl.problems.process_exit_codes(start_method=method) == {
        "returned normally": 0,
        "raised ValueError": 1,
        "called os._exit(3)": 3,
        "killed by SIGKILL": -9,
    }


@pytest.mark.parametrize("method", METHODS)
def test_pool_waits_for_a_dead_worker_but_executor_reports_it(method):
    pool = cl.problems.dead_worker(api="pool", start_method=method, timeout_s=0.5)
    assert pool.outcome == "timed out" and pool.waited_s >= 0.5
    ex = cl.problems.dead_worker(api="executor", start_method=method, timeout_s=30)
    assert ex.outcome == "BrokenProcessPool"
    assert "terminated abruptly" in ex.message


def test_the_lab_names_the_signal_that_killed_a_worker():
    with pytest.raises(cl.WorkerCrashedError, match=r"killed by SIGKILL \(exit code -9\)"):
        cl.start_join(problems._kill_self, 1, kind="process")


def test_dead_worker_rejects_unknown_api():
    with pytest.raises(ValueError, match=r"'api' must be 'pool' or 'executor' \(got 'futures'\)"):
        cl.problems.dead_worker(api="futures")


# --------------------------------------------------------------------------- where output goes


def test_a_late_thread_prints_under_the_next_cell():
    r = cl.problems.late_thread_print()
    assert r.text("cell 1") == ""
    assert r.text("cell 2") == "background thread: finished my work\n"


@pytest.mark.parametrize("method", METHODS)
def test_child_output_misses_the_parent_stdout_unless_relayed(method):
    broken = cl.problems.where_output_goes(start_method=method)
    assert broken.text("parent") == ""
    fixed = cl.problems.where_output_goes(start_method=method, relay=True)
    assert fixed.text("parent").startswith("[worker-1] hello from process ")
    assert fixed.text("return value") == "returned value"


# --------------------------------------------------------------------------- zombies and orphans


@pytest.mark.parametrize("method", [m for m in ("fork", "spawn") if m in METHODS])
def test_a_finished_child_is_a_zombie_until_joined(method):
    r = cl.problems.zombie_demo(start_method=method)
    assert r.status_before_join == "zombie" and not r.exists_after_join


def test_zombie_demo_explains_forkserver():
    with pytest.raises(ValueError, match="a forkserver child is the server's child, not ours"):
        cl.problems.zombie_demo(start_method="forkserver")


@pytest.mark.parametrize("method", METHODS)
def test_killing_a_worker_orphans_its_child_unless_the_tree_is_stopped(method):
    broken = cl.problems.orphan_demo(start_method=method)
    assert broken.orphan_survived
    assert broken.grandchild_parent_after not in (None, broken.child_pid)
    fixed = cl.problems.orphan_demo(start_method=method, cleanup="tree")
    assert not fixed.orphan_survived


# --------------------------------------------------------------------------- globals


@pytest.mark.parametrize("method", METHODS)
def test_globals_are_not_shared_and_returning_results_fixes_it(method):
    broken = cl.problems.global_counter(start_method=method)
    expected_seen = (101, 101) if method == "fork" else (1, 1)  # a copy vs a fresh import
    assert broken.seen_by_workers == expected_seen
    assert broken.parent_after == broken.parent_before == 100
    fixed = cl.problems.global_counter(start_method=method, fix=True)
    assert fixed.parent_after == 102
    assert problems._COUNTER == 0


# --------------------------------------------------------------------------- cores


def test_core_counts():
    c = cl.problems.core_counts()
    assert c.cpu_count == os.cpu_count() and c.usable == cl.usable_cores()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")
def test_cpu_count_ignores_affinity_but_usable_cores_does_not():
    c = cl.problems.cores_under_affinity((min(os.sched_getaffinity(0)),))
    assert c.cpu_count == os.cpu_count()
    assert c.usable == 1
    with pytest.raises(ValueError, match="'cpus' must name cores this process may use"):
        cl.problems.cores_under_affinity((10_000,))


def test_oversubscription_runs_the_same_work_on_each_pool():
    r = cl.problems.oversubscription(factors=(1, 2), task_s=0.01)
    n = cl.usable_cores()
    assert r.n_workers == (n, 2 * n) and r.n_tasks == 2 * n
    assert len(r.elapsed_s) == len(r.mean_task_s) == 2
    fig = cl.problems.plot_oversubscription(r)
    assert len(fig.axes[0].patches) == 4
    legend = fig.axes[0].get_legend()
    assert legend.get_bbox_to_anchor().x0 >= fig.axes[0].get_window_extent().x1  # off the bars
    with pytest.raises(ValueError, match="'factors' must be whole numbers >= 1"):
        cl.problems.oversubscription(factors=(0,))


# --------------------------------------------------------------------------- pickling


def test_pickle_check_names_what_cannot_travel(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("a\nb\nc\n")
    with open(path) as f:
        results = [cl.problems.pickle_check(x) for x in (threading.Lock(), f, lambda x: x)]
    assert [r.ok for r in results] == [False, False, False]
    assert results[0].error == "TypeError: cannot pickle '_thread.lock' object"
    # the wording varies by version ("'_io.TextIOWrapper' object", "'TextIOWrapper' instances")
    assert results[1].error.startswith("TypeError: cannot pickle '")
    assert "TextIOWrapper" in results[1].error
    assert "lambda" in results[2].error
    assert cl.problems.pickle_check(str(path)).ok


@pytest.mark.parametrize("method", METHODS)
def test_unpicklable_arguments_fail_early_and_passing_a_path_works(method, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("a\nb\nc\n")
    with pytest.raises(cl.UnpicklableError, match=r"cannot pickle '_thread\.lock' object"):
        cl.run_tasks(len, [threading.Lock()], kind="process", start_method=method)
    with open(path) as f, pytest.raises(cl.UnpicklableError, match="TextIOWrapper"):
        cl.run_tasks(problems.count_lines, [f], kind="process", start_method=method)
    with pytest.raises(cl.UnpicklableError, match="Lambdas"):
        cl.run_tasks(lambda p: p, [1], kind="process", start_method=method)
    run = cl.run_tasks(problems.count_lines, [str(path)], kind="process", start_method=method)
    assert run.results == (3,)


def test_large_argument_is_pickled_whole():
    r = cl.problems.large_argument_cost(size_mb=1)
    assert r.size_bytes == 1 << 20 and r.pickled_bytes >= r.size_bytes
    assert r.same_result
    assert r.slowdown == r.send_s / r.make_in_child_s
    with pytest.raises(ValueError, match=r"'size_mb' must be a whole number from 1 to 512"):
        cl.problems.large_argument_cost(size_mb=0)


# --------------------------------------------------------------------------- queue and join


@pytest.mark.parametrize("method", METHODS)
def test_join_before_get_deadlocks_until_the_item_is_taken(method):
    broken = cl.problems.queue_join(start_method=method, timeout_s=0.5)
    assert not broken.joined_in_time and broken.got_bytes == 1 << 20
    fixed = cl.problems.queue_join(start_method=method, get_first=True, timeout_s=30)
    assert fixed.joined_in_time and fixed.got_bytes == 1 << 20


def test_a_small_item_does_not_deadlock():
    r = cl.problems.queue_join(size_bytes=100, timeout_s=30)
    assert r.joined_in_time


# --------------------------------------------------------------------------- self-checks (08)


def test_check_reports_thread_exception():
    def bare(target):
        t = threading.Thread(target=target)
        t.start()
        t.join(10)

    def with_future(target):
        import concurrent.futures as cf

        with cf.ThreadPoolExecutor(1) as ex:
            return ex.submit(target).exception(timeout=10)

    fb = cl.check.problems.reports_thread_exception(bare)
    assert not fb.ok and "threading.excepthook" in fb.message
    assert cl.check.problems.reports_thread_exception(with_future).ok


def test_check_drains_before_join():
    def join_first(q, p):
        p.join()
        return q.get()

    def get_first(q, p):
        item = q.get(timeout=10)
        p.join(10)
        return item

    fb = cl.check.problems.drains_before_join(join_first)
    assert not fb.ok and fb.message.startswith("Deadlock")
    assert cl.check.problems.drains_before_join(get_first).ok


def test_check_stops_whole_tree():
    import psutil

    def only_the_worker(pid):
        psutil.Process(pid).kill()

    def whole_tree(pid):
        procs = [*psutil.Process(pid).children(recursive=True), psutil.Process(pid)]
        for p in procs:
            p.kill()

    def direct_children_only(pid):
        procs = [*psutil.Process(pid).children(), psutil.Process(pid)]
        for p in procs:
            p.kill()

    fb = cl.check.problems.stops_whole_tree(only_the_worker)
    assert not fb.ok and "Killing a process does not kill its children" in fb.message
    fb = cl.check.problems.stops_whole_tree(direct_children_only)
    assert not fb.ok and fb.message.startswith("Still running: its grandchild")
    assert "children() lists only direct children" in fb.message
    assert cl.check.problems.stops_whole_tree(whole_tree).ok
    fb = cl.check.problems.stops_whole_tree(lambda pid: None)
    assert not fb.ok and "Stop the process itself too" in fb.message


# --------------------------------------------------------------------------- clinic by name


def test_clinic_runs_each_version_by_name():
    assert cl.problems.clinic("a global counter in processes").parent_after == 100
    assert cl.problems.clinic("a global counter in processes", fixed=True).parent_after == 102
    with pytest.raises(ValueError, match=r"'problem' must be one of 'exception in a thread'"):
        cl.problems.clinic("gremlins")


def test_clinic_explorer_headless():
    box = cl.problems.clinic_explorer()
    box.controls["problem"].value = "join before get on a Queue"
    box.controls["version"].value = "fixed"
    box.button.click()
    assert box.result.joined_in_time
    text = "".join(o.get("text", "") for o in box.output.outputs)
    assert "fixed: join before get on a Queue" in text and "Error" not in text
