"""What a watch saw: its lanes (:class:`WatchedWorker`), the whole result (:class:`WatchResult`),
and the sentences and series computed from them. Standard library only.

Part of :mod:`concurrency_lab.core.watch` (``cl.watch()``), which re-exports the public names.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .load import BUSY_CORES, MIN_WALL_S
from .results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MAIN_MIN_S",
    "MAX_BINS",
    "SHOW_MIN_S",
    "SHOW_SHARE",
    "Kind",
    "Resolution",
    "Role",
    "WatchResult",
    "WatchedWorker",
    "cores_busy",
    "default_edges",
    "parallel_share",
    "rates",
    "summarize",
]

Kind = Literal["thread", "process"]
Role = Literal["started", "main", "earlier", "helper", "native"]
Resolution = Literal["samples", "totals"]

#: The main thread (where the cell's own code runs) is a lane when it was on a CPU for at
#: least this many seconds, or (when the code started nothing) for half the watched time:
#: starting and joining workers costs it a few ms, which alone should not make it a lane.
MAIN_MIN_S = 0.02
#: Threads and processes that existed before the watch (from earlier cells), and threads
#: not started through ``threading``, are lanes only if they were on a CPU for this share
#: of the watched time ...
SHOW_SHARE = 0.1
#: ... and for at least this many seconds.
SHOW_MIN_S = 0.01
#: Most bins drawn or summed across a watch.
MAX_BINS = 2_000


# --------------------------------------------------------------------------- one lane


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

    Introduced in ``02-the-gil.ipynb``.
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
        shares = rates(self.sample_s, self.cpu_seen_s, edges)
        return [min(r, 1.0) for r in shares] if self.kind == "thread" else shares


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


def rates(times: tuple[float, ...], cum: tuple[float, ...], edges: list[float]) -> list[float]:
    """Average rate of a cumulative series in each bin between ``edges`` (0 where unsampled)."""
    if len(times) < 2 or len(edges) < 2:
        return [0.0] * max(len(edges) - 1, 0)
    at = [_cpu_at(times, cum, e) for e in edges]
    return [
        (at[i + 1] - at[i]) / (edges[i + 1] - edges[i]) if edges[i + 1] > edges[i] else 0.0
        for i in range(len(edges) - 1)
    ]


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, repr=False)
class WatchResult(Result):
    """What a watch saw. Built by :class:`Watch` when its ``with`` block ends.

    Attributes:
        workers: the lanes: the main thread first if it did real work (``MAIN_MIN_S``), then
            every thread and process the code started, in the order they started, and
            whatever existed before the watch and kept a CPU busy (``SHOW_SHARE``).
        hidden: what was seen but left out of the picture (an idle main thread, the standard
            library's helper threads and processes, idle threads from earlier cells).
        wall_s: seconds from the start of the ``with`` block to its end.
        resolution: ``"samples"`` (when each worker ran, sampled from outside the GIL) or
            ``"totals"`` (only how much CPU each used in all).
        sample_interval_s: the median time between two samples, or ``None`` for totals.
        cores: how many cores this process could use (``usable_cores()``).
        note: why the data is limited, in words ("" when nothing is missing).
        raised: ``"ZeroDivisionError: division by zero"`` if the block ended with an
            exception, else ``None``.
        sampler_cpu_s: CPU seconds the sampler process itself used (its cost).
        others_busy: how many cores *other* programs kept busy on average meanwhile (the
            machine's busy time from :func:`concurrency_lab.core.load.machine_ticks`, in 10 ms
            ticks, minus this watch's own CPU); ``None`` where unknown. A busy machine
            explains workers that could not run side by side.

    ``summary()`` gives one to three sentences computed from these numbers, ``plot()`` the
    picture, ``cores_busy()`` the series the picture's top panel draws.

    Introduced in ``02-the-gil.ipynb``.
    """

    workers: tuple[WatchedWorker, ...]
    hidden: tuple[WatchedWorker, ...]
    wall_s: float
    resolution: Resolution
    sample_interval_s: float | None
    cores: int
    note: str = ""
    raised: str | None = None
    sampler_cpu_s: float | None = None
    others_busy: float | None = None

    @property
    def cpu_s(self) -> float:
        """CPU seconds used by the workers shown (unknown totals count as 0)."""
        return sum(w.cpu_s or 0.0 for w in self.workers)

    def cores_busy(self, edges: list[float] | None = None) -> tuple[list[float], list[float]]:
        """How many cores the shown workers kept busy, per time bin.

        Args:
            edges: bin edges in seconds since the watch began; default: one bin per sample
                interval (at most 2,000 bins) from 0 to ``wall_s``.

        Returns:
            ``(edges, busy)`` with ``len(busy) == len(edges) - 1``; ``busy`` is empty for
            totals-only results.
        """
        return cores_busy(self, edges)

    def summary(self) -> str:
        """One or two sentences computed from the data."""
        return summarize(self)

    def plot(self, ax: Axes | None = None) -> Figure:
        """Draw the timeline: see :func:`concurrency_lab.view.watch_plot.plot_watch`."""
        from ..view.watch_plot import plot_watch

        return plot_watch(self, ax=ax)


# --------------------------------------------------------------------------- reading it


def default_edges(result: Any) -> list[float]:
    """One bin per sample interval from 0 to the wall time (at most 2,000 bins)."""
    wall = max(result.wall_s, 1e-6)
    step = result.sample_interval_s or wall / 100
    n = max(1, min(MAX_BINS, round(wall / max(step, 1e-6))))
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
        edges = default_edges(result)
        share = parallel_share(result, edges)
        if share is not None:
            ms = (edges[1] - edges[0]) * 1e3
            sentences.append(
                f"Two or more were on a CPU at once in {share:.0%} of the {ms:.2g} ms steps "
                "in which any was."
            )
    if result.raised:
        sentences.append(f"The block stopped with {result.raised}.")
    helpers = [w for w in result.hidden if w.role == "helper" and (w.cpu_s or 0.0) > 0.0]
    helper_cpu = sum(w.cpu_s or 0.0 for w in helpers)
    if helpers and helper_cpu >= SHOW_SHARE / 2 * wall:
        names = ", ".join(sorted({w.name.split(" (")[0] for w in helpers}))
        sentences.append(
            f"Not shown: the standard library's helpers ({names}), which used "
            f"{helper_cpu:.2f} s of CPU."
        )
    others = result.others_busy
    # The course's load meter's thresholds: worth saying, over a stretch long enough to tell.
    if others is not None and others >= BUSY_CORES and wall >= MIN_WALL_S:
        sentences.append(
            f"Meanwhile other programs kept about {others:.1f} cores of this machine busy."
        )
    if result.note:
        sentences.append(result.note[0].upper() + result.note[1:] + ".")
    return " ".join(sentences)
