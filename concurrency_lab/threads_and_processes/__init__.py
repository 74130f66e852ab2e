"""Lesson 01 · ``01-threads-and-processes.ipynb``: its measurements, demos, plots and checks.

Public names, by submodule:

* ``side_by_side``: :func:`overlap` (did a ``%%timeline`` cell's workers run at the same time?)
  and :class:`OverlapResult`;
* ``startup``: :func:`measure_startup` (what starting a worker costs) and
  :class:`StartupResult`;
* ``memory``: :func:`memory_isolation` (who sees whose memory), :func:`add_item` (what each
  worker runs) and :class:`MemoryResult`;
* ``plots``: :func:`plot_startup`, :func:`plot_memory`.

Also here: ``checks`` (``cl.check.threads_and_processes.<exercise>``) and ``fidelity`` (the
headline demos, judged by ``benchmarks/bench_fidelity.py``). The lesson's explorer is the front
door's ``cl.timeline_explorer()``.
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "side_by_side": ["OverlapResult", "overlap"],
        "startup": ["StartupResult", "measure_startup"],
        "memory": ["MemoryResult", "add_item", "memory_isolation"],
        "plots": ["plot_memory", "plot_startup"],
    },
)
