"""The dining-philosophers explorer of lesson 05: pick a table and a strategy, run, look."""

from __future__ import annotations

import functools

from ..view.explorer import Choice, Explorer, Slider
from .demos import dining_philosophers
from .outcome import DemoResult
from .plots import plot_philosophers
from .strategies import STRATEGIES

__all__ = ["philosophers_explorer"]


def philosophers_explorer(*, duration_s: float = 0.5) -> Explorer[DemoResult]:
    """Controls for the number of philosophers, the strategy, thinking and eating times.

    Press *Run dinner*: dinner lasts ``duration_s`` (philosophers eat as often as they can),
    then you see who held which fork when (holding solid, waiting hatched) and the wait-for
    graph of the first deadlock, if there was one, and the result in words. The first round
    is forced into the worst case (everyone holds one fork), as in the lesson. The logic is
    :func:`~concurrency_lab.deadlocks.dining_philosophers`.

    Args:
        duration_s: how long each dinner lasts.

    Introduced in ``05-deadlocks.ipynb``.
    """
    dinner = functools.partial(
        dining_philosophers, meals=None, duration_s=duration_s, detect_interval_s=0.02
    )
    return Explorer(
        dinner,
        {
            "n": Slider("philosophers", 2, 8, value=5, help="how many sit at the table"),
            "strategy": Choice(
                "strategy",
                list(STRATEGIES),
                help="how each philosopher picks up two forks: "
                + "; ".join(f"{k}: {v}" for k, v in STRATEGIES.items()),
            ),
            "think_s": Slider(
                "think",
                0.0,
                20.0,
                value=2.0,
                step=0.5,
                unit="ms",
                scale=1e-3,
                help="time between meals, holding no fork",
            ),
            "eat_s": Slider(
                "eat",
                0.0,
                20.0,
                value=2.0,
                step=0.5,
                unit="ms",
                scale=1e-3,
                help="time holding both forks",
            ),
        },
        draw=plot_philosophers,
        title=f"Dining philosophers: {duration_s:g} s of dinner",
        button="Run dinner",
        button_help="seat the philosophers and let them eat",
    )
