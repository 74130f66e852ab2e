"""Lesson 05 · ``05-deadlocks.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.deadlocks.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "demos": [
            "DEADLOCK_STRATEGIES",
            "STRATEGIES",
            "ProcessPhilosophersOutcome",
            "QueueJoinOutcome",
            "SelfDeadlockOutcome",
            "dining_philosophers",
            "dining_philosophers_processes",
            "livelock",
            "lock_order_inversion",
            "queue_join_trap",
            "self_deadlock",
            "starvation",
        ],
        "explorer": ["philosophers_explorer"],
        "locks": [
            "Account",
            "CycleStep",
            "Deadlock",
            "DeadlockError",
            "DemoOutcome",
            "LockEvent",
            "LockInterval",
            "LockMisuseError",
            "LockRegistry",
            "LockStatistics",
            "TracedLock",
            "TracedRLock",
            "WaitForGraph",
            "Watchdog",
            "default_registry",
            "find_cycles",
            "find_deadlock",
            "lock_intervals",
        ],
        "plots": ["plot_lock_timeline", "plot_philosophers", "plot_progress", "plot_wait_for"],
    },
)
