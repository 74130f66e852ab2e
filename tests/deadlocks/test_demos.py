"""Lesson 05's demos: the strategies as code, a fair race, the relatives, processes."""

from __future__ import annotations

import random
import threading

import pytest

import concurrency_lab as cl
from concurrency_lab.core.machine import start_methods_to_compare
from concurrency_lab.deadlocks.locks import DeadlockError, LockRegistry, TracedLock
from concurrency_lab.deadlocks.strategies import REMOVES, STRATEGIES, pick_up

FIXES = [s for s in STRATEGIES if s != "none"]
FAST = 0.005  # watchdog interval for tests: detection in a few ms
# The repeat test uses the cheapest start method (each start method is also tested once below).
QUICK_METHOD = "fork" if "fork" in cl.available_start_methods() else cl.available_start_methods()[0]


# --------------------------------------------------------------------------- the strategies


def test_each_strategy_removes_the_condition_the_lesson_names():
    # A timed acquire still holds while it waits: it removes the unbounded wait by giving the
    # lock back itself (no preemption); only try_acquire never waits while holding.
    assert dict(REMOVES) == {
        "none": "nothing",
        "global_order": "circular wait",
        "timeout_backoff": "no preemption",
        "try_acquire": "hold and wait",
        "arbitrator": "circular wait",
    }
    assert list(STRATEGIES) == list(REMOVES)


def _waits_while_holding(strategy):
    """Run pick_up once while `second` is busy; return the events of the picking thread."""
    reg = LockRegistry()
    first, second, waiter = (TracedLock(n, registry=reg) for n in ("first", "second", "waiter"))
    busy, done = threading.Event(), threading.Event()

    def holder():
        with second:
            busy.set()
            done.wait(0.05)

    def picker():
        got = False
        while not got:
            got = pick_up(
                first, second, strategy, waiter=waiter, rng=random.Random(0), patience_s=0.005
            )
        second.release()
        first.release()

    h = threading.Thread(target=holder, name="holder")
    h.start()
    busy.wait(5)
    p = threading.Thread(target=picker, name="picker")
    p.start()
    p.join(5)
    done.set()
    h.join(5)
    return [e for e in reg.events() if e.thread == "picker"]


@pytest.mark.parametrize(
    ("strategy", "waited_holding"),
    [("none", True), ("timeout_backoff", True), ("try_acquire", False), ("global_order", None)],
)
def test_pick_up_holds_while_waiting_only_where_the_table_says(strategy, waited_holding):
    events = _waits_while_holding(strategy)
    held, waits_holding = set(), False
    for e in events:
        if e.kind == "acquire":
            held.add(e.lock)
        elif e.kind == "release":
            held.discard(e.lock)
        elif e.kind == "wait" and held:
            waits_holding = True
    if waited_holding is not None:
        assert waits_holding is waited_holding
    assert events[-1].kind == "release"  # it got both in the end
    if strategy == "try_acquire":
        assert any(e.kind == "busy" for e in events) and not any(e.kind == "wait" for e in events)


def test_pick_up_releases_the_first_lock_when_a_watchdog_aborts_it():
    reg = LockRegistry()
    first, second, waiter = (TracedLock(n, registry=reg) for n in ("first", "second", "waiter"))
    second.acquire()
    errors = []

    def picker():
        try:
            pick_up(first, second, "none", waiter=waiter, rng=random.Random(0))
        except DeadlockError as exc:
            errors.append(exc)

    t = threading.Thread(target=picker, name="picker")
    t.start()
    while "picker" not in reg.waiting_threads():
        t.join(0.002)
    reg.abort("picker")
    t.join(5)
    second.release()
    assert errors and not first.locked()


def test_show_source_of_pick_up_is_the_readable_whole_of_each_strategy():
    code = cl.show_source(cl.deadlocks.pick_up).code
    for needle in (
        "sorted((first, second), key=id)",
        "second.acquire(timeout=patience_s)",
        "second.acquire(blocking=False)",
        "with waiter:",
        "rng.uniform(0, 2 * patience_s)",
    ):
        assert needle in code
    body = code.split('"""')[-1]
    assert len([line for line in body.splitlines() if line.strip()]) <= 25


# --------------------------------------------------------------------------- two-lock demos


def test_lock_order_inversion_deadlocks_and_recovers():
    out = cl.deadlocks.lock_order_inversion(detect_interval_s=FAST)
    assert out.deadlocked and len(out.deadlocks) == 1
    assert [(s.thread, s.holds, s.waits_for, s.held_by) for s in out.deadlock.steps] == [
        ("worker-1", ("A",), "B", "worker-2"),
        ("worker-2", ("B",), "A", "worker-1"),
    ]
    assert dict(out.progress) == {"worker-1": 1, "worker-2": 1}
    assert dict(out.attempts) == {"worker-1": 1, "worker-2": 2}  # the victim retried once
    assert out.retries == 1 and out.done == 2
    assert out.finished and out.threads_left == 0
    assert out.detection_s is not None and out.detection_s >= 0
    kinds = [(e.lock, e.kind) for e in out.events if e.thread == "worker-2"]
    assert kinds[:4] == [("B", "acquire"), ("A", "wait"), ("A", "abort"), ("B", "release")]
    text = str(out)
    assert text.startswith("Lock-order inversion (none): 1 deadlock, the first seen ")
    assert "(worker-1 holds A and waits for B (held by worker-2); worker-2 holds B" in text
    assert text.endswith(
        "2 transfers done in " + f"{out.elapsed_s:.2f} s (worker-1 1, "
        "worker-2 1) after 1 extra attempt."
    )


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
    assert out.done > 0


def test_the_race_is_fair_every_strategy_starts_in_the_same_worst_round():
    race = cl.deadlocks.compare_strategies(5, meals=2, detect_interval_s=FAST)
    d = race.dinners
    assert list(d) == list(STRATEGIES)
    assert [s for s, r in d.items() if r.deadlocked] == ["none"]
    assert all(r.finished for r in d.values())
    # The orders never put a fork down; the back-off strategies must, at least once, because
    # every philosopher held (or waited for) a first fork before anyone tried a second.
    assert d["global_order"].retries == 0 and d["arbitrator"].retries == 0
    assert d["timeout_backoff"].retries >= 1 and d["try_acquire"].retries >= 1
    # The ordering strategies were forced into the worst round too: someone waited.
    assert d["global_order"].waited_s() > 0
    assert d["arbitrator"].waited_s("waiter") > 0  # the price: one collector at a time
    text = str(race)
    assert text.startswith("Deadlocked: none (rescued by the watchdog); 4 strategies never ")
    assert "none for global_order, arbitrator." in text
    assert "waiting for the waiter itself" in text


def test_bad_demo_arguments():
    with pytest.raises(ValueError) as info:
        cl.deadlocks.lock_order_inversion(strategy="hope")
    assert str(info.value) == (
        "'strategy' must be one of 'none', 'global_order', 'timeout_backoff', 'try_acquire', "
        "'arbitrator' (got 'hope')."
    )
    with pytest.raises(ValueError, match=r"^'n' must be a whole number between 2 and 32 \(got 1"):
        cl.deadlocks.dining_philosophers(1)
    with pytest.raises(TypeError, match=r"^'n' must be a whole number between 2 and 32 \(got 2.5"):
        cl.deadlocks.dining_philosophers(2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^'eat_s' must be a number of seconds between 0 and"):
        cl.deadlocks.dining_philosophers(3, eat_s=-1)
    with pytest.raises(ValueError, match=r"^'detect_interval_s' must be a number of seconds > 0"):
        cl.deadlocks.lock_order_inversion(detect_interval_s=0)
    with pytest.raises(ValueError, match=r"^'meals' must be a whole number between 1 and 1000"):
        cl.deadlocks.compare_strategies(meals=0)
    with pytest.raises(ValueError, match=r"^'lock' must be one of 'lock', 'rlock', 'traced'"):
        cl.deadlocks.self_deadlock(lock="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^'start_method' must be one of"):
        cl.deadlocks.dining_philosophers_processes(start_method="teleport")


# --------------------------------------------------------------------------- the relatives


def test_self_deadlock_waits_refuses_or_reenters():
    plain = cl.deadlocks.self_deadlock(lock="lock", timeout_s=0.02)
    assert (plain.outcome, plain.deadlocked) == ("waited", True)
    assert plain.elapsed_s >= 0.015
    assert str(plain).startswith("threading.Lock: the second acquire() waited 0.0")
    again = cl.deadlocks.self_deadlock(lock="rlock")
    assert (again.outcome, again.deadlocked) == ("re-entered", False)
    traced = cl.deadlocks.self_deadlock(lock="traced")
    # It raised at once: it never waited, so it did not deadlock (the old label said it had).
    assert (traced.outcome, traced.deadlocked) == ("refused", False)
    assert traced.elapsed_s < 0.1
    assert traced.message.startswith("TracedLock 'config' is already held by this thread")
    assert str(traced).startswith("TracedLock: refused at once, without waiting: TracedLock")


def test_livelock_in_lockstep_makes_no_progress():
    out = cl.deadlocks.livelock(max_attempts=7)
    assert dict(out.progress) == {"worker-1": 0, "worker-2": 0}
    assert dict(out.attempts) == {"worker-1": 7, "worker-2": 7}
    assert not out.deadlocked and not out.finished
    # Nobody ever waited for a lock: a wait-for graph (and its watchdog) cannot see a livelock.
    assert {e.kind for e in out.events} == {"acquire", "release", "busy"}


def test_livelock_with_random_back_off_gets_done():
    out = cl.deadlocks.livelock(fixed=True, max_attempts=10_000)
    assert dict(out.progress) == {"worker-1": 1, "worker-2": 1}
    assert out.finished and out.threads_left == 0
    assert min(out.attempts.values()) >= 2  # the first attempt is forced into a collision


def test_starvation_by_priority_and_fair_turns():
    unfair = cl.deadlocks.starvation(turns=20, hold_s=0.0005)
    assert dict(unfair.progress) == {"worker-1": 10, "worker-2": 10, "worker-3": 0}
    assert str(unfair).endswith("worker-3 got none.")
    fair = cl.deadlocks.starvation(fixed=True, n_workers=4, turns=21, hold_s=0.0005)
    assert sorted(fair.progress.values()) == [5, 5, 5, 6]
    assert fair.threads_left == 0 and unfair.threads_left == 0
    assert {e.lock for e in unfair.events} == {"the resource"}


def test_starvation_for_a_duration_keeps_its_shape():
    unfair = cl.deadlocks.starvation(duration_s=0.03)
    assert unfair.progress["worker-3"] == 0
    assert abs(unfair.progress["worker-1"] - unfair.progress["worker-2"]) <= 1
    fair = cl.deadlocks.starvation(fixed=True, duration_s=0.03)
    assert max(fair.progress.values()) - min(fair.progress.values()) <= 1


# --------------------------------------------------------------------------- processes


@pytest.mark.parametrize("start_method", cl.available_start_methods())
def test_process_philosophers_deadlock_found_by_timeout(start_method):
    out = cl.deadlocks.dining_philosophers_processes(3, start_method=start_method, timeout_s=0.05)
    assert out.start_method == start_method
    assert out.deadlock.threads == ("phil-0", "phil-1", "phil-2")
    assert out.deadlock.locks == ("fork-1", "fork-2", "fork-0")
    assert dict(out.meals) == {"phil-0": 0, "phil-1": 0, "phil-2": 0}
    assert str(out).startswith(f"3 philosopher processes ({start_method}, left fork first): ")
    fixed = cl.deadlocks.dining_philosophers_processes(3, fixed=True, start_method=start_method)
    assert fixed.deadlock is None and dict(fixed.meals) == {"phil-0": 1, "phil-1": 1, "phil-2": 1}
    assert str(fixed).endswith("3 of 3 ate, and the reports form no cycle.")


def test_process_philosophers_label_fork_as_unsafe_on_macos(monkeypatch):
    monkeypatch.setattr("concurrency_lab.core.machine.sys.platform", "darwin")
    assert "fork" not in start_methods_to_compare()  # the lesson's loop leaves it out there
    if "fork" not in cl.available_start_methods():
        pytest.skip("no fork on this platform")
    out = cl.deadlocks.dining_philosophers_processes(2, fixed=True, start_method="fork")
    assert str(out).startswith("2 philosopher processes (fork (unsafe on macOS), ")


# --------------------------------------------------------------------------- reliability


def test_fifty_repeats_of_every_demo_leave_nothing_behind():
    """Every demo, 50 times in a row: no hang, the same cycle each time, no leftovers."""
    before = set(threading.enumerate())
    fast = {"detect_interval_s": FAST, "patience_s": 0.005}
    for _ in range(50):
        out = cl.deadlocks.lock_order_inversion(detect_interval_s=FAST)
        assert out.deadlock.threads == ("worker-1", "worker-2") and out.finished
        out = cl.deadlocks.dining_philosophers(5, detect_interval_s=FAST)
        assert out.deadlock.threads == tuple(f"phil-{i}" for i in range(5)) and out.finished
        for strategy in FIXES:
            assert cl.deadlocks.dining_philosophers(3, strategy=strategy, **fast).finished
            assert not cl.deadlocks.lock_order_inversion(strategy=strategy, **fast).deadlocked
        assert cl.deadlocks.self_deadlock(lock="lock", timeout_s=0.001).outcome == "waited"
        assert cl.deadlocks.self_deadlock(lock="traced").outcome == "refused"
        assert cl.deadlocks.livelock(max_attempts=3).progress["worker-1"] == 0
        assert cl.deadlocks.livelock(fixed=True, max_attempts=10_000).finished
        assert cl.deadlocks.starvation(turns=6, hold_s=0.0005).progress["worker-3"] == 0
        fair = cl.deadlocks.starvation(fixed=True, turns=6, hold_s=0.0005)
        assert fair.progress["worker-3"] == 2
    for _ in range(10):
        out = cl.deadlocks.dining_philosophers_processes(
            3, start_method=QUICK_METHOD, timeout_s=0.01
        )
        assert out.deadlock.threads == ("phil-0", "phil-1", "phil-2")
    assert set(threading.enumerate()) <= before


def test_the_race_says_when_other_programs_kept_the_cores_busy():
    import dataclasses

    from concurrency_lab.core.load import Load

    race = cl.deadlocks.compare_strategies(
        3, meals=1, strategies=("none", "global_order"), detect_interval_s=FAST
    )
    busy = dataclasses.replace(race, load=Load(wall_s=1.0, cores=2, others_cores=1.5))
    assert str(busy).endswith(
        "Other programs kept about 1.5 of your 2 cores busy meanwhile, so about 0.5 were free. "
        "Waiting times grow on a busy machine; attempts hardly do."
    )
    quiet = dataclasses.replace(race, load=Load(wall_s=1.0, cores=2, others_cores=0.0))
    assert "Other programs" not in str(quiet)
