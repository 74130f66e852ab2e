"""Where the course is installed, and the command that adds an optional part of it.

The course is not on PyPI, and another project could take its name there, so a hint never
asks pip for the project *name*: it names the local course folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["course_root", "install_hint", "missing_extra"]

#: Third-party modules each optional part of the course brings.
EXTRAS = {
    "matplotlib": "lab",
    "ipywidgets": "lab",
    "tqdm": "lab",
    "psutil": "lab",
    "numpy": "lab",
    "IPython": "lab",
    "dask": "dask",
    "distributed": "dask",
}


def course_root() -> Path | None:
    """The course folder (the checkout with ``notebooks/`` and ``pyproject.toml``), if found.

    It is the current folder when that is a course folder (on a hub, a learner's own copy of
    a course installed once for everybody), else the folder that holds this package when the
    course is installed in editable mode (``pip install -e``).

    >>> root = course_root()
    >>> root is None or (root / "notebooks").is_dir()
    True
    """
    package_parent = Path(__file__).resolve().parents[2]
    for candidate in (Path.cwd(), package_parent):
        if (
            (candidate / "notebooks").is_dir()
            and (candidate / "pyproject.toml").is_file()
            and (candidate / "concurrency_lab").is_dir()
        ):
            return candidate.resolve()
    return None


def install_hint(extra: str = "lab", *, notebook: bool = False, root: Path | None = None) -> str:
    """The command that installs the course with ``extra`` from the local course folder.

    Double quotes work in bash, zsh, cmd and PowerShell.

    Args:
        extra: the optional dependencies to add: ``"lab"``, ``"dask"`` or ``"test"``.
        notebook: the hint is for a notebook cell: ``%pip`` installs into the kernel's Python.
        root: the course folder (default: :func:`course_root`, else a placeholder).

    >>> install_hint("dask", notebook=True, root=Path("course"))
    '%pip install -e "course[dask]"'
    """
    folder = root or course_root()
    target = f'"{folder}[{extra}]"' if folder else f'"<course folder>[{extra}]"'
    if notebook:
        return f"%pip install -e {target}"
    # This interpreter's full path says which Python to install into; a path with spaces
    # would need quoting that differs between shells, so then plain `python` is named.
    python = sys.executable if sys.executable and " " not in sys.executable else "python"
    return f"{python} -m pip install -e {target}"


def missing_extra(exc: ModuleNotFoundError, what: str) -> ImportError:
    """A friendly ``ImportError`` for ``exc`` if it is an optional part of the course.

    Returns the error to raise: for a module of an optional part, one that says what needs it
    and how to install it (in a notebook: ``%pip``); for anything else, ``exc`` itself.
    """
    top = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return exc
    in_notebook = "ipykernel" in sys.modules
    return ImportError(
        f"{what} needs {top}, which is not installed in this Python ({sys.executable}).\n"
        f"Fix: {install_hint(extra, notebook=in_notebook)}"
        + ("\nthen restart the kernel." if in_notebook else "")
    )
