"""Self-checks for the exercises: each replies with a specific hint, never just "wrong".

Every check returns a :class:`Feedback` (``ok`` plus a message) and shows it nicely
in a notebook. Solutions live apart, in ``notebooks/solutions/``.
"""

from __future__ import annotations

from ._base import Feedback

# --- foundation (issue 2)
__all__ = ["Feedback"]
# --- 01 threads and processes (issue 2): add imports and names below
from .threads import check_fastest_to_start, check_runs_in_spawn, check_start_then_join

__all__ += ["check_fastest_to_start", "check_runs_in_spawn", "check_start_then_join"]
# --- 02/03 GIL and scaling (issue 3): add imports and names below
# --- 04 races (issue 4): add imports and names below
from .races import (  # noqa: E402
    bounded_buffer_is_correct,
    counter_is_correct,
    counter_program_is_correct,
)

__all__ += ["bounded_buffer_is_correct", "counter_is_correct", "counter_program_is_correct"]
# --- 05 deadlocks (issue 5): add imports and names below
# --- 06 IPC (issue 6): add imports and names below
from .ipc import check_fastest_small, check_queue_workers, check_shared_memory_freed  # noqa: E402

__all__ += ["check_fastest_small", "check_queue_workers", "check_shared_memory_freed"]
# --- 07/08 choosing, problems (issue 7): add imports and names below
