"""Lesson 05 · ``05-deadlocks.ipynb``: traced locks, the wait-for graph, demos, plots, explorer.

The lesson itself starts with plain ``threading.Lock`` code; these tools then show what it
did: ``TracedLock`` (a ``threading.Lock`` that reports), ``wait_for_graph()`` and
``plot_wait_for()`` (who waits for whom), ``pick_up`` (the four fixes, as code), and the
demos that deadlock on purpose and always come back.

Self-checks for its exercises are ``cl.check.deadlocks.<exercise>``. Everything else (the
lock registry, ``find_cycles``, the ``REMOVES`` table, the recorder) is in the submodules.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "graph": ["Deadlock", "WaitForGraph"],
        "locks": ["Account", "DeadlockError", "TracedLock", "TracedRLock"],
        "watchdog": ["Watchdog", "find_deadlock", "wait_for_graph"],
        "outcome": ["DemoResult"],
        "strategies": ["STRATEGIES", "pick_up"],
        "demos": ["compare_strategies", "dining_philosophers", "lock_order_inversion"],
        "relatives": ["livelock", "self_deadlock", "starvation"],
        "processes": ["dining_philosophers_processes"],
        "plots": [
            "plot_lock_timeline",
            "plot_philosophers",
            "plot_progress",
            "plot_strategies",
            "plot_wait_for",
        ],
        "explorer": ["philosophers_explorer"],
    },
)
