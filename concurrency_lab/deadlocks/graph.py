"""The wait-for graph: who holds which lock, who waits for which, and the cycles in it.

A deadlock is a circle of waiting: worker-1 holds lock A and waits for B, while worker-2
holds B and waits for A. Neither can move, and nothing outside them will ever help. Think of
two people in a narrow corridor, each politely waiting for the other to step aside first.

The *wait-for graph* has an arrow from each waiting thread to the thread that holds the lock
it waits for. For locks (one holder each) a cycle of such arrows *is* a deadlock. For
resources with several units (a ``Semaphore(3)``) a cycle is necessary but not enough:
another unit may still be freed by a thread outside the cycle.

This module is pure: it works on a :class:`WaitForGraph` you build by hand, or one that
:meth:`concurrency_lab.deadlocks.LockRegistry.snapshot` takes from traced locks.

Introduced in ``05-deadlocks.ipynb``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..core.results import Result

__all__ = ["CycleStep", "Deadlock", "WaitForGraph", "find_cycles", "natural_key"]


def natural_key(text: str) -> list[Any]:
    """Sort key that puts ``phil-2`` before ``phil-10``.

    >>> sorted(["phil-10", "phil-2"], key=natural_key)
    ['phil-2', 'phil-10']
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


@dataclass(frozen=True)
class WaitForGraph(Result):
    """Who holds which lock, and who waits for which lock, at one moment.

    Build one by hand to try :func:`find_cycles`, or get a live one from
    :meth:`~concurrency_lab.deadlocks.LockRegistry.snapshot` (or
    :func:`~concurrency_lab.deadlocks.wait_for_graph`).

    >>> g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T2": "A"})
    >>> g.edges()
    (('T1', 'T2'), ('T2', 'T1'))
    >>> print(g)
    T1 holds A and waits for B (held by T2). T2 holds B and waits for A (held by T1).

    Args:
        holds: thread -> the locks it holds (in the order it took them).
        waits: thread -> the one lock it is waiting for.
        bounded: threads whose wait has a timeout (they will give up by themselves, so a
            cycle through them ends on its own).
        reentrant: locks that their holder may take again (``RLock``): waiting for one you
            hold yourself is no wait at all.

    Raises:
        ValueError: a lock held by two threads.

    Introduced in ``05-deadlocks.ipynb``.
    """

    holds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    waits: Mapping[str, str] = field(default_factory=dict)
    bounded: frozenset[str] = frozenset()
    reentrant: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        holds = {str(t): tuple(locks) for t, locks in self.holds.items()}
        owners: dict[str, str] = {}
        for thread, locks in holds.items():
            for lock in locks:
                other = owners.setdefault(lock, thread)
                if other != thread:
                    raise ValueError(
                        f"lock {lock!r} cannot be held by both {other!r} and {thread!r}: a lock "
                        f"has at most one owner. Fix the 'holds' mapping."
                    )
        object.__setattr__(self, "holds", MappingProxyType(holds))
        object.__setattr__(self, "waits", MappingProxyType(dict(self.waits)))
        object.__setattr__(self, "bounded", frozenset(self.bounded))
        object.__setattr__(self, "reentrant", frozenset(self.reentrant))

    def owner(self, lock: str) -> str | None:
        """The thread holding ``lock``, or ``None``."""
        for thread, locks in self.holds.items():
            if lock in locks:
                return thread
        return None

    @property
    def threads(self) -> tuple[str, ...]:
        """Every thread in the graph, in natural order."""
        return tuple(sorted(set(self.holds) | set(self.waits), key=natural_key))

    @property
    def locks(self) -> tuple[str, ...]:
        """Every lock in the graph, in natural order."""
        names = {lock for locks in self.holds.values() for lock in locks} | set(self.waits.values())
        return tuple(sorted(names, key=natural_key))

    def edges(self) -> tuple[tuple[str, str], ...]:
        """The wait-for edges ``(waiter, holder)``: ``waiter`` waits until ``holder`` releases."""
        out = []
        for thread in self.threads:
            lock = self.waits.get(thread)
            if lock is None:
                continue
            holder = self.owner(lock)
            if holder is None or (holder == thread and lock in self.reentrant):
                continue
            out.append((thread, holder))
        return tuple(out)

    def summary(self) -> str:
        """Each thread: what it holds and what it waits for, in one sentence each."""
        if not self.threads:
            return "No thread holds or waits for a lock."
        parts = []
        for t in self.threads:
            held = ", ".join(self.holds.get(t, ())) or "nothing"
            text = f"{t} holds {held}"
            lock = self.waits.get(t)
            if lock is not None:
                holder = self.owner(lock)
                text += f" and waits for {lock}" + (f" (held by {holder})" if holder else "")
            parts.append(text + ".")
        return " ".join(parts)


@dataclass(frozen=True)
class CycleStep:
    """One thread of a deadlock: what it holds, what it waits for, and who holds that."""

    thread: str
    holds: tuple[str, ...]
    waits_for: str
    held_by: str

    def __str__(self) -> str:
        held = ", ".join(self.holds) or "nothing"
        return f"{self.thread} holds {held} and waits for {self.waits_for} (held by {self.held_by})"


@dataclass(frozen=True)
class Deadlock(Result):
    """A cycle in the wait-for graph: every thread in it waits for the next one, forever.

    ``steps`` start at the thread whose name sorts first, so the same deadlock always reads
    the same way.

    >>> g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",)}, waits={"T1": "B", "T2": "A"})
    >>> print(find_cycles(g)[0])
    deadlock: T1 holds A and waits for B (held by T2); T2 holds B and waits for A (held by T1)

    Introduced in ``05-deadlocks.ipynb``.
    """

    steps: tuple[CycleStep, ...]
    graph: WaitForGraph

    @property
    def threads(self) -> tuple[str, ...]:
        """The threads of the cycle, in cycle order."""
        return tuple(s.thread for s in self.steps)

    @property
    def locks(self) -> tuple[str, ...]:
        """The locks waited for along the cycle, in cycle order."""
        return tuple(s.waits_for for s in self.steps)

    @property
    def bounded(self) -> bool:
        """Whether some wait in the cycle has a timeout (so the cycle will break by itself)."""
        return bool(set(self.threads) & self.graph.bounded)

    def summary(self) -> str:
        return "deadlock: " + "; ".join(str(s) for s in self.steps)


def find_cycles(graph: WaitForGraph, *, include_bounded: bool = False) -> tuple[Deadlock, ...]:
    """Every cycle of the wait-for graph, each starting at its first thread by name.

    A pure function: give it any :class:`WaitForGraph`. Each thread waits for at most one
    lock, so each thread has at most one outgoing edge, and the cycles are found by following
    edges until a thread repeats.

    >>> g = WaitForGraph(holds={"T1": ("A",), "T2": ("B",), "T3": ("C",)},
    ...                  waits={"T1": "B", "T2": "A", "T3": "A"})
    >>> [d.threads for d in find_cycles(g)]
    [('T1', 'T2')]

    Args:
        graph: the graph to search.
        include_bounded: also report cycles through a wait with a timeout (these break by
            themselves when the timeout runs out).

    Returns:
        The cycles, sorted by their first thread (empty if there is none).

    Raises:
        TypeError: ``graph`` is not a :class:`WaitForGraph`.

    Introduced in ``05-deadlocks.ipynb``.
    """
    if not isinstance(graph, WaitForGraph):
        raise TypeError(f"'graph' must be a WaitForGraph (got {type(graph).__name__}).")
    nxt = dict(graph.edges())
    seen: set[str] = set()
    cycles: list[Deadlock] = []
    for start in graph.threads:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in seen and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = nxt.get(node)
        if node is not None and node in on_path:
            ring = path[path.index(node) :]
            first = min(range(len(ring)), key=lambda i: natural_key(ring[i]))
            ring = ring[first:] + ring[:first]
            if include_bounded or not (set(ring) & graph.bounded):
                steps = tuple(
                    CycleStep(t, graph.holds.get(t, ()), graph.waits[t], nxt[t]) for t in ring
                )
                cycles.append(Deadlock(steps, graph))
        seen.update(path)
    cycles.sort(key=lambda d: natural_key(d.threads[0]))
    return tuple(cycles)
