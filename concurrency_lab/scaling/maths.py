"""The arithmetic of scaling: speedup, efficiency, Amdahl's law, and when a gain is real.

Everything here is plain arithmetic on numbers you measured, so a learner can check it by hand:

* ``speedup = time on one worker / time on N workers``; ``efficiency = speedup / N``.
* Amdahl's law: with a share ``s`` of the work that cannot be split,
  ``speedup(N) = 1 / (s + (1 - s) / N)``, which stays below ``1 / s`` (Amdahl, 1967).
* Turned around, one measured point gives the serial share it implies (the Karp–Flatt
  metric, Karp & Flatt, CACM 33(5), 1990): ``s = (1/speedup - 1/N) / (1 - 1/N)``. Because
  ``1/speedup - 1/N = s (1 - 1/N)`` is a straight line through the origin in ``s``, fitting
  several points is one line of least squares (:func:`fit_amdahl`).
* :func:`gain` says whether repeated speedups show a real gain, no gain, or cannot tell:
  within ``NO_GAIN`` (15 %) of 1x is "no gain" at the work sizes the lessons use.

Introduced in ``03-core-scaling.ipynb`` (and used in ``02-the-gil.ipynb``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median
from typing import Literal

from ..core.machine import usable_cores
from ..core.validate import check_number, check_whole

__all__ = [
    "NO_GAIN",
    "Gain",
    "amdahl_speedup",
    "check_fraction",
    "describe_gain",
    "efficiency",
    "fit_amdahl",
    "gain",
    "serial_share",
    "speedup",
    "split_work",
    "spread",
    "worker_counts",
]

#: Speedups within this share of 1x (0.85x to 1.15x) count as "no gain": at the lessons' work
#: sizes, repeats on a laptop differ by about that much.
NO_GAIN = 0.15

#: What repeated speedups show: a clear gain, none, or too much disagreement to tell.
Gain = Literal["faster", "no gain", "unclear"]


def speedup(serial_s: float, parallel_s: float) -> float:
    """How many times faster the parallel run was: ``serial_s / parallel_s``.

    Introduced in ``03-core-scaling.ipynb``.

    >>> speedup(2.0, 0.5)
    4.0

    Raises:
        TypeError, ValueError: a time is not a positive number of seconds.
    """
    serial_s = check_number(serial_s, "serial_s", low=0, low_open=True, unit=" seconds")
    parallel_s = check_number(parallel_s, "parallel_s", low=0, low_open=True, unit=" seconds")
    return serial_s / parallel_s


def efficiency(ratio: float, n_workers: int) -> float:
    """Speedup per worker: 1.0 (100 %) means every worker was busy with useful work all along.

    Introduced in ``03-core-scaling.ipynb``.

    >>> efficiency(3.0, 4)
    0.75

    Args:
        ratio: the speedup (time on one worker / time on ``n_workers``).
        n_workers: how many workers shared the work.

    Raises:
        TypeError, ValueError: ``ratio`` is not a positive number, ``n_workers`` < 1.
    """
    ratio = check_number(ratio, "ratio", low=0, low_open=True)
    n_workers = check_whole(n_workers, "n_workers", low=1)
    return ratio / n_workers


def check_fraction(serial_fraction: object) -> float:
    """A share of the work from 0 to 1; returns it as a float."""
    if (
        isinstance(serial_fraction, bool)
        or not isinstance(serial_fraction, (int, float))
        or not 0 <= serial_fraction <= 1
    ):
        raise ValueError(
            f"'serial_fraction' must be a number from 0 to 1, e.g. 0.1 for 10 % "
            f"(got {serial_fraction!r})."
        )
    return float(serial_fraction)


def amdahl_speedup(n_workers: int, *, serial_fraction: float) -> float:
    """The speedup Amdahl's law predicts on ``n_workers`` with a serial share of the work.

    Introduced in ``03-core-scaling.ipynb``.

    ``1 / (s + (1 - s) / n)``: the serial part takes as long as ever, only the
    rest is divided. However many workers, the speedup stays below ``1 / s``.

    >>> amdahl_speedup(4, serial_fraction=0.0)
    4.0
    >>> round(amdahl_speedup(4, serial_fraction=0.1), 3)
    3.077
    >>> amdahl_speedup(1_000_000, serial_fraction=0.5) < 2
    True

    Raises:
        TypeError, ValueError: ``n_workers`` < 1 or ``serial_fraction`` outside 0..1.
    """
    n_workers = check_whole(n_workers, "n_workers", low=1)
    s = check_fraction(serial_fraction)
    return 1.0 / (s + (1.0 - s) / n_workers)


def serial_share(n_workers: int, ratio: float) -> float:
    """The serial share that one measured speedup implies (the Karp–Flatt metric).

    Solves Amdahl's law for ``s``: ``(1/ratio - 1/n) / (1 - 1/n)``. Overheads (sending tasks,
    collecting results) count as serial work too, so even "perfectly parallel" work shows a
    few per cent. Below 0 means faster than ``n`` times: noise (or a cache effect).
    Introduced in ``03-core-scaling.ipynb``.

    >>> round(serial_share(2, amdahl_speedup(2, serial_fraction=0.3)), 6)
    0.3
    >>> serial_share(4, 4.0)
    0.0

    Raises:
        TypeError, ValueError: ``n_workers`` < 2 (one worker says nothing about ``s``), or a
            speedup that is not positive.
    """
    n_workers = check_whole(n_workers, "n_workers", low=2)
    ratio = check_number(ratio, "ratio", low=0, low_open=True)
    return (1.0 / ratio - 1.0 / n_workers) / (1.0 - 1.0 / n_workers)


def fit_amdahl(n_workers: Sequence[int], speedups: Sequence[float]) -> float:
    """The serial share whose Amdahl curve best fits measured speedups (closed form).

    Introduced in ``03-core-scaling.ipynb``.

    Amdahl's law is a straight line in ``s``: ``1/speedup - 1/n = s * (1 - 1/n)``. Least
    squares through the origin gives ``s = sum(x*y) / sum(x*x)`` with ``x = 1 - 1/n`` and
    ``y = 1/speedup - 1/n``, clipped to 0..1. Points with one worker carry no information
    (``x = 0``); with one point of two or more workers this is :func:`serial_share`.

    >>> ns = [1, 2, 4, 8]
    >>> curve = [amdahl_speedup(n, serial_fraction=0.2) for n in ns]
    >>> round(fit_amdahl(ns, curve), 6)
    0.2

    Raises:
        ValueError: lengths differ, a speedup is not positive, or no point has
            ``n_workers >= 2``.
    """
    ns = [int(n) for n in n_workers]
    ss = [float(x) for x in speedups]
    if len(ns) != len(ss):
        raise ValueError(
            f"'n_workers' and 'speedups' must have the same length (got {len(ns)} and {len(ss)})."
        )
    if any(n < 1 for n in ns):
        raise ValueError(f"every n_workers must be >= 1 (got {ns}).")
    if any(not (x > 0 and math.isfinite(x)) for x in ss):
        raise ValueError(f"every speedup must be a positive number (got {ss}).")
    if not any(n >= 2 for n in ns):
        raise ValueError(
            "fitting Amdahl's law needs at least one point with n_workers >= 2 "
            f"(got n_workers={ns})."
        )
    xs = [1.0 - 1.0 / n for n in ns]
    ys = [1.0 / x - 1.0 / n for n, x in zip(ns, ss)]
    s = sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs)
    return min(1.0, max(0.0, s))


def split_work(total_work: int, n_workers: int) -> tuple[int, ...]:
    """Split ``total_work`` units into ``n_workers`` chunks as even as possible.

    Introduced in ``03-core-scaling.ipynb``.

    >>> split_work(10, 3)
    (4, 3, 3)
    >>> sum(split_work(1001, 7))
    1001

    Raises:
        TypeError, ValueError: ``total_work`` < 0 or ``n_workers`` < 1.
    """
    total_work = check_whole(total_work, "total_work", low=0)
    n_workers = check_whole(n_workers, "n_workers", low=1)
    base, extra = divmod(total_work, n_workers)
    return tuple(base + (1 if i < extra else 0) for i in range(n_workers))


def worker_counts(max_workers: int, *, max_points: int = 8) -> tuple[int, ...]:
    """Worker counts worth measuring up to ``max_workers``: all of them when few, else a spread.

    Introduced in ``03-core-scaling.ipynb``.

    The usable core count is always included when it is in range, since that is
    where the curve should bend.

    >>> worker_counts(4)
    (1, 2, 3, 4)
    >>> len(worker_counts(128)) <= 10
    True
    """
    max_workers = check_whole(max_workers, "max_workers", low=1)
    max_points = check_whole(max_points, "max_points", low=2)
    if max_workers <= max_points:
        return tuple(range(1, max_workers + 1))
    ratio = max_workers ** (1 / (max_points - 1))
    counts = {1, max_workers}
    counts.update(max(1, round(ratio**i)) for i in range(max_points))
    cores = usable_cores()
    if cores <= max_workers:
        counts.add(cores)
    return tuple(sorted(counts))


def spread(values: Sequence[float]) -> tuple[float, float]:
    """The range of repeated measurements, one outlier dropped at each end when there are 4+.

    A single disturbed repeat (another program woke up) then cannot decide a verdict.

    >>> spread([1.0, 1.9, 1.8, 1.85, 1.7])
    (1.7, 1.85)
    >>> spread([0.9, 1.1])
    (0.9, 1.1)
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values to take the spread of")
    if len(ordered) >= 4:
        return ordered[1], ordered[-2]
    return ordered[0], ordered[-1]


def gain(speedups: Sequence[float]) -> Gain:
    """What repeated speedups show: ``"faster"``, ``"no gain"`` or ``"unclear"``.

    ``"faster"`` when even the low end of the :func:`spread` is above 1x + ``NO_GAIN``;
    ``"no gain"`` when even its high end is at most 1x + ``NO_GAIN`` (slower counts as no
    gain); otherwise the repeats disagree and no conclusion is drawn.

    >>> gain([1.7, 1.8, 1.9, 1.85, 1.2])
    'faster'
    >>> gain([0.97, 1.0, 0.99, 1.02, 1.4])
    'no gain'
    >>> gain([1.0, 1.5, 1.1])
    'unclear'
    """
    lo, hi = spread(speedups)
    if lo >= 1.0 + NO_GAIN:
        return "faster"
    if hi <= 1.0 + NO_GAIN:
        return "no gain"
    return "unclear"


def describe_gain(speedups: Sequence[float]) -> str:
    """``'1.86x'``, ``'0.98x (no gain)'``, ``'0.70x (slower: no gain)'`` or ``'unclear (1.1x to
    1.8x)'``: the words a verdict line uses for one configuration.

    >>> describe_gain([0.98, 0.99, 1.0])
    '0.99x (no gain)'
    >>> describe_gain([1.1, 1.8, 1.5])
    'unclear (repeats 1.10x to 1.80x)'
    """
    verdict = gain(speedups)
    mid = median(speedups)
    if verdict == "unclear":
        lo, hi = min(speedups), max(speedups)
        return f"unclear (repeats {lo:.2f}x to {hi:.2f}x)"
    if verdict == "no gain":
        if mid < 1.0 - NO_GAIN:
            return f"{mid:.2f}x (slower: no gain)"
        return f"{mid:.2f}x (no gain)"
    return f"{mid:.2f}x"
