"""Each primitive's broken and fixed demo: forced by design (barriers, events, timeouts)."""

from __future__ import annotations

import pytest

import concurrency_lab as cl


@pytest.mark.parametrize("primitive", cl.races.PRIMITIVES)
def test_fixed_demos_behave(primitive):
    d = cl.races.primitive_demo(primitive, fixed=True)
    assert d.ok, d.summary()
    assert d.run.spans
    assert d.summary().startswith(f"{primitive} (fixed, correct): ")


@pytest.mark.parametrize("primitive", cl.races.PRIMITIVES)
def test_broken_demos_go_wrong(primitive):
    # Forced by design, not left to the scheduler's luck: a 50 ms timeout (RLock); users who
    # stay until every user has asked (Semaphore); readers that do not wait for a 30 ms load
    # (Event); a consumer that starts once the producer is done (Condition, Queue); phase 1
    # lasting 20, 40 and 60 ms (Barrier).
    d = cl.races.primitive_demo(primitive)  # fixed=False is the default: the broken one
    assert not d.ok, d.summary()
    assert d.summary().startswith(f"{primitive} (broken, wrong): ")


def test_semaphore_counts_exactly():
    broken = cl.races.primitive_demo("Semaphore")
    fixed = cl.races.primitive_demo("Semaphore", fixed=True)
    assert (broken.most_inside, fixed.most_inside, fixed.permits) == (4, 2, 2)


def test_buffers_drop_exactly_what_does_not_fit():
    broken = cl.races.primitive_demo("Condition")
    assert (broken.dropped, len(broken.received), broken.most_held) == (17, 3, 3)
    for kind in ("Condition", "Queue"):
        fixed = cl.races.primitive_demo(kind, fixed=True)
        assert fixed.received == tuple(range(20)) and fixed.dropped == 0
        assert fixed.most_held <= fixed.capacity == 3


def test_event_and_buffer_demos_name_the_roles():
    d = cl.races.primitive_demo("Event", fixed=True)
    assert d.what_happened() == "both readers got the config."
    assert sorted(role for _, role in d.roles) == ["loader", "reader", "reader"]
    broken = cl.races.primitive_demo("Event")
    assert broken.what_happened() == "2 of 2 readers found no config (it was not loaded yet)."
    buf = cl.races.primitive_demo("Condition", fixed=True)
    roles = dict(buf.roles)
    assert sorted(roles.values()) == ["consumer", "producer"]
    producer = next(w for w, r in roles.items() if r == "producer")
    made = [s for s in buf.run.spans if s.label == "make item"]
    assert len(made) == 20 and {s.worker for s in made} == {producer}


def test_results_print_as_sentences():
    d = cl.races.primitive_demo("RLock")
    assert str(d) == (
        "RLock (broken, wrong): the thread waited for a Lock it held itself; without the 50 ms "
        "timeout it would wait forever."
    )
    assert repr(d).startswith("<RLockResult: RLock (broken, wrong)")


def test_primitive_demo_bad_name():
    with pytest.raises(ValueError, match="'primitive' must be one of 'RLock', 'Semaphore'"):
        cl.races.primitive_demo("Mutex")
