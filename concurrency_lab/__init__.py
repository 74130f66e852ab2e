"""concurrency_lab: see how Python threads and processes really behave.

Import it once per notebook::

    import concurrency_lab as cl

The front door holds what every lesson uses: the runners (``cl.start_join``, ``cl.run_tasks``),
the watcher (``cl.watch``), the workloads, the tracer, the machine facts, the errors and the
timeline. Each lesson's own tools live in its namespace, named after the notebook:
``cl.gil.threads_vs_processes()``, ``cl.races.interleavings(...)``, ``cl.ipc.measure_ipc()``; the
exercise checks in ``cl.check.<lesson>``.

Importing needs only the standard library and changes no global state (no start method, no
plotting settings). Plots and explorers load matplotlib and ipywidgets on first use.
"""

from __future__ import annotations

import sys as _sys

if _sys.version_info < (3, 10):  # noqa: UP036  # pragma: no cover - the lab needs 3.10 syntax
    raise ImportError(
        f"concurrency_lab needs Python 3.10 or newer (this is {_sys.version.split()[0]}); "
        f"see docs/setup.md for how to get one."
    )

from typing import Any

from .core.lazy import lazy_names

__version__ = "0.2.0"

#: The lesson namespaces, in course order (notebook ``NN-name.ipynb`` → ``cl.<room>``).
LESSONS = (
    "start",
    "threads_and_processes",
    "gil",
    "scaling",
    "races",
    "deadlocks",
    "ipc",
    "choosing",
    "problems",
)

_getattr, _dir, __all__ = lazy_names(
    __name__,
    {
        "core.runners": ["run_tasks", "start_join"],
        "core.machine": [
            "available_start_methods",
            "cpu_facts",
            "default_start_method",
            "get_context",
            "gil_enabled",
            "start_methods_to_compare",
            "usable_cores",
        ],
        "core.workloads": [
            "async_io_bound",
            "calibrate",
            "cpu_bound",
            "gil_releasing",
            "io_bound",
            "io_wait",
            "mixed_task",
            "noop",
            "sleep_then_return",
            "spin",
            "whoami",
            "zlib_compress",
        ],
        "core.tracing": ["span"],
        "core.errors": [
            "LabError",
            "NotebookFunctionError",
            "UnpicklableError",
            "WorkerCrashedError",
            "WorkerError",
            "WorkerTimeoutError",
        ],
        "view.timeline": ["plot_timeline"],
        "view.timeline_explorer": ["timeline_explorer"],
        "start.environment": ["check_environment"],
        "core.source": ["show_source"],
        "core.watch": ["watch"],
    },
)
__all__ = sorted([*__all__, *LESSONS, "check", "load_ipython_extension"])
_MODULES = frozenset((*LESSONS, "check"))


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    return _getattr(name)


def __dir__() -> list[str]:
    return list(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext concurrency_lab``: adds the ``%%worker_module`` and ``%%timeline`` magics."""
    from .view.magics import register

    register(ipython)
