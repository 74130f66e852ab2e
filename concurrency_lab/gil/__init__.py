"""Lesson 02 · ``02-the-gil.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.gil.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "explorer": ["gil_explorer"],
        "measure": [
            "Handoff",
            "ProbeRun",
            "SwitchIntervalResult",
            "ThreadScaling",
            "interpreter_summary",
            "measure_switch_interval",
            "measure_thread_scaling",
            "switch_interval",
            "trace_handoff",
        ],
        "plots": ["plot_handoff", "plot_probe_latency", "plot_thread_scaling"],
    },
)
