"""Self-checks for the exercises: each replies with a specific hint, never just "wrong".

Every check returns a :class:`Feedback` (``ok`` plus a message) and shows it nicely
in a notebook. Solutions live apart, in ``notebooks/solutions/``.
"""

from __future__ import annotations

from ._base import Feedback

# --- foundation (issue 2)
__all__ = ["Feedback"]
# --- 01 threads and processes (issue 2): add imports and names below
from .threads import check_cube_in_spawn, check_fastest_to_start, check_start_then_join

__all__ += ["check_cube_in_spawn", "check_fastest_to_start", "check_start_then_join"]
# --- 02/03 GIL and scaling (issue 3): add imports and names below
from .scaling import (  # noqa: E402
    check_amdahl,
    check_efficiency,
    check_faster_config,
    check_restores_switch_interval,
    check_split_work,
    check_threads_scale,
)

__all__ += [
    "check_amdahl",
    "check_efficiency",
    "check_faster_config",
    "check_restores_switch_interval",
    "check_split_work",
    "check_threads_scale",
]
# --- 04 races (issue 4): add imports and names below
from .races import (  # noqa: E402
    bounded_buffer_is_correct,
    counter_is_correct,
    counter_program_is_correct,
)

__all__ += ["bounded_buffer_is_correct", "counter_is_correct", "counter_program_is_correct"]
# --- 05 deadlocks (issue 5): add imports and names below
from .deadlocks import (  # noqa: E402
    collect_is_safe,
    strategy_feeds_everyone,
    transfer_is_deadlock_free,
)

__all__ += ["collect_is_safe", "strategy_feeds_everyone", "transfer_is_deadlock_free"]
# --- 06 IPC (issue 6): add imports and names below
from .ipc import check_fastest_small, check_queue_workers, check_shared_memory_freed  # noqa: E402

__all__ += ["check_fastest_small", "check_queue_workers", "check_shared_memory_freed"]
# --- 07/08 choosing, problems (issue 7): add imports and names below
from .problems import (  # noqa: E402
    best_model,
    drains_before_join,
    fetches_concurrently,
    reports_thread_exception,
    runs_on_any_executor,
    stops_whole_tree,
)

__all__ += [
    "best_model",
    "drains_before_join",
    "fetches_concurrently",
    "reports_thread_exception",
    "runs_on_any_executor",
    "stops_whole_tree",
]
