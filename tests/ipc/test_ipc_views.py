"""Lesson 06's plots, explorers (driven headless) and self-checks."""

from __future__ import annotations

from multiprocessing import shared_memory

import ipywidgets as W
import matplotlib
import pytest
from matplotlib.figure import Figure

import concurrency_lab as cl
from concurrency_lab.ipc import explorer as ipc_explorer
from concurrency_lab.ipc import pipeline
from concurrency_lab.ipc import primitives as ipc

matplotlib.use("Agg")

RESULT = ipc.IPCResult(
    methods=("memcpy", "Pipe", "SharedMemory"),
    sizes=(64, 1 << 20),
    seconds=((1e-6, 1e-4), (3e-5, 2e-3), (2.5e-5, 2e-4)),
    pickle_s=(2e-6, 3e-4),
    start_method="fork",
    samples=((3, 3), (3, 3), (3, 3)),
)


def _find(box, cls, description=None):
    """The first widget of type ``cls`` (with that description) inside ``box``."""
    stack = [box]
    while stack:
        w = stack.pop(0)
        if isinstance(w, cls) and (description is None or w.description == description):
            return w
        stack.extend(getattr(w, "children", ()))
    raise LookupError(f"no {cls.__name__} {description!r}")


# --------------------------------------------------------------------------- plots


@pytest.mark.parametrize("metric", ["throughput", "latency"])
def test_plot_ipc(metric):
    fig = cl.ipc.plot_ipc(RESULT, metric=metric)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["memcpy (in-process copy)", "Pipe", "SharedMemory"]
    pipe = ax.get_lines()[1].get_ydata()
    if metric == "throughput":
        assert list(pipe) == pytest.approx([64 / 3e-5 / 1e9, (1 << 20) / 2e-3 / 1e9])
    else:
        assert list(pipe) == pytest.approx([30.0, 2000.0])


def test_plot_ipc_into_given_axes_and_bad_metric():
    fig = cl.ipc.plot_ipc(RESULT)
    assert cl.ipc.plot_ipc(RESULT, fig.axes[0], metric="latency") is fig
    with pytest.raises(
        ValueError, match=r"^'metric' must be 'throughput' or 'latency' \(got 'speed'\)\.$"
    ):
        cl.ipc.plot_ipc(RESULT, metric="speed")


def test_plot_pipeline_and_depth():
    res = cl.ipc.run_pipeline(n_items=8, item_cost_s=0.001, make_cost_s=0, kind="thread")
    fig = cl.ipc.plot_pipeline(res)
    assert len(fig.axes) == 2
    assert "8 items" in fig.axes[0].get_title()
    depth_fig = cl.ipc.plot_queue_depth(res)
    line = depth_fig.axes[0].get_lines()[0]
    assert list(line.get_ydata()) == [d for _, d in res.depth]
    single = cl.ipc.plot_pipeline(res, depth_fig.axes[0])
    assert single is depth_fig


# --------------------------------------------------------------------------- explorers


def test_ipc_explorer_runs_on_click():
    box = cl.ipc.ipc_explorer()
    methods = _find(box, W.SelectMultiple, "methods")
    sizes = _find(box, W.SelectMultiple, "sizes")
    methods.value = ("Pipe", "SharedMemory")
    sizes.value = (64, 1024)
    _find(box, W.Button).click()
    status = _find(box, W.HTML).value
    assert "fastest between processes" in status
    assert "Pipe" in status or "SharedMemory" in status


def test_ipc_explorer_reports_bad_choice_in_its_output():
    box = cl.ipc.ipc_explorer()
    _find(box, W.SelectMultiple, "sizes").value = ()
    _find(box, W.Button).click()  # must not raise: the message goes to the Output
    out = _find(box, W.Output)
    assert any("pick at least one message size" in o.get("text", "") for o in out.outputs)


def test_pipeline_explorer_runs_on_click():
    box = cl.ipc.pipeline_explorer(kind="thread")
    _find(box, W.IntSlider, "consumers").value = 3
    _find(box, W.FloatSlider, "item (ms)").value = 1.0
    _find(box, W.Button).click()
    status = _find(box, W.HTML).value
    assert status.startswith("24 items in ")
    assert "of 4." in status


def test_pipeline_explorer_passes_make_cost(monkeypatch):
    seen = {}
    real = pipeline.run_pipeline

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(ipc_explorer, "run_pipeline", spy)
    box = cl.ipc.pipeline_explorer(kind="thread")
    _find(box, W.FloatSlider, "make (ms)").value = 3.0
    _find(box, W.FloatSlider, "item (ms)").value = 0.0
    _find(box, W.Button).click()
    assert seen["make_cost_s"] == pytest.approx(0.003)
    assert seen["item_cost_s"] == 0.0


# --------------------------------------------------------------------------- self-checks


def test_check_fastest_small():
    assert cl.check.ipc.check_fastest_small("SharedMemory", RESULT).ok
    wrong = cl.check.ipc.check_fastest_small("Pipe", RESULT)
    assert not wrong.ok and "another method was quicker" in wrong.message
    inproc = cl.check.ipc.check_fastest_small("memcpy", RESULT)
    assert not inproc.ok and "does not cross between processes" in inproc.message
    assert not cl.check.ipc.check_fastest_small("Pipe", None).ok


def _good(values, *, fail=False):
    shm = shared_memory.SharedMemory(create=True, size=8 * len(values))
    try:
        view = shm.buf.cast("d")
        for i, v in enumerate(values):
            view[i] = v
        view.release()
        return cl.ipc.shm_child_sum(shm.name, len(values), fail=fail)
    finally:
        shm.close()
        shm.unlink()


def _leaky(values, *, fail=False):
    shm = shared_memory.SharedMemory(create=True, size=8 * len(values))
    view = shm.buf.cast("d")
    for i, v in enumerate(values):
        view[i] = v
    view.release()
    total = cl.ipc.shm_child_sum(shm.name, len(values), fail=fail)
    shm.close()
    shm.unlink()
    return total


def _swallows(values, *, fail=False):
    try:
        return _good(values, fail=fail)
    except Exception:
        return 0.0


def _view_alive(values, *, fail=False):
    # What close() raises when a view of the segment is still alive (raised here directly, so
    # the test itself leaves no half-closed segment behind for the garbage collector).
    _good(values, fail=fail)
    raise BufferError("cannot close exported pointers exist")


def test_check_shared_memory_freed():
    assert cl.check.ipc.check_shared_memory_freed(_good).ok
    leak = cl.check.ipc.check_shared_memory_freed(_leaky)
    assert not leak.ok and "finally" in leak.message  # and the check freed the leak itself
    swallowed = cl.check.ipc.check_shared_memory_freed(_swallows)
    assert not swallowed.ok and "returned normally" in swallowed.message
    alive = cl.check.ipc.check_shared_memory_freed(_view_alive)
    assert not alive.ok and "view.release()" in alive.message


def _squares_good(numbers, n_workers):
    ctx = cl.get_context()
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = [
        ctx.Process(target=cl.ipc.queue_square_worker, args=(tasks, results))
        for _ in range(n_workers)
    ]
    for w in workers:
        w.start()
    for x in numbers:
        tasks.put(x)
    for _ in workers:
        tasks.put(None)
    got = [results.get(timeout=10) for _ in numbers]
    for w in workers:
        w.join(timeout=10)
    return sorted(sq for _, sq in got)


def _squares_starter(numbers, n_workers):
    ctx = cl.get_context()
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = [
        ctx.Process(target=cl.ipc.queue_square_worker, args=(tasks, results))
        for _ in range(n_workers)
    ]
    for w in workers:
        w.start()
    for x in numbers:
        tasks.put(x)
    for w in workers:
        w.join(timeout=0.2)
    return []


def _squares_join_first(numbers, n_workers):
    # The wrong order the exercise warns about: join (with a timeout) before collecting.
    ctx = cl.get_context()
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = [
        ctx.Process(target=cl.ipc.queue_square_worker, args=(tasks, results))
        for _ in range(n_workers)
    ]
    for w in workers:
        w.start()
    for x in numbers:
        tasks.put(x)
    for _ in workers:
        tasks.put(None)
    for w in workers:
        w.join(timeout=0.2)
    got = [results.get(timeout=10) for _ in numbers]
    for w in workers:
        w.join(timeout=10)
    return sorted(sq for _, sq in got)


def _squares_numbers_back(numbers, n_workers):
    return sorted(numbers)


def _squares_pairs_back(numbers, n_workers):
    return [(x, x * x) for x in sorted(numbers)]


def test_check_queue_workers():
    good = cl.check.ipc.check_queue_workers(_squares_good)
    assert good.ok, good.message
    starter = cl.check.ipc.check_queue_workers(_squares_starter)
    assert not starter.ok and "Expected the 20 squares" in starter.message
    join_first = cl.check.ipc.check_queue_workers(_squares_join_first)
    assert not join_first.ok and "Collect every result first" in join_first.message
    assert not cl.check.ipc.check_queue_workers(42).ok


def test_check_queue_workers_wrong_results_never_print_a_huge_int():
    back = cl.check.ipc.check_queue_workers(_squares_numbers_back)
    assert not back.ok and "the numbers themselves" in back.message
    pairs = cl.check.ipc.check_queue_workers(_squares_pairs_back)
    assert not pairs.ok and "(1, 1)" in pairs.message
    assert "<an int of 200001 bits>, <an int of 400001 bits>)]" in pairs.message
    assert len(pairs.message) < 400


def test_check_queue_workers_sizes_make_join_first_block():
    # Each big result is larger than a Linux pipe (64 KiB), so its worker cannot end before
    # the result is read; all tasks together fit in one, so feeding them never blocks.
    from multiprocessing.reduction import ForkingPickler

    from concurrency_lab.ipc.checks import _NUMBERS

    pipe = 64 * 1024
    assert len(_NUMBERS) == 20
    big = [x for x in _NUMBERS if x.bit_length() > 64]
    assert len(big) == 2
    assert all(len(ForkingPickler.dumps((x, x * x))) > pipe for x in big)
    assert sum(len(ForkingPickler.dumps(x)) + 4 for x in _NUMBERS) < pipe


def test_pipeline_timeline_colours_each_phase():
    res = cl.ipc.run_pipeline(n_items=6, item_cost_s=0.002, make_cost_s=0.001, kind="thread")
    fig = cl.ipc.plot_pipeline_timeline(res)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "producer-1",
        "producer-2",
        "consumer-1",
        "consumer-2",
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "making an item (shades alternate)",
        "blocked in put (queue full)",
        "waiting in get (queue empty)",
        "working on an item (shades alternate)",
    ]
    # one bar per span: the bars drawn add up to the spans recorded
    n_bars = sum(len(c.get_paths()) for c in ax.collections)
    assert n_bars == len(res.spans)


def test_pipeline_timeline_alternates_item_shades():
    # Back-to-back items must be told apart: successive items of one consumer alternate colours.
    from matplotlib.colors import to_hex

    res = cl.ipc.run_pipeline(
        n_producers=1, n_consumers=1, n_items=5, item_cost_s=0.001, make_cost_s=0, kind="thread"
    )
    ax = cl.ipc.plot_pipeline_timeline(res).axes[0]
    green = to_hex("tab:green")
    items = [c for c in ax.collections if to_hex(c.get_facecolors()[0]) == green]
    assert len(items) == 1 and len(items[0].get_paths()) == 5
    shades = [to_hex(f) for f in items[0].get_facecolors()]
    assert shades[0] != shades[1]
    assert shades == [shades[0], shades[1]] * 2 + [shades[0]]
