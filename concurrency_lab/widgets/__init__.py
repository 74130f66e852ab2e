"""Every ipywidgets control of the course: the only place that imports ipywidgets.

Each ``*_explorer()`` only builds controls and wires them to one library call and
one plot function; the logic lives in functions that tests reach directly. Slow
work runs on a button or on release (``continuous_update=False``), callbacks write
into an ``Output``, and their errors are shown there too.
"""

from __future__ import annotations

from ._base import run_button, safe_callback
from .timeline import timeline_explorer

# --- foundation (issue 2)
__all__ = ["run_button", "safe_callback", "timeline_explorer"]
# --- scaling and GIL (issue 3): add imports and names below
# --- races (issue 4): add imports and names below
# --- deadlocks (issue 5): add imports and names below
# --- IPC (issue 6): add imports and names below
# --- choosing a model (issue 7): add imports and names below
