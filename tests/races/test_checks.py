"""Lesson 04's self-checks, on right answers and on the wrong ones learners really write."""

from __future__ import annotations

import collections
import threading
import time

import pytest

import concurrency_lab as cl
from concurrency_lab.core import feedback
from concurrency_lab.races import checks, counters, levels
from concurrency_lab.races.watched_buffer import watch_buffer

from .forced import ForcedSplitWatchedCounter

INC = [("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")]


@pytest.fixture(autouse=True)
def _fresh_hints():
    """Each test starts with no hints shown (a pass forgets an exercise's hints)."""
    for exercise in ("races.locked_counter", "races.locked_steps", "races.bounded_buffer"):
        feedback.passed(exercise, "")


def _hints(exercise):
    out = []
    while True:
        h = feedback.hint(exercise)
        if out and h.number == out[-1].number:
            return out
        out.append(h)


# --------------------------------------------------------------------------- Exercise 1


def _threads(body):
    def count_in_two_threads(counter, n):
        threads = [threading.Thread(target=body, args=(counter, n)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    return count_in_two_threads


def _unlocked(counter, n):
    for _ in range(n):
        counter.value += 1


def _locked_answer():
    lock = threading.Lock()

    def add(counter, n):
        for _ in range(n):
            with lock:
                counter.value += 1

    return _threads(add)


def _lock_per_thread(counter, n):  # the common wrong answer: each thread makes its own lock
    lock = threading.Lock()
    for _ in range(n):
        with lock:
            counter.value += 1


def test_locked_counter_passes_the_lock(monkeypatch):
    monkeypatch.setattr(checks, "WatchedCounter", ForcedSplitWatchedCounter)
    fb = cl.check.races.locked_counter(_locked_answer(), n_increments=2_000, n_runs=2)
    assert fb.ok, fb.message
    assert fb.message.startswith("2 runs of 2 threads x 2,000 increments")


@pytest.mark.parametrize("wrong", [_unlocked, _lock_per_thread])
def test_locked_counter_fails_a_split_increment_without_giving_the_code(monkeypatch, wrong):
    # Deterministic: the forced counter splits one read-add-write in every run.
    monkeypatch.setattr(checks, "WatchedCounter", ForcedSplitWatchedCounter)
    fb = cl.check.races.locked_counter(_threads(wrong), n_increments=2_000, n_runs=2)
    assert not fb.ok
    assert fb.message.startswith("2 of 2 runs lost updates (up to ")
    assert "with" not in fb.message and "Lock" not in fb.message  # the concept, not the code
    hints = _hints("races.locked_counter")
    assert [h.number for h in hints] == [1, 2, 3]
    assert "Which object of `threading`" in hints[0].text
    assert "a lock made inside the thread's function is a different lock" in hints[1].text
    assert hints[2].text.startswith("```python\ndef count_in_two_threads(counter, n):")


def test_locked_counter_whole_loop_under_the_lock_passes_with_a_note():
    lock = threading.Lock()

    def whole_loop(counter, n):
        with lock:
            for _ in range(n):
                counter.value += 1

    fb = cl.check.races.locked_counter(_threads(whole_loop), n_increments=2_000, n_runs=2)
    assert fb.ok
    assert "one thread did all its increments before the other began" in fb.message


def test_locked_counter_one_thread_is_not_enough():
    fb = cl.check.races.locked_counter(_unlocked, n_increments=1_000, n_runs=1)
    assert not fb.ok and fb.message.startswith("Only 1 thread added to the counter")


def test_locked_counter_threads_not_joined():
    release = threading.Event()
    started = []

    def slow(counter, n):
        for _ in range(n):
            counter.value += 1
        release.wait(timeout=5)

    def no_join(counter, n):
        for _ in range(2):
            t = threading.Thread(target=slow, args=(counter, n))
            t.start()
            started.append(t)
        # returns at once, without join()

    threading.Timer(0.3, release.set).start()
    fb = cl.check.races.locked_counter(no_join, n_increments=10, n_runs=1)
    assert not fb.ok and "still added to the counter" in fb.message
    for t in started:
        t.join(timeout=5)


def test_locked_counter_other_mistakes():
    fb = cl.check.races.locked_counter(lambda c, n: None, n_runs=1)
    assert not fb.ok and "The counter stayed at 0" in fb.message

    def raises(counter, n):
        raise KeyError("oops")

    fb = cl.check.races.locked_counter(raises, n_runs=1)
    assert not fb.ok and fb.message == "Your function raised KeyError: 'oops'."
    fb = cl.check.races.locked_counter(_locked_answer()(counters.SharedCounter(), 1))
    assert not fb.ok and "without calling it" in fb.message
    with pytest.raises(ValueError, match=r"'n_runs' must be a whole number between 1 and 20"):
        cl.check.races.locked_counter(_unlocked, n_runs=0)


# --------------------------------------------------------------------------- Exercise 2


def test_locked_steps_check():
    bad = cl.check.races.locked_steps(cl.races.program(INC, INC, shared={"counter": 0}))
    assert not bad.ok
    assert bad.message.startswith("18 of 20 schedules still end with counter=1 instead of")
    assert "acquire" not in bad.message
    half = [("acquire", "lock"), *INC]
    stuck = cl.check.races.locked_steps(cl.races.program(half, half, shared={"counter": 0}))
    assert not stuck.ok and "(0 deadlocked, 2 stuck)" in stuck.message
    misuse = cl.check.races.locked_steps(
        cl.races.program([*INC, ("release", "lock")], INC, shared={"counter": 0})
    )
    assert not misuse.ok and misuse.message.startswith("A schedule misuses a lock")
    assert cl.check.races.locked_steps(levels.level("a lock fixes it").program).ok
    assert not cl.check.races.locked_steps("no").ok


# --------------------------------------------------------------------------- Exercise 3


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
            if not self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5):
                raise TimeoutError("the buffer stayed full for 5 s")
            self.items.append(item)
            self.cond.notify_all()

    def get(self):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.items) > 0, timeout=5):
                raise TimeoutError("no item came within 5 s")
            item = self.items.popleft()
            self.cond.notify_all()
            return item


class _PutOnly(_Broken):  # the learner's natural first step: only put() fixed
    put = _Fixed.put


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
    bad = cl.check.races.bounded_buffer(_Broken)
    assert not bad.ok and "put() must wait while it is full" in bad.message
    hints = _hints("races.bounded_buffer")
    assert "if not self.cond.wait_for(" in hints[-1].text  # the code checks the timeout
    assert "returns False if the time ran out" in hints[1].text
    assert cl.check.races.bounded_buffer(_Fixed).ok


def test_bounded_buffer_check_bad_arguments():
    with pytest.raises(ValueError, match=r"'n_items' must be a whole number >= 1 \(got 0\)"):
        cl.check.races.bounded_buffer(_Fixed, n_items=0)
    with pytest.raises(ValueError, match=r"'timeout_s' must be a number of seconds > 0"):
        cl.check.races.bounded_buffer(_Fixed, timeout_s=0)


def _in_thread(fn, deadline_s):
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("value", fn()))
    t.start()
    t.join(deadline_s)
    return box.get("value"), t


def test_bounded_buffer_check_stops_at_the_first_error():
    # With a 60 s timeout, the check must come back long before it: the IndexError ends it.
    watch, t = _in_thread(
        lambda: watch_buffer(_PutOnly(3), capacity=3, n_items=200, timeout_s=60), 30
    )
    assert not t.is_alive() and watch is not None
    assert type(watch.errors[0][1]).__name__ == "IndexError"
    fb = cl.check.races.bounded_buffer(_PutOnly)
    assert not fb.ok and "raised IndexError" in fb.message
    assert "get() must wait until there is an item" in fb.message


def test_bounded_buffer_check_rejects_changes_outside_the_condition():
    fb = cl.check.races.bounded_buffer(_BusyWait)
    assert not fb.ok
    # Either way is right: the race showed (too many items), or it did not but was seen.
    assert "without holding self.cond" in fb.message or "more than its capacity" in fb.message


def test_bounded_buffer_check_unwinds_threads_that_wait_forever():
    fb = cl.check.races.bounded_buffer(_NoNotify, timeout_s=0.5)
    assert not fb.ok and "still waited after 0.5 s" in fb.message
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        t.name.startswith(("producer", "consumer")) for t in threading.enumerate()
    ):
        time.sleep(0.01)
    assert [
        t.name for t in threading.enumerate() if t.name.startswith(("producer", "consumer"))
    ] == []


class _IgnoresTimeout(_Fixed):  # the solution's common wrong answer: wait_for's result unused
    def put(self, item):
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5)
            self.items.append(item)
            self.cond.notify_all()


class _WaitsAgain(_Fixed):  # a timeout that only starts another wait
    def put(self, item):
        with self.cond:
            while len(self.items) >= self.capacity:
                self.cond.wait(timeout=5)
            self.items.append(item)
            self.cond.notify_all()


class _DropsSilently(_Fixed):
    def put(self, item):
        with self.cond:
            if self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5):
                self.items.append(item)
                self.cond.notify_all()


class _ReturnsFalse(_Fixed):  # says so: as good as raising
    def put(self, item):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.items) < self.capacity, timeout=5):
                return False
            self.items.append(item)
            self.cond.notify_all()
            return True


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (_IgnoresTimeout, "put() added the item anyway"),
        (_WaitsAgain, "a second later it was still waiting"),
        (_DropsSilently, "returned without adding the item and without saying so"),
    ],
)
def test_bounded_buffer_check_a_full_buffer_whose_wait_runs_out(answer, says):
    # Each of these delivers all 400 items with a consumer present; only a full buffer with
    # nobody to take an item shows what put() does once its wait runs out.
    started = time.monotonic()
    fb = cl.check.races.bounded_buffer(answer)
    assert not fb.ok and says in fb.message, fb.message
    assert "cut every timeout of self.cond to 50 ms" in fb.message
    assert time.monotonic() - started < 10  # the 5 s timeouts were cut, not waited out
    assert "check that result" in _hints("races.bounded_buffer")[0].text


def test_bounded_buffer_check_accepts_raising_or_returning_false_when_full():
    for answer in (_Fixed, _ReturnsFalse):
        fb = cl.check.races.bounded_buffer(answer)
        assert fb.ok and "did not carry on as if there were room" in fb.message, fb.message
