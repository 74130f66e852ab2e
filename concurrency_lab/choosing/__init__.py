"""Lesson 07 · ``07-choosing-a-model.ipynb``: serial, threads, processes or asyncio for my job?

The lesson's code is plain ``concurrent.futures`` and ``asyncio``; this room measures it and
reads the numbers:

================  ============================================================================
``matrix``        ``scenario_matrix``: four kinds of work x four models, measured here
                  (``MatrixResult``); ``compare_models``: the same for your own function
``limits``        how fast each model can run a kind of work at most: the guard against noise
``advice``        ``recommend``: one row's choice, in sentences (``RecommendationResult``)
``guide``         ``decision_guide``: the guide as data (kind of work, model, why, code)
``coroutines``    ``many_waits``: thousands of waits as coroutines and as threads
``interpreters``  ``find_interpreters``, ``interpreter_sweep``: free-threaded and 3.14+ Pythons
``dask_cost``     ``dask_overhead``: a process pool against Dask's scheduler (optional)
``plots``         ``plot_scenario_matrix``, ``plot_many_waits``, ``plot_interpreter_sweeps``,
                  ``plot_dask_overhead``
``explorer``      ``scenario_explorer``: measure one row with your settings
``checks``        the self-checks, as ``cl.check.choosing.<exercise>``
``fidelity``      the headline demo's right/flagged/wrong judge (for ``benchmarks/``)
================  ============================================================================
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "matrix": ["MatrixResult", "compare_models", "scenario_matrix"],
        "advice": ["RecommendationResult", "recommend"],
        "guide": ["DecisionGuideResult", "decision_guide"],
        "coroutines": ["ManyWaitsResult", "many_waits"],
        "interpreters": ["InterpreterSweepResult", "find_interpreters", "interpreter_sweep"],
        "dask_cost": [
            "DaskNotInstalledError",
            "DaskOverheadResult",
            "SharedMachineError",
            "dask_overhead",
        ],
        "plots": [
            "plot_dask_overhead",
            "plot_interpreter_sweeps",
            "plot_many_waits",
            "plot_scenario_matrix",
        ],
        "explorer": ["scenario_explorer"],
    },
)
