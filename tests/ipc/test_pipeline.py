"""run_pipeline: every item once under every start method, sentinels never overtake items,
'blocked' only for puts that waited, coarse sleeps named, failures stop everyone."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.core.errors import WorkerError
from concurrency_lab.core.tracing import Span
from concurrency_lab.ipc.pipeline import PipelineResult

METHODS = cl.available_start_methods()


@pytest.mark.parametrize("method", [None, *METHODS])
def test_pipeline_every_item_once(method):
    r = cl.ipc.run_pipeline(
        n_producers=2, n_consumers=3, n_items=12, item_cost_s=0.002, start_method=method
    )
    assert r.every_item_once
    assert r.kind == "process"
    assert r.start_method == (method or cl.default_start_method())
    assert sorted(i for c in r.consumed for i in c) == list(range(12))
    assert 0 <= r.max_depth <= r.queue_size
    workers = {s.worker for s in r.spans}
    assert workers == {"producer-1", "producer-2", "consumer-1", "consumer-2", "consumer-3"}
    phases = {s.label.split(" ", 1)[0] for s in r.spans}
    assert {"make", "item"} <= phases <= {"make", "put", "blocked", "wait", "item"}
    assert r.elapsed_s > 0 and r.throughput > 0
    assert "12 items" in r.summary() and "every item was consumed exactly once" in r.summary()


@pytest.mark.parametrize("method", METHODS)
def test_pipeline_sentinels_never_overtake_items(method):
    # Producers flush their queue before reporting done, so the parent's sentinels come last.
    for _ in range(3):
        r = cl.ipc.run_pipeline(
            n_producers=3,
            n_consumers=2,
            n_items=30,
            item_cost_s=0,
            make_cost_s=0,
            start_method=method,
        )
        assert r.every_item_once


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_a_queue_with_room_for_everything_never_blocks_a_put(kind):
    r = cl.ipc.run_pipeline(
        n_producers=1,
        n_consumers=1,
        queue_size=20,
        n_items=20,
        item_cost_s=0.001,
        make_cost_s=0,
        kind=kind,
    )
    assert r.blocked_puts() == 0
    assert not any(s.label.startswith("blocked") for s in r.spans)
    assert sum(s.label.startswith("put") for s in r.spans) == 20


def test_a_full_queue_blocks_the_puts():
    # One slot, a producer with nothing to do and a consumer that takes 20 ms per item: after
    # the first two items every put must wait for the consumer to take one.
    r = cl.ipc.run_pipeline(
        n_producers=1,
        n_consumers=1,
        queue_size=1,
        n_items=8,
        item_cost_s=0.02,
        make_cost_s=0,
        kind="thread",
    )
    assert r.blocked_puts() >= 8 - 2
    assert "puts waited for room" in r.summary()


def _hand_made(item_s: float, make_s: float) -> PipelineResult:
    ms = 1_000_000
    spans = [
        Span("producer-1", 1, 0, f"make {i}", i * 20 * ms, i * 20 * ms + int(make_s * 1e9))
        for i in range(3)
    ]
    spans += [
        Span(
            "consumer-1",
            2,
            0,
            f"item {i}",
            i * 20 * ms + 5 * ms,
            i * 20 * ms + 5 * ms + int(item_s * 1e9),
        )
        for i in range(3)
    ]
    return PipelineResult(
        kind="process",
        start_method="spawn",
        n_producers=1,
        n_consumers=1,
        queue_size=4,
        n_items=3,
        item_cost_s=0.010,
        make_cost_s=0.002,
        elapsed_s=0.07,
        consumed=((0, 1, 2),),
        depth=((0.0, 0),),
        spans=tuple(spans),
        started_ns=0,
    )


def test_coarse_sleeps_are_named_from_the_measured_spans():
    assert _hand_made(item_s=0.0102, make_s=0.0021).coarse_sleeps() == ""
    late = _hand_made(item_s=0.0156, make_s=0.0156)  # Windows + Python 3.10: 15.6 ms ticks
    text = late.coarse_sleeps()
    assert text.startswith("Sleeps ran long here (making an item took 15.6 ms, not 2 ms; ")
    assert "processing an item took 15.6 ms, not 10 ms" in text
    assert text in late.summary()


def test_busy_fraction_and_slept():
    r = _hand_made(item_s=0.010, make_s=0.002)
    assert r.busy_fraction() == pytest.approx(0.030 / 0.07)
    assert r.slept_s("item") == pytest.approx(0.010)


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_pipeline_worker_failure_stops_everyone(kind):
    with pytest.raises(WorkerError, match="injected failure while processing item 5"):
        cl.ipc.run_pipeline(n_items=12, item_cost_s=0.001, kind=kind, fail_at_item=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_producers": 0}, "'n_producers' must be between 1 and 16 (got 0)."),
        ({"queue_size": 0}, "'queue_size' must be between 1 and 1000 (got 0)."),
        ({"item_cost_s": 2}, "'item_cost_s' must be a number of seconds between 0 and 1 (got 2)."),
        ({"make_cost_s": -1}, "'make_cost_s' must be a number of seconds between 0 and 1"),
        ({"kind": "fiber"}, "'kind' must be one of 'process', 'thread' (got 'fiber')."),
        ({"fail_at_item": 99}, "'fail_at_item' must be between 0 and 23 (got 99)."),
    ],
)
def test_pipeline_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as info:
        cl.ipc.run_pipeline(**kwargs)
    assert str(info.value).startswith(message)
