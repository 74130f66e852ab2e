"""A matrix built from numbers, so the decision guide's rules can be tested without timing."""

from __future__ import annotations

from concurrency_lab.choosing.matrix import DESCRIPTIONS, HOLDS_GIL, MatrixResult

#: CPU share of each row's serial run on a quiet machine.
SHARES = {"cpu": 1.0, "gil_releasing": 1.0, "io": 0.01, "mixed": 0.5}


def fake_matrix(
    rows: dict[str, tuple[float, ...]],
    *,
    models: tuple[str, ...] = ("serial", "threads", "processes", "asyncio"),
    others: dict[str, float | None] | None = None,
    cores: int = 2,
    gil: bool = True,
    n_workers: int = 4,
    n_tasks: int = 8,
    startup: float | None = 0.05,
) -> MatrixResult:
    """Rows of seconds per model; ``others``: cores other programs kept busy, per row."""
    names = tuple(rows)
    others = others or {}
    return MatrixResult(
        workloads=names,
        models=models,  # type: ignore[arg-type]
        elapsed_s=tuple(rows.values()),
        cpu_share=tuple(SHARES.get(w, 1.0) for w in names),
        holds_gil=tuple(HOLDS_GIL.get(w) for w in names),
        descriptions=tuple(DESCRIPTIONS.get(w, w) for w in names),
        others_cores=tuple(others.get(w, 0.0) for w in names),
        n_workers=n_workers,
        n_tasks=n_tasks,
        task_s=0.05,
        start_method="fork",
        pool_startup_s=startup,
        usable_cores=cores,
        gil_enabled=gil,
        repeats=3,
    )


#: A quiet 2-core run, as it should come out: every recommendation true.
QUIET = {
    "cpu": (1.0, 1.0, 0.52, 1.0),
    "gil_releasing": (1.0, 0.55, 0.56, 1.0),
    "io": (1.0, 0.25, 0.26, 0.25),
    "mixed": (0.42, 0.245, 0.15, 0.24),
}
