"""The scheduler game of lesson 04: you decide which thread runs its next step."""

from __future__ import annotations

import html

import ipywidgets as W

from ..view.explorer import safe_callback
from .programs import LEVELS, Program, Scheduler, level

__all__ = ["SchedulerGame", "scheduler_game"]


class SchedulerGame(W.VBox):
    """The game's widget: one step button per thread, Undo, Reset, the state, a message.

    Attributes for tests and curious learners: ``scheduler`` (the
    :class:`~concurrency_lab.race_programs.Scheduler` being played), ``step_buttons``,
    ``undo_button``, ``reset_button``, ``level_picker`` (``None`` for a custom
    program), ``board`` (an ``HTML`` of the state) and ``message`` (an ``HTML``).
    """

    def __init__(self, prog: Program | str) -> None:
        self.level_picker: W.Dropdown | None = None
        if isinstance(prog, str):
            start = level(prog)
            self.level_picker = W.Dropdown(options=list(LEVELS), value=prog, description="level")
        elif isinstance(prog, Program):
            start = prog
        else:
            raise TypeError(
                f"'prog' must be a level name ({', '.join(map(repr, LEVELS))}) or a program "
                f"from cl.races.program(...) (got {prog!r})."
            )
        self.out = W.Output()
        self.undo_button = W.Button(description="Undo", icon="undo")
        self.reset_button = W.Button(description="Reset", icon="refresh")
        self.buttons_box = W.HBox()
        self.board = W.HTML()
        self.message = W.HTML()
        self.history_log = W.HTML()
        self.step_buttons: list[W.Button] = []
        self.undo_button.on_click(safe_callback(self.out, lambda _: self._undo()))
        self.reset_button.on_click(safe_callback(self.out, lambda _: self._reset()))
        top: list[W.Widget] = []
        if self.level_picker is not None:
            self.level_picker.observe(
                safe_callback(self.out, lambda ch: self.load(level(ch["new"]))), names="value"
            )
            top.append(self.level_picker)
        super().__init__(
            [
                *top,
                self.buttons_box,
                self.board,
                self.message,
                W.HBox([self.undo_button, self.reset_button]),
                self.history_log,
                self.out,
            ]
        )
        self.load(start)

    # ------------------------------------------------------------------ wiring

    def load(self, prog: Program) -> None:
        """Start playing ``prog`` from the beginning."""
        self.scheduler = Scheduler(prog)
        self.step_buttons = []
        for i, name in enumerate(prog.names):
            b = W.Button(description=f"step {name}", button_style="primary")
            b.on_click(safe_callback(self.out, lambda _, i=i: self._step(i)))
            self.step_buttons.append(b)
        self.buttons_box.children = tuple(self.step_buttons)
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

    # ------------------------------------------------------------------ drawing

    def _refresh(self) -> None:
        s = self.scheduler
        for i, b in enumerate(self.step_buttons):
            b.disabled = not s.can_step(i)
        self.undo_button.disabled = not s.history
        self.board.value = _board_html(s)
        colour = {"running": "#333", "finished": "#1a7f37", "deadlock": "#b35900"}[s.status]
        if s.is_race and s.outcome != "deadlock":
            colour = "#c62828"
        self.message.value = f"<b style='color:{colour}'>{html.escape(s.message)}</b>"
        steps = "".join(f"<li><code>{html.escape(t)}</code></li>" for _, t in s.history)
        self.history_log.value = f"<ol>{steps}</ol>" if steps else ""


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


def scheduler_game(prog: Program | str = "lost update") -> SchedulerGame:
    """Be the scheduler: step each thread of a tiny program, undo, and try to break it.

    Give a level name (``"lost update"``, ``"check-then-act"``, ``"a lock fixes it"``,
    ``"two locks deadlock"``, ``"missed wake-up"``, ...; see ``cl.races.LEVELS``) to get a
    level picker too, or your own program from :func:`concurrency_lab.program`.
    A message says when the threads finish in a state no one-after-another run
    gives (a race) or when they deadlock. Introduced in ``04-races-and-locks.ipynb``.
    """
    return SchedulerGame(prog)
