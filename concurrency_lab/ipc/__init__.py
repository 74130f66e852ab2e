"""Lesson 06 · ``06-ipc.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.ipc.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "explorer": ["ipc_explorer", "pipeline_explorer"],
        "pipeline": ["PipelineResult", "run_pipeline"],
        "plots": ["plot_ipc", "plot_pipeline", "plot_pipeline_timeline", "plot_queue_depth"],
        "primitives": [
            "DEFAULT_SIZES",
            "METHODS",
            "CounterDemo",
            "DrainDemo",
            "IPCDemo",
            "IPCResult",
            "ProxyCost",
            "counter_demo",
            "join_before_drain",
            "manager_demo",
            "measure_ipc",
            "pipe_demo",
            "proxy_cost",
            "qsize_available",
            "queue_demo",
            "queue_square_worker",
            "shareable_list_demo",
            "shared_memory_demo",
            "shm_child_sum",
            "thread_queue_demo",
        ],
    },
)
