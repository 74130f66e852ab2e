"""What a scaling sweep found, in numbers and in words.

A :class:`ScalingResult` holds every point of a sweep (one :class:`ScalingPoint` per kind and
worker count, each with its repeats) and says in one verdict line what happened. The words are
chosen so that they are never confidently wrong:

* a configuration is "faster" only when even its lower repeats are clearly above 1x, "no gain"
  only when even its higher repeats are within 15 % of 1x, and otherwise "unclear";
* when a result contradicts what the machine makes possible (threads faster on pure-Python
  work with the GIL on, processes not faster on two free cores), the sentence says the timing
  was disturbed and asks for a rerun, with how busy other programs kept the cores;
* beyond the usable cores nothing can really get faster, so a "gain" there is called noise.

:class:`AmdahlFitResult` is the serial share Amdahl's law reads from the points within the
cores, with how far the repeats let it move.

Introduced in ``03-core-scaling.ipynb`` (and used in ``02-the-gil.ipynb``).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Literal

from ..core.load import Load
from ..core.results import Result
from .maths import Gain, describe_gain, fit_amdahl, gain, spread

__all__ = [
    "HOLDS_THE_GIL",
    "WAITS",
    "AmdahlFitResult",
    "ScalingPoint",
    "ScalingResult",
    "plural",
]

#: Workloads that hold the GIL all the time (threads cannot speed them up while it is on).
HOLDS_THE_GIL = frozenset({"cpu_bound", "spin", "countdown"})
#: Workloads that wait instead of computing (they gain even beyond the cores).
WAITS = frozenset({"io_wait", "io_bound", "sleep_then_return"})


def plural(word: str, n: int) -> str:
    """``plural("process", 2)`` -> ``'2 processes'``."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith("s") else f"{n} {word}s"


@dataclass(frozen=True)
class ScalingPoint(Result):
    """One configuration of a sweep: ``kind`` with ``n_workers``, timed ``repeats`` times.

    Attributes:
        kind: ``"thread"`` or ``"process"``.
        n_workers: how many workers shared the work.
        elapsed_s: seconds for the whole work, one per repeat (warm pool).
        baseline_s: the 1-worker time (all the work in one worker thread), timed in the
            same repeat just before or after.
        cold_s: the first run on a freshly created pool, start-up included (not part of
            the medians).
    """

    kind: str
    n_workers: int
    elapsed_s: tuple[float, ...]
    baseline_s: tuple[float, ...]
    cold_s: float

    @property
    def speedups(self) -> tuple[float, ...]:
        """Each repeat's speedup over the baseline timed in the same repeat."""
        return tuple(b / e for b, e in zip(self.baseline_s, self.elapsed_s))

    @property
    def speedup(self) -> float:
        """The median speedup over the repeats."""
        return median(self.speedups)

    @property
    def speedup_range(self) -> tuple[float, float]:
        """The lowest and highest speedup over the repeats (the whole spread)."""
        return min(self.speedups), max(self.speedups)

    @property
    def efficiency(self) -> float:
        """Median speedup per worker (1.0 = every worker fully used)."""
        return self.speedup / self.n_workers

    @property
    def gain(self) -> Gain:
        """``"faster"``, ``"no gain"`` or ``"unclear"`` (see :func:`~.maths.gain`)."""
        return gain(self.speedups)

    @property
    def noisy(self) -> bool:
        """True when the repeats disagree too much to say whether there was a gain."""
        return self.gain == "unclear"

    @property
    def median_s(self) -> float:
        """The median elapsed time over the repeats."""
        return median(self.elapsed_s)

    def describe(self) -> str:
        """E.g. ``'2 processes 1.86x'`` or ``'2 threads unclear (repeats 0.90x to 1.40x)'``."""
        return f"{plural(self.kind, self.n_workers)} {describe_gain(self.speedups)}"

    def summary(self) -> str:
        return f"{self.describe()}, efficiency {self.efficiency:.0%}."


@dataclass(frozen=True)
class AmdahlFitResult(Result):
    """The serial share Amdahl's law reads from a sweep's points within the usable cores.

    Attributes:
        built_in: the serial share the work really had (0 for a plain sweep).
        serial_fraction: the share the points imply (least squares; one point: Karp–Flatt).
        low, high: the share implied by the higher and the lower repeats (the spread).
        n_workers: the worker counts used (2 or more, at most the usable cores).
        speedups: their median speedups.
        usable_cores: the usable cores when it ran.
        against: what the speedups compare with: ``"1 process"`` when the sweep measured
            one worker of that kind (Amdahl's setting), else ``"the 1-worker time"``.
    """

    built_in: float
    serial_fraction: float
    low: float
    high: float
    n_workers: tuple[int, ...]
    speedups: tuple[float, ...]
    usable_cores: int
    against: str = "the 1-worker time"

    @property
    def outcome(self) -> Literal["close", "higher", "unclear"]:
        """How the implied share compares with the built-in one.

        ``"close"`` within 5 points; ``"higher"`` 5 to 10 points above (sending tasks and
        collecting results is serial work too); ``"unclear"`` when the repeats move the
        share by more than 15 points, or it is below the built-in share (impossible on a
        steady machine) or far above it.
        """
        diff = self.serial_fraction - self.built_in
        if self.high - self.low > 0.15 or diff < -0.05 or diff > 0.10:
            return "unclear"
        return "close" if diff <= 0.05 else "higher"

    @property
    def ceiling(self) -> float | None:
        """The most any number of workers could give with this serial share (``1/s``)."""
        return 1.0 / self.serial_fraction if self.serial_fraction > 0 else None

    def summary(self) -> str:
        s, lo, hi = self.serial_fraction, self.low, self.high
        if len(self.n_workers) == 1:
            n = self.n_workers[0]
            head = (
                f"Your {n}-worker point ({self.speedups[0]:.2f}x against {self.against}) "
                f"implies a serial share of {s:.0%}"
            )
        else:
            head = (
                f"Amdahl's law fitted to your {len(self.n_workers)} points from "
                f"{min(self.n_workers)} to {max(self.n_workers)} workers gives a serial share "
                f"of {s:.0%}"
            )
        head += f" (repeats: {lo:.0%} to {hi:.0%})"
        outcome = self.outcome
        if self.built_in == 0:
            if outcome == "unclear":
                return (
                    f"{head}, with no serial part built in: more than sending tasks and results "
                    f"costs, or too spread to read, so other programs took time; rerun."
                )
            return f"{head}, with no serial part built in: that is sending tasks and results."
        text = f"{head}; you built in {self.built_in:.0%}: "
        if outcome == "close":
            text += "close, so your point(s) follow Amdahl's law."
        elif outcome == "higher":
            text += "a little higher, since sending tasks and collecting results is serial too."
        else:
            text += (
                "too far from it, or too spread, to read: other programs or overheads took "
                "time (look at the error bars); rerun, or use more work."
            )
        ceiling = self.ceiling
        if outcome != "unclear" and ceiling is not None:
            text += f" With {s:.0%} serial work no number of workers could beat {ceiling:.1f}x."
        return text


@dataclass(frozen=True)
class ScalingResult(Result):
    """A strong-scaling sweep: the same total work split over each worker count.

    Attributes:
        workload: the name of the workload function.
        total_work: work units in total, the same at every point.
        serial_fraction: the share of the work really run serially before the
            parallel part (whole units, so it can differ a little from the share asked for).
        start_method: the process start method used (``None`` if only threads ran).
        usable_cores: :func:`~concurrency_lab.usable_cores` when it ran.
        repeats: timed repeats per point.
        points: one :class:`ScalingPoint` per (kind, n_workers), in the order measured.
        notes: warnings about the set-up, e.g. too little work to split evenly.
        load: how busy other programs kept the machine meanwhile (``None``: unknown).
        physical_cores: physical cores behind the usable logical CPUs, when they are fewer
            and known (SMT); ``None`` otherwise.
        gil: whether the GIL was on.
    """

    workload: str
    total_work: int
    serial_fraction: float
    start_method: str | None
    usable_cores: int
    repeats: int
    points: tuple[ScalingPoint, ...]
    notes: tuple[str, ...] = ()
    load: Load | None = None
    physical_cores: int | None = None
    gil: bool = True

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds measured, in order."""
        return tuple(dict.fromkeys(p.kind for p in self.points))

    @property
    def n_workers(self) -> tuple[int, ...]:
        """The worker counts measured, ascending."""
        return tuple(sorted({p.n_workers for p in self.points}))

    @property
    def serial_s(self) -> float:
        """The median 1-worker time (the baseline) over the whole sweep, in seconds."""
        return median(b for p in self.points for b in p.baseline_s)

    def point(self, kind: str, n_workers: int) -> ScalingPoint:
        """The point for ``kind`` with ``n_workers``.

        Raises:
            KeyError: that configuration was not measured.
        """
        for p in self.points:
            if p.kind == kind and p.n_workers == n_workers:
                return p
        raise KeyError(f"no point for kind={kind!r} with n_workers={n_workers} in this sweep")

    def curve(self, kind: str) -> list[ScalingPoint]:
        """The points of one kind, by worker count."""
        return sorted((p for p in self.points if p.kind == kind), key=lambda p: p.n_workers)

    def speedup(self, kind: str, n_workers: int) -> float:
        """The median speedup of ``kind`` with ``n_workers``."""
        return self.point(kind, n_workers).speedup

    def efficiency(self, kind: str, n_workers: int) -> float:
        """The median efficiency of ``kind`` with ``n_workers``."""
        return self.point(kind, n_workers).efficiency

    def best(self, kind: str) -> ScalingPoint:
        """The point of ``kind`` with the highest median speedup, among those with 2+ workers."""
        curve = self.curve(kind)
        parallel = [p for p in curve if p.n_workers >= 2] or curve
        return max(parallel, key=lambda p: p.speedup)

    def at_cores(self, kind: str) -> ScalingPoint:
        """The point of ``kind`` at the usable core count, or the largest one below it."""
        curve = self.curve(kind)
        within = [p for p in curve if p.n_workers <= max(self.usable_cores, 1)]
        return within[-1] if within else curve[0]

    def expects_gain(self, p: ScalingPoint) -> bool:
        """Whether this machine makes a gain possible for point ``p``.

        Waiting gains with any number of workers; computing needs a free core per worker
        (at most the usable cores count), and pure-Python work in threads needs the GIL off.
        """
        if p.n_workers < 2:
            return False
        if self.workload in WAITS:
            return True
        if self.usable_cores < 2:
            return False
        return not (p.kind == "thread" and self.gil and self.workload in HOLDS_THE_GIL)

    def status(self, p: ScalingPoint) -> Literal["as expected", "noisy", "contradicts"]:
        """Whether point ``p`` agrees with what this machine makes possible.

        ``"noisy"``: the repeats disagree. ``"contradicts"``: a gain where none is possible
        (pure-Python threads with the GIL on, more workers than cores), or no gain where two
        or more free cores make one certain; the timing was disturbed.
        """
        if p.n_workers < 2:
            return "as expected"
        if p.gain == "unclear":
            return "noisy"
        expected = self.expects_gain(p)
        if p.gain == "faster" and not expected:
            return "contradicts"
        if p.gain == "no gain" and expected and p.n_workers <= self.usable_cores:
            return "contradicts"
        return "as expected"

    def verdict(self, p: ScalingPoint, *, subject: str | None = None) -> str:
        """Words for one point, never confidently wrong (see the module's docstring).

        ``subject`` replaces the default "2 processes" at the start.
        """
        words = f"{subject or plural(p.kind, p.n_workers)} {describe_gain(p.speedups)}"
        status = self.status(p)
        if status == "noisy":
            return f"{words}: too noisy to conclude"
        if status == "contradicts" and p.gain == "faster":
            if p.kind == "thread" and self.gil and self.workload in HOLDS_THE_GIL:
                why = "more than the GIL allows for pure-Python work"
            else:
                why = "more than one usable core can give"
            return f"{words}, {why}: the timing was disturbed"
        if status == "contradicts":
            return f"{words}, though they should gain here: something kept your cores busy"
        return words

    def flagged(self) -> tuple[ScalingPoint, ...]:
        """Points whose words ask for a rerun instead of concluding."""
        return tuple(p for p in self.points if self.status(p) != "as expected")

    def beyond_cores(self, kind: str = "process") -> str:
        """What more workers than usable cores did, compared with the point at the cores.

        Empty when no point went beyond the cores. Never claims a gain there: the workers
        share the cores, so a higher number is noise.
        """
        last = self.curve(kind)[-1]
        if last.n_workers <= self.usable_cores or self.workload in WAITS:
            return ""
        ref = self.at_cores(kind)
        hi, ref_lo = spread(last.speedups)[1], spread(ref.speedups)[0]
        head = (
            f"{plural(kind, last.n_workers)} on {plural('usable core', self.usable_cores)}: "
            f"{last.speedup:.2f}x against {ref.speedup:.2f}x with {ref.n_workers}"
        )
        if hi < ref_lo:
            return f"{head}: slower, since they share the cores and the system switches them."
        return f"{head}: no real gain, since they share the cores."

    def amdahl(self, kind: str = "process") -> AmdahlFitResult | None:
        """The serial share Amdahl's law reads from ``kind``'s points within the usable cores.

        Points beyond the cores are left out: there the workers share cores, which Amdahl's
        law does not model. ``None`` when no point in range has two or more workers.
        """
        pts = [p for p in self.curve(kind) if 2 <= p.n_workers <= max(self.usable_cores, 1)]
        if not pts:
            return None
        ns = [p.n_workers for p in pts]
        one = next((p for p in self.curve(kind) if p.n_workers == 1), None)
        if one is not None:
            # Amdahl's law compares the same program on 1 and on N workers: against 1 worker
            # of the same kind, the constant cost of working in another process (about 5 %
            # per unit here) is not mistaken for serial work.
            t1 = median(one.elapsed_s)
            ratios = [tuple(t1 / e for e in p.elapsed_s) for p in pts]
            mids = [t1 / median(p.elapsed_s) for p in pts]
            against = f"1 {kind}"
        else:
            ratios = [p.speedups for p in pts]
            mids = [p.speedup for p in pts]
            against = "the 1-worker time"
        mid = fit_amdahl(ns, mids)
        from_low = fit_amdahl(ns, [spread(r)[0] for r in ratios])
        from_high = fit_amdahl(ns, [spread(r)[1] for r in ratios])
        return AmdahlFitResult(
            built_in=self.serial_fraction,
            serial_fraction=mid,
            low=min(from_low, from_high),
            high=max(from_low, from_high),
            n_workers=tuple(ns),
            speedups=tuple(mids),
            usable_cores=self.usable_cores,
            against=against,
        )

    def table(self) -> str:
        """Speedup and efficiency per point, as a small text table (2 decimals, per cent)."""
        lines = [f"{'workers':>8} {'kind':>8} {'speedup':>8} {'efficiency':>11} {'repeats':>16}"]
        for p in sorted(self.points, key=lambda q: (q.kind, q.n_workers)):
            lo, hi = p.speedup_range
            lines.append(
                f"{p.n_workers:>8} {p.kind:>8} {p.speedup:>7.2f}x {p.efficiency:>11.0%} "
                f"{lo:>7.2f}-{hi:.2f}x"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        """One verdict line at the usable cores (or the largest count below), then what went
        beyond the cores, the machine's load and any set-up notes."""
        cores = plural("usable core", self.usable_cores)
        shown = [self.at_cores(kind) for kind in self.kinds]
        n = max(p.n_workers for p in shown)
        parts = "; ".join(self.verdict(p) for p in shown)
        text = (
            f"On your {cores}, {self.workload} (1-worker time {self.serial_s:.2f} s), "
            f"as many times as fast as one worker: {parts}."
        )
        if len(self.kinds) == 1 and n >= 2 and self.status(shown[0]) == "as expected":
            text += f" Efficiency with {plural(shown[0].kind, n)}: {shown[0].efficiency:.0%}."
        for kind in self.kinds:
            beyond = self.beyond_cores(kind)
            if beyond:
                text += f" {beyond}"
        # Beyond the cores the workers share them, so repeats there may disagree without
        # making the verdict at the cores less sure: only points within the cores ask for a
        # rerun.
        if any(p.n_workers <= max(self.usable_cores, 1) for p in self.flagged()):
            text += " Rerun to conclude."
        if self.load is not None and self.load.describe():
            text += f" {self.load.describe()}"
        for note in self.notes:
            text += f" Note: {note}"
        return text
