"""The scheduler game's levels: a ladder of tiny programs, each with a challenge to win.

Like the levels of *The Deadlock Empire* (https://deadlockempire.github.io), each level
states what you must make happen by choosing which thread runs next: lose an update, book a
seat twice, get the threads stuck. Some levels cannot be won, and that is their lesson: a
lock, or a wait done right, leaves no schedule that goes wrong. ``cl.races.interleavings``
proves it by trying every schedule.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .steps import Program, program

__all__ = ["LEVELS", "Level", "as_program", "level"]

_Steps = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Level:
    """One level of the scheduler game.

    Attributes:
        name: e.g. ``"lost update"``.
        program: the threads to schedule.
        challenge: what to make happen, in one sentence.
        wins: whether an outcome (``"counter=1"``, ``"deadlock"``, ``"stuck"``) wins.
        debrief: what the level teaches, said once you have won (or seen that nobody can).
    """

    name: str
    program: Program
    challenge: str
    wins: Callable[[str], bool]
    debrief: str

    def __str__(self) -> str:
        return f"Challenge: {self.challenge}\n{self.program.listing()}"

    def __repr__(self) -> str:
        return str(self)


def _increment(n: int = 1, *, lock: bool = False) -> _Steps:
    body: _Steps = []
    for _ in range(n):
        rmw = [("load", "counter", "tmp"), ("add", "tmp", 1), ("store", "counter", "tmp")]
        body += [("acquire", "lock"), *rmw, ("release", "lock")] if lock else rmw
    return body


def _locked_steps() -> _Steps:
    """The read and the write each under the lock, with the lock let go in between."""
    return [
        ("acquire", "lock"),
        ("load", "counter", "tmp"),
        ("release", "lock"),
        ("add", "tmp", 1),
        ("acquire", "lock"),
        ("store", "counter", "tmp"),
        ("release", "lock"),
    ]


def _book(k: int, *, lock: bool) -> _Steps:
    check_and_act: _Steps = [
        ("load", "seat_free", "free"),
        ("jump_if", "free", "==", 0, 4),
        ("store", "seat_free", 0),
        ("store", f"booked_{k}", 1),
    ]
    if not lock:
        return check_and_act
    check_and_act[1] = ("jump_if", "free", "==", 0, 5)
    return [("acquire", "lock"), *check_and_act, ("release", "lock")]


def _produce_two() -> _Steps:
    one = [
        ("acquire", "L"),
        ("load", "items", "n"),
        ("add", "n", 1),
        ("store", "items", "n"),
        ("signal", "c"),
        ("release", "L"),
    ]
    return one * 2


def _consume(*, loop: bool) -> _Steps:
    """Take one item; ``loop``: re-check after waking (``while``), else just once (``if``)."""
    take = [
        ("load", "items", "n"),
        ("compute", "n", "-", 1),
        ("store", "items", "n"),
        ("release", "L"),
    ]
    if loop:  # 0 acquire, 1 load, 2 if n != 0 take, 3 wait, 4 go back to 1, 5.. take
        head: _Steps = [
            ("acquire", "L"),
            ("load", "items", "n"),
            ("jump_if", "n", "!=", 0, 5),
            ("wait", "c", "L"),
            ("jump", 1),
        ]
    else:  # 0 acquire, 1 load, 2 if n != 0 take, 3 wait, 4.. take (whatever is there)
        head = [
            ("acquire", "L"),
            ("load", "items", "n"),
            ("jump_if", "n", "!=", 0, 4),
            ("wait", "c", "L"),
        ]
    end = len(head) + len(take) + 2
    # a check only the game needs: note if this consumer took an item that was not there
    note = [("jump_if", "n", ">=", 0, end), ("store", "broken", 1)]
    return [*head, *take, *note]


def _outcome_is(*wanted: str) -> Callable[[str], bool]:
    def wins(out: str) -> bool:
        return out in wanted

    return wins


def _broken(out: str) -> bool:
    return "broken=1" in out


def _levels() -> dict[str, Level]:
    seat = {"seat_free": 1, "booked_1": 0, "booked_2": 0}
    double = "seat_free=0, booked_1=1, booked_2=1"
    wake_goal = "the consumer sleeps until the producer says 'ready'"
    levels = [
        Level(
            "lost update",
            program(
                _increment(),
                _increment(),
                shared={"counter": 0},
                title="lost update",
                goal="two threads each add 1 to counter; it should end at 2.",
            ),
            "Make the counter end at 1, although both threads added 1.",
            _outcome_is("counter=1"),
            "Both threads loaded 0 before either stored: the second store overwrote the "
            "first. Most orders do this; only one thread entirely before the other gives 2.",
        ),
        Level(
            "check-then-act",
            program(
                _book(1, lock=False),
                _book(2, lock=False),
                shared=seat,
                title="check-then-act",
                goal="two threads try to book the last seat; exactly one should get it.",
            ),
            "Make both threads book the one free seat.",
            _outcome_is(double),
            "Both checked before either acted. A check and the act that depends on it must "
            "happen as one step: inside one lock.",
        ),
        Level(
            "a lock fixes it",
            program(
                _increment(lock=True),
                _increment(lock=True),
                shared={"counter": 0},
                title="a lock fixes it",
                goal="the lost update again, with the read-add-write inside acquire/release.",
            ),
            "Make the counter end at 1 again. (Can you?)",
            _outcome_is("counter=1"),
            "Nobody can: while one thread is between acquire and release, the other cannot "
            "get past its acquire, so no load can fall between the other's load and store.",
        ),
        Level(
            "check-then-act with a lock",
            program(
                _book(1, lock=True),
                _book(2, lock=True),
                shared=seat,
                title="check-then-act with a lock",
                goal="the booking again, with the check and the act inside one lock.",
            ),
            "Make both threads book the seat. (Can you?)",
            _outcome_is(double),
            "Nobody can: the second thread checks only after the first has booked.",
        ),
        Level(
            "two locks deadlock",
            program(
                [("acquire", "A"), ("acquire", "B"), ("release", "B"), ("release", "A")],
                [("acquire", "B"), ("acquire", "A"), ("release", "A"), ("release", "B")],
                shared={},
                title="two locks deadlock",
                goal="each thread needs locks A and B, but they take them in opposite orders.",
            ),
            "Get both threads stuck for good.",
            _outcome_is("deadlock"),
            "Each holds one lock and waits for the other's: a cycle, a deadlock (lesson 05 "
            "is about finding and breaking these).",
        ),
        Level(
            "missed wake-up",
            program(
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
                goal=f"{wake_goal}; it checks 'ready' before taking the lock.",
            ),
            "Leave the consumer asleep forever.",
            _outcome_is("stuck"),
            "The producer signalled between the consumer's check and its wait; a signal "
            "wakes only a thread already waiting, so it was lost. The consumer is stuck, "
            "not deadlocked: no cycle of locks, just a wake-up that never comes.",
        ),
        Level(
            "wake-up done right",
            program(
                [
                    ("acquire", "L"),
                    ("load", "ready", "r"),
                    ("jump_if", "r", "!=", 0, 5),
                    ("wait", "c", "L"),
                    ("jump", 1),
                    ("release", "L"),
                ],
                [("store", "ready", 1), ("acquire", "L"), ("signal", "c"), ("release", "L")],
                shared={"ready": 0},
                names=("consumer", "producer"),
                title="wake-up done right",
                goal=f"{wake_goal}; it checks 'ready' while holding the lock, in a while loop.",
            ),
            "Leave the consumer asleep forever. (Can you?)",
            _outcome_is("stuck"),
            "Nobody can. Only the consumer changed: it checks while holding L, and wait() "
            "lets go of L only as it falls asleep, so the producer (whose signal needs L) "
            "cannot signal between the check and the wait.",
        ),
        Level(
            "stolen wake-up",
            program(
                _produce_two(),
                _consume(loop=False),
                _consume(loop=False),
                shared={"items": 0, "broken": 0},
                names=("producer", "consumer 1", "consumer 2"),
                title="stolen wake-up",
                goal="two consumers take one item each; after waking they take without checking "
                "again ('if', not 'while').",
            ),
            "Make a consumer take an item that is not there (broken = 1).",
            _broken,
            "A consumer was woken for an item, but the other consumer took it first. "
            "Being woken only says that something changed: check again after every wake-up.",
        ),
        Level(
            "stolen wake-up, while loop",
            program(
                _produce_two(),
                _consume(loop=True),
                _consume(loop=True),
                shared={"items": 0, "broken": 0},
                names=("producer", "consumer 1", "consumer 2"),
                title="stolen wake-up, while loop",
                goal="the same consumers, re-checking in a while loop after every wake-up.",
            ),
            "Make a consumer take an item that is not there. (Can you?)",
            _broken,
            "Nobody can: a consumer whose item was taken goes back to sleep. That re-check is "
            "what `while` (or Condition.wait_for) adds.",
        ),
        Level(
            "two increments each",
            program(
                _increment(2),
                _increment(2),
                shared={"counter": 0},
                title="two increments each",
                goal="each thread adds 1 twice; the counter should end at 4.",
            ),
            "Make the counter end at 2, although four increments ran.",
            _outcome_is("counter=2"),
            "One thread's stale store can erase more than one update of the other: a lost "
            "update costs whatever the other thread did in between.",
        ),
        Level(
            "a lock on each step",
            program(
                _locked_steps(),
                _locked_steps(),
                shared={"counter": 0},
                title="a lock on each step",
                goal="every read and every write of counter is inside the lock, but the lock is "
                "let go between them.",
            ),
            "Make the counter end at 1, although no thread touches counter without the lock.",
            _outcome_is("counter=1"),
            "The lock kept each step whole, not the update: the other thread read between "
            "this one's locked read and its locked write. A lock protects a read-modify-write "
            "only when all of it sits inside one acquire ... release.",
        ),
    ]
    return {lv.name: lv for lv in levels}


#: The scheduler game's levels, in the order of the ladder.
LEVELS: dict[str, Level] = _levels()


def level(name: str) -> Level:
    """A level of the scheduler game by name (see :data:`LEVELS`).

    >>> level("two locks deadlock").program.names
    ('T1', 'T2')

    Raises:
        ValueError: no level has that name; the message lists them.
    """
    if name not in LEVELS:
        raise ValueError(f"'name' must be one of {', '.join(map(repr, LEVELS))} (got {name!r}).")
    return LEVELS[name]


def as_program(prog: object) -> Program:
    """The program of a :class:`Program`, a :class:`Level` or a level's name.

    Raises:
        TypeError: anything else.
        ValueError: an unknown level name.
    """
    if isinstance(prog, Program):
        return prog
    if isinstance(prog, Level):
        return prog.program
    if isinstance(prog, str):
        return level(prog).program
    raise TypeError(
        f"'prog' must be a program from cl.races.program(...), a level or a level's name "
        f"(got {prog!r})."
    )
