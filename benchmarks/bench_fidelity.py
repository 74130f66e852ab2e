"""Fidelity of the headline demos: does each give the right answer, run after run?

Each lesson with a headline measurement lists it in ``concurrency_lab/<lesson>/fidelity.py``
as ``HEADLINE_DEMOS``: a function that runs the demo exactly as the notebook does (same calls,
default sizes) and judges what it printed against the truth:

* ``right``: it stated the true qualitative answer (e.g. threads about 1x, processes well
  above 1x on pure-Python work);
* ``flagged``: it declined to conclude (too noisy, machine busy) without saying anything false;
* ``wrong``: it stated something false.

This script runs every demo ``--runs`` times (10 by default) on a quiet machine, then again
beside one CPU-bound process that keeps one core busy (a browser or a video call on a laptop),
and prints right / flagged / wrong counts. The goal (issue 13): on a quiet 2-core machine at
least 9 of 10 right and none wrong; beside the busy process, none wrong.

    python benchmarks/bench_fidelity.py                 # all demos, quiet then loaded
    python benchmarks/bench_fidelity.py --only gil --runs 5 --no-load

Run it on an otherwise idle machine: other programs' load is what the second half simulates.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

LESSONS_WITH_FIDELITY = ("threads_and_processes", "gil", "scaling", "races", "choosing", "problems")
VERDICTS = ("right", "flagged", "wrong")


def _spin(stop_at: float) -> None:  # module-level: picklable under spawn
    while time.monotonic() < stop_at:
        pass


def demos(only: str | None) -> dict[str, Callable[[], Any]]:
    found: dict[str, Callable[[], Any]] = {}
    for lesson in LESSONS_WITH_FIDELITY:
        if only and only != lesson:
            continue
        try:
            module = importlib.import_module(f"concurrency_lab.{lesson}.fidelity")
        except ModuleNotFoundError:
            continue
        for name, fn in module.HEADLINE_DEMOS.items():
            found[f"{lesson}: {name}"] = fn
    return found


def _verdict(outcome: Any) -> tuple[str, str]:
    if isinstance(outcome, tuple):
        return str(outcome[0]), str(outcome[1]) if len(outcome) > 1 else ""
    return str(outcome.verdict), str(getattr(outcome, "detail", ""))


def run_all(table: dict[str, Callable[[], Any]], runs: int, label: str) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for name, fn in table.items():
        tally: Counter[str] = Counter()
        details = []
        start = time.perf_counter()
        for i in range(runs):
            try:
                verdict, detail = _verdict(fn())
            except Exception as exc:  # a crash is a wrong answer, and worth seeing
                verdict, detail = "wrong", f"raised {type(exc).__name__}: {exc}"
            if verdict not in VERDICTS:
                verdict, detail = "wrong", f"unknown verdict {verdict!r}"
            tally[verdict] += 1
            if verdict != "right":
                details.append(f"    run {i + 1}: {verdict}: {detail}")
        counts[name] = tally
        took = time.perf_counter() - start
        print(
            f"{label:6} {name:55} right {tally['right']:2}/{runs}  flagged {tally['flagged']:2}"
            f"  wrong {tally['wrong']:2}   ({took / runs:.1f} s per run)",
            flush=True,
        )
        for line in details:
            print(line, flush=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", help="one lesson, e.g. gil")
    parser.add_argument("--no-load", action="store_true", help="skip the run beside a busy core")
    args = parser.parse_args(argv)
    table = demos(args.only)
    if not table:
        print("No fidelity demos found.")
        return 1
    import concurrency_lab as cl

    print(
        f"{cl.usable_cores()} usable cores, Python {sys.version.split()[0]}, "
        f"default start method {cl.default_start_method()}, {args.runs} runs per demo\n"
    )
    quiet = run_all(table, args.runs, "quiet")
    failed = any(c["wrong"] or c["right"] < 0.9 * args.runs for c in quiet.values())
    if not args.no_load:
        print("\nbeside one CPU-bound process:")
        ctx = multiprocessing.get_context("spawn")
        hog = ctx.Process(target=_spin, args=(time.monotonic() + 24 * 3600,), daemon=True)
        hog.start()
        try:
            loaded = run_all(table, args.runs, "loaded")
        finally:
            hog.terminate()
            hog.join(5)
        failed = failed or any(c["wrong"] for c in loaded.values())
    print("\ngoal: quiet >= 90 % right and 0 wrong; loaded 0 wrong:", "MISSED" if failed else "met")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
