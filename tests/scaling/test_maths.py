"""Scaling arithmetic: speedup, efficiency, Amdahl's law (closed form), when a gain is real."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.scaling import maths


def test_speedup_and_efficiency_and_their_messages():
    assert cl.scaling.speedup(3.0, 1.5) == 2.0
    assert cl.scaling.efficiency(3.0, 4) == 0.75
    with pytest.raises(
        ValueError, match=r"^'parallel_s' must be a number of seconds > 0 \(got 0\)\.$"
    ):
        cl.scaling.speedup(1.0, 0)
    with pytest.raises(ValueError, match=r"^'n_workers' must be a whole number >= 1 \(got 0\)\.$"):
        cl.scaling.efficiency(1.0, 0)
    with pytest.raises(TypeError, match=r"^'n_workers' must be a whole number >= 1 \(got True\)"):
        cl.scaling.efficiency(1.0, True)


def test_amdahl_speedup_values_and_limit():
    assert cl.scaling.amdahl_speedup(1, serial_fraction=0.3) == pytest.approx(1.0)
    assert cl.scaling.amdahl_speedup(8, serial_fraction=0.0) == pytest.approx(8.0)
    assert cl.scaling.amdahl_speedup(8, serial_fraction=1.0) == pytest.approx(1.0)
    assert cl.scaling.amdahl_speedup(2, serial_fraction=0.5) == pytest.approx(4 / 3)
    assert cl.scaling.amdahl_speedup(10**9, serial_fraction=0.1) < 10
    with pytest.raises(
        ValueError, match=r"'serial_fraction' must be a number from 0 to 1.*\(got 1\.5\)"
    ):
        cl.scaling.amdahl_speedup(2, serial_fraction=1.5)
    with pytest.raises(ValueError, match=r"'n_workers' must be a whole number >= 1 \(got 0\)"):
        cl.scaling.amdahl_speedup(0, serial_fraction=0.1)


@pytest.mark.parametrize("s", [0.0, 0.02, 0.1, 0.37, 0.8, 1.0])
def test_fit_amdahl_recovers_the_serial_fraction_of_a_synthetic_curve(s):
    ns = [1, 2, 3, 4, 8, 16]
    curve = [cl.scaling.amdahl_speedup(n, serial_fraction=s) for n in ns]
    assert cl.scaling.fit_amdahl(ns, curve) == pytest.approx(s, abs=1e-9)


def test_the_fit_is_the_closed_form_least_squares_a_learner_can_redo():
    ns, speedups = [2, 4], [1.5, 2.2]
    xs = [1 - 1 / n for n in ns]
    ys = [1 / x - 1 / n for n, x in zip(ns, speedups)]
    by_hand = sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs)
    assert cl.scaling.fit_amdahl(ns, speedups) == pytest.approx(by_hand)
    # One point: the fit is the Karp-Flatt serial share of that point.
    assert cl.scaling.fit_amdahl([1, 2], [1.0, 1.5]) == pytest.approx(
        cl.scaling.serial_share(2, 1.5)
    )
    assert cl.scaling.serial_share(2, 1.5) == pytest.approx(1 / 3)


def test_fit_amdahl_with_noise_and_edge_cases():
    ns = [1, 2, 4, 8]
    curve = [cl.scaling.amdahl_speedup(n, serial_fraction=0.25) for n in ns]
    noisy = [c * f for c, f in zip(curve, [1.0, 1.03, 0.97, 1.02])]
    assert cl.scaling.fit_amdahl(ns, noisy) == pytest.approx(0.25, abs=0.03)
    assert cl.scaling.fit_amdahl([1, 2], [1.0, 2.5]) == 0.0  # superlinear: clipped at 0
    assert cl.scaling.fit_amdahl([2], [0.5]) == 1.0  # slower than one worker: clipped at 1
    with pytest.raises(ValueError, match=r"needs at least one point with n_workers >= 2"):
        cl.scaling.fit_amdahl([1, 1], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"must have the same length \(got 2 and 1\)"):
        cl.scaling.fit_amdahl([1, 2], [1.0])
    with pytest.raises(ValueError, match="every speedup must be a positive number"):
        cl.scaling.fit_amdahl([1, 2], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"'n_workers' must be a whole number >= 2 \(got 1\)"):
        cl.scaling.serial_share(1, 1.0)


@pytest.mark.parametrize("total,n", [(0, 1), (1, 3), (10, 3), (1001, 7), (64, 64)])
def test_split_work_is_complete_and_balanced(total, n):
    chunks = cl.scaling.split_work(total, n)
    assert len(chunks) == n
    assert sum(chunks) == total
    assert max(chunks) - min(chunks) <= 1


def test_split_work_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^'n_workers' must be a whole number >= 1 \(got 0\)\.$"):
        cl.scaling.split_work(10, 0)
    with pytest.raises(
        ValueError, match=r"^'total_work' must be a whole number >= 0 \(got -1\)\.$"
    ):
        cl.scaling.split_work(-1, 2)


def test_worker_counts(monkeypatch):
    assert maths.worker_counts(1) == (1,)
    assert maths.worker_counts(5) == (1, 2, 3, 4, 5)
    monkeypatch.setattr(maths, "usable_cores", lambda: 12)
    many = maths.worker_counts(128)
    assert many[0] == 1 and many[-1] == 128 and 12 in many
    assert list(many) == sorted(set(many))
    assert len(many) <= 10
    with pytest.raises(ValueError, match=r"'max_workers' must be a whole number >= 1 \(got 0\)"):
        maths.worker_counts(0)


def test_spread_drops_one_outlier_at_each_end_from_four_repeats():
    assert maths.spread([1.0, 1.9, 1.8, 1.85, 1.7]) == (1.7, 1.85)
    assert maths.spread([0.9, 1.1, 1.0]) == (0.9, 1.1)
    with pytest.raises(ValueError, match="no values"):
        maths.spread([])


@pytest.mark.parametrize(
    "speedups, verdict, words",
    [
        ([1.8, 1.9, 1.85, 1.95, 1.2], "faster", "1.85x"),
        ([0.97, 1.0, 0.99, 1.02, 1.4], "no gain", "1.00x (no gain)"),
        ([0.6, 0.7, 0.65], "no gain", "0.65x (slower: no gain)"),
        ([1.0, 1.5, 1.1], "unclear", "unclear (repeats 1.00x to 1.50x)"),
        ([1.1, 1.16, 1.2], "unclear", "unclear (repeats 1.10x to 1.20x)"),
    ],
)
def test_gain_and_its_words(speedups, verdict, words):
    assert maths.gain(speedups) == verdict
    assert maths.describe_gain(speedups) == words


def test_an_unclear_point_never_names_a_median_as_its_result():
    # The review's complaint: a ratio printed after "too noisy to conclude".
    text = maths.describe_gain([0.96, 1.0, 1.76])
    assert text == "unclear (repeats 0.96x to 1.76x)"  # the range, not the median
