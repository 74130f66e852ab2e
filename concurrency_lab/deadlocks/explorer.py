"""The dining-philosophers explorer of lesson 05: pick a table and a strategy, run, look."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ..view.explorer import run_button, safe_callback, show_in
from .demos import STRATEGIES, dining_philosophers
from .plots import plot_philosophers

__all__ = ["philosophers_explorer"]


def philosophers_explorer(
    *,
    n: int = 5,
    strategy: str = "none",
    think_ms: float = 2.0,
    eat_ms: float = 2.0,
    duration_s: float = 0.5,
) -> W.VBox:
    """Controls for the number of philosophers, the strategy, thinking and eating times.

    Press Run: dinner lasts ``duration_s`` (philosophers eat as often as they
    can), then you see the lock timeline (holding solid, waiting hatched), the
    wait-for graph of the first deadlock if there was one, and the meals each
    philosopher ate (a short bar means starving). The logic is
    :func:`concurrency_lab.dining_philosophers`; the first meal is forced into the
    worst case (everyone holds one fork), as in the lesson.

    Introduced in ``05-deadlocks.ipynb``.
    """
    n_w = W.IntSlider(
        value=n,
        min=2,
        max=10,
        description="philosophers",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    strategy_w = W.Dropdown(options=list(STRATEGIES), value=strategy, description="strategy")
    think_w = W.FloatSlider(
        value=think_ms,
        min=0.0,
        max=20.0,
        step=0.5,
        description="think (ms)",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    eat_w = W.FloatSlider(
        value=eat_ms,
        min=0.0,
        max=20.0,
        step=0.5,
        description="eat (ms)",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    explain = W.HTML()
    button = run_button("Run dinner", tooltip="seat the philosophers and let them eat")
    status = W.HTML()
    out = W.Output()

    def describe(*_: Any) -> None:
        explain.value = f"<i>{STRATEGIES[strategy_w.value]}</i>"

    def update(*_: Any) -> None:
        status.value = "<i>dinner is served…</i>"
        outcome = dining_philosophers(
            n_w.value,
            strategy=strategy_w.value,
            meals=None,
            think_s=think_w.value / 1e3,
            eat_s=eat_w.value / 1e3,
            duration_s=duration_s,
            detect_interval_s=0.02,
        )
        box.outcome = outcome  # type: ignore[attr-defined]  # for tests and curious learners
        meals = outcome.progress
        fewest = min(meals, key=lambda p: meals[p])
        text = (
            f"{sum(meals.values())} meals in {outcome.elapsed_s:.2f} s; "
            f"fewest: {fewest} with {meals[fewest]}. "
        )
        if outcome.deadlocked:
            text += (
                f"<b>{len(outcome.deadlocks)} deadlock(s)</b>, the first seen "
                f"{(outcome.detection_s or 0) * 1e3:.0f} ms after it formed, each broken by "
                f"aborting one philosopher."
            )
        else:
            text += "No deadlock."
        status.value = text
        show_in(out, plot_philosophers(outcome))

    describe()
    strategy_w.observe(describe, "value")
    callback = safe_callback(out, update)
    button.on_click(callback)
    box = W.VBox(
        [W.HBox([n_w, strategy_w]), explain, W.HBox([think_w, eat_w, button]), status, out]
    )
    box.run = callback  # type: ignore[attr-defined]  # lets tests and notebooks trigger a run
    box.controls = {  # type: ignore[attr-defined]
        "n": n_w,
        "strategy": strategy_w,
        "think_ms": think_w,
        "eat_ms": eat_w,
        "button": button,
    }
    box.outcome = None  # type: ignore[attr-defined]
    return box
