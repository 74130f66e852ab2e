"""Lesson 07 · ``07-choosing-a-model.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.choosing.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "explorer": ["scenario_explorer"],
        "models": [
            "DaskComparison",
            "DaskNotInstalledError",
            "InterpreterInfo",
            "InterpreterSweep",
            "MODELS",
            "Recommendation",
            "ScenarioMatrix",
            "WORKLOADS",
            "async_mixed_task",
            "dask_available",
            "dask_overhead",
            "default_matrix_workers",
            "explain_interpreters",
            "find_interpreters",
            "gather_waits",
            "interpreter_sweep",
            "noop_task",
            "recommend",
            "run_coroutine",
            "scenario_matrix",
        ],
        "plots": ["plot_dask_overhead", "plot_interpreter_sweeps", "plot_scenario_matrix"],
    },
)
