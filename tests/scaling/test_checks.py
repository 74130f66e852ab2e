"""Lesson 03's self-checks: right answers pass, each common wrong answer gets concept and hints."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

import concurrency_lab as cl
from concurrency_lab.core.feedback import hint
from concurrency_lab.scaling import checks

METHODS = cl.available_start_methods()


def _speedup(serial_s, parallel_s):
    return serial_s / parallel_s


def _efficiency(serial_s, parallel_s, n_workers):
    return _speedup(serial_s, parallel_s) / n_workers


def test_efficiency_right_and_wrong():
    assert cl.check.scaling.efficiency(_speedup, _efficiency).ok
    upside = cl.check.scaling.efficiency(lambda a, b: b / a, _efficiency)
    assert not upside.ok and "upside down" in upside.message
    plain = cl.check.scaling.efficiency(_speedup, lambda a, b, n: a / b)
    assert not plain.ok and "that is the speedup itself" in plain.message
    assert len(plain.hints) == 3 and plain.hints[-1].startswith("```python")
    percent = cl.check.scaling.efficiency(_speedup, lambda a, b, n: 100 * a / b / n)
    assert "give a fraction" in percent.message
    called = cl.check.scaling.efficiency(_speedup(1, 1), _efficiency)
    assert "Pass your function itself" in called.message


def _timed_map(work, tasks, n_workers, chunksize, *, ctx=None):
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
        start = time.perf_counter()
        results = list(pool.map(work, tasks, chunksize=chunksize))
        seconds = time.perf_counter() - start
    return results, seconds


@pytest.mark.parametrize("method", METHODS)
def test_pool_map_passes_a_process_pool_with_chunksize_under_every_start_method(method):
    ctx = multiprocessing.get_context(method)
    fb = cl.check.scaling.pool_map(lambda *a: _timed_map(*a, ctx=ctx))
    assert fb.ok, fb.message
    assert "4 tasks per message (6 messages)" in fb.message


def test_pool_map_sees_a_missing_chunksize():
    def no_chunks(work, tasks, n_workers, chunksize):
        return _timed_map(work, tasks, n_workers, 1)

    fb = cl.check.scaling.pool_map(no_chunks)
    assert not fb.ok and "held 1 task(s), but chunksize=4" in fb.message
    assert hint("scaling.pool_map").number == 1


def test_pool_map_sees_threads_and_plain_loops():
    def threads(work, tasks, n_workers, chunksize):
        with ThreadPoolExecutor(n_workers) as pool:
            start = time.perf_counter()
            results = list(pool.map(work, tasks))
        return results, time.perf_counter() - start

    def loop(work, tasks, n_workers, chunksize):
        start = time.perf_counter()
        return [work(t) for t in tasks], time.perf_counter() - start

    for wrong in (threads, loop):
        fb = cl.check.scaling.pool_map(wrong)
        assert not fb.ok and "ran in this notebook's own process" in fb.message


def test_pool_map_sees_an_iterator_a_wrong_time_and_a_wrong_shape():
    def iterator(work, tasks, n_workers, chunksize):
        with ProcessPoolExecutor(n_workers) as pool:
            return pool.map(work, tasks, chunksize=chunksize), 0.1

    assert "not a list" in cl.check.scaling.pool_map(iterator).message

    def minutes(work, tasks, n_workers, chunksize):
        results, seconds = _timed_map(work, tasks, n_workers, chunksize)
        return results, seconds * 60

    assert "seconds should be the time the pool took" in cl.check.scaling.pool_map(minutes).message

    def only_results(work, tasks, n_workers, chunksize):
        return _timed_map(work, tasks, n_workers, chunksize)[0]

    assert "Return two things" in cl.check.scaling.pool_map(only_results).message


def test_pool_map_reports_an_error_and_a_hang():
    def broken(work, tasks, n_workers, chunksize):
        raise RuntimeError("oops")

    assert "raised RuntimeError: oops" in cl.check.scaling.pool_map(broken).message

    def slow(work, tasks, n_workers, chunksize):
        time.sleep(1.0)

    fb = cl.check.scaling.pool_map(slow, timeout_s=0.2)
    assert not fb.ok and "did not return within 0.2 s" in fb.message


def test_the_check_reads_the_message_size_from_inside_the_worker():
    assert checks.report_task(3)[1:] == (None, 9)  # called directly: no pool message


def test_amdahl_right_and_wrong():
    assert cl.check.scaling.amdahl(lambda n, s: 1 / (s + (1 - s) / n)).ok
    time_share = cl.check.scaling.amdahl(lambda n, s: s + (1 - s) / n)
    assert "that is the TIME" in time_share.message
    linear = cl.check.scaling.amdahl(lambda n, s: n)
    assert "the serial part does not get faster" in linear.message
    assert linear.hints[-1].startswith("```python")
