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
    WINDOWS_MAX_PROCESSES,
    max_workers,
    usable_cores,
)

__all__ = [
    "check_callable",
    "check_can_send",
    "check_choice",
    "check_count",
    "check_kind",
    "check_n_workers",
    "check_number",
    "check_timeout",
    "check_whole",
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
        if kind == "thread":
            why = "each thread costs memory and the lessons never need more"
        elif sys.platform == "win32" and limit == WINDOWS_MAX_PROCESSES:
            why = "Windows lets a process pool have at most 61 workers"
        else:
            why = f"this machine has {usable_cores()} usable cores; more processes only queue up"
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
    """Fail early, and helpfully, if ``obj`` cannot reach a child process.

    Under ``fork`` a child starts as a copy of this process, so a function defined in the
    notebook is found there by name (when the child is forked after the definition, as the
    lab's runners always do); it must still be picklable by name. Under ``spawn`` and
    ``forkserver`` the child re-imports it, which a notebook's ``__main__`` cannot offer.
    """
    if (
        start_method != "fork"
        and callable(obj)
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


# --------------------------------------------------------------------------- plain values


def check_whole(
    value: object, name: str, *, low: int | None = None, high: int | None = None
) -> int:
    """A whole number (not a bool) within ``[low, high]``; returns it.

    >>> check_whole(3, "n_items", low=1)
    3
    >>> check_whole(0, "n_items", low=1)
    Traceback (most recent call last):
    ...
    ValueError: 'n_items' must be a whole number >= 1 (got 0).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"'{name}' must be a whole number{_range(low, high)} (got {value!r}).")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"'{name}' must be a whole number{_range(low, high)} (got {value}).")
    return value


def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
    low_open: bool = False,
) -> float:
    """A real number (not a bool) within ``[low, high]`` (``(low, high]`` with ``low_open``).

    >>> check_number(0.5, "wait_s", low=0, unit=" seconds")
    0.5
    >>> check_number(-1, "wait_s", low=0, unit=" seconds")
    Traceback (most recent call last):
    ...
    ValueError: 'wait_s' must be a number of seconds >= 0 (got -1).
    """
    what = f"a number{' of' + unit if unit else ''}"
    bounds = _range(low, high, low_open=low_open)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise TypeError(f"'{name}' must be {what}{bounds} (got {value!r}).")
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high):
        raise ValueError(f"'{name}' must be {what}{bounds} (got {value!r}).")
    return float(value)


def check_choice(value: object, name: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed``; the message lists them.

    >>> check_choice("queue", "primitive", ("pipe", "queue"))
    'queue'
    """
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"'{name}' must be one of {options} (got {value!r}).")
    return str(value)


def _range(low: float | None, high: float | None, *, low_open: bool = False) -> str:
    lo, hi = _num(low), _num(high)
    if low is not None and high is not None:
        return f" between {lo} and {hi}" if not low_open else f" > {lo} and <= {hi}"
    if low is not None:
        return f" > {lo}" if low_open else f" >= {lo}"
    if high is not None:
        return f" <= {hi}"
    return ""


def _num(x: float | None) -> str:
    """A bound as a person writes it: ``268435456``, ``0.5``, not ``2.68435e+08``."""
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
