"""What every exercise self-check returns, tiered hints, and the helpers the checks share.

A check answers with a :class:`Feedback`. When the answer is wrong, the message names the
concept that is missing, never the code; the learner asks for more with ``cl.check.hint()``:
each call gives the next, more concrete hint, and the last one shows the code. Checks build
their answers with :func:`passed` and :func:`failed`::

    return failed(
        "races.counter",
        "Two threads still lost updates: the read-add-write must happen as one step.",
        "Which object makes a block of code run in one thread at a time?",
        "Hold a threading.Lock around the increment: `with lock:`.",
        "```python\nwith counter.lock:\n    counter.value += 1\n```",
    )
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Feedback",
    "Hint",
    "call_checked",
    "call_with_timeout",
    "failed",
    "hint",
    "not_a_function",
    "passed",
]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one exercise answer: ``ok`` and a specific, helpful message.

    >>> Feedback(True, "Both workers ran.")
    ✅ Both workers ran.

    Attributes:
        ok: the answer is right.
        message: what the check found (for a wrong answer: the concept, not the code).
        exercise: which exercise, e.g. ``"races.counter"`` (empty for old-style checks).
        hints: more and more concrete hints, the last usually the code; ``cl.check.hint()``
            shows them one at a time.
    """

    ok: bool
    message: str
    exercise: str = ""
    hints: tuple[str, ...] = field(default=(), repr=False)

    def __bool__(self) -> bool:
        return self.ok

    def _more(self) -> str:
        if self.ok or not self.hints:
            return ""
        n = len(self.hints)
        code = ", the last shows code" if "```" in self.hints[-1] else ""
        return f" (Stuck? `cl.check.hint()` gives a hint; {n} in all{code}.)"

    def __repr__(self) -> str:
        return f"{'✅' if self.ok else '❌'} {self.message}{self._more()}"

    def _repr_markdown_(self) -> str:
        head = "✅ **Correct.**" if self.ok else "❌ **Not yet.**"
        return f"{head} {self.message}{self._more()}"


@dataclass(frozen=True)
class Hint:
    """One hint. Its text is Markdown: write code as a fenced block (```` ```python ````)."""

    exercise: str
    number: int
    total: int
    text: str

    def __repr__(self) -> str:
        plain = re.sub(r"^```\w*\n?|\n?```$", "", self.text.strip(), flags=re.M)
        return f"Hint {self.number} of {self.total} ({self.exercise}):\n{plain}"

    def _repr_markdown_(self) -> str:
        return f"**Hint {self.number} of {self.total}** ({self.exercise}):\n\n{self.text}"


_lock = threading.Lock()
_hints: dict[str, tuple[str, ...]] = {}
_shown: dict[str, int] = {}
_said: dict[str, str] = {}
_last: list[str] = []


def passed(exercise: str, message: str) -> Feedback:
    """A right answer: forget the exercise's hint state and return the good news."""
    with _lock:
        _hints.pop(exercise, None)
        _shown.pop(exercise, None)
        _said.pop(exercise, None)
    return Feedback(True, message, exercise)


def failed(exercise: str, message: str, *hints: str) -> Feedback:
    """A wrong answer: ``message`` names the concept; ``hints`` wait for ``cl.check.hint()``.

    The hints are remembered for ``exercise``, and the exercise becomes the one
    ``cl.check.hint()`` helps with. The same mistake again keeps the count of hints already
    seen; a different mistake (another message) starts again from the first hint.
    """
    with _lock:
        if _hints.get(exercise) != hints or _said.get(exercise) != message:
            # a different mistake starts its hints again from the one that names the concept
            _hints[exercise] = hints
            _said[exercise] = message
            _shown.pop(exercise, None)
        if exercise in _last:
            _last.remove(exercise)
        _last.append(exercise)
    return Feedback(False, message, exercise, hints)


def hint(exercise: str | None = None) -> Hint | str:
    """The next hint for ``exercise`` (default: the last exercise whose check failed).

    >>> fb = failed("demo.ex", "Not yet.", "Think about order.", "start all, then join all")
    >>> hint("demo.ex").text
    'Think about order.'
    >>> hint().text
    'start all, then join all'
    >>> hint().number  # no more hints: the last one again
    2
    """
    with _lock:
        if exercise is None:
            if not _last:
                return "No hints yet: run an exercise's check first; if it fails, ask again."
            exercise = _last[-1]
        hints = _hints.get(exercise)
        if not hints:
            return f"No hints for {exercise!r}: run its check first (or it already passed)."
        n = min(_shown.get(exercise, 0) + 1, len(hints))
        _shown[exercise] = n
    return Hint(exercise, n, len(hints), hints[n - 1])


def call_checked(fn: Callable[..., Any], *args: Any) -> tuple[Any, Exception | None]:
    try:
        return fn(*args), None
    except Exception as exc:
        return None, exc


def not_a_function(exercise: str, obj: object, name: str = "") -> Feedback | None:
    """``None`` when ``obj`` is a function; else the failure every check gives for it.

    The learner called the function (``check(f())``) or passed something else: the message
    says so, and the hint shows the call with the function's ``name`` when it is given.
    """
    if callable(obj):
        return None
    check = exercise.split(".")[-1]
    hint = (
        f"Write the function's name without parentheses: {check}({name}), not {check}({name}())."
        if name
        else "Write the function's name only, without parentheses after it."
    )
    return failed(
        exercise,
        f"Pass your function itself, without calling it (got {type(obj).__name__}).",
        hint,
    )


def call_with_timeout(fn: Callable[..., Any], *args: Any, timeout_s: float) -> tuple[str, Any]:
    """Run ``fn(*args)`` in a helper thread.

    Returns ``("ok", value)``, ``("error", exc)`` or ``("hung", thread)``.
    """
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=main, name="lab-check", daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        return "hung", t
    if "error" in box:
        return "error", box["error"]
    return "ok", box.get("value")
