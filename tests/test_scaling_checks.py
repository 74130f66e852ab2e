"""The self-checks of lessons 02 and 03: right answers pass, typical mistakes get their hint."""

from __future__ import annotations

import sys

import pytest

import concurrency_lab as cl
from concurrency_lab import check


def test_faster_config(monkeypatch):
    monkeypatch.setattr(cl.runners, "usable_cores", lambda: 4)
    assert check.check_faster_config("process", 4).ok
    assert check.check_faster_config("process", 2).ok
    fb = check.check_faster_config("thread", 4)
    assert not fb.ok and "GIL" in fb.message
    fb = check.check_faster_config("process", 8)
    assert not fb.ok and "4 usable cores" in fb.message
    assert "serial case" in check.check_faster_config("process", 1).message
    assert "'kind' must be" in check.check_faster_config("fiber", 2).message
    monkeypatch.setattr(cl.runners, "usable_cores", lambda: 1)
    assert check.check_faster_config("process", 2).ok


def test_threads_scale():
    assert check.check_threads_scale(cl.gil_releasing).ok
    assert check.check_threads_scale(cl.io_wait).ok
    fb = check.check_threads_scale(cl.cpu_bound)
    assert not fb.ok and "holds the GIL" in fb.message
    assert not check.check_threads_scale(print).ok
    assert "without calling it" in check.check_threads_scale(cl.cpu_bound(1)).message


def _restores(interval_s, action):
    saved = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    try:
        return action()
    finally:
        sys.setswitchinterval(saved)


def _forgets_on_error(interval_s, action):
    saved = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    result = action()
    sys.setswitchinterval(saved)
    return result


def _never_restores(interval_s, action):
    sys.setswitchinterval(interval_s)
    return action()


def _swallows(interval_s, action):
    try:
        return _restores(interval_s, action)
    except Exception:
        return None


@pytest.mark.parametrize(
    "fn,ok,hint",
    [
        (_restores, True, "restored always"),
        (_forgets_on_error, False, "'finally:' block"),
        (_never_restores, False, "After a normal run the interval was not restored"),
        (_swallows, False, "do not swallow it"),
        (lambda i, a: None, False, "The action was never called"),
    ],
)
def test_restores_switch_interval(fn, ok, hint):
    before = sys.getswitchinterval()
    fb = check.check_restores_switch_interval(fn)
    assert fb.ok is ok and hint in fb.message
    assert sys.getswitchinterval() == before


def test_efficiency():
    assert check.check_efficiency(lambda s, p, n: s / p / n).ok
    assert "that is the speedup" in check.check_efficiency(lambda s, p, n: s / p).message
    assert "upside down" in check.check_efficiency(lambda s, p, n: p / s * n).message
    assert "raised ZeroDivisionError" in check.check_efficiency(lambda s, p, n: 1 / 0).message


def test_split_work():
    assert check.check_split_work(cl.split_work).ok
    assert "adds up to" in check.check_split_work(lambda t, n: [t // n] * n).message
    fb = check.check_split_work(lambda t, n: [t - (n - 1) * (t // n)] + [t // n] * (n - 1))
    assert not fb.ok and "differ by at most 1" in fb.message
    assert "one per worker" in check.check_split_work(lambda t, n: [t]).message
    assert "whole numbers" in check.check_split_work(lambda t, n: [t / n] * n).message


def test_amdahl():
    assert check.check_amdahl(lambda n, s: 1 / (s + (1 - s) / n)).ok
    assert "TIME of the parallel run" in check.check_amdahl(lambda n, s: s + (1 - s) / n).message
    assert "does not get faster" in check.check_amdahl(lambda n, s: float(n)).message
    assert not check.check_amdahl(lambda n, s: None).ok
