"""The self-checks of lessons 02 and 03: right answers pass, typical mistakes get their hint."""

from __future__ import annotations

import sys

import pytest

import concurrency_lab as cl
from concurrency_lab import check
from concurrency_lab.gil import checks as gil_checks


def test_faster_config(monkeypatch):
    monkeypatch.setattr(gil_checks, "gil_enabled", lambda: True)
    monkeypatch.setattr(gil_checks, "usable_cores", lambda: 4)
    assert check.gil.check_faster_config("process", 4).ok
    assert check.gil.check_faster_config("process", 2).ok
    fb = check.gil.check_faster_config("thread", 4)
    assert not fb.ok and "GIL" in fb.message
    fb = check.gil.check_faster_config("process", 8)
    assert not fb.ok and "4 usable cores" in fb.message
    assert "serial case" in check.gil.check_faster_config("process", 1).message
    assert "'kind' must be" in check.gil.check_faster_config("fiber", 2).message
    monkeypatch.setattr(gil_checks, "usable_cores", lambda: 1)
    assert check.gil.check_faster_config("process", 2).ok


def test_faster_config_accepts_threads_without_the_gil(monkeypatch):
    monkeypatch.setattr(gil_checks, "gil_enabled", lambda: False)
    monkeypatch.setattr(gil_checks, "usable_cores", lambda: 4)
    fb = check.gil.check_faster_config("thread", 4)
    assert fb.ok and "without the GIL" in fb.message
    assert check.gil.check_faster_config("process", 4).ok
    fb = check.gil.check_faster_config("thread", 8)
    assert not fb.ok and "Threads do scale, but you have 4 usable cores" in fb.message
    assert "serial case" in check.gil.check_faster_config("thread", 1).message


def test_threads_scale(monkeypatch):
    monkeypatch.setattr(gil_checks, "gil_enabled", lambda: True)
    assert check.gil.check_threads_scale(cl.gil_releasing).ok
    assert check.gil.check_threads_scale(cl.io_wait).ok
    assert check.gil.check_threads_scale(cl.zlib_compress).ok
    fb = check.gil.check_threads_scale(cl.cpu_bound)
    assert not fb.ok and "holds the GIL" in fb.message
    assert not check.gil.check_threads_scale(print).ok
    assert "without calling it" in check.gil.check_threads_scale(cl.cpu_bound(1)).message
    assert "cl.zlib_compress" in check.gil.check_threads_scale(print).message


def test_threads_scale_accepts_pure_python_without_the_gil(monkeypatch):
    monkeypatch.setattr(gil_checks, "gil_enabled", lambda: False)
    fb = check.gil.check_threads_scale(cl.cpu_bound)
    assert fb.ok and "runs without the GIL" in fb.message
    assert check.gil.check_threads_scale(cl.gil_releasing).ok


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


def _restores_the_default(interval_s, action):
    sys.setswitchinterval(interval_s)
    try:
        return action()
    finally:
        sys.setswitchinterval(0.005)


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
        (_never_restores, False, "4.2 ms before your function ran and 1.23 ms after"),
        (_restores_the_default, False, "not a fixed value like 0.005"),
        (_swallows, False, "do not swallow it"),
        (lambda i, a: None, False, "The action was never called"),
    ],
)
def test_restores_switch_interval(fn, ok, hint):
    before = sys.getswitchinterval()
    fb = check.gil.check_restores_switch_interval(fn)
    assert fb.ok is ok and hint in fb.message
    assert sys.getswitchinterval() == before


def test_efficiency():
    assert check.scaling.check_efficiency(lambda s, p, n: s / p / n).ok
    assert "that is the speedup" in check.scaling.check_efficiency(lambda s, p, n: s / p).message
    assert "upside down" in check.scaling.check_efficiency(lambda s, p, n: p / s * n).message
    assert (
        "raised ZeroDivisionError" in check.scaling.check_efficiency(lambda s, p, n: 1 / 0).message
    )


def test_split_work():
    assert check.scaling.check_split_work(cl.scaling.split_work).ok
    assert "adds up to" in check.scaling.check_split_work(lambda t, n: [t // n] * n).message
    fb = check.scaling.check_split_work(lambda t, n: [t - (n - 1) * (t // n)] + [t // n] * (n - 1))
    assert not fb.ok and "differ by at most 1" in fb.message
    assert "one per worker" in check.scaling.check_split_work(lambda t, n: [t]).message
    assert "whole numbers" in check.scaling.check_split_work(lambda t, n: [t / n] * n).message


def test_amdahl():
    assert check.scaling.check_amdahl(lambda n, s: 1 / (s + (1 - s) / n)).ok
    assert check.scaling.check_amdahl(lambda n, s: round(1 / (s + (1 - s) / n), 2)).ok
    assert (
        "TIME of the parallel run"
        in check.scaling.check_amdahl(lambda n, s: s + (1 - s) / n).message
    )
    assert "does not get faster" in check.scaling.check_amdahl(lambda n, s: float(n)).message
    assert not check.scaling.check_amdahl(lambda n, s: None).ok
    assert not check.scaling.check_amdahl(lambda n, s: round(1 / (s + (1 - s) / n), 1)).ok


def test_amdahl_does_not_call_a_wrong_formula_the_time_of_the_parallel_run():
    # For (2, 0.0) this wrong formula gives 0.5, like the TIME formula: the hint must not say so.
    fb = check.scaling.check_amdahl(lambda n, s: 1 / (s + (1 - s) * n))
    assert not fb.ok
    assert "TIME" not in fb.message and "amdahl(4, 0.1) should be about 3.077" in fb.message
