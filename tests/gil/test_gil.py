"""The GIL experiments: interpreter report, switch interval always restored, hand-off traces."""

from __future__ import annotations

import sys

import pytest

import concurrency_lab as cl
from concurrency_lab.core.tracing import Span
from concurrency_lab.gil import measure as gil
from concurrency_lab.gil.measure import Handoff, ProbeRun, SwitchIntervalResult


def _boom(units: int) -> int:
    raise RuntimeError("boom")


@pytest.fixture
def restore_interval():
    saved = sys.getswitchinterval()
    yield saved
    assert sys.getswitchinterval() == saved, "a test left the switch interval changed"
    sys.setswitchinterval(saved)


# --------------------------------------------------------------------------- interpreter


def test_gil_enabled_follows_the_interpreter(monkeypatch):
    expected = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    assert cl.gil_enabled() is expected
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert cl.gil_enabled() is False
    assert "the GIL is OFF" in cl.gil.interpreter_summary()
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: True, raising=False)
    assert cl.gil_enabled() is True
    assert "the GIL is ON" in cl.gil.interpreter_summary()


def test_gil_enabled_is_true_where_the_probe_does_not_exist(monkeypatch):
    monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    assert cl.gil_enabled() is True


def test_free_threaded_build_reads_the_build_config(monkeypatch):
    import sysconfig

    monkeypatch.setattr(sysconfig, "get_config_var", lambda name: 1)
    assert cl.free_threaded_build() is True
    assert "free-threaded build" in cl.gil.interpreter_summary()
    monkeypatch.setattr(sysconfig, "get_config_var", lambda name: None)
    assert cl.free_threaded_build() is False


# --------------------------------------------------------------------------- switch interval


def test_switch_interval_is_set_inside_and_restored_after(restore_interval):
    with cl.gil.switch_interval(0.002) as value:
        assert value == 0.002
        assert sys.getswitchinterval() == pytest.approx(0.002)
    assert sys.getswitchinterval() == restore_interval


def test_switch_interval_is_restored_when_the_block_raises(restore_interval):
    with pytest.raises(RuntimeError, match="inside"), cl.gil.switch_interval(0.0007):
        raise RuntimeError("inside")
    assert sys.getswitchinterval() == restore_interval


def test_switch_interval_is_restored_on_keyboard_interrupt(restore_interval):
    with pytest.raises(KeyboardInterrupt), cl.gil.switch_interval(0.0007):
        raise KeyboardInterrupt
    assert sys.getswitchinterval() == restore_interval


@pytest.mark.parametrize("bad", [0, -1, 2, "5ms", True])
def test_switch_interval_rejects_bad_values(bad, restore_interval):
    with pytest.raises(ValueError, match=r"a switch interval must be a number of seconds above 0"):
        with cl.gil.switch_interval(bad):
            pass


def test_measure_switch_interval_structure(restore_interval):
    r = cl.gil.measure_switch_interval((0.001, 0.002), n_cpu_threads=2, work_units=2)
    assert [run.switch_interval_s for run in r.runs] == [0.001, 0.002]
    assert all(run.n_cpu_threads == 2 and run.cpu_elapsed_s > 0 for run in r.runs)
    assert r.alone.n_cpu_threads == 0 and r.alone.cpu_elapsed_s == 0.0
    assert r.alone.wakeups > 0
    assert r.work_units == 2 and r.gil_enabled == cl.gil_enabled()
    assert "Alone, the probe woke" in r.conclusion()
    assert f"(median of {r.runs[0].wakeups} wake-ups)" in r.conclusion()


def test_the_probe_work_lasts_about_ten_of_the_longest_intervals():
    assert gil.probe_work_s((0.0005, 0.005, 0.05)) == pytest.approx(0.5)
    assert gil.probe_work_s((0.001,)) == pytest.approx(0.15)


def test_switch_interval_conclusion_warns_about_few_wake_ups():
    r = SwitchIntervalResult(
        probe_period_s=0.001,
        work_units=1,
        gil_enabled=True,
        alone=ProbeRun(0.005, 0, 0.0, (0.0001,) * 20),
        runs=(
            ProbeRun(0.005, 1, 0.2, (0.0052,) * 30),
            ProbeRun(0.05, 1, 0.2, (0.051, 0.051, 0.007, 0.002)),
        ),
    )
    text = r.conclusion()
    assert "at 5 ms the probe woke 5.20 ms late (median of 30 wake-ups)" in text
    assert "Only 4 wake-ups at 50 ms" in text


def test_measure_switch_interval_restores_the_interval_when_the_workload_raises(
    restore_interval,
):
    with pytest.raises(cl.WorkerError, match="a CPU-bound thread raised RuntimeError: boom"):
        cl.gil.measure_switch_interval((0.0009,), workload=_boom, work_units=1)
    assert sys.getswitchinterval() == restore_interval


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"intervals_s": ()}, r"'intervals_s' is empty"),
        ({"intervals_s": (0,)}, r"a switch interval must be a number of seconds above 0"),
        ({"n_cpu_threads": 0}, r"'n_workers' must be >= 1 \(got 0\)"),
        ({"probe_period_s": 1}, r"'probe_period_s' must be above 0 and at most 0\.1 s"),
        ({"work_units": 0}, r"'work_units' must be a whole number >= 1 \(got 0\)"),
    ],
)
def test_measure_switch_interval_rejects_bad_arguments(kwargs, message, restore_interval):
    with pytest.raises(ValueError, match=message):
        cl.gil.measure_switch_interval(**{"work_units": 1, **kwargs})


def test_probe_run_statistics():
    run = ProbeRun(0.005, 1, 0.1, (0.001, 0.004, 0.002))
    assert run.median_latency_s == 0.002
    assert run.max_latency_s == 0.004
    assert run.wakeups == 3
    assert ProbeRun(0.005, 0, 0.0, ()).median_latency_s == 0.0


# --------------------------------------------------------------------------- hand-off


def test_trace_handoff_structure(restore_interval):
    h = cl.gil.trace_handoff(3, duration_s=0.03, switch_interval_s=0.001)
    assert h.n_threads == 3 and h.workers == ("thread-1", "thread-2", "thread-3")
    assert h.switch_interval_s == 0.001
    assert sys.getswitchinterval() == restore_interval
    assert {s.worker for s in h.spans} == set(h.workers)  # every thread ran at some point
    assert all(s.label == "running" and s.end_ns >= s.start_ns for s in h.spans)
    assert all(s.start_ns >= h.started_ns for s in h.spans)
    assert [s.start_ns for s in h.spans] == sorted(s.start_ns for s in h.spans)
    assert h.gil_enabled == cl.gil_enabled()
    assert "threads took" in h.conclusion()


def test_trace_handoff_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"'duration_s' must be above 0 and at most 5 seconds"):
        cl.gil.trace_handoff(2, duration_s=10)
    with pytest.raises(ValueError, match=r"'gap_s' must be above 0 and below duration_s"):
        cl.gil.trace_handoff(2, duration_s=0.01, gap_s=0.02)
    with pytest.raises(ValueError, match=r"'n_workers' must be >= 1 \(got 0\)"):
        cl.gil.trace_handoff(0)


def _handoff(spans, elapsed_ms=4, n=2):
    ms = 1_000_000
    return Handoff(
        n_threads=n,
        switch_interval_s=0.005,
        gil_enabled=True,
        started_ns=0,
        elapsed_s=elapsed_ms / 1000,
        gap_s=50e-6,
        spans=tuple(Span(w, 1, 1, "running", int(a * ms), int(b * ms)) for w, a, b in spans),
    )


def _alternating(turn_ms, n_turns, interval_s):
    ms = 1_000_000
    spans = tuple(
        Span(
            f"thread-{i % 2 + 1}",
            1,
            1,
            "running",
            int(i * turn_ms * ms),
            int((i + 1) * turn_ms * ms),
        )
        for i in range(n_turns)
    )
    return Handoff(2, interval_s, True, 0, n_turns * turn_ms / 1000, 50e-6, spans)


def test_compared_with_says_whether_a_shorter_interval_gave_shorter_turns():
    default = _alternating(5.2, 10, 0.005)
    quick = _alternating(1.3, 40, 0.001)
    text = default.compared_with(quick)
    assert text.startswith("Switch interval 5 ms: 10 turns, median 5.2 ms; switch interval 1 ms")
    assert "The 1 ms interval gave shorter turns, and more of them." in text
    assert "In both, one thread ran at a time." in text
    same = _alternating(5.0, 10, 0.001)  # the review's run: 1 ms turns as long as 5 ms ones
    warn = default.compared_with(same)
    assert "NOT shorter with the 1 ms interval" in warn and "Rerun" in warn
    assert "same interval" in default.compared_with(default)


def test_handoff_turns_switches_and_overlap_on_a_known_trace():
    h = _handoff(
        [("thread-1", 0, 1), ("thread-1", 1.1, 1.5), ("thread-2", 1.5, 3), ("thread-1", 3, 4)]
    )
    assert [t.worker for t in h.turns] == ["thread-1", "thread-2", "thread-1"]
    assert h.turns[0].start_ns == 0 and h.turns[0].end_ns == 1_500_000
    assert h.n_switches == 2
    assert h.overlap_fraction == 0.0
    assert h.busy_fraction("thread-1") == pytest.approx(2.4 / 4)
    assert h.median_turn_s == pytest.approx(0.0015)
    assert h.median_stretch_s == pytest.approx(0.001)
    overlapping = _handoff([("thread-1", 0, 2), ("thread-2", 1, 3)])
    assert overlapping.overlap_fraction == pytest.approx(0.25)


# --------------------------------------------------------------------------- plots


def test_plot_handoff_draws_one_row_per_thread():
    h = _handoff([("thread-1", 0, 1), ("thread-2", 1, 2), ("thread-1", 2, 3)])
    fig = cl.gil.plot_handoff(h)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["thread-1", "thread-2"]
    assert len(ax.collections) == 2
    assert "2 hand-offs" in ax.get_title()
    assert ax.get_xlim()[1] > 3.0  # a margin after the last stretch (which ends at 3 ms)


def test_plot_probe_latency_draws_a_histogram_per_run():
    r = SwitchIntervalResult(
        probe_period_s=0.001,
        work_units=1,
        gil_enabled=True,
        alone=ProbeRun(0.005, 0, 0.0, (0.0001, 0.0002)),
        runs=(ProbeRun(0.001, 1, 0.1, (0.001, 0.0009)), ProbeRun(0.01, 1, 0.1, (0.01,))),
    )
    fig = cl.gil.plot_probe_latency(r)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["probe alone", "interval 1 ms (2 wake-ups)", "interval 10 ms (1 wake-ups)"]
    assert fig.axes[0].get_xscale() == "log"


# --------------------------------------------------------------------------- explorer


def test_gil_explorer_runs_on_click_and_restores_the_interval(restore_interval):
    box = cl.gil.gil_explorer(run_now=False)
    assert box.threads.continuous_update is False and box.button.description == "Run"
    box.threads.value = 3
    box.interval.value = 0.001
    box.button.click()
    handoff, probe = box.result
    assert handoff.n_threads == 3 and handoff.switch_interval_s == 0.001
    assert probe.runs[0].switch_interval_s == 0.001 and probe.runs[0].n_cpu_threads == 3
    assert len(box.plot.outputs) == 2
    assert "threads took" in box.conclusion.value
    assert sys.getswitchinterval() == restore_interval


def test_gil_module_exports():
    assert gil.__all__ and all(hasattr(gil, name) for name in gil.__all__)


def test_measure_thread_scaling_structure_and_plot():
    r = cl.gil.measure_thread_scaling(2, work_s=0.003, repeats=1)
    assert r.labels == (
        "pure-Python CPU",
        "sha256 (C, no GIL)",
        "zlib (C, no GIL)",
        "waiting (I/O)",
    )
    assert [res.kinds for res in r.results] == [("thread",)] * 4
    assert [res.n_workers for res in r.results] == [(2,)] * 4
    assert r.results[3].total_work == 3  # io_wait units are milliseconds
    assert r.conclusion().startswith("With 2 threads: pure-Python CPU ")
    fig = cl.gil.plot_thread_scaling(r)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(r.labels)
    with pytest.raises(ValueError, match=r"'work_s' must be above 0 and at most 10 seconds"):
        cl.gil.measure_thread_scaling(2, work_s=0)


def test_zlib_compress_is_deterministic():
    assert cl.zlib_compress(1) == cl.zlib_compress(1) == cl.gil_releasing(1, algorithm="zlib")
