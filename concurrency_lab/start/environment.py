"""Check that this machine is ready for the course, and say what to fix if not.

Introduced in ``00-start-here.ipynb``.
"""

from __future__ import annotations

import html
import importlib.metadata
import os
import platform
import time
from dataclasses import dataclass, field

from ..core.machine import (
    available_start_methods,
    default_start_method,
    gil_status,
    usable_cores,
)
from ..core.runners import start_join
from ..core.workloads import sleep_then_return

__all__ = ["LAB_PACKAGES", "EnvironmentReport", "check_environment"]

#: Packages the notebooks use, with the oldest version known to work.
LAB_PACKAGES = {
    "jupyterlab": "4.0",
    "ipywidgets": "8.0",
    "matplotlib": "3.7",
    "tqdm": "4.60",
    "psutil": "5.9",
    "numpy": "1.24",
}


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


@dataclass(frozen=True)
class EnvironmentReport:
    """What :func:`check_environment` found. ``ok`` is True when nothing needs fixing.

    Attributes:
        python: version string, e.g. ``"3.11.7"``; ``implementation`` e.g. ``"CPython"``.
        free_threaded: a free-threaded ("t") build; ``gil_enabled``: the GIL is on right now.
        cpu_count: ``os.cpu_count()``; ``usable_cores``: cores this process may really use.
        start_methods: available start methods; ``default_start_method``: the one ``None`` means.
        packages: installed version (or None) of each lab package.
        smoke_s: seconds a one-worker start+join took, per configuration (``None`` = failed).
        problems: what is wrong, each with its fix; empty when all is well.
    """

    python: str
    implementation: str
    platform: str
    free_threaded: bool
    gil_enabled: bool
    cpu_count: int
    usable_cores: int
    start_methods: tuple[str, ...]
    default_start_method: str
    packages: dict[str, str | None]
    smoke_s: dict[str, float | None]
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[tuple[str, str]]:
        """The report as ``(what, finding)`` pairs."""
        gil = "enabled" if self.gil_enabled else "disabled (free-threaded)"
        cores = f"{self.usable_cores} usable"
        if self.usable_cores != self.cpu_count:
            cores += f" (os.cpu_count() says {self.cpu_count}: the rest are off limits)"
        out = [
            ("Python", f"{self.implementation} {self.python} on {self.platform}"),
            ("GIL", gil + (", free-threaded build" if self.free_threaded else "")),
            ("CPU cores", cores),
            ("start methods", ", ".join(self.start_methods)),
            ("default start method", self.default_start_method),
        ]
        for name, version in self.packages.items():
            out.append((name, version or "MISSING"))
        for label, secs in self.smoke_s.items():
            out.append(
                (f"smoke run: {label}", "FAILED" if secs is None else f"ok, {secs * 1e3:.1f} ms")
            )
        return out

    def verdict(self) -> str:
        if self.ok:
            return "Ready: everything the course needs works on this machine."
        return f"{len(self.problems)} thing(s) to fix before the course works fully."

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.lines())
        rows = [f"{k:<{width}}  {v}" for k, v in self.lines()]
        rows.append("")
        rows.append(("✅ " if self.ok else "❌ ") + self.verdict())
        rows.extend(f"  - {p}" for p in self.problems)
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td style='text-align:left'>{html.escape(k)}</td>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.lines()
        )
        fixes = "".join(f"<li>{html.escape(p)}</li>" for p in self.problems)
        color = "#1a7f37" if self.ok else "#cf222e"
        return (
            f"<table>{cells}</table><p style='color:{color}'><b>"
            f"{'✅' if self.ok else '❌'} {html.escape(self.verdict())}</b></p>"
            + (f"<ul>{fixes}</ul>" if fixes else "")
        )


def _smoke(kind: str, start_method: str | None) -> float | None:
    try:
        start = time.perf_counter()
        run = start_join(
            sleep_then_return,
            1,
            kind=kind,
            start_method=start_method,
            args=("ok", 0.0),
            timeout_s=30,
        )
        return time.perf_counter() - start if run.results == ("ok",) else None
    except Exception:
        return None


def check_environment(*, smoke: bool = True) -> EnvironmentReport:
    """Inspect Python, cores, start methods and packages; run one thread and one process.

    Args:
        smoke: also start and join one thread, and one process under every
            available start method (takes well under a second).

    Returns:
        An :class:`EnvironmentReport`; it shows as a table in a notebook, and
        ``report.problems`` lists what to fix.
    """
    gil = gil_status()
    free_threaded, gil_enabled = gil.free_threaded_build, gil.enabled
    problems: list[str] = []
    packages: dict[str, str | None] = {}
    for name, oldest in LAB_PACKAGES.items():
        try:
            version: str | None = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = None
        packages[name] = version
        if version is None:
            problems.append(
                f"{name} is not installed: run pip install -e '.[lab]' in the course folder."
            )
        elif _version_tuple(version) < _version_tuple(oldest):
            problems.append(
                f"{name} {version} is too old (need >= {oldest}): pip install -U {name}"
            )
    smoke_s: dict[str, float | None] = {}
    if smoke:
        smoke_s["thread"] = _smoke("thread", None)
        for method in available_start_methods():
            smoke_s[f"process ({method})"] = _smoke("process", method)
        for label, secs in smoke_s.items():
            if secs is None:
                problems.append(
                    f"starting a {label} failed: restart the kernel and run this check again; "
                    f"if it still fails, see docs/instructor-guide.md ('Set-up problems')."
                )
    return EnvironmentReport(
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        platform=f"{platform.system()} {platform.machine()}",
        free_threaded=free_threaded,
        gil_enabled=gil_enabled,
        cpu_count=os.cpu_count() or 1,
        usable_cores=usable_cores(),
        start_methods=available_start_methods(),
        default_start_method=default_start_method(),
        packages=packages,
        smoke_s=smoke_s,
        problems=tuple(problems),
    )
