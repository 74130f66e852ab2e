"""Lesson 05's self-checks: right answers pass, each typical wrong answer gets its concept,
and the hints come in tiers (the last one the code)."""

from __future__ import annotations

import random
import sys
import threading
import time
import traceback

import pytest

import concurrency_lab as cl
from concurrency_lab.core.feedback import hint

check = cl.check.deadlocks


def _all_hints(exercise):
    seen = []
    while True:
        h = hint(exercise)
        if seen and h.text == seen[-1]:
            return seen
        seen.append(h.text)


# --------------------------------------------------------------------------- Exercise 1


def _transfer_unordered(src, dst, amount):
    with src.lock, dst.lock:
        src.balance -= amount
        dst.balance += amount


def _transfer_dst_first(src, dst, amount):
    with dst.lock, src.lock:
        src.balance -= amount
        dst.balance += amount


def _transfer_by_name(src, dst, amount):
    first, second = sorted([src, dst], key=lambda a: a.name)
    with first.lock, second.lock:
        src.balance -= amount
        dst.balance += amount


def _transfer_by_id(src, dst, amount):
    first, second = sorted([src.lock, dst.lock], key=id)
    with first, second:
        src.balance -= amount
        dst.balance += amount


def _transfer_timed(src, dst, amount):
    while True:
        with src.lock:
            if dst.lock.acquire(timeout=0.01):
                try:
                    src.balance -= amount
                    dst.balance += amount
                    return
                finally:
                    dst.lock.release()
        time.sleep(random.uniform(0, 0.01))


def _transfer_try(src, dst, amount):
    while True:
        with src.lock:
            if dst.lock.acquire(blocking=False):
                try:
                    src.balance -= amount
                    dst.balance += amount
                    return
                finally:
                    dst.lock.release()
        time.sleep(random.uniform(0, 0.01))


def _transfer_unlocked(src, dst, amount):
    src.balance -= amount
    dst.balance += amount


def _transfer_wrong_sum(src, dst, amount):
    first, second = sorted([src, dst], key=lambda a: a.name)
    with first.lock, second.lock:
        src.balance -= amount


def _transfer_never_releases(src, dst, amount):
    first, second = sorted([src, dst], key=lambda a: a.name)
    first.lock.acquire()
    second.lock.acquire()
    src.balance -= amount
    dst.balance += amount


def test_transfer_in_opposite_orders_deadlocks_every_time_and_hints_come_in_tiers():
    assert check.transfer(_transfer_by_name).ok  # a pass starts the hints afresh
    for _ in range(5):  # the worst timing is forced: the wrong answer can never slip through
        bad = check.transfer(_transfer_unordered)
        assert not bad.ok
    assert bad.message.startswith(
        "Deadlock: transfer-1 holds alice and waits for bob (held by transfer-2); "
        "transfer-2 holds bob and waits for alice (held by transfer-1). Each transfer locks "
        "its source account first"
    )
    assert "sorted" not in bad.message  # the first answer names the concept, not the code
    hints = _all_hints("deadlocks.transfer")
    assert len(hints) == 3
    assert "order" in hints[0] and "```python" not in hints[0]
    assert hints[-1].startswith("```python") and "sorted(" in hints[-1]
    dst_first = check.transfer(_transfer_dst_first)
    assert not dst_first.ok and "locks its destination account first" in dst_first.message


@pytest.mark.parametrize(
    ("answer", "how"),
    [
        (_transfer_by_name, "both transfers took alice first: one global order removes"),
        (_transfer_by_id, "one global order removes the circular wait"),
        (_transfer_timed, "gave its lock back itself (that removes no preemption)"),
        (_transfer_try, "never waited while it held a lock (that removes hold and wait)"),
    ],
)
def test_transfer_right_answers_pass_and_say_which_condition_they_remove(answer, how):
    fb = check.transfer(answer)
    assert fb.ok, fb.message
    assert how in fb.message


def test_transfer_other_mistakes():
    unlocked = check.transfer(_transfer_unlocked)
    assert not unlocked.ok and "did not hold both accounts' locks" in unlocked.message
    wrong = check.transfer(_transfer_wrong_sum)
    assert not wrong.ok and "alice=95, bob=105" in wrong.message
    stuck = check.transfer(_transfer_never_releases)
    assert not stuck.ok and "did not finish within 2 s" in stuck.message
    not_fn = check.transfer("transfer")
    assert not not_fn.ok and "Pass your function itself" in not_fn.message


# --------------------------------------------------------------------------- Exercise 2


def _pick_blocking(first, second):
    first.acquire()
    second.acquire()


def _pick_timed(first, second):
    while True:
        first.acquire()
        if second.acquire(timeout=0.005):
            return
        first.release()
        time.sleep(random.uniform(0, 0.002))


def _pick_good(first, second):
    while True:
        first.acquire()
        if second.acquire(blocking=False):
            return
        first.release()
        time.sleep(random.uniform(0, 0.002))


def _pick_fixed_pause(first, second):
    while True:
        first.acquire()
        if second.acquire(blocking=False):
            return
        first.release()
        time.sleep(0.005)


def _pick_busy_loop(first, second):
    while True:
        first.acquire()
        if second.acquire(blocking=False):
            return
        first.release()


def _pick_keeps_first(first, second):
    first.acquire()
    while not second.acquire(blocking=False):
        time.sleep(random.uniform(0, 0.002))


def _pick_takes_first_twice(first, second):
    while True:
        first.acquire()
        if second.acquire(blocking=False):
            return
        time.sleep(random.uniform(0, 0.002))


def _pick_gives_up(first, second):
    first.acquire()
    if second.acquire(blocking=False):
        return
    first.release()


def test_back_off_right_answer_passes():
    fb = check.back_off(_pick_good)
    assert fb.ok, fb.message
    assert fb.message.startswith("pick_up never waited while holding a lock (no hold and wait)")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (_pick_blocking, "waited for its second lock while holding the first: hold and wait"),
        (_pick_timed, "A timed wait still holds while it waits: that is hold and wait"),
        (_pick_fixed_pause, "the same every time"),
        (_pick_busy_loop, "it retries at once, without a pause"),
        (_pick_keeps_first, "Does it put `first` down before it tries again?"),
        (_pick_takes_first_twice, "'first' is already held by this thread"),
        (_pick_gives_up, "it must return only once it holds both"),
    ],
)
def test_back_off_wrong_answers_name_their_mistake(answer, says):
    started = time.monotonic()
    fb = check.back_off(answer)
    assert not fb.ok
    assert says in fb.message, fb.message
    assert time.monotonic() - started < 10


def test_back_off_hints_end_with_the_code():
    assert check.back_off(_pick_good).ok  # a pass starts the hints afresh
    check.back_off(_pick_blocking)
    hints = _all_hints("deadlocks.back_off")
    assert "Hold and wait" in hints[0]
    assert hints[-1].startswith("```python") and "blocking=False" in hints[-1]


# --------------------------------------------------------------------------- Exercise 3


def _where_good(thread):
    frame = sys._current_frames()[thread.ident]
    return traceback.extract_stack(frame)[-1].line


def _where_lineno(thread):
    return sys._current_frames()[thread.ident].f_lineno


def _where_outermost(thread):
    return traceback.extract_stack(sys._current_frames()[thread.ident])[0].line


def _where_frame(thread):
    return sys._current_frames()[thread.ident]


def _where_nothing(thread):
    return None


def _where_raises(thread):
    return sys._current_frames()[-1]


def _where_hangs(thread):
    threading.Event().wait(3)


def test_where_stuck_right_answers_pass():
    fb = check.where_stuck(_where_good)
    assert fb.ok, fb.message
    assert "Both threads wait on `if second.acquire(timeout=0.2):`" in fb.message
    assert check.where_stuck(_where_lineno).ok


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (_where_outermost, "The outermost calls are where it started"),
        (_where_frame, "return the line itself, as text"),
        (_where_nothing, "where_stuck returned None"),
        (_where_raises, "where_stuck raised KeyError"),
        (_where_hangs, "did not return within 2 s"),
    ],
)
def test_where_stuck_wrong_answers(answer, says):
    fb = check.where_stuck(answer)
    assert not fb.ok and says in fb.message, fb.message


def test_where_stuck_hints_point_to_current_frames_then_the_code():
    assert check.where_stuck(_where_good).ok  # a pass starts the hints afresh
    check.where_stuck(_where_nothing)
    hints = _all_hints("deadlocks.where_stuck")
    assert "sys._current_frames()" in hints[0]
    assert hints[-1].startswith("```python") and "extract_stack(frame)[-1].line" in hints[-1]


def test_back_off_does_not_judge_pauses_where_sleep_rounds_to_the_timer_tick(monkeypatch):
    from concurrency_lab.deadlocks import checks as checks_module

    assert checks_module.sleep_is_coarse("win32", (3, 10))
    assert not checks_module.sleep_is_coarse("win32", (3, 11))
    assert not checks_module.sleep_is_coarse("linux", (3, 10))
    assert not checks_module.sleep_is_coarse("darwin", (3, 10))
    # On Windows + Python 3.10 every short pause lasts one ~15.6 ms tick, random or not:
    # the check must not call a random back-off "fixed" there, so it judges no pause at all.
    monkeypatch.setattr(checks_module, "sleep_is_coarse", lambda: True)
    fb = check.back_off(_pick_fixed_pause)
    assert fb.ok and "waited out a busy `second`" in fb.message


def test_back_off_calls_a_busy_loop_a_busy_loop_on_a_busy_machine():
    from concurrency_lab.deadlocks import checks as checks_module

    # Quiet: a spinning pick_up makes thousands of tries in the 100 ms (measured: 6,000-25,000).
    assert checks_module._no_pause(20_000, [4_000] * 19_999)
    # Busy (load average ~100): few tries, but each burst still a few µs apart. The count alone
    # called this "paused about 0.0 ms, the same every time", or passed it when the gaps varied.
    bursts = [3_500] * 300 + [2_000_000, 9_000_000, 500_000] * 20
    assert checks_module._no_pause(len(bursts) + 1, bursts)
    # Any real sleep: the shortest measured ~60 µs, a random pause of up to 0.2 ms ~175 µs.
    assert not checks_module._no_pause(500, [60_000 + 1_000 * (k % 230) for k in range(499)])
    assert not checks_module._no_pause(3, [10, 10])  # too few tries to judge
