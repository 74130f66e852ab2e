"""Lesson 00 · ``00-start-here.ipynb``: is this machine ready for the course?

Public names, by submodule:

* ``environment``: :func:`check_environment` (the in-notebook check, also ``cl.check_environment``)
  and :class:`EnvironmentResult`, the packages it looks for (``LAB_PACKAGES``);
* ``readiness``: the pre-workshop check learners run from a terminal
  (``python -m concurrency_lab check``): :func:`preflight`, :func:`gather`, :func:`decide`,
  :class:`PreflightReport`, and what it is built from.

Lesson 00 has no exercises, so there is no ``cl.check.start``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "environment": ["LAB_PACKAGES", "EnvironmentResult", "check_environment"],
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
