"""The convoy effect: the probe, its outcome judged with stated thresholds, always restored."""

from __future__ import annotations

import sys

import pytest

import concurrency_lab as cl
from concurrency_lab.gil import convoy
from concurrency_lab.gil.convoy import ConvoyResult, ProbeRun


def _boom(units: int) -> int:
    raise RuntimeError("boom")


def _run(interval, ratio, n=20, cpu=1):
    return ProbeRun(interval, cpu, 0.2, (interval * ratio,) * n)


def _result(runs, alone=0.00007, gil=True, coarse=False) -> ConvoyResult:
    return ConvoyResult(
        0.001, 100, gil, ProbeRun(0.005, 0, 0.0, (alone,) * 50), tuple(runs), coarse
    )


CONVOY = [_run(0.0005, 1.3), _run(0.005, 1.03), _run(0.05, 1.01, n=10)]


def test_the_convoy_is_named_with_one_interval_each_time():
    r = _result(CONVOY)
    assert r.outcome == "convoy"
    text = str(r)
    assert text.startswith("Alone, the probe woke 0.07 ms late (median); beside CPU-bound work")
    assert "5 ms: 5.15 ms late (1.03x the interval)" in text
    assert text.endswith(
        "the probe waited about one switch interval for the GIL: the convoy effect."
    )
    assert r.conclusion() in text and "ms" not in r.conclusion()


def test_a_late_probe_alone_or_few_wake_ups_make_it_unclear():
    late = _result(CONVOY, alone=0.002)
    assert late.outcome == "unclear" and "The probe was late even alone" in str(late)
    few = _result([_run(0.05, 1.0, n=3)])
    assert few.outcome == "unclear" and "Only 3 wake-ups at 50 ms" in str(few)
    short = _result([_run(0.005, 0.2)])
    assert short.outcome == "unclear" and "busy machine; rerun" in str(short)


def test_windows_before_3_11_is_named(monkeypatch):
    monkeypatch.setattr(convoy.sys, "platform", "win32")
    monkeypatch.setattr(convoy.sys, "version_info", (3, 10, 11))
    assert convoy.coarse_sleep()
    r = _result(CONVOY, coarse=True)
    assert r.outcome == "unclear"
    assert "On Windows before Python 3.11 a 1 ms sleep lasts about 15.6 ms" in str(r)


def test_without_the_gil_no_convoy_is_expected():
    r = _result([_run(0.005, 0.02), _run(0.05, 0.002)], gil=False)
    assert r.outcome == "no convoy"
    assert "Without the GIL, the probe did not wait" in str(r)


def test_the_table_is_the_one_place_for_every_number():
    lines = _result(CONVOY).table().splitlines()
    assert lines[0].split() == [
        "switch",
        "interval",
        "probe",
        "late",
        "x",
        "interval",
        "wake-ups",
        "CPU",
        "work",
    ]
    assert lines[1].split()[:3] == ["alone", "0.07", "ms"]
    assert lines[3].split() == ["5", "ms", "5.15", "ms", "1.03x", "20", "200", "ms"]


def test_measure_switch_interval_structure_and_restore():
    before = sys.getswitchinterval()
    r = cl.gil.measure_switch_interval((0.001, 0.002), work_units=5)
    assert [run.switch_interval_s for run in r.runs] == [0.001, 0.002]
    assert r.alone.n_cpu_threads == 0 and all(run.n_cpu_threads == 1 for run in r.runs)
    assert sys.getswitchinterval() == before


def test_the_interval_is_restored_when_the_workload_raises():
    before = sys.getswitchinterval()
    with pytest.raises(cl.WorkerError, match="a CPU-bound thread raised RuntimeError: boom"):
        cl.gil.measure_switch_interval((0.001,), workload=_boom, work_units=1)
    assert sys.getswitchinterval() == before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"intervals_s": ()}, r"'intervals_s' is empty"),
        ({"intervals_s": (0,)}, r"a switch interval must be a number of seconds above 0"),
        ({"work_units": 0}, r"'work_units' must be a whole number >= 1 \(got 0\)"),
        ({"probe_period_s": 1}, r"'probe_period_s' must be a number of seconds > 0 and <= 0.1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cl.gil.measure_switch_interval(**kwargs)


def test_the_probe_work_lasts_about_ten_of_the_longest_intervals():
    assert convoy.probe_work_s((0.0005, 0.005, 0.05)) == 0.5
    assert convoy.probe_work_s((0.001,)) == 0.15


def test_gil_snapshot_traces_and_probes_at_one_setting():
    before = sys.getswitchinterval()
    r = cl.gil.gil_snapshot(n_threads=2, switch_interval_s=0.001, trace_s=0.02)
    assert r.handoff.switch_interval_s == 0.001
    assert [run.switch_interval_s for run in r.convoy.runs] == [0.001]
    assert str(r).startswith(str(r.handoff))
    assert sys.getswitchinterval() == before


def test_gil_snapshot_traces_long_enough_for_every_thread_to_get_a_turn(monkeypatch):
    seen = []

    def fake_trace(n, *, duration_s, switch_interval_s):
        seen.append(duration_s)
        return cl.gil.trace_handoff(n, duration_s=0.01, switch_interval_s=switch_interval_s)

    monkeypatch.setattr(convoy, "trace_handoff", fake_trace)
    monkeypatch.setattr(convoy, "measure_switch_interval", lambda *a, **k: None)
    convoy.gil_snapshot(n_threads=2, switch_interval_s=0.005)
    convoy.gil_snapshot(n_threads=2, switch_interval_s=0.05)
    convoy.gil_snapshot(n_threads=8, switch_interval_s=0.05)
    assert seen == [0.05, pytest.approx(0.2), 0.4]
