"""Lesson 04 · ``04-races-and-locks.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.races.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "demos": [
            "PRIMITIVES",
            "Bytecode",
            "LostUpdates",
            "PrimitiveDemo",
            "SharedCounter",
            "bytecode",
            "lost_updates",
            "primitive_demo",
        ],
        "explorer": ["SchedulerGame", "scheduler_game"],
        "plots": ["plot_interleavings", "plot_lost_updates", "plot_primitive_demo"],
        "programs": [
            "LEVELS",
            "Interleavings",
            "Program",
            "ProgramError",
            "Scheduler",
            "Step",
            "count_schedules",
            "interleavings",
            "level",
            "program",
        ],
    },
)
