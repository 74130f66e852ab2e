"""Fidelity of lesson 08's headline measurement: does it state the true answer, run after run?

``HEADLINE_DEMOS`` maps a name to a function that runs the demo exactly as
``08-common-problems.ipynb`` does (same call, default sizes) and judges its sentence
(``benchmarks/bench_fidelity.py`` runs them):

* **more workers than cores** (``cl.problems.oversubscription()``). True: on the same cores,
  four CPU-bound workers per core finish the same tasks no sooner than one per core, and
  each task takes longer from its start to its end. ``right`` when the sentence says "no
  speed-up" and the tasks stretched (at least 1.5x for 2+ workers per core); ``flagged``
  when it declines (other programs were using the cores, a speed-up it calls noise, or a
  machine with more cores than the demo starts workers for); ``wrong`` when it says "no
  speed-up" while the tasks did not stretch at all, which would mean the pools did not share
  cores and the sentence's reason is false.

The threshold for "no speed-up" (the big pool less than 1.2x faster) lives in
:class:`~concurrency_lab.problems.cores.OversubscriptionResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .cores import OversubscriptionResult, oversubscription

__all__ = ["HEADLINE_DEMOS", "Verdict", "judge_oversubscription", "oversubscription_demo"]


@dataclass(frozen=True)
class Verdict:
    """How one run of a headline demo went: ``right``, ``flagged`` or ``wrong``, and why."""

    verdict: Literal["right", "flagged", "wrong"]
    detail: str


def judge_oversubscription(result: OversubscriptionResult) -> Verdict:
    """Judge the oversubscription sentence against what must be true on these cores."""
    text = str(result)
    if result.verdict != "no speed-up":
        return Verdict("flagged", text)
    small, big = result.task_s
    per_core = result.n_workers[1] / result.n_workers[0]
    if big / small < 1.0:
        return Verdict("wrong", text)
    if per_core >= 2 and big / small < 1.5:
        return Verdict("flagged", f"tasks stretched only {big / small:.2f}x: {text}")
    return Verdict("right", text)


def oversubscription_demo() -> Verdict:
    """08's measured comparison of one worker per core with four, as the notebook runs it."""
    return judge_oversubscription(oversubscription())


HEADLINE_DEMOS = {"more workers than cores": oversubscription_demo}
