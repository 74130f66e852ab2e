"""What does it cost to start and join a worker, per kind and start method?

Prints the median start+join time of the bare standard-library objects and of the lab's
`start_join` (which adds pipes, tracing and output capture), side by side, as ratios.

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import statistics
import time

import concurrency_lab as cl

REPEATS = 15


def lab_start_join(kind: str, method: str | None) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        cl.start_join(cl.noop, 1, kind=kind, start_method=method)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    bare = cl.threads_and_processes.measure_startup(repeats=REPEATS)
    thread = bare.medians_s[0]
    header = f"{'configuration':24} {'bare':>10} {'x thread':>9}"
    print(f"{header} {'lab start_join':>15} {'lab/bare':>9}")
    for label, med in zip(bare.labels, bare.medians_s, strict=True):
        kind, method = ("thread", None) if label == "thread" else ("process", label[9:-1])
        lab = lab_start_join(kind, method)
        print(
            f"{label:24} {med * 1e3:8.2f}ms {med / thread:9.1f} {lab * 1e3:13.2f}ms "
            f"{lab / med:9.2f}"
        )


if __name__ == "__main__":
    main()
