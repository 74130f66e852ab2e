"""Every matplotlib figure of the course: data in, ``Figure`` out.

Each ``plot_*(result, ax=None)`` draws a result object that a measuring function
returned; it never runs work itself. Without ``ax`` it makes a new figure and
returns it (so it shows once, as the cell's result); with ``ax`` it draws there
and returns ``ax.figure``. Importing this module imports matplotlib.
"""

from __future__ import annotations

from ..view.style import new_axes, worker_colors
from .timeline import plot_memory, plot_startup, plot_timeline

# --- foundation (issue 2)
__all__ = ["new_axes", "plot_memory", "plot_startup", "plot_timeline", "worker_colors"]
# --- scaling and GIL (issue 3): add imports and names below
from .gil import plot_handoff, plot_probe_latency, plot_thread_scaling
from .scaling import plot_scaling

__all__ += ["plot_handoff", "plot_probe_latency", "plot_scaling", "plot_thread_scaling"]
# --- races (issue 4): add imports and names below
from .races import plot_interleavings, plot_lost_updates, plot_primitive_demo  # noqa: E402

__all__ += ["plot_interleavings", "plot_lost_updates", "plot_primitive_demo"]
# --- deadlocks (issue 5): add imports and names below
from .deadlocks import (  # noqa: E402
    plot_lock_timeline,
    plot_philosophers,
    plot_progress,
    plot_wait_for,
)

__all__ += ["plot_lock_timeline", "plot_philosophers", "plot_progress", "plot_wait_for"]
# --- IPC (issue 6): add imports and names below
from .ipc import plot_ipc, plot_pipeline, plot_pipeline_timeline, plot_queue_depth  # noqa: E402

__all__ += ["plot_ipc", "plot_pipeline", "plot_pipeline_timeline", "plot_queue_depth"]
# --- choosing a model (issue 7): add imports and names below
from .models import (  # noqa: E402
    plot_dask_overhead,
    plot_interpreter_sweeps,
    plot_oversubscription,
    plot_scenario_matrix,
)

__all__ += [
    "plot_dask_overhead",
    "plot_interpreter_sweeps",
    "plot_oversubscription",
    "plot_scenario_matrix",
]
