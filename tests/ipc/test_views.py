"""Lesson 06's figures keep the figure contract and read without colour vision; its explorers
run headless."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.colors import to_hex

import concurrency_lab as cl
from concurrency_lab.core.tracing import Span
from concurrency_lab.ipc import cost, explorer
from concurrency_lab.ipc.pipeline import PipelineResult
from concurrency_lab.ipc.plots import PHASES, darker, plot_pipeline_timeline, plot_queue_depth
from concurrency_lab.view import style
from tests.view.cvd import assert_distinguishable

matplotlib.use("Agg")

RESULT = cost.IPCResult(
    methods=("copy", "queue.Queue", "Pipe", "Queue", "SharedMemory", "Manager"),
    sizes=(64, 1 << 20),
    seconds=((1e-6, 1e-4), (2e-5, 2e-5), (3e-5, 2e-3), (4e-5, 3e-3), (2.5e-5, 2e-4), (1e-4, 9e-3)),
    pickle_s=(2e-6, 3e-4),
    start_method="fork",
    samples=((3, 3),) * 6,
)


def _pipeline(blocked: bool = True) -> PipelineResult:
    ms = 1_000_000
    spans = [
        Span("producer-1", 1, 0, "make 0", 0, 2 * ms),
        Span("producer-1", 1, 0, "put 0", 2 * ms, 2 * ms + 1000),
        Span("producer-1", 1, 0, "make 1", 3 * ms, 5 * ms),
        Span("producer-1", 1, 0, f"{'blocked' if blocked else 'put'} 1", 5 * ms, 9 * ms),
        Span("consumer-1", 2, 0, "wait", 0, 2 * ms),
        Span("consumer-1", 2, 0, "item 0", 2 * ms, 12 * ms),
        Span("consumer-1", 2, 0, "item 1", 12 * ms, 22 * ms),
    ]
    return PipelineResult(
        kind="process",
        start_method="spawn",
        n_producers=1,
        n_consumers=1,
        queue_size=1,
        n_items=2,
        item_cost_s=0.01,
        make_cost_s=0.002,
        elapsed_s=0.022,
        consumed=((0, 1),),
        depth=((0.0, 0), (0.002, 1), (0.002, 0), (0.009, 1), (0.012, 0)),
        spans=tuple(spans),
        started_ns=0,
    )


# --------------------------------------------------------------------------- plot_ipc


@pytest.mark.parametrize("metric", ["throughput", "latency"])
def test_plot_ipc_keeps_the_contract(metric):
    fig = cl.ipc.plot_ipc(RESULT, metric=metric)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == RESULT.summary()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "(bytes, log scale)" in ax.get_xlabel()
    assert ax.get_ylabel() == (
        "throughput (GB/s, log scale)"
        if metric == "throughput"
        else "time per message (µs, log scale)"
    )
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [
        "in-process copy (numpy, one way)",
        "queue.Queue between threads, round trip",
        "Pipe, round trip",
        "Queue, round trip",
        "SharedMemory, round trip",
        "Manager queue, round trip",
    ]
    pipe = ax.get_lines()[2].get_ydata()
    want = [64 / 3e-5 / 1e9, (1 << 20) / 2e-3 / 1e9] if metric == "throughput" else [30, 2000]
    assert list(pipe) == pytest.approx(want)
    # every method line has its own marker, so no line is told apart by colour alone
    markers = [line.get_marker() for line in ax.get_lines()[1:]]
    assert len(set(markers)) == len(markers)
    assert_distinguishable(style.colors_used(fig).data, what=f"plot_ipc {metric}")


def test_plot_ipc_into_given_axes_and_bad_metric():
    fig = cl.ipc.plot_ipc(RESULT)
    assert cl.ipc.plot_ipc(RESULT, fig.axes[0], metric="latency") is fig
    with pytest.raises(ValueError, match="'metric' must be 'throughput' or 'latency'"):
        cl.ipc.plot_ipc(RESULT, metric="speed")


# --------------------------------------------------------------------------- the pipeline


def _facecolors(ax):
    return {to_hex(c) for coll in ax.collections for c in coll.get_facecolors()}


def test_plot_pipeline_keeps_the_contract_and_reads_without_colour():
    r = _pipeline()
    fig = cl.ipc.plot_pipeline(r)
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == r.summary()
    timeline, depth = fig.axes
    running, waiting, idle = (style.category(n) for n in ("running", "waiting", "idle"))
    assert _facecolors(timeline) == {
        running.color.lower(),
        darker(running.color),
        waiting.color.lower(),
        idle.color.lower(),
    }
    # the states that must be told apart stay apart in colour under every simulated CVD ...
    assert_distinguishable([running.color, darker(running.color), waiting.color, idle.color])
    # ... and by hatch: blocked and waiting are hatched, working is solid
    hatches = {coll.get_hatch() for coll in timeline.collections}
    assert hatches == {None, waiting.hatch, idle.hatch}
    legend = [t.get_text() for t in timeline.get_legend().get_texts()]
    assert legend == [PHASES[p][0] for p in ("make", "blocked", "wait")]
    calm = plot_pipeline_timeline(_pipeline(blocked=False)).axes[0]
    legend = [t.get_text() for t in calm.get_legend().get_texts()]
    assert legend == [PHASES[p][0] for p in ("make", "wait")]  # no put waited: no "blocked"
    assert depth.get_ylabel() == "items queued (count)"


def test_a_put_that_did_not_wait_is_not_drawn_as_blocked():
    fig = plot_pipeline_timeline(_pipeline(blocked=False))
    waiting = style.category("waiting")
    assert waiting.color.lower() not in _facecolors(fig.axes[0])
    assert style.figure_problems(fig) == ()


def test_queue_depth_alone():
    fig = plot_queue_depth(_pipeline())
    assert style.figure_problems(fig) == ()
    assert style.summary_of(fig) == "The queue held at most 1 of its 1 places."


def test_plot_pipeline_into_given_axes():
    fig = cl.ipc.plot_pipeline(_pipeline())
    again = cl.ipc.plot_pipeline(_pipeline(), fig.axes[0])
    assert again is fig


# --------------------------------------------------------------------------- explorers


def test_ipc_explorer_runs_headless():
    ex = cl.ipc.ipc_explorer()
    assert ex.controls["methods"].description == "methods"
    ex.controls["methods"].value = ("Pipe",)
    ex.controls["sizes"].value = (64, 1024)
    result = ex.run()
    assert ex.error == ""
    assert result.methods == ("copy", "Pipe") and result.sizes == (64, 1024)
    assert ex.summary == result.summary()
    assert len(ex.figures) == 2
    assert all(style.figure_problems(f) == () for f in ex.figures)


def test_ipc_explorer_explains_an_empty_choice():
    ex = cl.ipc.ipc_explorer()
    ex.controls["sizes"].value = ()
    assert ex.run() is None
    assert "pick at least one message size." in ex.error


def test_ipc_explorer_offers_no_size_beyond_16_mib():
    assert max(explorer.EXPLORER_SIZES) == 16 << 20
    assert [v for _, v in ex_options(cl.ipc.ipc_explorer())] == list(explorer.EXPLORER_SIZES)


def ex_options(ex):
    return ex.controls["sizes"].options


def test_pipeline_explorer_passes_seconds_and_runs_threads_headless(monkeypatch):
    ex = cl.ipc.pipeline_explorer()
    assert ex.controls["make_cost_s"].description == "make (ms per item)"
    ex.controls["kind"].value = "thread"
    assert ex.controls["start_method"].disabled
    ex.controls["make_cost_s"].value = 3.0
    ex.controls["item_cost_s"].value = 1.0
    assert ex.values()["make_cost_s"] == pytest.approx(0.003)
    result = ex.run()
    assert ex.error == ""
    assert result.kind == "thread" and result.every_item_once
    assert result.make_cost_s == pytest.approx(0.003)
    assert ex.summary == result.summary()
    assert style.figure_problems(ex.figures[0]) == ()
    ex.controls["kind"].value = "process"
    assert not ex.controls["start_method"].disabled
