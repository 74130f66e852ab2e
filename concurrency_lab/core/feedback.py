"""What every exercise self-check returns, and the small helpers the checks share."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Feedback"]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one exercise answer: ``ok`` and a specific, helpful message.

    >>> Feedback(True, "Both workers ran.")
    ✅ Both workers ran.
    """

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"{'✅' if self.ok else '❌'} {self.message}"

    def _repr_markdown_(self) -> str:
        return f"{'✅ **Correct.**' if self.ok else '❌ **Not yet.**'} {self.message}"


def call_checked(fn: Callable[..., Any], *args: Any) -> tuple[Any, Exception | None]:
    try:
        return fn(*args), None
    except Exception as exc:
        return None, exc


def not_callable(obj: object) -> Feedback | None:
    if callable(obj):
        return None
    return Feedback(
        False, f"Pass your function itself, without calling it (got {type(obj).__name__})."
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
