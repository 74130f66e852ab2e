"""Fidelity of lesson 04's headline demos: does each show the true answer, run after run?

``HEADLINE_DEMOS`` maps a name to a function that runs the demo exactly as
``04-races-and-locks.ipynb`` does (same code, default sizes) and judges it against what is
true (``benchmarks/bench_fidelity.py`` runs them). Each returns ``(verdict, detail)``:

* **the racing counter** (the first code cells: two ``threading.Thread``s, a million
  ``counter.value += 1`` each through a property, the interpreter's own switch interval).
  The race is real on every CPython, so ``right`` when the printed count falls short (the
  cell shows the race); ``flagged`` when no update was lost (the cell prints only numbers,
  and the text after it is conditional: "if the count came out short"); ``wrong`` if the
  count went past 2,000,000, which no interleaving can give.
* **the measured lines and why they lose rarely** (``cl.races.lost_updates`` for the three
  lines, then ``cl.races.why_rare``). True: under a lock no update is lost; through the
  property, with the switch interval at 0.1 ms, some run of five loses updates; on a plain
  attribute with the GIL on Python 3.10+ no switch can fall between the read and the write,
  so none is lost. ``right`` when all three hold; ``flagged`` when the property lost
  nothing (the sentence then says "not one read-add-write was split ... Rare is not never",
  which is true); ``wrong`` when the lock lost an update or the plain line lost one where
  the sentence would call that impossible.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from .counters import HOWS, lost_updates, why_rare
from .schedules import interleavings

__all__ = ["HEADLINE_DEMOS", "measured_lines", "racing_counter"]


class _Counter:
    """The notebook's counter, as written there."""

    def __init__(self) -> None:
        self._value = 0

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        self._value = new


def racing_counter(n: int = 1_000_000) -> tuple[str, str]:
    """The notebook's first threads: two of them, ``n`` times ``counter.value += 1`` each."""
    counter = _Counter()

    def add_many() -> None:
        for _ in range(n):
            counter.value += 1

    threads = [threading.Thread(target=add_many) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    text = f"counter.value = {counter.value:,} (2 threads x {n:,} = {2 * n:,} expected)"
    if counter.value > 2 * n or any(t.is_alive() for t in threads):
        return "wrong", text
    return ("right" if counter.value < 2 * n else "flagged"), text


def measured_lines() -> tuple[str, str]:
    """The three measured lines and the sentence that explains why losses are rare."""
    runs = [lost_updates(how=how) for how in HOWS]
    plain, racing, locked = runs
    text = str(why_rare(interleavings("lost update"), runs))
    plain_is_safe_here = plain.gil and sys.version_info >= (3, 10)
    if locked.total_lost or (plain_is_safe_here and plain.total_lost):
        return "wrong", f"{locked} {plain}"
    if racing.total_lost == 0:
        return "flagged", text
    return "right", text


HEADLINE_DEMOS: dict[str, Callable[[], tuple[str, str]]] = {
    "racing counter (2 threads x 1,000,000)": racing_counter,
    "measured lines + why_rare": measured_lines,
}
