"""The scheduler game of lesson 04: you decide which thread runs its next step.

Each level (``cl.races.LEVELS``) states a challenge: lose an update, book a seat twice, get
the threads stuck. Some levels cannot be won, and the game says so once you finish, with
the count of schedules ``cl.races.interleavings`` tried.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from ..view.explorer import safe_callback
from .levels import LEVELS, Level, level
from .schedules import InterleavingsResult, Scheduler, interleavings
from .steps import Program

__all__ = ["SchedulerGame", "scheduler_game"]


class SchedulerGame:
    """The game: a level picker, its challenge, a step button per thread, Undo, Reset, Show.

    Attributes for tests and curious learners: ``widget`` (what the notebook shows),
    ``scheduler`` (the :class:`~concurrency_lab.races.schedules.Scheduler` being played),
    ``level`` (``None`` for a program of your own), ``level_picker`` (``None`` then too),
    ``step_buttons``, ``undo_button``, ``reset_button``, ``show_button``, ``challenge``,
    ``board`` and ``message`` (``HTML`` widgets; ``message`` says where the game stands).
    """

    def __init__(self, prog: Program | Level | str) -> None:
        self.level_picker: W.Dropdown | None = None
        self.level: Level | None = None
        if isinstance(prog, str):
            prog = level(prog)
        if isinstance(prog, Level):
            options = [(f"{k}. {name}", name) for k, name in enumerate(LEVELS, 1)]
            self.level_picker = W.Dropdown(
                options=options,
                value=prog.name,
                description="level",
                tooltip="pick a level of the ladder; each states its own challenge",
            )
        elif not isinstance(prog, Program):
            raise TypeError(
                f"'prog' must be a level name ({', '.join(map(repr, LEVELS))}), a level or a "
                f"program from cl.races.program(...) (got {prog!r})."
            )
        self._verdicts: dict[str, InterleavingsResult] = {}
        self.out = W.Output()
        self.challenge = W.HTML()
        self.undo_button = W.Button(description="Undo", icon="undo", tooltip="take back a step")
        self.reset_button = W.Button(description="Reset", icon="refresh", tooltip="start over")
        self.show_button = W.Button(
            description="Show a win",
            icon="eye",
            tooltip="replay one schedule that meets the challenge, or say why none can",
        )
        self.buttons_box = W.HBox()
        self.board = W.HTML()
        self.message = W.HTML()
        self.history_log = W.HTML()
        self.step_buttons: list[W.Button] = []
        self.undo_button.on_click(safe_callback(self.out, lambda _: self._undo()))
        self.reset_button.on_click(safe_callback(self.out, lambda _: self._reset()))
        self.show_button.on_click(safe_callback(self.out, lambda _: self.show_win()))
        top: list[W.Widget] = []
        if self.level_picker is not None:
            self.level_picker.observe(
                safe_callback(self.out, lambda ch: self.load(level(ch["new"]))), names="value"
            )
            top.append(self.level_picker)
        controls = [self.undo_button, self.reset_button]
        if self.level_picker is not None:
            controls.append(self.show_button)
        self.widget = W.VBox(
            [
                *top,
                self.challenge,
                self.buttons_box,
                self.board,
                self.message,
                W.HBox(controls),
                self.history_log,
                self.out,
            ]
        )
        self.load(prog)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ wiring

    def load(self, prog: Program | Level) -> None:
        """Start playing a level (or a program of your own) from the beginning."""
        self.level = prog if isinstance(prog, Level) else None
        program = prog.program if isinstance(prog, Level) else prog
        self.scheduler = Scheduler(program)
        self.step_buttons = []
        for i, name in enumerate(program.names):
            b = W.Button(
                description=f"step {name}",
                button_style="primary",
                tooltip=f"run {name}'s next step",
            )
            b.on_click(safe_callback(self.out, lambda _, i=i: self._step(i)))
            self.step_buttons.append(b)
        self.buttons_box.children = tuple(self.step_buttons)
        self.challenge.value = (
            f"<b>Challenge:</b> {html.escape(self.level.challenge)}" if self.level else ""
        )
        self._refresh()

    def _step(self, thread: int) -> None:
        self.scheduler.step(thread)
        self._refresh()

    def _undo(self) -> None:
        self.scheduler.undo()
        self._refresh()

    def _reset(self) -> None:
        self.scheduler.reset()
        self._refresh()

    def verdict(self) -> InterleavingsResult | None:
        """Every schedule of the current level (computed once), or ``None`` for a program."""
        if self.level is None:
            return None
        if self.level.name not in self._verdicts:
            self._verdicts[self.level.name] = interleavings(self.level.program)
        return self._verdicts[self.level.name]

    def winning(self) -> list[str]:
        """The outcomes that meet the current level's challenge (``[]``: it cannot be won)."""
        every = self.verdict()
        if every is None or self.level is None:
            return []
        return [o for o, _ in every.outcomes if self.level.wins(o)]

    def show_win(self) -> None:
        """Replay one winning schedule from the start, or say that none exists."""
        every, wins = self.verdict(), self.winning()
        if every is None:
            return
        self.scheduler.reset()
        if wins:
            for thread in dict(every.examples)[wins[0]]:
                self.scheduler.step(thread)
        self._refresh()
        if not wins:
            self.message.value = _live(self._cannot_win_text(every))

    def _cannot_win_text(self, every: InterleavingsResult) -> str:
        assert self.level is not None
        n = every.n_schedules
        return (
            f"No schedule meets this challenge: interleavings() tried all {n:,} of them. "
            f"{self.level.debrief}"
        )

    # ------------------------------------------------------------------ drawing

    def status_text(self) -> str:
        """The message: where the game stands and, at the end, whether the challenge is met."""
        s = self.scheduler
        text = s.message
        out = s.outcome
        if out is None or self.level is None:
            return text
        if self.level.wins(out):
            return f"Challenge met! {text} {self.level.debrief}"
        every = self.verdict()
        assert every is not None
        if self.winning():
            return f"{text} Not the challenge yet: Undo a few steps and try another order."
        return f"{text} {self._cannot_win_text(every)}"

    def _refresh(self) -> None:
        s = self.scheduler
        for i, b in enumerate(self.step_buttons):
            b.disabled = not s.can_step(i)
        self.undo_button.disabled = not s.history
        self.board.value = _board_html(s)
        self.message.value = _live(self.status_text())
        steps = "".join(f"<li><code>{html.escape(t)}</code></li>" for _, t in s.history)
        self.history_log.value = f"<ol>{steps}</ol>" if steps else ""


def _live(text: str) -> str:
    """The message as HTML a screen reader announces when it changes."""
    return f'<div aria-live="polite"><b>{html.escape(text)}</b></div>'


def _board_html(s: Scheduler) -> str:
    p = s.program
    shared = ", ".join(f"<b>{k}</b> = {v}" for k, v in s.shared.items()) or "(none)"
    held = [f"{lock} held by {p.names[o]}" for lock, o in s.state.owners]
    cells = []
    for i, (name, steps) in enumerate(zip(p.names, p.threads)):
        pc = s.state.pcs[i]
        rows = []
        for j, step in enumerate(steps):
            mark = "&#9654;" if j == pc else "&nbsp;"
            style = "background:#fff3c4;" if j == pc else ""
            rows.append(
                f"<div style='{style}font-family:monospace'>{mark} {j} "
                f"{html.escape(step.text(len(steps)))}</div>"
            )
        local = ", ".join(f"{k} = {v}" for k, v in s.locals(i).items()) or "(none yet)"
        cells.append(
            f"<td style='vertical-align:top;padding:4px 12px'><b>{html.escape(name)}</b>"
            f"{''.join(rows)}<div>locals: {html.escape(local)}</div>"
            f"<div>next: <i>{html.escape(s.next_step(i))}</i></div></td>"
        )
    locks = f"<div>locks: {html.escape('; '.join(held))}</div>" if held else ""
    goal = f"<div><i>{html.escape(p.goal)}</i></div>" if p.goal else ""
    return f"{goal}<div>shared: {shared}</div>{locks}<table><tr>{''.join(cells)}</tr></table>"


def scheduler_game(prog: Program | Level | str = "lost update") -> SchedulerGame:
    """Be the scheduler: step each thread of a tiny program, undo, and try to meet the challenge.

    Give a level name (``"lost update"``, ``"check-then-act"``, ``"a lock fixes it"``, ...;
    see ``cl.races.LEVELS``) to play the ladder (a picker switches levels), or your own
    program from ``cl.races.program(...)``. The message says when the threads finish in a
    state no one-after-another run gives (a race), deadlock or get stuck, and whether that
    meets the level's challenge. Introduced in ``04-races-and-locks.ipynb``.

    Raises:
        ValueError: an unknown level name.
        TypeError: anything else than a level name, a level or a program.
    """
    return SchedulerGame(prog)
