"""Step programs: tiny threads written as atomic steps, and the rules that run them.

A *step program* (:func:`program`) is a few tiny threads written as atomic steps (load,
compute, store, acquire, release, wait, signal, jumps) over shared variables. Every step runs
whole or not at all, so a schedule is just the order in which the threads' steps run.
:mod:`concurrency_lab.races.schedules` tries every schedule or lets you pick one; this module
holds the steps, the program and the one function that runs a step (:func:`apply_step`).

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Program",
    "ProgramError",
    "State",
    "Step",
    "apply_step",
    "blocked_reason",
    "can_run",
    "cond_locks",
    "end_text",
    "initial_state",
    "outcome",
    "program",
    "runnable",
]

#: What a step program can end in besides its final variables.
Ending = Literal["deadlock", "stuck"]


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
    "jump": "('jump', to_step)",
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
        """A :class:`Step` from a tuple such as ``("load", "counter", "tmp")``.

        Raises:
            TypeError: ``raw`` is not a tuple of a step.
            ValueError: an unknown step, or the wrong number of parts.
        """
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
        if len(args) != _FORMS[op].count(","):
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

    @property
    def target(self) -> int | None:
        """The step a jump goes to (``None`` for other steps)."""
        if self.op == "jump_if":
            return int(self.args[3])
        if self.op == "jump":
            return int(self.args[0])
        return None

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
            return f"wait({a[0]})  # releases {a[1]}, sleeps until signalled, retakes {a[1]}"
        if self.op == "signal":
            return f"signal({a[0]})"
        if self.op == "jump":
            return f"go to step {a[0]}"
        return f"if {a[0]} {a[1]} {a[2]}: go to step {a[3]}"

    def text(self, n_steps: int) -> str:
        """``str(step)``, except that a jump to the end says "go to the end"."""
        target = self.target
        if target is not None and target >= n_steps:
            return str(self).replace(f"go to step {target}", "go to the end")
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
        """The program as text, one block per thread."""
        lines = [f"{self.title}: {self.goal}".strip(": ")] if (self.title or self.goal) else []
        lines.append("shared: " + (", ".join(f"{k} = {v}" for k, v in self.shared) or "(none)"))
        for name, steps in zip(self.names, self.threads):
            lines.append(f"{name}:")
            lines.extend(f"  {i}  {s.text(len(steps))}" for i, s in enumerate(steps))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.listing()

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
    ``("jump_if", "tmp", "==", 0, 4)``          if ``tmp == 0`` go to step 4 (the number of
                                                steps means "the end")
    ``("jump", 1)``                             go to step 1 (a ``while`` loop jumps back)
    ==========================================  ==========================================

    >>> p = program([("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")],
    ...             [("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")],
    ...             shared={"counter": 0})
    >>> p.names
    ('T1', 'T2')

    Raises:
        ValueError, TypeError: a malformed step, an undeclared shared variable, a jump
            outside the thread or onto itself, or a condition used with two different locks.
    """
    if not threads:
        raise ValueError("a program needs at least one thread (a list of steps).")
    if not isinstance(shared, Mapping):
        raise TypeError(f"'shared' must be a dict of shared variables (got {shared!r}).")
    names = tuple(names) if names is not None else tuple(f"T{i + 1}" for i in range(len(threads)))
    if len(names) != len(threads):
        raise ValueError(f"'names' must name each of the {len(threads)} threads (got {names!r}).")
    parsed = tuple(tuple(Step.parse(s) for s in t) for t in threads)
    lock_of: dict[str, str] = {}
    for name, steps in zip(names, parsed):
        for i, s in enumerate(steps):
            if s.op in ("load", "store") and s.args[0] not in shared:
                raise ValueError(
                    f"{name} step {i} ({s}) uses {s.args[0]!r}, which is not a shared variable; "
                    f"declare it: shared={{..., {s.args[0]!r}: 0}}."
                )
            if s.op in ("jump_if", "jump"):
                to = s.args[-1]
                if isinstance(to, bool) or not isinstance(to, int) or not 0 <= to <= len(steps):
                    raise ValueError(
                        f"{name} step {i} ({s}) must jump to a step from 0 to {len(steps)} "
                        f"(the end); got {to!r}."
                    )
                if to == i:
                    raise ValueError(
                        f"{name} step {i} ({s}) jumps to itself, which would loop without doing "
                        f"anything; jump to an earlier step that reads the variable again."
                    )
            if s.op == "wait" and lock_of.setdefault(s.args[0], s.args[1]) != s.args[1]:
                raise ValueError(
                    f"condition {s.args[0]!r} is used with locks {lock_of[s.args[0]]!r} "
                    f"and {s.args[1]!r}; a condition has exactly one lock."
                )
    return Program(
        threads=parsed,
        shared=tuple((str(k), int(v)) for k, v in shared.items()),
        names=names,
        title=title,
        goal=goal,
    )


# --------------------------------------------------------------------------- running steps


@dataclass(frozen=True)
class State:
    """Where every thread of a program is: hashable, so equal states are explored once.

    Attributes:
        pcs: each thread's next step.
        shared: the shared variables.
        locals: each thread's local variables.
        owners: ``(lock, thread index)`` for each held lock.
        waiting: ``(condition, threads sleeping on it, first come first)``.
        phase: per thread ``""`` (running), ``"waiting"`` (asleep in ``wait``) or ``"woken"``
            (signalled, must take its lock again).
    """

    pcs: tuple[int, ...]
    shared: tuple[tuple[str, int], ...]
    locals: tuple[tuple[tuple[str, int], ...], ...]
    owners: tuple[tuple[str, int], ...]
    waiting: tuple[tuple[str, tuple[int, ...]], ...]
    phase: tuple[str, ...]


def initial_state(p: Program) -> State:
    """The state before any step ran."""
    n = len(p.threads)
    return State((0,) * n, p.shared, ((),) * n, (), (), ("",) * n)


def cond_locks(p: Program) -> dict[str, str]:
    """Each condition's lock, from the program's ``wait`` steps."""
    return {s.args[0]: s.args[1] for t in p.threads for s in t if s.op == "wait"}


def can_run(p: Program, st: State, i: int) -> bool:
    """Whether thread ``i`` can run its next step now."""
    if st.pcs[i] >= len(p.threads[i]) or st.phase[i] == "waiting":
        return False
    step = p.threads[i][st.pcs[i]]
    owners = dict(st.owners)
    if st.phase[i] == "woken":
        return step.args[1] not in owners
    if step.op == "acquire":
        return step.args[0] not in owners
    return True


def runnable(p: Program, st: State) -> tuple[int, ...]:
    """The threads that can run their next step now."""
    return tuple(i for i in range(len(p.threads)) if can_run(p, st, i))


def _value(x: Any, loc: dict[str, int], who: str, step: Step) -> int:
    if isinstance(x, str):
        if x not in loc:
            raise ProgramError(f"{who} step ({step}) reads local {x!r} before setting it.")
        return loc[x]
    return int(x)


def apply_step(p: Program, locks: Mapping[str, str], st: State, i: int) -> tuple[State, str]:
    """Run thread ``i``'s next step; return the new state and what happened, in words.

    Args:
        p: the program.
        locks: :func:`cond_locks` of ``p``.
        st: the state before.
        i: the thread (0-based); it must be able to run (:func:`can_run`).

    Raises:
        ProgramError: the step misuses a lock or a condition, or reads an unset local.
    """
    step = p.threads[i][st.pcs[i]]
    who = p.names[i]
    pcs, phase = list(st.pcs), list(st.phase)
    shared, owners = dict(st.shared), dict(st.owners)
    loc = dict(st.locals[i])
    waiting = {k: list(v) for k, v in st.waiting}
    a = step.args
    pcs[i] += 1
    n = len(p.threads[i])
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
        text = str(step)
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
        lock = locks.get(a[0])
        if lock is not None and owners.get(lock) != i:
            raise ProgramError(
                f"{who} step {st.pcs[i]} ({step}): signalling needs {lock!r} held, as "
                f"Condition.notify does (RuntimeError: cannot notify on un-acquired lock)."
            )
        sleepers = waiting.get(a[0], [])
        if sleepers:
            j = sleepers.pop(0)
            phase[j] = "woken"
            text = f"{step}  -> woke {p.names[j]}"
        else:
            text = f"{step}  -> nobody was waiting: the signal is lost"
    elif step.op == "jump":
        pcs[i] = a[0]
        text = step.text(n)
    else:  # jump_if
        if _CMP[a[1]](_value(a[0], loc, who, step), a[2]):
            pcs[i] = a[3]
            text = f"{step.text(n)}  -> yes, jump"
        else:
            text = f"{step.text(n)}  -> no"
    locals_ = list(st.locals)
    locals_[i] = tuple(sorted(loc.items()))
    new = State(
        pcs=tuple(pcs),
        shared=tuple((k, shared[k]) for k, _ in p.shared),
        locals=tuple(locals_),
        owners=tuple(sorted(owners.items())),
        waiting=tuple(sorted((k, tuple(v)) for k, v in waiting.items() if v)),
        phase=tuple(phase),
    )
    return new, f"{who}: {text}"


def _finished(p: Program, st: State) -> bool:
    return all(pc >= len(t) for pc, t in zip(st.pcs, p.threads))


def _waits_for(p: Program, st: State, i: int) -> int | None:
    """The thread holding the lock that blocked thread ``i`` waits for, if any."""
    if st.pcs[i] >= len(p.threads[i]) or st.phase[i] == "waiting":
        return None
    step = p.threads[i][st.pcs[i]]
    if st.phase[i] == "woken":
        lock = step.args[1]
    elif step.op == "acquire":
        lock = step.args[0]
    else:
        return None
    return dict(st.owners).get(lock)


def _in_lock_cycle(p: Program, st: State) -> bool:
    """Whether some blocked threads wait for each other's locks in a circle (a deadlock)."""
    for start in range(len(p.threads)):
        seen: set[int] = set()
        i: int | None = start
        while i is not None and i not in seen:
            seen.add(i)
            i = _waits_for(p, st, i)
        if i is not None and i == start:
            return True
    return False


def outcome(p: Program, st: State) -> str | None:
    """How the program ended, or ``None`` while some thread can still run.

    ``"counter=2"`` (the shared variables; ``"finished"`` if there are none) when every
    thread finished; ``"deadlock"`` when no thread can move because blocked threads wait
    for each other's locks in a circle (lesson 05: a cycle); ``"stuck"`` when no thread can
    move for another reason, e.g. a thread sleeps in ``wait`` and nobody is left to signal
    it (a lost wake-up), or a lock is never released.
    """
    if _finished(p, st):
        return ", ".join(f"{k}={v}" for k, v in st.shared) or "finished"
    if runnable(p, st):
        return None
    return "deadlock" if _in_lock_cycle(p, st) else "stuck"


def blocked_reason(p: Program, st: State, i: int) -> str:
    """Why thread ``i`` cannot run (``""`` if it can, ``"finished"`` if it ended)."""
    if st.pcs[i] >= len(p.threads[i]):
        return "finished"
    step = p.threads[i][st.pcs[i]]
    if st.phase[i] == "waiting":
        return f"sleeping in wait({step.args[0]}) until someone signals it"
    holder = _waits_for(p, st, i)
    if holder is None:
        return ""
    lock = step.args[1] if st.phase[i] == "woken" else step.args[0]
    if holder == i:
        return f"waits for {lock}, which it holds itself"
    return f"waits for {lock} (held by {p.names[holder]})"


def end_text(p: Program, st: State) -> str:
    """What every unfinished thread waits for, e.g. ``"T1 waits for B (held by T2); ..."``."""
    parts = [
        f"{p.names[i]} {blocked_reason(p, st, i)}"
        for i in range(len(p.threads))
        if st.pcs[i] < len(p.threads[i])
    ]
    return "; ".join(parts)
