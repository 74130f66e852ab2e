"""The clinic's catalogue: every problem by name, with its broken and its fixed version.

Each entry is a pair of small functions that run the problem's demo with its default
(short) timeouts, so the clinic explorer answers in about a second and never hangs.

>>> print(clinic("an exception in a thread", fixed=True))  # doctest: +ELLIPSIS
Through a ThreadPoolExecutor, future.result() raised ZeroDivisionError: division by zero ...

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from ..core.results import Result
from ..core.validate import check_choice
from .failures import dead_worker, thread_exception
from .output import where_output_goes
from .process_tree import orphan_demo
from .scripts import main_guard_script
from .sharing import fork_with_held_lock, global_counter
from .vocabulary import check_fixed

__all__ = ["CLINIC", "ProblemName", "clinic"]

ProblemName = Literal[
    "an exception in a thread",
    "a pool worker dies",
    "a script without the __main__ guard",
    "print in a child process",
    "fork while another thread holds a lock",
    "a killed worker's child",
    "a global counter in processes",
]

#: Each problem of the clinic: ``(broken version, fixed version)``, both safe to run.
CLINIC: dict[str, tuple[Callable[[], Result], Callable[[], Result]]] = {
    "an exception in a thread": (
        lambda: thread_exception(),
        lambda: thread_exception(fixed=True),
    ),
    "a pool worker dies": (
        lambda: dead_worker(timeout_s=1.0),
        lambda: dead_worker(fixed=True),
    ),
    "a script without the __main__ guard": (
        lambda: main_guard_script(),
        lambda: main_guard_script(fixed=True),
    ),
    "print in a child process": (
        lambda: where_output_goes(),
        lambda: where_output_goes(fixed=True),
    ),
    "fork while another thread holds a lock": (
        lambda: fork_with_held_lock(start_method="fork"),
        lambda: fork_with_held_lock(start_method="spawn"),
    ),
    "a killed worker's child": (
        lambda: orphan_demo(),
        lambda: orphan_demo(fixed=True),
    ),
    "a global counter in processes": (
        lambda: global_counter(),
        lambda: global_counter(fixed=True),
    ),
}


def clinic(problem: ProblemName, *, fixed: bool = False) -> Result:
    """Run the broken (or the fixed) version of one of the clinic's problems by name.

    Args:
        problem: a key of :data:`CLINIC`.
        fixed: run the fixed version.

    Returns:
        The demo's result; ``print(result)`` says what happened.

    Raises:
        ValueError: unknown problem (the message lists them).

    Introduced in ``08-common-problems.ipynb``.
    """
    name = check_choice(problem, "problem", tuple(CLINIC))
    return CLINIC[name][1 if check_fixed(fixed) else 0]()
