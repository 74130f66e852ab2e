"""Hand-built sweep results with known numbers, for tests of the words and the plots."""

from __future__ import annotations

from concurrency_lab.core.load import Load
from concurrency_lab.scaling.results import ScalingPoint, ScalingResult


def point(kind: str, n: int, speedups, base: float = 1.0) -> ScalingPoint:
    return ScalingPoint(
        kind=kind,
        n_workers=n,
        elapsed_s=tuple(base / s for s in speedups),
        baseline_s=(base,) * len(speedups),
        cold_s=0.5,
    )


def result(
    points,
    *,
    cores: int = 2,
    workload: str = "cpu_bound",
    serial_fraction: float = 0.0,
    others: float | None = None,
    gil: bool = True,
    notes: tuple[str, ...] = (),
    physical: int | None = None,
) -> ScalingResult:
    return ScalingResult(
        workload=workload,
        total_work=100,
        serial_fraction=serial_fraction,
        start_method="fork",
        usable_cores=cores,
        repeats=len(points[0].speedups),
        points=tuple(points),
        notes=notes,
        load=None if others is None else Load(1.0, cores, others),
        physical_cores=physical,
        gil=gil,
    )
