"""Every ipywidgets control of the course: the only place that imports ipywidgets.

Each ``*_explorer()`` only builds controls and wires them to one library call and
one plot function; the logic lives in functions that tests reach directly. Slow
work runs on a button or on release (``continuous_update=False``), callbacks write
into an ``Output``, and their errors are shown there too.
"""

from __future__ import annotations

from ..view.explorer import run_button, safe_callback, show_in
from .timeline import timeline_explorer

# --- foundation (issue 2)
__all__ = ["run_button", "safe_callback", "show_in", "timeline_explorer"]
# --- scaling and GIL (issue 3): add imports and names below
from .scaling import CpuMeter, gil_explorer, scaling_explorer

__all__ += ["CpuMeter", "gil_explorer", "scaling_explorer"]
# --- races (issue 4): add imports and names below
from .races import SchedulerGame, scheduler_game  # noqa: E402

__all__ += ["SchedulerGame", "scheduler_game"]
# --- deadlocks (issue 5): add imports and names below
from .deadlocks import philosophers_explorer  # noqa: E402

__all__ += ["philosophers_explorer"]
# --- IPC (issue 6): add imports and names below
from .ipc import ipc_explorer, pipeline_explorer  # noqa: E402

__all__ += ["ipc_explorer", "pipeline_explorer"]
# --- choosing a model (issue 7): add imports and names below
from .models import clinic_explorer, scenario_explorer  # noqa: E402

__all__ += ["clinic_explorer", "scenario_explorer"]
