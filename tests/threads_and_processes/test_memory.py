"""memory_isolation(): threads share the parent's list; fork copies it; spawn starts empty."""

from __future__ import annotations

import pytest

import concurrency_lab as cl
from concurrency_lab.threads_and_processes import memory, memory_isolation
from concurrency_lab.threads_and_processes.memory import MemoryResult, MemoryRow

METHODS = cl.available_start_methods()


def test_threads_share_the_parents_list():
    res = memory_isolation(start_methods=(), n_workers=3)
    (row,) = res.rows
    assert (row.kind, row.start_method, row.parent_before) == ("thread", None, 1)
    assert sorted(row.seen_by_workers) == [2, 3, 4] and row.parent_after == 4 and row.shared
    assert memory.ITEMS == []  # the demo leaves the list as it found it


@pytest.mark.parametrize("method", METHODS)
def test_a_fork_child_sees_a_copy_and_a_fresh_child_an_empty_list(method):
    (_, row) = memory_isolation(start_methods=(method,), n_workers=2).rows
    assert (row.kind, row.start_method) == ("process", method)
    expected = 2 if method == "fork" else 1  # the parent's item + its own, or its own only
    assert row.seen_by_workers == (expected, expected)
    assert row.parent_after == row.parent_before == 1 and not row.shared
    assert memory.ITEMS == []


def test_the_sentences_are_computed_from_the_counts():
    rows = (
        MemoryRow("thread", None, 1, (3, 2), 3),
        MemoryRow("process", "fork", 1, (2, 2), 1),
        MemoryRow("process", "spawn", 1, (1, 1), 1),
        MemoryRow("process", "spawn", 1, (1, 5), 2),
    )
    assert MemoryResult(rows).summary().splitlines() == [
        "2 threads: they saw 2 and 3 items (one list, the parent's, shared by all); the "
        "parent's list now holds 3.",
        "2 processes (fork): each saw 2 items (a copy of the parent's list as it was, plus its "
        "own item); the parent's list still holds 1.",
        "2 processes (spawn): each saw 1 item (only its own item: its list started empty); the "
        "parent's list still holds 1.",
        "2 processes (spawn): they saw 1 and 5 items (an unexpected mix); the parent's list went "
        "from 1 to 2.",
    ]


def test_fork_is_labelled_unsafe_on_macos(monkeypatch):
    from concurrency_lab.core import machine

    monkeypatch.setattr(machine, "fork_is_unsafe", lambda: True)
    assert MemoryRow("process", "fork", 1, (2,), 1).label == "processes (fork (unsafe on macOS))"


def test_add_item_appends_and_counts():
    try:
        assert memory.add_item("a") == 1 and memory.add_item("b") == 2
    finally:
        memory.ITEMS.clear()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_workers": 0}, ValueError, r"'n_workers' must be a whole number between 1 and 8"),
        ({"n_workers": True}, TypeError, r"'n_workers' must be a whole number"),
        ({"start_methods": ("forky",)}, ValueError, "'start_method' must be one of"),
        ({"timeout_s": -1}, ValueError, "'timeout_s' must be a positive number of seconds"),
    ],
)
def test_bad_arguments_start_nothing(kwargs, error, message):
    with pytest.raises(error, match=message):
        memory_isolation(**kwargs)
