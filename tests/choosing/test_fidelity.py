"""The headline demo's judge: right, flagged or wrong, from the recommendations it makes."""

from __future__ import annotations

from concurrency_lab.choosing.fidelity import HEADLINE_DEMOS, judge_matrix, true_models

from .helpers import QUIET, fake_matrix


def test_the_truth_table():
    assert true_models("cpu", cores=2, gil_enabled=True) == {"processes"}
    assert true_models("cpu", cores=2, gil_enabled=False) == {"threads", "processes"}
    assert true_models("cpu", cores=1, gil_enabled=True) == {"serial"}
    assert true_models("io", cores=1, gil_enabled=True) == {"threads", "asyncio"}
    assert true_models("mixed", cores=8, gil_enabled=True) == {"processes"}


def test_a_quiet_true_run_is_right():
    v = judge_matrix(fake_matrix(QUIET))
    assert v.verdict == "right" and v.detail.startswith("cpu: processes 1.9x")


def test_a_declined_row_is_flagged_not_wrong():
    m = fake_matrix({**QUIET, "cpu": (1.0, 1.0, 0.9, 1.0)}, others={"cpu": 0.9})
    v = judge_matrix(m)
    assert v.verdict == "flagged" and "cpu: declined" in v.detail


def test_a_false_recommendation_is_wrong():
    # quiet, yet processes lost on mixed work: the guide picks threads, which is false
    m = fake_matrix({**QUIET, "mixed": (0.42, 0.245, 0.24, 0.25)})
    v = judge_matrix(m)
    assert v.verdict == "wrong" and "mixed: threads" in v.detail


def test_the_demo_is_listed_for_the_benchmark():
    assert list(HEADLINE_DEMOS) == ["07 model matrix and its recommendations"]
