"""The clinic explorer: pick a problem, run its broken or its fixed version, read what happened.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

from ..core.results import Result
from ..view.explorer import Choice, Explorer, Toggle
from .all_problems import CLINIC, clinic

__all__ = ["clinic_explorer"]


def clinic_explorer() -> Explorer[Result]:
    """Pick a problem of the clinic, run its broken or its fixed version, compare the results.

    Every version is bounded by timeouts, so none can hang the notebook; most answer within
    about a second (the ones that start a fresh Python take a little longer under spawn).

    >>> ex = clinic_explorer()
    >>> ex.controls["problem"].value = "an exception in a thread"
    >>> ex.controls["fixed"].value = True
    >>> ex.run().caught
    'ZeroDivisionError: division by zero'

    Introduced in ``08-common-problems.ipynb``.
    """
    return Explorer(
        clinic,
        {
            "problem": Choice(
                "problem", list(CLINIC), help="which of the clinic's problems to reproduce"
            ),
            "fixed": Toggle(
                "run the fixed version", help="off: the broken code; on: the same job, fixed"
            ),
        },
        title="The clinic: run a problem, broken or fixed",
        button="Run it",
        button_help="Run the chosen version (every wait has a timeout)",
    )
