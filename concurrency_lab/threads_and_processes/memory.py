"""Who sees whose memory: workers append to a list that lives in the parent.

The parent first puts one item in the list :data:`ITEMS`; then workers each append one with
:func:`add_item` and report how long the list looks from where they run.

* Threads share their process's memory: they append to the parent's own list.
* A ``fork`` child starts as a copy of the parent *as it was at that moment*: it sees the
  parent's item, appends to its copy, and the parent never sees that.
* A ``spawn`` or ``forkserver`` child is a fresh Python that imports this module again: its
  list starts empty.

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..core.machine import check_start_method, start_method_label, start_methods_to_compare
from ..core.results import Result
from ..core.runners import start_join
from ..core.validate import check_timeout, check_whole

__all__ = ["ITEMS", "MemoryResult", "MemoryRow", "add_item", "memory_isolation"]

#: The list the workers append to. It lives in this module: the threads of one process share
#: it, and every process has its own.
ITEMS: list[str] = []
_PARENT_ITEM = "put there by the parent"


def add_item(item: str) -> int:
    """Append ``item`` to this process's :data:`ITEMS`; return how many items it now holds.

    >>> ITEMS.clear()
    >>> add_item("a"), add_item("b")
    (1, 2)
    >>> ITEMS.clear()

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    ITEMS.append(item)
    return len(ITEMS)


@dataclass(frozen=True)
class MemoryRow:
    """What each side saw for one kind of worker.

    Attributes:
        kind: ``"thread"`` or ``"process"``; ``start_method`` for processes, else ``None``.
        parent_before: items in the parent's list before the workers started (1).
        seen_by_workers: how many items each worker saw right after its own append.
        parent_after: items in the parent's list after every worker was joined.
    """

    kind: Literal["thread", "process"]
    start_method: str | None
    parent_before: int
    seen_by_workers: tuple[int, ...]
    parent_after: int

    @property
    def label(self) -> str:
        """``"threads"`` or ``"processes (spawn)"``."""
        if self.kind == "thread":
            return "threads"
        return f"processes ({start_method_label(self.start_method or '?')})"

    @property
    def shared(self) -> bool:
        """True when every worker's append reached the parent's list."""
        return self.parent_after - self.parent_before == len(self.seen_by_workers)

    def sentence(self) -> str:
        """What happened, and what it means, computed from the counts."""
        n = len(self.seen_by_workers)
        seen = sorted(self.seen_by_workers)
        saw = (
            f"each saw {seen[0]} item{'s' if seen[0] != 1 else ''}"
            if len(set(seen)) == 1
            else "they saw " + " and ".join(str(s) for s in seen) + " items"
        )
        before = self.parent_before
        if all(s == before + 1 for s in seen):
            meaning = "a copy of the parent's list as it was, plus its own item"
        elif all(s == 1 for s in seen):
            meaning = "only its own item: its list started empty"
        elif seen == list(range(before + 1, before + n + 1)):
            meaning = "one list, the parent's, shared by all"
        else:
            meaning = "an unexpected mix"
        if self.shared:
            parent = f"the parent's list now holds {self.parent_after}"
        elif self.parent_after == before:
            parent = f"the parent's list still holds {before}"
        else:
            parent = f"the parent's list went from {before} to {self.parent_after}"
        return f"{n} {self.label}: {saw} ({meaning}); {parent}."


@dataclass(frozen=True, repr=False)
class MemoryResult(Result):
    """The memory demo for threads and for processes under each start method.

    Attributes:
        rows: one :class:`MemoryRow` per kind of worker, threads first.
    """

    rows: tuple[MemoryRow, ...]

    def summary(self) -> str:
        """One sentence per row."""
        return "\n".join(row.sentence() for row in self.rows)


def _one(kind: Literal["thread", "process"], method: str | None, n: int, t: float) -> MemoryRow:
    ITEMS[:] = [_PARENT_ITEM]
    try:
        run = start_join(
            add_item, n, kind=kind, start_method=method, args=("a worker's",), timeout_s=t
        )
        after = len(ITEMS)
    finally:
        ITEMS.clear()
    return MemoryRow(kind, run.start_method, 1, tuple(run.results), after)


def memory_isolation(
    *,
    start_methods: Sequence[str] | None = None,
    n_workers: int = 2,
    timeout_s: float = 30.0,
) -> MemoryResult:
    """Workers append to a list in the parent's memory: who sees what?

    The parent puts one item in :data:`ITEMS`, then runs ``n_workers`` threads, and then
    ``n_workers`` processes per start method, each calling :func:`add_item`.

    >>> res = memory_isolation(start_methods=(), n_workers=3)
    >>> sorted(res.rows[0].seen_by_workers), res.rows[0].parent_after
    ([2, 3, 4], 4)

    Args:
        start_methods: the process start methods to try; default: those worth comparing here
            (``start_methods_to_compare()``: the default first, no ``fork`` on macOS).
        n_workers: workers of each kind, 1 to 8.
        timeout_s: limit for each group of workers.

    Returns:
        A :class:`MemoryResult`; it prints one sentence per kind of worker.

    Raises:
        ValueError, TypeError: bad arguments (nothing was started).
        WorkerError, WorkerTimeoutError: a worker failed or overran (none is left running).

    Introduced in ``01-threads-and-processes.ipynb``.
    """
    methods = (
        start_methods_to_compare()
        if start_methods is None
        else tuple(check_start_method(m) for m in start_methods)
    )
    n = check_whole(n_workers, "n_workers", low=1, high=8)
    t = check_timeout(timeout_s)
    rows = [_one("thread", None, n, t)]
    rows += [_one("process", m, n, t) for m in methods]
    return MemoryResult(tuple(rows))
