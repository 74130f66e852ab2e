"""The words of a sweep: verdicts that are never confidently wrong, load, notes, Amdahl fits."""

from __future__ import annotations

import pytest

from tests.scaling.helpers import point, result

GOOD = [1.85, 1.9, 1.88, 1.92, 1.8]
FLAT = [0.98, 1.0, 0.97, 1.01, 0.99]


def test_points_know_their_statistics():
    p = point("process", 2, [1.5, 2.0, 1.8])
    assert p.speedups == pytest.approx((1.5, 2.0, 1.8))
    assert p.speedup == pytest.approx(1.8)
    assert p.speedup_range == pytest.approx((1.5, 2.0))
    assert p.efficiency == pytest.approx(0.9)
    assert p.median_s == pytest.approx(1 / 1.8)
    assert str(p) == "2 processes 1.80x, efficiency 90%."


def test_threads_no_gain_and_processes_faster_is_stated_plainly():
    r = result([point("thread", 2, FLAT), point("process", 2, GOOD)])
    text = str(r)
    assert text.startswith("On your 2 usable cores, cpu_bound (1-worker time 1.00 s)")
    assert "2 threads 0.99x (no gain); 2 processes 1.88x." in text
    assert "Rerun" not in text and not r.flagged()


def test_pure_python_threads_faster_with_the_gil_is_called_disturbed_not_a_gain():
    r = result([point("thread", 2, [1.3, 1.35, 1.4, 1.32, 1.38]), point("process", 2, GOOD)])
    assert r.status(r.point("thread", 2)) == "contradicts"
    assert "more than the GIL allows for pure-Python work: the timing was disturbed" in str(r)
    assert "Rerun to conclude." in str(r)
    free = result([point("thread", 2, GOOD)], gil=False)
    assert free.status(free.point("thread", 2)) == "as expected"


def test_processes_without_gain_on_two_cores_are_flagged_with_the_load():
    r = result([point("process", 2, FLAT)], others=1.2)
    text = str(r)
    assert "though they should gain here: something kept your cores busy" in text
    assert "Other programs kept about 1.2 of your 2 cores busy meanwhile, so about 0.8 " in text
    assert "Rerun to conclude." in text
    one_core = result([point("process", 2, FLAT)], cores=1)
    assert one_core.status(one_core.point("process", 2)) == "as expected"


def test_noisy_repeats_give_the_range_and_no_conclusion():
    r = result([point("process", 2, [1.0, 1.8, 1.1, 1.9, 1.05])])
    text = str(r)
    assert "2 processes unclear (repeats 1.00x to 1.90x): too noisy to conclude" in text
    assert "Rerun to conclude." in text
    assert "Efficiency" not in text  # no number after "too noisy"


def test_more_workers_than_cores_are_never_called_a_gain():
    slower = result([point("process", 2, GOOD), point("process", 4, [1.5, 1.5, 1.52, 1.48, 1.5])])
    assert slower.beyond_cores() == (
        "4 processes on 2 usable cores: 1.50x against 1.88x with 2: slower, since they share "
        "the cores and the system switches them."
    )
    higher = result([point("process", 2, GOOD), point("process", 4, [2.1, 2.2, 2.15, 2.2, 2.1])])
    assert higher.beyond_cores().endswith("no real gain, since they share the cores.")
    assert result([point("process", 2, GOOD)]).beyond_cores() == ""
    waiting = result([point("thread", 2, GOOD), point("thread", 8, GOOD)], workload="io_wait")
    assert waiting.beyond_cores("thread") == ""


def test_waiting_gains_beyond_the_cores_and_on_one_core():
    r = result([point("thread", 8, [7.5, 7.6, 7.7])], workload="io_wait", cores=1)
    assert r.status(r.point("thread", 8)) == "as expected"
    assert r.expects_gain(r.point("thread", 8))


def test_summary_has_efficiency_load_and_notes():
    r = result(
        [point("process", 1, [0.96, 0.95, 0.97]), point("process", 2, [1.8, 1.84, 1.9])],
        others=0.5,
        notes=("only 8 work units to split",),
    )
    text = str(r)
    assert "Efficiency with 2 processes: 92%." in text
    assert "Other programs kept about 0.5 of your 2 cores busy" in text
    assert text.endswith("Note: only 8 work units to split")
    quiet = result([point("process", 2, GOOD)], others=0.1)
    assert "Other programs" not in str(quiet)


def test_noise_beyond_the_cores_does_not_undo_the_verdict_at_the_cores():
    noisy_beyond = [1.0, 1.6, 1.1, 1.7, 1.05]
    r = result([point("process", 2, GOOD), point("process", 3, noisy_beyond)])
    assert r.status(r.point("process", 3)) == "noisy"
    text = str(r)
    assert "2 processes 1.88x. Efficiency with 2 processes: 94%." in text
    assert "Rerun" not in text
    within = result([point("process", 2, GOOD), point("process", 3, noisy_beyond)], cores=4)
    assert "Rerun to conclude." in str(within)


def test_table_has_two_decimals_and_percent():
    r = result([point("process", 1, [0.95, 0.96, 0.94]), point("process", 2, [1.8, 1.9, 1.84])])
    lines = r.table().splitlines()
    assert lines[0].split() == ["workers", "kind", "speedup", "efficiency", "repeats"]
    assert lines[1].split() == ["1", "process", "0.95x", "95%", "0.94-0.96x"]
    assert lines[2].split() == ["2", "process", "1.84x", "92%", "1.80-1.90x"]


def test_queries_and_errors():
    r = result([point("thread", 1, [1.0]), point("thread", 2, [1.0]), point("process", 2, [1.9])])
    assert r.kinds == ("thread", "process")
    assert r.n_workers == (1, 2)
    assert r.best("thread").n_workers == 2
    with pytest.raises(KeyError, match="no point for kind='thread' with n_workers=3"):
        r.point("thread", 3)
    assert repr(r).startswith("<ScalingResult: On your 2 usable cores")


# --------------------------------------------------------------------------- Amdahl


def _amdahl_points(s: float, ns=(2,), wobble=(1.0, 1.01, 0.99, 1.0, 1.0)):
    from concurrency_lab.scaling.maths import amdahl_speedup

    return [
        point("process", n, [amdahl_speedup(n, serial_fraction=s) * w for w in wobble]) for n in ns
    ]


def test_one_point_implies_a_serial_share_close_to_the_built_in_one():
    r = result(_amdahl_points(0.32), serial_fraction=0.3)
    fit = r.amdahl()
    assert fit is not None and fit.n_workers == (2,)
    assert fit.serial_fraction == pytest.approx(0.32, abs=1e-9)
    assert fit.outcome == "close"
    text = str(fit)
    assert text.startswith(
        "Your 2-worker point (1.52x against the 1-worker time) implies a serial share of 32%"
    )
    assert "you built in 30%: close" in text
    assert "no number of workers could beat 3.1x" in text


def test_with_a_1_process_point_the_share_is_read_against_it():
    """Work in a process runs about 5 % slower than the thread baseline; against the
    baseline that constant cost would look like serial work (30 % built in read as 37 %)."""
    from concurrency_lab.scaling.maths import amdahl_speedup

    slow = 1.06  # every process run takes 6 % longer than the same work in the baseline
    ideal = amdahl_speedup(2, serial_fraction=0.3)
    pts = [point("process", 1, [1 / slow] * 5), point("process", 2, [ideal / slow] * 5)]
    fit = result(pts, serial_fraction=0.3).amdahl()
    assert fit.serial_fraction == pytest.approx(0.3, abs=1e-9) and fit.outcome == "close"
    assert "against 1 process" in str(fit)
    alone = result(pts[1:], serial_fraction=0.3).amdahl()
    assert alone.serial_fraction > 0.33  # the baseline mistakes the process cost for serial work


def test_a_few_points_more_is_overhead_and_much_more_or_spread_is_unclear():
    higher = result(_amdahl_points(0.38, ns=(2, 3, 4)), cores=4, serial_fraction=0.3)
    fit = higher.amdahl()
    assert fit.outcome == "higher" and fit.n_workers == (2, 3, 4)
    assert "fitted to your 3 points from 2 to 4 workers" in str(fit)
    assert "a little higher" in str(fit)
    assert result(_amdahl_points(0.5), serial_fraction=0.3).amdahl().outcome == "unclear"
    assert result(_amdahl_points(0.2), serial_fraction=0.3).amdahl().outcome == "unclear"
    spread_out = result(
        _amdahl_points(0.3, wobble=(0.8, 1.2, 0.85, 1.15, 1.0)), serial_fraction=0.3
    )
    fit = spread_out.amdahl()
    assert fit.outcome == "unclear" and fit.high - fit.low > 0.15
    assert "too far from it, or too spread, to read" in str(fit)
    assert "could beat" not in str(fit)


def test_the_fit_leaves_out_points_beyond_the_cores_and_needs_two_workers():
    pts = [*_amdahl_points(0.3, ns=(2,)), point("process", 4, [1.0, 1.0, 1.0, 1.0, 1.0])]
    fit = result(pts, serial_fraction=0.3).amdahl()
    assert fit.n_workers == (2,)
    assert result([point("process", 1, [1.0])]).amdahl() is None
    assert result([point("process", 2, GOOD)], cores=1).amdahl() is None


def test_without_a_built_in_part_the_share_is_overhead():
    fit = result(_amdahl_points(0.03)).amdahl()
    assert str(fit).endswith("with no serial part built in: that is sending tasks and results.")
