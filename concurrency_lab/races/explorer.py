"""The lost-updates explorer of lesson 04: threads, increments and switch interval to try.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

from ..view.explorer import Choice, Explorer, Slider
from .counters import How, LostUpdatesResult, lost_updates
from .plots import plot_lost_updates

__all__ = ["lost_updates_explorer", "measure_three_runs"]

#: Runs per press of the button: enough to see the spread, quick enough to answer in a second.
RUNS = 3


def measure_three_runs(
    *, how: How, n_workers: int, n_increments: int, switch_interval_s: float
) -> LostUpdatesResult:
    """``cl.races.lost_updates`` with :data:`RUNS` runs: what the explorer's button does."""
    return lost_updates(
        how=how,
        n_workers=n_workers,
        n_increments=n_increments,
        n_runs=RUNS,
        switch_interval_s=switch_interval_s,
    )


def lost_updates_explorer() -> Explorer[LostUpdatesResult]:
    """Controls for ``cl.races.lost_updates``: the line, threads, increments, switch interval.

    Each press runs the threads three times and draws the share of updates lost in each run.

    Introduced in ``04-races-and-locks.ipynb``.
    """
    return Explorer(
        measure_three_runs,
        {
            "how": Choice(
                "line each thread runs",
                {
                    "counter.plain += 1": "plain",
                    "counter.value += 1": "property",
                    "with lock: counter.value += 1": "locked",
                },
                value="property",
                help="the same read-add-write on a plain attribute, through a property, "
                "or under a lock",
            ),
            "n_workers": Slider(
                "threads", 2, 4, value=2, help="how many threads add to the one counter"
            ),
            "n_increments": Slider(
                "increments per thread",
                10,
                100,
                value=50,
                step=10,
                unit="thousand",
                scale=1000,
                help="how many times each thread adds 1 in one run",
            ),
            "switch_interval_s": Choice(
                "switch interval",
                {"0.1 ms": 1e-4, "1 ms": 1e-3, "5 ms (Python's default)": 5e-3},
                help="how long a thread may run before it is asked to let another run "
                "(sys.setswitchinterval); restored afterwards",
            ),
        },
        draw=plot_lost_updates,
        title="Lost updates: three runs per press",
        button="Run 3 times",
        button_help="run the threads three times with these settings and count lost updates",
    )
