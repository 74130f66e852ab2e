"""Lesson 08 · ``08-common-problems.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.problems.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "explorer": ["clinic_explorer"],
        "plots": ["plot_oversubscription"],
        "traps": [
            "CLINIC",
            "CoreCounts",
            "DeadWorkerResult",
            "ForkLockResult",
            "GlobalsDemo",
            "LargeArgumentCost",
            "OrphanResult",
            "OutputDemo",
            "OversubscriptionResult",
            "PickleCheck",
            "QueueJoinResult",
            "ScriptRun",
            "ThreadExceptionResult",
            "ZombieResult",
            "checksum",
            "clinic",
            "core_counts",
            "cores_under_affinity",
            "count_lines",
            "dead_worker",
            "fork_with_held_lock",
            "global_counter",
            "large_argument_cost",
            "late_thread_print",
            "main_guard_script",
            "orphan_demo",
            "oversubscription",
            "pickle_check",
            "plain_executor",
            "process_exit_codes",
            "queue_join",
            "square",
            "thread_exception",
            "where_output_goes",
            "zombie_demo",
        ],
    },
)
