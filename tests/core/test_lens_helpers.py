"""Tiered hints, show_source and the load meter."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.core import feedback, load


def test_a_failed_check_names_the_concept_and_keeps_its_hints_for_later():
    fb = feedback.failed(
        "test.order",
        "The threads did not overlap.",
        "Think about when join waits.",
        "```python\nt1.join()\n```",
    )
    assert not fb and "did not overlap" in repr(fb) and "cl.check.hint()" in repr(fb)
    assert "t1.join()" not in repr(fb) and "t1.join()" not in fb._repr_markdown_()
    first, second, again = cl.check.hint(), cl.check.hint(), cl.check.hint()
    assert (first.number, first.total, first.text) == (1, 2, "Think about when join waits.")
    assert repr(second).endswith("\nt1.join()") and again.number == 2
    assert "```python" in second._repr_markdown_()


def test_hints_follow_the_last_failed_exercise_and_clear_when_it_passes():
    feedback.failed("test.a", "no", "a1", "a2")
    feedback.failed("test.b", "no", "b1")
    assert cl.check.hint().text == "b1"
    assert cl.check.hint("test.a").text == "a1"
    ok = feedback.passed("test.a", "Right.")
    assert ok and "hint" not in repr(ok)
    assert "run its check first" in cl.check.hint("test.a")


def test_show_source_shows_plain_python():
    src = cl.show_source(cl.cpu_bound)
    assert src.code.startswith("def cpu_bound(")
    assert "core/workloads.py, line" in src.where
    assert "```python" in src._repr_markdown_()
    with pytest.raises(TypeError, match="without calling it"):
        cl.show_source(cl.cpu_bound(1))


def test_the_load_meter_counts_others_not_us(monkeypatch):
    ticks = iter([(10.0, 100.0, 2), (11.4, 102.0, 2)])  # 1.4 CPU-s busy over 1 s of wall
    own = iter([5.0, 5.6])  # of which 0.6 s were ours
    clock = iter([0.0, 1.0])
    monkeypatch.setattr(load, "machine_ticks", lambda: next(ticks))
    monkeypatch.setattr(load, "own_cpu_s", lambda: next(own))
    monkeypatch.setattr(load.time, "perf_counter", lambda: next(clock))
    with load.measure_load(cores=2) as meter:
        pass
    assert meter.load.others_cores == pytest.approx(0.8)
    assert meter.load.free_cores == pytest.approx(1.2) and meter.load.busy
    assert meter.load.describe() == (
        "Other programs kept about 0.8 of your 2 cores busy meanwhile, so about 1.2 were free."
    )


def test_the_load_meter_stays_silent_when_quiet_or_unknown(monkeypatch):
    assert load.Load(1.0, 2, 0.1).describe() == ""
    assert load.Load(1.0, 2, None).describe() == "" and load.Load(1.0, 2, None).free_cores is None
    monkeypatch.setattr(load, "machine_ticks", lambda: None)
    with load.measure_load(cores=2) as meter:
        pass
    assert meter.load.others_cores is None


def test_this_machine_gives_counters():
    t = load.machine_ticks()
    assert t is None or (t[0] <= t[1] and t[2] >= 1)


def test_a_different_mistake_starts_the_hints_again_and_code_is_announced_only_if_there():
    hints = ("Which object waits for a thread?", "```python\nt.join()\n```")
    feedback.failed("test.c", "First mistake.", *hints)
    assert cl.check.hint().number == 1 and cl.check.hint().number == 2
    feedback.failed("test.c", "First mistake.", *hints)  # the same mistake again
    assert cl.check.hint().number == 2
    feedback.failed("test.c", "Another mistake.", *hints)
    assert cl.check.hint().number == 1
    plain = feedback.failed("test.d", "Pass a function.", "Write its name without ().")
    assert "the last shows code" not in repr(plain) and "1 in all" in repr(plain)
