"""The result every self-check returns."""

from __future__ import annotations

from dataclasses import dataclass

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
