"""Lesson 03 · ``03-core-scaling.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.scaling.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "explorer": ["CpuMeter", "scaling_explorer"],
        "measure": [
            "ArgumentCost",
            "GranularityResult",
            "PoolStartup",
            "SCALING_WORKLOADS",
            "ScalingPoint",
            "ScalingResult",
            "amdahl_speedup",
            "efficiency",
            "fit_amdahl",
            "measure_argument_cost",
            "measure_granularity",
            "measure_pool_startup",
            "measure_scaling",
            "scaling_experiment",
            "speedup",
            "split_work",
            "worker_counts",
        ],
        "plots": ["plot_scaling"],
    },
)
