"""Run a small Python script as its own program, and the ``if __name__ == "__main__":`` rule.

Some problems only show up in a real script, not in a notebook: a script is the main
module that a ``spawn`` or ``forkserver`` child imports again. :func:`run_script` writes a
script into a temporary folder, runs it with this Python and a timeout, and stops it and
every process it started if it overruns.

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from ..core.children import run_program
from ..core.machine import check_start_method
from ..core.results import Result
from ..core.validate import check_timeout
from .vocabulary import StartMethodName, check_fixed

__all__ = ["MainGuardResult", "ScriptResult", "main_guard_script", "run_script"]

# The first line of a Python error report: "SomeError: what happened".
_ERROR_LINE = re.compile(r"^(\w+(?:Error|Exception)):\s*(.*)$")


@dataclass(frozen=True)
class ScriptResult(Result):
    """A script run as a separate ``python`` program, and what it printed.

    Attributes:
        script: the script's source.
        returncode: its exit code (``None`` if the lab stopped it on timeout).
        stdout, stderr: what it printed.
        timed_out: the lab stopped it after the timeout.
    """

    script: str
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool

    @property
    def error(self) -> str:
        """The first error the script (or a process it started) reported, as one line.

        A message that goes on over several indented lines, as multiprocessing's
        bootstrapping ``RuntimeError`` does, is joined up to the end of its first sentence.
        ``""`` when stderr names no error.
        """
        lines = self.stderr.splitlines()
        for i, line in enumerate(lines):
            match = _ERROR_LINE.match(line.strip())
            if not match:
                continue
            name, text = match.groups()
            words = text.split()
            for more in lines[i + 1 :]:  # indented lines continue the message
                if not more[:1].isspace() or not more.strip() or (words and words[-1][-1] == "."):
                    break
                words.extend(more.split())
            return f"{name}: {' '.join(words)}".strip()
        return ""

    def summary(self) -> str:
        if self.timed_out:
            head = "The script did not finish in time, so the lab stopped it"
        else:
            head = f"The script exited with code {self.returncode}"
        out = " | ".join(self.stdout.strip().splitlines()) or "nothing"
        text = f"{head}. It printed: {out}."
        if self.error:
            text += f" Its stderr reported {self.error}"
        return text


def run_script(source: str, *, args: Sequence[str] = (), timeout_s: float = 60.0) -> ScriptResult:
    """Save ``source`` as ``my_script.py`` in a temporary folder and run ``python my_script.py``.

    On timeout the lab stops it together with every process it started
    (:func:`concurrency_lab.core.children.run_program`).

    Args:
        source: the script.
        args: command-line arguments for it.
        timeout_s: the script is stopped after this long.

    Introduced in ``08-common-problems.ipynb``.
    """
    if not isinstance(source, str):
        raise TypeError(f"'source' must be the script's text, a str (got {type(source).__name__}).")
    timeout_s = check_timeout(timeout_s)
    with tempfile.TemporaryDirectory(prefix="lab-script-") as folder:
        path = os.path.join(folder, "my_script.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        ran = run_program([sys.executable, path, *map(str, args)], timeout_s=timeout_s, cwd=folder)
    return ScriptResult(
        script=source,
        returncode=ran.returncode,
        stdout=ran.stdout,
        stderr=ran.stderr,
        timed_out=ran.timed_out,
    )


# --------------------------------------------------------------------------- the __main__ guard

_HEAD = """\
import multiprocessing as mp


def work():
    print("child: working", flush=True)

"""

_BODY = """\
ctx = mp.get_context({method!r})
p = ctx.Process(target=work)
p.start()
p.join(30)
print("parent: child exit code", p.exitcode, flush=True)
"""


@dataclass(frozen=True)
class MainGuardResult(ScriptResult):
    """A script that starts one process, with or without the ``__main__`` guard.

    Attributes:
        fixed: the process-starting code was under ``if __name__ == "__main__":``.
        start_method: the script's start method.
    """

    fixed: bool = False
    start_method: str = "spawn"

    @property
    def bootstrapping_error(self) -> bool:
        """A child refused to start a process during its own start-up."""
        return "bootstrapping phase" in self.stderr

    def summary(self) -> str:
        said = " | ".join(self.stdout.strip().splitlines()) or "nothing"
        if self.bootstrapping_error:
            return (
                f"Without the guard, the {self.start_method} child imported the script again, "
                f"ran its top-level code and tried to start a process of its own. "
                f"multiprocessing stopped it with {self.error} The parent printed: {said}."
            )
        if not self.fixed and self.start_method == "fork" and self.returncode == 0:
            return (
                f"Under fork the child does not import the script again, so the missing guard "
                f"did no harm here (the parent printed: {said}). It still breaks under spawn "
                f"and forkserver: the default on macOS, Windows and, from Python 3.14, Linux."
            )
        if self.fixed and self.returncode == 0:
            return (
                f"With the guard, the {self.start_method} child imported the script as "
                f"__mp_main__, skipped the guarded block and ran work(). It printed: {said}."
            )
        return ScriptResult.summary(self)


def main_guard_script(
    *,
    fixed: bool = False,
    start_method: StartMethodName = "spawn",
    timeout_s: float = 60.0,
) -> MainGuardResult:
    """Run a tiny script that starts one process, without (or with) the ``__main__`` guard.

    Under ``spawn`` and ``forkserver`` a child imports the main script again to find
    ``work``. Without ``if __name__ == "__main__":`` that import runs the top-level code
    again, which tries to start another process from inside the child: multiprocessing
    stops it with ``RuntimeError: An attempt has been made to start a new process before
    the current process has finished its bootstrapping phase``. Under ``fork`` nothing is
    imported again.

    Args:
        fixed: put the process-starting code under the ``__main__`` guard.
        start_method: the script's start method.
        timeout_s: the script is stopped after this long.

    Introduced in ``08-common-problems.ipynb``.
    """
    fixed = check_fixed(fixed)
    method = check_start_method(start_method)
    body = _BODY.format(method=method)
    if fixed:
        body = 'if __name__ == "__main__":\n' + "".join(
            f"    {line}\n" for line in body.splitlines()
        )
    run = run_script(_HEAD + body, timeout_s=timeout_s)
    return MainGuardResult(
        script=run.script,
        returncode=run.returncode,
        stdout=run.stdout,
        stderr=run.stderr,
        timed_out=run.timed_out,
        fixed=fixed,
        start_method=method,
    )
