"""The ``%%worker_module`` cell magic: turn a notebook cell into an importable module.

A ``spawn`` or ``forkserver`` child cannot see functions defined in a notebook
(see :class:`~concurrency_lab.errors.NotebookFunctionError`). This magic saves
the cell as ``NAME.py`` in the notebook's folder, imports it (re-importing on
each run, so edits take effect) and binds ``NAME`` in the notebook::

    %load_ext concurrency_lab

    %%worker_module my_tasks
    def square(x):
        return x * x

    cl.run_tasks(my_tasks.square, [1, 2, 3], kind="process", start_method="spawn")

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import importlib
import keyword
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["register", "write_worker_module"]

_HEADER = "# Written by the %%worker_module cell magic: edit the cell, not this file.\n"


def write_worker_module(
    name: str, source: str, *, directory: str | os.PathLike[str] = "."
) -> ModuleType:
    """Save ``source`` as ``directory/name.py``, import it fresh, and return the module.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     source = "def double(x):\\n    return 2 * x\\n"
    ...     mod = write_worker_module("demo_tasks_doctest", source, directory=d)
    ...     mod.double(21)
    42

    Raises:
        ValueError: ``name`` is not a valid module name, or would shadow an existing module.
    """
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(
            f"'{name}' is not a valid module name: use letters, digits and underscores, "
            f"starting with a letter (e.g. my_tasks)."
        )
    existing = sys.modules.get(name)
    path = Path(directory).resolve() / f"{name}.py"
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() != path:
        raise ValueError(
            f"'{name}' is already the name of an imported module ({existing!r}); choose another "
            f"name, e.g. my_{name}."
        )
    path.write_text(_HEADER + source)
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    importlib.invalidate_caches()
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def register(ipython: Any) -> None:
    """Register ``%%worker_module`` with an IPython shell (``%load_ext concurrency_lab``)."""

    def worker_module(line: str, cell: str) -> None:
        name = line.strip()
        if not name:
            print("Usage: %%worker_module NAME   (then the cell's code; it becomes NAME.py)")
            return
        module = write_worker_module(name, cell)
        ipython.user_ns[name] = module
        public = [n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n))]
        print(f"Saved this cell as {module.__file__} and imported it as '{name}'.")
        if public:
            print(f"Pass {', '.join(f'{name}.{n}' for n in public)} to processes.")

    ipython.register_magic_function(worker_module, magic_kind="cell", magic_name="worker_module")
    from .timeline_magic import register as register_timeline  # %%timeline (issue 12)

    register_timeline(ipython)
