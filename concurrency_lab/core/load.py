"""How busy other programs kept this machine while we measured.

A speedup measured on a laptop with a browser and a video call open can fall short for a
reason that has nothing to do with Python. Measurements wrap their timing in
:func:`measure_load` and report, next to their numbers, how many cores *other* programs kept
busy meanwhile and so how many were free: a conclusion can then say "only about 1.2 of your
2 cores were free" instead of only "too noisy".

How: the machine's busy CPU time (``/proc/stat`` on Linux, ``psutil.cpu_times()`` elsewhere)
minus the CPU time of this process and its children over the same stretch, divided by the
wall time. The kernel counts in 10 ms ticks, so short stretches are rough; below
``MIN_WALL_S`` the meter says nothing.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from types import TracebackType

__all__ = ["MIN_WALL_S", "Load", "LoadMeter", "machine_ticks", "measure_load", "own_cpu_s"]

#: Below this wall time the tick counters are too coarse to say anything.
MIN_WALL_S = 0.2
#: Other programs using at least this many cores on average is worth telling the learner.
BUSY_CORES = 0.3


def machine_ticks() -> tuple[float, float, int] | None:
    """``(busy_s, total_s, n_cpus)``: CPU seconds the whole machine has spent so far.

    Linux reads ``/proc/stat``; elsewhere ``psutil.cpu_times()`` if psutil is installed;
    ``None`` when neither is possible.
    """
    try:
        with open("/proc/stat", "rb") as f:
            lines = f.read(65536).split(b"\n")
        fields = [int(x) for x in lines[0].split()[1:9]]
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        idle = fields[3] + fields[4]  # idle + iowait
        n_cpus = sum(1 for line in lines[1:] if line.startswith(b"cpu"))
        return (sum(fields) - idle) / tick, sum(fields) / tick, n_cpus
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        t = psutil.cpu_times()
        idle = t.idle + getattr(t, "iowait", 0.0)
        total = sum(t)
        return total - idle, total, psutil.cpu_count() or 1
    except Exception:
        return None


def own_cpu_s() -> float:
    """CPU seconds used by this process and its children that have been waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass(frozen=True)
class Load:
    """What the machine did besides our measurement.

    Attributes:
        wall_s: how long the measurement took.
        cores: usable cores (what the measurement could hope to use).
        others_cores: cores other programs kept busy on average meanwhile; ``None`` when
            unknown (no counters, or a stretch shorter than ``MIN_WALL_S``).
    """

    wall_s: float
    cores: int
    others_cores: float | None

    @property
    def free_cores(self) -> float | None:
        """Usable cores minus what other programs took (``None`` when unknown)."""
        if self.others_cores is None:
            return None
        return max(0.0, self.cores - self.others_cores)

    @property
    def busy(self) -> bool:
        """Other programs took enough CPU to matter for a scaling measurement."""
        return self.others_cores is not None and self.others_cores >= BUSY_CORES

    def describe(self) -> str:
        """A sentence for a conclusion, e.g. 'Other programs kept about 0.8 of your 2 cores busy
        meanwhile, so about 1.2 were free.' (empty when the machine was quiet or unknown)."""
        if not self.busy or self.free_cores is None or self.others_cores is None:
            return ""
        return (
            f"Other programs kept about {self.others_cores:.1f} of your {self.cores} cores busy "
            f"meanwhile, so about {self.free_cores:.1f} were free."
        )


class LoadMeter:
    """``with measure_load() as meter: ...`` then ``meter.load`` (a :class:`Load`)."""

    def __init__(self, cores: int | None = None) -> None:
        if cores is None:
            from .machine import usable_cores

            cores = usable_cores()
        self._cores = cores
        self.load: Load | None = None

    def __enter__(self) -> LoadMeter:
        self._t0 = time.perf_counter()
        self._m0 = machine_ticks()
        self._own0 = own_cpu_s()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        wall = time.perf_counter() - self._t0
        m1 = machine_ticks()
        others = None
        if self._m0 is not None and m1 is not None and wall >= MIN_WALL_S:
            machine_busy = m1[0] - self._m0[0]
            ours = own_cpu_s() - self._own0
            others = max(0.0, (machine_busy - ours) / wall)
        self.load = Load(wall, self._cores, others)


def measure_load(cores: int | None = None) -> LoadMeter:
    """Measure other programs' CPU use around a block of code.

    >>> with measure_load(cores=2) as meter:
    ...     _ = sum(range(10))
    >>> meter.load.others_cores is None  # far too short to say
    True
    """
    return LoadMeter(cores)
