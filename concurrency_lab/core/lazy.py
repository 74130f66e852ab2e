"""Lazy public names for a package: the names load on first use, so imports stay light.

Each lesson room's ``__init__.py`` lists its public names by submodule::

    __getattr__, __dir__, __all__ = lazy_names(__name__, {
        "handoff": ["trace_handoff", "Handoff"],
        "plots": ["plot_handoff"],          # imports matplotlib only when used
    })

``from concurrency_lab.gil import trace_handoff`` and ``cl.gil.trace_handoff`` both work, and
``dir()`` shows only the listed names. The same idea as SPEC 1 (scientific-python's lazy
loading), in a few lines.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .install import missing_extra

__all__ = ["lazy_names"]


def lazy_names(
    package: str, table: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for ``package`` serving ``table``'s names.

    Args:
        package: the package's ``__name__``.
        table: submodule name (relative to ``package``) → the public names it defines.

    Returns:
        The module-level ``__getattr__`` and ``__dir__`` functions, and the sorted ``__all__``.
    """
    where: dict[str, str] = {}
    for module, names in table.items():
        for name in names:
            if name in where:
                raise ValueError(f"{package}: {name!r} is listed twice")
            where[name] = module

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            value = getattr(importlib.import_module(f"{package}.{module}"), name)
        except ModuleNotFoundError as exc:  # an optional part (matplotlib, ipywidgets, ...)
            raise missing_extra(exc, f"{package.replace('concurrency_lab', 'cl')}.{name}") from None

        setattr(sys.modules[package], name, value)
        return value

    names = sorted(where)

    def __dir__() -> list[str]:
        return list(names)

    return __getattr__, __dir__, list(names)
