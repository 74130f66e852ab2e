"""Lost updates (forced deterministically), why_rare's sentence, and the bytecode labels."""

from __future__ import annotations

import sys

import pytest

import concurrency_lab as cl
from concurrency_lab.core import runners as core_runners
from concurrency_lab.races import counters, disassembly

from .forced import ForcedSplitCounter

# --------------------------------------------------------------------------- lost updates


def test_locked_counter_loses_nothing():
    r = cl.races.lost_updates(how="locked", n_increments=20_000, n_runs=3)
    assert r.finals == (40_000, 40_000, 40_000)
    assert r.total_lost == 0 and r.lost_fraction == 0 and r.total_splits == 0
    assert r.summary() == (
        "with lock: counter.value += 1: 2 threads x 20,000 increments, 3 runs at a 0.1 ms "
        "switch interval: no run lost an update."
    )


def test_a_split_read_add_write_loses_updates_every_run(monkeypatch):
    # Deterministic: the first writer pauses between its read and its write until the other
    # thread has written (see forced.py). Its write then puts back an old count.
    monkeypatch.setattr(counters, "SharedCounter", ForcedSplitCounter)
    r = cl.races.lost_updates(how="property", n_increments=1_000, n_runs=3)
    assert r.runs_with_loss == 3
    assert all(s >= 1 for s in r.splits)
    assert all(0 < x < r.expected for x in r.lost)
    assert f"3 of 3 runs lost updates, {r.total_lost:,} of 6,000" in r.summary()
    assert f"a thread switch split {r.total_splits:,} read-add-writes" in r.summary()


def test_the_same_forced_switch_under_the_lock_loses_nothing(monkeypatch):
    # The paused writer holds the lock: the other thread cannot write until it is released.
    monkeypatch.setattr(counters, "SharedCounter", ForcedSplitCounter)
    r = cl.races.lost_updates(how="locked", n_increments=1_000, n_runs=2)
    assert r.total_lost == 0 and r.total_splits == 0


def test_plain_attribute_counts_no_splits():
    r = cl.races.lost_updates(how="plain", n_increments=1_000, n_runs=1)
    assert r.splits is None and r.total_splits is None
    assert "split" not in r.summary()


def test_shared_counter_counts_an_old_value_written_back():
    c = counters.SharedCounter()
    c.value += 1
    c.value += 1
    c.value = 1  # another thread's view: it read 0 before the two increments
    assert (c.value, c.splits) == (1, 1)


def test_switch_interval_is_restored_even_on_error(monkeypatch):
    old = sys.getswitchinterval()
    r = cl.races.lost_updates(how="locked", n_increments=10, n_runs=1, switch_interval_s=None)
    assert r.switch_interval_s == old
    r = cl.races.lost_updates(how="locked", n_increments=10, n_runs=1, switch_interval_s=0.002)
    assert r.switch_interval_s == pytest.approx(0.002) and sys.getswitchinterval() == old

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(core_runners, "start_join", boom)
    with pytest.raises(RuntimeError, match="boom"):
        cl.races.lost_updates(n_runs=1)
    assert sys.getswitchinterval() == old


def test_lost_updates_bad_arguments():
    with pytest.raises(
        ValueError, match=r"'how' must be one of 'plain', 'property', 'locked' \(got 'x'\)"
    ):
        cl.races.lost_updates(how="x")
    with pytest.raises(ValueError, match=r"'n_runs' must be a whole number between 1 and 100"):
        cl.races.lost_updates(n_runs=0)
    with pytest.raises(TypeError, match=r"'n_workers' must be a whole number"):
        cl.races.lost_updates(n_workers=2.5)
    with pytest.raises(ValueError, match=r"'switch_interval_s' must be a number of seconds > 0"):
        cl.races.lost_updates(switch_interval_s=0)


# --------------------------------------------------------------------------- why rare


CODE = {
    "plain": "counter.plain += 1",
    "property": "counter.value += 1",
    "locked": "with lock: counter.value += 1",
}


def _result(how, finals, splits, *, gil=True, n=100_000):
    return counters.LostUpdatesResult(
        how=how,
        code=CODE[how],
        n_workers=2,
        n_increments=n,
        finals=finals,
        splits=splits,
        elapsed_s=0.1,
        python="3.12",
        switch_interval_s=1e-4,
        gil=gil,
    )


def test_why_rare_connects_schedules_and_runs():
    lost = cl.races.interleavings("lost update")
    racing = _result("property", (150_000, 200_000), (4, 0))
    plain = _result("plain", (200_000, 200_000), None)
    text = cl.races.why_rare(lost, [plain, racing]).summary()
    assert text.startswith(
        "Of the 20 possible schedules of the 'lost update' program, 18 (90%) go wrong. Yet in "
        "your 2 runs of counter.value += 1 (400,000 read-add-writes), a thread switch split a "
        "read from its write only 4 times (1 in 100,000): with the GIL"
    )
    assert "50,000 updates (12%) in all." in text
    assert text.endswith(
        "counter.plain += 1 lost none: on this interpreter no thread switch can fall "
        "between its read and its write, but the race is still in the code (a "
        "free-threaded Python loses updates there too)."
    )


def test_why_rare_when_nothing_was_split_and_without_the_gil():
    lost = cl.races.interleavings("lost update")
    none = cl.races.why_rare(lost, _result("property", (200_000,), (0,))).summary()
    assert "not one read-add-write was split by a thread switch. Rare is not never" in none
    no_gil = _result("property", (150_000,), (3,), gil=False)
    plain = _result("plain", (190_000,), None, gil=False)
    text = cl.races.why_rare(lost, [no_gil, plain]).summary()
    assert "another thread's write fell between a read and its write only 3 times" in text
    assert "even with threads running at the same time" in text
    assert "counter.plain += 1 lost 10,000 updates too" in text


def test_an_impossible_count_is_not_reported_as_a_measurement():
    r = _result("property", (200_001,), (0,))
    assert r.summary().endswith(
        "a run counted 200,001, more than the 200,000 the threads added, which no order of "
        "their steps can give: do not trust it."
    )


def test_why_rare_needs_the_property_run():
    lost = cl.races.interleavings("lost update")
    with pytest.raises(TypeError, match=r"lost_updates\(how='property'\)"):
        cl.races.why_rare(lost, _result("plain", (1,), None))
    with pytest.raises(TypeError, match=r"'schedules' must be the result of"):
        cl.races.why_rare("lost update", _result("property", (1,), (0,)))


# --------------------------------------------------------------------------- bytecode


def test_bytecode_of_increment_is_load_compute_store():
    b = cl.races.bytecode("counter += 1")
    assert b.steps == ("load", "compute", "store")
    ops = [op for op, _, _ in b.instructions]
    assert ops[0] == "LOAD_GLOBAL" and ops[-1] == "STORE_GLOBAL"
    assert "counter += 1" in b.summary()
    assert b._repr_markdown_().startswith("```text\nbytecode of 'counter += 1'")


def test_bytecode_of_append_is_one_call():
    assert cl.races.bytecode("items.append(x)").steps[-1] == "call"
    assert "store" not in cl.races.bytecode("items.append(x)").steps


def test_python_314_small_int_is_a_constant_not_a_read():
    # 3.14 compiles `counter += 1` with LOAD_SMALL_INT (not installed here: a made-up list).
    fake_314 = [
        ("RESUME", "", 0),
        ("LOAD_GLOBAL", "counter", "counter"),
        ("LOAD_SMALL_INT", "1", 1),
        ("BINARY_OP", "+=", 13),
        ("STORE_GLOBAL", "counter", "counter"),
        ("LOAD_CONST", "None", None),
        ("RETURN_VALUE", "", None),
    ]
    labelled = disassembly.label_instructions(fake_314)
    assert [s for _, _, s in labelled if s] == ["load", "compute", "store"]
    assert ("LOAD_SMALL_INT", "1", "") in labelled


def test_bytecode_rejects_bad_source():
    with pytest.raises(ValueError, match=r"'source' must be valid Python \(got 'x \+=': "):
        cl.races.bytecode("x +=")
    with pytest.raises(TypeError, match="'source' must be a line of Python as a string"):
        cl.races.bytecode(3)


# --------------------------------------------------------------------------- fidelity


def test_fidelity_judges_the_headline_demos(monkeypatch):
    from concurrency_lab.races import fidelity

    verdict, text = fidelity.racing_counter(n=1_000)
    assert verdict in ("right", "flagged") and text.startswith("counter.value = ")
    monkeypatch.setattr(counters, "SharedCounter", ForcedSplitCounter)
    monkeypatch.setattr(
        fidelity, "lost_updates", lambda how: cl.races.lost_updates(how=how, n_increments=2_000)
    )
    verdict, text = fidelity.measured_lines()
    assert verdict == "right", text
    assert text.startswith("Of the 20 possible schedules")


def test_fidelity_calls_a_lock_that_lost_updates_wrong(monkeypatch):
    from concurrency_lab.races import fidelity

    fake = {
        "plain": _result("plain", (200_000,), None),
        "property": _result("property", (150_000,), (2,)),
        "locked": _result("locked", (199_999,), (1,)),
    }
    monkeypatch.setattr(fidelity, "lost_updates", lambda how: fake[how])
    assert fidelity.measured_lines()[0] == "wrong"
    fake["locked"] = _result("locked", (200_000,), (0,))
    fake["property"] = _result("property", (200_000,), (0,))
    assert fidelity.measured_lines()[0] == "flagged"
