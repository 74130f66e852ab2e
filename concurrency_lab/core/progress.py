"""One progress bar for every long measurement (tqdm, shown as a widget in a notebook)."""

from __future__ import annotations

from typing import Any

from .install import missing_extra

__all__ = ["progress_bar"]


def progress_bar(total: int, desc: str = "measuring") -> Any:
    """A tqdm bar that starts no monitor thread (tqdm's would outlive the bar).

    Raises:
        ImportError: tqdm is missing, with the command that installs it.
    """
    try:
        from tqdm.auto import tqdm
    except ModuleNotFoundError as exc:  # pragma: no cover - tqdm is in the lab extra
        raise missing_extra(exc, "a progress bar") from None
    quiet = type("LabProgress", (tqdm,), {"monitor_interval": 0})
    return quiet(total=total, desc=desc, leave=False)
