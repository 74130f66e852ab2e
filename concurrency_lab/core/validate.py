"""Argument checks shared by every lesson: one message style for one kind of mistake.

Each ``check_*`` returns the value it accepted (normalised) or raises ``TypeError`` /
``ValueError`` saying what must hold and what was given, e.g.
``'n_workers' must be >= 1 (got 0).`` :func:`check_can_send` explains, before anything starts,
why a function or argument cannot reach a child process and how to fix it.
"""

from __future__ import annotations

import pickle
import sys

from .errors import (
    NotebookFunctionError,
    UnpicklableError,
)
from .machine import (
    KINDS,
    max_workers,
    usable_cores,
)

__all__ = [
    "check_callable",
    "check_can_send",
    "check_count",
    "check_kind",
    "check_n_workers",
    "check_timeout",
    "main_module_is_importable",
]


def check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise ValueError(f"'kind' must be 'thread' or 'process' (got {kind!r}).")
    return str(kind)


def check_n_workers(n_workers: object, kind: str) -> int:
    if isinstance(n_workers, bool) or not isinstance(n_workers, int):
        raise TypeError(
            f"'n_workers' must be a whole number (got {n_workers!r} of type "
            f"{type(n_workers).__name__})."
        )
    if n_workers < 1:
        raise ValueError(f"'n_workers' must be >= 1 (got {n_workers}).")
    limit = max_workers(kind)
    if n_workers > limit:
        why = (
            "each thread costs memory and the lessons never need more"
            if kind == "thread"
            else f"this machine has {usable_cores()} usable cores; more processes only queue up"
        )
        raise ValueError(
            f"'n_workers' must be <= {limit} for kind={kind!r} (got {n_workers}): {why}."
        )
    return n_workers


def check_count(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"'{name}' must be a whole number (got {value!r}).")
    if not low <= value <= high:
        raise ValueError(f"'{name}' must be between {low} and {high} (got {value}).")
    return value


def check_timeout(timeout_s: object) -> float:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ValueError(f"'timeout_s' must be a positive number of seconds (got {timeout_s!r}).")
    return float(timeout_s)


def check_callable(target: object, name: str) -> None:
    if not callable(target):
        raise TypeError(
            f"'{name}' must be a function to run in each worker (got {target!r} of type "
            f"{type(target).__name__}). Pass the function itself, without calling it: "
            f"{name}=cl.cpu_bound, not {name}=cl.cpu_bound(10)."
        )


def main_module_is_importable() -> bool:
    """True when ``__main__`` is a file a spawned child can re-import (a script)."""
    main = sys.modules.get("__main__")
    return bool(getattr(main, "__file__", None)) and not hasattr(main, "get_ipython")


def _describe(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)


def check_can_send(obj: object, what: str, start_method: str) -> None:
    """Fail early, and helpfully, if ``obj`` cannot reach a child process."""
    if (
        callable(obj)
        and getattr(obj, "__module__", None) == "__main__"
        and not main_module_is_importable()
    ):
        name = _describe(obj)
        raise NotebookFunctionError(
            f"{what} {name!r} is defined in this notebook (module __main__), and a "
            f"{start_method!r} child process cannot see it.\n"
            f"Why: processes do not share memory. pickle sends a function by name "
            f"('{name} from __main__'); the child starts a fresh Python whose __main__ is "
            f"not your notebook, so it would die with \"AttributeError: Can't get attribute "
            f"'{name}'\".\n"
            f"Fix: put the function in a module the child can import. Run "
            f"'%load_ext concurrency_lab' once, then begin the cell that defines {name} with "
            f"'%%worker_module my_tasks': the cell is saved as my_tasks.py and imported, and "
            f"you pass my_tasks.{name}. (Or use one of the lab's functions, e.g. cl.cpu_bound.)"
        )
    try:
        pickle.dumps(obj)
    except Exception as exc:
        if callable(obj):
            fix = (
                "Fix: define the function with 'def' at the top level of a .py module (in a "
                "notebook: '%%worker_module', see lesson 01) and pass it by name."
            )
        else:
            fix = (
                "Fix: pass plain data (numbers, strings, lists, dicts, arrays) and create locks, "
                "files or connections inside the worker instead."
            )
        shown = _describe(obj) if callable(obj) else type(obj).__name__
        raise UnpicklableError(
            f"{what} {shown!r} cannot be sent to a process: pickle failed with "
            f"{type(exc).__name__}: {exc}.\n"
            f"Why: a child process gets its own copy of everything it needs, made with pickle. "
            f"Lambdas, functions defined inside other functions, locks and open files cannot "
            f"be pickled (plain pickle cannot send sockets either).\n{fix}"
        ) from None
