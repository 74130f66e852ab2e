"""What does recording a span cost, next to the work it wraps?

Prints the cost per span of each way to record one, and the overhead on a 1 ms task.
Goal (issue 2): about 1 µs per span or less, under 1 % of a 1 ms task. "About 1 µs" is
checked as <= 1.25 µs; the exact figure is printed, so read it rather than the verdict.

    python benchmarks/bench_tracing.py
"""

from __future__ import annotations

import statistics
import time

import concurrency_lab as cl
from concurrency_lab.core import tracing

N = 200_000


def per_call_ns(fn, n: int = N) -> float:
    samples = []
    for _ in range(5):
        t0 = time.perf_counter_ns()
        fn(n)
        samples.append((time.perf_counter_ns() - t0) / n)
        tracing.collect()  # empty the default recorder outside the timed window
    return statistics.median(samples)


def empty_loop(n):
    for _ in range(n):
        pass


def recorder_span(n):
    rec = tracing.Recorder("bench")
    for _ in range(n):
        with rec.span("x"):
            pass


def module_span(n):
    for _ in range(n):
        with cl.span("x"):
            pass


def record_span(n):
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        tracing.record_span("x", t0, clock())


def main() -> None:
    base = per_call_ns(empty_loop)
    units = 1
    rows = [
        ("Recorder.span (with-block)", per_call_ns(recorder_span) - base),
        ("cl.span (with-block)", per_call_ns(module_span) - base),
        ("cl.record_span (two clock reads)", per_call_ns(record_span) - base),
    ]
    t0 = time.perf_counter()
    for _ in range(200):
        cl.cpu_bound(units)
    task_ns = (time.perf_counter() - t0) / 200 * 1e9
    print(f"(for scale: cpu_bound({units}) takes {task_ns / 1e6:.2f} ms here)")
    task_ns = 1e6  # the goal is stated against a 1 ms task
    print(f"{'way to record a span':36} {'cost/span':>10} {'vs 1 ms task':>13}  goal ~1 µs, <1 %")
    for name, ns in rows:
        ok = "ok" if ns <= 1250 and ns / task_ns < 0.01 else "MISSED"
        print(f"{name:36} {ns / 1000:8.2f} µs {ns / task_ns:12.4%}  {ok}")


if __name__ == "__main__":
    main()
