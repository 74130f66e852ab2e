"""Threads taking turns: the switch interval always restored, hand-off traces and their words."""

from __future__ import annotations

import sys

import pytest

import concurrency_lab as cl
from concurrency_lab.core.tracing import Span
from concurrency_lab.gil.handoff import HandoffResult


@pytest.fixture
def restore_interval():
    saved = sys.getswitchinterval()
    yield saved
    assert sys.getswitchinterval() == saved, "a test left the switch interval changed"
    sys.setswitchinterval(saved)


def test_switch_interval_is_set_inside_and_restored_after(restore_interval):
    with cl.gil.switch_interval(0.002) as value:
        assert value == 0.002
        assert sys.getswitchinterval() == pytest.approx(0.002)
    assert sys.getswitchinterval() == restore_interval


def test_switch_interval_is_restored_when_the_block_raises(restore_interval):
    with pytest.raises(RuntimeError), cl.gil.switch_interval(0.003):
        raise RuntimeError("inside")
    with pytest.raises(KeyboardInterrupt), cl.gil.switch_interval(0.003):
        raise KeyboardInterrupt
    assert sys.getswitchinterval() == restore_interval


@pytest.mark.parametrize("bad", [0, -1, 2, "5ms", True])
def test_switch_interval_rejects_bad_values(bad, restore_interval):
    with pytest.raises(ValueError, match="a switch interval must be a number of seconds above 0"):
        with cl.gil.switch_interval(bad):
            pass


def test_trace_handoff_structure(restore_interval):
    h = cl.gil.trace_handoff(2, duration_s=0.03, switch_interval_s=0.001)
    assert h.workers == ("thread-1", "thread-2")
    assert h.switch_interval_s == 0.001 and h.gil_enabled == cl.gil_enabled()
    assert {s.worker for s in h.spans} <= set(h.workers)
    assert all(s.end_ns >= s.start_ns for s in h.spans)
    assert str(h).startswith("2 threads took ")


def test_one_thread_is_said_to_run_alone(restore_interval):
    h = cl.gil.trace_handoff(1, duration_s=0.02)
    assert str(h).startswith("1 thread ran alone (share of time running: thread-1 ")
    assert "nothing asks it to let go" in str(h)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_threads": 0}, r"'n_workers' must be >= 1"),
        ({"duration_s": 0}, r"'duration_s' must be a number of seconds > 0 and <= 5"),
        ({"duration_s": 6}, r"'duration_s' must be a number of seconds > 0 and <= 5"),
        ({"gap_s": 1.0, "duration_s": 0.1}, r"'gap_s' must be a number of seconds > 0 and <= 0.1"),
        ({"switch_interval_s": 0}, r"a switch interval must be a number of seconds above 0"),
    ],
)
def test_trace_handoff_rejects_bad_arguments(kwargs, message, restore_interval):
    with pytest.raises(ValueError, match=message):
        cl.gil.trace_handoff(**kwargs)


def _trace(stretches, interval=0.005) -> HandoffResult:
    spans = tuple(
        Span(w, 1, i, "running", int(a * 1e6), int(b * 1e6))
        for i, (w, a, b) in enumerate(stretches)
    )
    end = max(s.end_ns for s in spans)
    return HandoffResult(2, interval, True, 0, end / 1e9, 5e-5, spans)


def test_turns_switches_and_overlap_on_a_known_trace():
    h = _trace(
        [("thread-1", 0, 5), ("thread-1", 5.1, 6), ("thread-2", 6, 11), ("thread-1", 11, 16)]
    )
    assert [t.worker for t in h.turns] == ["thread-1", "thread-2", "thread-1"]
    assert h.n_switches == 2
    assert h.median_turn_s == pytest.approx(0.005)
    assert h.overlap_fraction == 0
    assert h.busy_fraction("thread-2") == pytest.approx(5 / 16)
    both = _trace([("thread-1", 0, 10), ("thread-2", 5, 10)])
    assert both.overlap_fraction == pytest.approx(0.5)
    assert "two or more ran at the same moment for 50% of the run" in str(both)


def test_compared_with_says_whether_a_shorter_interval_gave_shorter_turns():
    long_ = _trace([("thread-1", 0, 5), ("thread-2", 5, 10), ("thread-1", 10, 15)], 0.005)
    short = _trace([("thread-1", 0, 1), ("thread-2", 1, 2), ("thread-1", 2, 3)], 0.001)
    text = long_.compared_with(short)
    assert text.startswith("Switch interval 5 ms: 3 turns, median 5.0 ms; switch interval 1 ms")
    assert "The 1 ms interval gave shorter turns." in text
    assert "In both, one thread ran at a time." in text
    assert "NOT shorter" in long_.compared_with(
        long_.__class__(**{**long_.__dict__, "switch_interval_s": 0.001})
    )
    assert long_.compared_with(long_).endswith("Both traces used the same interval.")


# --------------------------------------------------------------------------- took_turns


def _lane(name, kind, busy, wall=0.1, step=0.001, cpu_s=None):
    """A watched lane whose on-CPU state per 1 ms step is ``busy(t)``."""
    from concurrency_lab.core.watch_result import WatchedWorker

    times = [round(i * step, 6) for i in range(int(wall / step) + 1)]
    cum, total = [], 0.0
    for i, _t in enumerate(times):
        if i:
            total += step if busy(times[i - 1]) else 0.0
        cum.append(total)
    return WatchedWorker(
        name, kind, 1, None, 0.0, wall, total if cpu_s is None else cpu_s, "main",
        "started", tuple(times), tuple(cum),
    )  # fmt: skip


def _watch(workers, resolution="samples", others=None, cores=2):
    from concurrency_lab.core.watch_result import WatchResult

    return WatchResult(tuple(workers), (), 0.1, resolution, 0.001, cores, others_busy=others)


def test_took_turns_reads_threads_taking_turns_and_processes_side_by_side():
    turn = lambda k: lambda t: int(t / 0.005) % 2 == k  # noqa: E731
    w = _watch(
        [
            _lane("Thread-1", "thread", turn(0)),
            _lane("Thread-2", "thread", turn(1)),
            _lane("Process-1", "process", lambda t: True),
            _lane("Process-2", "process", lambda t: True),
        ]
    )
    r = cl.gil.took_turns(w)
    assert r.thread_share is not None and r.thread_share < 0.1
    assert r.process_share == pytest.approx(1.0)
    text = str(r)
    assert text.startswith("Your 2 threads were on a CPU at the same moment in ")
    assert "they took turns; your 2 processes in 100%: they ran side by side." in text
    busy = cl.gil.took_turns(_watch(w.workers, others=0.9))
    assert "Other programs kept about 0.9 of your 2 cores busy" in str(busy)
    assert "With 1 usable core" in str(cl.gil.took_turns(_watch(w.workers, cores=1)))


def test_took_turns_with_totals_only_and_with_nothing_started():
    lanes = [
        _lane("Thread-1", "thread", lambda t: True, cpu_s=0.05),
        _lane("Thread-2", "thread", lambda t: True, cpu_s=0.05),
    ]
    r = cl.gil.took_turns(_watch(lanes, resolution="totals"))
    assert r.thread_cores == pytest.approx(1.0)
    assert "(this platform gives only totals), at most one core's worth" in str(r)
    assert str(cl.gil.took_turns(_watch([]))).startswith("The watched code did not start two")
