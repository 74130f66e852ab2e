"""Lesson 06 · ``06-ipc.ipynb``: how processes talk, and what each way costs.

The lesson's code is plain ``multiprocessing``; this room holds what it needs besides:

=================  ==========================================================================
``workers``        what the lesson's child processes run (``square_server``, ``square_worker``,
                   ``count_up``, ``double_in_place``, ...) and ``shm_child_sum`` (Exercise 2)
``cost``           ``measure_ipc``: every method's time per message beside an in-process copy
``pipeline``       ``run_pipeline``: producers and consumers around one bounded queue
``plots``          ``plot_ipc``, ``plot_pipeline``
``explorer``       ``ipc_explorer``, ``pipeline_explorer``
``children``       the harness the measurements start their children with (not for lessons)
``checks``         the self-checks, as ``cl.check.ipc.<exercise>``
=================  ==========================================================================
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "workers": [
            "count_up",
            "double_in_place",
            "put_big",
            "shm_child_sum",
            "silent_server",
            "square_server",
            "square_worker",
            "store_square",
        ],
        "cost": ["IPCResult", "measure_ipc"],
        "pipeline": ["PipelineResult", "run_pipeline"],
        "plots": ["plot_ipc", "plot_pipeline"],
        "explorer": ["ipc_explorer", "pipeline_explorer"],
    },
)
