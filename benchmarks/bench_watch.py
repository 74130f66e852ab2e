"""What does watching cost? Plain CPU-bound runs, with and without ``cl.watch()``, side by side.

Two runs of about 0.5 s each: 2 threads (under the GIL they share one core) and 2 processes
(fork; they can use two cores). Each repeat times the run bare and watched, back to back, in
alternating order, and the ratio watched/bare of that pair is kept; the median of the ratios
is the overhead (goal: within 5 %). A second bare run in each repeat gives the same ratio for
two bare runs: the noise floor, how far apart two identical runs fall right now. The CPU
ratio (CPU the run itself used, watched/bare) is a cost that other programs' load can hardly
hide or fake. It also prints the cost of entering and leaving the ``with`` block (starting
and stopping the sampler), the sampling interval achieved, the sampler's own CPU use, and how
busy other programs kept the machine, so a noisy result can be recognised as such. POSIX
only (it reads children's CPU with ``resource``).

    python benchmarks/bench_watch.py [--repeats 7] [--seconds 0.5] [--interval 0.0019]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
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


def cpu_now() -> float:
    """CPU seconds used so far by this process and its waited-for children."""
    own = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


def timed(run: Callable[[int], None], units: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run. The sampler is not in the CPU: it is a child
    that is waited for only when the watch ends, after this measurement."""
    c0, t0 = cpu_now(), time.perf_counter()
    run(units)
    return time.perf_counter() - t0, cpu_now() - c0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    name: str, run: Callable[[int], None], units: int, repeats: int, interval: float
) -> float:
    wall_ratios: list[float] = []
    cpu_ratios: list[float] = []
    bare_walls: list[float] = []
    enter_exit: list[float] = []
    intervals: list[float] = []
    p95s: list[float] = []
    sampler: list[float] = []
    others: list[float] = []
    null_ratios: list[float] = []
    for i in range(repeats):
        pair: dict[str, tuple[float, float]] = {}
        for order in ("bare", "watched", "again") if i % 2 == 0 else ("again", "watched", "bare"):
            if order in ("bare", "again"):
                pair[order] = timed(run, units)
                continue
            outer0 = time.perf_counter()
            with watch(interval_s=interval) as w:
                pair["watched"] = timed(run, units)
            outer = time.perf_counter() - outer0
            enter_exit.append(outer - pair["watched"][0])
            lane = max(w.workers, key=lambda x: len(x.sample_s), default=None)
            if lane is not None and len(lane.sample_s) > 2:
                gaps = [b - a for a, b in zip(lane.sample_s[1:], lane.sample_s[2:])]
                intervals.append(statistics.median(gaps))
                p95s.append(percentile(gaps, 0.95))
            if w.sampler_cpu_s is not None:
                sampler.append(w.sampler_cpu_s / (outer or 1))
            if w.others_busy is not None:
                others.append(w.others_busy)
        wall_ratios.append(pair["watched"][0] / pair["bare"][0])
        null_ratios.append(pair["again"][0] / pair["bare"][0])
        cpu_ratios.append(pair["watched"][1] / pair["bare"][1])
        bare_walls.append(pair["bare"][0])
    wall = statistics.median(wall_ratios)
    print(
        f"{name:12} bare {statistics.median(bare_walls):5.3f} s | watched/bare: wall median "
        f"{wall:.3f} (range {min(wall_ratios):.2f}–{max(wall_ratios):.2f}), CPU median "
        f"{statistics.median(cpu_ratios):.3f} | enter+exit "
        f"{statistics.median(enter_exit) * 1e3:.0f} ms"
    )
    print(
        f"{'':12} noise floor, bare/bare measured the same way: median "
        f"{statistics.median(null_ratios):.3f} (range {min(null_ratios):.2f}–"
        f"{max(null_ratios):.2f})"
    )
    if intervals:
        print(
            f"{'':12} sampling interval median {statistics.median(intervals) * 1e3:.3f} ms, "
            f"95th percentile {statistics.median(p95s) * 1e3:.3f} ms; the sampler used "
            f"{statistics.median(sampler):.1%} of one core"
        )
    if others:
        print(f"{'':12} meanwhile other programs kept {statistics.median(others):.2f} cores busy")
    return wall


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
        f"wall-time overhead: {(worst - 1) * 100:+.1f} % at worst ({verdict} the 5 % goal); "
        f"load average now {os.getloadavg()[0]:.2f}. With other programs busy, wall ratios "
        "mostly measure them: trust a run where they kept well under one core busy."
    )


if __name__ == "__main__":
    main()
