"""Lesson 06's plain code runs as the notebook shows it, under every start method.

Each test repeats a code cell of ``06-ipc.ipynb`` with an explicit context, so that the
children (functions of ``cl.ipc``) are started with fork, spawn and forkserver alike. What a
cell's printed sentence says is computed from the same values asserted here.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import time
from multiprocessing import shared_memory

import numpy as np
import pytest

import concurrency_lab as cl
from concurrency_lab.core.errors import WorkerError

METHODS = cl.available_start_methods()


def _ctx(method):
    return multiprocessing.get_context(method)


def _segment_there(name: str) -> bool:
    return sys.platform.startswith("linux") and os.path.exists(f"/dev/shm/{name.lstrip('/')}")


# --------------------------------------------------------------------------- Pipe


@pytest.mark.parametrize("method", METHODS)
def test_pipe_with_poll_gets_every_answer(method):
    ctx = _ctx(method)
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=cl.ipc.square_server, args=(child_end,))
    child.start()
    child_end.close()
    answers = []
    try:
        for x in [1, 2, 3, 4]:
            parent_end.send(x)
            assert parent_end.poll(10)
            answers.append(parent_end.recv())
        parent_end.send(None)
    finally:
        parent_end.close()
        child.join(timeout=10)
    assert answers == [1, 4, 9, 16]
    assert child.exitcode == 0


def test_square_server_ends_when_the_parent_closes_its_end():
    # Under spawn the child holds only its own end. (A forked child also inherits a copy of
    # the parent's end, so it would see no EOF: that is why the lesson sends None.)
    ctx = _ctx("spawn")
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=cl.ipc.square_server, args=(child_end,))
    child.start()
    child_end.close()
    parent_end.close()  # no None sent: EOF must end the child too
    child.join(timeout=10)
    assert child.exitcode == 0


def test_silent_server_never_answers_and_poll_says_so():
    ctx = _ctx("spawn")
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=cl.ipc.silent_server, args=(child_end,))
    child.start()
    child_end.close()
    try:
        parent_end.send(7)
        t0 = time.monotonic()
        assert parent_end.poll(0.3) is False
        assert time.monotonic() - t0 >= 0.29
        child.join(timeout=0.2)
        assert child.is_alive()  # it would not end by itself: the parent must stop it
    finally:
        parent_end.close()
        child.terminate()
        child.join(timeout=5)


# --------------------------------------------------------------------------- Queue


@pytest.mark.parametrize("method", METHODS)
def test_queue_with_one_sentinel_per_worker(method):
    ctx = _ctx(method)
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=cl.ipc.square_worker, args=(tasks, results)) for _ in range(2)]
    for w in workers:
        w.start()
    for x in range(1, 9):
        tasks.put(x)
    for _ in workers:
        tasks.put(None)
    pairs = [results.get(timeout=10) for _ in range(8)]
    for w in workers:
        w.join(timeout=10)
    assert sorted(pairs) == [(x, x * x) for x in range(1, 9)]
    assert [w.exitcode for w in workers] == [0, 0]


def test_square_worker_returns_how_many_it_squared():
    tasks, results = queue.Queue(), queue.Queue()
    for x in (2, 3, None):
        tasks.put(x)
    assert cl.ipc.square_worker(tasks, results) == 2
    assert [results.get_nowait(), results.get_nowait()] == [(2, 4), (3, 9)]


@pytest.mark.parametrize("method", METHODS)
def test_join_before_drain_keeps_the_child_alive_until_read(method):
    # 1 MB is far more than an OS pipe holds (64 KiB on Linux): the child's queue feeder
    # cannot finish writing, so the process cannot end before the parent reads.
    ctx = _ctx(method)
    q = ctx.Queue()
    p = ctx.Process(target=cl.ipc.put_big, args=(q, 1_000_000))
    p.start()
    try:
        p.join(timeout=1)
        assert p.is_alive()
        data = q.get(timeout=10)
        p.join(timeout=10)
        assert not p.is_alive()
        assert len(data) == 1_000_000
    finally:
        if p.is_alive():
            p.terminate()
            p.join(5)


# --------------------------------------------------------------------------- Value


def _count_together(ctx, use_lock, n=2000):
    counter = ctx.Value("i", 0)
    start = ctx.Barrier(2)
    workers = [
        ctx.Process(target=cl.ipc.count_up, args=(counter, n, start, use_lock)) for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    return counter.value


@pytest.mark.parametrize("method", METHODS)
def test_count_up_with_the_lock_loses_nothing(method):
    assert _count_together(_ctx(method), use_lock=True) == 4000


def test_count_up_without_the_lock_never_invents_updates():
    # Whether updates are lost depends on timing (the notebook says so from its own count);
    # that none are invented does not.
    assert 0 < _count_together(_ctx(None), use_lock=False) <= 4000


def test_count_up_in_one_process_is_exact():
    counter = multiprocessing.Value("i", 0)
    cl.ipc.count_up(counter, 500, multiprocessing.Barrier(1))
    cl.ipc.count_up(counter, 500, multiprocessing.Barrier(1), use_lock=True)
    assert counter.value == 1000


# --------------------------------------------------------------------------- SharedMemory


@pytest.mark.parametrize("method", METHODS)
def test_double_in_place_changes_what_the_parent_sees(method):
    ctx = _ctx(method)
    n = 1000
    shm = shared_memory.SharedMemory(create=True, size=n * 8)
    try:
        values = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
        values[:] = np.arange(n)
        child = ctx.Process(target=cl.ipc.double_in_place, args=(shm.name, n))
        child.start()
        child.join(timeout=30)
        assert child.exitcode == 0
        assert values.sum() == 2 * sum(range(n))
        del values
    finally:
        shm.close()
        shm.unlink()


@pytest.mark.parametrize("method", METHODS)
def test_shm_child_sum_and_its_failure(method):
    shm = shared_memory.SharedMemory(create=True, size=8 * 3)
    try:
        view = shm.buf.cast("d")
        view[0], view[1], view[2] = 1.5, 2.5, 3.0
        view.release()
        assert cl.ipc.shm_child_sum(shm.name, 3, start_method=method) == 7.0
        with pytest.raises(WorkerError, match="injected failure"):
            cl.ipc.shm_child_sum(shm.name, 3, start_method=method, fail=True)
        if sys.platform.startswith("linux"):
            assert _segment_there(shm.name)  # the child never unlinks: the creator does
    finally:
        shm.close()
        shm.unlink()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": 3, "n": 1}, TypeError, "'name' must be the segment's name, shm.name (got 3)."),
        ({"name": "x", "n": 0}, ValueError, "'n' must be between 1 and 1000000000 (got 0)."),
        ({"name": "x", "n": 1, "timeout_s": 0}, ValueError, "'timeout_s' must be a positive"),
        ({"name": "x", "n": 1, "start_method": "fork2"}, ValueError, "'start_method' must be"),
    ],
)
def test_shm_child_sum_bad_arguments(kwargs, error, message):
    with pytest.raises(error) as info:
        cl.ipc.shm_child_sum(**kwargs)
    assert str(info.value).startswith(message)


def test_shm_child_sum_of_a_missing_segment_reports_the_childs_error():
    with pytest.raises(WorkerError, match="FileNotFoundError"):
        cl.ipc.shm_child_sum("lab_no_such_segment", 1)


@pytest.mark.parametrize("method", METHODS)
def test_store_square_through_a_manager_dict(method):
    ctx = _ctx(method)
    with ctx.Manager() as manager:
        d = manager.dict()
        workers = [ctx.Process(target=cl.ipc.store_square, args=(d, x)) for x in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=10)
        assert d.copy() == {0: 0, 1: 1, 2: 4}
