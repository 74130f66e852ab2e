"""One way for every result to say what happened: a sentence computed from its own numbers.

Every measurement and demo in the course returns a small frozen dataclass. Mix in
:class:`Result` and write one method, :meth:`Result.summary`, and the result reads as prose
wherever it goes:

* ``print(result)`` and ``str(result)`` give the summary;
* left as a cell's value, Jupyter shows the summary (as Markdown, and as plain text);
* ``repr(result)`` is one short line, ``<LostUpdates: 2 threads lost 1,204 of 200,000
  updates.>``, instead of a dump of every field (the fields are still there:
  ``dataclasses.asdict(result)``);
* plots and explorers reuse the same sentence (``finish(fig, summary=result.summary())``).

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Coin(Result):
...     heads: int
...     tosses: int
...     def summary(self) -> str:
...         return f"{self.heads} of {self.tosses} tosses came up heads."
>>> coin = Coin(heads=7, tosses=10)
>>> print(coin)
7 of 10 tosses came up heads.
>>> coin
<Coin: 7 of 10 tosses came up heads.>
>>> coin.heads
7

The summary is plain text, computed from the fields: never a sentence written in advance,
and no Markdown (it is escaped for display). Standard library only.

Introduced in ``00-start-here.ipynb``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Result", "summary_of"]

_REPR_WIDTH = 100
# Characters Markdown (or the math typesetter JupyterLab runs on Markdown output) would read
# as formatting. They become HTML character references, not backslash escapes: "\(" and
# "\[" open inline and display math in JupyterLab, so "(90%)" escaped that way came out
# as a formula.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]<>#|~$&]")


class Result:
    """Mixin for frozen result dataclasses: one :meth:`summary` sentence, shown everywhere.

    Subclasses define ``summary()``. A subclass that does not define its own ``__repr__``
    keeps the short one even under ``@dataclass`` (which would otherwise write a repr of
    every field): ``__init_subclass__`` copies the inherited ``__repr__`` (and
    ``_repr_pretty_``, which IPython uses for plain text) into the class before the
    decorator looks, and ``@dataclass`` never replaces a method the class already has.

    Introduced in ``00-start-here.ipynb``.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # IPython's pretty printer stops at the first class in the MRO whose own __dict__
        # has _repr_pretty_ or __repr__: both must be in this class for text/plain to be prose.
        for name in ("__repr__", "_repr_pretty_"):
            if name not in cls.__dict__:
                setattr(cls, name, _inherited(cls, name))

    def summary(self) -> str:
        """What this result shows, in one or two sentences computed from its fields.

        Raises:
            NotImplementedError: in a subclass that forgot to define it.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must define summary(): the sentence that says what the "
            "result shows, computed from its fields."
        )

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        try:
            text = " ".join(self.summary().split())
        except Exception as exc:  # a repr must never fail
            text = f"(summary failed: {type(exc).__name__})"
        if len(text) > _REPR_WIDTH:
            text = text[: _REPR_WIDTH - 1].rstrip() + "…"
        return f"<{type(self).__name__}: {text}>"

    def _repr_markdown_(self) -> str:
        lines = [
            _MARKDOWN_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", line)
            for line in self.summary().splitlines()
        ]
        return "  \n".join(line for line in lines if line.strip())

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"<{type(self).__name__}>" if cycle else self.summary())


def _inherited(cls: type, name: str) -> Any:
    for base in cls.__mro__[1:]:
        if name in base.__dict__:
            return base.__dict__[name]
    return getattr(Result, name)  # pragma: no cover  # Result itself is always in the MRO


def summary_of(obj: object) -> str:
    """The sentence ``obj.summary()`` gives, checked to be a non-blank string.

    Raises:
        TypeError: if ``obj`` has no ``summary()`` method or it returns something else
            than a string; the message says how to give it one.
        ValueError: if the summary is blank.

    Introduced in ``00-start-here.ipynb``.
    """
    method = getattr(obj, "summary", None)
    if not callable(method):
        raise TypeError(
            f"the result ({type(obj).__name__}) cannot say what it shows: it has no "
            "summary() method. Make it a concurrency_lab.core.results.Result, or pass "
            "describe=... to say it."
        )
    text = method()
    if not isinstance(text, str):
        raise TypeError(
            f"{type(obj).__name__}.summary() must return a str (got {type(text).__name__})."
        )
    if not text.strip():
        raise ValueError(f"{type(obj).__name__}.summary() returned a blank string.")
    return text
