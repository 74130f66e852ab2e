"""The bytecode of one line, labelled: where a read, a computation and a write happen.

:func:`bytecode` is :mod:`dis` with a label on each instruction that reads a variable
(``load``), computes (``compute``), writes (``store``) or calls a function (``call``), so
``counter += 1`` reads as three separate steps, and ``items.append(x)`` as one call.

Introduced in ``04-races-and-locks.ipynb``.
"""

from __future__ import annotations

import ast
import dis
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..core.results import Result

__all__ = ["BytecodeResult", "Label", "bytecode", "label_instructions"]

Label = Literal["load", "compute", "store", "call", ""]

# Instructions that push a constant: no shared variable is read. LOAD_SMALL_INT (3.14) is
# how 3.14 loads a small integer such as the 1 of ``counter += 1``.
_CONSTANTS = frozenset({"LOAD_CONST", "LOAD_SMALL_INT", "LOAD_CONST_IMMORTAL", "LOAD_CONST_MORTAL"})
# Bookkeeping that says nothing about the line: left out of the listing.
_HIDDEN = frozenset({"RESUME", "RETURN_CONST", "RETURN_VALUE", "NOP", "CACHE", "POP_TOP"})
_COMPUTE = ("BINARY_OP", "INPLACE_", "BINARY_", "UNARY_", "COMPARE_OP")
_CALLS = ("CALL", "PRECALL")


def _label(opname: str) -> Label:
    if opname in _CONSTANTS or opname == "PRECALL":
        return ""
    if opname.startswith("LOAD"):
        return "load"
    if opname.startswith("STORE"):
        return "store"
    if opname.startswith(_COMPUTE):
        return "compute"
    if opname.startswith(_CALLS):
        return "call"
    return ""


def label_instructions(
    instructions: Iterable[tuple[str, str, Any]],
) -> tuple[tuple[str, str, Label], ...]:
    """Label ``(opname, argrepr, argval)`` triples; leave out bookkeeping instructions.

    Works on any version's opcode names, so it can be tested with made-up lists:

    >>> label_instructions([("LOAD_GLOBAL", "counter", "counter"), ("LOAD_SMALL_INT", "1", 1),
    ...                     ("BINARY_OP", "+=", 13), ("STORE_GLOBAL", "counter", "counter")])
    (('LOAD_GLOBAL', 'counter', 'load'), ('LOAD_SMALL_INT', '1', ''), ('BINARY_OP', '+=', 'compute'), ('STORE_GLOBAL', 'counter', 'store'))
    """  # noqa: E501
    out = []
    for opname, argrepr, argval in instructions:
        if opname in _HIDDEN or (opname in _CONSTANTS and argval is None):
            continue
        out.append((opname, argrepr, _label(opname)))
    return tuple(out)


@dataclass(frozen=True)
class BytecodeResult(Result):
    """The bytecode instructions of a line of Python, each labelled with its step kind.

    Attributes:
        source: the line compiled.
        instructions: ``(opname, argument, label)`` for each instruction, where ``label`` is
            ``"load"``, ``"compute"``, ``"store"``, ``"call"`` or ``""``.
        python: the interpreter version, e.g. ``"3.12"``.
    """

    source: str
    instructions: tuple[tuple[str, str, Label], ...]
    python: str

    @property
    def steps(self) -> tuple[Label, ...]:
        """The labels in order, e.g. ``('load', 'compute', 'store')``."""
        return tuple(s for _, _, s in self.instructions if s)

    def summary(self) -> str:
        lines = [f"bytecode of {self.source!r} (Python {self.python}):"]
        for op, arg, step in self.instructions:
            lines.append(f"    {op:<16} {arg:<12} {'<- ' + step if step else ''}".rstrip())
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:  # a listing reads best as a code block
        return f"```text\n{self.summary()}\n```"


def bytecode(source: str = "counter += 1") -> BytecodeResult:
    """Compile one statement and list its bytecode, to see the separate read, add and write.

    The statement is compiled inside a function with its names declared ``global``, as in a
    function that bumps a shared counter. Bookkeeping instructions (``RESUME``, the final
    ``return None``) are left out.

    >>> bytecode("counter += 1").steps
    ('load', 'compute', 'store')

    Raises:
        TypeError: ``source`` is not a string.
        ValueError: ``source`` is not valid Python.
    """
    if not isinstance(source, str):
        raise TypeError(f"'source' must be a line of Python as a string (got {source!r}).")
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"'source' must be valid Python (got {source!r}: {exc.msg}).") from None
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
    body = (f"global {', '.join(names)}\n" if names else "") + source
    text = "def _line():\n" + "".join(f"    {line}\n" for line in body.splitlines())
    namespace: dict[str, Any] = {}
    exec(compile(text, "<line>", "exec"), namespace)
    instructions = (
        (i.opname, i.argrepr, i.argval) for i in dis.get_instructions(namespace["_line"])
    )
    return BytecodeResult(
        source=source,
        instructions=label_instructions(instructions),
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
    )
