"""Tests for choosing a model (07): the scenario matrix, the decision guide, asyncio,
other interpreters and the optional Dask extra."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import threading

import pytest

import concurrency_lab as cl
from concurrency_lab.choosing import models
from concurrency_lab.choosing.models import ScenarioMatrix


def _matrix(
    rows: dict[str, tuple[float, ...]],
    cols=("serial", "threads", "processes", "asyncio"),
    gil_enabled=True,
):
    return ScenarioMatrix(
        workloads=tuple(rows),
        models=tuple(cols),
        elapsed_s=tuple(rows.values()),
        n_workers=4,
        n_tasks=8,
        task_s=0.05,
        start_method="fork",
        usable_cores=2,
        gil_enabled=gil_enabled,
    )


# --------------------------------------------------------------------------- scenario matrix


def test_scenario_matrix_measures_every_cell():
    m = cl.choosing.scenario_matrix(n_workers=2, n_tasks=2, task_s=0.01, progress=False)
    assert m.workloads == cl.choosing.WORKLOADS
    assert m.models == ("serial", "threads", "processes", "asyncio")
    assert len(m.elapsed_s) == 4 and all(len(row) == 4 for row in m.elapsed_s)
    assert all(e > 0 for row in m.elapsed_s for e in row)
    assert all(row[0] == 1.0 for row in m.speedups)
    assert m.n_workers == 2 and m.n_tasks == 2 and m.usable_cores == cl.usable_cores()


@pytest.mark.parametrize("method", cl.available_start_methods())
def test_scenario_matrix_processes_under_every_start_method(method):
    m = cl.choosing.scenario_matrix(
        workloads=["cpu"],
        models=["processes"],
        n_workers=2,
        n_tasks=2,
        task_s=0.01,
        start_method=method,
        progress=False,
    )
    assert m.models == ("serial", "processes") and m.start_method == method


def test_scenario_matrix_with_progress_bar():
    m = cl.choosing.scenario_matrix(
        workloads=["io"], models=["asyncio"], n_workers=2, n_tasks=2, task_s=0.01, progress=True
    )
    assert m.models == ("serial", "asyncio")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"workloads": ["gpu"]},
            "'workloads' must be a non-empty list of names from 'cpu', 'gil_releasing', 'io', "
            "'mixed' (got ('gpu',)).",
        ),
        (
            {"models": ["threads", "fibers"]},
            "'models' must be a non-empty list of names from 'serial', 'threads', 'processes', "
            "'asyncio' (got ('threads', 'fibers')).",
        ),
        ({"n_tasks": 0}, "'n_tasks' must be a whole number >= 1 (got 0)."),
        ({"task_s": 0}, "'task_s' must be a number of seconds in (0, 5] (got 0)."),
        ({"n_workers": 0}, "'n_workers' must be >= 1 (got 0)."),
        ({"repeats": 0}, "'repeats' must be a whole number >= 1 (got 0)."),
    ],
)
def test_scenario_matrix_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError) as info:
        cl.choosing.scenario_matrix(progress=False, **kwargs)
    assert str(info.value) == message


def test_workloads_must_be_a_list():
    with pytest.raises(TypeError, match="'workloads' must be a list of names"):
        cl.choosing.scenario_matrix(workloads="cpu", progress=False)


def test_matrix_lookup_errors_name_the_choices():
    m = _matrix({"cpu": (1.0, 1.0, 0.5, 1.0)})
    assert m.speedup("cpu", "processes") == 2.0
    with pytest.raises(ValueError, match=r"'workload' must be one of 'cpu' \(got 'io'\)"):
        m.speedup("io", "threads")
    with pytest.raises(ValueError, match="'model' must be one of"):
        m.elapsed("cpu", "gpu")


# --------------------------------------------------------------------------- decision guide


def test_recommend_processes_for_gil_bound_work():
    m = _matrix({"cpu": (1.0, 0.95, 0.5, 1.0)})
    r = cl.choosing.recommend(m, workload="cpu")
    assert r.model == "processes"
    assert r.speedup == 2.0
    assert [name for name, _ in r.ranking] == ["processes", "threads", "serial", "asyncio"]
    assert "Why: pure-Python code holds the GIL the whole time" in r.reasoning
    assert r.disagrees == () and "disagrees" not in r.reasoning


def test_recommend_explains_from_the_work_not_from_noise():
    # Threads 1.7x and asyncio 1.2x on pure-Python work under the GIL: a disturbed run.
    m = _matrix({"cpu": (1.0, 0.6, 1.25, 0.83)})
    r = cl.choosing.recommend(m, workload="cpu")
    assert r.disagrees == ("threads", "asyncio")
    assert "This run disagrees with what the work does: threads 1.7x, although" in r.reasoning
    assert "The machine was busy; run again. The choice below leaves these cells out." in (
        r.reasoning
    )
    assert r.model == "serial"  # processes 0.8x: nothing fair beat serial
    assert "No model ran even 1.2x faster than serial (best: serial 1.00x)" in r.reasoning
    assert "holds the GIL" in r.reasoning and "outside the GIL" not in r.reasoning


def test_recommend_without_a_gil_trusts_threads_on_cpu_work():
    m = _matrix({"cpu": (1.0, 0.6, 0.55, 1.0)}, gil_enabled=False)
    r = cl.choosing.recommend(m, workload="cpu")
    assert r.model == "threads" and r.disagrees == ()
    assert "runs without a GIL" in r.reasoning


def test_recommend_hashing_releases_the_gil_even_when_threads_measured_flat():
    m = _matrix({"gil_releasing": (1.0, 0.9, 0.5, 0.8)})
    r = cl.choosing.recommend(m, workload="gil_releasing")
    assert r.model == "processes" and r.disagrees == ("asyncio",)
    assert "asyncio 1.2x, although its one thread runs these tasks one after another" in (
        r.reasoning
    )
    assert "hashlib releases the GIL" in r.reasoning and "holds the GIL" not in r.reasoning
    assert "Threads reached only 1.1x, although this work could run up to about 2x" in (r.reasoning)


def test_recommend_flags_cpu_speedups_beyond_the_cores():
    m = _matrix({"cpu": (1.0, 1.0, 0.3, 1.0)})  # 3.3x on 2 cores
    r = cl.choosing.recommend(m, workload="cpu")
    assert r.disagrees == ("processes",) and r.model == "serial"
    assert "cannot go faster than the 2 cores allow" in r.reasoning


def test_scenario_matrix_alternates_the_order_of_models():
    order = [m for _, m in models._rounds(("serial", "threads", "processes", "asyncio"), 3)]
    assert order[:4] == ["serial", "threads", "processes", "asyncio"]
    assert order[4:8] == ["asyncio", "processes", "threads", "serial"]
    assert order[8:] == order[:4]


def test_recommend_prefers_threads_when_as_fast_and_explains_asyncio():
    m = _matrix({"io": (1.0, 0.25, 0.3, 0.26)})
    r = cl.choosing.recommend(m, workload="io")
    assert r.model == "threads"
    assert "asyncio 3.8x" in r.reasoning  # within 10%: named as not worth switching to
    assert "exceeds the 2 cores" in r.reasoning
    assert "Processes (3.3x) paid for starting 4 interpreters" in r.reasoning


def test_recommend_serial_when_nothing_pays():
    m = _matrix({"cpu": (1.0, 0.95, 0.9, 1.0)})
    r = cl.choosing.recommend(m, workload="cpu")
    assert r.model == "serial"
    assert "No model ran even 1.2x faster than serial (best: processes 1.11x)" in r.reasoning


def test_recommend_notices_asyncio_cannot_compute():
    m = _matrix({"gil_releasing": (1.0, 0.5, 0.55, 1.0)})
    r = cl.choosing.recommend(m, workload="gil_releasing")
    assert r.model == "threads"
    assert "asyncio calls the hash on its single thread" in r.reasoning
    assert "Threads reached only" not in r.reasoning


def test_recommend_rejects_bad_input():
    m = _matrix({"cpu": (1.0, 1.0, 0.5, 1.0)})
    with pytest.raises(ValueError, match=r"'workload' must be one of 'cpu' \(got 'io'\)"):
        cl.choosing.recommend(m, workload="io")
    with pytest.raises(
        TypeError, match=r"'matrix' must be the result of cl.choosing.scenario_matrix"
    ):
        cl.choosing.recommend({"cpu": 1}, workload="cpu")
    with pytest.raises(ValueError, match=r"'tie' must be a number in \(0, 1\] \(got 2\)"):
        cl.choosing.recommend(m, workload="cpu", tie=2)


def test_recommend_on_a_real_matrix_names_a_measured_model():
    m = cl.choosing.scenario_matrix(
        workloads=["io"], n_workers=2, n_tasks=2, task_s=0.01, repeats=1, progress=False
    )
    r = cl.choosing.recommend(m, workload="io")
    assert r.model in m.models
    assert f"{m.n_tasks} tasks" in r.reasoning
    assert m.gil_enabled == cl.gil_enabled()
    assert "_repr_markdown_" in dir(r) and r.workload in r._repr_markdown_()


# --------------------------------------------------------------------------- asyncio


def test_async_io_bound_and_gather():
    assert cl.choosing.run_coroutine(cl.async_io_bound(0.0, round_trips=3)) >= 0
    assert cl.choosing.run_coroutine(cl.choosing.gather_waits(5, wait_s=0.01)) > 0
    with pytest.raises(ValueError, match=r"'wait_s' must be a number of seconds >= 0 \(got -1\)"):
        cl.choosing.run_coroutine(cl.async_io_bound(-1))
    with pytest.raises(ValueError, match=r"'n_tasks' must be a whole number >= 1 \(got 0\)"):
        cl.choosing.run_coroutine(cl.choosing.gather_waits(0))


def test_asyncio_run_fails_inside_a_running_loop_and_run_coroutine_does_not():
    """What the notebook shows: a kernel already runs a loop, so asyncio.run refuses."""

    async def inside_a_notebook():
        coro = asyncio.sleep(0, result=1)
        try:
            asyncio.run(coro)
        except RuntimeError as exc:
            message = str(exc)
        finally:
            coro.close()
        return message, cl.choosing.run_coroutine(asyncio.sleep(0, result="ran anyway"))

    message, value = asyncio.run(inside_a_notebook())
    assert message == "asyncio.run() cannot be called from a running event loop"
    assert value == "ran anyway"


def test_run_coroutine_times_out_and_cancels():
    with pytest.raises(cl.WorkerTimeoutError, match=r"still running after timeout_s=0\.2 s"):
        cl.choosing.run_coroutine(asyncio.sleep(30), timeout_s=0.2)


def test_run_coroutine_passes_errors_through():
    async def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        cl.choosing.run_coroutine(boom())


# --------------------------------------------------------------------------- other interpreters


def _fake_python(folder, name, payload: str):
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{payload}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_not_found_path_is_clear(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert models._candidate_paths() == []
    assert cl.choosing.find_interpreters() == ()
    text = cl.choosing.explain_interpreters(())
    assert text.startswith("No free-threaded CPython (3.13t/3.14t) and no Python 3.14+ found")
    assert "uv python install 3.14t" in text


def test_discovery_finds_free_threaded_names_on_path(monkeypatch, tmp_path):
    ft = (
        '{"version": "3.14.0", "free_threaded": true, "gil_enabled": false, '
        '"interpreter_pool": true}'
    )
    _fake_python(tmp_path, "python3.14t", ft)
    _fake_python(tmp_path, "python3.12", ft)  # too old to be a candidate: never probed
    _fake_python(tmp_path, "python3.13", ft)  # 3.13 with a GIL: not a candidate
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("HOME", str(tmp_path))
    found = cl.choosing.find_interpreters()
    assert [os.path.basename(i.path) for i in found] == ["python3.14t"]
    info = found[0]
    assert info.label == "3.14.0t (no GIL)" and info.is_new_model
    text = cl.choosing.explain_interpreters(found)
    assert "free-threaded build, GIL off" in text and "InterpreterPoolExecutor" in text


def test_discovery_finds_pyenv_free_threaded_versions(monkeypatch, tmp_path):
    bin_dir = tmp_path / "versions" / "3.13.1t" / "bin"
    bin_dir.mkdir(parents=True)
    (tmp_path / "versions" / "3.12.1" / "bin").mkdir(parents=True)
    _fake_python(bin_dir, "python3.13t", "{}")
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert models._candidate_paths() == [str(bin_dir / "python3.13t")]
    assert cl.choosing.find_interpreters() == ()  # its probe printed no usable answer: skipped


def test_probing_this_interpreter():
    (info,) = cl.choosing.find_interpreters(candidates=[sys.executable], include_all=True)
    assert info.version == "{}.{}.{}".format(*sys.version_info[:3])
    assert info.gil_enabled == getattr(sys, "_is_gil_enabled", lambda: True)()
    assert info.interpreter_pool == (sys.version_info >= (3, 14))
    assert cl.choosing.find_interpreters(candidates=["/no/such/python3.14t"]) == ()


def test_found_path_runs_a_sweep_in_a_subprocess_and_plots_it(monkeypatch):
    """Fake the discovery with this interpreter: the sweep and the plot are real."""
    here = models.InterpreterInfo(sys.executable, "x", True, False, False)
    monkeypatch.setattr(models, "_candidate_paths", lambda: [sys.executable])
    monkeypatch.setattr(models, "_probe", lambda path, timeout_s: here)
    (found,) = cl.choosing.find_interpreters()
    sweep = cl.choosing.interpreter_sweep(found, n_workers=(1, 2), task_s=0.01)
    assert sweep.python == sys.executable
    assert sweep.n_workers == (1, 2) and sweep.n_tasks == 2
    assert len(sweep.elapsed_s["thread"]) == 2 and sweep.speedups()[0] == 1.0
    assert ("interpreter" in sweep.elapsed_s) == (sys.version_info >= (3, 14))
    assert sweep.label.startswith("{}.{}.{}".format(*sys.version_info[:3]))
    fig = cl.choosing.plot_interpreter_sweeps([sweep, sweep])
    assert len(fig.axes[0].lines) == 3  # ideal + two measured sweeps


def test_sweep_timeout_kills_the_child():
    with pytest.raises(cl.WorkerTimeoutError, match="the lab killed it and its children"):
        cl.choosing.interpreter_sweep(n_workers=(1,), task_s=1, timeout_s=0.05)


def test_sweep_reports_a_broken_interpreter(tmp_path):
    bad = tmp_path / "python3.14t"
    bad.write_text("#!/bin/sh\necho oops >&2\nexit 2\n")
    bad.chmod(0o755)
    with pytest.raises(cl.LabError, match="failed with exit code 2:\noops"):
        cl.choosing.interpreter_sweep(str(bad), n_workers=(1,))
    with pytest.raises(ValueError, match="'n_workers' must list at least one pool size"):
        cl.choosing.interpreter_sweep(n_workers=())


def test_plot_sweeps_needs_data():
    with pytest.raises(ValueError, match="'sweeps' is empty"):
        cl.choosing.plot_interpreter_sweeps([])


# --------------------------------------------------------------------------- Dask


def test_without_dask_the_message_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # the import now fails
    assert cl.choosing.dask_available() is False
    with pytest.raises(cl.choosing.DaskNotInstalledError) as info:
        cl.choosing.dask_overhead()
    assert "pip install 'concurrency_lab[dask]'" in str(info.value)
    assert isinstance(info.value, ImportError)


def test_with_dask_both_sides_are_measured_and_closed():
    pytest.importorskip("distributed")
    assert cl.choosing.dask_available()
    r = cl.choosing.dask_overhead(n_workers=1, n_tasks=2, task_s=0.01, n_tiny=10, timeout_s=60)
    assert set(r.startup_s) == set(r.work_s) == set(r.tiny_s) == {"pool", "dask"}
    assert r.per_task_overhead_s("dask") > 0 and r.dask_start_method
    fig = cl.choosing.plot_dask_overhead(r)
    assert len(fig.axes[0].patches) == 6


def test_dask_rejects_bad_input():
    if not cl.choosing.dask_available():
        pytest.skip("needs the dask extra")
    with pytest.raises(ValueError, match=r"'n_tiny' must be a whole number >= 1 \(got 0\)"):
        cl.choosing.dask_overhead(n_tiny=0)


# --------------------------------------------------------------------------- plot, widget, checks


def test_plot_scenario_matrix_draws_every_cell():
    import matplotlib.pyplot as plt

    m = _matrix({"cpu": (1.0, 1.0, 0.5, 1.0), "io": (1.0, 0.25, 0.3, 0.26)})
    fig = cl.choosing.plot_scenario_matrix(m)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 8 and texts[2].startswith("2.0x\n")
    noisy = _matrix({"cpu": (1.0, 1.0, 0.5, 0.8)})  # asyncio 1.25x on CPU work: noise
    texts = [t.get_text() for t in cl.choosing.plot_scenario_matrix(noisy).axes[0].texts]
    assert texts[3].startswith("1.2x noise?") and "noise" not in texts[2]
    fig2, ax = plt.subplots()
    assert cl.choosing.plot_scenario_matrix(m, ax=ax) is fig2
    plt.close(fig2)


def test_scenario_explorer_headless():
    box = cl.choosing.scenario_explorer()
    c = box.controls
    c["workloads"].value = ("io",)
    c["models"].value = ("threads",)
    c["n_workers"].value = 2
    c["task_ms"].value = 10
    c["advise"].value = "io"
    box.button.click()
    assert box.result is not None and box.result.workloads == ("io",)
    text = "".join(o.get("text", "") for o in box.output.outputs)
    assert "Measured here" in text and "Error" not in text


def test_check_best_model():
    m = _matrix({"cpu": (1.0, 0.95, 0.5, 1.0)})
    assert cl.check.choosing.best_model(m, "cpu", "processes").ok
    fb = cl.check.choosing.best_model(m, "cpu", "threads")
    assert not fb.ok and "processes reached 2.0x" in fb.message
    assert not cl.check.choosing.best_model(m, "cpu", "gpu").ok
    flat = _matrix({"cpu": (1.0, 0.98, 0.97, 1.0)})
    fb = cl.check.choosing.best_model(flat, "cpu", "serial")
    assert fb.ok and "nothing beat serial by more than 10%" in fb.message
    fb = cl.check.choosing.best_model(flat, "cpu", "")  # the starter cell
    assert not fb.ok and fb.message.startswith("Set my_answer to the model whose cell")


def test_check_fetches_concurrently():
    async def one_by_one(items, fetch):
        return [await fetch(i) for i in items]

    async def together(items, fetch):
        return list(await asyncio.gather(*(fetch(i) for i in items)))

    def not_async(items, fetch):
        return []

    fb = cl.check.choosing.fetches_concurrently(one_by_one)
    assert not fb.ok and "At most 1 fetch(es) were waiting at once" in fb.message
    assert cl.check.choosing.fetches_concurrently(together).ok
    assert "async def" in cl.check.choosing.fetches_concurrently(not_async).message


def test_check_runs_on_any_executor():
    def lazy(executor, fn, items):
        return executor.map(fn, items)

    def futures(executor, fn, items):
        return [executor.submit(fn, i) for i in items]

    def good(executor, fn, items):
        return list(executor.map(fn, items, timeout=30))

    def no_timeout(executor, fn, items):
        return list(executor.map(fn, items))

    def results_no_timeout(executor, fn, items):
        return [f.result() for f in [executor.submit(fn, i) for i in items]]

    def results_with_timeout(executor, fn, items):
        return [f.result(timeout=30) for f in [executor.submit(fn, i) for i in items]]

    def waits_with_timeout(executor, fn, items):
        import concurrent.futures as cf

        fs = [executor.submit(fn, i) for i in items]
        cf.wait(fs, timeout=30)
        return [f.result() for f in fs]

    assert "iterator" in cl.check.choosing.runs_on_any_executor(lazy).message
    assert "futures" in cl.check.choosing.runs_on_any_executor(futures).message
    assert cl.check.choosing.runs_on_any_executor(good).ok
    for fn in (no_timeout, results_no_timeout):
        fb = cl.check.choosing.runs_on_any_executor(fn)
        assert not fb.ok and "nothing waited with a timeout" in fb.message
    assert cl.check.choosing.runs_on_any_executor(results_with_timeout).ok
    assert cl.check.choosing.runs_on_any_executor(waits_with_timeout).ok


def test_run_coroutine_cancels_on_interrupt(monkeypatch):
    """A KeyboardInterrupt while waiting cancels the coroutine and ends its loop thread."""
    real_join = threading.Thread.join
    calls = []

    def interrupted_join(self, timeout=None):
        if self.name == "lab-event-loop" and not calls:
            calls.append(1)
            raise KeyboardInterrupt
        return real_join(self, timeout)

    monkeypatch.setattr(threading.Thread, "join", interrupted_join)
    with pytest.raises(KeyboardInterrupt):
        cl.choosing.run_coroutine(asyncio.sleep(30), timeout_s=60)
    assert not [t for t in threading.enumerate() if t.name == "lab-event-loop"]
