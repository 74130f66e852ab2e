"""The model matrix measured for real, at tiny sizes: every cell, every start method, clean-up."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.choosing.matrix import MATRIX_MAX_WORKERS, default_matrix_workers
from concurrency_lab.choosing.timing import rounds
from concurrency_lab.core.workloads import raise_error

from .helpers import QUIET, fake_matrix

TINY = {"n_workers": 2, "n_tasks": 2, "task_s": 0.01, "repeats": 1, "progress": False}


def test_every_cell_is_measured_with_its_facts():
    m = cl.choosing.scenario_matrix(**TINY)
    assert m.workloads == ("cpu", "gil_releasing", "io", "mixed")
    assert m.models == ("serial", "threads", "processes", "asyncio")
    assert all(len(row) == 4 and all(e > 0 for e in row) for row in m.elapsed_s)
    assert all(row[0] == 1.0 for row in m.speedups)
    assert all(0 <= s <= 1.01 for s in m.cpu_share)
    # rows that only compute have a share of 1 by construction; waiting is measured, and low
    assert m.cpu_share[0] == m.cpu_share[1] == 1.0 and m.cpu_share[2] < 0.5
    assert m.pool_startup_s is not None and m.pool_startup_s > 0
    assert m.holds_gil == (True, False, True, True)
    assert m.usable_cores == cl.usable_cores() and m.gil_enabled == cl.gil_enabled()
    assert all(o is None or o >= 0 for o in m.others_cores)
    assert "Fastest per row, noise left out:" in str(m)


@pytest.mark.parametrize("method", cl.available_start_methods())
def test_processes_under_every_start_method(method):
    m = cl.choosing.scenario_matrix(
        workloads=["cpu"], models=["processes"], start_method=method, **TINY
    )
    assert m.models == ("serial", "processes") and m.start_method == method
    assert f"({method}) took" in str(m)


def test_without_processes_there_is_no_pool_to_start():
    m = cl.choosing.scenario_matrix(workloads=["io"], models=["asyncio"], **TINY)
    assert m.models == ("serial", "asyncio") and m.pool_startup_s is None
    assert "pool" not in str(m)


def test_with_a_progress_bar():
    m = cl.choosing.scenario_matrix(
        workloads=["io"], models=["threads"], **{**TINY, "progress": True}
    )
    assert m.models == ("serial", "threads")


def test_models_take_turns_in_alternating_order():
    order = [m for _, m in rounds(("serial", "threads", "processes", "asyncio"), 3)]
    assert order[:4] == ["serial", "threads", "processes", "asyncio"]
    assert order[4:8] == ["asyncio", "processes", "threads", "serial"]
    assert order[8:] == order[:4]


def test_the_default_pool_size_is_capped_and_the_cap_is_said():
    assert 2 <= default_matrix_workers() <= MATRIX_MAX_WORKERS == 8
    m = fake_matrix(QUIET, cores=16, n_workers=8, n_tasks=16)
    assert m.capped
    assert "The pools were capped at 8 workers, fewer than this machine's 16 cores" in str(m)
    assert not fake_matrix(QUIET).capped


def test_other_programs_load_is_named_with_the_free_cores():
    m = fake_matrix(QUIET, others={"cpu": 0.9, "io": 0.4})
    assert m.load("cpu").busy and not m.load("gil_releasing").busy
    assert (
        "Other programs kept about 0.9 of your 2 cores busy while the cpu row ran, so about "
        "1.1 were free (busy during: cpu, io)." in str(m)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"workloads": ["gpu"]},
            "'workloads' must be a non-empty list of names from 'cpu', 'gil_releasing', 'io', "
            "'mixed' (got ('gpu',)).",
        ),
        (
            {"models": ["threads", "fibers"]},
            "'models' must be a non-empty list of names from 'serial', 'threads', 'processes', "
            "'asyncio' (got ('threads', 'fibers')).",
        ),
        ({"n_tasks": 0}, "'n_tasks' must be a whole number >= 1 (got 0)."),
        ({"task_s": 0}, "'task_s' must be a number of seconds > 0 and <= 5 (got 0)."),
        ({"n_workers": 0}, "'n_workers' must be >= 1 (got 0)."),
        ({"repeats": 0}, "'repeats' must be a whole number between 1 and 10 (got 0)."),
        (
            {"start_method": "thread"},
            "'start_method' must be one of 'fork', 'spawn', "
            "'forkserver' or None for the default (got 'thread').",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_starts(kwargs, message):
    with pytest.raises(ValueError) as info:
        cl.choosing.scenario_matrix(progress=False, **kwargs)
    assert str(info.value) == message


def test_workloads_must_be_a_list():
    with pytest.raises(TypeError, match="'workloads' must be a list of names"):
        cl.choosing.scenario_matrix(workloads="cpu", progress=False)  # type: ignore[arg-type]


def test_lookups_name_the_choices():
    m = fake_matrix({"cpu": (1.0, 1.0, 0.5, 1.0)})
    assert m.speedup("cpu", "processes") == 2.0 and m.elapsed("cpu", "threads") == 1.0
    with pytest.raises(ValueError, match=r"'workload' must be one of 'cpu' \(got 'io'\)"):
        m.speedup("io", "threads")
    with pytest.raises(ValueError, match="'model' must be one of"):
        m.limit("cpu", "gpu")


# --------------------------------------------------------------------------- your own function


def test_compare_models_times_your_function():
    r = cl.choosing.compare_models(cl.spin, [200] * 20, n_workers=2, repeats=1)
    assert r.workloads == ("spin",) and r.models == ("serial", "threads", "processes")
    assert r.n_tasks == 20 and r.task_s is None and r.holds_gil == (None,)
    assert r.descriptions == ("your function spin",)
    fastest, speed = r.fastest("spin")
    assert fastest in r.models and speed > 0


def test_compare_models_asks_for_the_coroutine_twin_of_asyncio():
    with pytest.raises(ValueError, match=r"pass async_fn=\.\.\., an 'async def' version of fn"):
        cl.choosing.compare_models(cl.spin, [1], models=["asyncio"])
    with pytest.raises(ValueError, match="'tasks' is empty"):
        cl.choosing.compare_models(cl.spin, [])
    with pytest.raises(TypeError, match="'fn' must be a function"):
        cl.choosing.compare_models(42, [1])  # type: ignore[arg-type]


def test_compare_models_refuses_what_cannot_reach_a_process():
    with pytest.raises(cl.UnpicklableError):
        cl.choosing.compare_models(lambda x: x, [1], n_workers=2)


def test_a_task_that_raises_leaves_no_pool_behind():
    with pytest.raises(RuntimeError, match="boom"):
        cl.choosing.compare_models(raise_error, ["boom"], n_workers=2, repeats=1)
