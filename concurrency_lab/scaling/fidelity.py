"""Fidelity of lesson 03's headline demos: does each state the true answer, run after run?

``HEADLINE_DEMOS`` maps a name to a function that runs the demo exactly as
``03-core-scaling.ipynb`` does (same calls, default sizes) and judges what it printed
against what is true on this machine (``benchmarks/bench_fidelity.py`` runs them):

* **process sweep** (``cl.scaling.measure_scaling(cl.cpu_bound, kinds=("process",),
  progress=True)``). True on 2+ usable cores: processes at the usable cores are faster than
  one worker, and more processes than cores are no faster than that. ``right`` when the
  sentence says so (the point at the cores called a gain, and nothing beyond the cores called
  one); ``flagged`` when it declines (too noisy, or "something kept your cores busy"); ``wrong``
  when it states no gain at the cores without flagging, or a gain beyond them.
* **Amdahl, 30 % serial** (the same sweep up to the usable cores with
  ``serial_fraction=0.3``, then ``.amdahl()``). True: the points imply about the built-in
  share, a few points more for overheads. ``right`` when the fit reads "close" or "a little
  higher"; ``flagged`` when it reads "unclear".

Thresholds live in :mod:`~concurrency_lab.scaling.maths` (``NO_GAIN``: within 15 % of 1x is
no gain) and :class:`~concurrency_lab.scaling.results.AmdahlFitResult` (close: within 5
points; a little higher: 5 to 10 points; unclear beyond that, or when the repeats move the
share by more than 15 points).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..core.machine import usable_cores
from ..core.workloads import cpu_bound
from .results import ScalingResult
from .sweep import measure_scaling, sweep_counts

__all__ = ["HEADLINE_DEMOS", "Verdict", "amdahl_demo", "judge_sweep", "process_sweep"]


@dataclass(frozen=True)
class Verdict:
    """How one run of a headline demo went: ``right``, ``flagged`` or ``wrong``, and why."""

    verdict: Literal["right", "flagged", "wrong"]
    detail: str


def judge_sweep(result: ScalingResult, kind: str = "process") -> Verdict:
    """Judge a process sweep's sentence against the truth on this machine."""
    text = str(result)
    at = result.at_cores(kind)
    if result.usable_cores < 2:
        ok = at.gain != "faster"
        return Verdict("right" if ok else "flagged", f"1 usable core: {text}")
    status = result.status(at)
    if status == "noisy" or (status == "contradicts" and "busy" in result.verdict(at)):
        return Verdict("flagged", text)
    if at.gain != "faster":
        return Verdict("wrong", text)
    beyond = result.beyond_cores(kind)
    if beyond and "no real gain" not in beyond and "slower" not in beyond:
        return Verdict("wrong", text)
    return Verdict("right", text)


def process_sweep() -> Verdict:
    """03's strong-scaling sweep, as the notebook runs it."""
    sweep = measure_scaling(cpu_bound, kinds=("process",), progress=False)
    return judge_sweep(sweep)


def amdahl_demo() -> Verdict:
    """03's Amdahl measurement with 30 % serial work, as the notebook runs it."""
    cores = usable_cores()
    within = [n for n in sweep_counts() if n <= max(2, cores)]  # 1 worker: the reference
    result = measure_scaling(cpu_bound, kinds=("process",), n_workers=within, serial_fraction=0.3)
    fit = result.amdahl()
    if fit is None:
        return Verdict("flagged", "no point with 2+ workers within the cores")
    if fit.outcome == "unclear":
        return Verdict("flagged", str(fit))
    return Verdict("right", str(fit))


HEADLINE_DEMOS: dict[str, Callable[[], Verdict]] = {
    "03 process sweep": process_sweep,
    "03 Amdahl, 30 % serial": amdahl_demo,
}
