"""Step programs, schedules and levels: every expected count derived by hand (see comments)."""

from __future__ import annotations

import math

import pytest

import concurrency_lab as cl
from concurrency_lab.races import levels, schedules, steps

INC = [("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")]


def _program(level_name):
    return levels.level(level_name).program


# --------------------------------------------------------------------------- interleavings


def test_lost_update_has_20_schedules_2_right():
    # 3 steps each: choose the 3 slots of T1 among 6: C(6,3) = 20. counter=2 only when one
    # thread's load comes after the other's store: the 2 serial orders.
    r = cl.races.interleavings("lost update")
    assert r.n_schedules == 20 == cl.races.count_schedules(3, 3)
    assert r.histogram == {"counter=1": 18, "counter=2": 2}
    assert r.serial_outcomes == ("counter=2",)
    assert r.n_wrong == 18
    assert r.n_deadlocks == 0 and r.n_stuck == 0


def test_interleavings_summary_is_prose():
    r = cl.races.interleavings("lost update")
    assert r.summary().splitlines() == [
        "lost update: 20 schedules; 18 of them (90%) end in a state that no "
        "one-after-the-other order gives.",
        "- counter=1: 18 schedules (race)",
        "- counter=2: 2 schedules (as one after the other)",
    ]
    assert repr(r).startswith("<InterleavingsResult: lost update: 20 schedules")


def test_three_threads_lost_update():
    # 9!/(3!3!3!) = 1680 schedules; counter=3 needs each load after the previous store, which
    # forces whole read-add-write blocks one after another: 3! = 6 orders.
    r = cl.races.interleavings(cl.races.program(INC, INC, INC, shared={"counter": 0}))
    assert r.n_schedules == 1680
    assert r.histogram["counter=3"] == 6
    assert set(r.histogram) == {"counter=1", "counter=2", "counter=3"}


def test_a_lock_leaves_two_schedules():
    # A blocked acquire cannot be scheduled: whoever acquires first runs its 5 steps, then the
    # other runs its 5. Two schedules, both right.
    r = cl.races.interleavings("a lock fixes it")
    assert r.n_schedules == 2 and r.histogram == {"counter=2": 2} and r.n_wrong == 0


def test_check_then_act_double_books_60_of_66():
    # Each thread: load, check, store seat_free=0, store booked_k=1 (4 steps) when it sees the
    # seat free; load, check (2 steps) when not. T1 misses the seat when T2's first 3 steps all
    # come before T1's load: then T1's 2 steps interleave with T2's last step: 3 schedules (and
    # 3 the other way round). Both book when each loads before the other stores: all
    # C(8,4) = 70 interleavings of two 4-step threads, minus the 5 + 5 where one thread's
    # store precedes the other's load = 60.
    r = cl.races.interleavings("check-then-act")
    assert r.n_schedules == 66
    assert r.histogram == {
        "seat_free=0, booked_1=1, booked_2=1": 60,
        "seat_free=0, booked_1=1, booked_2=0": 3,
        "seat_free=0, booked_1=0, booked_2=1": 3,
    }
    assert r.n_wrong == 60


def test_check_then_act_with_lock_books_once():
    r = cl.races.interleavings("check-then-act with a lock")
    assert r.n_schedules == 2 and r.n_wrong == 0


def test_two_locks_opposite_order_deadlock_in_2_of_6():
    # After T1 takes A: if T2 takes B next, deadlock (1); if T1 takes B, T1 releases B, then
    # either T1 releases A and T2 runs (1) or T2 takes B, T1 releases A, T2 runs (1): 3 in all,
    # and the same 3 when T2 starts. 6 schedules, 2 deadlocks.
    r = cl.races.interleavings("two locks deadlock")
    assert r.n_schedules == 6
    assert r.histogram == {"finished": 4, "deadlock": 2}
    assert r.n_deadlocks == 2 and r.n_wrong == 2


def test_missed_wakeup_is_stuck_in_5_of_19_and_not_called_a_deadlock():
    # Producer stores first (before the consumer's load): the consumer loads 1 and skips; the
    # 6 steps interleave with p0 before c0: C(6,2) - 5 = 10 schedules. Consumer loads 0 first:
    # if the producer takes L first it signals before the consumer waits, and the consumer
    # sleeps forever: c1 fits in 5 places around p0..p3, then c2 c3: 5 stuck. If the
    # consumer takes L first, p0 fits in 4 places and the rest is forced: 4. 10 + 5 + 4 = 19.
    r = cl.races.interleavings("missed wake-up")
    assert r.n_schedules == 19
    assert r.histogram == {"ready=1": 14, "stuck": 5}
    assert r.n_deadlocks == 0 and r.n_stuck == 5
    s = schedules.Scheduler(_program("missed wake-up"))
    for t in dict(r.examples)["stuck"]:
        s.step(t)
    assert s.status == "stuck"
    assert s.message.startswith("Stuck! consumer sleeping in wait(c) until someone signals it")
    assert "Not a deadlock (no circle of locks)" in s.message


def test_wakeup_done_right_is_a_while_loop_that_never_gets_stuck():
    # Only the consumer changed: c0 acquire L, c1 load, c2 if ready: to c5, c3 wait, c4 go to
    # c1, c5 release. The producer still stores (p0) before p1 acquire, p2 signal, p3 release.
    # Consumer reads 0 (p0 after c1): L is the consumer's until c3, so p1 comes after c3; p0
    # goes after c1, after c2 or after c3 (3), then p1 p2 p3 and the consumer's re-check are
    # forced: 3. Consumer reads 1 (p0 before c1): p0 c0 c1 c2 c5 p1.., p0 p1 p2 p3 c0.., or
    # c0 p0 c1 c2 c5 p1..: 3. Six schedules, none stuck.
    r = cl.races.interleavings("wake-up done right")
    assert r.histogram == {"ready=1": r.n_schedules}
    assert r.n_schedules == 6
    prog = _program("wake-up done right")
    consumer, producer = prog.threads
    assert [s.op for s in consumer] == ["acquire", "load", "jump_if", "wait", "jump", "release"]
    assert consumer[4].target == 1  # the while loop jumps back to the check
    assert producer == _program("missed wake-up").threads[1]  # the producer is unchanged


def test_stolen_wakeup_breaks_with_if_and_not_with_while():
    broken = cl.races.interleavings("stolen wake-up")
    fixed = cl.races.interleavings("stolen wake-up, while loop")
    assert any("broken=1" in o for o in broken.histogram)
    assert set(fixed.histogram) == {"items=0, broken=0"}
    assert broken.serial_outcomes == ("items=0, broken=0",)


@pytest.mark.parametrize("sizes", [(1, 1), (2, 3), (4, 4), (1, 2, 3)])
def test_unsynchronized_programs_have_the_multinomial_count(sizes):
    threads = [[("store", "x", k)] * n for k, n in enumerate(sizes)]
    r = cl.races.interleavings(cl.races.program(*threads, shared={"x": 0}))
    assert r.n_schedules == cl.races.count_schedules(*sizes)


def test_count_schedules_by_hand():
    assert cl.races.count_schedules(3, 3) == 20
    assert cl.races.count_schedules(1, 1, 1) == 6
    assert cl.races.count_schedules(5) == 1
    assert cl.races.count_schedules(30, 30) == math.comb(60, 30) == 118264581564861424
    assert cl.races.count_schedules(3, 3, 3) == math.comb(9, 3) * math.comb(6, 3) == 1680
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        cl.races.count_schedules(-1)


def test_self_deadlock_on_a_plain_lock_is_a_cycle_of_one():
    p = cl.races.program([("acquire", "L"), ("acquire", "L")], shared={})
    assert cl.races.interleavings(p).histogram == {"deadlock": 1}
    s = schedules.Scheduler(p)
    s.step(0)
    assert "waits for L, which it holds itself" in s.message


def test_a_lock_never_released_leaves_the_other_thread_stuck():
    p = cl.races.program([("acquire", "L")], [("acquire", "L")], shared={})
    r = cl.races.interleavings(p)
    assert r.histogram == {"stuck": 2}
    s = schedules.Scheduler(p)
    s.step(0)
    assert s.message == (
        "Stuck! T2 waits for L (held by T1). No thread can move: a lock is never released."
    )


def test_example_replays_to_its_outcome():
    r = cl.races.interleavings("lost update")
    replay = r.example("counter=1")
    assert replay.lines[-1].endswith("counter is 1")
    assert replay.summary().startswith("One schedule of lost update that ends with counter=1:\n1.")
    with pytest.raises(ValueError, match="'outcome' must be one of"):
        r.example("counter=7")


def test_too_many_states_is_refused():
    p = cl.races.program(INC * 3, INC * 3, INC * 3, shared={"counter": 0})
    with pytest.raises(ValueError, match="more than max_states=100"):
        cl.races.interleavings(p, max_states=100)


def test_too_many_steps_is_refused():
    p = cl.races.program(INC * 40, INC * 40, shared={"counter": 0})
    with pytest.raises(ValueError, match="the program has 240 steps; interleavings"):
        cl.races.interleavings(p)


def test_a_busy_wait_is_refused_with_a_reason():
    spin = [("load", "ready", "r"), ("jump_if", "r", "==", 0, 0)]
    p = cl.races.program(spin, [("store", "ready", 1)], shared={"ready": 0})
    with pytest.raises(ValueError, match="some schedules of this program never end"):
        cl.races.interleavings(p)


def test_two_by_two_increments_as_in_the_capstone_level():
    # C(12,6) = 924 schedules; counter=4 only when the four read-add-write blocks do not
    # overlap, i.e. the C(4,2) = 6 orders of whole blocks. The rest is checked by brute force.
    r = cl.races.interleavings("two increments each")
    assert r.n_schedules == 924
    assert r.histogram == {"counter=2": 702, "counter=3": 216, "counter=4": 6}


def _brute_force(threads, counter=0):
    """Histogram of final counters over every interleaving, by plain recursion (no memo)."""
    hist = {}

    def go(pcs, shared, tmps):
        moved = False
        for i, t in enumerate(threads):
            if pcs[i] == len(t):
                continue
            moved = True
            op = t[pcs[i]][0]
            new_tmps = list(tmps)
            new_shared = shared
            if op == "load":
                new_tmps[i] = shared
            elif op == "add":
                new_tmps[i] += 1
            else:
                new_shared = tmps[i]
            go((*pcs[:i], pcs[i] + 1, *pcs[i + 1 :]), new_shared, tuple(new_tmps))
        if not moved:
            hist[f"counter={shared}"] = hist.get(f"counter={shared}", 0) + 1

    go((0,) * len(threads), counter, (0,) * len(threads))
    return hist


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 1), (2, 2), (2, 1), (3, 1)])
def test_engine_agrees_with_brute_force(shape):
    threads = [INC * n for n in shape]
    r = cl.races.interleavings(cl.races.program(*threads, shared={"counter": 0}))
    assert r.histogram == _brute_force(threads)
    assert r.n_schedules == cl.races.count_schedules(*(3 * n for n in shape))


# --------------------------------------------------------------------------- programs


def test_program_errors_are_specific():
    with pytest.raises(ValueError, match=r"unknown step 'lod'"):
        cl.races.program([("lod", "counter", "tmp")], shared={"counter": 0})
    with pytest.raises(ValueError, match=r"must look like \('load', shared_var, local\)"):
        cl.races.program([("load", "counter")], shared={"counter": 0})
    with pytest.raises(ValueError, match=r"uses 'count', which is not a shared variable"):
        cl.races.program([("load", "count", "tmp")], shared={"counter": 0})
    with pytest.raises(ValueError, match="must jump to a step from 0 to 2"):
        cl.races.program([("load", "c", "t"), ("jump_if", "t", "==", 0, 9)], shared={"c": 0})
    with pytest.raises(ValueError, match="jumps to itself"):
        cl.races.program([("load", "c", "t"), ("jump", 1)], shared={"c": 0})
    with pytest.raises(TypeError, match="each step must be a tuple"):
        cl.races.program(["load counter"], shared={"counter": 0})
    with pytest.raises(ValueError, match="a program needs at least one thread"):
        cl.races.program(shared={})
    with pytest.raises(ValueError, match="a condition has exactly one lock"):
        cl.races.program([("wait", "c", "A")], [("wait", "c", "B")], shared={})


def test_steps_read_like_python():
    p = levels.level("stolen wake-up, while loop").program
    listing = p.listing()
    assert "  4  go to step 1" in listing
    assert "n = n - 1" in listing
    assert "if n >= 0: go to the end" in listing
    assert str(steps.Step.parse(("add", "tmp", 1))) == "tmp = tmp + 1"


def test_release_without_acquire_is_a_program_error():
    p = cl.races.program([("release", "L")], shared={})
    with pytest.raises(steps.ProgramError, match="T1 does not hold 'L'"):
        cl.races.interleavings(p)


def test_wait_without_lock_is_a_program_error():
    p = cl.races.program([("wait", "c", "L")], shared={})
    with pytest.raises(steps.ProgramError, match="waiting needs 'L' held"):
        schedules.Scheduler(p).step(0)


def test_interleavings_refuses_other_things():
    with pytest.raises(TypeError, match=r"'prog' must be a program from cl\.races\.program"):
        cl.races.interleavings(3)
    with pytest.raises(ValueError, match="'name' must be one of 'lost update'"):
        cl.races.interleavings("nope")


# --------------------------------------------------------------------------- levels


def test_the_ladder_levels_and_which_can_be_won():
    wins = {}
    for name, lv in cl.races.LEVELS.items():
        r = cl.races.interleavings(lv)
        wins[name] = any(lv.wins(o) for o in r.histogram)
    assert wins == {
        "lost update": True,
        "check-then-act": True,
        "a lock fixes it": False,
        "check-then-act with a lock": False,
        "two locks deadlock": True,
        "missed wake-up": True,
        "wake-up done right": False,
        "stolen wake-up": True,
        "stolen wake-up, while loop": False,
        "two increments each": True,
        "a lock on each step": True,
    }
    assert all(lv.challenge.endswith(("(Can you?)", ".", ")")) for lv in cl.races.LEVELS.values())
    assert str(levels.level("lost update")).startswith("Challenge: Make the counter end at 1")


def test_level_names():
    with pytest.raises(ValueError, match="'name' must be one of 'lost update'"):
        levels.level("nope")


# --------------------------------------------------------------------------- the scheduler


def test_scheduler_step_undo_and_race_message():
    s = schedules.Scheduler(_program("lost update"))
    assert s.status == "running"
    s.step(0)
    s.step(1)
    assert s.locals(0) == {"tmp": 0} and s.locals(1) == {"tmp": 0}
    assert s.next_step(0) == "1: tmp = tmp + 1"
    for t in (0, 0, 1, 1):
        s.step(t)
    assert s.outcome == "counter=1" and s.is_race
    assert s.message.startswith("Race! The threads finished with counter=1")
    assert s.undo() and s.outcome is None
    s.reset()
    assert s.schedule == () and not s.undo()


def test_scheduler_serial_run_is_not_a_race():
    s = schedules.Scheduler(_program("lost update"))
    for t in (0, 0, 0, 1, 1, 1):
        s.step(t)
    assert s.outcome == "counter=2" and not s.is_race
    assert "same as running the threads one after the other" in s.message


def test_scheduler_refuses_blocked_and_finished_threads():
    s = schedules.Scheduler(_program("a lock fixes it"))
    s.step(0)  # T1 takes the lock
    assert not s.can_step(1) and s.holds(0) == ["lock"]
    assert s.next_step(1) == "blocked: waits for lock (held by T1)"
    with pytest.raises(ValueError, match=r"T2 cannot run now: blocked: waits for lock"):
        s.step(1)
    with pytest.raises(ValueError, match=r"'thread' must be 0 to 1 \(got 2\)"):
        s.step(2)


def test_scheduler_two_locks_deadlock_message():
    s = schedules.Scheduler(_program("two locks deadlock"))
    s.step(0)
    s.step(1)
    assert s.status == "deadlock"
    assert s.message == (
        "Deadlock! T1 waits for B (held by T2); T2 waits for A (held by T1): they wait for "
        "each other's locks in a circle. No thread can move."
    )


def test_scheduler_condition_wakeup_in_a_while_loop():
    s = schedules.Scheduler(_program("wake-up done right"))
    for t in (0, 0, 0, 0):  # consumer: acquire, load 0, no jump, wait
        s.step(t)
    assert s.next_step(0) == "blocked: sleeping in wait(c) until someone signals it"
    for t in (1, 1, 1):  # producer: store, acquire, signal
        s.step(t)
    assert s.next_step(0) == "blocked: waits for L (held by producer)"
    s.step(1)  # release
    assert s.next_step(0) == "take L again (after wait)"
    s.step(0)  # takes L again
    assert s.next_step(0) == "4: go to step 1"
    for _ in range(4):  # back to the check: load 1, jump to the release, release
        if s.outcome is None:
            s.step(0)
    assert s.outcome == "ready=1" and not s.is_race
