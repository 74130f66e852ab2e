"""Small probes of this machine for the pre-workshop check (:mod:`.readiness`).

Each probe looks at one thing, quickly, and never hangs: the notebooks' kernel (what it can
import), JupyterLab's widget extension, whether the notebooks folder is writable, and one
process started with the default start method. (The free space in ``/dev/shm`` comes from
:func:`concurrency_lab.core.machine.shm_free_bytes`.)

Introduced in ``00-start-here.ipynb`` (set-up: ``docs/setup.md``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "KERNEL_MODULES",
    "KERNEL_NAME",
    "KERNEL_TIMEOUT_S",
    "PROCESS_TIMEOUT_S",
    "WIDGET_EXTENSION",
    "KernelProbe",
    "finish_kernel_probe",
    "kernel_python",
    "notebooks_writable",
    "probe_kernel",
    "start_kernel_probe",
    "start_one_process",
    "widget_extension",
]

#: The kernel the notebooks name in their metadata.
KERNEL_NAME = "python3"
#: What the kernel must import: the course and the packages of its ``lab`` extra.
KERNEL_MODULES = ("concurrency_lab", "ipywidgets", "matplotlib", "numpy", "psutil", "tqdm")
#: The JupyterLab extension that draws ipywidgets (shipped by the ``jupyterlab_widgets`` package).
WIDGET_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
#: Seconds allowed for the kernel's imports (a first matplotlib import can be slow, antivirus
#: slower) and for one process; the check runs them at the same time, so it ends within a minute.
KERNEL_TIMEOUT_S = 45.0
PROCESS_TIMEOUT_S = 20.0

ExtensionState = Literal["present", "missing", "disabled"]


@dataclass(frozen=True)
class KernelProbe:
    """What the notebooks' kernel could import, run from the notebooks folder.

    Attributes:
        python: the kernel's interpreter (from the ``python3`` kernel spec).
        source: where that came from (the kernel spec's folder), for messages.
        versions: module → its ``__version__`` (``""`` when it has none), for each import
            that worked.
        errors: module → the error its import raised.
        lab_file: where the kernel imported ``concurrency_lab`` from.
        gil_enabled: the GIL's state in the kernel after the imports (an extension module
            can switch it back on in a free-threaded build).
        version: the kernel's Python version, ``sys.version_info[:3]``.
        failure: why the probe itself failed (no kernel, timeout, crash); empty when it ran.
    """

    python: str
    source: str = ""
    versions: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    lab_file: str = ""
    gil_enabled: bool | None = None
    failure: str = ""
    version: tuple[int, ...] = ()


# Run by the kernel's Python, which may be any version: keep it plain.
_KERNEL_PROBE = r"""
import importlib, json, sys
out = {"versions": {}, "errors": {}, "lab_file": "", "gil": True, "python": sys.version_info[:3]}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
    except BaseException as exc:
        out["errors"][name] = "%s: %s" % (type(exc).__name__, exc)
    else:
        out["versions"][name] = str(getattr(module, "__version__", ""))
        if name == "concurrency_lab":
            out["lab_file"] = getattr(module, "__file__", "") or ""
probe = getattr(sys, "_is_gil_enabled", None)
out["gil"] = bool(probe()) if probe else True
print("PREFLIGHT " + json.dumps(out))
"""
_MARK = "PREFLIGHT "


def kernel_python() -> tuple[str, str, str]:
    """The notebooks' kernel as JupyterLab would pick it: ``(python, where from, error)``.

    The ``python3`` kernel spec decides which Python runs the notebooks; a spec in the user's
    folder can take precedence over this environment's. Like ``jupyter_client``, a spec whose
    command is plain ``python`` (or ``python3``, ``python3.X``) means this Python.

    Returns:
        The interpreter and a description of its kernel spec, and an empty error; or an
        empty interpreter and why no kernel was found.
    """
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        return sys.executable, "this Python (jupyter_client is not installed)", ""
    except Exception as exc:  # installed but broken
        return "", "", f"jupyter_client does not load ({type(exc).__name__}: {exc})"
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except Exception as exc:
        return (
            "",
            "",
            f"there is no '{KERNEL_NAME}' kernel ({type(exc).__name__}): ipykernel is missing",
        )
    python = spec.argv[0] if spec.argv else ""
    major, minor = sys.version_info[:2]
    if python in {"python", f"python{major}", f"python{major}.{minor}"}:
        python = sys.executable
    return python, f"kernel '{KERNEL_NAME}' from {spec.resource_dir}", ""


def start_kernel_probe(python: str, cwd: Path) -> subprocess.Popen[str]:
    """Start importing :data:`KERNEL_MODULES` with ``python`` in ``cwd``.

    :func:`finish_kernel_probe` reads its answer.

    Returns:
        The running probe process.
    """
    return subprocess.Popen(
        [python, "-c", _KERNEL_PROBE, *KERNEL_MODULES],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )


def finish_kernel_probe(
    proc: subprocess.Popen[str], python: str, source: str, *, timeout_s: float = KERNEL_TIMEOUT_S
) -> KernelProbe:
    """Wait (at most ``timeout_s``) for a probe from :func:`start_kernel_probe`; read its answer."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        why = f"the kernel's Python ({python}) took over {timeout_s:.0f} s to import the packages"
        return KernelProbe(python, source, failure=why + " (antivirus scanning? run it again)")
    for line in stdout.splitlines():
        if line.startswith(_MARK):
            data = json.loads(line[len(_MARK) :])
            return KernelProbe(
                python,
                source,
                data["versions"],
                data["errors"],
                data["lab_file"],
                data["gil"],
                version=tuple(data["python"]),
            )
    tail = (stderr.strip().splitlines() or ["no output"])[-1]
    why = f"the kernel's Python ({python}) failed (exit code {proc.returncode}: {tail})"
    return KernelProbe(python, source, failure=why)


def probe_kernel(cwd: Path, *, timeout_s: float = KERNEL_TIMEOUT_S) -> KernelProbe:
    """Import the lab's packages in the notebooks' kernel Python, from ``cwd``, as a notebook would.

    Args:
        cwd: the folder the kernel starts in (the notebooks folder).
        timeout_s: how long the imports may take.

    Returns:
        A :class:`KernelProbe`.
    """
    python, source, error = kernel_python()
    if error:
        return KernelProbe(python, source, failure=error)
    try:
        proc = start_kernel_probe(python, cwd)
    except OSError as exc:
        return KernelProbe(python, source, failure=f"cannot run the kernel's Python: {exc}")
    return finish_kernel_probe(proc, python, source, timeout_s=timeout_s)


def widget_extension() -> tuple[ExtensionState, str]:
    """Whether JupyterLab will load the ipywidgets extension: ``(state, version)``.

    Looks where JupyterLab looks for prebuilt extensions (``jupyter_path("labextensions")``:
    this environment's, the user's and the system's data folders), and in the page configs
    where ``jupyter labextension disable`` records a disabled extension. Reading these few
    files takes milliseconds; ``jupyter labextension list`` would take seconds.
    """
    try:
        from jupyter_core.paths import jupyter_config_path, jupyter_path

        data_dirs = jupyter_path("labextensions")
        config_dirs = jupyter_config_path()
    except Exception:  # not installed, or broken: look where a plain install puts it
        data_dirs = [str(Path(sys.prefix) / "share" / "jupyter" / "labextensions")]
        config_dirs = []
    for config in config_dirs:
        disabled = _read_json(Path(config) / "labconfig" / "page_config.json").get(
            "disabledExtensions", {}
        )
        if (isinstance(disabled, dict) and disabled.get(WIDGET_EXTENSION)) or (
            isinstance(disabled, list) and WIDGET_EXTENSION in disabled
        ):
            return "disabled", ""
    for folder in data_dirs:
        package = Path(folder, *WIDGET_EXTENSION.split("/"), "package.json")
        if package.is_file():
            return "present", str(_read_json(package).get("version", ""))
    return "missing", ""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def notebooks_writable(folder: Path) -> str:
    """``""`` when a file can be created in ``folder``, else why not.

    It really writes (and deletes) a small file: permission bits alone do not tell, e.g. on a
    read-only mount, or for root.
    """
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".preflight-", suffix=".py") as f:
            f.write(b"# written by the pre-workshop check\n")
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return ""


def start_one_process(*, timeout_s: float = PROCESS_TIMEOUT_S) -> tuple[float | None, str]:
    """Start and join one process with the default start method.

    Returns:
        ``(seconds, "")``, or ``(None, why it failed)``.
    """
    from ..core.runners import start_join
    from ..core.workloads import sleep_then_return

    began = time.perf_counter()
    try:
        run = start_join(
            sleep_then_return,
            1,
            kind="process",
            start_method=None,
            args=("ok", 0.0),
            timeout_s=timeout_s,
        )
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if run.results != ("ok",):
        return None, f"it returned {run.results!r} instead of ('ok',)"
    return time.perf_counter() - began, ""
