"""Recommend a model for one kind of work from *your* measured matrix, and say why.

* :func:`recommend` reads one row of a :class:`~concurrency_lab.choosing.MatrixResult` and
  picks a model, in sentences that quote the numbers and explain them from what the work
  does. It leaves out every cell that is faster than the work allows (noise), and it
  declines to choose when other programs were busy and a model that could have won lost.
* :func:`~concurrency_lab.choosing.decision_guide` (in ``guide``) builds on it.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.results import Result
from ..core.validate import check_number
from .limits import Model
from .matrix import MatrixResult

__all__ = ["SIMPLICITY", "RecommendationResult", "recommend"]

#: Simplest first: among models that did about equally well, the guide picks the earliest.
SIMPLICITY: tuple[Model, ...] = ("serial", "threads", "asyncio", "processes")
_WHY_SIMPLER = {
    "serial": "no concurrency at all: nothing to synchronise, nothing to debug",
    "threads": "threads start fast, share memory, and work with ordinary blocking libraries",
    "asyncio": "one thread, no locks between awaits, and very cheap waits, but every library "
    "on the path must be async",
    "processes": "each process has its own interpreter and GIL, but it starts slowly and must "
    "pickle every argument and result",
}
#: Why each row behaves as it does: from what its code does, never from the numbers.
#: Keyed by (workload, GIL on).
_WHY_WORK = {
    ("cpu", True): "pure-Python code holds the GIL the whole time, so threads take turns and "
    "run it no faster than serial, while each process has its own interpreter and GIL and can "
    "use a core of its own. asyncio runs the tasks one after another on its single thread.",
    ("cpu", False): "this interpreter runs without a GIL, so threads can run pure-Python code "
    "on several cores at once, as processes do, without their start-up and pickling. asyncio "
    "still runs the tasks one after another on its single thread.",
    ("gil_releasing", True): "hashlib releases the GIL while it hashes a large block, so "
    "threads hash on several cores at once, as processes do, without their start-up and "
    "pickling. asyncio calls the hash on its single thread, one task after another.",
    ("io", True): "the tasks mostly wait, and a waiting thread holds neither the GIL nor a "
    "core, so threads and asyncio both overlap the waits, even beyond the number of cores; "
    "processes overlap them too, but cost more to start and to talk to.",
    ("mixed", True): "half of each task is pure-Python computing, which holds the GIL, and "
    "half is waiting: threads and asyncio overlap the waits but run the computing one task at "
    "a time, while processes overlap the waits too and run the computing in parallel, up to "
    "the cores.",
    ("mixed", False): "half of each task is pure-Python computing and half is waiting; "
    "without a GIL threads run the computing in parallel too, up to the cores, while asyncio "
    "still runs it on its one thread.",
}
_WHY_WORK[("gil_releasing", False)] = _WHY_WORK[("gil_releasing", True)]
_WHY_WORK[("io", False)] = _WHY_WORK[("io", True)]


def _possessive(word: str) -> str:
    """``"'"`` after a plural in s ("threads'"), else ``"'s"`` ("asyncio's")."""
    return "'" if word.endswith("s") else "'s"


_MIXED_PATTERN = (
    "In an asyncio program the same split works inside each task: await the waits on the "
    "event loop and send the computing to a process pool with "
    "'await loop.run_in_executor(pool, compute, data)'; a blocking call that only waits (a "
    "library without async support) goes to a thread with "
    "'await asyncio.to_thread(call, arg)'."
)


@dataclass(frozen=True)
class RecommendationResult(Result):
    """The decision guide's choice for one row of a matrix, and the reasoning behind it.

    Attributes:
        workload: the row.
        model: the choice; when ``declined``, what the numbers alone would have picked.
        speedup: that model's measured speedup over serial.
        ranking: ``(model, speedup)`` pairs, fastest first (noise included).
        noise: models whose speedup the work cannot produce: left out of the choice.
        declined: ``True`` when the run cannot support a choice (see :func:`recommend`).
        reasoning: the numbers, the choice and why, in sentences.

    Introduced in ``07-choosing-a-model.ipynb``.
    """

    workload: str
    model: Model
    speedup: float
    ranking: tuple[tuple[str, float], ...]
    noise: tuple[str, ...]
    declined: bool
    reasoning: str

    @property
    def verdict(self) -> Literal["recommended", "declined"]:
        """``"declined"`` when this run could not support a choice."""
        return "declined" if self.declined else "recommended"

    def summary(self) -> str:
        return self.reasoning


def recommend(
    matrix: MatrixResult, *, workload: str, min_gain: float = 1.2, tie: float = 0.9
) -> RecommendationResult:
    """Pick a model for one row of ``matrix``, and say why, from its numbers and its work.

    The rules:

    1. A cell faster than the work allows (:meth:`MatrixResult.is_noise`: e.g. asyncio on
       mixed work above serial / (CPU share x n + one wait)) is noise: reported and left out.
    2. If no other model ran at least ``min_gain`` times faster than serial, stay serial.
       Otherwise pick the simplest model (threads, then asyncio, then processes) within
       ``tie`` of the best speedup (by default at least 90 % of it).
    3. Decline to choose when the run was disturbed (other programs kept cores busy while
       the row ran, or a cell was noise) *and* a model that could have run clearly faster
       than the choice (a higher speed limit) lost: other programs hide gains, so the
       numbers cannot tell "this model does not help" from "the cores were taken".

    The *why* comes from what the work does (hold the GIL, release it, wait), and from
    whether the GIL was on, never from the numbers alone.

    Args:
        matrix: from :func:`~concurrency_lab.choosing.scenario_matrix`.
        workload: the row to read.
        min_gain: the least speedup worth concurrency.
        tie: speedups at least this fraction of the best count as equally good.

    Returns:
        A :class:`RecommendationResult` (prints as its reasoning).

    Raises:
        TypeError: ``matrix`` is not a matrix.
        ValueError: ``workload`` is not a row of it, or bad thresholds.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    if not isinstance(matrix, MatrixResult):
        raise TypeError(
            f"'matrix' must be the result of cl.choosing.scenario_matrix(...) "
            f"(got {type(matrix).__name__})."
        )
    min_gain = check_number(min_gain, "min_gain", low=1)
    tie = check_number(tie, "tie", low=0, high=1, low_open=True)
    speed = {m: matrix.speedup(workload, m) for m in matrix.models}
    ranking = tuple(sorted(speed.items(), key=lambda kv: -kv[1]))
    noise = tuple(m for m in matrix.models if matrix.is_noise(workload, m))
    fair = [(m, s) for m, s in ranking if m not in noise]
    best_model, best = fair[0]
    if best < min_gain:
        choice: Model = "serial"
    else:
        close = [m for m in SIMPLICITY if m in speed and m != "serial" and m not in noise]
        choice = next(m for m in close if speed[m] >= tie * best)
    load = matrix.load(workload)
    disturbed = load.busy or bool(noise)
    limit = {m: matrix.limit(workload, m) for m in matrix.models}
    stronger = [
        m
        for m, _ in fair
        if m != choice and limit[m] >= min_gain and limit[m] > 1.25 * limit[choice]
    ]
    declined = disturbed and bool(stronger)

    cores = matrix.usable_cores
    i = matrix.workloads.index(workload)
    why = [
        f"Measured here: {matrix.n_tasks} tasks of {matrix.descriptions[i]}, "
        f"{matrix.n_workers} workers, {cores} usable core{'s' if cores != 1 else ''}. "
        "Speedup over serial: "
        + ", ".join(f"{m} {s:.1f}x" for m, s in ranking if m != "serial")
        + "."
    ]
    for m in noise:
        why.append(
            f"{m.capitalize()}{_possessive(m)} {speed[m]:.1f}x is more than this work allows "
            f"(at most {limit[m]:.1f}x: {matrix.limit_reason(workload, m)}): a disturbed run, "
            "left out."
        )
    if declined:
        cause = []
        if load.busy and load.others_cores is not None and load.free_cores is not None:
            cause.append(
                f"other programs kept about {load.others_cores:.1f} of your {cores} cores busy "
                f"while this row ran (about {load.free_cores:.1f} free)"
            )
        if noise:
            cause.append("a cell came out faster than possible")
        lost = ", ".join(
            f"{m} (up to {limit[m]:.1f}x possible, measured {speed[m]:.1f}x)" for m in stronger
        )
        why.append(
            f"No recommendation from this run: {' and '.join(cause)}, and {lost} could have "
            f"beaten {choice} ({speed[choice]:.1f}x). Other programs hide gains, so these numbers "
            f"cannot tell whether it would have: run the matrix again when the machine is quieter."
        )
    elif choice == "serial":
        why.append(
            f"No model ran even {min_gain:g}x faster than serial (best: {best_model} "
            f"{best:.2f}x), so concurrency does not pay for its complexity here."
        )
    else:
        why.append(f"Choose {choice} ({speed[choice]:.1f}x): {_WHY_SIMPLER[choice]}.")
        others = [m for m in SIMPLICITY if m in speed and m not in (choice, "serial")]
        close_ones = [m for m in others if m not in noise and speed[m] >= tie * best]
        if close_ones:
            why.append(
                f"Within {100 * (1 - tie):.0f}% of the best, and so not worth their extra cost "
                "here: " + ", ".join(f"{m} {speed[m]:.1f}x" for m in close_ones) + "."
            )
        elif choice != best_model:
            why.append(f"It was within {100 * (1 - tie):.0f}% of the fastest.")
    known = _WHY_WORK.get((workload, matrix.gil_enabled))
    if known:
        why.append("Why: " + known)
    if workload == "mixed":
        why.append(_MIXED_PATTERN)
    if workload == "io" and not declined:
        why.append(
            "For thousands of waits at once, asyncio's waits cost far less memory and start far "
            "faster than threads (cl.choosing.many_waits measures it)."
        )
    if choice == "processes" and matrix.pool_startup_s is not None and not declined:
        why.append(
            f"The process pool was started before the timing ({matrix.pool_startup_s:.2f} s, "
            f"{matrix.start_method}): start it once and give it plenty of work."
        )
    if workload in ("io", "mixed") and best > cores * 1.2 and choice != "serial":
        why.append(
            f"The speedup exceeds the {cores} cores: the tasks spend time waiting, and waits "
            f"overlap without using a core."
        )
    return RecommendationResult(
        workload=workload,
        model=choice,
        speedup=speed[choice],
        ranking=ranking,
        noise=noise,
        declined=declined,
        reasoning=" ".join(why),
    )
