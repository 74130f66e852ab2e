"""Step programs: tiny threads as atomic steps, small enough to try every schedule.

A *step program* (:func:`program`) is a few tiny threads written as atomic steps
(load, compute, store, acquire, release, wait, signal) over shared variables.
:func:`interleavings` tries every schedule and counts the outcomes;
:class:`Scheduler` lets you be the scheduler, one step at a time (the game
:func:`concurrency_lab.scheduler_game` is a face on it); :func:`level` gives the
ready-made programs of the lesson, and :func:`count_schedules` how many
schedules there are. Every name here is also reachable as ``cl.<name>``.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LEVELS",
    "Interleavings",
    "Program",
    "ProgramError",
    "Scheduler",
    "Step",
    "count_schedules",
    "interleavings",
    "level",
    "program",
]


# =========================================================================== step programs


class ProgramError(ValueError):
    """A step program misuses a primitive, e.g. releases a lock it does not hold."""


_CMP = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
_FORMS = {
    "load": "('load', shared_var, local)",
    "compute": "('compute', local, '+', number_or_local)",
    "add": "('add', local, number)",
    "store": "('store', shared_var, local_or_number)",
    "acquire": "('acquire', lock)",
    "release": "('release', lock)",
    "wait": "('wait', condition, lock)",
    "signal": "('signal', condition)",
    "jump_if": "('jump_if', local, '==', number, to_step)",
}


@dataclass(frozen=True)
class Step:
    """One atomic step of a thread in a step program: nothing can run in the middle of it.

    Write steps as tuples (see :func:`program`); ``str(step)`` reads like Python:

    >>> str(Step.parse(("load", "counter", "tmp")))
    'tmp = counter'
    >>> str(Step.parse(("add", "tmp", 1)))
    'tmp = tmp + 1'
    """

    op: str
    args: tuple[Any, ...]

    @classmethod
    def parse(cls, raw: Step | Sequence[Any]) -> Step:
        """A :class:`Step` from a tuple such as ``("load", "counter", "tmp")``."""
        if isinstance(raw, Step):
            return raw
        if isinstance(raw, str) or not isinstance(raw, Sequence) or not raw:
            raise TypeError(
                f"each step must be a tuple such as ('load', 'counter', 'tmp') (got {raw!r})."
            )
        op, *args = raw
        if op not in _FORMS:
            raise ValueError(
                f"unknown step {op!r} in {tuple(raw)!r}; the steps are: {', '.join(_FORMS)}."
            )
        want = _FORMS[op].count(",")
        if len(args) != want:
            raise ValueError(f"step {tuple(raw)!r} must look like {_FORMS[op]}.")
        if op == "add":
            op, args = "compute", [args[0], "+", args[1]]
        if op == "compute" and args[1] not in _ARITH:
            raise ValueError(f"step {tuple(raw)!r}: the operator must be one of + - * .")
        if op == "jump_if" and args[1] not in _CMP:
            raise ValueError(
                f"step {tuple(raw)!r}: the comparison must be one of {' '.join(_CMP)}."
            )
        return cls(op, tuple(args))

    def __str__(self) -> str:
        a = self.args
        if self.op == "load":
            return f"{a[1]} = {a[0]}"
        if self.op == "compute":
            return f"{a[0]} = {a[0]} {a[1]} {a[2]}"
        if self.op == "store":
            return f"{a[0]} = {a[1]}"
        if self.op in ("acquire", "release"):
            return f"{self.op}({a[0]})"
        if self.op == "wait":
            return f"wait({a[0]})  # releases {a[1]}, sleeps until signalled"
        if self.op == "signal":
            return f"signal({a[0]})"
        return f"if {a[0]} {a[1]} {a[2]}: go to step {a[3]}"

    def text(self, n_steps: int) -> str:
        """``str(step)``, except that a jump past the last step says "go to the end"."""
        if self.op == "jump_if" and self.args[3] >= n_steps:
            a = self.args
            return f"if {a[0]} {a[1]} {a[2]}: go to the end"
        return str(self)


@dataclass(frozen=True)
class Program:
    """Tiny threads written as atomic steps over shared variables; see :func:`program`.

    Attributes:
        threads: each thread's steps.
        shared: the shared variables and their starting values, in order.
        names: the threads' names, e.g. ``("T1", "T2")``.
        title: a short name.
        goal: what the program is meant to do, in a sentence.
    """

    threads: tuple[tuple[Step, ...], ...]
    shared: tuple[tuple[str, int], ...]
    names: tuple[str, ...]
    title: str = ""
    goal: str = ""

    def listing(self) -> str:
        """The program as text, one column per thread."""
        lines = [f"{self.title}: {self.goal}".strip(": ")] if (self.title or self.goal) else []
        lines.append("shared: " + ", ".join(f"{k} = {v}" for k, v in self.shared))
        for name, steps in zip(self.names, self.threads):
            lines.append(f"{name}:")
            lines.extend(f"  {i}  {s.text(len(steps))}" for i, s in enumerate(steps))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.listing()


def program(
    *threads: Iterable[Step | Sequence[Any]],
    shared: Mapping[str, int],
    names: Sequence[str] | None = None,
    title: str = "",
    goal: str = "",
) -> Program:
    """Build a step program: one list of steps per thread, and the shared variables.

    The steps, each atomic (runs whole, or not at all):

    ==========================================  ==========================================
    ``("load", "counter", "tmp")``              ``tmp = counter`` (read a shared variable)
    ``("add", "tmp", 1)``                       ``tmp = tmp + 1`` (compute on locals)
    ``("compute", "tmp", "*", "k")``            ``tmp = tmp * k``
    ``("store", "counter", "tmp")``             ``counter = tmp`` (a local or a number)
    ``("acquire", "lock")``                     wait until ``lock`` is free, then take it
    ``("release", "lock")``                     give ``lock`` back
    ``("wait", "cond", "lock")``                release ``lock``, sleep until signalled,
                                                then take ``lock`` again (``Condition.wait``)
    ``("signal", "cond")``                      wake one waiter; lost if nobody waits
    ``("jump_if", "tmp", "==", 0, 4)``          if ``tmp == 0`` go to step 4 (forward only;
                                                the number of steps means "the end")
    ==========================================  ==========================================

    >>> p = program([("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")],
    ...             [("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")],
    ...             shared={"counter": 0})
    >>> p.names
    ('T1', 'T2')

    Raises:
        ValueError, TypeError: a malformed step, an undeclared shared variable, a
            backward jump, or a condition used with two different locks.
    """
    if not threads:
        raise ValueError("a program needs at least one thread (a list of steps).")
    if not isinstance(shared, Mapping):
        raise TypeError(f"'shared' must be a dict of shared variables (got {shared!r}).")
    names = tuple(names) if names is not None else tuple(f"T{i + 1}" for i in range(len(threads)))
    if len(names) != len(threads):
        raise ValueError(f"'names' must name each of the {len(threads)} threads (got {names!r}).")
    parsed = tuple(tuple(Step.parse(s) for s in t) for t in threads)
    cond_lock: dict[str, str] = {}
    for name, steps in zip(names, parsed):
        for i, s in enumerate(steps):
            if s.op in ("load", "store") and s.args[0] not in shared:
                raise ValueError(
                    f"{name} step {i} ({s}) uses {s.args[0]!r}, which is not a shared variable; "
                    f"declare it: shared={{..., {s.args[0]!r}: 0}}."
                )
            if s.op == "jump_if":
                to = s.args[3]
                if isinstance(to, bool) or not isinstance(to, int) or not i < to <= len(steps):
                    raise ValueError(
                        f"{name} step {i} ({s}) must jump forward, to a step after {i} and at "
                        f"most {len(steps)} (the end); got {to!r}."
                    )
            if s.op == "wait" and cond_lock.setdefault(s.args[0], s.args[1]) != s.args[1]:
                raise ValueError(
                    f"condition {s.args[0]!r} is used with locks {cond_lock[s.args[0]]!r} "
                    f"and {s.args[1]!r}; a condition has exactly one lock."
                )
    return Program(
        threads=parsed,
        shared=tuple((str(k), int(v)) for k, v in shared.items()),
        names=names,
        title=title,
        goal=goal,
    )


@dataclass(frozen=True)
class _State:
    pcs: tuple[int, ...]
    shared: tuple[tuple[str, int], ...]
    locals: tuple[tuple[tuple[str, int], ...], ...]
    owners: tuple[tuple[str, int], ...]  # lock -> thread index
    waiting: tuple[tuple[str, tuple[int, ...]], ...]  # condition -> FIFO of threads
    phase: tuple[str, ...]  # "" running, "waiting", "woken" (must retake the lock)


def _initial(p: Program) -> _State:
    n = len(p.threads)
    return _State((0,) * n, p.shared, ((),) * n, (), (), ("",) * n)


def _cond_locks(p: Program) -> dict[str, str]:
    return {s.args[0]: s.args[1] for t in p.threads for s in t if s.op == "wait"}


def _can_run(p: Program, st: _State, i: int) -> bool:
    if st.pcs[i] >= len(p.threads[i]) or st.phase[i] == "waiting":
        return False
    step = p.threads[i][st.pcs[i]]
    owners = dict(st.owners)
    if st.phase[i] == "woken":
        return step.args[1] not in owners
    if step.op == "acquire":
        return step.args[0] not in owners
    return True


def _runnable(p: Program, st: _State) -> tuple[int, ...]:
    return tuple(i for i in range(len(p.threads)) if _can_run(p, st, i))


def _value(x: Any, loc: dict[str, int], who: str, step: Step) -> int:
    if isinstance(x, str):
        if x not in loc:
            raise ProgramError(f"{who} step ({step}) reads local {x!r} before setting it.")
        return loc[x]
    return int(x)


def _apply(p: Program, cond_locks: dict[str, str], st: _State, i: int) -> tuple[_State, str]:
    """Run thread ``i``'s next step; return the new state and what happened."""
    step = p.threads[i][st.pcs[i]]
    who = p.names[i]
    pcs, phase = list(st.pcs), list(st.phase)
    shared, owners = dict(st.shared), dict(st.owners)
    loc = dict(st.locals[i])
    waiting = {k: list(v) for k, v in st.waiting}
    a = step.args
    pcs[i] += 1
    if phase[i] == "woken":
        owners[a[1]] = i
        phase[i] = ""
        text = f"woke up and took {a[1]} again"
    elif step.op == "load":
        loc[a[1]] = shared[a[0]]
        text = f"{step}  -> {a[1]} is {loc[a[1]]}"
    elif step.op == "compute":
        loc[a[0]] = _ARITH[a[1]](_value(a[0], loc, who, step), _value(a[2], loc, who, step))
        text = f"{step}  -> {a[0]} is {loc[a[0]]}"
    elif step.op == "store":
        shared[a[0]] = _value(a[1], loc, who, step)
        text = f"{step}  -> {a[0]} is {shared[a[0]]}"
    elif step.op == "acquire":
        owners[a[0]] = i
        text = f"{step}  -> holds {a[0]}"
    elif step.op == "release":
        if owners.get(a[0]) != i:
            raise ProgramError(
                f"{who} step {st.pcs[i]} ({step}): {who} does not hold {a[0]!r}; Python "
                f"raises RuntimeError for this. Release only a lock you acquired."
            )
        del owners[a[0]]
        text = f"{step}"
    elif step.op == "wait":
        if owners.get(a[1]) != i:
            raise ProgramError(
                f"{who} step {st.pcs[i]} ({step}): waiting needs {a[1]!r} held, as "
                f"Condition.wait does (RuntimeError: cannot wait on un-acquired lock). "
                f"Acquire {a[1]!r} first."
            )
        del owners[a[1]]
        waiting.setdefault(a[0], []).append(i)
        phase[i] = "waiting"
        pcs[i] -= 1  # the step finishes when the thread takes the lock again
        text = f"wait({a[0]})  -> released {a[1]}, sleeping"
    elif step.op == "signal":
        lock = cond_locks.get(a[0])
        if lock is not None and owners.get(lock) != i:
            raise ProgramError(
                f"{who} step {st.pcs[i]} ({step}): signalling needs {lock!r} held, as "
                f"Condition.notify does (RuntimeError: cannot notify on un-acquired lock)."
            )
        queue_ = waiting.get(a[0], [])
        if queue_:
            j = queue_.pop(0)
            phase[j] = "woken"
            text = f"{step}  -> woke {p.names[j]}"
        else:
            text = f"{step}  -> nobody was waiting: the signal is lost"
    else:  # jump_if
        if _CMP[a[1]](_value(a[0], loc, who, step), a[2]):
            pcs[i] = a[3]
            text = f"{step.text(len(p.threads[i]))}  -> yes, jump"
        else:
            text = f"{step.text(len(p.threads[i]))}  -> no"
    locals_ = list(st.locals)
    locals_[i] = tuple(sorted(loc.items()))
    new = _State(
        pcs=tuple(pcs),
        shared=tuple((k, shared[k]) for k, _ in p.shared),
        locals=tuple(locals_),
        owners=tuple(sorted(owners.items())),
        waiting=tuple(sorted((k, tuple(v)) for k, v in waiting.items() if v)),
        phase=tuple(phase),
    )
    return new, f"{who}: {text}"


def _finished(p: Program, st: _State) -> bool:
    return all(pc >= len(t) for pc, t in zip(st.pcs, p.threads))


def _outcome(p: Program, st: _State) -> str | None:
    """``"counter=2"`` when every thread finished, ``"deadlock"`` when stuck, else ``None``."""
    if _finished(p, st):
        return ", ".join(f"{k}={v}" for k, v in st.shared) or "finished"
    if not _runnable(p, st):
        return "deadlock"
    return None


def _blocked_reason(p: Program, st: _State, i: int) -> str:
    if st.pcs[i] >= len(p.threads[i]):
        return "finished"
    owners = dict(st.owners)
    step = p.threads[i][st.pcs[i]]
    if st.phase[i] == "waiting":
        return f"sleeping in wait({step.args[0]}) until someone signals it"
    lock = step.args[1] if st.phase[i] == "woken" else step.args[0]
    if step.op == "acquire" or st.phase[i] == "woken":
        holder = owners.get(lock)
        if holder is None:
            return ""
        if holder == i:
            return f"waits for {lock}, which it holds itself"
        return f"waits for {lock} (held by {p.names[holder]})"
    return ""


def _deadlock_text(p: Program, st: _State) -> str:
    parts = [
        f"{p.names[i]} {_blocked_reason(p, st, i)}"
        for i in range(len(p.threads))
        if st.pcs[i] < len(p.threads[i])
    ]
    return "; ".join(parts)


class Scheduler:
    """You are the scheduler: pick which thread runs its next step; undo; see the state.

    The logic behind :func:`concurrency_lab.scheduler_game`, usable without widgets.

    >>> s = Scheduler(level("lost update"))
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
        self._cond_locks = _cond_locks(prog)
        self._states = [_initial(prog)]
        self.history: list[tuple[int, str]] = []
        self._serial: frozenset[str] | None = None

    @property
    def state(self) -> _State:
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
        return _can_run(self.program, self.state, thread)

    def next_step(self, thread: int) -> str:
        """What ``thread`` would do next, or why it cannot."""
        st, p = self.state, self.program
        if st.pcs[thread] >= len(p.threads[thread]):
            return "finished"
        reason = _blocked_reason(p, st, thread)
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
        new, text = _apply(self.program, self._cond_locks, self.state, thread)
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
        """``"running"``, ``"finished"`` or ``"deadlock"``."""
        out = _outcome(self.program, self.state)
        return "running" if out is None else ("deadlock" if out == "deadlock" else "finished")

    @property
    def outcome(self) -> str | None:
        """The end state (``"counter=1"``), ``"deadlock"``, or ``None`` while still running."""
        return _outcome(self.program, self.state)

    @property
    def serial_outcomes(self) -> frozenset[str]:
        """Outcomes of running the threads one after another (switching only when one blocks)."""
        if self._serial is None:
            self._serial = _serial_outcomes(self.program)
        return self._serial

    @property
    def is_race(self) -> bool:
        """True when the end state is one no one-after-another order gives (or a deadlock)."""
        out = self.outcome
        return out is not None and out not in self.serial_outcomes

    @property
    def message(self) -> str:
        """A sentence on where the game stands."""
        out = self.outcome
        if out is None:
            return f"{len(self.history)} steps so far. Pick a thread to run its next step."
        if out == "deadlock":
            return f"Deadlock! {_deadlock_text(self.program, self.state)}. No thread can move."
        serial = " or ".join(sorted(self.serial_outcomes))
        if self.is_race:
            return (
                f"Race! The threads finished with {out}, which no one-after-the-other order "
                f"gives (that would be {serial})."
            )
        return f"Finished with {out}, the same as running the threads one after the other."


def _serial_outcomes(p: Program) -> frozenset[str]:
    """Outcomes of schedules that switch thread only when the running one cannot go on."""
    cl = _cond_locks(p)
    seen: set[tuple[_State, int]] = set()
    outs: set[str] = set()
    stack = [(_initial(p), -1)]
    while stack:
        st, cur = stack.pop()
        if (st, cur) in seen:
            continue
        seen.add((st, cur))
        out = _outcome(p, st)
        if out is not None:
            outs.add(out)
            continue
        runnable = _runnable(p, st)
        choices = (cur,) if cur in runnable else runnable
        for i in choices:
            stack.append((_apply(p, cl, st, i)[0], i))
    return frozenset(outs)


@dataclass(frozen=True)
class Interleavings:
    """Every schedule of a step program, and where each one ends.

    Attributes:
        program: the program explored.
        n_schedules: how many different schedules there are (orders of steps).
        outcomes: ``(outcome, number of schedules)`` pairs, most common first;
            an outcome is the final shared variables (``"counter=1"``) or ``"deadlock"``.
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
    def n_wrong(self) -> int:
        """Schedules ending in an outcome no one-after-another order gives (deadlocks included)."""
        return sum(n for out, n in self.outcomes if out not in self.serial_outcomes)

    def example(self, outcome: str) -> list[str]:
        """One schedule that ends in ``outcome``, replayed step by step."""
        ex = dict(self.examples)
        if outcome not in ex:
            raise ValueError(f"'outcome' must be one of {sorted(ex)} (got {outcome!r}).")
        s = Scheduler(self.program)
        return [s.step(i) for i in ex[outcome]]

    def __repr__(self) -> str:
        serial = " | ".join(self.serial_outcomes)
        lines = [
            f"{self.n_schedules:,} schedules of {self.program.title or 'the program'}; "
            f"{self.n_wrong:,} of them end in a state that no one-after-another run gives "
            f"(one after another gives: {serial})"
        ]
        for out, n in self.outcomes:
            mark = ""
            if out == "deadlock":
                mark = "   <- deadlock"
            elif out not in self.serial_outcomes:
                mark = "   <- race"
            plural = "schedule" if n == 1 else "schedules"
            lines.append(f"  {out:<36} {n:>8,} {plural}{mark}")
        return "\n".join(lines)


_MAX_STEPS = 200  # keeps the recursion (one level per step) well inside Python's limit


def interleavings(prog: Program | str, *, max_states: int = 200_000) -> Interleavings:
    """Try every schedule of a step program; count how many end in each outcome.

    A schedule is one order in which the threads' steps run (a blocked thread
    cannot be picked). Schedules that end with no thread able to move are
    counted as ``"deadlock"``. Equal intermediate states are explored once, so
    programs with millions of schedules are counted exactly and quickly.

    >>> r = interleavings("lost update")
    >>> r.n_schedules, r.histogram
    (20, {'counter=1': 18, 'counter=2': 2})

    Args:
        prog: a :class:`Program` or the name of a built-in level (see :data:`LEVELS`).
        max_states: stop with an error beyond this many distinct states.

    Returns:
        An :class:`Interleavings`.

    Raises:
        ValueError: the program is too big, or misuses a lock (:class:`ProgramError`).
    """
    p = level(prog) if isinstance(prog, str) else prog
    if not isinstance(p, Program):
        raise TypeError(f"'prog' must be a Program or a level name (got {prog!r}).")
    cl = _cond_locks(p)
    memo: dict[_State, dict[str, list[Any]]] = {}

    def explore(st: _State) -> dict[str, list[Any]]:
        if st in memo:
            return memo[st]
        out = _outcome(p, st)
        if out is not None:
            res = {out: [1, ()]}
        else:
            res = {}
            for i in _runnable(p, st):
                for o, (n, ex) in explore(_apply(p, cl, st, i)[0]).items():
                    if o in res:
                        res[o][0] += n
                    else:
                        res[o] = [n, (i, *ex)]
        memo[st] = res
        if len(memo) > max_states:
            raise ValueError(
                f"the program has more than max_states={max_states:,} distinct states; make "
                f"it smaller (fewer threads or steps) or raise max_states."
            )
        return res

    n_steps = sum(len(t) for t in p.threads)
    if n_steps > _MAX_STEPS:
        raise ValueError(
            f"the program has {n_steps} steps; interleavings() explores at most "
            f"{_MAX_STEPS}. Use fewer or shorter threads."
        )
    result = explore(_initial(p))
    ordered = sorted(result.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return Interleavings(
        program=p,
        n_schedules=sum(n for n, _ in result.values()),
        outcomes=tuple((o, n) for o, (n, _) in ordered),
        serial_outcomes=tuple(sorted(_serial_outcomes(p))),
        examples=tuple((o, tuple(ex)) for o, (_, ex) in ordered),
    )


def count_schedules(*steps_per_thread: int) -> int:
    """How many ways threads with these step counts can interleave, if nothing blocks.

    It is the multinomial coefficient ``(a+b+...)! / (a! b! ...)``: it grows
    faster than exponentially.

    >>> count_schedules(3, 3), count_schedules(3, 3, 3), count_schedules(30, 30)
    (20, 1680, 118264581564861424)
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


# --------------------------------------------------------------------------- built-in levels


def _increment(n: int = 1, *, lock: bool = False) -> list[tuple[Any, ...]]:
    body: list[tuple[Any, ...]] = []
    for _ in range(n):
        rmw = [("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")]
        body += [("acquire", "lock"), *rmw, ("release", "lock")] if lock else rmw
    return body


def _book(k: int, *, lock: bool) -> list[tuple[Any, ...]]:
    if lock:
        return [
            ("acquire", "lock"),
            ("load", "seat_free", "free"),
            ("jump_if", "free", "==", 0, 5),
            ("store", "seat_free", 0),
            ("store", f"booked_{k}", 1),
            ("release", "lock"),
        ]
    return [
        ("load", "seat_free", "free"),
        ("jump_if", "free", "==", 0, 4),
        ("store", "seat_free", 0),
        ("store", f"booked_{k}", 1),
    ]


def _levels() -> dict[str, Program]:
    seat = {"seat_free": 1, "booked_1": 0, "booked_2": 0}
    return {
        "lost update": program(
            _increment(),
            _increment(),
            shared={"counter": 0},
            title="lost update",
            goal="two threads each add 1 to counter; it should end at 2.",
        ),
        "check-then-act": program(
            _book(1, lock=False),
            _book(2, lock=False),
            shared=seat,
            title="check-then-act",
            goal="two threads try to book the last seat; exactly one should get it.",
        ),
        "a lock fixes it": program(
            _increment(lock=True),
            _increment(lock=True),
            shared={"counter": 0},
            title="a lock fixes it",
            goal="the lost update again, with the read-add-write inside acquire/release.",
        ),
        "check-then-act with a lock": program(
            _book(1, lock=True),
            _book(2, lock=True),
            shared=seat,
            title="check-then-act with a lock",
            goal="the booking again, with the check and the act inside one lock.",
        ),
        "two locks deadlock": program(
            [("acquire", "A"), ("acquire", "B"), ("release", "B"), ("release", "A")],
            [("acquire", "B"), ("acquire", "A"), ("release", "A"), ("release", "B")],
            shared={},
            title="two locks deadlock",
            goal="each thread needs locks A and B, but they take them in opposite orders.",
        ),
        "missed wake-up": program(
            [
                ("load", "ready", "r"),
                ("jump_if", "r", "!=", 0, 5),
                ("acquire", "L"),
                ("wait", "c", "L"),
                ("release", "L"),
            ],
            [("store", "ready", 1), ("acquire", "L"), ("signal", "c"), ("release", "L")],
            shared={"ready": 0},
            names=("consumer", "producer"),
            title="missed wake-up",
            goal="the consumer sleeps until the producer says 'ready'; it checks 'ready' "
            "before taking the lock.",
        ),
        "wake-up done right": program(
            [
                ("acquire", "L"),
                ("load", "ready", "r"),
                ("jump_if", "r", "!=", 0, 4),
                ("wait", "c", "L"),
                ("release", "L"),
            ],
            [("acquire", "L"), ("store", "ready", 1), ("signal", "c"), ("release", "L")],
            shared={"ready": 0},
            names=("consumer", "producer"),
            title="wake-up done right",
            goal="the same, with the check and the wait inside the lock that guards 'ready'.",
        ),
    }


#: The built-in programs, by name: the scheduler game's levels.
LEVELS: dict[str, Program] = _levels()


def level(name: str) -> Program:
    """A built-in step program by name (see :data:`LEVELS`).

    >>> level("two locks deadlock").names
    ('T1', 'T2')
    """
    if name not in LEVELS:
        raise ValueError(f"'name' must be one of {', '.join(map(repr, LEVELS))} (got {name!r}).")
    return LEVELS[name]
