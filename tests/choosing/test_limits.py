"""The speed limits behind the heat map's noise marks (issue 13: guards on every cell)."""

from __future__ import annotations

import pytest

from concurrency_lab.choosing.limits import TOLERANCE, limit_reason, speed_limit

from .helpers import QUIET, fake_matrix


def limit(model, share, *, holds=True, n=8, k=4, cores=2, gil=True):
    return speed_limit(
        model,
        cpu_share=share,
        holds_gil=holds,
        n_tasks=n,
        n_workers=k,
        cores=cores,
        gil_enabled=gil,
    )


def test_asyncio_on_mixed_work_cannot_beat_serial_over_cpu_share_times_n_plus_one_wait():
    # The review's case: serial 0.42 s, half of it computing, 16 tasks: at most ~1.9x.
    assert limit("asyncio", 0.5, n=16, k=8) == pytest.approx(1 / (0.5 + 0.5 / 16))
    m = fake_matrix({"mixed": (0.42, 0.25, 0.15, 0.175)}, n_tasks=16, n_workers=8)
    assert m.speedup("mixed", "asyncio") == pytest.approx(2.4)
    assert m.is_noise("mixed", "asyncio")
    assert not m.is_noise("mixed", "threads") and not m.is_noise("mixed", "processes")
    assert m.noise_cells() == (("mixed", "asyncio"),)


def test_threads_under_the_gil_are_one_at_a_time_on_computing_but_not_on_c_code():
    assert limit("threads", 1.0, holds=True) == 1.0
    assert limit("threads", 1.0, holds=False) == 2.0  # C code that releases the GIL: 2 cores
    assert limit("threads", 1.0, holds=True, gil=False) == 2.0  # a free-threaded build
    assert limit("threads", 1.0, holds=None) == 2.0  # unknown work: never call a gain noise


def test_processes_are_capped_by_cores_and_by_waves():
    assert limit("processes", 1.0) == 2.0
    assert limit("processes", 1.0, cores=16, k=4) == 4.0  # 4 workers
    assert limit("processes", 0.01) == 4.0  # waiting: 8 tasks in 2 waves of 4
    assert limit("processes", 0.0) == 4.0
    assert limit("serial", 0.5) == 1.0


def test_every_cell_of_a_quiet_run_is_plausible_and_each_impossible_cell_is_caught():
    assert fake_matrix(QUIET).noise_cells() == ()
    bad = {
        "cpu": (1.0, 0.7, 0.52, 1.0),  # threads 1.4x under the GIL
        "gil_releasing": (1.0, 0.55, 0.3, 0.8),  # processes 3.3x on 2 cores; asyncio 1.25x
        "io": (1.0, 0.25, 0.2, 0.25),  # processes 5x with 4 workers
        "mixed": (0.42, 0.18, 0.15, 0.24),  # threads 2.3x: at most 1.78x
    }
    assert set(fake_matrix(bad).noise_cells()) == {
        ("cpu", "threads"),
        ("gil_releasing", "processes"),
        ("gil_releasing", "asyncio"),
        ("io", "processes"),
        ("mixed", "threads"),
    }


def test_the_tolerance_is_twenty_percent_above_the_limit():
    assert TOLERANCE == 1.2
    m = fake_matrix({"cpu": (1.0, 1.0 / 1.19, 0.52, 1.0 / 1.21)})
    assert not m.is_noise("cpu", "threads") and m.is_noise("cpu", "asyncio")


def test_reasons_name_what_limits_the_model():
    assert "one thread runs the computing" in limit_reason(
        "asyncio",
        cpu_share=0.5,
        holds_gil=True,
        n_tasks=8,
        n_workers=4,
        cores=2,
        gil_enabled=True,
    )
    assert "under the GIL" in limit_reason(
        "threads",
        cpu_share=1.0,
        holds_gil=True,
        n_tasks=8,
        n_workers=4,
        cores=2,
        gil_enabled=True,
    )
    assert (
        limit_reason(
            "processes",
            cpu_share=1.0,
            holds_gil=True,
            n_tasks=8,
            n_workers=4,
            cores=2,
            gil_enabled=True,
        )
        == "the computing cannot use more than 2 cores"
    )
    assert (
        limit_reason(
            "threads",
            cpu_share=0.01,
            holds_gil=True,
            n_tasks=8,
            n_workers=4,
            cores=2,
            gil_enabled=True,
        )
        == "4 workers run at most 4 of the 8 tasks at a time"
    )


def test_a_disturbed_serial_run_cannot_loosen_the_limit_of_rows_that_only_compute():
    """Under load the serial run's CPU seconds / wall seconds reads low; for cpu and
    gil_releasing the share is 1 by construction, so asyncio at 1.3x is still noise."""
    import concurrency_lab as cl

    m = cl.choosing.scenario_matrix(
        workloads=["gil_releasing", "io"],
        models=["asyncio"],
        n_workers=2,
        n_tasks=2,
        task_s=0.01,
        repeats=1,
        progress=False,
    )
    assert m.cpu_share[0] == 1.0
    assert m.limit("gil_releasing", "asyncio") == 1.0
