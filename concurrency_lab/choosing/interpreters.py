"""Other Pythons on this machine that change the picture: free-threaded builds and 3.14+.

* :func:`find_interpreters` looks for free-threaded CPython (``python3.13t``, ``3.14t``) and
  for Python 3.14+ (``InterpreterPoolExecutor``: one GIL per sub-interpreter), asks each one
  what it is, and says what it found and what it would change.
* :func:`interpreter_sweep` runs the same small thread-scaling script in any of them, as a
  child program.

Where it looks (nothing is downloaded or installed): ``shutil.which`` for the versioned
names on ``PATH`` (on Windows that finds ``python3.13t.exe`` through ``PATHEXT``); on
Windows, the ``py`` launcher's list (``py -0p``); ``uv python find`` when uv is installed;
pyenv's and pyenv-win's version folders. Every candidate runs isolated (``python -I``: no
user site, no ``PYTHON*`` variables, not the current folder on ``sys.path``) with a timeout;
executables in a relative or world-writable folder on ``PATH`` are skipped, since anybody
could have put them there. The running interpreter is never listed (the lesson measures it
anyway).

Introduced in ``07-choosing-a-model.ipynb``.
"""

from __future__ import annotations

import glob
import json
import ntpath
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.machine import free_threaded_build, gil_enabled, usable_cores
from ..core.results import Result
from ..core.validate import check_n_workers, check_number, check_timeout
from .scripts import run_child

__all__ = [
    "InterpreterInfo",
    "InterpreterSweepResult",
    "InterpretersResult",
    "candidate_paths",
    "find_interpreters",
    "interpreter_sweep",
]

_NEWEST_MINOR = max(15, sys.version_info[1] + 2)


@dataclass(frozen=True)
class InterpreterInfo:
    """One Python interpreter found on this machine, and what it can do.

    Attributes:
        path: the executable.
        version: e.g. ``"3.13.1"``.
        free_threaded: built without the GIL (``Py_GIL_DISABLED``), e.g. ``python3.13t``.
        gil_enabled: whether the GIL is on in it when it starts (a free-threaded build turns
            it back on for ``PYTHON_GIL=1``, or when it imports an extension that needs it).
        interpreter_pool: has ``concurrent.futures.InterpreterPoolExecutor`` (3.14+).
        base_prefix: its installation folder (``sys.base_prefix``), to tell copies apart.
    """

    path: str
    version: str
    free_threaded: bool
    gil_enabled: bool
    interpreter_pool: bool
    base_prefix: str = ""

    @property
    def label(self) -> str:
        """A short name, e.g. ``"3.13.1t (no GIL)"`` or ``"3.11.7 (GIL)"``."""
        suffix = "t" if self.free_threaded else ""
        return f"{self.version}{suffix} ({'GIL' if self.gil_enabled else 'no GIL'})"

    @property
    def is_new_model(self) -> bool:
        """True if it runs threads without a GIL or has sub-interpreter pools."""
        return (self.free_threaded and not self.gil_enabled) or self.interpreter_pool


_PROBE = """\
import concurrent.futures as cf, json, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", None)
print(json.dumps({
    "version": "%d.%d.%d" % sys.version_info[:3],
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": True if gil is None else bool(gil()),
    "interpreter_pool": hasattr(cf, "InterpreterPoolExecutor"),
    "executable": sys.executable,
    "base_prefix": sys.base_prefix,
}))
"""


def _wanted_names() -> list[str]:
    """``python3.13t``, ``python3.14``, ``python3.14t``, ...: names of the new models."""
    names = []
    for minor in range(13, _NEWEST_MINOR + 1):
        names.append(f"python3.{minor}t")
        if minor >= 14:
            names.append(f"python3.{minor}")
    return names


def _unsafe_folder(folder: str, platform: str = sys.platform) -> bool:
    """A relative PATH entry, or a folder anybody may write into (a planted file could run).

    On Windows only relative entries are refused: who may write into a folder is in its
    access-control list, which the standard library cannot read.
    """
    if platform == "win32":
        return not folder or not ntpath.isabs(folder)
    if not folder or not os.path.isabs(folder):
        return True
    if os.name != "posix":
        return False
    try:
        return bool(os.stat(folder).st_mode & stat.S_IWOTH)
    except OSError:
        return True


def _from_path(path_env: str | None, which: Callable[..., str | None]) -> list[str]:
    found = []
    for name in _wanted_names():
        exe = which(name, path=path_env)
        if exe and not _unsafe_folder(os.path.dirname(exe)):
            found.append(exe)
    return found


def _trusted_tool(
    name: str, path_env: str | None, which: Callable[..., str | None], platform: str
) -> str:
    """The absolute path of a helper program (``uv``, ``py``) found on PATH, or ``""`` when
    it is missing or sits in a folder where anybody could have planted it."""
    exe = which(name, path=path_env)
    if not exe:
        return ""
    folder = ntpath.dirname(exe) if platform == "win32" else os.path.dirname(exe)
    return "" if _unsafe_folder(folder, platform) else str(exe)


_PY_LINE = re.compile(r"^\s*-\S*?3\.(\d+)(t?)\S*\s+(?:\*\s+)?(.+?\.exe)\s*$", re.IGNORECASE)


def parse_py_list(text: str) -> list[str]:
    r"""The new-model interpreters in the output of the Windows launcher's ``py -0p``.

    >>> parse_py_list(" -V:3.14t *      C:\\Py\\python3.14t.exe\n -V:3.12  C:\\Py312\\python.exe")
    ['C:\\Py\\python3.14t.exe']
    """
    out = []
    for line in text.splitlines():
        m = _PY_LINE.match(line)
        if m and ((m.group(2) == "t" and int(m.group(1)) >= 13) or int(m.group(1)) >= 14):
            out.append(m.group(3).strip())
    return out


def _ask(run: Callable[..., Any], args: list[str]) -> str:
    try:
        done = run(args, capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return str(done.stdout) if done.returncode == 0 else ""


def _from_pyenv(home: str) -> list[str]:
    root = os.environ.get("PYENV_ROOT") or os.path.join(home, ".pyenv")
    found = []
    layouts = (("versions", "*", "bin", "python3.*"), ("pyenv-win", "versions", "*", "python*.exe"))
    for layout in layouts:
        for exe in sorted(glob.glob(os.path.join(root, *layout))):
            folder = os.path.basename(os.path.dirname(exe))
            if folder == "bin":
                folder = os.path.basename(os.path.dirname(os.path.dirname(exe)))
            m = re.match(r"^3\.(\d+)(?:\.\d+)?(t?)", folder)
            name_t = os.path.basename(exe).lower().removesuffix(".exe").endswith("t")
            if m and (int(m.group(1)) >= 14 or (m.group(2) == "t" and name_t)):
                found.append(exe)
    return found


def candidate_paths(
    *,
    path_env: str | None = None,
    which: Callable[..., str | None] = shutil.which,
    run: Callable[..., Any] = subprocess.run,
    platform: str = sys.platform,
    home: str | None = None,
) -> list[str]:
    """Executables that might be free-threaded (3.13t+) or have interpreter pools (3.14+).

    The search is described in the module's docstring. Each source is a parameter, so a test
    can stand in for Windows, pyenv or uv. Duplicates (the same file by another name) appear
    once; the running interpreter never.
    """
    found = _from_path(path_env, which)
    py = _trusted_tool("py", path_env, which, platform) if platform == "win32" else None
    if py:
        found += parse_py_list(_ask(run, [py, "-0p"]))
    uv = _trusted_tool("uv", path_env, which, platform)
    if uv:
        for request in ("3.13t", "3.14t", "3.14"):
            exe = _ask(run, [uv, "python", "find", request]).strip()
            if exe:
                found.append(exe)
    found += _from_pyenv(home or os.path.expanduser("~"))
    here = os.path.realpath(sys.executable)
    unique: dict[str, str] = {}
    for exe in found:
        real = os.path.realpath(exe)
        if real != here and os.path.isfile(exe) and os.access(exe, os.X_OK):
            unique.setdefault(real, exe)
    return list(unique.values())


def probe(path: str, *, timeout_s: float = 10.0) -> InterpreterInfo | None:
    """Ask the executable at ``path`` what it is (isolated, with a timeout); ``None`` if it
    is not a Python that answers."""
    try:
        out = run_child([path, "-I", "-c", _PROBE], timeout_s=timeout_s)
        data = json.loads(out.strip().splitlines()[-1])
        return InterpreterInfo(
            path=path,
            version=str(data["version"]),
            free_threaded=bool(data["free_threaded"]),
            gil_enabled=bool(data["gil_enabled"]),
            interpreter_pool=bool(data["interpreter_pool"]),
            base_prefix=str(data.get("base_prefix", "")),
        )
    except Exception:
        return None  # not a Python we can ask (or not a Python at all)


def _is_this_one(info: InterpreterInfo) -> bool:
    """The running interpreter under another name (a venv's copy on Windows, say)."""
    return (
        info.base_prefix == sys.base_prefix
        and info.version == "{}.{}.{}".format(*sys.version_info[:3])
        and info.free_threaded == free_threaded_build()
    )


@dataclass(frozen=True)
class InterpretersResult(Result):
    """What :func:`find_interpreters` found (``interpreters``), and what it means.

    Introduced in ``07-choosing-a-model.ipynb``.
    """

    interpreters: tuple[InterpreterInfo, ...]
    searched: tuple[str, ...]

    @property
    def worth_sweeping(self) -> bool:
        """Would :func:`interpreter_sweep` show more than lesson 02 did? Yes if another
        interpreter was found, or this one runs without the GIL or has an interpreter pool.

        >>> InterpretersResult((), ("PATH",)).worth_sweeping == (
        ...     not gil_enabled() or sys.version_info >= (3, 14)
        ... )
        True
        """
        import concurrent.futures

        here_is_new = not gil_enabled() or hasattr(concurrent.futures, "InterpreterPoolExecutor")
        return bool(self.interpreters) or here_is_new

    def summary(self) -> str:
        where = ", ".join(self.searched)
        caveats = (
            "Caveats: a free-threaded build turns the GIL back on when it imports an "
            "extension module not marked as safe without it (Python then prints a "
            "RuntimeWarning naming it; PYTHON_GIL=0 keeps the GIL off at your own risk); "
            "it runs single-threaded code somewhat slower than the standard build; and code "
            "that relied on the GIL to make 'x += 1' look safe loses updates more often. "
            "Sub-interpreters share one process but not objects: functions and data reach "
            "them by pickling or as shareable types (bytes, str, numbers), as with "
            "processes, and many C extensions cannot be imported in one yet."
        )
        if not self.interpreters:
            return (
                f"No free-threaded CPython (3.13t, 3.14t) and no Python 3.14+ found here "
                f"(searched {where}).\n"
                "What would change: without the GIL, pure-Python computing on threads can use "
                "every core, so the cpu row's threads cell would approach its processes cell, "
                "without their start-up or pickling. Python 3.14's InterpreterPoolExecutor "
                "runs each task in a sub-interpreter with its own GIL: process-like isolation "
                "inside one process.\n"
                "How to get one: 'uv python install 3.14t', 'pyenv install 3.14t', conda-forge's "
                "python-freethreading package (in a separate environment), the python.org "
                "installers (macOS and Windows: choose the free-threaded binaries), or a "
                "free-threaded package of your Linux distribution; then run this again.\n" + caveats
            )
        lines = [f"Found {len(self.interpreters)} interpreter(s):"]
        for info in self.interpreters:
            what = []
            if info.free_threaded:
                what.append(
                    "free-threaded build, GIL "
                    + (
                        "ON (PYTHON_GIL=1 or an extension turned it on)"
                        if info.gil_enabled
                        else "off"
                    )
                )
            if info.interpreter_pool:
                what.append("has InterpreterPoolExecutor (one GIL per sub-interpreter)")
            if not what:
                what.append("a standard build (GIL on, no interpreter pools)")
            lines.append(f"  {info.path}: Python {info.label}: {'; '.join(what)}")
        lines.append("cl.choosing.interpreter_sweep(info) measures thread scaling in each.")
        lines.append(caveats)
        return "\n".join(lines)


def find_interpreters(
    *, candidates: Sequence[str] | None = None, include_all: bool = False, timeout_s: float = 10
) -> InterpretersResult:
    """Look for interpreters that change the picture: free-threaded or with interpreter pools.

    >>> r = find_interpreters(candidates=[sys.executable], include_all=True)
    >>> r.interpreters[0].version == "%d.%d.%d" % sys.version_info[:3]
    True

    Args:
        candidates: executables to ask instead of searching.
        include_all: keep interpreters with a GIL and no interpreter pools too (and this one).
        timeout_s: limit for asking each.

    Returns:
        An :class:`InterpretersResult` (its sentence says what was found and what it means).

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    timeout_s = check_timeout(timeout_s)
    if candidates is None:
        paths = candidate_paths()
        searched = ["PATH", "pyenv"] + (["py -0p"] if sys.platform == "win32" else [])
        searched += ["uv"] if shutil.which("uv") else []
    else:
        paths, searched = [str(c) for c in candidates], ["the candidates given"]
    infos = [info for p in paths if (info := probe(p, timeout_s=timeout_s)) is not None]
    if not include_all:
        infos = [i for i in infos if i.is_new_model and not _is_this_one(i)]
    return InterpretersResult(tuple(infos), tuple(searched))


# --------------------------------------------------------------------------- the sweep


@dataclass(frozen=True)
class InterpreterSweepResult(Result):
    """Thread (and sub-interpreter) scaling measured inside one interpreter.

    Attributes:
        python: the executable that ran the sweep.
        label: e.g. ``"3.11.7 (GIL)"``.
        n_workers: the pool sizes tried.
        n_tasks: equal pure-Python tasks per pool size.
        elapsed_s: ``{kind: seconds per pool size}``; kinds are ``"thread"`` and, on 3.14+,
            ``"interpreter"``.
        errors: ``{kind: message}`` for kinds that could not run there.
        usable_cores: the cores the sweep could use.

    Introduced in ``07-choosing-a-model.ipynb``.
    """

    python: str
    label: str
    n_workers: tuple[int, ...]
    n_tasks: int
    elapsed_s: dict[str, tuple[float, ...]]
    errors: dict[str, str]
    usable_cores: int = 1

    def speedups(self, kind: str = "thread") -> tuple[float, ...]:
        """Speedup of each pool size over one worker, for ``kind``."""
        times = self.elapsed_s[kind]
        return tuple(times[0] / t for t in times)

    @property
    def gil(self) -> bool:
        """Whether the interpreter ran with the GIL (from its label)."""
        return self.label.endswith("(GIL)")

    def noise(self, kind: str = "thread") -> tuple[int, ...]:
        """Pool sizes whose speedup is impossible: threads above 1.2x under the GIL, or
        anything more than 20 % above the usable cores."""
        cap = 1.0 if (kind == "thread" and self.gil) else float(self.usable_cores)
        return tuple(
            n for n, x in zip(self.n_workers, self.speedups(kind)) if x > 1.2 * min(cap, n)
        )

    def summary(self) -> str:
        parts = []
        for kind in self.elapsed_s:
            s = self.speedups(kind)
            best = max(range(len(s)), key=s.__getitem__)
            parts.append(
                f"Python {self.label}: {self.n_tasks} pure-Python tasks on "
                f"{', '.join(map(str, self.n_workers))} {kind}s ran "
                + ", ".join(f"{x:.1f}x" for x in s)
                + f" as fast as on one (best: {s[best]:.1f}x with {self.n_workers[best]}, on "
                f"{self.usable_cores} usable cores)."
            )
            odd = self.noise(kind)
            if odd:
                why = (
                    "under the GIL one thread at a time runs Python code"
                    if kind == "thread" and self.gil
                    else "the work cannot use more cores than there are"
                )
                parts.append(
                    f"The {kind} result with {', '.join(map(str, odd))} workers is faster than "
                    f"possible ({why}): other programs disturbed the one-worker run; run again."
                )
        for kind, message in self.errors.items():
            parts.append(f"Python {self.label}: the {kind} pool could not run: {message}")
        return " ".join(parts)


_SWEEP_WORK = """\
def work(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x
"""

_SWEEP = """\
import concurrent.futures as cf, json, sys, sysconfig, time
folder = sys.argv[1]
sys.path.insert(0, folder)  # -I leaves the script's folder off sys.path
from _lab_sweep_work import work
task_s, n_tasks, sizes = float(sys.argv[2]), int(sys.argv[3]), [int(a) for a in sys.argv[4:]]
n = 1000
while True:
    t0 = time.perf_counter(); work(n); dt = time.perf_counter() - t0
    if dt >= 0.02 or n > 10**9:
        break
    n *= 2
units = max(1, int(n * task_s / dt))
kinds = {"thread": cf.ThreadPoolExecutor}
if hasattr(cf, "InterpreterPoolExecutor"):
    # each sub-interpreter has its own sys.path: the initializer adds the folder there too
    setup = "import sys; sys.path.insert(0, %r)" % folder
    kinds["interpreter"] = lambda size: cf.InterpreterPoolExecutor(
        size, initializer=exec, initargs=(setup,))
out, errors = {}, {}
for kind, Executor in kinds.items():
    try:
        times = []
        for size in sizes:
            with Executor(size) as ex:
                list(ex.map(work, [1] * size))  # start the workers first
                best = float("inf")
                for _ in range(3):  # the fastest of three: the least disturbed
                    t0 = time.perf_counter()
                    list(ex.map(work, [units] * n_tasks, timeout=120))
                    best = min(best, time.perf_counter() - t0)
                times.append(best)
        out[kind] = times
    except Exception as exc:
        errors[kind] = "%s: %s" % (type(exc).__name__, exc)
gil = getattr(sys, "_is_gil_enabled", None)
label = "%d.%d.%d%s (%s)" % (sys.version_info[:3] + (
    "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "",
    "GIL" if gil is None or gil() else "no GIL"))
print(json.dumps({"label": label, "elapsed_s": out, "errors": errors}))
"""


def interpreter_sweep(
    python: str | InterpreterInfo | None = None,
    *,
    n_workers: Sequence[int] | None = None,
    task_s: float = 0.04,
    timeout_s: float = 60.0,
) -> InterpreterSweepResult:
    """Measure how pure-Python threads scale in another interpreter (run as a child program).

    The same small, standard-library-only script runs isolated (``-I``) in ``python``
    (default: this one): for each pool size it times ``max(n_workers)`` equal tasks on a
    ``ThreadPoolExecutor`` and, where there is one, an ``InterpreterPoolExecutor``. With a
    GIL, threads stay near 1x; without one, they approach the usable cores.

    Args:
        python: an executable path, or an :class:`InterpreterInfo` from :func:`find_interpreters`.
        n_workers: pool sizes (default 1, 2, 4, ... up to twice the usable cores, at most 8).
        task_s: seconds of one task.
        timeout_s: limit for the whole child (it and its children are killed after that).

    Raises:
        WorkerTimeoutError: the sweep overran ``timeout_s``.
        LabError: the interpreter failed to run the script.

    Introduced in ``07-choosing-a-model.ipynb``.
    """
    exe = python.path if isinstance(python, InterpreterInfo) else (python or sys.executable)
    if n_workers is None:
        top = max(2, min(8, 2 * usable_cores()))
        sizes = [1]
        while sizes[-1] * 2 <= top:
            sizes.append(sizes[-1] * 2)
    else:
        sizes = [check_n_workers(n, "thread") for n in n_workers]
        if not sizes:
            raise ValueError("'n_workers' must list at least one pool size, e.g. (1, 2, 4).")
    task_s = check_number(task_s, "task_s", low=0, high=5, unit=" seconds", low_open=True)
    timeout_s = check_timeout(timeout_s)
    n_tasks = max(sizes)
    with tempfile.TemporaryDirectory(prefix="lab-sweep-") as tmp:
        with open(os.path.join(tmp, "_lab_sweep_work.py"), "w", encoding="utf-8") as f:
            f.write(_SWEEP_WORK)
        out = run_child(
            [exe, "-I", "-c", _SWEEP, tmp, str(task_s), str(n_tasks), *map(str, sizes)],
            timeout_s=timeout_s,
            cwd=tmp,
        )
    data = json.loads(out.strip().splitlines()[-1])
    return InterpreterSweepResult(
        python=exe,
        label=data["label"],
        n_workers=tuple(sizes),
        n_tasks=n_tasks,
        elapsed_s={k: tuple(v) for k, v in data["elapsed_s"].items()},
        errors=dict(data["errors"]),
        usable_cores=usable_cores(),
    )
