"""Lesson 01's headline demos, run as the notebook runs them and judged against the truth.

``benchmarks/bench_fidelity.py`` runs each of :data:`HEADLINE_DEMOS` ten times, on a quiet
machine and beside a CPU-bound process, and counts the verdicts: ``right`` (the demo said
what is true), ``flagged`` (it declined to conclude) or ``wrong`` (it said something false).

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import threading
from collections.abc import Callable

from ..core.machine import start_methods_to_compare
from ..core.runners import start_join
from ..core.watch import watch
from ..core.workloads import whoami
from .memory import memory_isolation
from .side_by_side import overlap
from .startup import measure_startup

__all__ = ["HEADLINE_DEMOS"]

Verdict = tuple[str, str]
WAIT_S = 0.2  # what the notebook's whoami workers wait


def plain_code_overlap() -> Verdict:
    """The notebook's two ``%%timeline`` cells: two threads, then two processes (default start
    method), each running ``whoami(0.2)``; then ``overlap(_timeline)`` for each."""
    said = []
    with contextlib.redirect_stdout(io.StringIO()):
        for make in (threading.Thread, multiprocessing.Process):
            with watch() as w:
                workers = [make(target=whoami, args=(WAIT_S,)) for _ in range(2)]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
            said.append(overlap(w))
    wrong = [r.summary() for r in said if not r.overlapped]
    return ("wrong", " / ".join(wrong)) if wrong else ("right", "")


def every_start_method_overlap() -> Verdict:
    """The optional cell: ``cl.start_join(cl.whoami, 2, ...)`` for threads and for each start
    method worth comparing; the Run's sentence says whether the workers' work overlapped
    (from their spans)."""
    runs = []
    with contextlib.redirect_stdout(io.StringIO()):
        runs.append(start_join(whoami, 2, kind="thread", args=(WAIT_S,)))
        for method in start_methods_to_compare():
            runs.append(start_join(whoami, 2, kind="process", start_method=method, args=(WAIT_S,)))
    wrong = [run.summary() for run in runs if run.together_s <= 0]
    return ("wrong", " / ".join(wrong)) if wrong else ("right", "")


def startup_order() -> Verdict:
    """``measure_startup()``: a thread must be the cheapest, and spawn dearer than fork."""
    res = measure_startup()
    thread = res.row("thread").best_s
    processes = {r.label: r.best_s for r in res.rows if r.kind == "process"}
    if any(best <= thread for best in processes.values()):
        return "wrong", res.summary()
    if "fork" in processes and "spawn" in processes and processes["spawn"] <= processes["fork"]:
        return "wrong", res.summary()
    return "right", ""


def memory_story() -> Verdict:
    """``memory_isolation()``: threads share the list; a fork child sees the parent's item;
    a spawn or forkserver child starts empty; no process changes the parent's list."""
    res = memory_isolation()
    for row in res.rows:
        n = len(row.seen_by_workers)
        if row.kind == "thread":
            ok = row.parent_after == row.parent_before + n
        elif row.start_method == "fork":
            ok = row.parent_after == row.parent_before and set(row.seen_by_workers) == {2}
        else:
            ok = row.parent_after == row.parent_before and set(row.seen_by_workers) == {1}
        if not ok:
            return "wrong", row.sentence()
    return "right", ""


HEADLINE_DEMOS: dict[str, Callable[[], Verdict]] = {
    "plain threads and processes overlap (%%timeline)": plain_code_overlap,
    "every start method overlaps (spans)": every_start_method_overlap,
    "a thread starts cheapest; spawn dearer than fork": startup_order,
    "who sees whose memory": memory_story,
}
