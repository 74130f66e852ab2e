"""Fidelity of lesson 07's headline demo: do the heat map and its advice tell the truth?

``HEADLINE_DEMOS`` maps a name to a function that runs the demo exactly as
``07-choosing-a-model.ipynb`` does (``cl.choosing.scenario_matrix()`` at its defaults, then
``cl.choosing.decision_guide(matrix)``, which asks :func:`~concurrency_lab.choosing.recommend`
for each row) and judges every recommendation against what is true on this machine
(``benchmarks/bench_fidelity.py`` runs it):

=================  ==========================================  ============================
row                true with the GIL on, 2+ usable cores       without a GIL / on 1 core
=================  ==========================================  ============================
``cpu``            processes                                   threads or processes / serial
``gil_releasing``  threads or processes                        the same / serial
``io``             threads or asyncio                          the same
``mixed``          processes (a process pool for the           threads or processes / any
                   computing: the pattern the advice teaches)  of threads, asyncio, processes
=================  ==========================================  ============================

A run is ``right`` when every row's recommendation is true, ``flagged`` when at least one row
declined (a busy machine, a noise cell) and none was false, ``wrong`` when any row recommended
something false. Recommendations never use a noise cell, so none can rest on an impossible
number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .advice import recommend
from .guide import decision_guide
from .matrix import MatrixResult, scenario_matrix

__all__ = ["HEADLINE_DEMOS", "Verdict", "judge_matrix", "matrix_demo", "true_models"]


@dataclass(frozen=True)
class Verdict:
    """How one run of a headline demo went: ``right``, ``flagged`` or ``wrong``, and why."""

    verdict: Literal["right", "flagged", "wrong"]
    detail: str


def true_models(workload: str, *, cores: int, gil_enabled: bool) -> frozenset[str]:
    """The models that are a true answer for ``workload`` on such a machine (see the table)."""
    if workload == "io":
        return frozenset({"threads", "asyncio"})
    if cores < 2:
        if workload == "mixed":
            return frozenset({"threads", "asyncio", "processes"})
        return frozenset({"serial"})
    if workload == "cpu" and gil_enabled:
        return frozenset({"processes"})
    if workload == "mixed":
        return frozenset({"processes"} if gil_enabled else {"threads", "processes"})
    return frozenset({"threads", "processes"})


def judge_matrix(matrix: MatrixResult) -> Verdict:
    """Judge every row's recommendation of ``matrix`` against :func:`true_models`."""
    rows, wrong, declined = [], [], []
    for w in matrix.workloads:
        rec = recommend(matrix, workload=w)
        truth = true_models(w, cores=matrix.usable_cores, gil_enabled=matrix.gil_enabled)
        if rec.declined:
            declined.append(w)
            rows.append(f"{w}: declined")
        elif rec.model in truth:
            rows.append(f"{w}: {rec.model} {rec.speedup:.1f}x")
        else:
            wrong.append(w)
            rows.append(f"{w}: {rec.model} {rec.speedup:.1f}x, not one of {sorted(truth)}")
    detail = "; ".join(rows) + f". Matrix: {matrix.summary()}"
    if wrong:
        return Verdict("wrong", detail)
    return Verdict("flagged" if declined else "right", detail)


def matrix_demo() -> Verdict:
    """07's heat map and decision guide, as the notebook runs them."""
    matrix = scenario_matrix(progress=False)
    decision_guide(matrix)  # what the notebook shows next; recommend() decides each row
    return judge_matrix(matrix)


HEADLINE_DEMOS: dict[str, Callable[[], Verdict]] = {
    "07 model matrix and its recommendations": matrix_demo,
}
