"""The course's jobs, from any shell: ``python -m concurrency_lab lab | check | test``.

* ``lab`` opens the course in JupyterLab, on this machine only (127.0.0.1), with a login token.
* ``check`` runs the pre-workshop check and prints one verdict line to paste into the
  workshop's shared document (see ``docs/setup.md``).
* ``test`` runs every check and test of the project, step by step; options after ``test`` go
  to pytest.

Run it with the Python of the course's virtual environment, e.g. on Windows
``.venv\\Scripts\\python -m concurrency_lab lab``. The bash script ``./course`` makes that
environment and then calls this module, so both routes run the same steps.

This module imports only the standard library; each job imports what it needs when it runs.

Introduced in ``00-start-here.ipynb`` (set-up: ``docs/setup.md``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

__all__ = ["JOBS", "Step", "build_steps", "lab_command", "main", "run_steps"]

#: The port JupyterLab asks for first (it tries the next ones when it is taken); ``PORT`` overrides.
DEFAULT_PORT = 8888

#: Environment variable that makes the browser test fail instead of skip (set in CI).
REQUIRE_BROWSER_ENV = "CONCURRENCY_LAB_REQUIRE_BROWSER"
#: nbval's limit for one notebook cell. The slowest lesson runs top to bottom in about half a
#: minute here (docs/lesson-minutes.json), so a cell near this limit is a regression.
NBVAL_CELL_TIMEOUT_S = 60


def _course_root() -> Path:
    """The course folder (the checkout holding ``notebooks/``), or exit with what to do."""
    from .core.install import course_root

    root = course_root()
    if root is None:
        _fail(
            "Cannot find the course folder (with notebooks/ and pyproject.toml) next to this "
            "package or in the current folder. Run this from the course folder, with the "
            "Python you installed the course into (see docs/setup.md)."
        )
    return root


def _fail(message: str, code: int = 1) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def _say(title: str) -> None:
    print(f"\n== {title}", flush=True)


def _posix() -> bool:
    return os.name == "posix"


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)  # POSIX only
    return geteuid is not None and geteuid() == 0


# --------------------------------------------------------------------------------------- lab


def lab_command(
    notebooks: Path,
    *,
    python: str,
    port: int | str = DEFAULT_PORT,
    as_root: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command line that opens ``notebooks`` in JupyterLab, reachable from this machine only.

    JupyterLab keeps its login token (it is never switched off here), and ``--allow-root`` is
    passed only when the user is root, which JupyterLab otherwise refuses.

    Args:
        notebooks: the folder JupyterLab shows.
        python: the interpreter that has JupyterLab installed.
        port: the first port to try.
        as_root: the current user is root.
        extra: more JupyterLab options, appended last.

    Returns:
        The argument list, starting with ``python``.

    >>> lab_command(Path("nb"), python="py", port=9000)[:6]
    ['py', '-m', 'jupyterlab', '--ip', '127.0.0.1', '--port']
    """
    command = [python, "-m", "jupyterlab", "--ip", "127.0.0.1", "--port", str(port)]
    if as_root:
        command.append("--allow-root")
    command.append(f"--ServerApp.root_dir={notebooks}")
    command.extend(extra)
    return command


def job_lab(args: Sequence[str]) -> int:
    """Open the course in JupyterLab (replaces this process on Linux and macOS)."""
    import importlib.util

    root = _course_root()
    if importlib.util.find_spec("jupyterlab") is None:
        from .core.install import install_hint

        _fail(
            f"JupyterLab is not installed in this Python ({sys.executable}). Run:\n  "
            + install_hint("lab")
        )
    port = os.environ.get("PORT") or DEFAULT_PORT
    command = lab_command(
        root / "notebooks", python=sys.executable, port=port, as_root=_is_root(), extra=args
    )
    _say("Opening the course in JupyterLab (on this machine only, with a login token)")
    print(
        "Open the link with the token that JupyterLab prints below; start with "
        "00-start-here.ipynb. Stop it with Ctrl+C (twice).",
        flush=True,
    )
    if _posix():
        os.execv(command[0], command)  # JupyterLab takes over this process: Ctrl+C goes to it
    return _run(command, cwd=root)


# -------------------------------------------------------------------------------------- test


@dataclass(frozen=True)
class Step:
    """One step of ``test``: a title, a command run in the course folder, what to do if it fails.

    Attributes:
        title: what the step checks, shown before it runs.
        command: the command; ``sys.executable`` runs each tool as a module, so no shell is needed.
        fix: printed when the step fails (empty: the tool's own message says it).
    """

    title: str
    command: tuple[str, ...]
    fix: str = ""


def build_steps(root: Path, pytest_args: Sequence[str] = (), *, python: str = "") -> list[Step]:
    """The steps of ``python -m concurrency_lab test``, in order. Adding a check is one line here.

    Args:
        root: the course folder (the commands run there).
        pytest_args: extra options for the last step, e.g. ``("-x", "-m", "not browser")``.
        python: the interpreter that runs each tool (default: this one).

    Returns:
        The steps; :func:`run_steps` runs them and stops at the first that fails.
    """
    py = python or sys.executable
    notebooks = [
        str(p.relative_to(root))
        for pattern in ("notebooks/*.ipynb", "notebooks/solutions/*.ipynb")
        for p in sorted(root.glob(pattern))
    ]
    strip = ("-m", "nbstripout", "--keep-id", "--extra-keys", "metadata.widgets")
    return [
        Step("Lint (ruff check)", (py, "-m", "ruff", "check", ".")),
        Step("Format (ruff format --check)", (py, "-m", "ruff", "format", "--check", "."),
             fix=f"Format the files with: {py} -m ruff format ."),
        Step("Notebooks are stored without outputs or widget state",
             (py, *strip, "--verify", *notebooks),
             fix="Strip them with: " + " ".join((py, *strip, *notebooks))),
        Step("Types (mypy; strict on the core)", (py, "-m", "mypy")),
        Step("Package tests, doctests, every notebook (nbval) and the browser test",
             (py, "-m", "pytest", "tests", "concurrency_lab", "notebooks", "--nbval-lax",
              f"--nbval-cell-timeout={NBVAL_CELL_TIMEOUT_S}", "--ignore-glob=*_tasks.py",
              "--durations=30", *pytest_args)),
        Step("Every notebook again with spawn as the default start method (as on macOS and "
             "Windows)",
             (py, "-m", "pytest", "notebooks", "--nbval-lax",
              f"--nbval-cell-timeout={NBVAL_CELL_TIMEOUT_S}", "--default-start-method=spawn",
              "-p", "no:cacheprovider", "-q")),
    ]  # fmt: skip


def run_steps(
    steps: Sequence[Step],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    runner: Callable[..., int] | None = None,
) -> int:
    """Run ``steps`` one after another; stop at the first that fails and print its fix.

    Args:
        steps: from :func:`build_steps`.
        cwd: the folder the commands run in.
        env: their environment (default: this process's).
        runner: runs one command and returns its exit code (tests pass a fake).

    Returns:
        0 when every step passed, else the exit code of the step that failed.
    """
    run = runner or _run
    for step in steps:
        _say(step.title)
        code = run(list(step.command), cwd=cwd, env=env)
        if code != 0:
            print(f"\nFAILED: {step.title} (exit code {code}).", file=sys.stderr)
            if step.fix:
                print(step.fix, file=sys.stderr)
            return code
    return 0


def job_test(args: Sequence[str]) -> int:
    """Run every check and test (ruff, stripped notebooks, pytest with nbval and the browser)."""
    root = _course_root()
    env = dict(os.environ)
    if env.get("CI") == "true":
        env[REQUIRE_BROWSER_ENV] = "1"
    return run_steps(build_steps(root, args), cwd=root, env=env)


def _run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> int:
    """Run ``command`` to its end and return its exit code.

    SIGTERM (a CI timeout, ``kill``) is passed on to the command, so that pytest can shut
    down its kernels and children instead of being orphaned. Ctrl+C reaches the command by
    itself (same terminal), so here it only keeps waiting for the command to finish.
    """
    proc = subprocess.Popen(command, cwd=cwd, env=env)

    def forward(signum: int, frame: object) -> None:
        proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------------------------- check


def job_check(args: Sequence[str]) -> int:
    """Run the pre-workshop check; exit code 0 unless the verdict is NOT READY."""
    from .start.readiness import main as preflight_main

    return preflight_main(args)


#: Each job: the function that runs it (given the options after its name) and one line of help.
JOBS: dict[str, tuple[Callable[[Sequence[str]], int], str]] = {
    "lab": (job_lab, "open the course in JupyterLab (this machine only, with a login token)"),
    "check": (job_check, "pre-workshop check: prints one verdict line for the shared document"),
    "test": (job_test, "run every check and test; options after 'test' go to pytest"),
}


def usage() -> str:
    width = max(map(len, JOBS))
    jobs = "\n".join(f"  {name:<{width}}  {help_}" for name, (_, help_) in JOBS.items())
    return (
        f"usage: python -m concurrency_lab {{{','.join(JOBS)}}} [options]\n\n{jobs}\n\n"
        "Set-up steps for every system: docs/setup.md"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job named in ``argv`` (default: the command line); return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in JOBS:
        print(f"Unknown job {name!r}.\n\n{usage()}", file=sys.stderr)
        return 2
    job, _ = JOBS[name]
    return job(rest)


if __name__ == "__main__":  # not when a spawned child re-imports this module as __mp_main__
    sys.exit(main())
