"""measure_startup(): plain Thread/Process start + join, in turns; forkserver's three cases."""

from __future__ import annotations

import functools
import time

import pytest

import concurrency_lab as cl
from concurrency_lab.core.load import Load
from concurrency_lab.threads_and_processes import StartupResult, measure_startup, startup
from concurrency_lab.threads_and_processes.startup import (
    FIRST_CHILD,
    NO_PRELOAD,
    THREADS_PER_ROUND,
    StartupRow,
)

METHODS = cl.available_start_methods()


def test_rows_samples_and_ratios():
    res = measure_startup(start_methods=METHODS[:1], repeats=2, fresh_forkserver_rows=False)
    assert [r.label for r in res.rows] == ["thread", METHODS[0]]
    assert len(res.row("thread").samples_s) == 2 * THREADS_PER_ROUND
    assert len(res.row(METHODS[0]).samples_s) == 2
    assert all(min(r.samples_s) > 0 for r in res.rows)
    assert res.ratio("thread") == 1.0
    assert res.row(METHODS[0]).best_s <= res.row(METHODS[0]).median_s
    with pytest.raises(KeyError, match="no row 'fiber'"):
        res.row("fiber")


def test_default_compares_the_methods_worth_comparing(monkeypatch):
    from concurrency_lab.core import machine

    monkeypatch.setattr(machine, "fork_is_unsafe", lambda: True)  # as on macOS
    res = measure_startup(repeats=1, fresh_forkserver_rows=False)
    labels = [r.label for r in res.rows]
    assert "fork" not in labels
    assert labels[1:] == list(machine.start_methods_to_compare())


@pytest.mark.skipif("forkserver" not in METHODS, reason="no forkserver here")
def test_forkserver_gets_a_first_child_and_an_unpreloaded_row_from_a_fresh_python():
    res = measure_startup(start_methods=("forkserver",), repeats=2)
    labels = [r.label for r in res.rows]
    assert labels == ["thread", "forkserver", FIRST_CHILD, NO_PRELOAD]
    assert len(res.row(FIRST_CHILD).samples_s) == 1 and len(res.row(NO_PRELOAD).samples_s) == 2
    assert "because it starts the server" in res.summary()


def test_a_failed_fresh_python_is_reported_not_hidden(monkeypatch):
    def broken(repeats, *, timeout_s):
        raise RuntimeError("a fresh Python exited with code 1 (ImportError: nope)")

    if "forkserver" not in METHODS:
        pytest.skip("no forkserver here")
    monkeypatch.setattr(startup, "fresh_forkserver", broken)
    res = measure_startup(start_methods=("forkserver",), repeats=1)
    assert [r.label for r in res.rows] == ["thread", "forkserver"]
    assert (
        " Not measured: forkserver in a fresh Python (a fresh Python exited with code 1 "
        "(ImportError: nope))." in res.summary()
    )


def test_summary_is_computed_from_the_fastest_samples():
    res = StartupResult(
        rows=(
            StartupRow("thread", "thread", (0.0002, 0.0001)),
            StartupRow("fork", "process", (0.004, 0.003)),
            StartupRow("spawn", "process", (0.09, 0.2)),
            StartupRow("forkserver", "process", (0.005,), preloaded=True),
            StartupRow(FIRST_CHILD, "process", (0.15,)),
            StartupRow(NO_PRELOAD, "process", (0.04, 0.03)),
        ),
        load=Load(wall_s=1.0, cores=2, others_cores=0.8),
    )
    assert res.summary() == (
        "Starting and joining one thread took 0.10 ms (the fastest of 2 tries). One process "
        "took 3.0 ms with fork (30 times a thread), 90 ms with spawn (900 times a thread) and "
        "5.0 ms with forkserver (50 times a thread). Forkserver's number is with its server "
        "already running and the lab's modules preloaded into it. In a fresh Python, the first "
        "forkserver child took 150 ms, because it starts the server; later ones took 30 ms "
        "without a preload. Other programs kept about 0.8 of your 2 cores busy meanwhile, so "
        "about 1.2 were free."
    )
    assert str(res) == res.summary()
    assert [r.shown for r in res.rows][-2:] == [
        "forkserver, first child\n(starts the server)",
        "forkserver, later child\n(no preload)",
    ]


@pytest.mark.skipif("fork" not in METHODS, reason="no fork here")
def test_a_process_that_does_not_finish_is_stopped(monkeypatch):
    monkeypatch.setattr(startup, "noop", functools.partial(time.sleep, 10))
    with pytest.raises(
        cl.WorkerTimeoutError, match=r"did not finish within 0\.3 s; it was stopped"
    ):
        measure_startup(start_methods=("fork",), repeats=1, timeout_s=0.3)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"repeats": 0},
            ValueError,
            r"'repeats' must be a whole number between 1 and 50 \(got 0\)",
        ),
        ({"repeats": 2.5}, TypeError, r"'repeats' must be a whole number between 1 and 50"),
        ({"start_methods": ("fork2",)}, ValueError, "'start_method' must be one of"),
        ({"fresh_forkserver_rows": "yes"}, TypeError, "'fresh_forkserver_rows' must be True or"),
        ({"timeout_s": 0}, ValueError, "'timeout_s' must be a positive number of seconds"),
    ],
)
def test_bad_arguments_start_nothing(kwargs, error, message):
    with pytest.raises(error, match=message):
        measure_startup(**kwargs)


@pytest.mark.parametrize(
    ("preloaded", "sentence", "shown"),
    [
        (True, "running and the lab's modules preloaded into it.", "forkserver\n(lab's preload)"),
        (
            False,
            "running, started by earlier code in this kernel without the lab's preload.",
            "forkserver\n(no preload)",
        ),
        (None, "Forkserver's number is with its server already running. ", "forkserver"),
    ],
)
def test_the_forkserver_row_says_whether_the_lab_preload_reached_the_server(
    preloaded, sentence, shown
):
    res = StartupResult(
        rows=(
            StartupRow("thread", "thread", (0.0001,)),
            StartupRow("forkserver", "process", (0.005,), preloaded=preloaded),
        )
    )
    assert sentence in res.summary() + " "
    assert res.rows[1].shown == shown
