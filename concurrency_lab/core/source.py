"""Show the code behind a demo: the lab is a lens, and its demos are plain Python to read.

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from typing import Any

__all__ = ["Source", "show_source"]


@dataclass(frozen=True)
class Source:
    """A function's or class's source, shown as a highlighted code block in Jupyter."""

    name: str
    where: str
    code: str

    def __str__(self) -> str:
        return f"# {self.name}  ({self.where})\n{self.code}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"`{self.name}` ({self.where}):\n\n```python\n{self.code.rstrip()}\n```"


def show_source(obj: Any) -> Source:
    """The source code of ``obj`` (a function, class or method), to read in the notebook.

    >>> from concurrency_lab.core.workloads import cpu_bound
    >>> print(show_source(cpu_bound).code.splitlines()[0])
    def cpu_bound(units: int) -> int:

    Raises:
        TypeError: ``obj`` has no Python source (a built-in, or a value instead of a function).
    """
    target = inspect.unwrap(obj) if callable(obj) else obj
    try:
        code = inspect.getsource(target)
        path = inspect.getsourcefile(target) or "?"
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        raise TypeError(
            f"show_source needs a function or class written in Python (got {obj!r}). Pass the "
            f"function itself, without calling it: cl.show_source(cl.cpu_bound)."
        ) from None
    module = getattr(target, "__module__", "") or ""
    name = f"{module}.{getattr(target, '__qualname__', getattr(target, '__name__', '?'))}"
    short = path.split("concurrency_lab", 1)[-1] if "concurrency_lab" in path else path
    where = f"concurrency_lab{short}, line {line}" if "concurrency_lab" in path else path
    return Source(name.removeprefix("concurrency_lab."), where, textwrap.dedent(code))
