"""One progress bar for every long measurement (tqdm, shown as a widget in a notebook)."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(total: int, desc: str = "measuring") -> Any:
    """A tqdm bar that starts no monitor thread (tqdm's would outlive the bar).

    Raises:
        ImportError: tqdm is missing, with the command that installs it.
    """
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:  # pragma: no cover - tqdm is in the lab extra
        raise ImportError("progress bars need tqdm: pip install 'concurrency_lab[lab]'") from exc
    quiet = type("LabProgress", (tqdm,), {"monitor_interval": 0})
    return quiet(total=total, desc=desc, leave=False)
