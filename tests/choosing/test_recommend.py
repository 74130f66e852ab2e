"""The decision guide's rules, on matrices built from numbers (no timing involved)."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.choosing.advice import recommend

from .helpers import QUIET, fake_matrix


def test_a_quiet_run_gives_the_true_answer_for_every_row():
    m = fake_matrix(QUIET)
    picks = {w: recommend(m, workload=w) for w in m.workloads}
    assert {w: r.model for w, r in picks.items()} == {
        "cpu": "processes",
        "gil_releasing": "threads",
        "io": "threads",
        "mixed": "processes",
    }
    assert not any(r.declined for r in picks.values())
    assert all(r.verdict == "recommended" for r in picks.values())


def test_recommendations_print_prose_not_reprs():
    r = recommend(fake_matrix(QUIET), workload="cpu")
    assert str(r) == r.reasoning == r.summary()
    assert r.reasoning.startswith("Measured here: 8 tasks of pure-Python computing")
    assert "Choose processes (1.9x)" in r.reasoning
    assert "Why: pure-Python code holds the GIL the whole time" in r.reasoning
    assert repr(r).startswith("<RecommendationResult: Measured here")
    assert "ranking=" not in repr(r) and "RecommendationResult(" not in repr(r)


def test_mixed_work_is_never_recommended_from_an_impossible_asyncio_number():
    """The review's run: asyncio 2.4x on half-CPU work, above its limit of about 1.9x."""
    m = fake_matrix({"mixed": (0.42, 0.25, 0.26, 0.175)}, n_tasks=16, n_workers=8)
    r = recommend(m, workload="mixed")
    assert r.noise == ("asyncio",)
    assert r.model != "asyncio"
    assert "Asyncio's 2.4x is more than this work allows (at most 1.9x" in r.reasoning
    assert "a disturbed run, left out" in r.reasoning


def test_a_noise_cell_of_threads_reads_as_plural():
    m = fake_matrix({"cpu": (1.0, 0.6, 0.52, 1.0)})
    r = recommend(m, workload="cpu")
    assert r.noise == ("threads",)
    assert "Threads' 1.7x is more than this work allows (at most 1.0x" in r.reasoning


def test_mixed_advice_teaches_a_process_pool_for_the_computing():
    r = recommend(fake_matrix(QUIET), workload="mixed")
    assert r.model == "processes"
    assert "loop.run_in_executor(pool, compute, data)" in r.reasoning
    assert "asyncio.to_thread(call, arg)" in r.reasoning
    assert "processes overlap the waits too and run the computing in parallel" in r.reasoning
    assert "Choose asyncio" not in r.reasoning


def test_a_busy_machine_makes_the_guide_decline_when_a_stronger_model_lost():
    # Another program kept a core: processes only 1.1x on pure-Python work.
    m = fake_matrix({"cpu": (1.0, 1.0, 0.9, 1.0)}, others={"cpu": 0.9})
    r = recommend(m, workload="cpu")
    assert r.declined and r.verdict == "declined"
    assert "No recommendation from this run: other programs kept about 0.9 of your 2 cores" in (
        r.reasoning
    )
    assert "processes (up to 2.0x possible, measured 1.1x)" in r.reasoning
    assert "run the matrix again when the machine is quieter" in r.reasoning
    assert "Choose" not in r.reasoning


def test_a_busy_machine_does_not_undo_a_gain_that_was_measured_anyway():
    m = fake_matrix({"cpu": (1.0, 1.0, 0.62, 1.0)}, others={"cpu": 0.6})
    r = recommend(m, workload="cpu")
    assert not r.declined and r.model == "processes"


def test_busy_mixed_row_declines_rather_than_pick_threads():
    m = fake_matrix({"mixed": (0.42, 0.245, 0.24, 0.25)}, others={"mixed": 1.0})
    r = recommend(m, workload="mixed")
    assert r.declined and r.model == "threads"


def test_noise_alone_is_reason_enough_to_decline_when_the_choice_is_weaker():
    # asyncio 1.3x on hashing is impossible: the run was disturbed, and threads lost.
    m = fake_matrix({"gil_releasing": (1.0, 0.95, 0.97, 0.77)})
    r = recommend(m, workload="gil_releasing")
    assert r.noise == ("asyncio",) and r.declined
    assert "a cell came out faster than possible" in r.reasoning


def test_quiet_but_flat_row_stays_serial_and_says_so():
    m = fake_matrix({"cpu": (1.0, 0.95, 0.9, 1.0)})
    r = recommend(m, workload="cpu")
    assert r.model == "serial" and not r.declined
    assert "No model ran even 1.2x faster than serial (best: processes 1.11x)" in r.reasoning


def test_io_prefers_threads_when_as_fast_and_says_when_asyncio_wins():
    r = recommend(fake_matrix(QUIET), workload="io")
    assert r.model == "threads"
    assert "Within 10% of the best, and so not worth their extra cost here: asyncio 4.0x" in (
        r.reasoning
    )
    assert "cl.choosing.many_waits" in r.reasoning
    assert "exceeds the 2 cores" in r.reasoning


def test_without_a_gil_threads_are_trusted_on_pure_python_work():
    m = fake_matrix({"cpu": (1.0, 0.55, 0.52, 1.0)}, gil=False)
    r = recommend(m, workload="cpu")
    assert r.model == "threads" and r.noise == ()
    assert "runs without a GIL" in r.reasoning


def test_process_start_up_is_reported_apart_from_the_numbers():
    r = recommend(fake_matrix(QUIET, startup=0.45), workload="cpu")
    assert "The process pool was started before the timing (0.45 s, fork)" in r.reasoning


def test_recommend_rejects_bad_input():
    m = fake_matrix(QUIET)
    with pytest.raises(ValueError, match=r"'workload' must be one of 'cpu', .* \(got 'gpu'\)"):
        recommend(m, workload="gpu")
    with pytest.raises(TypeError, match=r"'matrix' must be the result of cl.choosing"):
        recommend({"cpu": 1}, workload="cpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"'tie' must be a number > 0 and <= 1 \(got 2\)"):
        recommend(m, workload="cpu", tie=2)
    with pytest.raises(ValueError, match=r"'min_gain' must be a number >= 1 \(got 0.5\)"):
        recommend(m, workload="cpu", min_gain=0.5)


# --------------------------------------------------------------------------- the guide


def test_the_guide_is_data_with_a_pattern_for_every_kind_of_work():
    guide = cl.choosing.decision_guide()
    works = [r.work for r in guide.rows]
    assert len(works) == 7 and works[0].startswith("Pure-Python computing")
    assert all(r.why and r.pattern and r.use for r in guide.rows)
    assert not any(r.measured for r in guide.rows)
    by_row = {r.workload: r for r in guide.rows if r.workload}
    assert set(by_row) == {"cpu", "gil_releasing", "io", "mixed"}
    assert "ProcessPoolExecutor" in by_row["cpu"].pattern
    assert "run_in_executor" in by_row["mixed"].pattern
    asyncio_row = next(r for r in guide.rows if r.use == "asyncio")
    assert "TaskGroup" in asyncio_row.pattern and "asyncio.timeout" in asyncio_row.pattern
    assert "client.map" in guide.rows[-1].pattern


def test_the_guide_with_a_matrix_says_what_this_machine_showed():
    guide = cl.choosing.decision_guide(fake_matrix(QUIET))
    measured = {r.workload: r.measured for r in guide.rows if r.workload}
    assert measured["cpu"].startswith("processes 1.9x") and measured["cpu"].endswith(
        "as the guide says."
    )
    assert "2 usable cores" in guide.measured_on
    text = str(guide)
    assert "Measured here: processes 1.9x" in text
    md = guide.to_markdown()
    assert md.startswith("## Which model for which work") and "```python" in md
    assert guide._repr_markdown_() == md


def test_the_guide_marks_noise_and_declines_honestly():
    m = fake_matrix(
        {"cpu": (1.0, 1.0, 0.9, 1.0), **{k: v for k, v in QUIET.items() if k != "cpu"}},
        others={"cpu": 0.9},
    )
    measured = {r.workload: r.measured for r in cl.choosing.decision_guide(m).rows if r.workload}
    assert measured["cpu"] == (
        "no clear answer from this run (processes 1.1x, threads 1.0x, asyncio 1.0x; other "
        "programs kept about 0.9 of 2 cores busy): see recommend(matrix, workload='cpu') for why."
    )


def test_the_guide_on_a_free_threaded_build_offers_threads_for_computing():
    guide = cl.choosing.decision_guide(fake_matrix(QUIET, gil=False))
    assert guide.rows[0].use.startswith("threads on a free-threaded Python")


def test_the_guide_rejects_something_else():
    with pytest.raises(TypeError, match="'matrix' must be the result of"):
        cl.choosing.decision_guide("cpu")  # type: ignore[arg-type]


def test_the_guide_marks_a_noise_cell_as_noise():
    m = fake_matrix({"mixed": (0.42, 0.25, 0.15, 0.175)})
    (row,) = [r for r in cl.choosing.decision_guide(m).rows if r.workload == "mixed"]
    assert row.measured.startswith("processes 2.8x (also: asyncio 2.4x (noise), threads 1.7x)")
