"""Lesson 08 · ``08-common-problems.ipynb``: the common problems clinic.

Each problem comes as plain code in the notebook, then as a demo here that runs its broken
version and (``fixed=True``) its fix, bounded by timeouts, and says what happened. Self-checks
for the exercises are ``cl.check.problems.<exercise>``.

| module | what it holds |
| --- | --- |
| ``failures`` | a thread's vanishing exception, a pool worker that dies, exit codes |
| ``scripts`` | running a script as its own program; the ``__main__`` guard |
| ``output`` | what a child process prints, and where it goes |
| ``process_tree`` | zombies, orphans, stopping a process and everything it started |
| ``sharing`` | fork with a held lock, globals, pickling, a lock handed to pool workers |
| ``cores`` | counting usable cores, more workers than cores |
| ``all_problems`` | the catalogue of problems by name (``clinic``) |
| ``plots``, ``explorer``, ``checks`` | the figure, the clinic explorer, the self-checks |
"""

from ..core.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(
    __name__,
    {
        "all_problems": ["CLINIC", "clinic"],
        "cores": ["cores_under_affinity", "oversubscribed_workers", "oversubscription"],
        "explorer": ["clinic_explorer"],
        "failures": ["crash_on_zero", "dead_worker", "divide", "exit_codes", "thread_exception"],
        "output": ["where_output_goes"],
        "plots": ["plot_oversubscription"],
        "process_tree": ["kill_tree", "orphan_demo", "zombie_demo"],
        "scripts": ["main_guard_script", "run_script"],
        "sharing": [
            "checksum",
            "count_lines",
            "fork_with_held_lock",
            "global_counter",
            "log_line",
            "make_and_checksum",
            "pickle_check",
            "remember_lock",
        ],
    },
)
