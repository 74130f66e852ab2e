"""Counters that force a race deterministically: an Event between one thread's read and write.

``lost_updates`` and the ``locked_counter`` check make their counters by calling the class
by name at run time, so a test swaps in one of these (``monkeypatch.setattr``): the first
thread to write waits, inside the setter (after its read and its add, before its write),
until another thread has written. Unlocked, that loses an update in every run; locked, the
other thread cannot write (it waits for the lock), the wait times out, and nothing is lost.
"""

from __future__ import annotations

import threading

from concurrency_lab.races.checks import WatchedCounter
from concurrency_lab.races.counters import SharedCounter

PAUSE_S = 0.2


class _Pause:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first: int | None = None
        self.paused = False
        self.other_wrote = threading.Event()

    def before_write(self) -> None:
        me = threading.get_ident()
        with self.lock:
            if self.first is None:
                self.first = me
            pause = me == self.first and not self.paused
            if pause:
                self.paused = True
        if pause:
            self.other_wrote.wait(timeout=PAUSE_S)  # between this thread's read and its write
        elif me != self.first:
            self.other_wrote.set()


class ForcedSplitCounter(SharedCounter):
    """A SharedCounter whose first writer pauses before its first write (see the module)."""

    def __init__(self) -> None:
        super().__init__()
        self.pause = _Pause()

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        self.pause.before_write()
        SharedCounter.value.fset(self, new)


class ForcedSplitWatchedCounter(WatchedCounter):
    """The check's WatchedCounter, with the same forced pause."""

    def __init__(self) -> None:
        super().__init__()
        self.pause = _Pause()

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        self.pause.before_write()
        WatchedCounter.value.fset(self, new)
