"""Lesson 02's self-checks: the learner's two threads, judged by what ran where and when."""

from __future__ import annotations

import sys
import threading
import time

import pytest

import concurrency_lab as cl
from concurrency_lab.core.feedback import hint
from concurrency_lab.gil import checks


@pytest.fixture(autouse=True)
def small_work(monkeypatch):
    """Calls of about 20 ms, so the check's runs stay quick."""
    monkeypatch.setattr(checks, "_units", {})
    monkeypatch.setattr(checks, "calibrate", lambda work, s: cl.calibrate(work, 0.02))


def right(work, units):
    threads = [threading.Thread(target=work, args=(units,)) for _ in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def test_two_threads_passes_and_reports_both_workloads():
    fb = cl.check.gil.two_threads(right)
    assert fb.ok, fb.message
    assert "Both threads ran at the same time" in fb.message
    assert "cl.cpu_bound: " in fb.message and "cl.gil_releasing: " in fb.message


def test_one_after_the_other_is_caught_with_tiered_hints():
    def sequential(work, units):
        start = time.perf_counter()
        for _ in range(2):
            t = threading.Thread(target=work, args=(units,))
            t.start()
            t.join()
        return time.perf_counter() - start

    fb = cl.check.gil.two_threads(sequential)
    assert not fb.ok and "ran one after the other" in fb.message
    assert len(fb.hints) == 3 and fb.hints[-1].startswith("```python")
    assert hint("gil.two_threads").text == fb.hints[0]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_calling_instead_of_passing_the_function_is_explained():
    def called(work, units):
        threads = [threading.Thread(target=work(units)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return 0.1

    fb = cl.check.gil.two_threads(called)
    assert not fb.ok and "ran in the thread that called two_threads" in fb.message


def test_not_joining_and_wrong_counts_and_times_are_caught():
    def no_join(work, units):
        start = time.perf_counter()
        for _ in range(2):
            threading.Thread(target=work, args=(units,)).start()
        return time.perf_counter() - start

    fb = cl.check.gil.two_threads(no_join)
    assert not fb.ok and "returned while the work was still running" in fb.message

    def one(work, units):
        t = threading.Thread(target=work, args=(units,))
        t.start()
        t.join()
        return 0.1

    assert "work ran 1 time(s)" in cl.check.gil.two_threads(one).message

    def start_time(work, units):
        right(work, units)
        return time.perf_counter()

    assert "read time.perf_counter() just before" in cl.check.gil.two_threads(start_time).message

    def in_one_thread(work, units):
        t = threading.Thread(target=lambda: (work(units), work(units)))
        start = time.perf_counter()
        t.start()
        t.join()
        return time.perf_counter() - start

    assert "Both calls ran in the same thread" in cl.check.gil.two_threads(in_one_thread).message


def test_words_for_the_speedups_are_conditional():
    assert "no gain: the GIL" in checks._words("cl.cpu_bound", 0.98, False, 2, True)
    assert "timing was disturbed" in checks._words("cl.cpu_bound", 1.4, False, 2, True)
    assert "a gain: it runs in C without the GIL" in checks._words("x", 1.9, True, 2, True)
    assert "other programs kept cores busy" in checks._words("x", 1.05, True, 2, True)
    assert "with 1 usable core" in checks._words("x", 1.0, True, 1, True)
    assert "your Python runs without the GIL" in checks._words("x", 1.9, False, 2, False)


def test_which_work_with_and_without_the_gil(monkeypatch):
    good = {cl.gil_releasing, cl.zlib_compress, cl.io_wait}
    monkeypatch.setattr(checks, "gil_enabled", lambda: True)
    assert cl.check.gil.which_work(good).ok
    fb = cl.check.gil.which_work(good | {cl.cpu_bound})
    assert not fb.ok and "cl.cpu_bound is pure Python" in fb.message
    assert "cl.io_wait too" in cl.check.gil.which_work({cl.gil_releasing, cl.zlib_compress}).message
    assert "not one of the four workloads" in cl.check.gil.which_work({print}).message
    assert "as a set or list" in cl.check.gil.which_work(3).message
    monkeypatch.setattr(checks, "gil_enabled", lambda: False)
    assert not cl.check.gil.which_work(good).ok
    assert cl.check.gil.which_work(good | {cl.cpu_bound}).ok


def _restores(interval_s, action):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    try:
        return action()
    finally:
        sys.setswitchinterval(previous)


def _no_finally(interval_s, action):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    result = action()
    sys.setswitchinterval(previous)
    return result


def _default_back(interval_s, action):
    sys.setswitchinterval(interval_s)
    try:
        return action()
    finally:
        sys.setswitchinterval(0.005)


def _swallows(interval_s, action):
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    try:
        return action()
    except Exception:
        return None
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.parametrize(
    "fn, ok, words",
    [
        (_restores, True, "restored always"),
        (_no_finally, False, "the restoring line never ran"),
        (_default_back, False, "put back the PREVIOUS value (not a fixed value like 0.005)"),
        (_swallows, False, "let the exception through"),
        (lambda i, a: a(), False, "While the action ran the interval was"),
    ],
)
def test_restore_interval(fn, ok, words):
    before = sys.getswitchinterval()
    fb = cl.check.gil.restore_interval(fn)
    assert fb.ok is ok and words in fb.message
    assert sys.getswitchinterval() == before
