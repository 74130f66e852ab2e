"""The sweep with real pools: structure, interleaving, sizes, start methods, errors, clean-up."""

from __future__ import annotations

import threading

import pytest

import concurrency_lab as cl
from concurrency_lab.scaling import sweep

METHODS = cl.available_start_methods()


def _boom(units: int) -> int:
    """A workload that always fails (module level, so every start method can find it)."""
    raise RuntimeError(f"boom after {units} units")


def _slow(units: int) -> int:
    import time

    time.sleep(units)
    return units


def test_threads_structure_and_repeats():
    r = cl.scaling.measure_scaling(
        cl.cpu_bound, kinds=("thread",), n_workers=(1, 2), total_work=20, repeats=2
    )
    assert r.kinds == ("thread",) and r.n_workers == (1, 2)
    assert all(len(p.elapsed_s) == 2 and len(p.baseline_s) == 2 for p in r.points)
    assert r.start_method is None and r.total_work == 20
    assert r.usable_cores == cl.usable_cores() and r.gil == cl.gil_enabled()


@pytest.mark.parametrize("method", METHODS)
def test_processes_under_every_start_method(method):
    r = cl.scaling.measure_scaling(
        cl.cpu_bound,
        kinds=("thread", "process"),
        n_workers=(2,),
        total_work=20,
        repeats=1,
        start_method=method,
    )
    assert r.start_method == method
    assert [(p.kind, p.n_workers) for p in r.points] == [("thread", 2), ("process", 2)]


def test_kinds_share_each_repeats_baseline_and_take_turns_going_first(monkeypatch):
    calls: list[str] = []
    real = sweep.timed_batch

    def spy(ex, workload, serial_units, chunks, timeout_s, what):
        calls.append(what)
        return real(ex, workload, serial_units, chunks, timeout_s, what)

    monkeypatch.setattr(sweep, "timed_batch", spy)
    r = cl.scaling.measure_scaling(
        cl.cpu_bound, kinds=("thread", "process"), n_workers=(2,), total_work=20, repeats=2
    )
    timed = [c for c in calls if c not in ("warm-up",)]
    # cold runs of each pool, then per repeat: the baseline, then the kinds (order rotates)
    assert timed == [
        "2 threads",
        "2 processes",
        "baseline",
        "2 threads",
        "2 processes",
        "baseline",
        "2 processes",
        "2 threads",
    ]
    t, p = r.point("thread", 2), r.point("process", 2)
    assert t.baseline_s == p.baseline_s


def test_default_counts_stop_at_twice_the_cores_and_sixteen(monkeypatch):
    from concurrency_lab.core import machine

    monkeypatch.setattr(machine, "usable_cores", lambda: 64)
    counts = sweep.sweep_counts()
    assert counts[0] == 1 and counts[-1] == 16
    monkeypatch.setattr(machine, "usable_cores", lambda: 2)
    assert sweep.sweep_counts() == (1, 2, 3, 4)


def test_work_is_at_least_ten_units_per_worker(monkeypatch):
    monkeypatch.setattr(sweep, "calibrate", lambda fn, s: 3)
    assert sweep.size_work(cl.cpu_bound, (1, 2, 8)) == 80
    assert sweep.size_work(cl.io_wait, (1, 2), 0.3) == 300  # milliseconds, not calibrated
    r = cl.scaling.measure_scaling(cl.cpu_bound, kinds=("thread",), n_workers=(1, 2), repeats=1)
    assert r.total_work == 20 and not r.notes


def test_the_real_serial_share_is_reported_and_small_work_is_flagged():
    r = cl.scaling.measure_scaling(
        cl.cpu_bound, kinds=("thread",), n_workers=(1, 2), total_work=7, serial_fraction=0.3,
        repeats=1,
    )  # fmt: skip
    assert r.serial_fraction == pytest.approx(2 / 7)
    assert any("a real serial share of 28.6%" in n for n in r.notes)
    assert any("only 5 work units to split over up to 2 workers" in n for n in r.notes)
    assert "Note: only 5 work units" in str(r)
    assert sweep.setup_notes(100, 30, 0.3, (1, 2)) == ()


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        ({"kinds": ()}, ValueError, r"'kinds' is empty"),
        ({"kinds": ("fiber",)}, ValueError, r"'kind' must be 'thread' or 'process'"),
        ({"n_workers": ()}, ValueError, r"'n_workers' is empty"),
        ({"n_workers": (0,)}, ValueError, r"'n_workers' must be >= 1 \(got 0\)"),
        ({"repeats": 0}, ValueError, r"'repeats' must be a whole number >= 1 \(got 0\)"),
        ({"total_work": 0}, ValueError, r"'total_work' must be a whole number >= 1 \(got 0\)"),
        ({"serial_fraction": 2}, ValueError, r"'serial_fraction' must be a number from 0 to 1"),
        ({"work_s": 0}, ValueError, r"'work_s' must be a number of seconds > 0 and <= 10"),
        ({"timeout_s": -1}, ValueError, r"'timeout_s' must be a positive number"),
        ({"start_method": "clone"}, ValueError, r"'start_method' must be one of"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        cl.scaling.measure_scaling(cl.cpu_bound, **kwargs)


def test_a_notebook_function_is_refused_for_spawned_processes(monkeypatch):
    if "spawn" not in METHODS:
        pytest.skip("no spawn here")

    def local(units):  # defined here, so not importable by a spawned child
        return units

    local.__module__ = "__main__"
    from concurrency_lab.core import validate

    monkeypatch.setattr(validate, "main_module_is_importable", lambda: False)
    with pytest.raises(cl.NotebookFunctionError, match="%%worker_module"):
        cl.scaling.measure_scaling(local, kinds=("process",), n_workers=(2,), start_method="spawn")


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_a_failing_workload_becomes_a_worker_error_and_leaves_nothing_behind(kind):
    with pytest.raises(cl.WorkerError, match="raised RuntimeError: boom after"):
        cl.scaling.measure_scaling(_boom, kinds=(kind,), n_workers=(2,), total_work=20)


def test_a_slow_batch_times_out_and_the_processes_are_stopped():
    with pytest.raises(cl.WorkerTimeoutError, match=r"unfinished after timeout_s=0\.5 s"):
        cl.scaling.measure_scaling(
            _slow, kinds=("process",), n_workers=(1,), total_work=3, timeout_s=0.5, repeats=1
        )


def test_the_baseline_never_runs_on_the_main_thread():
    seen: list[str] = []

    def where(units: int) -> int:
        seen.append(threading.current_thread().name)
        return units

    cl.scaling.measure_scaling(where, kinds=("thread",), n_workers=(1,), total_work=3, repeats=1)
    assert seen and "MainThread" not in seen


def test_an_interrupt_mid_sweep_stops_the_pools(monkeypatch):
    real = sweep.timed_batch
    count = [0]

    def interrupt(*args, **kwargs):
        count[0] += 1
        if count[0] == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep, "timed_batch", interrupt)
    with pytest.raises(KeyboardInterrupt):
        cl.scaling.measure_scaling(
            cl.cpu_bound, kinds=("process",), n_workers=(2,), total_work=20, repeats=3
        )


def test_the_explorer_sweep_sizes_and_caps_its_work(monkeypatch):
    r = cl.scaling.scaling_experiment(
        workload="io", max_workers=2, kinds=("thread",), size_s=0.02, repeats=1
    )
    assert r.n_workers == (1, 2) and r.total_work == 20 and r.workload == "io_wait"
    with pytest.raises(ValueError, match=r"'workload' must be one of 'cpu', 'c', 'zlib', 'io'"):
        cl.scaling.scaling_experiment(workload="gpu")
    with pytest.raises(ValueError, match=r"'max_workers' must be a whole number between 1 and"):
        cl.scaling.scaling_experiment(max_workers=10_000)


def test_the_default_sweep_on_a_64_core_machine_stays_within_the_cap(monkeypatch):
    """Its default max_workers was the usable cores, which the cap then refused (> 16)."""
    monkeypatch.setattr(sweep, "usable_cores", lambda: 64)
    monkeypatch.setattr(sweep, "lesson_processes", lambda factor=1: 16)
    r = sweep.scaling_experiment(workload="io", kinds=("thread",), size_s=0.02, repeats=1)
    assert max(r.n_workers) == 16
