"""The GIL explorer: pick a number of CPU-bound threads and a switch interval; see the turns.

Introduced in ``02-the-gil.ipynb``.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from ..view.explorer import Choice, Explorer, Slider
from .convoy import GilSnapshotResult, gil_snapshot
from .plots import plot_handoff, plot_probe_latency

__all__ = ["gil_explorer"]

_INTERVALS_MS = (0.5, 1, 2, 5, 10, 20, 50)


def _draw(result: GilSnapshotResult) -> tuple[Figure, Figure]:
    return plot_handoff(result.handoff), plot_probe_latency(result.convoy)


def gil_explorer(*, n_threads: int = 2) -> Explorer[GilSnapshotResult]:
    """Pick a number of CPU-bound threads and a switch interval, press Run, see them take turns.

    Run traces the threads' running stretches (the hand-off timeline) and measures how late a
    probe thread that sleeps 1 ms at a time wakes up beside them at that switch interval (the
    convoy effect): :func:`~concurrency_lab.gil.gil_snapshot`. The interpreter's own switch
    interval is restored after every run. An answer takes under a second.
    Introduced in ``02-the-gil.ipynb``.

    Returns:
        The :class:`~concurrency_lab.view.explorer.Explorer` (``.controls``, ``.run()``,
        ``.result``, ``.summary``).
    """
    return Explorer(
        gil_snapshot,
        {
            "n_threads": Slider(
                "CPU-bound threads", 1, 8, value=n_threads, help="how many threads compete"
            ),
            "switch_interval_s": Choice(
                "switch interval",
                {f"{ms:g} ms": ms / 1000 for ms in _INTERVALS_MS},
                value=0.005,
                help="how long a waiting thread waits before it asks for the GIL",
            ),
        },
        draw=_draw,
        title="GIL explorer",
        button_help="trace the threads and the probe at this setting",
    )
