"""Lesson 01 · ``01-threads-and-processes.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.threads_and_processes.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "demos": ["MemoryDemo", "StartupResult", "measure_startup", "memory_isolation"],
        "plots": ["plot_memory", "plot_startup"],
    },
)
