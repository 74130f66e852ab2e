"""The pre-workshop check: is this machine ready for the course? One line to paste says it.

Run it from a terminal in the course folder, with the course's Python::

    python -m concurrency_lab check          # or ./course check, or .venv\\Scripts\\python -m ...

It prints one line per check and a verdict line that learners paste into the workshop's
shared document, so the instructor sees the whole room before the day:

* ``READY 8 cores, spawn, Python 3.12, widgets OK``
* ``LIMITED 1 core, fork, Python 3.11, widgets OK: 1 usable core: pair up for lessons 02, 03,
  07`` — the course runs, but a lesson will not show what it should;
* ``NOT READY: widgets missing (fix: ...)`` — something must be fixed first.

What it checks: the Python version; that the notebooks' kernel (the ``python3`` kernel that
JupyterLab starts) imports the course and the packages the lessons use, from the notebooks
folder; that JupyterLab and its ipywidgets extension are installed (the front-end part of the
widgets); the usable CPU cores; the default start method and one process started with it;
the GIL; that the notebooks folder is writable (``%%worker_module`` writes there); and the free
space in ``/dev/shm`` on Linux. It reuses :func:`check_environment` (lesson 00's in-notebook
check) for the Python, cores, start methods and package versions.

It cannot see a browser: whether widgets really *draw* is confirmed in ``00-start-here.ipynb``,
whose explorer shows a slider and a Run button.

Introduced in ``00-start-here.ipynb`` (set-up: ``docs/setup.md``).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.install import course_root, install_hint
from ..core.machine import shm_free_bytes
from .probes import (
    KERNEL_MODULES,
    KERNEL_TIMEOUT_S,
    WIDGET_EXTENSION,
    ExtensionState,
    KernelProbe,
    finish_kernel_probe,
    kernel_python,
    notebooks_writable,
    start_kernel_probe,
    start_one_process,
    widget_extension,
)

__all__ = [
    "MIN_PYTHON",
    "SHM_WARN_BYTES",
    "Finding",
    "MachineFacts",
    "PreflightReport",
    "course_root",
    "decide",
    "gather",
    "install_hint",
    "main",
    "preflight",
    "python_install_hint",
]

#: The oldest Python the course supports.
MIN_PYTHON = (3, 10)
#: Below this much free space in ``/dev/shm`` (Linux), lesson 06's shared-memory demos may fail
#: (its explorer offers 64 MiB messages; Docker gives containers 64 MiB in all by default).
SHM_WARN_BYTES = 128 * 2**20
Status = Literal["ok", "warn", "fail"]
Verdict = Literal["READY", "LIMITED", "NOT READY"]


# ------------------------------------------------------- the course folder and install hints
# course_root() and install_hint() live in core.install (also used by the library's own hints);
# they are re-exported here because the check reports with them.


def python_install_hint(system: str) -> str:
    """How to get a Python the course supports on ``system`` (``platform.system()``'s value).

    >>> "brew install python@3.12" in python_install_hint("Darwin")
    True
    """
    if system == "Darwin":
        return (
            "install Python 3.12 from https://www.python.org/downloads/macos/ or with Homebrew "
            "(brew install python@3.12), then set up the course again (docs/setup.md)"
        )
    if system == "Windows":
        return (
            "install Python 3.12 from https://www.python.org/downloads/windows/ or with "
            "winget install Python.Python.3.12, then set up the course again with py -3.12 "
            "(docs/setup.md)"
        )
    return (
        "install Python 3.12 with your distribution (Debian/Ubuntu: apt install python3.12 "
        "python3.12-venv), pyenv (pyenv install 3.12) or uv (uv python install 3.12), then "
        "set up the course again (docs/setup.md)"
    )


# ---------------------------------------------------------------------------- what we found


@dataclass(frozen=True)
class MachineFacts:
    """Everything :func:`decide` needs, gathered by :func:`gather` (tests build it by hand).

    Attributes:
        python: ``sys.version_info[:3]``; ``implementation``: e.g. ``"CPython"``.
        system: ``platform.system()``: ``"Linux"``, ``"Darwin"`` (macOS) or ``"Windows"``.
        free_threaded: a free-threaded build; ``gil_enabled``: the GIL is on in this process.
        python_gil: the ``PYTHON_GIL`` environment variable, if set.
        cpu_count: ``os.cpu_count()``; ``usable_cores``: the cores this process may use.
        default_start_method: what ``start_method=None`` means here.
        jupyterlab: JupyterLab's version in this Python (None: not installed).
        version_problems: packages that are installed but too old, each with its fix.
        kernel: what the notebooks' kernel imported.
        widget_extension: ``"present"``, ``"missing"`` or ``"disabled"`` (in JupyterLab's
            page config); ``widget_extension_version`` its version.
        lab_folder: the ``concurrency_lab`` package this check runs from; the kernel must
            import it, or another install of the same version (a hub's shared install
            under a learner's own copy of the notebooks).
        lab_version: that package's ``__version__``.
        course_folder: the course folder, if found; ``notebooks_error``: why the notebooks
            folder is not writable (empty: it is).
        process_s: seconds to start and join one process; ``process_error`` why it failed.
        shm_free: free bytes in ``/dev/shm`` (None: not Linux, or no ``/dev/shm``).
        elapsed_s: how long gathering took.
    """

    python: tuple[int, int, int]
    implementation: str
    system: str
    free_threaded: bool
    gil_enabled: bool
    python_gil: str | None
    cpu_count: int
    usable_cores: int
    default_start_method: str
    jupyterlab: str | None
    version_problems: tuple[str, ...]
    kernel: KernelProbe
    widget_extension: ExtensionState
    widget_extension_version: str
    lab_folder: Path
    course_folder: Path | None
    notebooks_error: str
    process_s: float | None
    process_error: str
    shm_free: int | None
    elapsed_s: float = 0.0
    lab_version: str = ""


@dataclass(frozen=True)
class Finding:
    """One checked thing: what was found, and what to do when it is not fine.

    Attributes:
        topic: a short label, e.g. ``"widgets"``.
        status: ``"ok"``, ``"warn"`` (the course runs, a lesson suffers) or ``"fail"``.
        detail: what was found.
        fix: what to do (for ``warn`` and ``fail``).
        short: a few words for the verdict line, e.g. ``"widgets missing"``.
    """

    topic: str
    status: Status
    detail: str
    fix: str = ""
    short: str = ""


@dataclass(frozen=True)
class PreflightReport:
    """The check's findings and its one-line verdict.

    Attributes:
        findings: one per checked thing, in the order printed.
        verdict: ``"READY"``, ``"LIMITED"`` or ``"NOT READY"``.
        line: the line to paste into the shared document.
        elapsed_s: how long the check took.
    """

    findings: tuple[Finding, ...]
    verdict: Verdict
    line: str
    elapsed_s: float = 0.0
    lab_version: str = ""

    @property
    def ready(self) -> bool:
        """True unless something must be fixed (``LIMITED`` counts as ready)."""
        return self.verdict != "NOT READY"

    def __str__(self) -> str:
        width = max(len(f.topic) for f in self.findings)
        marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
        rows = []
        for f in self.findings:
            rows.append(f"  {marks[f.status]}  {f.topic:<{width}}  {f.detail}")
            if f.fix and f.status != "ok":
                rows.append(f"        {'':<{width}}  fix: {f.fix}")
        rows.append("")
        rows.append(
            f"Checked in {self.elapsed_s:.1f} s. Paste this line into the workshop's document:"
        )
        rows.append(self.line)
        return "\n".join(rows)


# ------------------------------------------------------------------------------- deciding


def _ok(topic: str, detail: str) -> Finding:
    return Finding(topic, "ok", detail)


def _warn(topic: str, detail: str, fix: str, short: str) -> Finding:
    return Finding(topic, "warn", detail, fix, short)


def _fail(topic: str, detail: str, fix: str, short: str) -> Finding:
    return Finding(topic, "fail", detail, fix, short)


def _check_python(facts: MachineFacts) -> Finding:
    py = "{}.{}.{}".format(*facts.python)
    found = f"{facts.implementation} {py} on {facts.system}"
    if facts.python[:2] < MIN_PYTHON:
        fix = python_install_hint(facts.system)
        return _fail(
            "Python", f"{found}: too old (the course needs 3.10+)", fix, f"Python {py} too old"
        )
    if facts.system == "Windows" and facts.python[:2] < (3, 11):
        # https://docs.python.org/3/library/time.html#time.sleep ("Changed in version 3.11")
        fix = (
            "use Python 3.11+: before 3.11, time.sleep on Windows lasts about 15 ms at least, "
            "so lessons 02 and 06 measure short waits wrongly"
        )
        return _warn("Python", found, fix, "Python 3.10 on Windows: short sleeps are coarse")
    return _ok("Python", found)


def _check_gil(facts: MachineFacts) -> Finding:
    if not facts.free_threaded:
        return _ok("GIL", "on (a standard build: one thread runs Python code at a time)")
    state = "on" if facts.gil_enabled else "off"
    detail = f"free-threaded build, GIL {state}"
    if facts.python_gil is not None:
        detail += f" (PYTHON_GIL={facts.python_gil})"
    if not facts.gil_enabled and facts.kernel.gil_enabled:
        detail += "; importing the lab's packages switches it on (an extension needs it)"
    return _ok("GIL", detail)


def _check_cores(facts: MachineFacts) -> Finding:
    found = f"{facts.usable_cores} usable"
    if facts.usable_cores != facts.cpu_count:
        found += f" of {facts.cpu_count} (a CPU quota or affinity limits this process)"
    if facts.usable_cores >= 2:
        return _ok("CPU cores", found)
    fix = (
        "with 1 usable core, processes cannot run at the same time: the speed-up curves of "
        "lessons 02, 03 and 07 stay flat. Pair with a neighbour for those, or ask the hub's "
        "admin for 2 or more CPUs"
    )
    return _warn("CPU cores", found, fix, "1 usable core: pair up for lessons 02, 03, 07")


def _check_process(facts: MachineFacts) -> Finding:
    method = facts.default_start_method
    if facts.process_s is not None:
        ms = facts.process_s * 1e3
        return _ok("processes", f"default start method {method}; one process took {ms:.0f} ms")
    found = f"starting one process ({method}) failed: {facts.process_error}"
    fix = "close other programs and run the check again; if it fails again, see docs/setup.md"
    return _fail("processes", found, fix, "cannot start a process")


def _check_kernel(facts: MachineFacts) -> list[Finding]:
    kernel = facts.kernel
    fix = _install_for(kernel.python, facts)
    if kernel.python and kernel.python != sys.executable:
        # Another Python runs the notebooks: point the kernel at the course's Python.
        fix = (
            f"make the 'python3' kernel run the course's Python: {sys.executable} -m ipykernel "
            f"install --user (it now runs {kernel.python}, from {kernel.source})"
        )
    if kernel.failure:
        return [_fail("kernel", kernel.failure, fix, "notebook kernel broken")]
    who = f"the notebooks' kernel ({kernel.python})"
    if kernel.version and kernel.version[:2] < MIN_PYTHON:
        found = f"{who} runs Python {'.'.join(map(str, kernel.version))}, too old for the course"
        return [_fail("kernel", found, fix, "kernel's Python too old")]
    out = []
    not_installed = [m for m, e in kernel.errors.items() if e.startswith("ModuleNotFoundError")]
    # With neither the course nor its packages, the course is simply not installed there yet.
    fresh = "concurrency_lab" in not_installed and len(not_installed) > 1
    if "concurrency_lab" in kernel.errors:
        found = f"{who} cannot import concurrency_lab: {kernel.errors['concurrency_lab']}"
        short = "course not installed" if fresh else "kernel cannot import the course"
        out.append(_fail("kernel", found, fix, short))
    elif kernel.lab_file and not _inside(kernel.lab_file, facts.lab_folder):
        theirs = kernel.versions.get("concurrency_lab", "")
        where = str(Path(kernel.lab_file).parent)
        if theirs and theirs == facts.lab_version:
            # A hub: the kernel imports the shared install; the learner works in a copy.
            out.append(
                _ok(
                    "kernel",
                    f"{kernel.python} imports the course {theirs} from {where}, the same "
                    f"version as this copy ({kernel.source})",
                )
            )
        else:
            found = (
                f"{who} imports concurrency_lab {theirs or '(no version)'} from {where}, "
                f"not {facts.lab_version or 'this copy'} from {facts.lab_folder}"
            )
            out.append(_fail("kernel", found, fix, "kernel uses another version of the course"))
    else:
        out.append(_ok("kernel", f"{kernel.python} imports the course ({kernel.source})"))
    missing = [m for m in KERNEL_MODULES if m != "concurrency_lab" and m in kernel.errors]
    if missing:
        absent = [m for m in missing if m in not_installed]
        found = "; ".join(
            ([f"not installed: {', '.join(absent)}"] if absent else [])
            + [f"{m} fails: {kernel.errors[m]}" for m in missing if m not in absent]
        )
        names = ", ".join("widgets" if m == "ipywidgets" else m for m in missing)
        out.append(
            _fail("packages", found, fix, "course not installed" if fresh else f"{names} missing")
        )
    else:
        versions = (
            f"{m} {v}".strip() for m, v in kernel.versions.items() if m != "concurrency_lab"
        )
        out.append(_ok("packages", ", ".join(versions)))
    fix_here = _install_for(sys.executable, facts)
    out.extend(_fail("versions", p, fix_here, "packages too old") for p in facts.version_problems)
    return out


def _check_widgets(facts: MachineFacts) -> Finding:
    fix = _install_for(sys.executable, facts)
    if facts.jupyterlab is None:
        return _fail("JupyterLab", "not installed in this Python", fix, "JupyterLab missing")
    fix += ", then restart JupyterLab"
    lab = f"JupyterLab {facts.jupyterlab}"
    if facts.widget_extension == "missing":
        found = f"{lab} has no {WIDGET_EXTENSION} extension: explorers would show as text"
        return _fail("widgets", found, fix, "widgets extension missing")
    if facts.widget_extension == "disabled":
        fix = f"jupyter labextension enable {WIDGET_EXTENSION}, then restart JupyterLab"
        found = f"{lab}: the {WIDGET_EXTENSION} extension is disabled"
        return _fail("widgets", found, fix, "widgets extension disabled")
    found = f"{lab} with {WIDGET_EXTENSION} {facts.widget_extension_version}"
    return _ok("widgets", found.rstrip())


def _check_folder(facts: MachineFacts) -> Finding:
    if facts.course_folder is None:
        fix = "run the check in the course folder, with the Python you installed the course into"
        return _fail("notebooks", "the course folder was not found", fix, "course folder not found")
    folder = facts.course_folder / "notebooks"
    if not facts.notebooks_error:
        return _ok("notebooks", f"{folder} is writable")
    found = f"cannot write in {folder} ({facts.notebooks_error}); %%worker_module writes there"
    fix = "copy the course folder to a place you can write (e.g. your home folder), set it up there"
    return _fail("notebooks", found, fix, "notebooks folder read-only")


def _check_shm(facts: MachineFacts) -> Finding | None:
    if facts.system != "Linux":
        return None  # macOS and Windows keep shared memory elsewhere, with no fixed size
    if facts.shm_free is None:
        fix = "lesson 06's shared-memory demos need /dev/shm: ask the admin to mount it"
        return _warn("/dev/shm", "missing", fix, "no /dev/shm")
    if facts.shm_free >= SHM_WARN_BYTES:
        return _ok("/dev/shm", f"{facts.shm_free / 2**30:.1f} GiB free")
    fix = (
        "lesson 06's explorer sends messages of up to 64 MiB through shared memory: start "
        "Docker with --shm-size=1g, or ask the hub's admin for a bigger /dev/shm"
    )
    return _warn("/dev/shm", f"only {facts.shm_free / 2**20:.0f} MiB free", fix, "small /dev/shm")


def decide(facts: MachineFacts) -> PreflightReport:
    """Turn the facts into findings and the verdict line. Pure (no I/O): tests fake any machine.

    Args:
        facts: from :func:`gather`, or built by hand.

    Returns:
        A :class:`PreflightReport`: ``NOT READY`` when any finding fails, ``LIMITED`` when one
        warns (the course runs, but a lesson will not show what it should), else ``READY``.
    """
    findings = [
        _check_python(facts),
        _check_gil(facts),
        _check_cores(facts),
        _check_process(facts),
        *_check_kernel(facts),
        _check_widgets(facts),
        _check_folder(facts),
        _check_shm(facts),
    ]
    out = tuple(f for f in findings if f is not None)
    fails = [f for f in out if f.status == "fail"]
    warns = [f for f in out if f.status == "warn"]
    widgets_ok = not (
        facts.kernel.failure
        or "ipywidgets" in facts.kernel.errors
        or any(f.topic in ("widgets", "JupyterLab") for f in fails)
    )
    n = facts.usable_cores
    cores = f"{n} core{'s' if n != 1 else ''}" + (
        f" (of {facts.cpu_count})" if n != facts.cpu_count else ""
    )
    python = "Python {}.{}".format(*facts.python)
    if facts.free_threaded:
        python += "t, GIL on" if facts.gil_enabled else "t, GIL off"
    widgets = "widgets OK" if widgets_ok else "widgets NOT OK"
    summary = f"{cores}, {facts.default_start_method}, {python}, {widgets}"
    verdict: Verdict
    if fails:
        verdict = "NOT READY"
        problems = "; ".join(dict.fromkeys(f.short for f in fails))
        same_fix = len({f.fix for f in fails}) == 1
        fix = f"fix: {fails[0].fix}" if same_fix else "fixes: see the FAIL lines above"
        line = f"NOT READY: {problems} ({fix}) [{summary}]"
    elif warns:
        verdict = "LIMITED"
        line = f"LIMITED {summary}: " + "; ".join(f.short for f in warns)
    else:
        verdict = "READY"
        line = f"READY {summary}"
    return PreflightReport(out, verdict, line, facts.elapsed_s)


def _inside(path: str, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _install_for(python: str, facts: MachineFacts) -> str:
    """The install command for ``python`` (the kernel's or this one)."""
    hint = install_hint("lab", root=facts.course_folder)
    if python and python != sys.executable and " " not in python:
        hint = hint.replace(sys.executable, python, 1)
    return hint


# ------------------------------------------------------------------------------ gathering


def gather() -> MachineFacts:
    """Look at this machine: Python, cores, the kernel, JupyterLab, folders, one process.

    The kernel's imports (a separate process) and the process start run at the same time.

    Returns:
        The :class:`MachineFacts` for :func:`decide`.
    """
    from .environment import check_environment

    began = time.perf_counter()
    env = check_environment(start_workers=False)
    root = course_root()
    kernel_cwd = root / "notebooks" if root else Path.cwd()
    python, source, error = kernel_python()
    proc: subprocess.Popen[str] | None = None
    spawn_error = error
    if not error:
        try:
            proc = start_kernel_probe(python, kernel_cwd)
        except OSError as exc:
            spawn_error = f"cannot run the kernel's Python ({python}): {exc}"
    try:
        process_s, process_error = start_one_process()
    except BaseException:  # e.g. Ctrl+C: do not leave the probe running
        if proc is not None:
            proc.kill()
            proc.communicate()
        raise
    kernel = (
        finish_kernel_probe(proc, python, source, timeout_s=KERNEL_TIMEOUT_S)
        if proc is not None
        else KernelProbe(python, source, failure=spawn_error)
    )
    missing = {name for name, version in env.packages.items() if version is None}
    version_problems = tuple(
        p for p in env.problems if not any(p.startswith(f"{name} ") for name in missing)
    )
    system = platform.system()
    extension, extension_version = widget_extension()
    return MachineFacts(
        python=(sys.version_info[0], sys.version_info[1], sys.version_info[2]),
        implementation=env.implementation,
        system=system,
        free_threaded=env.free_threaded,
        gil_enabled=env.gil_enabled,
        python_gil=os.environ.get("PYTHON_GIL"),
        cpu_count=env.cpu_count,
        usable_cores=env.usable_cores,
        default_start_method=env.default_start_method,
        jupyterlab=env.packages.get("jupyterlab"),
        version_problems=version_problems,
        kernel=kernel,
        widget_extension=extension,
        widget_extension_version=extension_version,
        lab_folder=Path(__file__).resolve().parents[1],
        course_folder=root,
        notebooks_error=notebooks_writable(root / "notebooks") if root else "",
        process_s=process_s,
        process_error=process_error,
        shm_free=shm_free_bytes(),
        elapsed_s=time.perf_counter() - began,
        lab_version=_lab_version(),
    )


def preflight() -> PreflightReport:
    """Run the pre-workshop check: :func:`gather` the facts, then :func:`decide`.

    Returns:
        The report; ``print(report)`` shows the findings and the verdict line.
    """
    return decide(gather())


def main(args: Sequence[str] = ()) -> int:
    """``python -m concurrency_lab check``: print the report; exit 1 when NOT READY.

    Args:
        args: the options after ``check`` (none are accepted yet).

    Returns:
        The exit code.
    """
    if args:
        print(f"'check' takes no options (got {' '.join(args)}).", file=sys.stderr)
        return 2
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:  # a path with non-ASCII letters on a cp1252 Windows console
        reconfigure(errors="replace")
    print("concurrency_lab pre-workshop check (a few seconds)...", flush=True)
    report = preflight()
    print(report)
    return 0 if report.ready else 1


def _lab_version() -> str:
    from .. import __version__

    return __version__
