"""How fast can a model run a kind of work at most? The speed limits behind the heat map's guards.

A measured speedup can be wrong: another program slows the serial run, the CPU clock drifts
between two timings. Some wrong numbers are easy to catch, because the work itself puts a
ceiling on them. The ceilings come from three facts about each row of the matrix, all
measured or known:

* ``cpu_share``: the part of the serial run spent computing (CPU seconds of the serial run
  divided by its wall-clock seconds); the rest was waiting.
* whether that computing **holds the GIL** (pure-Python code does; hashing in C does not).
* the number of tasks ``n``, of workers ``k`` (pool size, or coroutines in flight) and of
  usable cores ``C``.

Then, with ``s`` the CPU share and ``waves = ceil(n / k)`` (a pool of ``k`` runs ``n`` tasks
in at least that many rounds):

* **one thing at a time** for the computing (``asyncio``, whose one thread runs every task's
  computing part; threads, when that part holds the GIL): the computing adds up, and at
  least the last task's wait comes after it, so the time is at least ``s·T + (1 - s)·T / n``
  and the speedup at most ``1 / (s + (1 - s) / n)``; for asyncio on mixed work that is
  "serial ÷ (CPU share · n + one wait)".
* **in parallel** (processes; threads when the computing releases the GIL or there is no GIL):
  the computing is shared by at most ``min(C, k)`` cores: speedup at most ``min(C, k) / s``.
* and every model at most ``n / waves``: ``k`` waits at a time cannot beat ``waves`` waits.

A cell more than :data:`TOLERANCE` above its limit is reported as noise and never used for a
recommendation. The tolerance leaves room for the honest error of the inputs (the CPU share
is measured too, and a clock tick is 10 ms on some systems).

>>> round(speed_limit("asyncio", cpu_share=0.5, holds_gil=True, n_tasks=16, n_workers=8,
...                   cores=2, gil_enabled=True), 2)
1.88
>>> speed_limit("processes", cpu_share=1.0, holds_gil=True, n_tasks=8, n_workers=4,
...             cores=2, gil_enabled=True)
2.0

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import math
from typing import Literal

__all__ = ["TOLERANCE", "Model", "limit_reason", "runs_one_at_a_time", "speed_limit"]

Model = Literal["serial", "threads", "processes", "asyncio"]

#: A speedup more than 20 % above its limit is noise, not a result.
TOLERANCE = 1.2


def runs_one_at_a_time(model: str, *, holds_gil: bool | None, gil_enabled: bool) -> bool:
    """True when ``model`` runs the computing part of the tasks one task at a time.

    ``asyncio`` always does (one thread); threads do when the computing holds the GIL and the
    GIL is on. ``holds_gil=None`` (work the lab does not know) counts as not holding it, so
    that an unknown function's real gain is never called noise.

    >>> runs_one_at_a_time("threads", holds_gil=True, gil_enabled=True)
    True
    >>> runs_one_at_a_time("threads", holds_gil=False, gil_enabled=True)
    False
    """
    if model == "asyncio":
        return True
    return model == "threads" and bool(holds_gil) and gil_enabled


def speed_limit(
    model: str,
    *,
    cpu_share: float,
    holds_gil: bool | None,
    n_tasks: int,
    n_workers: int,
    cores: int,
    gil_enabled: bool,
) -> float:
    """The highest speedup over serial that ``model`` can reach on this work (see the module).

    Args:
        model: ``"serial"``, ``"threads"``, ``"processes"`` or ``"asyncio"``.
        cpu_share: the computing part of the serial run, 0 to 1 (clamped).
        holds_gil: whether the computing holds the GIL (``None``: unknown).
        n_tasks: tasks in the row.
        n_workers: pool size, or coroutines in flight for asyncio.
        cores: usable cores.
        gil_enabled: whether the interpreter that measured it ran with the GIL.

    Returns:
        The limit (1.0 for serial).
    """
    return _limit(model, cpu_share, holds_gil, n_tasks, n_workers, cores, gil_enabled)[0]


def limit_reason(
    model: str,
    *,
    cpu_share: float,
    holds_gil: bool | None,
    n_tasks: int,
    n_workers: int,
    cores: int,
    gil_enabled: bool,
) -> str:
    """Why ``model`` cannot go faster than :func:`speed_limit`, as a phrase for a sentence.

    >>> limit_reason("asyncio", cpu_share=1.0, holds_gil=False, n_tasks=8, n_workers=4,
    ...              cores=2, gil_enabled=True)
    'its one thread runs the computing of every task, one task after another'
    """
    return _limit(model, cpu_share, holds_gil, n_tasks, n_workers, cores, gil_enabled)[1]


def _limit(
    model: str,
    cpu_share: float,
    holds_gil: bool | None,
    n_tasks: int,
    n_workers: int,
    cores: int,
    gil_enabled: bool,
) -> tuple[float, str]:
    if model == "serial":
        return 1.0, "it is the baseline"
    s = min(1.0, max(0.0, cpu_share))
    n, k = max(1, n_tasks), max(1, n_workers)
    waves = math.ceil(n / k)
    limit = n / waves
    reason = f"{k} workers run at most {k} of the {n} tasks at a time"
    waits = s < 0.9
    if runs_one_at_a_time(model, holds_gil=holds_gil, gil_enabled=gil_enabled):
        one = 1.0 / (s + (1.0 - s) / n)
        if one < limit:
            limit = one
            if model == "asyncio":
                reason = "its one thread runs the computing of every task" + (
                    ", and only the waits overlap" if waits else ", one task after another"
                )
            else:
                reason = "under the GIL one thread at a time runs Python code" + (
                    ", and only the waits overlap" if waits else ""
                )
    elif s > 0:
        par = min(cores, k) / s
        if par < limit:
            limit = par
            used = min(cores, k)
            reason = f"the computing cannot use more than {used} core{'s' if used != 1 else ''}" + (
                f" ({k} workers)" if k < cores else ""
            )
    return limit, reason
