"""overlap(): whether a watched cell's workers ran at the same time, from the timeline only."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

import concurrency_lab as cl
from concurrency_lab.core.watch_result import WatchedWorker, WatchResult
from concurrency_lab.threads_and_processes import overlap
from concurrency_lab.threads_and_processes.side_by_side import TOGETHER_MIN_S

METHODS = cl.available_start_methods()


def watched(*lanes: tuple[str, str, float, float | None], wall_s: float = 1.0) -> WatchResult:
    """A hand-made watch: ``(name, kind, start_s, end_s)`` per lane the code started."""
    workers = tuple(
        WatchedWorker(name, kind, 1, None, start, end, 0.0, "MainProcess")  # type: ignore[arg-type]
        for name, kind, start, end in lanes
    )
    return WatchResult(workers, (), wall_s, "samples", 0.001, 2)


def run_watched(make, *, together: bool) -> cl.watch:
    with cl.watch() as w:
        if together:
            workers = [make() for _ in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        else:
            for _ in range(2):
                worker = make()
                worker.start()
                worker.join()
    return w


def test_threads_started_together_overlap_and_one_after_another_do_not():
    def make():
        return threading.Thread(target=cl.sleep_then_return, args=(1, 0.05))

    res = overlap(run_watched(make, together=True))
    assert res.overlapped and len(res.lifetimes) == 2
    assert res.summary().startswith("The 2 threads were alive at the same time for 0.0")
    res = overlap(run_watched(make, together=False))
    assert not res.overlapped
    assert res.summary() == (
        "The 2 threads were never alive at the same time: each ended before the next started. "
        "Start them all first, then join them all."
    )


@pytest.mark.parametrize("method", METHODS)
def test_processes_overlap_under_every_start_method_and_sequential_ones_do_not(method):
    ctx = multiprocessing.get_context(method)

    def make():
        return ctx.Process(target=cl.sleep_then_return, args=(1, 0.05))

    together = overlap(run_watched(make, together=True))
    assert together.overlapped, together.summary()
    assert [life.kind for life in together.lifetimes] == ["process", "process"]
    # The watcher sees a process end a few ms late: that must not count as overlapping.
    apart = overlap(run_watched(make, together=False))
    assert not apart.overlapped, apart.summary()
    assert apart.longest_s < TOGETHER_MIN_S


def test_a_process_that_takes_long_to_start_still_overlaps():
    # Two 0.2 s waits behind 0.3 s of start-up: 0.5 s in all, yet they ran side by side.
    w = watched(("P-1", "process", 0.0, 0.5), ("P-2", "process", 0.01, 0.52), wall_s=0.52)
    res = overlap(w)
    assert res.overlapped and res.together_s == pytest.approx(0.49)
    assert res.longest_s == pytest.approx(0.49)


def test_many_small_late_ends_do_not_add_up_to_an_overlap():
    # Four processes one after another, each end seen 8 ms late: 24 ms "together" in all,
    # but never one stretch long enough to mean they ran side by side.
    lanes = [(f"P-{i}", "process", 0.1 * i, 0.1 * i + 0.108) for i in range(4)]
    res = overlap(watched(*lanes))
    assert res.together_s == pytest.approx(0.024)
    assert res.longest_s == pytest.approx(0.008) and not res.overlapped


def test_kind_filter_and_summaries_for_few_workers():
    w = watched(
        ("T", "thread", 0.0, 1.0), ("P-1", "process", 0.0, 0.3), ("P-2", "process", 0.4, 0.6)
    )
    assert overlap(w).overlapped  # the thread overlaps both
    only = overlap(w, kind="process")
    assert not only.overlapped and len(only.lifetimes) == 2
    assert overlap(watched(("T", "thread", 0.0, 0.5))).summary() == (
        "The watched code started 1 thread, so nothing could run beside it."
    )
    assert overlap(watched(wall_s=0.25)).summary() == (
        "The watched code ran for 0.25 s and started no thread or process."
    )
    mixed = watched(("T", "thread", 0.0, 0.5), ("P", "process", 0.1, None), wall_s=0.8)
    assert overlap(mixed).summary().startswith("The 1 thread and 1 process were alive")


def test_bad_input_says_what_it_needs():
    with pytest.raises(TypeError, match=r"overlap\(\) needs what the lab watched: _timeline"):
        overlap(cl.start_join(cl.noop, 1))
    with pytest.raises(ValueError, match="'kind' must be 'thread' or 'process'"):
        overlap(watched(), kind="fiber")  # type: ignore[arg-type]
