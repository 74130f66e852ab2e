"""Self-checks for the exercises: ``cl.check.<lesson>.<exercise>(answer)``; ``cl.check.hint()``.

Each check runs the learner's answer and replies with a :class:`Feedback`: ``ok`` and a
specific message. The checks of lesson ``NN-name.ipynb`` live beside its other tools, in
``concurrency_lab/<lesson>/checks.py``; ``cl.check.gil`` is that module. Solutions live apart,
in ``notebooks/solutions/``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..core.feedback import Feedback, hint

__all__ = ["Feedback", "hint"]

_LESSONS_WITH_CHECKS = (
    "threads_and_processes",
    "gil",
    "scaling",
    "races",
    "deadlocks",
    "ipc",
    "choosing",
    "problems",
)


def __getattr__(name: str) -> ModuleType:
    if name in _LESSONS_WITH_CHECKS:
        module = importlib.import_module(f"concurrency_lab.{name}.checks")
        globals()[name] = module
        return module
    raise AttributeError(
        f"cl.check has no {name!r}: the checks are grouped by lesson, "
        f"e.g. cl.check.{_LESSONS_WITH_CHECKS[0]} ({', '.join(_LESSONS_WITH_CHECKS)})."
    )


def __dir__() -> list[str]:
    return sorted([*__all__, *_LESSONS_WITH_CHECKS])
