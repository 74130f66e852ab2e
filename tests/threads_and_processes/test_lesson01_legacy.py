"""Lesson 01 tests moved out of tests/core/test_foundation.py (to be kept or replaced)."""

from __future__ import annotations

import threading

import concurrency_lab as cl
from concurrency_lab.core import workloads as wl

# --------------------------------------------------------------------------- import hygiene


def _cube(x):
    return x**3


def test_plot_startup_and_memory():
    res = cl.threads_and_processes.StartupResult(
        labels=("thread", "process (fork)"), samples_s=((1e-4,), (3e-3,))
    )
    fig = cl.threads_and_processes.plot_startup(res)
    assert len(fig.axes[0].patches) == 2
    demo = cl.threads_and_processes.MemoryDemo("thread", None, 2, 0, (1, 2), 2)
    fig = cl.threads_and_processes.plot_memory([demo])
    assert [p.get_height() for p in fig.axes[0].patches] == [2, 2]


def test_check_start_then_join_accepts_right_and_explains_wrong():
    def right(task):
        ts = [threading.Thread(target=task) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def serial(task):
        for _ in range(2):
            t = threading.Thread(target=task)
            t.start()
            t.join()

    assert cl.check.threads_and_processes.check_start_then_join(right).ok
    fb = cl.check.threads_and_processes.check_start_then_join(serial)
    assert not fb.ok and "Start BOTH threads first" in fb.message
    fb = cl.check.threads_and_processes.check_start_then_join(lambda task: None)
    assert not fb.ok and "The task never ran" in fb.message


def test_check_fastest_to_start_uses_the_measurement():
    res = cl.threads_and_processes.StartupResult(("thread", "process (spawn)"), ((1e-4,), (1e-1,)))
    assert cl.check.threads_and_processes.check_fastest_to_start(
        ["thread", "process (spawn)"], res
    ).ok
    fb = cl.check.threads_and_processes.check_fastest_to_start(["process (spawn)", "thread"], res)
    assert not fb.ok and "position 1" in fb.message
    assert "missing" in cl.check.threads_and_processes.check_fastest_to_start([], res).message


def test_check_cube_in_spawn():
    fb = cl.check.threads_and_processes.check_cube_in_spawn(abs)
    assert not fb.ok and "expected 27 and -8" in fb.message
    fb = cl.check.threads_and_processes.check_cube_in_spawn(wl.raise_error)
    assert not fb.ok and "failed there" in fb.message
    fb = cl.check.threads_and_processes.check_cube_in_spawn(lambda x: x**3)
    assert not fb.ok and "cannot be pickled" in fb.message
    assert cl.check.threads_and_processes.check_cube_in_spawn(
        _cube
    ).ok  # this test module is importable by children
