"""Learner-friendly exceptions: each says what went wrong, why, and what to do.

Every error the lab raises on purpose is a :class:`LabError`. Errors about bad
arguments are also a ``ValueError`` or ``TypeError``, so ordinary ``except``
clauses keep working. Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

__all__ = [
    "LabError",
    "NotebookFunctionError",
    "UnpicklableError",
    "WorkerCrashedError",
    "WorkerError",
    "WorkerTimeoutError",
]


class LabError(Exception):
    """Base class of every error the lab raises on purpose."""


class UnpicklableError(LabError, TypeError):
    """An object must travel to another process, but ``pickle`` cannot copy it.

    Processes do not share memory: everything a child needs (its function and
    its arguments) is pickled, sent, and rebuilt on the other side.
    """


class NotebookFunctionError(UnpicklableError):
    """A function defined in a notebook was handed to a ``spawn``/``forkserver`` child.

    ``pickle`` sends functions *by name*: "the function ``f`` of module
    ``__main__``". A ``spawn`` or ``forkserver`` child starts a fresh interpreter
    whose ``__main__`` is not your notebook, so it cannot find ``f`` and dies.
    """


class WorkerError(LabError):
    """A worker raised an exception; the original traceback is kept in ``remote_traceback``."""

    def __init__(
        self, message: str, *, worker: str, exc_type: str, remote_traceback: str = ""
    ) -> None:
        super().__init__(message)
        self.worker = worker
        self.exc_type = exc_type
        self.remote_traceback = remote_traceback


class WorkerCrashedError(LabError):
    """A worker process ended without reporting back (``os._exit``, a signal, a segfault)."""

    def __init__(self, message: str, *, worker: str, exitcode: int | None) -> None:
        super().__init__(message)
        self.worker = worker
        self.exitcode = exitcode


class WorkerTimeoutError(LabError, TimeoutError):
    """A worker was still running when ``timeout_s`` ran out."""

    def __init__(self, message: str, *, workers: tuple[str, ...], timeout_s: float) -> None:
        super().__init__(message)
        self.workers = workers
        self.timeout_s = timeout_s
