"""The words every demo of the clinic shares: start-method names and the broken/fixed switch.

Every problem of ``08-common-problems.ipynb`` comes as a pair: the broken version (the
default) and the repaired one (``fixed=True``), so a notebook cell, the clinic explorer and a
test can run both the same way.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["StartMethodName", "check_fixed"]

#: A ``multiprocessing`` start method, by name.
StartMethodName = Literal["fork", "spawn", "forkserver"]


def check_fixed(fixed: object) -> bool:
    """``fixed`` must be ``True`` (the repaired version) or ``False`` (the broken one).

    >>> check_fixed(True)
    True
    >>> check_fixed("yes")
    Traceback (most recent call last):
    ...
    TypeError: 'fixed' must be True (run the fix) or False (run the problem) (got 'yes').
    """
    if not isinstance(fixed, bool):
        raise TypeError(
            f"'fixed' must be True (run the fix) or False (run the problem) (got {fixed!r})."
        )
    return fixed
