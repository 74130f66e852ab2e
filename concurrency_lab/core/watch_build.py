"""Turn what the watcher noted and sampled into lanes (:class:`WatchedWorker`) and sentences.

:mod:`concurrency_lab.core.watch` collects two kinds of evidence while the ``with`` block
runs: *notes* from its hooks (a thread's name, native id, first and last moment, CPU total
from ``time.thread_time()``; a process's name and pid) and the sampler's *samples* (each
thread's cumulative on-CPU nanoseconds, read every millisecond from outside the GIL). This
module matches them up. Standard library only.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
from array import array
from dataclasses import dataclass, field
from typing import Any, Literal

from .machine import usable_cores
from .results import Result

__all__ = [
    "MAX_POINTS",
    "Notes",
    "ProcessNote",
    "ThreadNote",
    "WatchedWorker",
    "build_result",
    "cores_busy",
    "smooth_ticks",
    "summarize",
]

Kind = Literal["thread", "process"]
Role = Literal["started", "main", "earlier", "helper", "native"]

#: Longest series kept per worker: longer watches keep every n-th sample (the series is
#: cumulative, so a coarser copy is still exact at the points it keeps).
MAX_POINTS = 20_000
# Anything the code did not start itself is shown when it was on a CPU for at least this
# share of the watched time and at least _SHOW_MIN_S (starting threads costs the main thread
# a few ms: that alone should not make it a lane). The same numbers as watch.SHOW_SHARE and
# watch.SHOW_MIN_S; kept here so that this module imports nothing from watch.
_SHOW_SHARE = 0.1
_SHOW_MIN_S = 0.01
_MAX_BINS = 2_000
# Say that other programs were busy when they used at least this many cores on average,
# over a watch long enough for /proc/stat's 10 ms ticks to mean something.
_OTHERS_WORTH_SAYING = 0.25
_OTHERS_MIN_WALL_S = 0.2


# --------------------------------------------------------------------------- notes


@dataclass
class ThreadNote:
    """What the ``Thread.start`` hook learned about one thread (mutable while it runs)."""

    name: str
    called_ns: int
    helper: bool = False
    tid: int | None = None
    begin_ns: int | None = None
    end_ns: int | None = None
    cpu_ns: int | None = None


@dataclass
class ProcessNote:
    """What the ``Process.start`` hook learned about one process."""

    name: str
    called_ns: int
    parent: str
    pid: int | None = None


@dataclass
class Notes:
    """Everything one watch noted in the watched process."""

    threads: list[ThreadNote] = field(default_factory=list)
    processes: list[ProcessNote] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    entered_tid: int = 0
    entered_name: str = "MainThread"
    process_name: str = "MainProcess"
    mode: str = "none"
    problem: str = ""
    t0_ns: int = 0
    t1_ns: int = 0
    cpu_enter_ns: int = 0
    cpu_exit_ns: int = 0
    machine_enter: tuple[int, int, int] | None = None
    machine_exit: tuple[int, int, int] | None = None


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True, repr=False)
class WatchedWorker(Result):
    """One lane of a watch: a thread or a process, its lifetime and its CPU use.

    Attributes:
        name: the thread's or process's name (``"Thread-1 (countdown)"``, ``"worker-1"``,
            ``"ForkPoolWorker-2"``); a generated label such as ``"pid 1234 (child of
            worker-1)"`` for processes the watched process could not name.
        kind: ``"thread"`` (a thread of the watched process) or ``"process"`` (a child
            process, or a grandchild; all its threads together).
        pid: the process id it belongs to.
        tid: the native thread id (``threading.get_native_id()``) for threads, else ``None``.
        start_s: when it began, in seconds since the watch began (0.0 if it existed before).
        end_s: when it ended, or ``None`` if it was still alive when the watch ended.
        cpu_s: CPU seconds it used during the watch (``None`` if this platform cannot say).
        parent: the name of the process that started it.
        role: ``"started"`` by the watched code; ``"main"`` thread; ``"earlier"`` (existed
            before the watch); ``"helper"`` (the standard library's bookkeeping);
            ``"native"`` (a thread not started through ``threading``).
        sample_s: times of the CPU samples, in seconds since the watch began.
        cpu_seen_s: CPU seconds used by then (cumulative, same length as ``sample_s``).
    """

    name: str
    kind: Kind
    pid: int
    tid: int | None
    start_s: float
    end_s: float | None
    cpu_s: float | None
    parent: str
    role: Role = "started"
    sample_s: tuple[float, ...] = field(default=(), compare=False)
    cpu_seen_s: tuple[float, ...] = field(default=(), compare=False)

    def summary(self) -> str:
        """One sentence: what it was, when it lived, how much CPU it used."""
        end = "still running at the end" if self.end_s is None else f"to {self.end_s:.3f} s"
        cpu = "unknown CPU time" if self.cpu_s is None else f"{self.cpu_s:.3f} s of CPU"
        return f"{self.name} ({self.kind}) ran from {self.start_s:.3f} s {end} and used {cpu}."

    def on_cpu(self, edges: list[float]) -> list[float]:
        """The share of each time bin this worker spent on a CPU (0.0–1.0 per core).

        Args:
            edges: increasing bin edges, in seconds since the watch began.

        Returns:
            One share per bin (``len(edges) - 1``); zeros where nothing was sampled. A
            process with several busy threads can exceed 1.0; a thread's share is capped at
            1.0 (a reading taken a little late can otherwise push one bin just above it).
        """
        rates = _rates(self.sample_s, self.cpu_seen_s, edges)
        return [min(r, 1.0) for r in rates] if self.kind == "thread" else rates


def _cpu_at(times: tuple[float, ...], cum: tuple[float, ...], t: float) -> float:
    """Cumulative CPU at time ``t``, linear between samples, flat outside them."""
    i = bisect.bisect_right(times, t)
    if i == 0:
        return cum[0]
    if i >= len(times):
        return cum[-1]
    t0, t1 = times[i - 1], times[i]
    c0, c1 = cum[i - 1], cum[i]
    return c0 if t1 == t0 else c0 + (c1 - c0) * (t - t0) / (t1 - t0)


def _rates(times: tuple[float, ...], cum: tuple[float, ...], edges: list[float]) -> list[float]:
    if len(times) < 2 or len(edges) < 2:
        return [0.0] * max(len(edges) - 1, 0)
    at = [_cpu_at(times, cum, e) for e in edges]
    return [
        (at[i + 1] - at[i]) / (edges[i + 1] - edges[i]) if edges[i + 1] > edges[i] else 0.0
        for i in range(len(edges) - 1)
    ]


# --------------------------------------------------------------------------- building


def _decode(payload: dict[str, Any]) -> tuple[list[int], dict[tuple[int, int], Any]]:
    times = array("q")
    times.frombytes(payload["times"])
    tasks = {}
    for pid, tid, first, last, ended, changes_bytes in payload["tasks"]:
        changes = array("q")
        changes.frombytes(changes_bytes)
        tasks[(pid, tid)] = (first, last, ended, changes)
    return list(times), tasks


def _dense(first: int, changes: array, lo: int, hi: int) -> tuple[list[int], list[int]]:
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
    shows ``0, 0, 0, 4 ms``: flat, then a jump. The switch-in count tells the two cases
    apart: if the thread was not switched onto a CPU again since the last update, it was on
    the CPU all along, so the jump is spread evenly back to that update; if it was switched
    in since, only back to the poll before that switch-in. Exact at every update; between
    updates, as even as the evidence allows.

    >>> smooth_ticks([0, 0, 0, 0, 4], [1, 1, 1, 1, 1], [0.0, 1.0, 2.0, 3.0, 4.0])
    [0.0, 1.0, 2.0, 3.0, 4.0]
    >>> smooth_ticks([0, 0, 0, 0, 2], [1, 1, 1, 2, 2], [0.0, 1.0, 2.0, 3.0, 4.0])
    [0.0, 0.0, 0.0, 0.0, 2.0]

    Args:
        values: cumulative ns on CPU at each poll.
        runs: cumulative switch-in count at each poll (all zero if the kernel does not count
            them: then the staircase is kept).
        times: the polls' times.

    Returns:
        The cumulative values, smoothed, as floats.
    """
    out = [float(v) for v in values]
    if not any(runs):
        return out
    changed = switched = 0
    for k in range(1, len(values)):
        if runs[k] != runs[k - 1]:
            switched = k
        if values[k] != values[k - 1]:
            since = max(changed, switched - 1)
            span = times[k] - times[since]
            if k - since > 1 and span > 0:
                v0, dv = values[since], values[k] - values[since]
                for j in range(since + 1, k):
                    out[j] = v0 + dv * (times[j] - times[since]) / span
            changed = k
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
    result_type: type,
) -> Any:
    """Match notes and samples into a ``result_type`` (the watch's ``WatchResult``)."""
    t0 = notes.t0_ns
    wall_s = (notes.t1_ns - t0) / 1e9

    def s(ns: int) -> float:
        return (ns - t0) / 1e9

    workers: list[WatchedWorker] = []
    by_tid = {n.tid: n for n in notes.threads if n.tid is not None}
    seen_tids: set[int] = set()
    resolution = "totals"
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
    shown, hidden = [], []
    for w in sorted(workers, key=lambda w: (w.role != "main", w.start_s, w.name)):
        busy = (w.cpu_s or 0.0) >= max(_SHOW_SHARE * wall_s, _SHOW_MIN_S)
        show = w.role == "started" or (busy and w.role != "helper")
        (shown if show_all or show else hidden).append(w)
    ours = sum(w.cpu_s or 0.0 for w in workers) + (sampler_cpu or 0.0)
    return result_type(
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
    by_tid: dict[int | None, ThreadNote],
    seen_tids: set[int],
    s: Any,
) -> list[WatchedWorker]:
    out = []
    for (pid, tid), (first, last, ended, changes) in tasks.items():
        if pid != root:
            continue
        note = by_tid.get(tid)
        existed = first == 0 and note is None
        values, runs = _dense(first, changes, first, last)
        values = smooth_ticks(values, runs, times_s[first : last + 1])
        baseline = values[0] if existed else 0
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
    s: Any,
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


# --------------------------------------------------------------------------- reading the result


def default_edges(result: Any) -> list[float]:
    """One bin per sample interval from 0 to the wall time (at most 2,000 bins)."""
    wall = max(result.wall_s, 1e-6)
    step = result.sample_interval_s or wall / 100
    n = max(1, min(_MAX_BINS, round(wall / max(step, 1e-6))))
    return [wall * i / n for i in range(n + 1)]


def cores_busy(result: Any, edges: list[float] | None = None) -> tuple[list[float], list[float]]:
    """Sum of the shown workers' on-CPU shares per bin (see ``WatchResult.cores_busy``)."""
    edges = list(edges) if edges is not None else default_edges(result)
    if result.resolution != "samples":
        return edges, []
    busy = [0.0] * (len(edges) - 1)
    for w in result.workers:
        for i, r in enumerate(w.on_cpu(edges)):
            busy[i] += r
    return edges, busy


def parallel_share(result: Any, edges: list[float] | None = None) -> float | None:
    """Of the bins in which any shown worker ran most of the bin, the share with two or more.

    ``None`` when fewer than two workers have samples, or nothing ran.
    """
    sampled = [w for w in result.workers if len(w.sample_s) >= 2]
    if result.resolution != "samples" or len(sampled) < 2:
        return None
    edges = list(edges) if edges is not None else default_edges(result)
    shares = [w.on_cpu(edges) for w in sampled]
    any_ran = both = 0
    for i in range(len(edges) - 1):
        running = sum(1 for sh in shares if sh[i] > 0.5)
        any_ran += running >= 1
        both += running >= 2
    return both / any_ran if any_ran else None


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s" if not word.endswith("s") else "es")


def summarize(result: Any) -> str:
    """The sentence(s) for ``WatchResult.summary()``, computed from its numbers."""
    threads = [w for w in result.workers if w.kind == "thread"]
    procs = [w for w in result.workers if w.kind == "process"]
    parts = [_count(len(x), k) for x, k in ((threads, "thread"), (procs, "process")) if x]
    wall = result.wall_s
    sentences = []
    if not parts:
        sentences.append(
            f"The code ran for {wall:.2f} s and started no threads or processes that used the CPU."
        )
    else:
        who = " and ".join(parts)
        unknown = [w for w in result.workers if w.cpu_s is None]
        cpu = sum(w.cpu_s or 0.0 for w in result.workers)
        if len(unknown) == len(result.workers):
            sentences.append(f"{who} ran within {wall:.2f} s; their CPU use is unknown here.")
        else:
            avg = cpu / wall if wall > 0 else 0.0
            known = "" if not unknown else f" (not counting {_count(len(unknown), 'worker')})"
            sentences.append(
                f"{who} used {cpu:.2f} s of CPU in {wall:.2f} s{known}: on average "
                f"{avg:.1f} of this machine's {result.cores} cores were busy."
            )
        share = parallel_share(result)
        if share is not None:
            ms = (result.sample_interval_s or 0) * 1e3
            sentences.append(
                f"Two or more were on a CPU at once in {share:.0%} of the {ms:.1g} ms samples "
                "in which any was."
            )
    helpers = [w for w in result.hidden if w.role == "helper" and (w.cpu_s or 0.0) > 0.0]
    helper_cpu = sum(w.cpu_s or 0.0 for w in helpers)
    if helpers and helper_cpu >= _SHOW_SHARE / 2 * wall:
        names = ", ".join(sorted({w.name.split(" (")[0] for w in helpers}))
        sentences.append(
            f"Not shown: the standard library's helpers ({names}), which used "
            f"{helper_cpu:.2f} s of CPU."
        )
    others = result.others_busy
    if others is not None and others >= _OTHERS_WORTH_SAYING and wall >= _OTHERS_MIN_WALL_S:
        sentences.append(
            f"Meanwhile other programs kept about {others:.1f} cores of this machine busy."
        )
    if result.raised:
        sentences.append(f"The block stopped with {result.raised}.")
    if result.note:
        sentences.append(result.note[0].upper() + result.note[1:] + ".")
    return " ".join(sentences)
