"""The clinic's figure, explorer and self-checks (08), driven without a browser."""

from __future__ import annotations

import concurrent.futures as cf
import threading

import pytest

import concurrency_lab as cl
from concurrency_lab.core.feedback import hint
from concurrency_lab.core.load import Load
from concurrency_lab.problems import cores
from concurrency_lab.view import style
from tests.view.cvd import assert_distinguishable

# --------------------------------------------------------------------------- the figure


def _made(verdict_cores: int = 2) -> cores.OversubscriptionResult:
    return cores.OversubscriptionResult(
        usable_cores=verdict_cores,
        n_workers=(2, 8),
        n_tasks=8,
        totals_s=((0.40, 0.42, 0.41), (0.43, 0.40, 0.44)),
        task_times_s=((0.05, 0.05, 0.05), (0.19, 0.20, 0.21)),
        startup_s=((0.02, 0.02, 0.03), (0.08, 0.07, 0.09)),
        load=Load(2.5, 2, 0.1),
        start_method="spawn",
    )


def test_plot_oversubscription_reads_without_colour():
    r = _made()
    fig = cl.problems.plot_oversubscription(r)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == r.summary()
    assert_distinguishable(style.colors_used(fig).data, what="plot_oversubscription")
    left, right = fig.axes
    ticks = [t.get_text() for t in left.get_xticklabels()]
    assert ticks == ["2 workers\n(start-up 0.02 s)", "8 workers\n(start-up 0.08 s)"]
    assert len(left.lines) == 2 and len(left.lines[0].get_ydata()) == 3  # every run, as dots
    assert [round(p.get_height(), 3) for p in right.patches] == [50.0, 200.0]


def test_plot_oversubscription_of_a_real_run():
    fig = cl.problems.plot_oversubscription(cl.problems.oversubscription(task_s=0.01, repeats=1))
    assert style.figure_problems(fig) == ()


def test_plot_oversubscription_when_it_could_not_run(monkeypatch):
    monkeypatch.setattr(cores, "usable_cores", lambda: 40)
    fig = cl.problems.plot_oversubscription(cl.problems.oversubscription())
    assert style.figure_problems(fig) == ()
    assert "did not run" in style.summary_of(fig)


# --------------------------------------------------------------------------- the explorer


def test_clinic_explorer_headless():
    ex = cl.problems.clinic_explorer()
    assert set(ex.controls) == {"problem", "fixed"}
    ex.controls["problem"].value = "a global counter in processes"
    ex.controls["fixed"].value = True
    result = ex.run()
    assert ex.error == "" and result.parent_after == 102
    assert ex.summary == result.summary() and "100 became 102" in ex.status.value
    ex.controls["fixed"].value = False
    assert ex.run().parent_after == 100


# --------------------------------------------------------------------------- exercise 1


def _bare(target):
    worker = threading.Thread(target=target)
    worker.start()
    worker.join(10)


def _with_future(target):
    with cf.ThreadPoolExecutor(1) as executor:
        return executor.submit(target).exception(timeout=10)


def test_check_run_in_thread_names_the_concept_then_gives_hints_in_tiers():
    fb = cl.check.problems.run_in_thread(_bare)
    assert not fb.ok and "threading.excepthook, not to join()" in fb.message
    assert "ThreadPoolExecutor" not in fb.message  # the code waits for cl.check.hint()
    first, second, third = (hint("problems.run_in_thread").text for _ in range(3))
    assert "Which tool" in first and "future.exception" in second
    assert third.startswith("```python") and "executor.submit(target)" in third
    assert cl.check.problems.run_in_thread(_with_future).ok


def test_check_run_in_thread_other_answers():
    def reraise(target):
        with cf.ThreadPoolExecutor(1) as executor:
            return executor.submit(target).result(timeout=10)

    fb = cl.check.problems.run_in_thread(reraise)
    assert not fb.ok and "return it instead of letting it escape" in fb.message
    fb = cl.check.problems.run_in_thread(_with_future(lambda: None))
    assert not fb.ok and "Pass your function itself" in fb.message


# --------------------------------------------------------------------------- exercise 2


def _starter(lock, path, lines):
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(cl.problems.log_line, path, line, lock) for line in lines]
        for future in futures:
            future.result(timeout=30)


def _solution(lock, path, lines):
    with cf.ProcessPoolExecutor(
        max_workers=2, initializer=cl.problems.remember_lock, initargs=(lock,)
    ) as pool:
        for future in [pool.submit(cl.problems.log_line, path, line) for line in lines]:
            future.result(timeout=30)


def test_check_log_with_lock_starter_fails_with_the_inheritance_rule():
    fb = cl.check.problems.log_with_lock(_starter)
    assert not fb.ok and "only when that process is created" in fb.message
    assert fb.hints[-1].startswith("```python") and "initializer=" in fb.hints[-1]


def test_check_log_with_lock_accepts_the_initializer():
    fb = cl.check.problems.log_with_lock(_solution)
    assert fb.ok, fb.message


def test_check_log_with_lock_spots_another_lock():
    import multiprocessing

    def own_lock(lock, path, lines):
        _solution(multiprocessing.get_context().Lock(), path, lines)

    fb = cl.check.problems.log_with_lock(own_lock)
    assert not fb.ok and "held some other lock, or none" in fb.message


def test_check_log_with_lock_spots_threads_and_missing_locks():
    def threads(lock, path, lines):
        with cf.ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(cl.problems.log_line, path, x, lock) for x in lines]:
                future.result(timeout=30)

    fb = cl.check.problems.log_with_lock(threads)
    assert not fb.ok and "worker processes" in fb.message

    def no_lock(lock, path, lines):
        with cf.ProcessPoolExecutor(2) as pool:
            for future in [pool.submit(cl.problems.log_line, path, x) for x in lines]:
                future.result(timeout=30)

    fb = cl.check.problems.log_with_lock(no_lock)
    assert not fb.ok and "had no lock" in fb.message


# --------------------------------------------------------------------------- exercise 3


def test_check_stop_tree():
    import psutil

    def only_the_worker(pid):
        psutil.Process(pid).kill()

    def whole_tree(pid):
        procs = [*psutil.Process(pid).children(recursive=True), psutil.Process(pid)]
        for p in procs:
            p.kill()
        psutil.wait_procs(procs, timeout=5)

    def direct_children_only(pid):
        procs = [*psutil.Process(pid).children(), psutil.Process(pid)]
        for p in procs:
            p.kill()

    fb = cl.check.problems.stop_tree(only_the_worker)
    assert not fb.ok and "Killing a process does not kill its children" in fb.message
    fb = cl.check.problems.stop_tree(direct_children_only)
    assert not fb.ok and fb.message.startswith("Still running: its grandchild")
    assert "children() lists only direct children" in fb.message
    assert cl.check.problems.stop_tree(whole_tree).ok
    fb = cl.check.problems.stop_tree(lambda pid: None)
    assert not fb.ok and "The process you were given must end too" in fb.message


def test_check_stop_tree_kill_first_then_look():
    import psutil

    def kill_then_list(pid):  # the parent is gone before its children are asked for
        parent = psutil.Process(pid)
        parent.kill()
        parent.wait(5)
        for child in parent.children(recursive=True):
            child.kill()

    fb = cl.check.problems.stop_tree(kill_then_list)
    assert not fb.ok
    assert fb.message.startswith("stop_tree raised NoSuchProcess (")
    assert fb.message.endswith("it asked about a process that had already ended.")
    assert "before* you kill it" in fb.hints[0]


@pytest.mark.parametrize("name", ["run_in_thread", "log_with_lock", "stop_tree"])
def test_checks_refuse_a_called_function(name):
    fb = getattr(cl.check.problems, name)(42)
    assert not fb.ok and "without calling it" in fb.message
