"""Lesson 04's widget (clicked headless), plots and self-checks."""

from __future__ import annotations

import collections
import threading
import time

import pytest

import concurrency_lab as cl

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")


def _click(game, thread):
    game.step_buttons[thread].click()


def test_game_lost_update_by_clicks():
    game = cl.races.scheduler_game("lost update")
    assert [b.description for b in game.step_buttons] == ["step T1", "step T2"]
    assert game.undo_button.disabled
    for t in (0, 1, 0, 0, 1, 1):
        _click(game, t)
    assert game.scheduler.outcome == "counter=1"
    assert "Race!" in game.message.value
    assert all(b.disabled for b in game.step_buttons)
    game.undo_button.click()
    assert game.scheduler.outcome is None and not game.step_buttons[1].disabled
    game.reset_button.click()
    assert game.scheduler.schedule == ()
    assert "counter</b> = 0" in game.board.value


def test_game_levels_reach_their_outcomes():
    game = cl.races.scheduler_game("lost update")
    game.level_picker.value = "two locks deadlock"
    assert [b.description for b in game.step_buttons] == ["step T1", "step T2"]
    _click(game, 0)
    _click(game, 1)
    assert game.scheduler.status == "deadlock"
    assert "Deadlock!" in game.message.value
    game.level_picker.value = "a lock fixes it"
    _click(game, 0)
    assert game.step_buttons[1].disabled  # blocked on the lock
    for _ in range(4):
        _click(game, 0)
    for _ in range(5):
        _click(game, 1)
    assert game.scheduler.outcome == "counter=2" and not game.scheduler.is_race
    game.level_picker.value = "missed wake-up"
    assert [b.description for b in game.step_buttons] == ["step consumer", "step producer"]
    _click(game, 0)  # consumer reads ready=0
    for _ in range(4):
        _click(game, 1)  # producer sets ready, signals nobody
    for _ in range(3):
        _click(game, 0)  # consumer jumps? no: it takes L and waits
    assert game.scheduler.status == "deadlock"
    game.level_picker.value = "check-then-act"
    for t in (0, 1, 0, 1, 0, 1, 0, 1):
        _click(game, t)
    assert game.scheduler.outcome == "seat_free=0, booked_1=1, booked_2=1"
    assert game.scheduler.is_race


def test_game_with_custom_program_and_bad_input():
    p = cl.races.program([("store", "x", 1)], shared={"x": 0})
    game = cl.races.scheduler_game(p)
    assert game.level_picker is None
    _click(game, 0)
    assert game.scheduler.outcome == "x=1"
    with pytest.raises(ValueError, match="'name' must be one of"):
        cl.races.scheduler_game("nope")
    with pytest.raises(TypeError, match="'prog' must be a level name"):
        cl.races.scheduler_game(3)


def test_plots_return_figures():
    from matplotlib.figure import Figure

    r = cl.races.lost_updates(how="locked", n_increments=1_000, n_runs=2)
    assert isinstance(cl.races.plot_lost_updates([r, r]), Figure)
    assert isinstance(cl.races.plot_interleavings(cl.races.interleavings("missed wake-up")), Figure)
    with pytest.raises(TypeError, match=r"cl\.races\.interleavings"):
        cl.races.plot_interleavings(r)


# --------------------------------------------------------------------------- self-checks


def _unsafe(counter, n):
    for _ in range(n):
        counter.value += 1


def _safe(counter, n):
    for _ in range(n):
        with counter.lock:
            counter.value += 1


def test_counter_check():
    bad = cl.check.races.counter_is_correct(_unsafe)
    assert not bad.ok and "with counter.lock: counter.value += 1" in bad.message
    good = cl.check.races.counter_is_correct(_safe, n_increments=20_000, n_runs=2)
    assert good.ok
    none = cl.check.races.counter_is_correct(lambda c, n: None, n_runs=1)
    assert not none.ok and "stayed at 0" in none.message


def test_counter_program_check():
    inc = [("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")]
    bad = cl.check.races.counter_program_is_correct(
        cl.races.program(inc, inc, shared={"counter": 0})
    )
    assert not bad.ok and "18 of 20 schedules still end with counter=1" in bad.message
    half = [("acquire", "lock"), *inc]
    stuck = cl.check.races.counter_program_is_correct(
        cl.races.program(half, half, shared={"counter": 0})
    )
    assert not stuck.ok and "deadlock" in stuck.message
    assert cl.check.races.counter_program_is_correct(cl.races.level("a lock fixes it")).ok


class _Broken:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.cond = threading.Condition()

    def put(self, item):
        self.items.append(item)

    def get(self):
        return self.items.popleft()


class _Fixed(_Broken):
    def put(self, item):
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5)
            self.items.append(item)
            self.cond.notify_all()

    def get(self):
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) > 0, timeout=5)
            item = self.items.popleft()
            self.cond.notify_all()
            return item


class _PutOnly(_Broken):  # the learner's natural first step: only put() fixed
    def put(self, item):
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5)
            self.items.append(item)
            self.cond.notify_all()


class _BusyWait(_Broken):  # waits without self.cond: racy, though it may deliver everything
    def put(self, item):
        while len(self.items) >= self.capacity:
            time.sleep(0.0001)
        self.items.append(item)

    def get(self):
        while not self.items:
            time.sleep(0.0001)
        return self.items.popleft()


class _NoNotify(_Broken):  # waits without a timeout, and nobody ever wakes anybody
    def put(self, item):
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) < self.capacity)
            self.items.append(item)

    def get(self):
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) > 0)
            return self.items.popleft()


def test_bounded_buffer_check():
    bad = cl.check.races.bounded_buffer_is_correct(_Broken)
    assert not bad.ok and "put() must wait while it is full" in bad.message
    assert cl.check.races.bounded_buffer_is_correct(_Fixed).ok


def test_bounded_buffer_check_bad_arguments():
    with pytest.raises(ValueError, match=r"'n_items' must be a whole number >= 1 \(got 0\)"):
        cl.check.races.bounded_buffer_is_correct(_Fixed, n_items=0)
    with pytest.raises(ValueError, match=r"'timeout_s' must be a number of seconds > 0"):
        cl.check.races.bounded_buffer_is_correct(_Fixed, timeout_s=0)


def test_bounded_buffer_check_stops_at_the_first_error():
    t0 = time.monotonic()
    fb = cl.check.races.bounded_buffer_is_correct(_PutOnly)
    assert time.monotonic() - t0 < 2.0  # not the overall timeout: the IndexError ends it
    assert not fb.ok and "raised IndexError" in fb.message
    assert "get() must wait until there is an item" in fb.message


def test_bounded_buffer_check_rejects_changes_outside_the_condition():
    fb = cl.check.races.bounded_buffer_is_correct(_BusyWait)
    assert not fb.ok
    assert "without holding self.cond" in fb.message or "more than its capacity" in fb.message


def test_bounded_buffer_check_unwinds_threads_that_wait_forever():
    fb = cl.check.races.bounded_buffer_is_correct(_NoNotify, timeout_s=0.5)
    assert not fb.ok and "still waited after 0.5 s" in fb.message
    assert "notify_all()" in fb.message
    time.sleep(0.2)
    assert [
        t.name for t in threading.enumerate() if t.name.startswith(("producer", "consumer"))
    ] == []


@pytest.mark.parametrize("fixed", [False, True])
def test_plot_primitive_demo(fixed):
    from matplotlib.figure import Figure

    d = cl.races.primitive_demo("Condition", fixed=fixed)
    fig = cl.races.plot_primitive_demo(d)
    assert isinstance(fig, Figure)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert ("drop item" in legend) is (not fixed)
    with pytest.raises(TypeError, match=r"cl\.races\.primitive_demo"):
        cl.races.plot_primitive_demo(d.run)
