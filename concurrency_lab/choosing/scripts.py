"""Run another Python as a child program, with a timeout that ends it and every process it started.

The lesson runs small scripts in other interpreters (a free-threaded Python, say) and runs
Dask in a helper process whose scheduler and workers are its own children. On a timeout the
whole tree must go:

* POSIX: the child starts in a new session (its own process group), and the group is killed
  with ``os.killpg``;
* Windows has no process groups to kill: the child's descendants are found with psutil (from
  the lab extra) and killed, then the child; without psutil, ``taskkill /T /F`` does it.

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..core.errors import LabError, WorkerTimeoutError

__all__ = ["kill_tree", "run_child"]


def kill_tree(
    proc: subprocess.Popen[Any],
    *,
    platform: str = sys.platform,
    run: Callable[..., Any] = subprocess.run,
) -> None:
    """End ``proc`` and every process it started, then reap ``proc`` (see the module)."""
    if platform != "win32" and hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    else:
        try:
            import psutil

            try:
                kids = psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                kids = []
            for kid in kids:
                with contextlib.suppress(psutil.Error):
                    kid.kill()
            proc.kill()
            psutil.wait_procs(kids, timeout=5)
        except ImportError:
            run(
                ["taskkill", "/T", "/F", "/PID", str(proc.pid)],
                capture_output=True,
                timeout=15,
                check=False,
            )
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


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
    posix = sys.platform != "win32" and hasattr(os, "killpg")
    proc = subprocess.Popen(
        list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=cwd,
        env=env,
        start_new_session=posix,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
            proc.communicate(timeout=5)
        raise WorkerTimeoutError(
            f"{os.path.basename(args[0])} was still running after timeout_s={timeout_s:g} s; "
            f"the lab killed it and its children.",
            workers=(args[0],),
            timeout_s=timeout_s,
        ) from None
    except BaseException:  # e.g. KeyboardInterrupt: leave nothing behind
        kill_tree(proc)
        raise
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-5:])
        raise LabError(f"{args[0]} failed with exit code {proc.returncode}:\n{tail}")
    return out
