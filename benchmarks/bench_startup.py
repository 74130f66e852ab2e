"""What does it cost to start and join a worker, per kind and start method?

Prints the fastest start+join time of the bare standard-library objects (lesson 01's
``measure_startup``) and of the lab's ``start_join`` (which adds pipes, tracing and output
capture), side by side, as ratios.

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import time

import concurrency_lab as cl

REPEATS = 15


def lab_start_join(kind: str, method: str | None) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        cl.start_join(cl.noop, 1, kind=kind, start_method=method)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    bare = cl.threads_and_processes.measure_startup(repeats=REPEATS, fresh_forkserver_rows=False)
    thread = bare.row("thread").best_s
    header = f"{'configuration':24} {'bare':>10} {'x thread':>9}"
    print(f"{header} {'lab start_join':>15} {'lab/bare':>9}")
    for row in bare.rows:
        kind, method = ("thread", None) if row.kind == "thread" else ("process", row.label)
        lab = lab_start_join(kind, method)
        print(
            f"{row.label:24} {row.best_s * 1e3:8.2f}ms {row.best_s / thread:9.1f} "
            f"{lab * 1e3:13.2f}ms {lab / row.best_s:9.2f}"
        )
    print(f"\n{bare.load.describe() if bare.load else ''}")


if __name__ == "__main__":
    main()
