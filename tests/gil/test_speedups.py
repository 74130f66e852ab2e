"""Threads against processes and which work threads speed up: one verdict line, never wrong."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.gil import speedups
from concurrency_lab.gil.speedups import ThreadScalingResult, ThreadsVsProcessesResult
from tests.scaling.helpers import point, result

FLAT = [0.98, 1.0, 0.97, 1.01, 0.99]
GOOD = [1.85, 1.9, 1.88, 1.92, 1.8]


def _tvp(threads, processes, **kw) -> ThreadsVsProcessesResult:
    return ThreadsVsProcessesResult(
        2, result([point("thread", 2, threads), point("process", 2, processes)], **kw)
    )


def test_the_expected_answer_is_one_short_verdict_line():
    r = _tvp(FLAT, GOOD)
    assert r.outcome == "as expected"
    assert str(r) == (
        "With 2 workers on your 2 usable cores: threads 0.99x (no gain: one thread at a time "
        "held the GIL), processes 1.88x (each has its own interpreter and GIL)."
    )


def test_noise_or_a_busy_machine_gives_no_conclusion_and_no_ratio():
    r = _tvp(FLAT, [1.0, 1.8, 1.1, 1.9, 1.05], others=0.9)
    assert r.outcome == "flagged"
    text = str(r)
    assert "2 processes unclear (repeats 1.00x to 1.90x): too noisy to conclude" in text
    assert "No conclusion this time: rerun." in text
    assert "Other programs kept about 0.9 of your 2 cores busy" in text
    busy = _tvp(FLAT, FLAT, others=1.5)
    assert "though they should gain here: something kept your cores busy" in str(busy)
    impossible = _tvp([1.3, 1.35, 1.32, 1.4, 1.3], GOOD)
    assert "more than the GIL allows for pure-Python work" in str(impossible)
    assert impossible.outcome == "flagged"


def test_one_core_and_no_gil_are_said_conditionally():
    one = _tvp(FLAT, FLAT, cores=1)
    assert one.outcome == "as expected"
    assert "neither can speed up CPU work here; on 2 or more cores processes would" in str(one)
    free = _tvp(GOOD, GOOD, gil=False)
    assert free.outcome == "as expected"
    assert "Your interpreter runs without the GIL" in str(free)


def test_threads_vs_processes_runs_the_scaling_engine_at_n_workers(monkeypatch):
    seen = {}

    def fake(workload, **kw):
        seen.update(kw, workload=workload)
        return result([point("thread", 3, FLAT), point("process", 3, GOOD)])

    monkeypatch.setattr(speedups, "measure_scaling", fake)
    r = cl.gil.threads_vs_processes(3)
    assert seen["workload"] is cl.cpu_bound and seen["n_workers"] == (3,)
    assert seen["work_s"] == 0.4 and seen["repeats"] == 5
    assert seen["kinds"] == ("thread", "process") and r.n_workers == 3
    monkeypatch.setattr(speedups, "usable_cores", lambda: 64)
    assert speedups.default_workers() == 4
    monkeypatch.setattr(speedups, "usable_cores", lambda: 1)
    assert speedups.default_workers() == 2


def test_threads_vs_processes_for_real_with_tiny_work():
    r = cl.gil.threads_vs_processes(2, work_s=0.02, repeats=1)
    assert (r.threads.kind, r.processes.kind) == ("thread", "process")
    assert str(r).startswith("With 2 workers on your ")


def _kinds(*gains, cores=2, gil=True, others=None) -> ThreadScalingResult:
    names = [fn.__name__ for fn in speedups.THREAD_WORKLOADS.values()]
    results = tuple(
        result([point("thread", 2, g)], workload=name, cores=cores, gil=gil)
        for name, g in zip(names, gains)
    )
    from concurrency_lab.core.load import Load

    load = None if others is None else Load(1.0, cores, others)
    return ThreadScalingResult(2, tuple(speedups.THREAD_WORKLOADS), results, load)


def test_which_work_names_each_kind_and_why():
    r = _kinds(FLAT, GOOD, GOOD, [2.0, 1.99, 2.0, 2.0, 1.98])
    assert r.outcome == "as expected"
    assert str(r) == (
        "With 2 threads: pure Python 0.99x (no gain); sha256 (C) 1.88x; zlib (C) 1.88x; "
        "waiting (I/O) 2.00x. Only the work that releases the GIL (C code, waiting) ran in "
        "several threads at once."
    )
    assert r.holds_gil("pure Python") and not r.holds_gil("zlib (C)")


def test_which_work_flags_an_unclear_bar_with_the_load():
    r = _kinds(FLAT, GOOD, [1.0, 1.8, 1.1, 1.9, 1.05], GOOD, others=0.6)
    assert r.outcome == "flagged"
    text = str(r)
    assert "zlib (C) unclear (repeats 1.00x to 1.90x): too noisy to conclude" in text
    assert "Rerun to conclude." in text and "Other programs kept about 0.6" in text


def test_measure_thread_scaling_interleaves_and_sizes_every_workload():
    r = cl.gil.measure_thread_scaling(2, work_s=0.02, repeats=2)
    assert r.labels == ("pure Python", "sha256 (C)", "zlib (C)", "waiting (I/O)")
    assert [x.workload for x in r.results] == [
        "cpu_bound",
        "gil_releasing",
        "zlib_compress",
        "io_wait",
    ]
    assert all(x.total_work >= 20 for x in r.results)  # >= 10 units per thread
    assert all(len(x.points[0].speedups) == 2 for x in r.results)
    with pytest.raises(ValueError, match=r"'repeats' must be a whole number >= 1"):
        cl.gil.measure_thread_scaling(2, repeats=0)
