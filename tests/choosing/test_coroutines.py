"""asyncio beside threads: running coroutines from plain code; thousands of waits measured."""

from __future__ import annotations

import asyncio
import threading

import pytest

import concurrency_lab as cl
from concurrency_lab.choosing import coroutines
from concurrency_lab.choosing.coroutines import (
    ManyWaitsResult,
    WaitsRun,
    run_coroutine,
    waits_in_this_process,
)


def test_asyncio_run_fails_inside_a_running_loop_and_run_coroutine_does_not():
    """What the notebook shows: a kernel already runs a loop, so asyncio.run refuses."""

    async def inside_a_notebook():
        coro = asyncio.sleep(0, result=1)
        try:
            asyncio.run(coro)
        except RuntimeError as exc:
            message = str(exc)
        finally:
            coro.close()
        return message, run_coroutine(asyncio.sleep(0, result="ran anyway"))

    message, value = asyncio.run(inside_a_notebook())
    assert message == "asyncio.run() cannot be called from a running event loop"
    assert value == "ran anyway"


def test_run_coroutine_times_out_and_cancels():
    with pytest.raises(cl.WorkerTimeoutError, match=r"still running after timeout_s=0\.2 s"):
        run_coroutine(asyncio.sleep(30), timeout_s=0.2)


def test_run_coroutine_passes_errors_through():
    async def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        run_coroutine(boom())


def test_run_coroutine_cancels_on_interrupt(monkeypatch):
    """A KeyboardInterrupt while waiting cancels the coroutine and ends its loop thread."""
    real_join = threading.Thread.join
    calls = []

    def interrupted_join(self, timeout=None):
        if self.name == "lab-event-loop" and not calls:
            calls.append(1)
            raise KeyboardInterrupt
        return real_join(self, timeout)

    monkeypatch.setattr(threading.Thread, "join", interrupted_join)
    with pytest.raises(KeyboardInterrupt):
        run_coroutine(asyncio.sleep(30), timeout_s=60)
    assert not [t for t in threading.enumerate() if t.name == "lab-event-loop"]


# --------------------------------------------------------------------------- many waits


def test_many_waits_measures_both_kinds_in_fresh_processes():
    r = cl.choosing.many_waits(50, wait_s=0.05)
    assert (r.coroutines.kind, r.threads.kind) == ("coroutines", "threads")
    assert r.coroutines.started == r.threads.started == 50
    assert r.coroutines.elapsed_s >= 0.05 and r.threads.elapsed_s >= 0.05
    assert r.threads.rss_per_wait_b is not None and r.threads.vms_per_wait_b is not None
    text = str(r)
    assert text.startswith("50 waits of 0.05 s: as coroutines on one event loop they took")
    assert "Memory per waiter: about" in text


def test_threads_refused_by_the_system_are_counted_not_raised(monkeypatch):
    real_start = threading.Thread.start
    started = []

    def limited_start(self):  # at most 5 of these threads alive at once
        if self.daemon and sum(t.is_alive() for t in started) >= 5:
            raise RuntimeError("can't start new thread")
        started.append(self)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", limited_start)
    out = waits_in_this_process("threads", 20, 0.01)
    assert out["started"] == 5 and out["error"] == "RuntimeError: can't start new thread"
    for t in started:
        t.join(5)


def test_the_sentence_says_when_threads_ran_out_or_memory_was_unreadable():
    r = ManyWaitsResult(
        5000,
        0.2,
        WaitsRun("coroutines", 5000, 0.25, None, None),
        WaitsRun("threads", 2040, 0.9, None, None, "RuntimeError: can't start new thread"),
    )
    text = str(r)
    assert "(3.6 times as long)" in text
    assert "Only 2,040 threads could start here (RuntimeError: can't start new thread)" in text
    assert "Memory could not be read here (it needs psutil" in text


def test_memory_is_none_without_psutil(monkeypatch):
    monkeypatch.setattr(coroutines, "_memory", lambda: None)
    out = waits_in_this_process("coroutines", 10, 0.0)
    assert out["rss_b"] is None and out["started"] == 10 and out["elapsed_s"] >= 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_waits": 0}, "'n_waits' must be a whole number between 1 and 20000 (got 0)."),
        ({"wait_s": -1}, "'wait_s' must be a number of seconds between 0 and 10 (got -1)."),
    ],
)
def test_many_waits_refuses_bad_sizes(kwargs, message):
    with pytest.raises(ValueError) as info:
        cl.choosing.many_waits(**kwargs)
    assert str(info.value) == message
