"""Scaling pictures and the explorer: the figure contract, colours told apart, headless runs."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.scaling import explorer as explorer_mod
from concurrency_lab.scaling.maths import amdahl_speedup
from concurrency_lab.view import style
from tests.scaling.helpers import point, result
from tests.view.cvd import assert_distinguishable


def _must_differ(fig, *names: str) -> None:
    colors = [style.category(n).color.lower() for n in names]
    used = set(style.colors_used(fig).data)
    assert set(colors) <= used, f"expected {names} in the figure"
    assert_distinguishable(colors, what=", ".join(names))


def _sweep():
    pts = [point("thread", n, [1.0, 0.98, 1.01]) for n in (1, 2, 4)]
    pts += [
        point("process", n, [s * 0.98, s, s * 1.01]) for n, s in ((1, 0.97), (2, 1.5), (4, 1.5))
    ]
    return result(pts, serial_fraction=0.3, physical=1)


def test_plot_scaling_keeps_the_contract_and_tells_kinds_apart():
    r = _sweep()
    fig = cl.scaling.plot_scaling(r)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == str(r)
    _must_differ(fig, "thread", "process")
    ax = fig.axes[0]
    assert "1-worker time 1000 ms" in ax.get_title()
    texts = [t.get_text() for t in ax.texts]
    assert "2 usable cores" in texts and "1 physical core" in texts
    eff = cl.scaling.plot_scaling(r, metric="efficiency")
    assert style.figure_problems(eff) == ()
    assert eff.axes[0].get_ylabel() == "efficiency = speedup / workers (%)"
    with pytest.raises(ValueError, match="'metric' must be 'speedup' or 'efficiency'"):
        cl.scaling.plot_scaling(r, metric="speed")


def test_the_amdahl_curve_stops_at_the_usable_cores():
    r = _sweep()
    fig = cl.scaling.plot_scaling(r, amdahl=True)
    model = [line for line in fig.axes[0].lines if "Amdahl" in str(line.get_label())]
    assert len(model) == 1
    assert max(model[0].get_xdata()) == r.usable_cores  # not out to 4 workers on 2 cores
    _must_differ(fig, "thread", "process", "model")
    assert str(r.amdahl()) in style.summary_of(fig)


def test_an_unreadable_fit_is_not_drawn():
    r = result([point("process", 2, [1.0, 1.9, 1.1])], serial_fraction=0.3)
    assert r.amdahl().outcome == "unclear"
    fig = cl.scaling.plot_scaling(r, amdahl=True)
    assert not [line for line in fig.axes[0].lines if "Amdahl" in str(line.get_label())]


def test_plot_amdahl_draws_the_law_out_to_many_workers():
    pts = [
        point("process", 2, [amdahl_speedup(2, serial_fraction=0.3) * w for w in (0.99, 1, 1.01)])
    ]
    fit = result(pts, serial_fraction=0.3).amdahl()
    fig = cl.scaling.plot_amdahl(fit)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == str(fit)
    ax = fig.axes[0]
    solid, dashed = ax.lines[0], ax.lines[1]
    assert max(solid.get_xdata()) == 2 and max(dashed.get_xdata()) == 1024
    assert any("ceiling 1/s = 3.3x" in t.get_text() for t in ax.texts)
    unclear = result([point("process", 2, [1.0, 1.9, 1.1])], serial_fraction=0.3).amdahl()
    drawn = cl.scaling.plot_amdahl(unclear).axes[0].lines[0].get_label()
    assert "serial 30% (built in; your points are too spread to read)" in drawn
    _must_differ(fig, "process", "model")


def test_plots_draw_into_a_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        assert cl.scaling.plot_scaling(_sweep(), ax=ax) is fig
    finally:
        plt.close(fig)


def test_the_explorer_runs_headless_and_states_its_result():
    ex = cl.scaling.scaling_explorer(size_s=0.03)
    assert set(ex.controls) == {"max_workers", "workload", "kinds", "start_method", "size_s"}
    assert ex.controls["max_workers"].description == "most workers"
    ex.controls["workload"].value = "io"
    ex.controls["kinds"].value = ("thread",)
    ex.controls["max_workers"].value = 2
    assert ex.controls["start_method"].disabled  # threads only: no start method
    r = ex.run()
    assert ex.error == "" and r is not None
    assert ex.summary == str(r) and r.workload == "io_wait"
    assert style.figure_problems(ex.figures[0]) == ()
    assert ex.meter.samples is not None


def test_the_explorer_slider_stops_at_the_lesson_cap(monkeypatch):
    monkeypatch.setattr(explorer_mod, "lesson_processes", lambda factor: 16)
    monkeypatch.setattr(explorer_mod, "usable_cores", lambda: 64)
    ex = cl.scaling.scaling_explorer()
    assert ex.controls["max_workers"].max == 16 and ex.controls["max_workers"].value == 16


def test_explorer_errors_land_in_its_output(monkeypatch):
    def broken(**kw):
        raise cl.WorkerError("a worker failed", worker="w", exc_type="RuntimeError")

    monkeypatch.setattr(explorer_mod, "scaling_experiment", broken)
    ex = cl.scaling.scaling_explorer()
    assert ex.run() is None
    assert "a worker failed" in ex.error


def test_the_cpu_meter_shows_usable_cpus_only(monkeypatch):
    from concurrency_lab.core.machine import CpuFacts

    monkeypatch.setattr(explorer_mod, "_allowed_cpus", lambda: list(range(128)))
    monkeypatch.setattr(explorer_mod, "cpu_facts", lambda: CpuFacts(128, 128, None, None, 128))
    many = explorer_mod.CpuMeter()
    assert not many.per_cpu and len(many.bars) == 1 and many.bars[0].max == 128
    monkeypatch.setattr(explorer_mod, "_allowed_cpus", lambda: [4, 5])
    monkeypatch.setattr(explorer_mod, "cpu_facts", lambda: CpuFacts(64, 2, None, None, 2))
    two = explorer_mod.CpuMeter()
    assert two.per_cpu and [b.description for b in two.bars] == ["cpu4", "cpu5"]
    monkeypatch.setattr(explorer_mod, "_allowed_cpus", lambda: list(range(8)))
    monkeypatch.setattr(explorer_mod, "cpu_facts", lambda: CpuFacts(8, 8, 2.0, None, 2))
    quota = explorer_mod.CpuMeter()
    assert not quota.per_cpu and quota.bars[0].max == 2


def test_the_cpu_meter_samples_in_a_thread_and_stops_it():
    import time

    meter = explorer_mod.CpuMeter(period_s=0.02)
    with meter:
        deadline = time.monotonic() + 5
        while not meter.samples and time.monotonic() < deadline:
            time.sleep(0.01)
    assert meter.samples and meter._thread is None
    assert "average during the run" in meter.label.value
