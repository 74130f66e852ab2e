"""What eats the gain: pool start-up per start method (first pool apart), task size, chunksize."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.scaling import overheads
from concurrency_lab.scaling.overheads import GranularityResult, PoolStartupResult

METHODS = cl.available_start_methods()


@pytest.mark.parametrize("method", METHODS)
def test_pool_startup_keeps_the_first_pool_apart(method):
    r = cl.scaling.measure_pool_startup(n_workers=1, start_method=method, repeats=1)
    assert r.start_method == method and r.first_s > 0
    assert len(r.cold_s) == 1 and len(r.warm_s) == 2
    assert r.started_server is None or method == "forkserver"
    assert "cold/warm" in str(r)


def test_the_first_forkserver_pool_says_it_started_the_server(monkeypatch):
    monkeypatch.setattr(overheads, "forkserver_running", lambda: False)
    if "forkserver" not in METHODS:
        pytest.skip("no forkserver here")
    r = cl.scaling.measure_pool_startup(n_workers=1, start_method="forkserver", repeats=1)
    assert r.started_server is True
    assert "(it also started the forkserver, once per program)" in str(r)


def test_start_methods_table_and_summary_from_known_numbers():
    rows = (
        PoolStartupResult("process", 2, "fork", 0.03, (0.025, 0.024, 0.026), (3e-4,) * 4),
        PoolStartupResult("process", 2, "spawn", 0.31, (0.30, 0.29, 0.32), (4e-4,) * 4),
        PoolStartupResult("process", 2, "forkserver", 0.15, (0.012,) * 3, (3e-4,) * 4, True),
    )
    r = overheads.StartMethodsResult(rows)
    assert str(r) == (
        "A new pool of 2 processes took longest with spawn (300.0 ms) and least with "
        "forkserver (12.0 ms); on a running pool every method took under 0.40 ms. The first "
        "forkserver pool (150.0 ms) also started the server; later ones did not."
    )
    lines = r.table().splitlines()
    assert lines[0].split() == [
        "start",
        "method",
        "first",
        "pool",
        "new",
        "pool",
        "running",
        "cold/warm",
    ]
    assert lines[3].split()[:2] == ["forkserver", "(server)"]
    assert rows[0].ratio == pytest.approx(0.025 / 3e-4)


def test_fork_is_labelled_unsafe_on_macos(monkeypatch):
    from concurrency_lab.core import machine

    monkeypatch.setattr(machine.sys, "platform", "darwin")
    row = PoolStartupResult("process", 2, "fork", 0.03, (0.02,), (3e-4,))
    assert row.label == "fork (unsafe on macOS)"


def test_compare_start_methods_runs_each_method_to_compare(monkeypatch):
    monkeypatch.setattr(overheads, "start_methods_to_compare", lambda: (METHODS[0],))
    r = cl.scaling.compare_start_methods(n_workers=1, repeats=1)
    assert [row.start_method for row in r.rows] == [METHODS[0]]
    assert str(r) == str(r.rows[0])


def test_granularity_rows_messages_and_idle_workers():
    r = GranularityResult(800, 2, 50, (100, 400), (0.01, 0.005), 0.01)
    assert r.n_tasks == (8, 2) and r.n_messages == (1, 1)
    assert r.idle_notes()[0] == (
        "8 tasks in chunks of 50 make 1 message for 2 workers: 1 worker had nothing to do."
    )
    assert "8 tasks of 100 iterations 1.00x; 2 tasks of 400 iterations 2.00x." in str(r)
    assert r.table().splitlines()[1].split() == ["100", "8", "1", "10.0ms", "1.00x"]


def test_measure_granularity_structure_and_errors():
    r = cl.scaling.measure_granularity(task_sizes=(1000,), total_iterations=2500, repeats=1)
    assert r.n_tasks == (3,) and len(r.row_speedups) == 1
    with pytest.raises(ValueError, match=r"'chunksize' must be a whole number >= 1 \(got 0\)"):
        cl.scaling.measure_granularity(chunksize=0)
    with pytest.raises(ValueError, match=r"'task_sizes' is empty"):
        cl.scaling.measure_granularity(task_sizes=())
