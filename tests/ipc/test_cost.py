"""measure_ipc: its structure under every start method, its sentences from hand-made numbers,
the /dev/shm guard, and clean-up when something fails."""

from __future__ import annotations

import os

import pytest

import concurrency_lab as cl
from concurrency_lab.core.errors import WorkerError
from concurrency_lab.core.load import Load
from concurrency_lab.ipc import cost
from concurrency_lab.ipc.children import Children

METHODS = cl.available_start_methods()
MiB = 1 << 20


def _result(**changes):
    fields = {
        "methods": ("copy", "queue.Queue", "Pipe", "SharedMemory"),
        "sizes": (64, 4 * MiB),
        # seconds per message: copy, queue.Queue, Pipe, SharedMemory
        "seconds": ((1e-6, 1e-4), (2e-5, 2e-5), (3e-5, 2e-3), (2.5e-5, 4e-4)),
        "pickle_s": (2e-6, 5e-4),
        "start_method": "spawn",
        "samples": ((3, 3),) * 4,
    }
    fields.update(changes)
    return cost.IPCResult(**fields)


def _shm() -> set[str]:
    try:
        return {n for n in os.listdir("/dev/shm") if not n.startswith("sem.")}
    except FileNotFoundError:
        return set()


# --------------------------------------------------------------------------- the result


def test_lookups_from_known_numbers():
    r = _result()
    assert r.latency_us("Pipe", 64) == pytest.approx(30.0)
    assert r.gbps("Pipe", 4 * MiB) == pytest.approx(4 * MiB / 2e-3 / 1e9)
    assert r.ratio("SharedMemory", 4 * MiB) == pytest.approx(1e-4 / 4e-4)
    assert r.pickle_share("Pipe", 4 * MiB) == pytest.approx(0.25)
    assert r.fastest(64) == "SharedMemory"  # queue.Queue is quicker, but stays in one process
    assert r.fastest(64, between_processes=False) == "copy"
    assert r.copy_floor_us() == pytest.approx(1.0)


def test_summary_says_what_the_numbers_show():
    text = _result().summary()
    assert "the quickest at 64 B was SharedMemory: 25 µs for the message and the reply" in text
    assert "At 4 MiB, SharedMemory moved data fastest: 10.49 GB/s, 0.25 times" in text
    assert "Pickling took 25% of a Pipe message's time at 4 MiB; the rest went to" in text
    assert "The in-process copy of 64 B took 1.0 µs: at that size it measures one numpy" in text
    assert str(_result()) == text and repr(_result()).startswith("<IPCResult: Between")


def test_summary_calls_an_impossible_pickle_share_noise():
    noisy = _result(pickle_s=(2e-6, 3e-3))  # pickling "slower" than a whole Pipe message
    assert noisy.pickle_share("Pipe", 4 * MiB) > 1
    text = noisy.summary()
    assert "which cannot be: other programs disturbed the timing" in text
    assert "Pickling took" not in text


def test_summary_names_other_programs_load():
    busy = _result(load=Load(wall_s=1.0, cores=2, others_cores=0.8))
    assert busy.summary().endswith("so about 1.2 were free.")
    quiet = _result(load=Load(wall_s=1.0, cores=2, others_cores=0.0))
    assert "Other programs" not in quiet.summary()


def test_summary_without_a_method_between_processes():
    r = _result(methods=("copy", "queue.Queue"), seconds=((1e-6, 1e-4), (2e-5, 2e-5)))
    assert r.summary().startswith("The in-process copy of 64 B took 1.0 µs")
    with pytest.raises(ValueError, match="no method between processes was measured"):
        r.fastest(64)


def test_lookup_errors_name_what_was_measured():
    r = _result()
    with pytest.raises(ValueError, match=r"method 'Queue' was not measured \(measured: copy, "):
        r.time_s("Queue", 64)
    with pytest.raises(ValueError, match=r"size 65 was not measured \(measured: \(64, 4194304\)"):
        r.time_s("Pipe", 65)


def test_table_has_a_row_per_method_and_the_pickling():
    lines = _result().table().splitlines()
    assert lines[0].split()[:1] == ["method"] and "4 MiB" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == [
        "copy",
        "queue.Queue",
        "Pipe",
        "SharedMemory",
        "(pickling)",
    ]


def test_size_labels():
    assert [cost.size_label(n) for n in (1, 64, 1024, 1536, 4 * MiB, 1 << 30)] == [
        "1 B",
        "64 B",
        "1 KiB",
        "1.5 KiB",
        "4 MiB",
        "1 GiB",
    ]


# --------------------------------------------------------------------------- measuring


@pytest.mark.parametrize("method", METHODS)
def test_measure_ipc_structure(method):
    before = _shm()
    res = cl.ipc.measure_ipc(
        ["Pipe", "SimpleQueue", "Queue", "SharedMemory", "Manager", "queue.Queue"],
        [4096, 64],
        start_method=method,
        min_repeats=2,
        max_repeats=3,
        budget_s=0,
    )
    assert res.methods == (
        "copy",
        "Pipe",
        "SimpleQueue",
        "Queue",
        "SharedMemory",
        "Manager",
        "queue.Queue",
    )
    assert res.sizes == (64, 4096)
    assert res.start_method == method
    assert all(len(row) == 2 and all(t > 0 for t in row) for row in res.seconds)
    assert all(2 <= n <= 3 for row in res.samples for n in row)
    assert res.pickle_samples == (2, 2)  # timed like the messages: budget 0 -> min_repeats
    assert all(t > 0 for t in res.pickle_s)
    assert res.summary()
    assert _shm() - before == set()


def test_measure_ipc_defaults():
    res = cl.ipc.measure_ipc(["Pipe"], min_repeats=1, max_repeats=1, budget_s=0)
    assert res.methods == ("copy", "Pipe")
    assert res.sizes == cost.DEFAULT_SIZES
    assert res.start_method == cl.default_start_method()
    one = cl.ipc.measure_ipc("Pipe", 64, min_repeats=1, max_repeats=1, budget_s=0)
    assert (one.methods, one.sizes) == (("copy", "Pipe"), (64,))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"methods": ["Tube"]}, ValueError, "'methods' must be chosen from copy, queue.Queue, "),
        ({"methods": []}, ValueError, "'methods' is empty: give at least one"),
        ({"sizes": [0]}, ValueError, "'sizes' must be between 1 and 268435456 (got 0)."),
        ({"sizes": [1.5]}, TypeError, "'sizes' must be a whole number (got 1.5)."),
        ({"sizes": [True]}, TypeError, "'sizes' must be a whole number (got True)."),
        ({"sizes": "64"}, TypeError, "'sizes' must be a list of message sizes in bytes"),
        ({"sizes": []}, ValueError, "'sizes' is empty: give at least one"),
        ({"budget_s": -1}, ValueError, "'budget_s' must be a number of seconds between 0 and 10"),
        ({"min_repeats": 0}, ValueError, "'min_repeats' must be between 1 and 10000 (got 0)."),
        ({"timeout_s": 0}, ValueError, "'timeout_s' must be a positive number of seconds"),
        ({"start_method": "thread"}, ValueError, "'start_method' must be one of 'fork', "),
    ],
)
def test_measure_ipc_bad_arguments(kwargs, error, message):
    with pytest.raises(error) as info:
        cl.ipc.measure_ipc(**kwargs)
    assert str(info.value).startswith(message)


def test_shm_room_guard_explains_instead_of_crashing():
    cost.check_shm_room(4 * MiB, free=64 * MiB)
    cost.check_shm_room(64 * MiB, free=None)  # no /dev/shm to read (macOS, Windows): no limit
    with pytest.raises(ValueError) as info:
        cost.check_shm_room(64 * MiB, free=64 * MiB)  # Docker's default: not room for it all
    assert str(info.value) == (
        "A 64 MiB shared-memory segment does not fit: /dev/shm has only 64 MiB free here (a "
        "Docker container gets 64 MiB unless started with --shm-size). Writing past it would "
        "kill the kernel with SIGBUS, which no try/except can catch. Choose smaller sizes, or "
        "leave out 'SharedMemory'."
    )


def test_measure_ipc_checks_shm_room_before_starting_anything(monkeypatch):
    monkeypatch.setattr(cost, "shm_free_bytes", lambda: 16 * MiB)
    started = []
    monkeypatch.setattr(Children, "start", lambda self, *a: started.append(a))
    with pytest.raises(ValueError, match="A 16 MiB shared-memory segment does not fit"):
        cl.ipc.measure_ipc(["SharedMemory"], [16 * MiB])
    assert started == []
    # Without SharedMemory, nothing goes to /dev/shm: no check.
    monkeypatch.undo()
    monkeypatch.setattr(cost, "shm_free_bytes", lambda: 0)
    res = cl.ipc.measure_ipc(["Pipe"], [1024], min_repeats=1, max_repeats=1, budget_s=0)
    assert res.methods == ("copy", "Pipe")


# --------------------------------------------------------------------------- clean-up


def test_measure_freed_on_keyboard_interrupt(monkeypatch):
    before = _shm()
    calls = []

    def interrupted(send, n, **kwargs):
        calls.append(n)
        raise KeyboardInterrupt

    monkeypatch.setattr(cost, "_time_messages", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cl.ipc.measure_ipc(["SharedMemory", "Manager", "Queue", "queue.Queue"], [64])
    assert calls == [64]
    assert _shm() - before == set()


@pytest.mark.parametrize("failing", ["echo-SharedMemory", "echo-Manager", "echo-Queue"])
def test_measure_freed_when_a_child_cannot_start(monkeypatch, failing):
    before = _shm()
    original = Children.start

    def start(self, name, *args):
        if name == failing:
            raise OSError("injected: cannot start a process")
        return original(self, name, *args)

    monkeypatch.setattr(Children, "start", start)
    with pytest.raises(OSError, match="injected: cannot start a process"):
        cl.ipc.measure_ipc(["Pipe", "SharedMemory", "Manager", "Queue"], [64])
    assert _shm() - before == set()


@pytest.mark.skipif("fork" not in METHODS, reason="patching a worker reaches only forked children")
def test_measure_freed_when_an_echo_child_fails(monkeypatch):
    before = _shm()

    def broken_echo(conn, name):
        raise RuntimeError("injected failure in the echo child")

    monkeypatch.setattr(cost, "echo_shm", broken_echo)  # cost looks it up at call time
    with pytest.raises(WorkerError, match="injected failure in the echo child"):
        cl.ipc.measure_ipc(["Pipe", "SharedMemory"], [64], start_method="fork")
    assert _shm() - before == set()


def test_a_near_tie_is_called_a_tie_not_a_winner():
    # Pipe 26 µs and SharedMemory 25 µs at 64 B: closer than repeats differ (TIE = 15 %).
    r = _result(seconds=((1e-6, 1e-4), (2e-5, 2e-5), (2.6e-5, 2e-3), (2.5e-5, 4e-4)))
    assert r.leaders(64) == ["SharedMemory", "Pipe"]
    assert r.leaders(4 * MiB) == ["SharedMemory"]
    text = r.summary()
    assert "SharedMemory and Pipe were about as quick at 64 B (25 to 26 µs, closer than the" in text
    assert "the quickest" not in text
    r3 = _result(seconds=((1e-6, 1e-4), (2e-5, 2e-5), (2.6e-5, 4.2e-4), (2.5e-5, 4e-4)))
    assert "At 4 MiB, SharedMemory and Pipe moved data about as fast; the best, SharedMemory:" in (
        r3.summary()
    )
