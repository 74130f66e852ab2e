"""Lesson 00 · ``00-start-here.ipynb``: its measurements, demos, plots and explorer.

Self-checks for its exercises are ``cl.check.start.<exercise>``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "environment": ["LAB_PACKAGES", "EnvironmentReport", "check_environment"],
        "readiness": [
            "Finding",
            "MachineFacts",
            "PreflightReport",
            "decide",
            "gather",
            "preflight",
            "python_install_hint",
        ],
    },
)
