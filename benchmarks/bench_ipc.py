"""How close does each IPC method get to an in-process memory copy?

Each round calls `cl.ipc.measure_ipc`, which times every method and, for each message size beside
them, one in-process copy of the same bytes with numpy (`"copy"`: one way, no reply; at large
sizes about what copying memory costs, at small sizes the cost of one numpy call). So every ratio
printed here compares two numbers measured side by side in the same run; the median over a few
rounds is reported, because the machine's speed drifts.

Goal (issue 6): shared memory moves a 64 MiB array at >= 0.5 x the in-process copy's bandwidth. The
shared-memory sender copies the array into the segment through a numpy view (one copy) and
sends only its length; the receiver reads it in place.

    python benchmarks/bench_ipc.py            # 3 rounds, about 10 s on 2 cores
    python benchmarks/bench_ipc.py --rounds 5
"""

from __future__ import annotations

import argparse
import statistics

import concurrency_lab as cl

SMALL = 64
BIG = 64 * 1024 * 1024
METHODS = ["queue.Queue", "Pipe", "Queue", "SharedMemory"]
GOAL_SHM = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--start-method", default=None)
    args = parser.parse_args()

    thr: dict[str, list[float]] = {m: [] for m in METHODS}  # throughput / copy at BIG
    lat: dict[str, list[float]] = {m: [] for m in METHODS}  # round trip / copy time at SMALL
    lat_thread: dict[str, list[float]] = {m: [] for m in METHODS}  # ... / queue.Queue at SMALL
    copy_gbps: list[float] = []
    res = None
    for _ in range(args.rounds):
        res = cl.ipc.measure_ipc(
            METHODS,
            [SMALL, BIG],
            start_method=args.start_method,
            min_repeats=5,
            max_repeats=200,
            budget_s=0.05,
            timeout_s=120,
        )
        copy_gbps.append(res.gbps("copy", BIG))
        for m in METHODS:
            thr[m].append(res.ratio(m, BIG))
            lat[m].append(res.time_s(m, SMALL) / res.time_s("copy", SMALL))
            lat_thread[m].append(res.time_s(m, SMALL) / res.time_s("queue.Queue", SMALL))
    assert res is not None
    med = statistics.median
    print(f"start method: {res.start_method}; {args.rounds} rounds; medians of per-round ratios")
    print(f"in-process copy at 64 MiB: {med(copy_gbps):.2f} GB/s (measured in each round)\n")
    print(
        f"{'method':13} {'64 MiB: x copy bandwidth':>27} {'64 B: round trip / copy':>27} "
        f"{'/ queue.Queue':>14}"
    )
    for m in METHODS:
        print(f"{m:13} {med(thr[m]):27.3f} {med(lat[m]):27.0f} {med(lat_thread[m]):14.2f}")
    shm = med(thr["SharedMemory"])
    verdict = "PASS" if shm >= GOAL_SHM else "FAIL"
    print(f"\ngoal: SharedMemory at 64 MiB >= {GOAL_SHM} x copy: {shm:.2f} x  [{verdict}]")
    print(f"Pipe and Queue at 64 MiB: {med(thr['Pipe']):.2f} x and {med(thr['Queue']):.2f} x copy")
    print(
        "(queue.Queue between threads passes a reference: no bytes move, so its ratio has no limit)"
    )


if __name__ == "__main__":
    main()
