"""Lesson 04 · ``04-races-and-locks.ipynb``: races made visible, and the locks that fix them.

=================  ===========================================================================
module             what a teacher finds there
=================  ===========================================================================
``counters``       lost updates measured: :func:`lost_updates`, :func:`why_rare`,
                   ``SharedCounter`` and the three worker loops
``disassembly``    :func:`bytecode`: ``dis`` with each instruction labelled load/compute/store
``steps``          step programs (:func:`program`) and the rules that run one step
``schedules``      every schedule tried (:func:`interleavings`), one picked by hand
                   (``Scheduler``), :func:`count_schedules`
``levels``         the scheduler game's ladder (:data:`LEVELS`)
``game``           the game's widget (:func:`scheduler_game`)
``primitives``     each primitive of ``threading`` broken and fixed (:func:`primitive_demo`)
``plots``          the figures; ``explorer``: :func:`lost_updates_explorer`
``checks``         the exercises' self-checks, ``cl.check.races.<exercise>``
=================  ===========================================================================
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "counters": ["lost_updates", "why_rare"],
        "disassembly": ["bytecode"],
        "steps": ["program"],
        "schedules": ["count_schedules", "interleavings"],
        "levels": ["LEVELS"],
        "game": ["scheduler_game"],
        "primitives": ["PRIMITIVES", "primitive_demo"],
        "plots": ["plot_interleavings", "plot_lost_updates", "plot_primitive_demo"],
        "explorer": ["lost_updates_explorer"],
    },
)
