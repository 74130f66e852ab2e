"""Workloads, tracing, the environment check, plots, the timeline explorer and the cell magic."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

import concurrency_lab as cl
from concurrency_lab.core import tracing
from concurrency_lab.core import workloads as wl

# --------------------------------------------------------------------------- import hygiene


def test_import_is_light_and_changes_no_global_state():
    code = (
        "import sys, multiprocessing as mp\n"
        "import concurrency_lab as cl\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'IPython', 'numpy', 'psutil', 'tqdm')"
        " if m in sys.modules]\n"
        "print('heavy', heavy)\n"
        "print('method', mp.get_start_method(allow_none=True))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "heavy []" in out.stdout
    assert "method None" in out.stdout


def test_lazy_names_resolve_and_unknown_names_fail_clearly():
    assert callable(cl.plot_timeline) and callable(cl.timeline_explorer)
    assert cl.check.Feedback is not None
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        cl.nonsense  # noqa: B018
    assert "plot_timeline" in dir(cl)


# --------------------------------------------------------------------------- workloads


def test_cpu_bound_is_deterministic_and_scales_with_units():
    assert cl.cpu_bound(0) == 0
    assert cl.cpu_bound(3) == cl.cpu_bound(3) != cl.cpu_bound(2)
    with pytest.raises(TypeError, match=r"'units' must be a whole number of work units \(got 1.5"):
        cl.cpu_bound(1.5)
    with pytest.raises(ValueError, match=r"'units' must be >= 0 \(got -1\)"):
        cl.cpu_bound(-1)


def test_io_bound_waits_and_round_trips():
    took = cl.io_bound(0.02, round_trips=3)
    assert took >= 0.02
    with pytest.raises(ValueError, match="'wait_s' must be a number of seconds >= 0"):
        cl.io_bound(-1)


def test_gil_releasing_algorithms_are_deterministic():
    assert cl.gil_releasing(2) == cl.gil_releasing(2) != cl.gil_releasing(1)
    assert cl.gil_releasing(1, algorithm="zlib") == cl.gil_releasing(1, algorithm="zlib")
    with pytest.raises(ValueError, match="'algorithm' must be 'sha256' or 'zlib'"):
        cl.gil_releasing(1, algorithm="md5")


def test_calibrate_sizes_to_target_roughly():
    units = cl.calibrate(cl.cpu_bound, 0.05)
    assert units >= 1
    with pytest.raises(ValueError, match="io_bound is already sized in seconds"):
        cl.calibrate(cl.io_bound, 0.1)
    with pytest.raises(ValueError, match="'target_s' must be a positive number of seconds"):
        cl.calibrate(cl.cpu_bound, 0)


def test_faulty_workers_fail_as_documented():
    with pytest.raises(RuntimeError, match="oops"):
        wl.raise_error("oops")
    pid, name = cl.whoami()
    assert pid == os.getpid() and name == threading.current_thread().name


# --------------------------------------------------------------------------- tracing


def test_recorder_records_in_order_with_cached_identity():
    rec = tracing.Recorder("w")
    with rec.span("a"):
        pass
    rec.record("b", 5, 9)
    spans = rec.spans()
    assert [s.label for s in spans] == ["a", "b"]
    assert spans[0].start_ns <= spans[0].end_ns
    assert spans[1].duration_s == 4e-9
    assert {s.pid for s in spans} == {os.getpid()}
    assert {s.worker for s in spans} == {"w"}


def test_default_recorder_collects_from_several_threads():
    tracing.collect()

    def work(tag):
        with cl.span(tag):
            time.sleep(0.001)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tracing.record_span("manual", 1, 2)
    got = tracing.collect()
    assert sorted(s.label for s in got) == ["manual", "t0", "t1", "t2"]
    assert len({s.thread_id for s in got}) >= 3
    assert tracing.collect() == []


# --------------------------------------------------------------------------- environment


# --------------------------------------------------------------------------- plots and widgets


def test_plot_timeline_draws_one_row_per_worker():
    run = cl.run_tasks(cl.cpu_bound, [1] * 6, kind="thread", n_workers=3)
    fig = cl.plot_timeline(run)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(run.workers)
    bars = sum(len(c.get_paths()) for c in ax.collections)
    assert bars == len(run.spans)


def test_plot_timeline_accepts_span_lists_and_an_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    spans = [tracing.Span("a", 1, 1, "x", 0, 10), tracing.Span("b", 2, 1, "y", 5, 20)]
    assert cl.plot_timeline(spans, ax=ax) is fig
    plt.close(fig)


def test_timeline_explorer_runs_on_click():
    ex = cl.timeline_explorer(n_workers=2)
    ex.controls["n_workers"].value = 3
    ex.controls["workload"].value = "io"
    ex.controls["kind"].value = "process"
    assert ex.controls["start_method"].disabled is False
    ex.button.click()
    assert ex.summary.startswith("3 processes (") and "finished in" in ex.summary
    assert "working at the same time" in ex.summary
    assert ex.summary in ex.status.value and len(ex.output.outputs) == 1
    ex.controls["kind"].value = "thread"
    assert ex.controls["start_method"].disabled is True


def test_timeline_explorer_shows_errors_in_its_output(monkeypatch):
    ex = cl.timeline_explorer()
    ex.controls["n_workers"].value = 1
    monkeypatch.setattr(ex, "_compute", lambda **kw: cl.start_join(cl.noop, 0))
    assert ex.run() is None
    assert "'n_workers' must be >= 1" in ex.error
    assert ex.output.outputs[0]["name"] == "stderr"


def test_run_timeline_experiment_rejects_unknown_workload():
    from concurrency_lab.view.timeline_explorer import run_timeline_experiment

    with pytest.raises(ValueError, match="'workload' must be 'cpu', 'io' or 'c'"):
        run_timeline_experiment(workload="gpu")


# --------------------------------------------------------------------------- magic


def test_worker_module_magic_makes_a_spawnable_function(tmp_path, monkeypatch):
    from concurrency_lab.view.magics import register

    class FakeShell:  # the two things the magic uses of an IPython shell
        def __init__(self):
            self.user_ns, self.magics = {}, {}

        def register_magic_function(self, fn, magic_kind, magic_name):
            self.magics[(magic_kind, magic_name)] = fn

    monkeypatch.chdir(tmp_path)
    ip = FakeShell()
    register(ip)
    ip.magics[("cell", "worker_module")]("lab_test_tasks", "def triple(x):\n    return 3 * x\n")
    mod = ip.user_ns["lab_test_tasks"]
    assert (tmp_path / "lab_test_tasks.py").exists()
    run = cl.start_join(mod.triple, 1, kind="process", start_method="spawn", args=(5,))
    assert run.results == (15,)
    sys.modules.pop("lab_test_tasks", None)
    sys.path.remove(str(tmp_path))


def test_worker_module_rejects_bad_names(tmp_path):
    from concurrency_lab.view.magics import write_worker_module

    with pytest.raises(ValueError, match="'class' is not a valid module name"):
        write_worker_module("class", "", directory=tmp_path)
    with pytest.raises(ValueError, match="'os' is already the name of an imported module"):
        write_worker_module("os", "", directory=tmp_path)


# --------------------------------------------------------------------------- self-checks


def test_run_tasks_progress_bar_leaves_no_thread():
    run = cl.run_tasks(cl.noop, [()] * 3, progress=True)
    assert len(run.results) == 3


@pytest.mark.parametrize(
    ("kind", "label"), [("thread", "tasks (threads)"), ("process", "tasks (processes)")]
)
def test_run_tasks_progress_bar_names_the_workers(kind, label, monkeypatch):
    from concurrency_lab.core import progress

    seen = []
    real = progress.progress_bar
    monkeypatch.setattr(
        progress, "progress_bar", lambda total, desc: seen.append(desc) or real(total, desc)
    )
    cl.run_tasks(cl.noop, [()] * 2, kind=kind, progress=True)
    assert seen == [label]
