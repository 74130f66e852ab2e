"""Lesson 02 · ``02-the-gil.ipynb``: its measurements, plots and explorer.

=================  ==================================================================
module             what a teacher finds there
=================  ==================================================================
``speedups``       :func:`threads_vs_processes` (the headline) and
                   :func:`measure_thread_scaling` (which work threads speed up)
``handoff``        :func:`took_turns` (read a ``%%timeline``), :func:`trace_handoff`
                   (threads taking turns, closer), :func:`switch_interval`
``convoy``         :func:`measure_switch_interval` (the convoy effect),
                   :func:`gil_snapshot` (what the explorer runs)
``plots``          one plot function per measurement
``explorer``       :func:`gil_explorer`
``checks``         the exercises' self-checks, ``cl.check.gil.<exercise>``
``fidelity``       the headline demos, judged run after run (benchmarks)
=================  ==================================================================

The scaling sweep itself lives in lesson 03's room: ``cl.scaling.measure_scaling``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "convoy": ["gil_snapshot", "measure_switch_interval"],
        "explorer": ["gil_explorer"],
        "handoff": ["switch_interval", "took_turns", "trace_handoff"],
        "plots": [
            "plot_handoff",
            "plot_probe_latency",
            "plot_thread_scaling",
            "plot_threads_vs_processes",
        ],
        "speedups": ["measure_thread_scaling", "threads_vs_processes"],
    },
)
