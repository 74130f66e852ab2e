"""Schedules of a step program: pick them one step at a time, or try every one.

:class:`Scheduler` lets you be the scheduler (the scheduler game is a face on it);
:func:`interleavings` tries every schedule of a program and counts where each ends;
:func:`count_schedules` says how many schedules threads of a given length have.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..core.results import Result
from ..core.validate import check_whole
from .levels import Level, as_program
from .steps import (
    Program,
    State,
    apply_step,
    blocked_reason,
    can_run,
    cond_locks,
    end_text,
    initial_state,
    outcome,
    runnable,
)

__all__ = [
    "InterleavingsResult",
    "ReplayResult",
    "Scheduler",
    "count_schedules",
    "interleavings",
    "serial_outcomes",
]


def serial_outcomes(p: Program) -> frozenset[str]:
    """Outcomes of the schedules that switch thread only when the running one cannot go on.

    These are the results "one thread after the other" gives (a thread that blocks, e.g. in
    ``wait``, hands over): anything else is a race, a deadlock or a stuck program.
    """
    locks = cond_locks(p)
    seen: set[tuple[State, int]] = set()
    outs: set[str] = set()
    stack = [(initial_state(p), -1)]
    while stack:
        st, cur = stack.pop()
        if (st, cur) in seen:
            continue
        seen.add((st, cur))
        out = outcome(p, st)
        if out is not None:
            outs.add(out)
            continue
        ready = runnable(p, st)
        for i in (cur,) if cur in ready else ready:
            stack.append((apply_step(p, locks, st, i)[0], i))
    return frozenset(outs)


def _describe_end(p: Program, st: State, out: str) -> str:
    if out == "deadlock":
        return (
            f"Deadlock! {end_text(p, st)}: they wait for each other's locks in a circle. "
            f"No thread can move."
        )
    sleepers = [p.names[i] for i, ph in enumerate(st.phase) if ph == "waiting"]
    if sleepers:
        why = (
            "a signal that came before it went to sleep was lost (a lost wake-up)"
            if len(sleepers) == 1
            else "their signals were lost"
        )
        return (
            f"Stuck! {end_text(p, st)}, and no thread is left to signal it: {why}. "
            f"Not a deadlock (no circle of locks), but the thread waits forever."
        )
    return f"Stuck! {end_text(p, st)}. No thread can move: a lock is never released."


class Scheduler:
    """You are the scheduler: pick which thread runs its next step; undo; see the state.

    The logic behind :func:`concurrency_lab.races.scheduler_game`, usable without widgets.

    >>> from concurrency_lab.races.levels import level
    >>> s = Scheduler(level("lost update").program)
    >>> for t in (0, 1, 0, 0, 1, 1):   # T1 load, T2 load, T1 add+store, T2 add+store
    ...     _ = s.step(t)
    >>> s.outcome
    'counter=1'
    >>> s.is_race
    True
    """

    def __init__(self, prog: Program) -> None:
        if not isinstance(prog, Program):
            raise TypeError(f"'prog' must be a Program, from cl.races.program(...) (got {prog!r}).")
        self.program = prog
        self._locks = cond_locks(prog)
        self._states = [initial_state(prog)]
        self.history: list[tuple[int, str]] = []
        self._serial: frozenset[str] | None = None

    @property
    def state(self) -> State:
        return self._states[-1]

    @property
    def schedule(self) -> tuple[int, ...]:
        """The threads stepped so far, in order (0 = the first thread)."""
        return tuple(i for i, _ in self.history)

    @property
    def shared(self) -> dict[str, int]:
        return dict(self.state.shared)

    def locals(self, thread: int) -> dict[str, int]:
        """Thread ``thread``'s local variables."""
        return dict(self.state.locals[thread])

    def holds(self, thread: int) -> list[str]:
        """The locks ``thread`` holds."""
        return [lock for lock, owner in self.state.owners if owner == thread]

    def can_step(self, thread: int) -> bool:
        return can_run(self.program, self.state, thread)

    def next_step(self, thread: int) -> str:
        """What ``thread`` would do next, or why it cannot."""
        st, p = self.state, self.program
        if st.pcs[thread] >= len(p.threads[thread]):
            return "finished"
        reason = blocked_reason(p, st, thread)
        step = p.threads[thread][st.pcs[thread]]
        if st.phase[thread] == "woken" and not reason:
            return f"take {step.args[1]} again (after wait)"
        n = len(p.threads[thread])
        return f"blocked: {reason}" if reason else f"{st.pcs[thread]}: {step.text(n)}"

    def step(self, thread: int) -> str:
        """Run one step of ``thread`` (0-based); return what happened.

        Raises:
            ValueError: ``thread`` cannot run now (finished, or blocked) or does not exist.
        """
        n = len(self.program.threads)
        if isinstance(thread, bool) or not isinstance(thread, int) or not 0 <= thread < n:
            raise ValueError(f"'thread' must be 0 to {n - 1} (got {thread!r}).")
        if not self.can_step(thread):
            raise ValueError(
                f"{self.program.names[thread]} cannot run now: {self.next_step(thread)}."
            )
        new, text = apply_step(self.program, self._locks, self.state, thread)
        self._states.append(new)
        self.history.append((thread, text))
        return text

    def undo(self) -> bool:
        """Take back the last step; ``False`` if there was none."""
        if not self.history:
            return False
        self._states.pop()
        self.history.pop()
        return True

    def reset(self) -> None:
        del self._states[1:]
        self.history.clear()

    @property
    def status(self) -> str:
        """``"running"``, ``"finished"``, ``"deadlock"`` or ``"stuck"``."""
        out = self.outcome
        if out is None:
            return "running"
        return out if out in ("deadlock", "stuck") else "finished"

    @property
    def outcome(self) -> str | None:
        """The end state (``"counter=1"``), ``"deadlock"``, ``"stuck"``, or ``None`` (running)."""
        return outcome(self.program, self.state)

    @property
    def serial_outcomes(self) -> frozenset[str]:
        """Outcomes of running the threads one after another (see :func:`serial_outcomes`)."""
        if self._serial is None:
            self._serial = serial_outcomes(self.program)
        return self._serial

    @property
    def is_race(self) -> bool:
        """True when the end state is one no one-after-another order gives (or no end)."""
        out = self.outcome
        return out is not None and out not in self.serial_outcomes

    @property
    def message(self) -> str:
        """A sentence on where the game stands."""
        out = self.outcome
        if out is None:
            return f"{len(self.history)} steps so far. Pick a thread to run its next step."
        if out in ("deadlock", "stuck"):
            return _describe_end(self.program, self.state, out)
        serial = " or ".join(sorted(self.serial_outcomes))
        if self.is_race:
            return (
                f"Race! The threads finished with {out}, which no one-after-the-other order "
                f"gives (that would be {serial})."
            )
        return f"Finished with {out}, the same as running the threads one after the other."


@dataclass(frozen=True)
class ReplayResult(Result):
    """One schedule replayed step by step (see :meth:`InterleavingsResult.example`)."""

    title: str
    outcome: str
    lines: tuple[str, ...]

    def summary(self) -> str:
        steps = "\n".join(f"{k}. {line}" for k, line in enumerate(self.lines, 1))
        return f"One schedule of {self.title} that ends with {self.outcome}:\n{steps}"


@dataclass(frozen=True)
class InterleavingsResult(Result):
    """Every schedule of a step program, and where each one ends.

    Attributes:
        program: the program explored.
        n_schedules: how many different schedules there are (orders of steps).
        outcomes: ``(outcome, number of schedules)`` pairs, most common first; an outcome is
            the final shared variables (``"counter=1"``), ``"deadlock"`` or ``"stuck"``.
        serial_outcomes: the outcomes of running the threads one after another.
        examples: one schedule (a tuple of thread indices) for each outcome.
    """

    program: Program
    n_schedules: int
    outcomes: tuple[tuple[str, int], ...]
    serial_outcomes: tuple[str, ...]
    examples: tuple[tuple[str, tuple[int, ...]], ...] = field(repr=False)

    @property
    def histogram(self) -> dict[str, int]:
        """``{outcome: number of schedules}``."""
        return dict(self.outcomes)

    @property
    def n_deadlocks(self) -> int:
        return self.histogram.get("deadlock", 0)

    @property
    def n_stuck(self) -> int:
        return self.histogram.get("stuck", 0)

    @property
    def n_wrong(self) -> int:
        """Schedules ending in an outcome no one-after-another order gives (or in no end)."""
        return sum(n for out, n in self.outcomes if out not in self.serial_outcomes)

    def kind_of(self, out: str) -> str:
        """``"as one after the other"``, ``"race"``, ``"deadlock"`` or ``"stuck"``."""
        if out in ("deadlock", "stuck"):
            return out
        return "as one after the other" if out in self.serial_outcomes else "race"

    def example(self, outcome: str) -> ReplayResult:
        """One schedule that ends in ``outcome``, replayed step by step.

        Raises:
            ValueError: no schedule ends in ``outcome``.
        """
        ex = dict(self.examples)
        if outcome not in ex:
            raise ValueError(f"'outcome' must be one of {sorted(ex)} (got {outcome!r}).")
        s = Scheduler(self.program)
        lines = tuple(s.step(i) for i in ex[outcome])
        return ReplayResult(self.program.title or "the program", outcome, lines)

    def summary(self) -> str:
        share = self.n_wrong / self.n_schedules if self.n_schedules else 0.0
        title = self.program.title or "the program"
        plural = "schedule" if self.n_schedules == 1 else "schedules"
        head = (
            f"{title}: {self.n_schedules:,} {plural}; {self.n_wrong:,} of them ({share:.0%}) "
            f"end in a state that no one-after-the-other order gives."
        )
        lines = [
            f"- {out}: {n:,} {'schedule' if n == 1 else 'schedules'} ({self.kind_of(out)})"
            for out, n in self.outcomes
        ]
        return "\n".join([head, *lines])


#: The most steps :func:`interleavings` explores in one program.
MAX_STEPS = 200

# outcome -> (number of schedules, one example schedule)
_Tally = dict[str, tuple[int, tuple[int, ...]]]


@dataclass
class _Frame:
    state: State
    children: list[tuple[int, State]]
    next: int = 0
    tally: _Tally = field(default_factory=dict)


def _merge(into: _Tally, i: int, res: _Tally) -> None:
    for o, (n, ex) in res.items():
        into[o] = (into[o][0] + n, into[o][1]) if o in into else (n, (i, *ex))


def interleavings(prog: Program | str | Level, *, max_states: int = 200_000) -> InterleavingsResult:
    """Try every schedule of a step program; count how many end in each outcome.

    A schedule is one order in which the threads' steps run (a blocked thread cannot be
    picked). Equal intermediate states are explored once, so programs with millions of
    schedules are counted exactly and quickly.

    >>> r = interleavings("lost update")
    >>> r.n_schedules, r.histogram
    (20, {'counter=1': 18, 'counter=2': 2})

    Args:
        prog: a :class:`~concurrency_lab.races.steps.Program`, a level, or a level's name
            (see ``cl.races.LEVELS``).
        max_states: stop with an error beyond this many distinct states.

    Returns:
        An :class:`InterleavingsResult`.

    Raises:
        ValueError: the program is too big, can loop forever, or misuses a lock
            (:class:`~concurrency_lab.races.steps.ProgramError`).
    """
    p = as_program(prog)
    max_states = check_whole(max_states, "max_states", low=1)
    n_steps = sum(len(t) for t in p.threads)
    if n_steps > MAX_STEPS:
        raise ValueError(
            f"the program has {n_steps} steps; interleavings() explores at most "
            f"{MAX_STEPS}. Use fewer or shorter threads."
        )
    locks = cond_locks(p)
    memo: dict[State, _Tally] = {}

    def children(st: State) -> list[tuple[int, State]]:
        return [(i, apply_step(p, locks, st, i)[0]) for i in runnable(p, st)]

    start = initial_state(p)
    first = outcome(p, start)
    if first is not None:
        memo[start] = {first: (1, ())}
    else:  # depth first, without recursion (a program with loops may go deep)
        frames = [_Frame(start, children(start))]
        on_path = {start}
        while frames:
            frame = frames[-1]
            if frame.next < len(frame.children):
                i, child = frame.children[frame.next]
                frame.next += 1
                if child in memo:
                    _merge(frame.tally, i, memo[child])
                    continue
                if child in on_path:
                    raise ValueError(
                        "some schedules of this program never end: a thread can loop forever "
                        "(a busy-wait, e.g. a jump back that nothing else changes). "
                        "interleavings() counts only programs whose every schedule ends; let "
                        "the thread sleep with ('wait', cond, lock) instead of spinning."
                    )
                out = outcome(p, child)
                if out is not None:
                    memo[child] = {out: (1, ())}
                    _merge(frame.tally, i, memo[child])
                    continue
                on_path.add(child)
                frames.append(_Frame(child, children(child)))
                continue
            frames.pop()
            on_path.discard(frame.state)
            memo[frame.state] = frame.tally
            if len(memo) > max_states:
                raise ValueError(
                    f"the program has more than max_states={max_states:,} distinct states; make "
                    f"it smaller (fewer threads or steps) or raise max_states."
                )
            if frames:
                parent = frames[-1]
                _merge(parent.tally, parent.children[parent.next - 1][0], frame.tally)
    result = memo[start]
    ordered = sorted(result.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return InterleavingsResult(
        program=p,
        n_schedules=sum(n for n, _ in result.values()),
        outcomes=tuple((o, n) for o, (n, _) in ordered),
        serial_outcomes=tuple(sorted(serial_outcomes(p))),
        examples=tuple((o, ex) for o, (_, ex) in ordered),
    )


def count_schedules(*steps_per_thread: int) -> int:
    """How many ways threads with these step counts can interleave, if nothing blocks.

    It is the multinomial coefficient ``(a+b+...)! / (a! b! ...)``: it grows faster than
    exponentially.

    >>> count_schedules(3, 3), count_schedules(3, 3, 3), count_schedules(30, 30)
    (20, 1680, 118264581564861424)

    Raises:
        ValueError: no step counts, or one that is not a whole number >= 0.
    """
    if not steps_per_thread or any(
        isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in steps_per_thread
    ):
        raise ValueError(
            f"give each thread's number of steps, as whole numbers >= 0 (got {steps_per_thread!r})."
        )
    total = math.factorial(sum(steps_per_thread))
    for n in steps_per_thread:
        total //= math.factorial(n)
    return total
