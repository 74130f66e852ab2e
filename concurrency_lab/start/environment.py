"""Check that this machine is ready for the course, and say what to fix if not.

:func:`check_environment` looks at Python, the GIL, the usable cores (and what limits them),
the start methods, the packages the notebooks use, and then starts and joins one thread and
one process per start method. It shows as a table in a notebook and prints as a sentence.

Introduced in ``00-start-here.ipynb``.
"""

from __future__ import annotations

import html
import importlib.metadata
import platform
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..core.install import install_hint
from ..core.machine import (
    available_start_methods,
    cpu_facts,
    default_start_method,
    fork_is_unsafe,
    gil_status,
    start_method_label,
    start_methods_to_compare,
)
from ..core.results import Result
from ..core.runners import start_join
from ..core.workloads import sleep_then_return

__all__ = ["LAB_PACKAGES", "WORKER_TIMEOUT_S", "EnvironmentResult", "check_environment"]

#: Packages the notebooks use, with the oldest version known to work.
LAB_PACKAGES = {
    "jupyterlab": "4.0",
    "ipywidgets": "8.0",
    "matplotlib": "3.7",
    "tqdm": "4.60",
    "psutil": "5.9",
    "numpy": "1.24",
}
#: How long one worker may take to start and join before the check calls it failed (a
#: Windows machine whose antivirus scans every new process can need several seconds).
WORKER_TIMEOUT_S = 30.0


def version_tuple(text: str) -> tuple[int, ...]:
    """The leading numbers of a version string: ``"8.1.5rc1"`` → ``(8, 1, 5)``.

    >>> version_tuple("3.10.0") > version_tuple("3.9.18")
    True
    """
    parts = []
    for piece in text.split(".")[:3]:
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() < len(piece):  # "5rc1": a pre-release of 5; nothing after it counts
            break
    return tuple(parts)


@dataclass(frozen=True, repr=False)
class EnvironmentResult(Result):
    """What :func:`check_environment` found. ``ok`` is True when nothing needs fixing.

    Attributes:
        python: version string, e.g. ``"3.11.7"``; ``implementation`` e.g. ``"CPython"``;
            ``platform`` e.g. ``"Linux x86_64"``.
        free_threaded: a free-threaded ("t") build; ``gil_enabled``: the GIL is on right now;
            ``gil``: that in one sentence (``gil_status().describe()``).
        cpu_count: ``os.cpu_count()``; ``usable_cores``: cores this process may really use;
            ``cores``: that, and what limits it, in one sentence.
        start_methods: available start methods; ``default_start_method``: the one ``None`` means.
        packages: installed version (or None) of each lab package.
        workers_s: seconds to start and join one worker, per configuration (``"thread"``,
            ``"process (spawn)"``, ...): ``None`` when it failed. Empty when not tried.
        skipped: configurations not tried, with why (``fork`` on macOS).
        problems: what is wrong, each with its fix; empty when all is well.
        notes: what works but limits the course (1 usable core); not problems.
    """

    python: str
    implementation: str
    platform: str
    free_threaded: bool
    gil_enabled: bool
    gil: str
    cpu_count: int
    usable_cores: int
    cores: str
    start_methods: tuple[str, ...]
    default_start_method: str
    packages: Mapping[str, str | None]
    workers_s: Mapping[str, float | None] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing needs fixing (notes do not count)."""
        return not self.problems

    def lines(self) -> list[tuple[str, str]]:
        """The report as ``(what, finding)`` pairs, in the order of the table."""
        methods = ", ".join(start_method_label(m) for m in self.start_methods)
        out = [
            ("Python", f"{self.implementation} {self.python} on {self.platform}"),
            ("GIL", self.gil),
            ("CPU cores", self.cores),
            ("start methods", methods),
            ("default start method", self.default_start_method),
        ]
        for name, version in self.packages.items():
            out.append((name, version or "MISSING"))
        for label, secs in self.workers_s.items():
            found = "FAILED" if secs is None else f"ok, {_ms(secs)}"
            out.append((f"start + join one {label}", found))
        for label, why in self.skipped.items():
            out.append((f"start + join one {label}", f"not tried: {why}"))
        return out

    def verdict(self) -> str:
        """One line: ready, or how many things to fix."""
        if not self.ok:
            n = len(self.problems)
            return f"{n} thing{'s' if n != 1 else ''} to fix before the course works fully."
        if self.notes:
            return "Ready, with a limit: " + " ".join(self.notes)
        return "Ready: everything the course needs works on this machine."

    def summary(self) -> str:
        """The verdict and the facts the lessons use, in two sentences."""
        facts = (
            f"{self.implementation} {self.python} with the GIL "
            f"{'on' if self.gil_enabled else 'off'}, {self.usable_cores} usable "
            f"core{'s' if self.usable_cores != 1 else ''}, default start method "
            f"{self.default_start_method}."
        )
        fixes = " ".join(f"Fix: {p}" for p in self.problems)
        return " ".join(x for x in (self.verdict(), facts, fixes) if x)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.lines()
        )
        fixes = "".join(f"<li>{html.escape(p)}</li>" for p in self.problems)
        return (
            f"<table>{cells}</table><p><b>{'✅' if self.ok else '❌'} "
            f"{html.escape(self.verdict())}</b></p>" + (f"<ul>{fixes}</ul>" if fixes else "")
        )


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms"


def _start_one(kind: str, start_method: str | None) -> float | None:
    """Seconds to start and join one worker that returns at once; ``None`` if it failed."""
    try:
        began = time.perf_counter()
        run = start_join(
            sleep_then_return,
            1,
            kind=kind,
            start_method=start_method,
            args=("ok", 0.0),
            timeout_s=WORKER_TIMEOUT_S,
        )
        return time.perf_counter() - began if run.results == ("ok",) else None
    except Exception:
        return None


def check_environment(*, start_workers: bool = True) -> EnvironmentResult:
    """Inspect Python, the GIL, cores, start methods and packages; start and join workers.

    >>> report = check_environment(start_workers=False)
    >>> report.usable_cores >= 1 and report.default_start_method in report.start_methods
    True

    Args:
        start_workers: also start and join one thread, and one process under every start
            method worth comparing here (``fork`` is not tried on macOS, where it is unsafe).
            That usually takes a second or two; antivirus software that scans every new
            process (common on Windows) can stretch it to several seconds.

    Returns:
        An :class:`EnvironmentResult`: a table in a notebook, a sentence in ``print``;
        ``.problems`` lists what to fix, ``.notes`` what limits the course here.

    Introduced in ``00-start-here.ipynb``.
    """
    if not isinstance(start_workers, bool):
        raise TypeError(f"'start_workers' must be True or False (got {start_workers!r}).")
    gil = gil_status()
    cpus = cpu_facts()
    problems: list[str] = []
    notes: list[str] = []
    packages: dict[str, str | None] = {}
    for name, oldest in LAB_PACKAGES.items():
        try:
            version: str | None = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = None
        packages[name] = version
        if version is None and name == "jupyterlab":
            # A hub can run JupyterLab from one environment and the kernel from another.
            notes.append(
                "JupyterLab is not installed in this Python: fine if JupyterLab runs from "
                "another environment (as on many hubs); to open the course with this Python, "
                f"run {install_hint('lab')}"
            )
        elif version is None:
            problems.append(f"{name} is not installed: run {install_hint('lab')}")
        elif version_tuple(version) < version_tuple(oldest):
            problems.append(
                f"{name} {version} is too old (need >= {oldest}): run {install_hint('lab')}"
            )
    cores = cpus.describe()
    if cpus.usable == 1:
        note = (
            "With 1 usable core, no two threads or processes can run at the same time, so the "
            "speed-ups of lessons 02, 03 and 07 stay flat: pair up with a neighbour for those."
        )
        notes.append(note)
        cores += " " + note
    workers_s: dict[str, float | None] = {}
    skipped: dict[str, str] = {}
    methods = available_start_methods()
    if start_workers:
        workers_s["thread"] = _start_one("thread", None)
        for method in start_methods_to_compare():
            workers_s[f"process ({method})"] = _start_one("process", method)
        if "fork" in methods and fork_is_unsafe():
            skipped["process (fork)"] = "fork is unsafe on macOS (Python's docs), so not used"
        for label, secs in workers_s.items():
            if secs is None:
                problems.append(
                    f"starting a {label} failed: restart the kernel and run this check "
                    f"again; if it fails again, see docs/setup.md."
                )
    return EnvironmentResult(
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        platform=f"{platform.system()} {platform.machine()}",
        free_threaded=gil.free_threaded_build,
        gil_enabled=gil.enabled,
        gil=gil.describe(),
        cpu_count=cpus.logical or 1,
        usable_cores=cpus.usable,
        cores=cores,
        start_methods=methods,
        default_start_method=default_start_method(),
        packages=packages,
        workers_s=workers_s,
        skipped=skipped,
        problems=tuple(problems),
        notes=tuple(notes),
    )
