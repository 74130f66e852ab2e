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
import importlib.util
import keyword
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["register", "write_worker_module"]

_HEADER = "# Written by the %%worker_module cell magic: edit the cell, not this file.\n"


def worker_module_folder() -> Path:
    """A per-user folder for worker modules when the notebook's folder is read-only.

    On a JupyterHub the course folder is often a read-only shared copy; the magic then saves
    modules here instead, and puts the folder on ``sys.path`` (children inherit it).
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "concurrency_lab" / "worker_modules"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write_test_{os.getpid()}"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
        return True
    except OSError:
        return False


def write_worker_module(
    name: str, source: str, *, directory: str | os.PathLike[str] = "."
) -> ModuleType:
    """Save ``source`` as ``directory/name.py`` (UTF-8), import it fresh, and return the module.

    If ``directory`` is read-only, the module goes to :func:`worker_module_folder` instead.
    A file the magic did not write is never overwritten, and a name that would hide another
    module (``json``, ``numpy``, a ``utils.py`` of yours) is refused.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     source = "def double(x):\\n    return 2 * x\\n"
    ...     mod = write_worker_module("demo_tasks_doctest", source, directory=d)
    ...     mod.double(21)
    42

    Raises:
        ValueError: ``name`` is not a valid module name, would shadow another module, or a
            file of that name that the magic did not write is in the way.
    """
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(
            f"'{name}' is not a valid module name: use letters, digits and underscores, "
            f"starting with a letter (e.g. my_tasks)."
        )
    folder = Path(directory).resolve()
    if not _writable(folder):
        folder = worker_module_folder()
        if not _writable(folder):
            raise ValueError(
                f"Cannot save {name}.py: neither {Path(directory).resolve()} nor {folder} is "
                f"writable. Copy the notebook into a folder of your own and run it from there."
            )
    path = folder / f"{name}.py"
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() != path:
        raise ValueError(
            f"'{name}' is already the name of an imported module ({existing!r}); choose another "
            f"name, e.g. my_{name}."
        )
    if existing is None and not path.exists():
        spec = importlib.util.find_spec(name)
        if spec is not None:
            where = spec.origin or "a package"
            raise ValueError(
                f"'{name}' would hide the module of the same name ({where}); choose another "
                f"name, e.g. my_{name}."
            )
    if path.exists() and not path.read_text(encoding="utf-8", errors="replace").startswith(_HEADER):
        raise ValueError(
            f"{path} already exists and was not written by %%worker_module; it is left alone. "
            f"Choose another name, e.g. my_{name}."
        )
    path.write_text(_HEADER + source, encoding="utf-8")
    stale = Path(importlib.util.cache_from_source(str(path)))
    stale.unlink(missing_ok=True)  # an edit within the same second must not reuse old bytecode
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
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
