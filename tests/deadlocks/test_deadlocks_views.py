"""Lesson 05's plots, the philosophers explorer (driven headless) and the self-checks."""

from __future__ import annotations

import time

import pytest

import concurrency_lab as cl
from concurrency_lab.deadlocks.locks import LockEvent, WaitForGraph

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

FAST = 0.005


# --------------------------------------------------------------------------- plots


def test_plot_wait_for_highlights_the_cycle():
    out = cl.deadlocks.dining_philosophers(4, detect_interval_s=FAST)
    fig = cl.deadlocks.plot_wait_for(out.deadlock)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted([f"phil-{i}" for i in range(4)] + [f"fork-{i}" for i in range(4)])
    red = [
        p
        for p in ax.patches
        if p.get_edgecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=0.01)
    ]
    assert len(red) == 8  # 4 "waits for" + 4 "held by" arrows, all in the cycle
    assert ax.get_title() == "deadlock: 4 threads wait in a circle"


def test_plot_wait_for_puts_each_cycle_on_its_own_ring():
    from concurrency_lab.deadlocks.plots import _graph_layout

    g = WaitForGraph(
        holds={"T1": ("A",), "T2": ("B",), "T3": ("C",), "T5": ("E",), "T6": ("F",), "T7": ("G",)},
        waits={"T1": "B", "T2": "A", "T3": "A", "T5": "F", "T6": "G", "T7": "E"},
    )
    fig = cl.deadlocks.plot_wait_for(g)
    assert fig.axes[0].get_title() == "deadlock: 2 cycles (T1–T2, T5–T6–T7)"
    pos = _graph_layout(g, cl.deadlocks.find_cycles(g))
    points = list(pos.values())
    assert len(set(points)) == len(points) == 12  # 6 threads + 6 locks, no two on one spot
    gap = min(
        ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5
        for i, (x1, y1) in enumerate(points)
        for (x2, y2) in points[i + 1 :]
    )
    assert gap > 0.8
    # The two rings are apart: every node of the first lies left of every node of the second.
    first = [pos[n] for n in ("T:T1", "L:A", "T:T2", "L:B")]
    second = [pos[n] for n in ("T:T5", "L:E", "T:T6", "L:F", "T:T7", "L:G")]
    assert max(x for x, _ in first) < min(x for x, _ in second)


def test_plot_wait_for_graph_without_cycle_and_none():
    g = WaitForGraph(holds={"T1": ("A",)}, waits={"T2": "A"})
    fig = cl.deadlocks.plot_wait_for(g)
    assert fig.axes[0].get_title() == "wait-for graph: no cycle"
    assert len(fig.axes[0].patches) == 2
    assert "no deadlock" in cl.deadlocks.plot_wait_for(None).axes[0].texts[0].get_text()
    with pytest.raises(
        TypeError, match=r"'cycle_or_graph' must be a Deadlock, a WaitForGraph or None"
    ):
        cl.deadlocks.plot_wait_for("cycle")  # type: ignore[arg-type]


def test_plot_lock_timeline_draws_holding_and_waiting():
    ev = [
        LockEvent(0, "T1", "A", "acquire"),
        LockEvent(1_000_000, "T2", "A", "wait"),
        LockEvent(3_000_000, "T1", "A", "release"),
        LockEvent(3_000_000, "T2", "A", "acquire"),
        LockEvent(4_000_000, "T2", "A", "release"),
    ]
    fig = cl.deadlocks.plot_lock_timeline(ev)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_width() > 0]
    hatched = [b for b in bars if b.get_hatch()]
    assert len(bars) == 3 and len(hatched) == 1
    assert hatched[0].get_x() == pytest.approx(1.0) and hatched[0].get_width() == pytest.approx(2.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["T1", "T2"]


def test_plot_philosophers_and_progress():
    out = cl.deadlocks.starvation(duration_s=0.02)
    fig = cl.deadlocks.plot_philosophers(out)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    heights = [p.get_height() for p in fig.axes[2].patches]
    assert heights == [out.progress[t] for t in out.threads]
    ticks = fig.axes[2].get_yticks()
    assert all(float(t).is_integer() for t in ticks)  # whole meals, whole turns
    with pytest.raises(TypeError, match=r"'outcome' must be a DemoOutcome \(got int\)"):
        cl.deadlocks.plot_progress(3)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the explorer


def test_explorer_runs_headless_and_shows_a_deadlock():
    box = cl.deadlocks.philosophers_explorer(n=3, duration_s=0.15)
    c = box.controls
    assert list(c["strategy"].options) == list(cl.deadlocks.DEADLOCK_STRATEGIES)
    c["think_ms"].value = 0.0
    c["eat_ms"].value = 1.0
    c["button"].click()
    out = box.outcome
    assert out is not None and out.deadlock.threads == ("phil-0", "phil-1", "phil-2")
    assert "deadlock(s)" in box.children[3].value
    assert len(box.children[4].outputs) == 1  # the figure


def test_explorer_strategy_change_feeds_everyone():
    box = cl.deadlocks.philosophers_explorer(duration_s=0.15)
    box.controls["n"].value = 4
    box.controls["strategy"].value = "arbitrator"
    assert "waiter" in box.children[1].value
    box.controls["button"].click()
    out = box.outcome
    assert not out.deadlocked and len(out.progress) == 4
    assert min(out.progress.values()) > 0
    assert "No deadlock." in box.children[3].value


# --------------------------------------------------------------------------- self-checks


def _transfer_unordered(src, dst, amount):
    with src.lock, dst.lock:
        src.balance -= amount
        dst.balance += amount


def _transfer_ordered(src, dst, amount):
    first, second = sorted([src, dst], key=lambda a: a.name)
    with first.lock, second.lock:
        src.balance -= amount
        dst.balance += amount


def _transfer_unlocked(src, dst, amount):
    src.balance -= amount
    dst.balance += amount


def _transfer_wrong_sum(src, dst, amount):
    first, second = sorted([src, dst], key=lambda a: a.name)
    with first.lock, second.lock:
        src.balance -= amount


def _transfer_dst_first(src, dst, amount):
    with dst.lock, src.lock:
        src.balance -= amount
        dst.balance += amount


def _transfer_backoff(src, dst, amount):
    for attempt in range(1000):
        with src.lock:
            if dst.lock.acquire(blocking=False):
                try:
                    src.balance -= amount
                    dst.balance += amount
                    return
                finally:
                    dst.lock.release()
        time.sleep(0.001 * (1 + attempt % 3) * (1 if src.name == "alice" else 2))
    raise RuntimeError("gave up")


def test_transfer_check():
    bad = cl.check.deadlocks.transfer_is_deadlock_free(_transfer_unordered)
    assert not bad.ok
    assert bad.message.startswith(
        "Deadlock: transfer-1 holds alice and waits for bob (held by transfer-2); "
        "transfer-2 holds bob and waits for alice (held by transfer-1)."
    )
    assert "one global order" in bad.message
    assert "locks its source account first" in bad.message
    dst_first = cl.check.deadlocks.transfer_is_deadlock_free(_transfer_dst_first)
    assert not dst_first.ok and "locks its destination account first" in dst_first.message
    ordered = cl.check.deadlocks.transfer_is_deadlock_free(_transfer_ordered)
    assert ordered.ok and "both transfers took alice first" in ordered.message
    backoff = cl.check.deadlocks.transfer_is_deadlock_free(_transfer_backoff)
    assert backoff.ok and "removes hold and wait" in backoff.message
    unlocked = cl.check.deadlocks.transfer_is_deadlock_free(_transfer_unlocked)
    assert not unlocked.ok and "Hold both locks" in unlocked.message
    wrong = cl.check.deadlocks.transfer_is_deadlock_free(_transfer_wrong_sum)
    assert not wrong.ok and "alice=95, bob=105" in wrong.message
    assert not cl.check.deadlocks.transfer_is_deadlock_free("transfer").ok


def test_strategy_check():
    none = cl.check.deadlocks.strategy_feeds_everyone("none")
    assert not none.ok and "phil-0 holds fork-0 and waits for fork-1" in none.message
    assert cl.check.deadlocks.strategy_feeds_everyone("hierarchy").ok
    unknown = cl.check.deadlocks.strategy_feeds_everyone("pray")
    assert not unknown.ok and unknown.message.startswith("'pray' is not a strategy.")
    wrong = cl.check.deadlocks.strategy_feeds_everyone("hierarchy", breaks="hold and wait")
    assert not wrong.ok
    assert "takes away circular wait, not hold and wait" in wrong.message
    right = cl.check.deadlocks.strategy_feeds_everyone("try_acquire", breaks="hold and wait")
    assert right.ok and "removes hold and wait and no preemption" in right.message
    assert cl.check.deadlocks.strategy_feeds_everyone("arbitrator", breaks="circular wait").ok
    with pytest.raises(ValueError, match=r"'breaks' must be one of 'circular wait'"):
        cl.check.deadlocks.strategy_feeds_everyone("hierarchy", breaks="mutual exclusion")


def _collect_join_first(process, queue, n_items):
    process.join()
    return [queue.get() for _ in range(n_items)]


def _collect_drain_first(process, queue, n_items):
    items = [queue.get() for _ in range(n_items)]
    process.join()
    return items


def _collect_timed_join_first(process, queue, n_items):
    process.join(timeout=0.1)  # returns after 0.1 s: safe, if slow
    items = [queue.get() for _ in range(n_items)]
    process.join()
    return items


def _collect_no_join(process, queue, n_items):
    return [queue.get() for _ in range(n_items)]


@pytest.mark.parametrize("start_method", cl.available_start_methods())
def test_collect_check(start_method):
    good = cl.check.deadlocks.collect_is_safe(_collect_drain_first, start_method=start_method)
    assert good.ok, good.message


def test_collect_check_hints():
    bad = cl.check.deadlocks.collect_is_safe(_collect_join_first)
    assert not bad.ok and bad.message.startswith("You called join() while the child still had")
    timed = cl.check.deadlocks.collect_is_safe(_collect_timed_join_first)
    assert timed.ok, timed.message
    no_join = cl.check.deadlocks.collect_is_safe(_collect_no_join)
    assert not no_join.ok and "never joined the process" in no_join.message
