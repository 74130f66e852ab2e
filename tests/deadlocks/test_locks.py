"""Lesson 05's instruments: traced locks, the registry, the wait-for graph, the watchdog."""

from __future__ import annotations

import threading
import time

import pytest

import concurrency_lab as cl
from concurrency_lab.deadlocks.graph import Deadlock, WaitForGraph, find_cycles
from concurrency_lab.deadlocks.locks import (
    DeadlockError,
    LockClosedError,
    LockEvent,
    LockMisuseError,
    LockRegistry,
    TracedLock,
    TracedRLock,
    WorstTiming,
    default_registry,
    join_or_abort,
)
from concurrency_lab.deadlocks.outcome import lock_intervals
from concurrency_lab.deadlocks.watchdog import Watchdog, find_deadlock, wait_for_graph

FAST = 0.005  # watchdog interval for tests: detection in a few ms


def _in_thread(fn, name="helper"):
    t = threading.Thread(target=fn, name=name, daemon=True)
    t.start()
    return t


def _wait_until(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.002)


# --------------------------------------------------------------------------- the lock


def test_lock_behaves_like_threading_lock():
    lock = TracedLock("A", registry=LockRegistry())
    assert not lock.locked()
    assert lock.acquire() is True
    assert lock.locked()
    lock.release()
    with lock as got:
        assert got is True and lock.locked()
    assert not lock.locked()
    assert lock.acquire(blocking=False) is True
    lock.release()


def test_lock_timeout_and_nonblocking_when_held_elsewhere():
    reg = LockRegistry()
    lock = TracedLock("A", registry=reg)
    held, done = threading.Event(), threading.Event()

    def holder():
        with lock:
            held.set()
            done.wait(5)

    t = _in_thread(holder, "holder")
    held.wait(5)
    try:
        assert lock.acquire(blocking=False) is False
        assert lock.acquire(timeout=0.02) is False
        stats = lock.statistics()
        assert (stats.owner, stats.locked, stats.contended, stats.timeouts) == (
            "holder",
            True,
            1,
            1,
        )
    finally:
        done.set()
        t.join(5)
    # A failed try is recorded as "busy"; a timed wait as "wait" then "giveup".
    kinds = [e.kind for e in reg.events() if e.thread == "MainThread"]
    assert kinds == ["busy", "wait", "giveup"]


def test_repr_and_statistics_show_owner_and_waiters():
    reg = LockRegistry()
    lock = TracedLock("A", registry=reg)
    assert repr(lock) == "<TracedLock 'A' unlocked>"
    lock.acquire()
    t = _in_thread(lambda: lock.acquire(timeout=5) and lock.release(), "waiter-1")
    _wait_until(lambda: lock.statistics().waiters == ("waiter-1",))
    assert repr(lock) == "<TracedLock 'A' held by MainThread, 1 waiting: waiter-1>"
    lock.release()
    t.join(5)
    stats = lock.statistics()
    assert (stats.locked, stats.owner, stats.waiters, stats.acquisitions) == (False, None, (), 2)


def test_reacquire_by_holder_raises_with_the_fix():
    lock = TracedLock("A", registry=LockRegistry())
    with lock, pytest.raises(LockMisuseError) as info:
        lock.acquire()
    assert str(info.value) == (
        "TracedLock 'A' is already held by this thread (MainThread): acquiring it again would "
        "wait for yourself forever. Release it first, or use cl.deadlocks.TracedRLock if this "
        "thread must take it again while holding it."
    )
    assert not lock.locked()


def test_release_unheld_and_release_by_other_thread_raise():
    lock = TracedLock("A", registry=LockRegistry())
    with pytest.raises(LockMisuseError) as info:
        lock.release()
    assert str(info.value) == (
        "release() of TracedLock 'A', which is not held: every release() must match an earlier "
        "acquire() by the same thread. Prefer 'with lock:' so the pairing is automatic."
    )
    lock.acquire()
    errors = []

    def other():
        try:
            lock.release()
        except LockMisuseError as exc:
            errors.append(str(exc))

    _in_thread(other, "intruder").join(5)
    assert errors == [
        "TracedLock 'A' is held by MainThread, not by this thread (intruder): only the thread "
        "that acquired a lock may release it. Release it in the thread that took it."
    ]
    assert lock.locked()
    lock.release()


def test_bad_acquire_arguments():
    lock = TracedLock("A", registry=LockRegistry())
    with pytest.raises(ValueError, match=r"can't specify a timeout for a non-blocking call"):
        lock.acquire(False, 1)
    with pytest.raises(
        ValueError, match=r"^'timeout' must be a number of seconds >= 0 \(got -2\)\.$"
    ):
        lock.acquire(timeout=-2)
    with pytest.raises(TypeError, match=r"'name' must be a string or None \(got int\)"):
        TracedLock(3)  # type: ignore[arg-type]


def test_rlock_counts_reentries():
    r = TracedRLock("R", registry=LockRegistry())
    with r:
        with r:
            assert r.statistics().count == 2
            assert repr(r) == "<TracedRLock 'R' held by MainThread (2 times)>"
        assert r.locked()
    assert not r.locked()
    with pytest.raises(LockMisuseError, match="release\\(\\) of TracedRLock 'R', which is not"):
        r.release()


def test_names_are_unique_among_busy_locks_and_reused_when_idle():
    reg = LockRegistry()
    a = TracedLock("A", registry=reg)
    a.acquire()
    a2 = TracedLock("A", registry=reg)  # "A" is busy: a new name
    anon = TracedLock(registry=reg)
    assert (a.name, a2.name) == ("A", "A#2")
    assert anon.name.startswith("lock-")
    a.release()
    again = TracedLock("A", registry=reg)  # "A" is idle now: a re-run cell keeps the name
    assert again.name == "A"


def test_abort_makes_a_waiter_raise_deadlock_error():
    reg = LockRegistry()
    lock = TracedLock("A", registry=reg)
    lock.acquire()
    caught = []

    def waiter():
        try:
            lock.acquire()
        except DeadlockError as exc:
            caught.append(str(exc))

    t = _in_thread(waiter, "victim")
    _wait_until(lambda: reg.snapshot().waits == {"victim": "A"})
    assert reg.abort("victim") is True
    t.join(5)
    lock.release()
    assert caught and caught[0].startswith(
        "victim was chosen to break a deadlock while waiting for 'A'"
    )
    assert reg.abort("nobody") is False
    assert [e.kind for e in reg.events() if e.thread == "victim"] == ["wait", "abort"]


def test_close_stops_waiting_and_trying_threads():
    reg = LockRegistry()
    lock = TracedLock("A", registry=reg)
    lock.acquire()
    seen = []

    def waiter():
        try:
            lock.acquire()
        except LockClosedError as exc:
            seen.append(("waiter", str(exc)))

    def spinner():
        try:
            while True:
                lock.acquire(blocking=False)
                time.sleep(0.001)
        except LockClosedError as exc:
            seen.append(("spinner", str(exc)))

    threads = [_in_thread(waiter, "waiter"), _in_thread(spinner, "spinner")]
    _wait_until(lambda: "waiter" in reg.waiting_threads())
    reg.close("the check has ended")
    for t in threads:
        t.join(5)
    assert sorted(seen) == [("spinner", "the check has ended"), ("waiter", "the check has ended")]
    assert reg.closed() == "the check has ended"


def test_worst_timing_counts_a_thread_blocked_on_its_first_lock_as_lined_up():
    """A Barrier would wait for a blocked thread in vain; WorstTiming sees it waiting."""
    reg = LockRegistry()
    a, b = TracedLock("A", registry=reg), TracedLock("B", registry=reg)
    timing = WorstTiming(reg, ["t1", "t2", "t3"], timeout_s=5)
    reg.on_acquire = timing

    def worker():
        with a, b:  # one global order: two of the three must wait for A
            time.sleep(0.01)

    started = time.monotonic()
    ts = [_in_thread(worker, name) for name in ("t1", "t2", "t3")]
    assert join_or_abort(ts, reg, 5.0) == []
    assert time.monotonic() - started < 2.5  # nobody sat out the 5 s timeout
    assert timing.arrived == {"t1", "t2", "t3"}


def test_worst_timing_makes_opposite_orders_deadlock_every_time():
    for _ in range(5):
        reg = LockRegistry()
        a, b = TracedLock("A", registry=reg), TracedLock("B", registry=reg)
        reg.on_acquire = WorstTiming(reg, ["w1", "w2"], timeout_s=5)

        def worker(first, second):
            with first:
                try:
                    with second:
                        pass
                except DeadlockError:
                    pass

        with Watchdog(reg, interval_s=FAST, break_cycles=True) as dog:
            ts = [
                _in_thread(lambda a=a, b=b: worker(a, b), "w1"),
                _in_thread(lambda a=a, b=b: worker(b, a), "w2"),
            ]
            assert join_or_abort(ts, reg, 5.0) == []
        assert [d.threads for _, d in dog.found] == [("w1", "w2")]


# --------------------------------------------------------------------------- registry and graph


def test_registry_snapshot_with_reentrant_holds_has_no_cycle():
    reg = LockRegistry()
    r = TracedRLock("R", registry=reg)
    r.acquire()
    r.acquire()
    t = _in_thread(lambda: r.acquire(timeout=5) and r.release(), "other")
    _wait_until(lambda: "other" in reg.snapshot().waits)
    g = reg.snapshot()
    assert dict(g.holds) == {"MainThread": ("R",)}
    assert dict(g.waits) == {"other": "R"}
    assert g.reentrant == frozenset({"R"})
    assert g.edges() == (("other", "MainThread"),)
    assert find_deadlock(reg) is None
    r.release()
    r.release()
    t.join(5)
    after = reg.snapshot()
    assert (dict(after.holds), dict(after.waits)) == ({}, {})


def test_graph_without_cycle_and_its_sentence():
    g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T3": "A"})
    assert g.edges() == (("T1", "T2"), ("T3", "T1"))
    assert find_cycles(g) == ()
    assert find_deadlock(g) is None
    assert str(g) == (
        "T1 holds A and waits for B (held by T2). T2 holds B. T3 holds nothing and waits for A "
        "(held by T1)."
    )
    assert str(WaitForGraph()) == "No thread holds or waits for a lock."


def test_two_thread_cycle_reads_from_the_first_thread():
    g = WaitForGraph(holds={"T2": ("B",), "T1": ("A",)}, waits={"T2": "A", "T1": "B"})
    d = find_deadlock(g)
    assert isinstance(d, Deadlock)
    assert d.threads == ("T1", "T2") and d.locks == ("B", "A")
    assert [(s.thread, s.holds, s.waits_for, s.held_by) for s in d.steps] == [
        ("T1", ("A",), "B", "T2"),
        ("T2", ("B",), "A", "T1"),
    ]
    assert str(d) == (
        "deadlock: T1 holds A and waits for B (held by T2); T2 holds B and waits for A (held by T1)"
    )
    assert repr(d).startswith("<Deadlock: deadlock: T1 holds A")


def test_several_cycles_and_a_tail():
    # Two separate cycles (T1-T2 and T5-T6-T7) and T3 -> T1 leading into the first.
    g = WaitForGraph(
        holds={"T1": ("A",), "T2": ("B",), "T3": ("C",), "T5": ("E",), "T6": ("F",), "T7": ("G",)},
        waits={"T1": "B", "T2": "A", "T3": "A", "T5": "F", "T6": "G", "T7": "E"},
    )
    cycles = find_cycles(g)
    assert [c.threads for c in cycles] == [("T1", "T2"), ("T5", "T6", "T7")]
    assert find_deadlock(g).threads == ("T1", "T2")


def test_natural_order_picks_the_start_of_a_cycle():
    g = WaitForGraph(
        holds={f"phil-{i}": (f"fork-{i}",) for i in range(12)},
        waits={f"phil-{i}": f"fork-{(i + 1) % 12}" for i in range(12)},
    )
    assert find_deadlock(g).threads == tuple(f"phil-{i}" for i in range(12))


def test_self_wait_on_plain_lock_is_a_cycle_but_not_on_a_reentrant_one():
    plain = WaitForGraph(holds={"T1": ("A",)}, waits={"T1": "A"})
    assert find_deadlock(plain).threads == ("T1",)
    reentrant = WaitForGraph(holds={"T1": ("A",)}, waits={"T1": "A"}, reentrant={"A"})
    assert find_deadlock(reentrant) is None


def test_cycle_through_a_bounded_wait_breaks_by_itself():
    g = WaitForGraph(
        holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T2": "A"}, bounded={"T2"}
    )
    assert find_deadlock(g) is None
    d = find_deadlock(g, include_bounded=True)
    assert d.threads == ("T1", "T2") and d.bounded


def test_graph_rejects_two_owners_and_bad_types():
    with pytest.raises(ValueError) as info:
        WaitForGraph(holds={"T1": ("A",), "T2": ("A",)})
    assert str(info.value) == (
        "lock 'A' cannot be held by both 'T1' and 'T2': a lock has at most one owner. "
        "Fix the 'holds' mapping."
    )
    with pytest.raises(
        TypeError, match=r"'graph' must be a WaitForGraph, a LockRegistry or None \(got str\)"
    ):
        find_deadlock("graph")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^'graph' must be a WaitForGraph \(got dict\)\.$"):
        find_cycles({})  # type: ignore[arg-type]


def test_watchdog_finds_and_breaks_a_real_deadlock():
    reg = LockRegistry()
    a, b = TracedLock("A", registry=reg), TracedLock("B", registry=reg)
    both = threading.Barrier(2, timeout=5)
    aborted = []

    def worker(first, second):
        with first:
            both.wait()
            try:
                with second:
                    pass
            except DeadlockError:
                aborted.append(threading.current_thread().name)

    seen = []
    with Watchdog(reg, interval_s=FAST, break_cycles=True, on_deadlock=seen.append) as dog:
        ts = [_in_thread(lambda: worker(a, b), "w1"), _in_thread(lambda: worker(b, a), "w2")]
        for t in ts:
            t.join(5)
    assert [d.threads for _, d in dog.found] == [("w1", "w2")]
    assert [d.threads for d in seen] == [("w1", "w2")]
    assert aborted == ["w2"]  # the victim is the last thread of the cycle
    assert not a.locked() and not b.locked()


def test_watchdog_rejects_bad_interval():
    with pytest.raises(
        ValueError, match=r"^'interval_s' must be a number of seconds > 0 and <= 10 \(got 0\)\.$"
    ):
        Watchdog(LockRegistry(), interval_s=0)


def test_lock_intervals_close_open_ones_at_the_end():
    ev = [
        LockEvent(0, "T1", "A", "acquire"),
        LockEvent(1, "T2", "A", "wait"),
        LockEvent(2, "T3", "A", "busy"),  # a failed try is not an interval
        LockEvent(4, "T2", "A", "giveup"),
        LockEvent(6, "T1", "B", "wait"),
    ]
    got = [(i.thread, i.lock, i.state, i.start_ns, i.end_ns) for i in lock_intervals(ev)]
    assert got == [
        ("T1", "A", "holding", 0, 6),
        ("T2", "A", "waiting", 1, 4),
        ("T1", "B", "waiting", 6, 6),
    ]


def test_wait_for_graph_of_plain_code_on_the_default_registry():
    """The lesson's core cell: swap TracedLock in for threading.Lock and draw who waits."""
    a, b = cl.deadlocks.TracedLock("dflt-A"), cl.deadlocks.TracedLock("dflt-B")  # shared registry
    both = threading.Barrier(2, timeout=5)
    outcomes = {}

    def take_both(first, second):
        name = threading.current_thread().name
        with first:
            both.wait()
            try:
                got = second.acquire(timeout=5)
                outcomes[name] = "got it"
                if got:
                    second.release()
            except DeadlockError:
                outcomes[name] = "aborted"

    ts = [
        _in_thread(lambda: take_both(a, b), "dflt-1"),
        _in_thread(lambda: take_both(b, a), "dflt-2"),
    ]
    _wait_until(lambda: find_deadlock(include_bounded=True) is not None)
    graph = wait_for_graph()
    assert graph.waits["dflt-1"] == "dflt-B" and graph.waits["dflt-2"] == "dflt-A"
    assert {"dflt-1", "dflt-2"} <= graph.bounded
    d = find_deadlock(include_bounded=True)
    assert d.threads == ("dflt-1", "dflt-2") and d.bounded
    assert find_deadlock() is None  # both waits will time out on their own
    assert default_registry().abort("dflt-2")
    for t in ts:
        t.join(5)
    assert outcomes == {"dflt-1": "got it", "dflt-2": "aborted"}
