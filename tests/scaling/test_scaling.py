"""Scaling: speedup and Amdahl maths, sweep structure, overheads, plots and the explorer."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.scaling import explorer as scaling_explorer_mod
from concurrency_lab.scaling import measure as scaling
from concurrency_lab.scaling.measure import ScalingPoint, ScalingResult

METHODS = cl.available_start_methods()


def _boom(units: int) -> int:
    """A workload that always fails (module level, so every start method can find it)."""
    raise RuntimeError(f"boom after {units} units")


def _result(points, cores=2, kinds_order=None) -> ScalingResult:
    return ScalingResult(
        workload="cpu_bound",
        total_work=100,
        serial_fraction=0.0,
        start_method="fork",
        usable_cores=cores,
        repeats=3,
        points=tuple(points),
    )


def _point(kind, n, speedups, base=1.0):
    return ScalingPoint(
        kind=kind,
        n_workers=n,
        elapsed_s=tuple(base / s for s in speedups),
        baseline_s=(base,) * len(speedups),
        cold_s=0.5,
    )


# --------------------------------------------------------------------------- pure maths


def test_speedup_and_efficiency():
    assert cl.scaling.speedup(3.0, 1.5) == 2.0
    assert cl.scaling.efficiency(3.0, 4) == 0.75
    with pytest.raises(
        ValueError, match=r"^'parallel_s' must be a positive number of seconds \(got 0\)\.$"
    ):
        cl.scaling.speedup(1.0, 0)
    with pytest.raises(ValueError, match=r"^'n_workers' must be a whole number >= 1 \(got 0\)\.$"):
        cl.scaling.efficiency(1.0, 0)


def test_amdahl_speedup_values_and_limit():
    assert cl.scaling.amdahl_speedup(1, serial_fraction=0.3) == pytest.approx(1.0)
    assert cl.scaling.amdahl_speedup(8, serial_fraction=0.0) == pytest.approx(8.0)
    assert cl.scaling.amdahl_speedup(8, serial_fraction=1.0) == pytest.approx(1.0)
    assert cl.scaling.amdahl_speedup(2, serial_fraction=0.5) == pytest.approx(4 / 3)
    assert cl.scaling.amdahl_speedup(10**9, serial_fraction=0.1) < 10
    with pytest.raises(
        ValueError, match=r"'serial_fraction' must be a number from 0 to 1.*\(got 1\.5\)"
    ):
        cl.scaling.amdahl_speedup(2, serial_fraction=1.5)
    with pytest.raises(ValueError, match=r"'n_workers' must be a whole number >= 1 \(got 0\)"):
        cl.scaling.amdahl_speedup(0, serial_fraction=0.1)


@pytest.mark.parametrize("s", [0.0, 0.02, 0.1, 0.37, 0.8, 1.0])
def test_fit_amdahl_recovers_the_serial_fraction_of_a_synthetic_curve(s):
    ns = [1, 2, 3, 4, 8, 16]
    curve = [cl.scaling.amdahl_speedup(n, serial_fraction=s) for n in ns]
    assert cl.scaling.fit_amdahl(ns, curve) == pytest.approx(s, abs=1e-4)


def test_fit_amdahl_with_noise_and_edge_cases():
    ns = [1, 2, 4, 8]
    curve = [cl.scaling.amdahl_speedup(n, serial_fraction=0.25) for n in ns]
    noisy = [c * f for c, f in zip(curve, [1.0, 1.03, 0.97, 1.02])]
    assert cl.scaling.fit_amdahl(ns, noisy) == pytest.approx(0.25, abs=0.03)
    assert cl.scaling.fit_amdahl([1, 2], [1.0, 2.5]) == 0.0  # superlinear: no serial part
    assert cl.scaling.fit_amdahl([2], [1.0]) == pytest.approx(1.0, abs=1e-4)  # no gain at all
    with pytest.raises(ValueError, match=r"needs at least one point with n_workers >= 2"):
        cl.scaling.fit_amdahl([1, 1], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"must have the same length \(got 2 and 1\)"):
        cl.scaling.fit_amdahl([1, 2], [1.0])
    with pytest.raises(ValueError, match="every speedup must be a positive number"):
        cl.scaling.fit_amdahl([1, 2], [1.0, 0.0])


@pytest.mark.parametrize("total,n", [(0, 1), (1, 3), (10, 3), (1001, 7), (64, 64)])
def test_split_work_is_complete_and_balanced(total, n):
    chunks = cl.scaling.split_work(total, n)
    assert len(chunks) == n
    assert sum(chunks) == total
    assert max(chunks) - min(chunks) <= 1


def test_split_work_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^'n_workers' must be a whole number >= 1 \(got 0\)\.$"):
        cl.scaling.split_work(10, 0)
    with pytest.raises(
        ValueError, match=r"^'total_work' must be a whole number >= 0 \(got -1\)\.$"
    ):
        cl.scaling.split_work(-1, 2)


def test_worker_counts():
    assert cl.scaling.worker_counts(1) == (1,)
    assert cl.scaling.worker_counts(5) == (1, 2, 3, 4, 5)
    many = cl.scaling.worker_counts(128)
    assert many[0] == 1 and many[-1] == 128
    assert list(many) == sorted(set(many))
    assert len(many) <= 9
    if cl.usable_cores() <= 128:
        assert cl.usable_cores() in many
    with pytest.raises(ValueError, match=r"'max_workers' must be a whole number >= 1 \(got 0\)"):
        cl.scaling.worker_counts(0)


# --------------------------------------------------------------------------- result objects


def test_scaling_point_statistics():
    p = _point("process", 2, [1.5, 2.0, 1.8])
    assert p.speedups == pytest.approx((1.5, 2.0, 1.8))
    assert p.speedup == pytest.approx(1.8)
    assert p.speedup_range == pytest.approx((1.5, 2.0))
    assert p.efficiency == pytest.approx(0.9)
    assert p.median_s == pytest.approx(1 / 1.8)


def test_scaling_result_queries_fit_and_conclusion():
    r = _result(
        [
            _point("thread", 1, [1.0]),
            _point("process", 1, [1.0]),
            _point("thread", 2, [1.0]),
            _point("process", 2, [1.9]),
            _point("thread", 4, [0.9]),
            _point("process", 4, [1.2]),
        ],
        cores=2,
    )
    assert r.kinds == ("thread", "process")
    assert r.n_workers == (1, 2, 4)
    assert [p.n_workers for p in r.curve("process")] == [1, 2, 4]
    assert r.speedup("process", 2) == pytest.approx(1.9)
    assert r.efficiency("process", 2) == pytest.approx(0.95)
    assert r.best("process").n_workers == 2
    # The fit ignores the oversubscribed point (4 workers on 2 cores).
    assert r.amdahl_fit("process") == pytest.approx(cl.scaling.fit_amdahl([1, 2], [1.0, 1.9]))
    text = r.conclusion()
    assert "On your 2 usable cores" in text
    assert "with 2 threads 1.0x" in text
    assert "with 2 processes 1.9x" in text
    assert "4 processes 1.2x" in text
    with pytest.raises(KeyError, match="no point for kind='thread' with n_workers=3"):
        r.point("thread", 3)
    assert "processx2: 1.90x" in repr(r)


def test_noisy_points_and_their_description():
    steady = _point("thread", 2, [0.95, 1.0, 1.05])
    assert not steady.noisy  # repeats on both sides of 1x, median at 1x: no gain
    assert steady.describe() == "2 threads 1.0x (repeats 0.95x to 1.05x)"
    assert _point("thread", 2, [0.9, 1.4, 1.6]).noisy  # median 1.4x, one repeat below 1x
    assert _point("process", 2, [1.2, 1.9, 1.95]).noisy  # repeats 1.6x apart
    assert not _point("process", 2, [1.8, 1.9, 1.95]).noisy
    assert _point("process", 1, [0.8]).describe() == "1 process 0.8x"


def test_conclusion_warns_when_the_repeats_disagree():
    r = _result([_point("thread", 1, [1.0, 1.0]), _point("thread", 2, [0.9, 1.4, 1.6])])
    text = r.conclusion()
    assert "with 2 threads 1.4x (repeats 0.90x to 1.60x)" in text
    assert "Too noisy to conclude" in text and "rerun" in text
    calm = _result([_point("thread", 1, [1.0]), _point("thread", 2, [0.97, 1.0, 1.02])])
    assert "Too noisy" not in calm.conclusion()


def test_best_leaves_out_one_worker_and_beyond_cores_compares_with_the_core_count():
    # The sweep of the review: 1 worker 1.4x (noise), 2 workers 1.3x, 4 workers 0.5x, 2 cores.
    r = _result(
        [
            _point("process", 1, [1.4]),
            _point("process", 2, [1.3]),
            _point("process", 4, [0.5]),
        ],
        cores=2,
    )
    assert r.best("process").n_workers == 2
    assert r.at_cores("process").n_workers == 2
    text = r.beyond_cores("process")
    assert text.startswith("Best: 2 processes, 1.3x as fast as one worker.")
    assert "4 processes on 2 usable cores: 0.5x, slower than 2 processes (1.3x)." in text
    faster = _result([_point("process", 2, [1.5]), _point("process", 4, [1.9])], cores=2)
    assert "faster than 2 processes" in faster.beyond_cores()
    same = _result([_point("process", 2, [1.7, 1.9]), _point("process", 4, [1.8, 2.0])], cores=2)
    assert same.beyond_cores().endswith(
        "4 processes on 2 usable cores: 1.9x, against 2 processes (1.8x): their repeats "
        "overlap, so no clear difference."
    )
    within = _result([_point("process", 1, [1.0]), _point("process", 2, [1.9])], cores=4)
    assert within.beyond_cores() == "Best: 2 processes, 1.9x as fast as one worker."
    assert within.at_cores("process").n_workers == 2
    only_one = _result([_point("process", 1, [1.0])])
    assert only_one.best("process").n_workers == 1
    assert "1 process," in only_one.beyond_cores()


def _with_fraction(s, speedup_at_2):
    return ScalingResult(
        workload="cpu_bound",
        total_work=100,
        serial_fraction=s,
        start_method="fork",
        usable_cores=2,
        repeats=1,
        points=(_point("process", 1, [1.0]), _point("process", 2, [speedup_at_2])),
    )


def test_amdahl_report_compares_the_fit_with_the_built_in_share():
    exact = cl.scaling.amdahl_speedup(2, serial_fraction=0.3)
    assert "close" in _with_fraction(0.3, exact).amdahl_report()
    a_bit = cl.scaling.amdahl_speedup(2, serial_fraction=0.4)
    assert "a little higher" in _with_fraction(0.3, a_bit).amdahl_report()
    much = _with_fraction(0.3, 1.05).amdahl_report()
    assert much.startswith("You built in 30% serial work; the fit to your curve says 90%")
    assert "much higher" in much and "busy machine" in much
    assert "lower than built in" in _with_fraction(0.3, 1.9).amdahl_report()
    none = _result([_point("process", 1, [1.0])])
    assert "nothing to fit" in none.amdahl_report()


def test_amdahl_fit_is_none_without_a_parallel_point():
    r = _result([_point("thread", 1, [1.0]), _point("thread", 2, [1.0])])
    assert r.amdahl_fit("process") is None


# --------------------------------------------------------------------------- sweeps


def test_measure_scaling_threads_structure():
    r = cl.scaling.measure_scaling(
        cl.cpu_bound, kinds="thread", n_workers=(2, 1), total_work=3, repeats=2
    )
    assert r.kinds == ("thread",)
    assert r.n_workers == (1, 2)
    assert r.usable_cores == cl.usable_cores()
    assert r.workload == "cpu_bound" and r.total_work == 3 and r.repeats == 2
    assert r.start_method is None
    for p in r.points:
        assert len(p.elapsed_s) == len(p.baseline_s) == 2
        assert all(t > 0 for t in p.elapsed_s + p.baseline_s) and p.cold_s > 0


@pytest.mark.parametrize("method", METHODS)
def test_measure_scaling_processes_under_every_start_method(method):
    r = cl.scaling.measure_scaling(
        cl.cpu_bound,
        kinds=("thread", "process"),
        n_workers=(1, 2),
        total_work=2,
        start_method=method,
        repeats=1,
    )
    assert r.start_method == method
    assert [(p.kind, p.n_workers) for p in r.points] == [
        ("thread", 1),
        ("process", 1),
        ("thread", 2),
        ("process", 2),
    ]


@pytest.mark.parametrize("method", METHODS)
def test_the_lab_workloads_reach_processes_under_every_start_method(method):
    r = cl.scaling.measure_scaling(
        cl.io_wait,
        kinds=("process",),
        n_workers=(2,),
        total_work=2,
        start_method=method,
        repeats=1,
    )
    assert r.point("process", 2).cold_s > 0
    g = cl.scaling.measure_granularity(
        task_sizes=(500,), total_iterations=1000, start_method=method, repeats=1
    )
    assert g.n_tasks == (2,)


def test_measure_scaling_serial_fraction_and_progress_callback():
    seen = []
    r = cl.scaling.measure_scaling(
        cl.io_wait,
        kinds=("thread",),
        n_workers=(1, 2),
        total_work=4,
        serial_fraction=0.5,
        repeats=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert r.serial_fraction == 0.5
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert "only 2 work units to split over up to 2 workers" in r.notes[0]
    assert "Note: only 2 work units" in r.conclusion()


def test_the_real_serial_share_is_reported_and_small_work_is_flagged():
    r = cl.scaling.measure_scaling(
        cl.io_wait,
        kinds=("thread",),
        n_workers=(1, 2),
        total_work=3,
        serial_fraction=0.3,
        repeats=1,
    )
    assert r.serial_fraction == pytest.approx(1 / 3)  # round(0.9) = 1 of 3 units
    assert any("a real serial share of 33.3%" in note for note in r.notes)
    assert any("use total_work >= 21" in note for note in r.notes)


def test_setup_notes_are_empty_for_enough_work():
    assert scaling._setup_notes(40, 0, 0.0, (1, 2, 4)) == ()
    assert scaling._setup_notes(100, 30, 0.3, (1, 2)) == ()
    (note,) = scaling._setup_notes(39, 0, 0.0, (1, 2, 4))
    assert note.startswith("only 39 work units to split over up to 4 workers")


@pytest.mark.parametrize(
    "kwargs,exc,message",
    [
        (
            {"kinds": ("fiber",)},
            ValueError,
            r"'kind' must be 'thread' or 'process' \(got 'fiber'\)",
        ),
        ({"kinds": ()}, ValueError, r"'kinds' is empty"),
        ({"n_workers": (0, 1)}, ValueError, r"'n_workers' must be >= 1 \(got 0\)"),
        ({"n_workers": ()}, ValueError, r"'n_workers' is empty"),
        ({"repeats": 0}, ValueError, r"'repeats' must be a whole number >= 1 \(got 0\)"),
        ({"total_work": 0}, ValueError, r"'total_work' must be a whole number of units >= 1"),
        ({"serial_fraction": 2}, ValueError, r"'serial_fraction' must be a number from 0 to 1"),
        ({"start_method": "clone"}, ValueError, r"'start_method' must be one of"),
    ],
)
def test_measure_scaling_rejects_bad_arguments(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        cl.scaling.measure_scaling(cl.cpu_bound, **{"total_work": 1, **kwargs})


def test_measure_scaling_rejects_a_workload_a_process_cannot_receive():
    with pytest.raises(cl.UnpicklableError):
        cl.scaling.measure_scaling(
            lambda units: units, kinds=("process",), n_workers=(1,), total_work=1
        )
    with pytest.raises(TypeError, match="'workload' must be a function"):
        cl.scaling.measure_scaling(42, total_work=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_a_failing_workload_becomes_a_worker_error_and_leaves_nothing_behind(kind):
    with pytest.raises(cl.WorkerError, match="RuntimeError: boom after"):
        cl.scaling.measure_scaling(_boom, kinds=(kind,), n_workers=(2,), total_work=2, repeats=1)


def test_a_slow_batch_times_out_and_processes_are_stopped():
    with pytest.raises(cl.WorkerTimeoutError, match=r"unfinished after timeout_s=0\.2 s"):
        cl.scaling.measure_scaling(
            cl.io_wait, kinds=("process",), n_workers=(1,), total_work=3000, timeout_s=0.2
        )


def test_scaling_experiment_sizes_io_work_and_rejects_unknown_workloads():
    r = scaling.scaling_experiment(
        workload="io", max_workers=3, kinds=("thread",), size_s=0.01, repeats=1
    )
    assert r.workload == "io_wait" and r.total_work == 10 and r.n_workers == (1, 2, 3)
    with pytest.raises(
        ValueError, match=r"'workload' must be one of 'cpu', 'c', 'io' \(got 'gpu'\)"
    ):
        scaling.scaling_experiment(workload="gpu")
    with pytest.raises(ValueError, match=r"'size_s' must be above 0 and at most 10 seconds"):
        scaling.scaling_experiment(size_s=0)


# --------------------------------------------------------------------------- overheads


@pytest.mark.parametrize("method", METHODS)
def test_measure_pool_startup_structure(method):
    r = cl.scaling.measure_pool_startup(kind="process", n_workers=2, start_method=method, repeats=2)
    assert r.start_method == method and len(r.cold_s) == len(r.warm_s) == 2
    assert r.ratio == r.cold_median_s / r.warm_median_s


def test_granularity_messages_and_idle_workers():
    r = scaling.GranularityResult(200_000, 2, 50, (250, 2_500, 25_000), (0.1, 0.1, 0.1), 0.1)
    assert r.n_tasks == (800, 80, 8)
    assert r.n_messages == (16, 2, 1)
    assert r.idle_notes() == (
        "8 tasks in chunks of 50 make 1 message for 2 workers: 1 worker had nothing to do.",
    )
    assert "messages" in r.table().splitlines()[0]
    assert r.speedups == (1.0, 1.0, 1.0)
    paired = scaling.GranularityResult(1000, 2, 1, (500,), (0.1,), 0.3, (1.5,))
    assert paired.speedups == (1.5,)


def test_argument_sizes_are_shown_in_binary_units():
    r = scaling.ArgumentCost((1024, 1024**2, 16 * 1024**2), (1e-3,) * 3, (2e-3,) * 3, "fork")
    rows = r.table().splitlines()[1:]
    assert [" ".join(row.split()[:2]) for row in rows] == ["1 KiB", "1 MiB", "16 MiB"]


def test_measure_granularity_structure():
    r = cl.scaling.measure_granularity(task_sizes=(300, 1000), total_iterations=2000, repeats=1)
    assert r.n_tasks == (7, 2)
    assert len(r.elapsed_s) == len(r.speedups) == 2
    assert "iterations/task" in r.table()
    with pytest.raises(ValueError, match=r"'chunksize' must be a whole number >= 1 \(got 0\)"):
        cl.scaling.measure_granularity(chunksize=0)


def test_measure_argument_cost_structure():
    r = cl.scaling.measure_argument_cost(sizes_bytes=(10, 100_000), repeats=1)
    assert r.sizes_bytes == (10, 100_000)
    assert len(r.thread_s) == len(r.process_s) == len(r.process_gb_per_s) == 2
    assert "argument" in r.table()
    with pytest.raises(ValueError, match=r"'sizes_bytes' must each be <= 256_000_000"):
        cl.scaling.measure_argument_cost(sizes_bytes=(10**9,))


def test_workload_helpers():
    assert cl.spin(10) == scaling.spin(10) == sum(i * i for i in range(10)) % 1_000_003
    assert cl.io_wait(1) >= 0.001
    with pytest.raises(ValueError, match=r"'units' must be a whole number >= 0 \(got -1\)"):
        cl.io_wait(-1)


# --------------------------------------------------------------------------- plots


def test_plot_scaling_draws_every_kind_the_ideal_line_and_the_fit():
    r = _result(
        [
            _point("thread", 1, [1.0, 1.1]),
            _point("process", 1, [1.0, 0.9]),
            _point("thread", 2, [1.0, 0.9]),
            _point("process", 2, [1.8, 1.9]),
        ]
    )
    fig = cl.scaling.plot_scaling(r, amdahl=True)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "perfect scaling"
    assert "threads" in labels and "processes" in labels
    assert any(label.startswith("Amdahl fit (serial") for label in labels)
    fig2 = cl.scaling.plot_scaling(r, metric="efficiency")  # no fit unless asked for
    labels2 = [t.get_text() for t in fig2.axes[0].get_legend().get_texts()]
    assert not any(label.startswith("Amdahl") for label in labels2)
    with pytest.raises(ValueError, match=r"'metric' must be 'speedup' or 'efficiency' \(got 'x'\)"):
        cl.scaling.plot_scaling(r, metric="x")


def test_plot_scaling_draws_into_a_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        r = _result([_point("thread", 1, [1.0]), _point("thread", 2, [1.0])])
        assert cl.scaling.plot_scaling(r, ax=ax) is fig
        assert ax.get_xlabel() == "workers"
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- explorer


def test_scaling_explorer_controls():
    box = cl.scaling.scaling_explorer(run_now=False)
    cores = cl.usable_cores()
    assert "workers" in box.workers.description
    assert box.workers.max == max(2, 2 * cores)
    assert box.workers.continuous_update is False
    assert box.button.description == "Run"
    assert [v for _, v in box.workload.options] == ["cpu", "c", "io"]
    assert box.result is None and box.plot.outputs == ()


def test_scaling_explorer_runs_on_click_and_redraws():
    box = cl.scaling.scaling_explorer(run_now=False, workload="io")
    box.workers.value = 2
    box.kinds.value = ("thread",)
    assert box.start_method.disabled is True
    box.button.click()
    first = box.result
    assert first is not None and first.n_workers == (1, 2) and first.kinds == ("thread",)
    assert "with 2 threads" in box.conclusion.value
    assert len(box.plot.outputs) == 1 and "image/png" in box.plot.outputs[0]["data"]
    box.workers.value = 3
    box.button.click()
    assert box.result is not first and box.result.n_workers == (1, 2, 3)
    assert len(box.plot.outputs) == 1
    assert box.meter.samples is not None  # the meter thread is gone (checked by no_leftovers)


def test_scaling_explorer_shows_errors_in_its_output(monkeypatch):
    def broken(**kwargs):
        raise ValueError("'n_workers' must be >= 1 (got 0).")

    monkeypatch.setattr(scaling_explorer_mod, "scaling_experiment", broken)
    box = cl.scaling.scaling_explorer(run_now=False)
    box.button.click()
    assert "ValueError: 'n_workers' must be >= 1" in box.plot.outputs[0]["text"]
    assert box.button.disabled is False


# --------------------------------------------------------------------------- clean-up and design


_CALLED_ON_MAIN: list[bool] = []


def _note_thread(units: int) -> int:
    import threading

    _CALLED_ON_MAIN.append(threading.current_thread() is threading.main_thread())
    return units


def test_the_serial_baseline_never_runs_on_the_main_thread():
    _CALLED_ON_MAIN.clear()
    cl.scaling.measure_scaling(
        _note_thread, kinds=("thread",), n_workers=(1, 2), total_work=2, repeats=2
    )
    # one warm-up call; per point n: a cold split run (n calls), then 2 x (baseline + split run)
    assert len(_CALLED_ON_MAIN) == 1 + (1 + 2 * (1 + 1)) + (2 + 2 * (1 + 2))
    assert not any(_CALLED_ON_MAIN)


def test_keyboard_interrupt_mid_sweep_stops_the_pools():
    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cl.scaling.measure_scaling(
            cl.cpu_bound, kinds=("process",), n_workers=(2,), total_work=2, progress=interrupt
        )
    # no_leftovers (conftest) fails this test if a pool process survived


def test_cpu_meter_samples_in_a_thread_and_stops_it():
    import time

    import psutil

    from concurrency_lab.scaling.explorer import CpuMeter

    meter = CpuMeter(period_s=0.01)
    assert len(meter.bars) == (psutil.cpu_count() or 1)
    with meter:
        deadline = time.monotonic() + 5
        while not meter.samples and time.monotonic() < deadline:
            time.sleep(0.01)
    assert meter.samples and len(meter.average) == len(meter.bars)
    assert "average load per CPU" in meter.label.value
    assert meter._thread is None
