"""Do processes scale to the cores, threads not, and how much does the lab itself cost?

Every figure is a ratio of two timings taken side by side in the same run (the machine's
speed drifts, so each configuration is timed right after its own baseline), reported as the
median over a few rounds. Goals (issue 3):

* pure-Python CPU work, n_workers = usable cores: process speedup >= 0.85 x cores;
  thread speedup between 0.8 and 1.2;
* the lab's overhead: `measure_scaling` on processes vs a plain ProcessPoolExecutor doing the
  same chunks in the same round, each as a speedup over a baseline timed just before it:
  within 5 %;
* GIL-releasing C work (sha256) with 2 threads: speedup >= 1.6 (on 2 or more cores);
* an explorer update at its default size answers in about a second.

    python benchmarks/bench_scaling.py              # 3 rounds, about 15 s on 2 cores
    python benchmarks/bench_scaling.py --rounds 5 --work-s 0.5
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import statistics
import time

import concurrency_lab as cl
from concurrency_lab import scaling


def _plain_pool_s(pool: cf.ProcessPoolExecutor, chunks: tuple[int, ...]) -> float:
    start = time.perf_counter()
    list(pool.map(cl.cpu_bound, chunks, timeout=120))
    return time.perf_counter() - start


def _thread_s(pool: cf.ThreadPoolExecutor, work: int) -> float:
    start = time.perf_counter()
    pool.submit(cl.cpu_bound, work).result(timeout=120)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work-s", type=float, default=0.3, help="serial seconds of CPU work")
    parser.add_argument("--start-method", default=None)
    args = parser.parse_args()
    med = statistics.median

    cores = cl.usable_cores()
    method = cl.get_context(args.start_method).get_start_method()
    work = cl.calibrate(cl.cpu_bound, args.work_s)
    c_work = cl.calibrate(cl.gil_releasing, args.work_s)
    chunks = cl.scaling.split_work(work, cores)
    print(f"usable cores: {cores}; start method: {method}; {args.rounds} rounds")
    print(f"cpu_bound: {work} units (~{args.work_s:g} s serial); gil_releasing: {c_work} units\n")

    proc, thr, overhead, c_thr = [], [], [], []
    ctx = cl.get_context(args.start_method)
    with (
        cf.ProcessPoolExecutor(max_workers=cores, mp_context=ctx) as plain,
        cf.ThreadPoolExecutor(max_workers=1) as serial,
    ):
        _plain_pool_s(plain, chunks)  # warm: start the processes
        for _ in range(args.rounds):
            r = cl.scaling.measure_scaling(
                cl.cpu_bound,
                n_workers=(cores,),
                total_work=work,
                start_method=args.start_method,
                repeats=3,
            )
            proc.append(r.speedup("process", cores))
            thr.append(r.speedup("thread", cores))
            # The plain pool's speedup, each run right after its own baseline in a worker
            # thread (as measure_scaling does), so both ratios are corrected for drift alike.
            plain_speedups = []
            for _ in range(3):
                base = _thread_s(serial, work)
                plain_speedups.append(base / _plain_pool_s(plain, chunks))
            overhead.append(med(plain_speedups) / r.speedup("process", cores))
            c = cl.scaling.measure_scaling(
                cl.gil_releasing, kinds=("thread",), n_workers=(2,), total_work=c_work, repeats=3
            )
            c_thr.append(c.speedup("thread", 2))

    def verdict(ok: bool) -> str:
        return "goal met" if ok else "goal NOT met"

    p, t, o, g = med(proc), med(thr), med(overhead), med(c_thr)
    print(f"{'measure':58} {'median':>8}  goal")
    print(
        f"{'process speedup / cores (CPU work, n = cores)':58} {p / cores:8.2f}  >= 0.85  "
        f"({p:.2f}x on {cores} cores) {verdict(p / cores >= 0.85)}"
    )
    print(
        f"{'thread speedup (CPU work, n = cores)':58} {t:8.2f}  0.8-1.2  {verdict(0.8 <= t <= 1.2)}"
    )
    print(
        f"{'plain ProcessPoolExecutor speedup / measure_scaling speedup':58} {o:8.3f}  <= 1.05  "
        f"{verdict(abs(o - 1) <= 0.05)}"
    )
    c_goal = "goal met" if g >= 1.6 else ("goal NOT met" if cores >= 2 else "n/a: 1 core")
    print(f"{'GIL-releasing C (sha256), 2 threads: speedup':58} {g:8.2f}  >= 1.6   {c_goal}")
    rounds = ", ".join(f"{x:.2f}/{y:.2f}" for x, y in zip(proc, thr))
    print(f"  per round, process/thread speedup: {rounds}")

    scaling.scaling_experiment(workload="cpu", size_s=0.03)  # calibrates
    start = time.perf_counter()
    scaling.scaling_experiment(workload="cpu", size_s=0.03)
    sweep_s = time.perf_counter() - start
    start = time.perf_counter()
    cl.gil.trace_handoff(2, duration_s=0.05)
    cl.gil.measure_switch_interval((0.005,), work_units=cl.calibrate(cl.cpu_bound, 0.1))
    gil_s = time.perf_counter() - start
    print(
        f"\nexplorer updates at default size: scaling {sweep_s:.2f} s, GIL {gil_s:.2f} s "
        f"(goal: about 1 s)"
    )


if __name__ == "__main__":
    main()
