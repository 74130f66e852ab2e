"""Turn what the watcher noted and sampled into lanes (:class:`WatchedWorker`).

:mod:`concurrency_lab.core.watch` collects two kinds of evidence while the ``with`` block
runs: *notes* from its hooks (:mod:`~concurrency_lab.core.watch_hooks`: a thread's name,
native id, first and last moment, CPU total from ``time.thread_time()``; a process's name and
pid) and the sampler's *samples* (:mod:`~concurrency_lab.core.watch_sampler`: each thread's
cumulative on-CPU nanoseconds, read every 2 ms from outside the GIL). This module
matches them up into a :class:`~concurrency_lab.core.watch_result.WatchResult`. Standard
library only.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import itertools
import math
import os
from array import array
from collections.abc import Callable
from typing import Any

from .machine import usable_cores
from .watch_hooks import Notes, ThreadNote
from .watch_result import (
    MAIN_MIN_S,
    SHOW_MIN_S,
    SHOW_SHARE,
    Resolution,
    WatchedWorker,
    WatchResult,
)

__all__ = ["MAX_POINTS", "build_result", "smooth_ticks"]

#: Longest series kept per worker: longer watches keep every n-th sample (the series is
#: cumulative, so a coarser copy is still exact at the points it keeps).
MAX_POINTS = 20_000


def _decode(payload: dict[str, Any]) -> tuple[list[int], dict[tuple[int, int], Any]]:
    times = array("q")
    times.frombytes(payload["times"])
    tasks = {}
    for pid, tid, first, last, ended, changes_bytes in payload["tasks"]:
        changes = array("q")
        changes.frombytes(changes_bytes)
        tasks[(pid, tid)] = (first, last, ended, changes)
    return list(times), tasks


def _dense(first: int, changes: array[int], lo: int, hi: int) -> tuple[list[int], list[int]]:
    """A task's ns on CPU and switch-in count at every poll ``lo..hi`` (0 before it appeared).

    ``changes`` holds flat ``(poll, ns, switch-ins)`` triples, one per poll where either
    changed.
    """
    values, runs = [], []
    j = 0
    value = count = 0
    n = len(changes)
    for k in range(lo, hi + 1):
        while j < n and changes[j] <= k:
            value, count = changes[j + 1], changes[j + 2]
            j += 3
        values.append(value if k >= first else 0)
        runs.append(count if k >= first else 0)
    return values, runs


def smooth_ticks(values: list[int], runs: list[int], times: list[float]) -> list[float]:
    """Undo the kernel's tick staircase in a thread's cumulative CPU time.

    Linux brings a thread's CPU time up to date when the thread leaves a CPU and at each
    scheduler tick (every 1–10 ms). Read every millisecond, a thread that stays on a CPU
    shows ``0, 0, 0, 4 ms``: flat, then a jump. The switch-in count (how many times the
    thread was put on a CPU) cuts the readings into *runs*: between two switch-ins the thread
    was on a CPU without a break, gaining exactly one second of CPU per second. Each run is
    drawn as such a slope, placed where the evidence puts it: it began in the poll window in
    which its switch-in was counted and ended in the window of its last update. So two
    threads that hand a CPU to each other inside one window are not both drawn running for
    the whole window.

    Polls every millisecond; in ms, a thread on a CPU throughout, whose 4 ms appear at once:

    >>> ms = [0.0, 0.001, 0.002, 0.003, 0.004]
    >>> def in_ms(values): return [round(v / 1e6, 2) for v in values]
    >>> in_ms(smooth_ticks([0, 0, 0, 0, 4_000_000], [1, 1, 1, 1, 1], ms))
    [0.5, 1.5, 2.5, 3.5, 4.0]

    A thread switched in between 2 and 3 ms that has 2 ms by 4 ms ran from 2 to 4 ms:

    >>> in_ms(smooth_ticks([0, 0, 0, 0, 2_000_000], [1, 1, 1, 2, 2], ms))
    [0.0, 0.0, 0.0, 1.0, 2.0]

    The last value stays exact, for the total. The first can be higher than the reading: a
    thread that was on a CPU when the watch began had CPU time not yet counted then.

    Args:
        values: cumulative ns on CPU at each poll.
        runs: cumulative switch-in count at each poll (all zero if the kernel does not count
            them: then the staircase is kept as read).
        times: the polls' times, in seconds (increasing).

    Returns:
        The cumulative values at the poll times, smoothed, as floats.
    """
    n = len(values)
    out = [float(v) for v in values]
    if n < 2 or not any(runs):
        return out
    # 1. Cut into runs: [first poll of the run's window or None, base, end, last change poll].
    segments: list[list[Any]] = []
    current: list[Any] = [None, values[0], values[0], None]
    for k in range(1, n):
        if runs[k] != runs[k - 1]:
            segments.append(current)
            last = k if values[k] != values[k - 1] else None
            current = [k, values[k - 1], values[k], last]
        elif values[k] != values[k - 1]:
            current[2], current[3] = values[k], k
    segments.append(current)
    # 2. Place each run: slope one, inside the windows of its switch-in and last update.
    placed: list[tuple[float, float, float]] = []  # (start time, base ns, length s)
    for start, base, end, last in segments:
        if last is None or end <= base:
            continue
        length = (end - base) / 1e9
        end_lo, end_hi = times[last - 1] - length, times[last] - length
        lo, hi = end_lo, end_hi
        if start is not None:
            lo, hi = max(lo, times[start - 1]), min(hi, times[start])
            if lo > hi:  # the two windows disagree (a late poll): trust the update
                lo, hi = end_lo, end_hi
        placed.append(((lo + hi) / 2, float(base), length))
    # 3. Read the slopes at the poll times.
    j = -1
    for k, t in enumerate(times):
        while j + 1 < len(placed) and placed[j + 1][0] <= t:
            j += 1
        if j >= 0:
            t_in, base, length = placed[j]
            out[k] = max(out[k - 1] if k else 0.0, base + min(t - t_in, length) * 1e9)
    out[-1] = float(values[-1])  # the total stays exact
    return out


def _thin(points: list[tuple[float, float]]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if len(points) > MAX_POINTS:
        step = math.ceil(len(points) / MAX_POINTS)
        points = points[::step] + ([points[-1]] if (len(points) - 1) % step else [])
    return tuple(p[0] for p in points), tuple(p[1] for p in points)


def _series(
    times_s: list[float], values: list[float], lo: int, baseline: float, born_s: float | None
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    points = [(times_s[lo + i], (v - baseline) / 1e9) for i, v in enumerate(values)]
    if born_s is not None and points and born_s < points[0][0]:
        points.insert(0, (born_s, 0.0))
    return _thin(points)


def build_result(
    notes: Notes,
    payload: dict[str, Any] | None,
    *,
    show_all: bool,
    raised: str | None,
) -> WatchResult:
    """Match the hooks' notes and the sampler's payload (or ``None``) into a result."""
    t0 = notes.t0_ns
    wall_s = (notes.t1_ns - t0) / 1e9

    def s(ns: int) -> float:
        return (ns - t0) / 1e9

    workers: list[WatchedWorker] = []
    by_tid = {n.tid: n for n in notes.threads if n.tid is not None}
    seen_tids: set[int] = set()
    resolution: Resolution = "totals"
    interval = None
    sampler_cpu = None
    note = notes.problem
    if payload is not None and payload.get("reader") == "proc":
        resolution = "samples"
        times, tasks = _decode(payload)
        times_s = [s(t) for t in times]
        diffs = sorted(b - a for a, b in itertools.pairwise(times_s))
        interval = diffs[len(diffs) // 2] if diffs else None
        sampler_cpu = payload.get("own_cpu_s")
        root = payload["root"]
        procs = {p[0]: p for p in payload["procs"]}
        workers += _root_threads(notes, tasks, times_s, root, by_tid, seen_tids, s)
        workers += _processes(notes, tasks, procs, times_s, root, s)
    elif payload is not None:  # psutil: process totals, no per-moment samples
        sampler_cpu = payload.get("own_cpu_s")
        times, tasks = _decode(payload)
        times_s = [s(t) for t in times]
        procs = {p[0]: p for p in payload["procs"]}
        workers += _processes(notes, tasks, procs, times_s, payload["root"], s, totals=True)
    if resolution == "totals":
        note = note or (
            "CPU totals only: this system gives the watcher no per-moment CPU readings "
            "(Linux /proc is needed), so the picture shows lifetimes and totals, not who ran "
            "when"
        )
        if payload is None:
            note += (
                "; processes' CPU is unknown (install psutil to see it)"
                if notes.mode == "none" and not notes.problem
                else "; processes' CPU is unknown"
            )
        main_cpu = (notes.cpu_exit_ns - notes.cpu_enter_ns) / 1e9
        workers.append(
            WatchedWorker(
                name=notes.entered_name,
                kind="thread",
                pid=os.getpid(),
                tid=notes.entered_tid,
                start_s=0.0,
                end_s=None,
                cpu_s=main_cpu,
                parent=notes.process_name,
                role="main",
            )
        )
    # Threads the sampler never saw (too short, or totals mode): their notes say it all.
    for n in notes.threads:
        if n.tid in seen_tids:
            continue
        workers.append(
            WatchedWorker(
                name=n.name,
                kind="thread",
                pid=os.getpid(),
                tid=n.tid,
                start_s=s(n.begin_ns or n.called_ns),
                end_s=None if n.end_ns is None else s(n.end_ns),
                cpu_s=None if n.cpu_ns is None else n.cpu_ns / 1e9,
                parent=notes.process_name,
                role="helper" if n.helper else "started",
            )
        )
    seen_pids = {w.pid for w in workers if w.kind == "process"}
    for p in notes.processes:
        if p.pid is not None and p.pid not in seen_pids:
            workers.append(
                WatchedWorker(
                    name=p.name,
                    kind="process",
                    pid=p.pid,
                    tid=None,
                    start_s=s(p.called_ns),
                    end_s=None,
                    cpu_s=None,
                    parent=p.parent,
                )
            )
    shown: list[WatchedWorker] = []
    hidden: list[WatchedWorker] = []
    alone = not any(w.role == "started" for w in workers)
    for w in sorted(workers, key=lambda w: (w.role != "main", w.start_s, w.name)):
        cpu = w.cpu_s or 0.0
        if w.role == "main":  # the cell's own code runs here: show real work, not joins
            show = cpu >= MAIN_MIN_S or (alone and cpu > 0.0 and cpu >= 0.5 * wall_s)
        else:
            busy = cpu >= max(SHOW_SHARE * wall_s, SHOW_MIN_S)
            show = w.role == "started" or (busy and w.role != "helper")
        (shown if show_all or show else hidden).append(w)
    ours = sum(w.cpu_s or 0.0 for w in workers) + (sampler_cpu or 0.0)
    return WatchResult(
        workers=tuple(shown),
        hidden=tuple(hidden),
        others_busy=_others_busy(notes, ours, wall_s),
        wall_s=wall_s,
        resolution=resolution,
        sample_interval_s=interval,
        cores=usable_cores(),
        note=note,
        raised=raised,
        sampler_cpu_s=sampler_cpu,
    )


def _others_busy(notes: Notes, ours_cpu_s: float, wall_s: float) -> float | None:
    """Cores other programs kept busy on average during the watch (``None`` if unknown)."""
    a, b = notes.machine_enter, notes.machine_exit
    if a is None or b is None or b[1] <= a[1] or wall_s <= 0:
        return None
    machine = (b[0] - a[0]) / (b[1] - a[1]) * b[2]
    return max(0.0, machine - ours_cpu_s / wall_s)


def _root_threads(
    notes: Notes,
    tasks: dict[tuple[int, int], Any],
    times_s: list[float],
    root: int,
    by_tid: dict[int, ThreadNote],
    seen_tids: set[int],
    s: Callable[[int], float],
) -> list[WatchedWorker]:
    out = []
    for (pid, tid), (first, last, ended, changes) in tasks.items():
        if pid != root:
            continue
        note = by_tid.get(tid)
        existed = first == 0 and note is None
        counts, runs = _dense(first, changes, first, last)
        values = smooth_ticks(counts, runs, times_s[first : last + 1])
        baseline = values[0] if existed else 0.0
        born = None
        if note is not None:
            born = s(note.begin_ns or note.called_ns)
        elif first > 0:
            born = times_s[first - 1]
        sample_s, cpu_seen = _series(times_s, values, first, baseline, born)
        if note is not None:
            seen_tids.add(tid)
            name = note.name
            role = "helper" if note.helper else "started"
            start = born if born is not None else sample_s[0]
            end = s(note.end_ns) if note.end_ns is not None else None
            cpu = note.cpu_ns / 1e9 if note.cpu_ns is not None else cpu_seen[-1]
        else:
            name = notes.names.get(tid, f"thread {tid}")
            role = "main" if tid == root else "earlier" if existed else "native"
            if not existed:
                name = f"thread {tid} (not a threading.Thread)"
            start = 0.0 if existed else sample_s[0]
            end = times_s[last] if ended else None
            cpu = cpu_seen[-1]
        if end is None and ended:
            end = times_s[last]
        out.append(
            WatchedWorker(
                name=name,
                kind="thread",
                pid=pid,
                tid=tid,
                start_s=start,
                end_s=end,
                cpu_s=cpu,
                parent=notes.process_name,
                role=role,  # type: ignore[arg-type]
                sample_s=sample_s,
                cpu_seen_s=cpu_seen,
            )
        )
    return out


def _is_infrastructure(cmdline: bytes) -> bool:
    return b"multiprocessing.forkserver" in cmdline or b"multiprocessing.resource_tracker" in (
        cmdline
    )


def _processes(
    notes: Notes,
    tasks: dict[tuple[int, int], Any],
    procs: dict[int, tuple[Any, ...]],
    times_s: list[float],
    root: int,
    s: Callable[[int], float],
    *,
    totals: bool = False,
) -> list[WatchedWorker]:
    hooked = {n.pid: n for n in notes.processes if n.pid is not None}
    last_k = len(times_s) - 1
    by_pid: dict[int, list[tuple[int, Any]]] = {}
    for (pid, tid), row in tasks.items():
        by_pid.setdefault(pid, []).append((tid, row))
    names: dict[int, str] = {root: notes.process_name}
    helper: dict[int, bool] = {root: False}
    out = []
    for pid in sorted(procs, key=lambda p: (procs[p][3], p)):  # in order of discovery
        if pid == root:
            continue
        _, parent, _ptid, first, existed, ended, cmdline, comm = procs[pid]
        parent_name = names.get(parent, f"pid {parent}")
        note = hooked.get(pid)
        is_helper = note is None and _is_infrastructure(cmdline) and not helper.get(parent, False)
        helper[pid] = is_helper
        if note is not None:
            name = note.name
            parent_name = note.parent
        elif is_helper:
            kind = "forkserver" if b"forkserver" in cmdline else "resource tracker"
            name = f"{kind} (pid {pid})"
        else:
            label = comm.decode(errors="replace")
            prefix = "" if label.startswith("python") or not label else f"{label}, "
            name = f"{prefix}pid {pid} (child of {parent_name})"
        names[pid] = name
        rows = by_pid.get(pid, [])
        end_k = ended if ended >= 0 else last_k
        if rows:
            values = [0.0] * (end_k - first + 1)
            for _tid, (tfirst, _tlast, _ended, changes) in rows:
                dense, runs = _dense(tfirst, changes, first, end_k)
                smooth = smooth_ticks(dense, runs, times_s[first : end_k + 1])
                values = [a + b for a, b in zip(values, smooth)]
        else:
            values = [0.0]
        baseline = values[0] if existed else 0
        born = s(note.called_ns) if note is not None else None
        if born is None and not existed and first > 0:
            born = times_s[first - 1]
        sample_s, cpu_seen = _series(times_s, values, first, baseline, born)
        start = 0.0 if existed else (born if born is not None else times_s[first])
        role = "helper" if is_helper else "earlier" if existed and note is None else "started"
        out.append(
            WatchedWorker(
                name=name,
                kind="process",
                pid=pid,
                tid=None,
                start_s=start,
                end_s=times_s[ended] if ended >= 0 else None,
                cpu_s=cpu_seen[-1] if cpu_seen else 0.0,
                parent=parent_name,
                role=role,  # type: ignore[arg-type]
                sample_s=() if totals else sample_s,
                cpu_seen_s=() if totals else cpu_seen,
            )
        )
    return out
