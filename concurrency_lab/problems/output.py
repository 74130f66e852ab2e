"""Output that lands somewhere else: what a child process prints never reaches its parent.

A program that captures its output (a test runner, a web service, a notebook) replaces
``sys.stdout`` with an object of its own. A child process writes to *its own* standard
output: a ``spawn`` or ``forkserver`` child to file descriptor 1, a ``fork`` child into its
copy of the parent's object. Either way nothing arrives in the parent's ``sys.stdout``.
Jupyter adds plumbing that forwards much of it into the running cell on Linux and macOS (on
Windows it goes to the terminal that started Jupyter), which is why it can seem to work.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import io
import os
import sys
from dataclasses import dataclass

from ..core.children import stop_processes
from ..core.machine import check_start_method, get_context
from ..core.results import Result
from ..core.validate import check_timeout
from .vocabulary import StartMethodName, check_fixed

__all__ = ["OutputResult", "greeting", "print_greeting", "where_output_goes"]


def greeting() -> str:
    """The line a worker reports: ``"hello from process <pid>"``."""
    return f"hello from process {os.getpid()}"


def print_greeting() -> None:
    """Print :func:`greeting` in this process (and flush, so it is not lost at exit)."""
    print(greeting())
    sys.stdout.flush()


@dataclass(frozen=True)
class OutputResult(Result):
    """What reached the parent's ``sys.stdout`` when a child process reported.

    Attributes:
        fixed: ``False`` = the child printed; ``True`` = the child returned its text (through
            a ``ProcessPoolExecutor``) and the parent printed it.
        start_method: how the child started.
        parent_saw: everything the parent's ``sys.stdout`` received.
    """

    fixed: bool
    start_method: str
    parent_saw: str

    def summary(self) -> str:
        seen = self.parent_saw.strip()
        if self.fixed and seen:
            return (
                f"The worker returned its line and the parent printed it, so it reached the "
                f"parent's sys.stdout: {seen!r}."
            )
        if not seen:
            return (
                f"The {self.start_method} child printed a line, but the parent's sys.stdout "
                f"received nothing: a child writes to its own standard output. (Jupyter on "
                f"Linux and macOS also copies that into the running cell; on Windows it goes "
                f"to the terminal that started Jupyter; test runners and services drop it.)"
            )
        return f"The parent's sys.stdout received {seen!r}."


def where_output_goes(
    *,
    fixed: bool = False,
    start_method: StartMethodName | None = None,
    timeout_s: float = 30.0,
) -> OutputResult:
    """A child process reports a line: does it reach the parent's ``sys.stdout`` object?

    For the demo the parent's ``sys.stdout`` is a plain buffer, as under a test runner. The
    broken version starts a bare ``Process`` that prints; the fix (``fixed=True``) has the
    worker *return* its line through a ``ProcessPoolExecutor``, and the parent prints it.

    Introduced in ``08-common-problems.ipynb``.
    """
    fixed = check_fixed(fixed)
    method = check_start_method(start_method)
    ctx = get_context(method)
    timeout_s = check_timeout(timeout_s)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        if fixed:
            with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as executor:
                print(executor.submit(greeting).result(timeout=timeout_s))
        else:
            p = ctx.Process(target=print_greeting, daemon=True)  # type: ignore[attr-defined]
            try:
                p.start()
                p.join(timeout_s)
            finally:
                if p.pid is not None:
                    stop_processes([p])
    return OutputResult(fixed, method, buffer.getvalue())
