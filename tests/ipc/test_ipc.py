"""Tests of lesson 06 (IPC): each primitive under every start method, the measurement's
structure, the pipeline, clean-up after injected failures, plots, explorers and self-checks."""

from __future__ import annotations

import os
import time

import psutil
import pytest

import concurrency_lab as cl
from concurrency_lab.core.errors import WorkerError
from concurrency_lab.ipc import primitives as ipc

METHODS = cl.available_start_methods()
SQUARES = (1, 4, 9, 16, 25, 36, 49, 64)


def _shm() -> set[str]:
    try:
        return {n for n in os.listdir("/dev/shm") if not n.startswith("sem.")}
    except FileNotFoundError:  # not Linux: the autouse fixture has nothing to compare either
        return set()


def _children_left(grace_s: float = 3.0) -> list[str]:
    """Child processes still running (multiprocessing's long-lived helpers excepted)."""
    deadline = time.monotonic() + grace_s
    while True:
        left = []
        for p in psutil.Process().children(recursive=True):
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    continue
                cmd = " ".join(p.cmdline())
            except psutil.Error:
                continue
            if "forkserver" in cmd or "resource_tracker" in cmd:
                continue
            left.append(cmd)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


# --------------------------------------------------------------------------- primitives


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("duplex", [True, False])
def test_pipe(method, duplex):
    demo = cl.ipc.pipe_demo(duplex=duplex, start_method=method)
    assert demo.received == SQUARES
    assert demo.ok
    assert demo.start_method == method
    assert demo.primitive == ("Pipe (duplex)" if duplex else "Pipe (two one-way)")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", ["Queue", "SimpleQueue", "JoinableQueue"])
def test_queues(method, kind):
    demo = cl.ipc.queue_demo(kind=kind, n_workers=2, start_method=method)
    assert demo.primitive == kind
    assert demo.received == SQUARES
    assert demo.ok


def test_queue_demo_one_worker():
    assert cl.ipc.queue_demo(n_workers=1).received == SQUARES


def test_thread_queue_reference():
    demo = cl.ipc.thread_queue_demo(n_workers=3)
    assert demo.start_method is None
    assert demo.received == SQUARES


@pytest.mark.parametrize("method", METHODS)
def test_manager_dict_and_list(method):
    demo = cl.ipc.manager_demo(n_workers=3, start_method=method)
    assert demo.received == ({"worker-1": 1, "worker-2": 4, "worker-3": 9}, [1, 2, 3])
    assert demo.ok
    assert _children_left() == []


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shared", ["Value", "Array"])
def test_counter_with_lock_loses_nothing(method, shared):
    demo = cl.ipc.counter_demo(shared=shared, lock=True, n_increments=2000, start_method=method)
    assert demo.final == demo.expected == 4000
    assert demo.lost == 0


@pytest.mark.parametrize("shared", ["Value", "Array"])
def test_counter_without_lock_never_gains(shared):
    # Whether updates are lost depends on timing; that none are invented does not.
    demo = cl.ipc.counter_demo(shared=shared, lock=False, n_increments=5000)
    assert 0 < demo.final <= demo.expected
    assert demo.lock is False


@pytest.mark.parametrize("method", METHODS)
def test_shared_memory_numpy_view(method):
    before = _shm()
    demo = cl.ipc.shared_memory_demo(n=1000, start_method=method)
    assert demo.received == (2 * sum(range(1000)),) * 2
    assert _shm() - before == set()


@pytest.mark.parametrize("method", METHODS)
def test_shareable_list(method):
    demo = cl.ipc.shareable_list_demo(start_method=method)
    assert demo.received == ([11, 2.5, "xyz", True, None],) * 2


@pytest.mark.parametrize("method", METHODS)
def test_shm_child_sum(method):
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=8 * 3)
    try:
        view = shm.buf.cast("d")
        view[0], view[1], view[2] = 1.5, 2.5, 3.0
        view.release()
        assert cl.ipc.shm_child_sum(shm.name, 3, start_method=method) == 7.0
        with pytest.raises(WorkerError, match="injected failure"):
            cl.ipc.shm_child_sum(shm.name, 3, start_method=method, fail=True)
    finally:
        shm.close()
        shm.unlink()


@pytest.mark.parametrize("method", METHODS)
def test_join_before_drain(method):
    demo = cl.ipc.join_before_drain(size=1 << 20, wait_s=0.3, start_method=method)
    assert demo.alive_after_join is True  # 1 MiB cannot fit in the pipe: the child must wait
    assert demo.alive_after_drain is False


def test_qsize_and_proxy_cost():
    assert isinstance(cl.ipc.qsize_available(), bool)
    cost = cl.ipc.proxy_cost(n_calls=20)
    assert cost.n_calls == 20
    assert cost.local_us > 0 and cost.proxy_us > 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: cl.ipc.queue_demo(kind="Deque"),
            "'kind' must be one of Queue, SimpleQueue, JoinableQueue (got 'Deque').",
        ),
        (lambda: cl.ipc.queue_demo(n_workers=0), "'n_workers' must be between 1 and 8 (got 0)."),
        (
            lambda: cl.ipc.counter_demo(shared="dict"),
            "'shared' must be 'Value' or 'Array' (got 'dict').",
        ),
        (lambda: cl.ipc.counter_demo(n_workers=1), "'n_workers' must be between 2 and 8 (got 1)."),
        (
            lambda: cl.ipc.pipe_demo(timeout_s=0),
            "'timeout_s' must be a positive number of seconds (got 0).",
        ),
        (lambda: cl.ipc.shared_memory_demo(n=0), "'n' must be between 1 and 100000000 (got 0)."),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_bad_types():
    with pytest.raises(TypeError, match=r"^'n_workers' must be a whole number \(got 2.0\)\.$"):
        cl.ipc.queue_demo(n_workers=2.0)
    with pytest.raises(TypeError, match="must be the segment's name"):
        cl.ipc.shm_child_sum(123, 3)


# --------------------------------------------------------------------------- clean-up on failure


@pytest.mark.parametrize("method", METHODS)
def test_shared_memory_freed_when_child_fails(method):
    before = _shm()
    with pytest.raises(WorkerError, match="injected failure after attaching"):
        cl.ipc.shared_memory_demo(n=100, start_method=method, fail=True)
    assert _shm() - before == set()
    assert _children_left() == []


@pytest.mark.parametrize("method", METHODS)
def test_manager_shut_down_when_worker_fails(method):
    with pytest.raises(WorkerError, match="injected failure in worker-"):
        cl.ipc.manager_demo(start_method=method, fail=True)
    assert _children_left() == []  # neither workers nor the manager's server process


def test_shared_memory_freed_on_keyboard_interrupt(monkeypatch):
    before = _shm()

    def interrupted(self, indices=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(ipc.Children, "results", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cl.ipc.shared_memory_demo(n=100)
    assert _shm() - before == set()
    assert _children_left() == []


def test_measure_freed_on_keyboard_interrupt(monkeypatch):
    before = _shm()
    calls = []

    def interrupted(send, n, **kwargs):
        calls.append(n)
        raise KeyboardInterrupt

    monkeypatch.setattr(ipc, "_time_messages", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cl.ipc.measure_ipc(["SharedMemory", "Manager", "Queue"], [64])
    assert calls == [64]
    assert _shm() - before == set()
    assert _children_left() == []


@pytest.mark.parametrize("failing", ["echo-SharedMemory", "echo-Manager"])
def test_measure_freed_when_a_child_cannot_start(monkeypatch, failing):
    before = _shm()
    original = ipc.Children.start

    def start(self, name, *args):
        if name == failing:
            raise OSError("injected: cannot start a process")
        return original(self, name, *args)

    monkeypatch.setattr(ipc.Children, "start", start)
    with pytest.raises(OSError, match="injected: cannot start a process"):
        cl.ipc.measure_ipc(["SharedMemory", "Manager"], [64])
    assert _shm() - before == set()
    assert _children_left() == []  # echo children and the manager's server are gone


@pytest.mark.skipif("fork" not in METHODS, reason="patching a worker reaches only forked children")
def test_measure_freed_when_echo_child_fails(monkeypatch):
    before = _shm()

    def broken_echo(conn, name):
        raise RuntimeError("injected failure in the echo child")

    monkeypatch.setattr(ipc, "_echo_shm", broken_echo)
    with pytest.raises(WorkerError, match="injected failure in the echo child"):
        cl.ipc.measure_ipc(["Pipe", "SharedMemory"], [64], start_method="fork")
    assert _shm() - before == set()
    assert _children_left() == []


# --------------------------------------------------------------------------- measure_ipc


@pytest.mark.parametrize("method", METHODS)
def test_measure_ipc_structure(method):
    res = cl.ipc.measure_ipc(
        ["Pipe", "SimpleQueue", "Queue", "SharedMemory", "Manager", "queue.Queue"],
        [4096, 64],
        start_method=method,
        min_repeats=2,
        max_repeats=3,
        budget_s=0,
    )
    assert res.methods == (
        "memcpy",
        "Pipe",
        "SimpleQueue",
        "Queue",
        "SharedMemory",
        "Manager",
        "queue.Queue",
    )
    assert res.sizes == (64, 4096)
    assert res.start_method == method
    assert len(res.seconds) == len(res.methods)
    assert all(len(row) == 2 and all(t > 0 for t in row) for row in res.seconds)
    assert all(2 <= n <= 3 for row in res.samples for n in row)
    assert len(res.pickle_s) == 2 and all(t > 0 for t in res.pickle_s)
    assert res.pickle_samples == (2, 2)  # timed like the messages: budget 0 -> min_repeats
    t = res.time_s("Pipe", 4096)
    assert res.latency_us("Pipe", 4096) == pytest.approx(t * 1e6)
    assert res.gbps("Pipe", 4096) == pytest.approx(4096 / t / 1e9)
    assert res.ratio("memcpy", 64) == pytest.approx(1.0)
    assert res.ratio("Pipe", 64) == pytest.approx(res.gbps("Pipe", 64) / res.gbps("memcpy", 64))
    assert res.pickle_share("Pipe", 64) == pytest.approx(res.pickle_s[0] / res.time_s("Pipe", 64))
    fastest = res.fastest(64)
    assert fastest not in ("memcpy", "queue.Queue")
    assert res.time_s(fastest, 64) == min(
        res.time_s(m, 64) for m in res.methods if m not in ("memcpy", "queue.Queue")
    )
    lines = res.table().splitlines()
    assert len(lines) == len(res.methods) + 2
    assert lines[0].split()[0] == "method"


def test_measure_ipc_times_pickling_with_the_messages_budget():
    # Pickling gets the same repeats and budget as the messages (not a fixed three): with a
    # one-second budget, 20 pickle round trips of 64 bytes are all timed.
    res = cl.ipc.measure_ipc(["Pipe"], [64], min_repeats=1, max_repeats=20, budget_s=1.0)
    assert res.pickle_samples == (20,)


def test_measure_ipc_defaults_and_memcpy_always_first():
    res = cl.ipc.measure_ipc(
        ["Pipe", "memcpy", "Pipe"], 64, min_repeats=1, max_repeats=1, budget_s=0
    )
    assert res.methods == ("memcpy", "Pipe")
    assert res.sizes == (64,)
    assert ipc.DEFAULT_SIZES[0] == 64 and ipc.METHODS[0] == "memcpy"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"methods": ["Pipe", "carrier pigeon"]},
            "'methods' must be chosen from memcpy, "
            "queue.Queue, Pipe, SimpleQueue, Queue, SharedMemory, Manager (got 'carrier pigeon').",
        ),
        ({"methods": []}, "'methods' is empty: give at least one, e.g. ['Pipe', 'Queue']."),
        (
            {"sizes": [0]},
            "'sizes' must be message sizes in bytes from 1 to 1073741824 (1 GiB) (got 0).",
        ),
        ({"sizes": []}, "'sizes' is empty: give at least one, e.g. [64, 1_048_576]."),
        ({"budget_s": -1}, "'budget_s' must be a number of seconds from 0 to 10 (got -1)."),
    ],
)
def test_measure_ipc_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as info:
        cl.ipc.measure_ipc(**kwargs)
    assert str(info.value) == message


def test_ipc_result_lookup_errors():
    res = ipc.IPCResult(
        ("memcpy", "Pipe"), (64,), ((1e-6,), (3e-5,)), (1e-6,), "fork", ((1,), (1,))
    )
    with pytest.raises(ValueError, match=r"method 'Queue' was not measured \(measured: memcpy, "):
        res.gbps("Queue", 64)
    with pytest.raises(ValueError, match=r"size 65 was not measured"):
        res.gbps("Pipe", 65)
    assert res.fastest(64) == "Pipe"
    assert res.fastest(64, between_processes=False) == "memcpy"


# --------------------------------------------------------------------------- pipeline


@pytest.mark.parametrize("method", [None, *METHODS])
def test_pipeline(method):
    kind = "thread" if method is None else "process"
    res = cl.ipc.run_pipeline(
        n_producers=2,
        n_consumers=3,
        queue_size=2,
        n_items=12,
        item_cost_s=0.001,
        make_cost_s=0,
        kind=kind,
        start_method=method,
    )
    assert res.every_item_once
    assert sorted(i for c in res.consumed for i in c) == list(range(12))
    assert len(res.consumed) == 3
    assert res.kind == kind and res.start_method == method
    assert all(0 <= d <= 2 for _, d in res.depth)
    assert len(res.depth) == 1 + 12 + 12  # the start, then one point per put and per get
    assert res.max_depth <= 2
    labels = [s.label for s in res.spans]
    assert sum(lab.startswith("item ") for lab in labels) == 12
    assert sum(lab.startswith("put ") for lab in labels) == 12
    assert {s.worker for s in res.spans} >= {"producer-1", "producer-2"}
    assert res.elapsed_s > 0 and res.throughput > 0
    assert 0 <= res.busy_fraction() <= 1


@pytest.mark.parametrize("method", METHODS)
def test_pipeline_sentinels_never_overtake_items(method):
    # Items a producer put can still sit in its Queue's feeder thread when it returns; if the
    # sentinels went out then, they could reach the consumers first and items would be lost.
    # Without the producer's flush, 4 of 24 such runs lost items when this was written.
    for _ in range(6):
        res = cl.ipc.run_pipeline(
            n_producers=3, n_items=12, item_cost_s=0, make_cost_s=0, start_method=method
        )
        assert res.every_item_once, res.consumed


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_pipeline_worker_failure_stops_everyone(kind):
    with pytest.raises(WorkerError, match="injected failure while processing item 3"):
        cl.ipc.run_pipeline(n_items=10, item_cost_s=0.001, kind=kind, fail_at_item=3)
    assert _children_left() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_consumers": 0}, "'n_consumers' must be between 1 and 16 (got 0)."),
        ({"queue_size": 0}, "'queue_size' must be between 1 and 1000 (got 0)."),
        ({"item_cost_s": 2}, "'item_cost_s' must be a number of seconds from 0 to 1 (got 2)."),
        ({"kind": "fiber"}, "'kind' must be 'thread' or 'process' (got 'fiber')."),
        ({"n_items": 5, "fail_at_item": 5}, "'fail_at_item' must be between 0 and 4 (got 5)."),
    ],
)
def test_pipeline_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as info:
        cl.ipc.run_pipeline(**kwargs)
    assert str(info.value) == message
