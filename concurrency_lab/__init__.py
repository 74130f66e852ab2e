"""concurrency_lab: see how Python threads and processes really behave.

Import it once per notebook::

    import concurrency_lab as cl

Importing needs only the standard library and changes no global state (no
start method, no plotting settings). The plotting and widget helpers load
matplotlib and ipywidgets only when you first use them.
"""

from __future__ import annotations

import importlib
from typing import Any

from .basics import MemoryDemo, StartupResult, measure_startup, memory_isolation
from .errors import (
    LabError,
    NotebookFunctionError,
    UnpicklableError,
    WorkerCrashedError,
    WorkerError,
    WorkerTimeoutError,
)
from .runners import (
    KINDS,
    START_METHODS,
    Run,
    available_start_methods,
    default_start_method,
    get_context,
    run_tasks,
    start_join,
    usable_cores,
)
from .tracing import Span, collect, record_span, span
from .workloads import (
    calibrate,
    cpu_bound,
    die_by_signal,
    exit_abruptly,
    gil_releasing,
    io_bound,
    noop,
    raise_error,
    sleep_then_return,
    whoami,
)

__version__ = "0.1.0"

# Names served lazily: loaded on first use, so ``import concurrency_lab`` stays light.
# Each value is the submodule that defines the name.
_LAZY = {
    # --- foundation (issue 2)
    "plot_timeline": "plots",
    "plot_startup": "plots",
    "plot_memory": "plots",
    "timeline_explorer": "widgets",
    "check_environment": "environment",
    "EnvironmentReport": "environment",
    "check": "check",
    # --- scaling and GIL (issue 3)
    "measure_scaling": "scaling",
    "ScalingResult": "scaling",
    "ScalingPoint": "scaling",
    "amdahl_speedup": "scaling",
    "fit_amdahl": "scaling",
    "speedup": "scaling",
    "efficiency": "scaling",
    "split_work": "scaling",
    "worker_counts": "scaling",
    "io_wait": "scaling",
    "spin": "scaling",
    "measure_pool_startup": "scaling",
    "PoolStartup": "scaling",
    "measure_granularity": "scaling",
    "GranularityResult": "scaling",
    "measure_argument_cost": "scaling",
    "ArgumentCost": "scaling",
    "scaling": "scaling",
    "gil_enabled": "gil",
    "free_threaded_build": "gil",
    "interpreter_summary": "gil",
    "switch_interval": "gil",
    "trace_handoff": "gil",
    "Handoff": "gil",
    "measure_switch_interval": "gil",
    "SwitchIntervalResult": "gil",
    "ProbeRun": "gil",
    "measure_thread_scaling": "gil",
    "ThreadScaling": "gil",
    "zlib_compress": "gil",
    "plot_thread_scaling": "plots",
    "gil": "gil",
    "plot_scaling": "plots",
    "plot_handoff": "plots",
    "plot_probe_latency": "plots",
    "scaling_explorer": "widgets",
    "gil_explorer": "widgets",
    # --- races (issue 4)
    "SharedCounter": "races",
    "LostUpdates": "races",
    "lost_updates": "races",
    "bytecode": "races",
    "Step": "race_programs",
    "Program": "race_programs",
    "ProgramError": "race_programs",
    "program": "race_programs",
    "level": "race_programs",
    "LEVELS": "race_programs",
    "Scheduler": "race_programs",
    "Interleavings": "race_programs",
    "interleavings": "race_programs",
    "count_schedules": "race_programs",
    "PrimitiveDemo": "races",
    "PRIMITIVES": "races",
    "primitive_demo": "races",
    "plot_lost_updates": "plots",
    "plot_interleavings": "plots",
    "plot_primitive_demo": "plots",
    "races": "races",
    "scheduler_game": "widgets",
    # --- deadlocks (issue 5)
    "deadlocks": "deadlocks",
    "Account": "deadlocks",
    "TracedLock": "deadlocks",
    "TracedRLock": "deadlocks",
    "LockRegistry": "deadlocks",
    "LockMisuseError": "deadlocks",
    "DeadlockError": "deadlocks",
    "WaitForGraph": "deadlocks",
    "Deadlock": "deadlocks",
    "Watchdog": "deadlocks",
    "find_deadlock": "deadlocks",
    "find_cycles": "deadlocks",
    "default_registry": "deadlocks",
    "lock_intervals": "deadlocks",
    "DEADLOCK_STRATEGIES": "deadlock_demos",
    "lock_order_inversion": "deadlock_demos",
    "dining_philosophers": "deadlock_demos",
    "dining_philosophers_processes": "deadlock_demos",
    "self_deadlock": "deadlock_demos",
    "queue_join_trap": "deadlock_demos",
    "livelock": "deadlock_demos",
    "starvation": "deadlock_demos",
    "plot_wait_for": "plots",
    "plot_lock_timeline": "plots",
    "plot_progress": "plots",
    "plot_philosophers": "plots",
    "philosophers_explorer": "widgets",
    # --- IPC (issue 6)
    "ipc": "ipc",
    "IPCDemo": "ipc",
    "IPCResult": "ipc",
    "PipelineResult": "pipeline",
    "pipe_demo": "ipc",
    "queue_demo": "ipc",
    "thread_queue_demo": "ipc",
    "manager_demo": "ipc",
    "proxy_cost": "ipc",
    "counter_demo": "ipc",
    "shared_memory_demo": "ipc",
    "shareable_list_demo": "ipc",
    "shm_child_sum": "ipc",
    "queue_square_worker": "ipc",
    "join_before_drain": "ipc",
    "qsize_available": "ipc",
    "measure_ipc": "ipc",
    "run_pipeline": "pipeline",
    "plot_ipc": "plots",
    "plot_pipeline": "plots",
    "plot_queue_depth": "plots",
    "plot_pipeline_timeline": "plots",
    "ipc_explorer": "widgets",
    "pipeline_explorer": "widgets",
    # --- choosing a model, common problems (issue 7)
    "models": "models",
    "problems": "problems",
    "MODELS": "models",
    "WORKLOADS": "models",
    "ScenarioMatrix": "models",
    "scenario_matrix": "models",
    "default_matrix_workers": "models",
    "Recommendation": "models",
    "recommend": "models",
    "async_io_bound": "models",
    "async_mixed_task": "models",
    "mixed_task": "models",
    "gather_waits": "models",
    "run_coroutine": "models",
    "InterpreterInfo": "models",
    "find_interpreters": "models",
    "explain_interpreters": "models",
    "InterpreterSweep": "models",
    "interpreter_sweep": "models",
    "DaskComparison": "models",
    "DaskNotInstalledError": "models",
    "dask_available": "models",
    "dask_overhead": "models",
    "plain_executor": "problems",
    "main_guard_script": "problems",
    "fork_with_held_lock": "problems",
    "thread_exception": "problems",
    "process_exit_codes": "problems",
    "dead_worker": "problems",
    "late_thread_print": "problems",
    "where_output_goes": "problems",
    "zombie_demo": "problems",
    "orphan_demo": "problems",
    "global_counter": "problems",
    "core_counts": "problems",
    "cores_under_affinity": "problems",
    "oversubscription": "problems",
    "pickle_check": "problems",
    "large_argument_cost": "problems",
    "queue_join": "problems",
    "plot_scenario_matrix": "plots",
    "plot_interpreter_sweeps": "plots",
    "plot_dask_overhead": "plots",
    "plot_oversubscription": "plots",
    "scenario_explorer": "widgets",
    "clinic_explorer": "widgets",
    "clinic": "problems",
    "CLINIC": "problems",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'concurrency_lab' has no attribute {name!r}")
    mod = importlib.import_module(f".{module}", __name__)
    value = mod if module == name else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext concurrency_lab``: adds the ``%%worker_module`` cell magic."""
    from .view.magics import register

    register(ipython)
