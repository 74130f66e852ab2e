"""Lost updates, measured: threads add 1 to one shared counter, run after run.

* :func:`lost_updates` runs threads that increment one shared counter and counts how many
  increments vanished in each run, for the plain line, the line through a property, and the
  line under a lock; it also counts how often a thread switch split a read from its write.
* :func:`why_rare` puts those numbers next to the count of schedules that lose an update,
  to explain why a race that most schedules lose shows up so rarely in real runs.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..core import runners
from ..core.machine import gil_enabled
from ..core.results import Result
from ..core.validate import check_choice, check_number, check_timeout, check_whole
from .schedules import InterleavingsResult

__all__ = [
    "HOWS",
    "How",
    "LostUpdatesResult",
    "SharedCounter",
    "WhyRareResult",
    "add_plain",
    "add_through_property",
    "add_with_lock",
    "lost_updates",
    "why_rare",
]

How = Literal["plain", "property", "locked"]
#: The ways :func:`lost_updates` can increment, in the order the lesson shows them.
HOWS: tuple[How, ...] = ("plain", "property", "locked")

_BARRIER_S = 5.0  # the longest a worker waits for the others to start


class SharedCounter:
    """A counter that threads share; ``value`` is read and written through a property.

    ``counter.value += 1`` is a read (the getter), an add, and a write (the setter). The
    getter and the setter are small Python functions, and with the GIL CPython can switch
    threads as a Python function starts: so a switch can fall after the read and the add,
    just before the write. ``counter.plain += 1`` is the same read-add-write on a plain
    attribute, where (on Python 3.10+ with the GIL) no such switch point falls in between.

    The setter also counts ``splits``: writes of a value no larger than the one already
    there. That happens exactly when another thread wrote between this thread's read and
    its write, so ``splits`` counts the read-add-writes a switch split. (With the GIL the
    setter's body runs without a switch; on a free-threaded build the count is only close.)

    ``lock`` is a :class:`threading.Lock` for the fixed version.

    >>> c = SharedCounter()
    >>> c.value += 1
    >>> c.value, c.splits
    (1, 0)

    Introduced in ``04-races-and-locks.ipynb``.
    """

    def __init__(self, value: int = 0) -> None:
        self._value = value
        self.plain = value  # a plain attribute, for the "plain" line
        self.lock = threading.Lock()
        self.splits = 0

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        if new <= self._value:  # an old count written back: another thread wrote in between
            self.splits += 1
        self._value = new

    def __repr__(self) -> str:
        return f"SharedCounter(value={self._value})"


def add_plain(counter: SharedCounter, n: int, start: threading.Barrier) -> None:
    """Add 1 to ``counter.plain``, ``n`` times (a plain attribute: the race hardly shows)."""
    start.wait(timeout=_BARRIER_S)
    for _ in range(n):
        counter.plain += 1


def add_through_property(counter: SharedCounter, n: int, start: threading.Barrier) -> None:
    """Add 1 to ``counter.value``, ``n`` times: the same race, through a property."""
    start.wait(timeout=_BARRIER_S)
    for _ in range(n):
        counter.value += 1


def add_with_lock(counter: SharedCounter, n: int, start: threading.Barrier) -> None:
    """Add 1 to ``counter.value``, ``n`` times, holding ``counter.lock`` for each: the fix."""
    start.wait(timeout=_BARRIER_S)
    for _ in range(n):
        with counter.lock:
            counter.value += 1


_WORKER = {"plain": add_plain, "property": add_through_property, "locked": add_with_lock}
_CODE = {
    "plain": "counter.plain += 1",
    "property": "counter.value += 1",
    "locked": "with lock: counter.value += 1",
}


@dataclass(frozen=True)
class LostUpdatesResult(Result):
    """How many increments vanished in each of several runs of the same threads.

    Attributes:
        how: ``"plain"``, ``"property"`` or ``"locked"``.
        code: the line each thread ran in its loop.
        n_workers: threads per run.
        n_increments: increments each thread made per run.
        finals: the counter's final value in each run.
        splits: per run, the read-add-writes a thread switch split (``None`` for the plain
            attribute, which cannot count them).
        elapsed_s: wall-clock seconds for all runs.
        python: the interpreter version, e.g. ``"3.11"``.
        switch_interval_s: ``sys.getswitchinterval()`` during the runs.
        gil: whether the GIL was on.
    """

    how: How
    code: str
    n_workers: int
    n_increments: int
    finals: tuple[int, ...]
    splits: tuple[int, ...] | None
    elapsed_s: float
    python: str
    switch_interval_s: float
    gil: bool = True

    @property
    def expected(self) -> int:
        """What the counter would read after one run if no update were lost."""
        return self.n_workers * self.n_increments

    @property
    def n_updates(self) -> int:
        """Increments made in all runs together."""
        return self.expected * len(self.finals)

    @property
    def lost(self) -> tuple[int, ...]:
        """Lost updates in each run."""
        return tuple(self.expected - f for f in self.finals)

    @property
    def total_lost(self) -> int:
        return sum(self.lost)

    @property
    def total_splits(self) -> int | None:
        return None if self.splits is None else sum(self.splits)

    @property
    def runs_with_loss(self) -> int:
        return sum(1 for x in self.lost if x > 0)

    @property
    def lost_fraction(self) -> float:
        """Lost updates as a fraction of all increments, over all runs."""
        return self.total_lost / self.n_updates

    def summary(self) -> str:
        runs = len(self.finals)
        head = (
            f"{self.code}: {self.n_workers} threads x {self.n_increments:,} increments, "
            f"{runs} {'run' if runs == 1 else 'runs'} at a "
            f"{self.switch_interval_s * 1e3:g} ms switch interval: "
        )
        if max(self.finals) > self.expected:  # no interleaving can give this
            return head + (
                f"a run counted {max(self.finals):,}, more than the {self.expected:,} the "
                f"threads added, which no order of their steps can give: do not trust it."
            )
        if self.total_lost == 0:
            text = head + ("no run lost an update" if runs > 1 else "no update was lost")
        else:
            text = head + (
                f"{self.runs_with_loss} of {runs} runs lost updates, {self.total_lost:,} of "
                f"{self.n_updates:,} in all ({self.lost_fraction:.1%})"
            )
        splits = self.total_splits
        if splits:
            text += f"; a thread switch split {splits:,} read-add-writes"
        return text + "."


def lost_updates(
    *,
    how: How = "property",
    n_workers: int = 2,
    n_increments: int = 100_000,
    n_runs: int = 5,
    switch_interval_s: float | None = 1e-4,
    timeout_s: float = 30.0,
) -> LostUpdatesResult:
    """Let threads increment one shared counter, several times over, and count the lost updates.

    Each run starts ``n_workers`` threads (with :func:`concurrency_lab.start_join`); they wait
    at a barrier so they really run together, then each adds one to a fresh
    :class:`SharedCounter` ``n_increments`` times (:func:`add_plain`,
    :func:`add_through_property` or :func:`add_with_lock`: ``cl.show_source`` shows them).

    With the GIL, CPython lets a thread run for a *switch interval* (5 ms by default, see
    ``sys.getswitchinterval()``) before it asks it to hand over. A run of a few tens of
    milliseconds would see only a handful of switches, so during the runs the switch
    interval is lowered to ``switch_interval_s`` (and restored afterwards, also on errors):
    the same race, more chances to show.

    >>> r = lost_updates(how="locked", n_increments=1_000, n_runs=2)
    >>> r.finals, r.total_lost
    ((2000, 2000), 0)

    Args:
        how: ``"plain"`` (``counter.plain += 1``), ``"property"`` (``counter.value += 1``
            through a property: the same race, made visible) or ``"locked"`` (the fix).
        n_workers: threads per run (2 to 16).
        n_increments: increments per thread per run.
        n_runs: how many times to repeat.
        switch_interval_s: the switch interval in seconds during the runs (``None``: leave
            the interpreter's own).
        timeout_s: give up on a run after this long.

    Returns:
        A :class:`LostUpdatesResult`.

    Raises:
        ValueError, TypeError: an unknown ``how``, a count out of range, or a switch interval
            that is not a number of seconds > 0.
    """
    how = check_choice(how, "how", HOWS)  # type: ignore[assignment]
    n_workers = check_whole(n_workers, "n_workers", low=1, high=16)
    n_increments = check_whole(n_increments, "n_increments", low=1, high=10_000_000)
    n_runs = check_whole(n_runs, "n_runs", low=1, high=100)
    if switch_interval_s is not None:
        check_number(switch_interval_s, "switch_interval_s", low=0, low_open=True, unit=" seconds")
    timeout_s = check_timeout(timeout_s)
    worker = _WORKER[how]
    finals: list[int] = []
    splits: list[int] = []
    old_interval = sys.getswitchinterval()
    start = time.perf_counter()
    try:
        if switch_interval_s is not None:
            sys.setswitchinterval(switch_interval_s)
        used_interval = sys.getswitchinterval()
        for _ in range(n_runs):
            counter = SharedCounter()
            runners.start_join(
                worker,
                n_workers,
                kind="thread",
                args=(counter, n_increments, threading.Barrier(n_workers)),
                timeout_s=timeout_s,
            )
            finals.append(counter.plain if how == "plain" else counter.value)
            splits.append(counter.splits)
    finally:
        sys.setswitchinterval(old_interval)
    return LostUpdatesResult(
        how=how,
        code=_CODE[how],
        n_workers=n_workers,
        n_increments=n_increments,
        finals=tuple(finals),
        splits=None if how == "plain" else tuple(splits),
        elapsed_s=time.perf_counter() - start,
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        switch_interval_s=used_interval,
        gil=gil_enabled(),
    )


# --------------------------------------------------------------------------- why rare?


@dataclass(frozen=True)
class WhyRareResult(Result):
    """Schedules that lose an update, next to how often real runs split a read from its write.

    Attributes:
        schedules: every schedule of the tiny program (usually two single increments).
        racing: the measured runs through the property (they count their splits).
        plain: the measured runs on a plain attribute, if given.
    """

    schedules: InterleavingsResult
    racing: LostUpdatesResult
    plain: LostUpdatesResult | None = None

    def summary(self) -> str:
        s, r = self.schedules, self.racing
        splits = r.total_splits or 0
        share = s.n_wrong / s.n_schedules if s.n_schedules else 0.0
        title = f"the {s.program.title!r} program" if s.program.title else "the program"
        text = (
            f"Of the {s.n_schedules:,} possible schedules of {title}, {s.n_wrong:,} "
            f"({share:.0%}) go wrong. Yet in your {len(r.finals)} runs of {r.code} "
            f"({r.n_updates:,} read-add-writes), "
        )
        if splits == 0:
            text += (
                "not one read-add-write was split by a thread switch. Rare is not never: run "
                "it again, or on a busier or a free-threaded Python."
            )
        else:
            how = (
                "with the GIL one thread runs at a time and hands over at most once a switch "
                f"interval ({r.switch_interval_s * 1e3:g} ms here), and only at a few points "
                "in the code, so almost every read-add-write runs whole"
                if r.gil
                else "even with threads running at the same time, the window between a read "
                "and its write is tiny"
            )
            split = (
                "a thread switch split a read from its write"
                if r.gil
                else "another thread's write fell between a read and its write"
            )
            text += (
                f"{split} only {splits:,} times "
                f"(1 in {r.n_updates // splits:,}): {how}. Each split still wrote back an old "
                f"count and erased what the other thread did meanwhile: {r.total_lost:,} "
                f"updates ({r.lost_fraction:.0%}) in all."
            )
        p = self.plain
        if p is not None:
            if p.total_lost:
                text += (
                    f" {p.code} lost {p.total_lost:,} updates too: on this interpreter another "
                    f"thread can write between its read and its write."
                )
            elif p.gil and sys.version_info >= (3, 10):
                text += (
                    f" {p.code} lost none: on this interpreter no thread switch can fall "
                    f"between its read and its write, but the race is still in the code (a "
                    f"free-threaded Python loses updates there too)."
                )
            else:
                text += f" {p.code} lost none in these runs."
        return text


def why_rare(
    schedules: InterleavingsResult, runs: LostUpdatesResult | Sequence[LostUpdatesResult]
) -> WhyRareResult:
    """Why a race that most schedules lose shows so rarely: schedules are not equally likely.

    Args:
        schedules: ``cl.races.interleavings("lost update")`` (or any program's).
        runs: results of :func:`lost_updates`; the one with ``how="property"`` is the racing
            one, ``how="plain"`` is added if present.

    Returns:
        A :class:`WhyRareResult` whose summary puts the two side by side.

    Raises:
        TypeError: ``schedules`` is not an interleavings result, or no run is
            ``how="property"``.
    """
    if not isinstance(schedules, InterleavingsResult):
        raise TypeError(
            f"'schedules' must be the result of cl.races.interleavings(...) (got {schedules!r})."
        )
    items = [runs] if isinstance(runs, LostUpdatesResult) else list(runs)
    by_how = {r.how: r for r in items if isinstance(r, LostUpdatesResult)}
    if "property" not in by_how:
        raise TypeError(
            "'runs' must include a result of cl.races.lost_updates(how='property'): its "
            "splits are what this compares with the schedules."
        )
    return WhyRareResult(schedules, by_how["property"], by_how.get("plain"))
