"""What a run of workers did: their results, their spans, and a sentence about both.

Returned by :func:`~concurrency_lab.core.runners.start_join` and
:func:`~concurrency_lab.core.runners.run_tasks`; drawn by ``cl.plot_timeline``.

Introduced in ``01-threads-and-processes.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .results import Result
from .tracing import Span, together_s


@dataclass(frozen=True)
class Run(Result):
    """What happened when workers ran: results in worker/task order, and every span.

    Attributes:
        kind: ``"thread"`` or ``"process"``.
        n_workers: how many workers ran.
        start_method: ``"fork"``, ``"spawn"`` or ``"forkserver"`` for processes, ``None`` for
            threads.
        elapsed_s: wall-clock seconds from the first ``start()`` to the last ``join()``.
        results: what each worker (``start_join``) or each task (``run_tasks``) returned.
        spans: every recorded :class:`~concurrency_lab.tracing.Span`, sorted by start.
        started_ns: the ``perf_counter_ns()`` reading when the run began (the timeline's zero).
        workers: the worker names, e.g. ``("worker-1", "worker-2")``.
    """

    kind: str
    n_workers: int
    start_method: str | None
    elapsed_s: float
    results: tuple[Any, ...]
    spans: tuple[Span, ...]
    started_ns: int = 0
    workers: tuple[str, ...] = field(default=())

    @property
    def first_start_s(self) -> float:
        """Seconds from the run's start until the first worker began its work."""
        if not self.spans:
            return 0.0
        return (min(s.start_ns for s in self.spans) - self.started_ns) / 1e9

    @property
    def together_s(self) -> float:
        """Seconds during which two or more workers were running their work at once."""
        return together_s(self.spans)

    def summary(self) -> str:
        """What ran, how long it took, and how long the workers really ran side by side.

        The overlap comes from the workers' own spans, not from ``elapsed_s``, which also
        counts the time processes take to start (long under ``spawn``).
        """
        noun = (
            self.kind
            if self.n_workers == 1
            else f"{self.kind}es"
            if self.kind == "process"
            else f"{self.kind}s"
        )
        how = f" ({self.start_method})" if self.start_method else ""
        text = f"{self.n_workers} {noun}{how} finished in {self.elapsed_s * 1e3:.1f} ms"
        if self.kind == "process" and self.first_start_s >= 0.005:
            text += f"; the first began its work after {self.first_start_s * 1e3:.1f} ms"
        if len({s.worker for s in self.spans}) >= 2:
            together = self.together_s
            if together > 0:
                text += f"; two or more were working at the same time for {together * 1e3:.1f} ms"
            else:
                text += "; no two of them were ever working at the same time"
        return text + "."

    def __repr__(self) -> str:
        method = f", start_method={self.start_method!r}" if self.start_method else ""
        shown = ", ".join(repr(r) for r in self.results[:4])
        more = ", ..." if len(self.results) > 4 else ""
        return (
            f"Run(kind={self.kind!r}, n_workers={self.n_workers}{method}, "
            f"elapsed_s={self.elapsed_s:.4f}, results=({shown}{more}), {len(self.spans)} spans)"
        )
