"""Lesson 05's library: traced locks, the registry, cycle finding, every demo and strategy."""

from __future__ import annotations

import threading
import time

import pytest

import concurrency_lab as cl
from concurrency_lab import deadlocks as dl
from concurrency_lab.deadlocks.locks import (
    Deadlock,
    DeadlockError,
    LockEvent,
    LockMisuseError,
    LockRegistry,
    TracedLock,
    TracedRLock,
    WaitForGraph,
    find_cycles,
    find_deadlock,
)

FIXES = [s for s in dl.STRATEGIES if s != "none"]
FAST = 0.005  # watchdog interval for tests: detection in a few ms
# The repeat test uses the cheapest start method (each start method is also tested once below).
QUICK_METHOD = "fork" if "fork" in cl.available_start_methods() else cl.available_start_methods()[0]


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
    assert [e.kind for e in reg.events() if e.thread == "MainThread"] == ["wait", "giveup"]


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
    with pytest.raises(ValueError, match=r"'timeout' must be >= 0, or -1 for no limit \(got -2\)"):
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
    with pytest.raises(
        LockMisuseError, match="release\\(\\) of TracedRLock 'R', which is not held"
    ):
        r.release()


def test_names_are_unique_in_a_registry():
    reg = LockRegistry()
    a, a2, anon = (
        TracedLock("A", registry=reg),
        TracedLock("A", registry=reg),
        TracedLock(registry=reg),
    )
    assert (a.name, a2.name) == ("A", "A#2")
    assert anon.name.startswith("lock-")


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


def test_graph_without_cycle():
    g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T3": "A"})
    assert g.edges() == (("T1", "T2"), ("T3", "T1"))
    assert find_cycles(g) == ()
    assert find_deadlock(g) is None


def test_two_thread_cycle_reads_from_the_first_thread():
    g = WaitForGraph(holds={"T2": ("B",), "T1": ("A",)}, waits={"T2": "A", "T1": "B"})
    d = find_deadlock(g)
    assert isinstance(d, Deadlock)
    assert d.threads == ("T1", "T2") and d.locks == ("B", "A")
    assert [(s.thread, s.holds, s.waits_for, s.held_by) for s in d.steps] == [
        ("T1", ("A",), "B", "T2"),
        ("T2", ("B",), "A", "T1"),
    ]


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
    d = find_deadlock(g)
    assert d.threads == tuple(f"phil-{i}" for i in range(12))


def test_self_wait_on_plain_lock_is_a_cycle_but_not_on_a_reentrant_one():
    plain = WaitForGraph(holds={"T1": ("A",)}, waits={"T1": "A"})
    assert find_deadlock(plain).threads == ("T1",)
    reentrant = WaitForGraph(holds={"T1": ("A",)}, waits={"T1": "A"}, reentrant={"A"})
    assert find_deadlock(reentrant) is None


def test_cycle_through_a_bounded_wait_is_not_a_deadlock():
    g = WaitForGraph(
        holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T2": "A"}, bounded={"T2"}
    )
    assert find_deadlock(g) is None
    assert find_deadlock(g, include_bounded=True).threads == ("T1", "T2")


def test_graph_rejects_two_owners_and_find_deadlock_bad_type():
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


def test_deadlock_text():
    g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T2": "A"})
    assert str(find_deadlock(g)) == (
        "deadlock: T1 holds A and waits for B (held by T2); T2 holds B and waits for A (held by T1)"
    )


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
    with cl.deadlocks.Watchdog(
        reg, interval_s=FAST, break_cycles=True, on_deadlock=seen.append
    ) as dog:
        ts = [_in_thread(lambda: worker(a, b), "w1"), _in_thread(lambda: worker(b, a), "w2")]
        for t in ts:
            t.join(5)
    assert [d.threads for _, d in dog.found] == [("w1", "w2")]
    assert [d.threads for d in seen] == [("w1", "w2")]
    assert aborted == ["w2"]  # the victim is the last thread of the cycle
    assert not a.locked() and not b.locked()


def test_watchdog_rejects_bad_interval():
    with pytest.raises(ValueError, match=r"'interval_s' must be > 0 and <= 10 seconds \(got 0\)"):
        cl.deadlocks.Watchdog(LockRegistry(), interval_s=0)


def test_lock_intervals_close_open_ones_at_the_end():
    ev = [
        LockEvent(0, "T1", "A", "acquire"),
        LockEvent(1, "T2", "A", "wait"),
        LockEvent(4, "T2", "A", "giveup"),
        LockEvent(6, "T1", "B", "wait"),
    ]
    got = [(i.thread, i.lock, i.state, i.start_ns, i.end_ns) for i in dl.lock_intervals(ev)]
    assert got == [
        ("T1", "A", "holding", 0, 6),
        ("T2", "A", "waiting", 1, 4),
        ("T1", "B", "waiting", 6, 6),
    ]


# --------------------------------------------------------------------------- demos


def test_lock_order_inversion_deadlocks_and_recovers():
    out = cl.deadlocks.lock_order_inversion(detect_interval_s=FAST)
    assert out.deadlocked and len(out.deadlocks) == 1
    assert [(s.thread, s.holds, s.waits_for, s.held_by) for s in out.deadlock.steps] == [
        ("worker-1", ("A",), "B", "worker-2"),
        ("worker-2", ("B",), "A", "worker-1"),
    ]
    assert dict(out.progress) == {"worker-1": 1, "worker-2": 1}
    assert dict(out.attempts) == {"worker-1": 1, "worker-2": 2}  # the victim retried once
    assert out.finished and out.threads_left == 0
    assert out.detection_s is not None and out.detection_s >= 0
    kinds = [(e.thread, e.lock, e.kind) for e in out.events if e.thread == "worker-2"]
    assert kinds[:4] == [
        ("worker-2", "B", "acquire"),
        ("worker-2", "A", "wait"),
        ("worker-2", "A", "abort"),
        ("worker-2", "B", "release"),
    ]


@pytest.mark.parametrize("strategy", FIXES)
def test_every_fix_solves_lock_order_inversion(strategy):
    out = cl.deadlocks.lock_order_inversion(strategy=strategy, transfers=3, detect_interval_s=FAST)
    assert not out.deadlocked
    assert dict(out.progress) == {"worker-1": 3, "worker-2": 3}
    assert out.finished and out.threads_left == 0


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_philosophers_deadlock_in_a_full_circle(n):
    out = cl.deadlocks.dining_philosophers(n, detect_interval_s=FAST)
    d = out.deadlock
    assert d.threads == tuple(f"phil-{i}" for i in range(n))
    assert d.locks == tuple(f"fork-{(i + 1) % n}" for i in range(n))
    assert [s.holds for s in d.steps] == [(f"fork-{i}",) for i in range(n)]
    assert dict(out.progress) == {f"phil-{i}": 1 for i in range(n)}
    assert out.finished and out.threads_left == 0


@pytest.mark.parametrize("strategy", FIXES)
def test_every_fix_feeds_the_philosophers(strategy):
    out = cl.deadlocks.dining_philosophers(5, strategy=strategy, meals=3, detect_interval_s=FAST)
    assert not out.deadlocked
    assert dict(out.progress) == {f"phil-{i}": 3 for i in range(5)}
    assert out.finished and out.threads_left == 0


def test_philosophers_for_a_duration_stop_in_time():
    out = cl.deadlocks.dining_philosophers(4, strategy="global_order", meals=None, duration_s=0.1)
    assert not out.finished  # no meal target: it just stops
    assert out.threads_left == 0
    assert sum(out.progress.values()) > 0


def test_demo_outcome_text():
    out = cl.deadlocks.lock_order_inversion(strategy="global_order")
    assert str(out) == (
        "lock_order_inversion with strategy 'global_order': no deadlock. "
        "Work done: worker-1: 1, worker-2: 1. Finished: True."
    )


def test_self_deadlock_lock_rlock_traced():
    plain = cl.deadlocks.self_deadlock(lock="lock", timeout_s=0.02)
    assert (plain.deadlocked, plain.detected_by) == (True, "timeout")
    assert cl.deadlocks.self_deadlock(lock="rlock").deadlocked is False
    traced = cl.deadlocks.self_deadlock(lock="traced")
    assert (traced.deadlocked, traced.detected_by) == (True, "error")
    assert traced.message.startswith("TracedLock 'config' is already held by this thread")


def test_livelock_in_lockstep_makes_no_progress():
    out = cl.deadlocks.livelock(max_attempts=7)
    assert dict(out.progress) == {"worker-1": 0, "worker-2": 0}
    assert dict(out.attempts) == {"worker-1": 7, "worker-2": 7}
    assert not out.deadlocked and not out.finished
    # Nobody ever waited for a lock: a wait-for graph cannot see a livelock.
    assert {e.kind for e in out.events} == {"acquire", "release"}


def test_livelock_with_jitter_gets_done():
    out = cl.deadlocks.livelock(jitter=True, max_attempts=10_000)
    assert dict(out.progress) == {"worker-1": 1, "worker-2": 1}
    assert out.finished and out.threads_left == 0
    # The first attempt is forced into the same collision as without jitter.
    assert min(out.attempts.values()) >= 2


def test_starvation_by_priority_and_fair_turns():
    unfair = cl.deadlocks.starvation(turns=20, hold_s=0.0005)
    assert dict(unfair.progress) == {"worker-1": 10, "worker-2": 10, "worker-3": 0}
    fair = cl.deadlocks.starvation(fair=True, n_workers=4, turns=21, hold_s=0.0005)
    assert sorted(fair.progress.values()) == [5, 5, 5, 6]
    assert fair.threads_left == 0 and unfair.threads_left == 0


def test_starvation_for_a_duration_keeps_its_shape():
    unfair = cl.deadlocks.starvation(duration_s=0.03)
    assert unfair.progress["worker-3"] == 0
    assert abs(unfair.progress["worker-1"] - unfair.progress["worker-2"]) <= 1
    fair = cl.deadlocks.starvation(fair=True, duration_s=0.03)
    assert max(fair.progress.values()) - min(fair.progress.values()) <= 1


@pytest.mark.parametrize("start_method", cl.available_start_methods())
def test_process_philosophers_deadlock_found_by_timeout(start_method):
    out = cl.deadlocks.dining_philosophers_processes(3, start_method=start_method, timeout_s=0.05)
    assert out.start_method == start_method
    assert out.deadlock.threads == ("phil-0", "phil-1", "phil-2")
    assert out.deadlock.locks == ("fork-1", "fork-2", "fork-0")
    assert dict(out.meals) == {"phil-0": 0, "phil-1": 0, "phil-2": 0}
    fixed = cl.deadlocks.dining_philosophers_processes(
        3, strategy="global_order", start_method=start_method
    )
    assert fixed.deadlock is None and dict(fixed.meals) == {"phil-0": 1, "phil-1": 1, "phil-2": 1}


@pytest.mark.parametrize("start_method", cl.available_start_methods())
def test_queue_join_trap_detected_and_recovered(start_method):
    trap = cl.deadlocks.queue_join_trap(start_method=start_method, join_timeout_s=0.05)
    assert (trap.join_timed_out, trap.recovered, trap.items_received, trap.exitcode) == (
        True,
        True,
        4,
        0,
    )
    fixed = cl.deadlocks.queue_join_trap(start_method=start_method, drain_first=True)
    assert (fixed.join_timed_out, fixed.recovered, fixed.items_received) == (False, True, 4)


def test_bad_demo_arguments():
    with pytest.raises(ValueError) as info:
        cl.deadlocks.lock_order_inversion(strategy="hope")
    assert str(info.value) == (
        "'strategy' must be one of 'none', 'global_order', 'hierarchy', 'timeout_backoff', "
        "'try_acquire', 'arbitrator' (got 'hope')."
    )
    with pytest.raises(ValueError, match=r"^'n' must be between 2 and 32 \(got 1\)\.$"):
        cl.deadlocks.dining_philosophers(1)
    with pytest.raises(TypeError, match=r"^'n' must be a whole number \(got 2.5\)\.$"):
        cl.deadlocks.dining_philosophers(2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^'eat_s' must be >= 0 \(got -1\)\.$"):
        cl.deadlocks.dining_philosophers(3, eat_s=-1)
    with pytest.raises(ValueError, match=r"^'detect_interval_s' must be > 0 \(got 0\)\.$"):
        cl.deadlocks.lock_order_inversion(detect_interval_s=0)
    with pytest.raises(
        ValueError, match=r"^'lock' must be 'lock', 'rlock' or 'traced' \(got 'x'\)\.$"
    ):
        cl.deadlocks.self_deadlock(lock="x")
    with pytest.raises(
        ValueError, match=r"^'strategy' must be 'none' or 'global_order' for processes"
    ):
        cl.deadlocks.dining_philosophers_processes(3, strategy="arbitrator")
    with pytest.raises(ValueError, match=r"^'start_method' must be one of"):
        cl.deadlocks.queue_join_trap(start_method="teleport")


def test_fifty_repeats_of_every_demo_leave_nothing_behind():
    """Reliability: every demo, 50 times in a row; no hang, same cycle each time, no leftovers."""
    before = set(threading.enumerate())
    for _ in range(50):
        out = cl.deadlocks.lock_order_inversion(detect_interval_s=FAST)
        assert out.deadlock.threads == ("worker-1", "worker-2") and out.finished
        out = cl.deadlocks.dining_philosophers(5, detect_interval_s=FAST)
        assert out.deadlock.threads == tuple(f"phil-{i}" for i in range(5)) and out.finished
        for strategy in FIXES:
            fast = {"detect_interval_s": FAST, "patience_s": 0.005}
            assert cl.deadlocks.dining_philosophers(3, strategy=strategy, **fast).finished
            assert not cl.deadlocks.lock_order_inversion(strategy=strategy, **fast).deadlocked
        assert cl.deadlocks.self_deadlock(lock="lock", timeout_s=0.001).detected_by == "timeout"
        assert cl.deadlocks.self_deadlock(lock="rlock").deadlocked is False
        assert cl.deadlocks.self_deadlock(lock="traced").detected_by == "error"
        assert cl.deadlocks.livelock(max_attempts=3).progress["worker-1"] == 0
        assert cl.deadlocks.livelock(jitter=True, max_attempts=10_000).finished
        assert cl.deadlocks.starvation(turns=6, hold_s=0.0005).progress["worker-3"] == 0
        assert cl.deadlocks.starvation(fair=True, turns=6, hold_s=0.0005).progress["worker-3"] == 2
        out = cl.deadlocks.dining_philosophers_processes(
            3, start_method=QUICK_METHOD, timeout_s=0.01
        )
        assert out.deadlock.threads == ("phil-0", "phil-1", "phil-2")
        assert cl.deadlocks.queue_join_trap(
            start_method=QUICK_METHOD, join_timeout_s=0.01
        ).recovered
        assert cl.deadlocks.queue_join_trap(start_method=QUICK_METHOD, drain_first=True).recovered
    assert set(threading.enumerate()) <= before


def test_find_deadlock_on_the_default_registry():
    a, b = TracedLock("default-A"), TracedLock("default-B")  # no registry: the shared one
    both = threading.Barrier(2, timeout=5)
    outcomes = {}

    def worker(first, second):
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

    ts = [_in_thread(lambda: worker(a, b), "dflt-1"), _in_thread(lambda: worker(b, a), "dflt-2")]
    # Waits with a timeout are not deadlocks by themselves; ask for bounded cycles too.
    _wait_until(lambda: find_deadlock(include_bounded=True) is not None)
    d = find_deadlock(include_bounded=True)
    assert d.threads == ("dflt-1", "dflt-2") and d.locks == ("default-B", "default-A")
    assert find_deadlock() is None  # both waits will time out on their own
    assert cl.deadlocks.default_registry().abort("dflt-2")
    for t in ts:
        t.join(5)
    assert outcomes == {"dflt-1": "got it", "dflt-2": "aborted"}
