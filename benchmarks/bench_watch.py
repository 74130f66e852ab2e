"""What does watching cost? Plain CPU-bound runs, with and without ``cl.watch()``, side by side.

Two runs of about 0.5 s each: 2 threads (under the GIL they share one core) and 2 processes
(fork; they can use two cores). Each repeat times the run bare and watched, back to back, in
alternating order, and the ratio watched/bare of that pair is kept; the median of the ratios
is the overhead (goal: within 5 %). It also prints the cost of entering and leaving the
``with`` block (starting and stopping the sampler), the sampling interval achieved, the
sampler's own CPU use, and the machine's load, so a noisy result can be recognised as such.

    python benchmarks/bench_watch.py [--repeats 7] [--seconds 0.5] [--interval 0.001]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable

from concurrency_lab.core.machine import usable_cores
from concurrency_lab.core.watch import DEFAULT_INTERVAL_S, watch
from concurrency_lab.core.workloads import calibrate, cpu_bound


def two_threads(units: int) -> None:
    threads = [threading.Thread(target=cpu_bound, args=(units,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def two_processes(units: int) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=cpu_bound, args=(units,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()


def timed(run: Callable[[int], None], units: int) -> float:
    t0 = time.perf_counter()
    run(units)
    return time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(name: str, run: Callable[[int], None], units: int, repeats: int, interval: float):
    ratios, bare_times, enter_exit, intervals, p95s, sampler_share, others = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for i in range(repeats):
        pair = {}
        for order in ("bare", "watched") if i % 2 == 0 else ("watched", "bare"):
            if order == "bare":
                pair["bare"] = timed(run, units)
                continue
            outer0 = time.perf_counter()
            with watch(interval_s=interval) as w:
                inner0 = time.perf_counter()
                run(units)
                inner = time.perf_counter() - inner0
            outer = time.perf_counter() - outer0
            pair["watched"] = inner
            enter_exit.append(outer - inner)
            lane = max(w.workers, key=lambda x: len(x.sample_s), default=None)
            if lane is not None and len(lane.sample_s) > 2:
                gaps = [b - a for a, b in zip(lane.sample_s[1:], lane.sample_s[2:])]
                intervals.append(statistics.median(gaps))
                p95s.append(percentile(gaps, 0.95))
            if w.sampler_cpu_s is not None:
                sampler_share.append(w.sampler_cpu_s / (outer or 1))
            if w.others_busy is not None:
                others.append(w.others_busy)
        ratios.append(pair["watched"] / pair["bare"])
        bare_times.append(pair["bare"])
    print(
        f"{name:14} bare {statistics.median(bare_times):6.3f} s   watched/bare "
        f"median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})"
        f"   enter+exit {statistics.median(enter_exit) * 1e3:5.1f} ms"
    )
    if intervals:
        print(
            f"{'':14} sample interval median {statistics.median(intervals) * 1e3:.3f} ms, "
            f"95th percentile {statistics.median(p95s) * 1e3:.3f} ms; sampler CPU "
            f"{statistics.median(sampler_share):.1%} of one core"
        )
    if others:
        print(f"{'':14} other programs kept {statistics.median(others):.2f} cores busy (median)")
    return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S)
    args = parser.parse_args()
    print(
        f"{usable_cores()} usable cores, load average {os.getloadavg()[0]:.2f}; "
        f"{args.repeats} pairs per run, sampling every {args.interval * 1e3:g} ms"
    )
    # Each thread does half the work: under the GIL the two take about --seconds together.
    # Each process does all of it: on two free cores the two also take about --seconds.
    per_thread = calibrate(cpu_bound, args.seconds / 2)
    per_process = calibrate(cpu_bound, args.seconds)
    worst = max(
        measure("2 threads", two_threads, per_thread, args.repeats, args.interval),
        measure("2 processes", two_processes, per_process, args.repeats, args.interval),
    )
    verdict = "within" if worst <= 1.05 else "NOT within"
    print(
        f"overhead: {(worst - 1) * 100:+.1f} % at worst ({verdict} the 5 % goal); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
