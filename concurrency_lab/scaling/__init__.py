"""Lesson 03 · ``03-core-scaling.ipynb``: its measurements, plots and explorer.

=================  ==================================================================
module             what a teacher finds there
=================  ==================================================================
``maths``          speedup, efficiency, Amdahl's law, the serial share a point implies,
                   when a gain counts as real
``sweep``          :func:`measure_scaling`, the strong-scaling sweep (also lesson 02)
``results``        :class:`ScalingResult` and :class:`AmdahlFitResult`: the numbers and
                   the sentences
``overheads``      pool start-up per start method, task size and ``chunksize``
``plots``          :func:`plot_scaling`, :func:`plot_amdahl`
``explorer``       :func:`scaling_explorer` (with a CPU meter of the usable CPUs)
``pools``          the pools the measurements run on (plumbing)
``checks``         the exercises' self-checks, ``cl.check.scaling.<exercise>``
``fidelity``       the headline demos, judged run after run (benchmarks)
=================  ==================================================================
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "explorer": ["scaling_explorer"],
        "maths": [
            "amdahl_speedup",
            "efficiency",
            "fit_amdahl",
            "serial_share",
            "speedup",
            "split_work",
        ],
        "overheads": ["compare_start_methods", "measure_granularity", "measure_pool_startup"],
        "plots": ["plot_amdahl", "plot_scaling"],
        "results": ["AmdahlFitResult", "ScalingResult"],
        "sweep": ["measure_scaling", "scaling_experiment", "sweep_counts"],
    },
)
