"""Run another Python as a child program, with a timeout that ends it and every process it started.

The lesson runs small scripts in other interpreters (a free-threaded Python, say) and runs
Dask in a helper process whose scheduler and workers are its own children. The waiting and
the clean-up are the core's (:func:`concurrency_lab.core.children.run_program`); this adds
the errors the lesson reports.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..core.children import run_program
from ..core.errors import LabError, WorkerTimeoutError

__all__ = ["run_child"]


def run_child(
    args: Sequence[str],
    *,
    timeout_s: float,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``args``; return its standard output, or raise if it fails or overruns.

    Raises:
        WorkerTimeoutError: still running after ``timeout_s``: it and its children were
            killed.
        LabError: it ended with a non-zero exit code (the message has its last lines of
            standard error).
    """
    ran = run_program(args, timeout_s=timeout_s, cwd=cwd, env=env)
    if ran.timed_out:
        raise WorkerTimeoutError(
            f"{os.path.basename(args[0])} was still running after timeout_s={timeout_s:g} s; "
            f"the lab killed it and its children.",
            workers=(args[0],),
            timeout_s=timeout_s,
        )
    if ran.returncode != 0:
        tail = "\n".join(ran.stderr.strip().splitlines()[-5:])
        raise LabError(f"{args[0]} failed with exit code {ran.returncode}:\n{tail}")
    return ran.stdout
