"""plot_watch: the picture of a watch keeps the figure contract and draws what was measured.

Most tests draw hand-made results (known series, no timing), so what the picture must show can
be asserted exactly; one draws a real watch.
"""

from __future__ import annotations

import threading

import matplotlib
import pytest

matplotlib.use("Agg")

from matplotlib.collections import PolyCollection

from concurrency_lab.core.watch import WatchedWorker, WatchResult, watch
from concurrency_lab.view import watch_plot
from concurrency_lab.view.style import category, colors_used, figure_problems
from tests.view.cvd import assert_distinguishable

MS = 1e-3


def _worker(name, kind, runs_ms, *, wall_ms=100, pid=100, tid=1):
    """A worker on a CPU during ``runs_ms`` (list of (start, end) in ms), sampled every 1 ms."""
    times = [i * MS for i in range(wall_ms + 1)]
    cum, total = [], 0.0
    for i, t in enumerate(times):
        if i:
            mid = (t - MS / 2) / MS
            total += MS if any(a <= mid < b for a, b in runs_ms) else 0.0
        cum.append(total)
    return WatchedWorker(
        name=name,
        kind=kind,
        pid=pid,
        tid=tid if kind == "thread" else None,
        start_s=0.0,
        end_s=wall_ms * MS,
        cpu_s=total,
        parent="MainProcess",
        sample_s=tuple(times),
        cpu_seen_s=tuple(cum),
    )


def _result(workers, *, resolution="samples", note="", raised=None, wall_ms=100):
    return WatchResult(
        workers=tuple(workers),
        hidden=(),
        wall_s=wall_ms * MS,
        resolution=resolution,
        sample_interval_s=MS if resolution == "samples" else None,
        cores=2,
        note=note,
        raised=raised,
    )


def _turns(offset):
    return [(a + offset, a + offset + 5) for a in range(0, 100, 10)]


def _solid(ax):
    """The solid on-CPU bars of each lane, as {lane y: [(start, width), ...]}."""
    out = {}
    for coll in ax.collections:
        if isinstance(coll, PolyCollection) and coll.get_alpha() in (None, 1.0):
            for path in coll.get_paths():
                xs, ys = path.vertices[:, 0], path.vertices[:, 1]
                lane = round(float((ys.min() + ys.max()) / 2))
                out.setdefault(lane, []).append(
                    (round(float(xs.min()), 6), round(float(xs.max() - xs.min()), 6))
                )
    return {k: sorted(v) for k, v in out.items()}


def _axes(fig):
    lanes = next(ax for ax in fig.axes if ax.get_ylabel() == "worker")
    busy = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("Cores busy"))
    totals = next(ax for ax in fig.axes if ax.get_title(loc="left") == "CPU used")
    return lanes, busy, totals


def test_threads_taking_turns_are_drawn_as_alternating_solid_bars():
    result = _result(
        [_worker("A", "thread", _turns(0), tid=1), _worker("B", "thread", _turns(5), tid=2)]
    )
    fig = watch_plot.plot_watch(result)
    assert figure_problems(fig) == ()
    assert fig.lab_summary == result.summary()
    assert fig.get_suptitle() == "What ran when: 2 threads in 0.10 s"
    lanes, busy, totals = _axes(fig)
    assert [t.get_text() for t in lanes.get_yticklabels()] == ["thread: A", "thread: B"]
    assert lanes.get_xlabel() == "time since the watch began (ms)"
    solid = _solid(lanes)
    assert solid[0] == [(float(a), 5.0) for a in range(0, 100, 10)]
    assert solid[1] == [(float(a), 5.0) for a in range(5, 100, 10)]
    # Cores busy: exactly one at every moment (one of the two is always running).
    _, values = result.cores_busy()
    assert min(values) == pytest.approx(1.0) and max(values) == pytest.approx(1.0)
    assert busy.get_ylabel() == "cores"
    # Totals: one bar per lane, with its number written beside it.
    assert len(totals.patches) == 2
    assert [t.get_text() for t in totals.texts] == ["0.05 s", "0.05 s"]
    assert totals.get_xlabel() == "CPU time (s)"


def test_processes_differ_from_threads_by_more_than_colour():
    result = _result(
        [
            _worker("t", "thread", [(0, 100)]),
            _worker("p", "process", [(0, 100)], pid=101),
        ]
    )
    fig = watch_plot.plot_watch(result)
    lanes, _, totals = _axes(fig)
    assert [t.get_text() for t in lanes.get_yticklabels()] == ["thread: t", "process: p"]
    hatches = {
        round(float(c.get_paths()[0].vertices[:, 1].mean())): c.get_hatch()
        for c in lanes.collections
        if isinstance(c, PolyCollection)
    }
    assert hatches == {0: None, 1: category("process").hatch}
    assert [p.get_hatch() for p in totals.patches] == [None, category("process").hatch]
    fills = set(colors_used(fig).fills)
    assert {category("thread").color.lower(), category("process").color.lower()} <= fills
    assert figure_problems(fig) == ()
    assert_distinguishable([category("thread").color, category("process").color])


def test_partly_running_samples_are_pale_and_idle_ones_empty():
    # On a CPU for 0.3 ms of every 1 ms: never solid, always pale.
    times = [i * MS for i in range(101)]
    w = WatchedWorker(
        name="sipper",
        kind="thread",
        pid=1,
        tid=1,
        start_s=0.0,
        end_s=0.1,
        cpu_s=0.03,
        parent="MainProcess",
        sample_s=tuple(times),
        cpu_seen_s=tuple(0.3 * t for t in times),
    )
    lanes, _, _ = _axes(watch_plot.plot_watch(_result([w])))
    assert _solid(lanes) == {}
    pale = [c for c in lanes.collections if c.get_alpha() == pytest.approx(0.35)]
    assert len(pale) == 1 and len(pale[0].get_paths()) == 1


def test_totals_only_draws_lifetimes_and_totals_and_says_why():
    w = WatchedWorker(
        name="p",
        kind="process",
        pid=5,
        tid=None,
        start_s=0.0,
        end_s=0.08,
        cpu_s=0.07,
        parent="MainProcess",
    )
    note = "CPU totals only: this system gives the watcher no per-moment CPU readings"
    fig = watch_plot.plot_watch(_result([w], resolution="totals", note=note))
    assert figure_problems(fig) == ()
    lanes, _, totals = _axes(fig)
    assert _solid(lanes) == {}
    assert [t.get_text() for t in totals.texts] == ["0.07 s"]
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "Per-moment CPU is not available" in texts
    assert any(note in t.get_text() for t in fig.texts)
    assert "CPU totals only" in fig.lab_summary


def test_unknown_cpu_and_a_worker_still_running():
    w = WatchedWorker(
        name="p",
        kind="process",
        pid=5,
        tid=None,
        start_s=0.01,
        end_s=None,
        cpu_s=None,
        parent="MainProcess",
    )
    fig = watch_plot.plot_watch(_result([w], resolution="totals", note="no psutil"))
    lanes, _, totals = _axes(fig)
    assert [t.get_text() for t in totals.texts] == [" unknown"]
    assert any(line.get_marker() == ">" for line in lanes.lines)  # the "still alive" arrow


def test_nothing_started_still_keeps_the_contract():
    fig = watch_plot.plot_watch(_result([], raised="ValueError: bad"))
    assert figure_problems(fig) == ()
    assert (
        fig.get_suptitle()
        == "What ran when: no threads or processes in 0.10 s, stopped by ValueError"
    )
    assert "started no threads or processes" in fig.lab_summary


def test_drawing_into_a_given_axes_draws_the_lanes_only():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        result = _result([_worker("A", "thread", _turns(0))])
        out = watch_plot.plot_watch(result, ax=ax)
        assert out is fig and len(fig.axes) == 1
        assert ax.get_title().startswith("What ran when: 1 thread")
        assert out.lab_summary == result.summary()
    finally:
        plt.close(fig)


def test_a_real_watch_draws_one_lane_per_worker():
    with watch() as w:
        threads = [threading.Thread(target=sum, args=(range(200_000),)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    fig = w.plot()
    lanes, _, _ = _axes(fig)
    assert len(lanes.get_yticks()) == len(w.workers) == 3
    assert figure_problems(fig) == ()
    assert fig.lab_summary == w.summary()
