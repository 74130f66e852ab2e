"""Fidelity of the headline demos of 02 and 03: how each verdict maps to right/flagged/wrong."""

from __future__ import annotations

from concurrency_lab.gil import fidelity as gil_fidelity
from concurrency_lab.gil.convoy import ConvoyResult
from concurrency_lab.scaling import fidelity as scaling_fidelity
from tests.gil.test_convoy import CONVOY, _result
from tests.gil.test_speedups import FLAT, GOOD, _kinds, _tvp
from tests.scaling.helpers import point, result


def test_every_lesson_lists_its_headline_demos():
    assert set(gil_fidelity.HEADLINE_DEMOS) == {
        "02 threads vs processes",
        "02 which work threads speed up",
        "02 convoy effect",
    }
    assert set(scaling_fidelity.HEADLINE_DEMOS) == {"03 process sweep", "03 Amdahl, 30 % serial"}


def test_threads_vs_processes_verdicts(monkeypatch):
    monkeypatch.setattr(gil_fidelity, "usable_cores", lambda: 2)
    monkeypatch.setattr(gil_fidelity, "gil_enabled", lambda: True)
    for threads, processes, want in [
        (FLAT, GOOD, "right"),
        (FLAT, [1.0, 1.8, 1.1, 1.9, 1.05], "flagged"),
        (FLAT, FLAT, "flagged"),
    ]:
        monkeypatch.setattr(
            gil_fidelity, "threads_vs_processes", lambda t=threads, p=processes: _tvp(t, p)
        )
        assert gil_fidelity.threads_vs_processes_demo().verdict == want


def test_which_work_and_convoy_verdicts(monkeypatch):
    monkeypatch.setattr(gil_fidelity, "usable_cores", lambda: 2)
    monkeypatch.setattr(gil_fidelity, "gil_enabled", lambda: True)
    monkeypatch.setattr(
        gil_fidelity, "measure_thread_scaling", lambda: _kinds(FLAT, GOOD, GOOD, GOOD)
    )
    assert gil_fidelity.which_work().verdict == "right"
    monkeypatch.setattr(
        gil_fidelity, "measure_thread_scaling", lambda: _kinds(FLAT, FLAT, GOOD, GOOD)
    )
    assert gil_fidelity.which_work().verdict == "flagged"
    monkeypatch.setattr(gil_fidelity, "measure_switch_interval", lambda: _result(CONVOY))
    assert gil_fidelity.convoy().verdict == "right"
    late: ConvoyResult = _result(CONVOY, alone=0.002)
    monkeypatch.setattr(gil_fidelity, "measure_switch_interval", lambda: late)
    assert gil_fidelity.convoy().verdict == "flagged"


GOOD2 = [1.85, 1.9, 1.88, 1.92, 1.8]


def test_the_sweep_is_judged_at_the_cores_and_beyond():
    right = result(
        [
            point("process", 1, [0.97] * 3),
            point("process", 2, GOOD2),
            point("process", 4, [1.8] * 5),
        ]
    )
    assert scaling_fidelity.judge_sweep(right).verdict == "right"
    noisy = result([point("process", 2, [1.0, 1.8, 1.1, 1.9, 1.05])])
    assert scaling_fidelity.judge_sweep(noisy).verdict == "flagged"
    busy = result([point("process", 2, FLAT)], others=1.4)
    assert scaling_fidelity.judge_sweep(busy).verdict == "flagged"
    one_core = result([point("process", 2, FLAT)], cores=1)
    assert scaling_fidelity.judge_sweep(one_core).verdict == "right"
