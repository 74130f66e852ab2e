"""The self-checks of lesson 06 on right answers, the notebook's starters and common mistakes.

Every answer here is plain ``multiprocessing`` code, as a learner would write it. Each check
must say what is wrong (the concept), keep the code for the last hint, and leave nothing
running."""

from __future__ import annotations

import multiprocessing
from multiprocessing import shared_memory

import pytest

import concurrency_lab as cl
from concurrency_lab.core.feedback import hint
from concurrency_lab.ipc import checks

# --------------------------------------------------------------------------- Exercise 1


def _ask_good(ctx, server, numbers, timeout_s=5):
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=server, args=(child_end,))
    child.start()
    child_end.close()
    answers = []
    try:
        for x in numbers:
            parent_end.send(x)
            if not parent_end.poll(timeout_s):
                raise TimeoutError(f"no answer within {timeout_s} s")
            answers.append(parent_end.recv())
        parent_end.send(None)
    finally:
        parent_end.close()
        child.join(timeout=timeout_s)
        if child.is_alive():
            child.terminate()
            child.join(timeout=5)
    return answers


def _ask_starter(ctx, server, numbers, timeout_s=5):
    # The notebook's starter: no poll, no terminate.
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=server, args=(child_end,))
    child.start()
    child_end.close()
    answers = []
    try:
        for x in numbers:
            parent_end.send(x)
            answers.append(parent_end.recv())
        parent_end.send(None)
    finally:
        parent_end.close()
        child.join(timeout=timeout_s)
    return answers


def _ask_no_terminate(ctx, server, numbers, timeout_s=5):
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=server, args=(child_end,))
    child.start()
    child_end.close()
    answers = []
    try:
        for x in numbers:
            parent_end.send(x)
            if not parent_end.poll(timeout_s):
                raise TimeoutError("no answer")
            answers.append(parent_end.recv())
        parent_end.send(None)
    finally:
        parent_end.close()
        child.join(timeout=timeout_s)
    return answers


def _ask_gives_up_quietly(ctx, server, numbers, timeout_s=5):
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=server, args=(child_end,))
    child.start()
    child_end.close()
    answers = []
    for x in numbers:
        parent_end.send(x)
        if not parent_end.poll(timeout_s):
            break
        answers.append(parent_end.recv())
    parent_end.close()
    child.join(timeout_s)
    if child.is_alive():
        child.terminate()
        child.join(5)
    return answers


def _ask_ignores_ctx(ctx, server, numbers, timeout_s=5):
    return [x * x for x in numbers]


def _ask_never_stops_child(ctx, server, numbers, timeout_s=5):
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=server, args=(child_end,))
    child.start()
    answers = []
    for x in numbers:
        parent_end.send(x)
        answers.append(parent_end.recv())
    return answers  # no None, no close, no join: the child waits for more


def test_pipe_exchange_passes_a_right_answer():
    fb = cl.check.ipc.pipe_exchange(_ask_good)
    assert fb.ok, fb.message
    assert fb.exercise == "ipc.pipe_exchange"


def test_pipe_exchange_starter_is_told_about_recv_without_timeout():
    fb = cl.check.ipc.pipe_exchange(_ask_starter, hang_s=4)
    assert not fb.ok
    assert "recv() has no timeout of its own, so it waits forever" in fb.message
    assert "poll" not in fb.message  # the concept first; the method comes in the hints
    first = hint("ipc.pipe_exchange")
    assert "Connection" in first.text and "poll" not in first.text
    assert "parent_end.poll(timeout_s)" in hint().text
    assert "```python" in hint().text  # the last hint is the code


def test_pipe_exchange_wants_the_silent_child_stopped():
    fb = cl.check.ipc.pipe_exchange(_ask_no_terminate)
    assert not fb.ok
    assert "join(timeout) only waits; it stops nothing" in fb.message


def test_pipe_exchange_wants_a_timeout_error():
    fb = cl.check.ipc.pipe_exchange(_ask_gives_up_quietly)
    assert not fb.ok
    assert "returned [] instead of raising TimeoutError" in fb.message


def test_pipe_exchange_wants_the_context_it_gives():
    fb = cl.check.ipc.pipe_exchange(_ask_ignores_ctx)
    assert not fb.ok
    assert "did not use the context it was given" in fb.message


def test_pipe_exchange_wants_no_child_left_running():
    fb = cl.check.ipc.pipe_exchange(_ask_never_stops_child)
    assert not fb.ok
    assert "the child was still running when your function returned" in fb.message


def test_pipe_exchange_not_a_function():
    fb = cl.check.ipc.pipe_exchange(
        _ask_good(multiprocessing.get_context(), cl.ipc.square_server, [2])
    )
    assert not fb.ok and "Pass your function itself" in fb.message


# --------------------------------------------------------------------------- Exercise 2


def _fill(values):
    shm = shared_memory.SharedMemory(create=True, size=8 * len(values))
    view = shm.buf.cast("d")
    for i, v in enumerate(values):
        view[i] = v
    view.release()
    return shm


def _total_good(values, *, fail=False):
    shm = _fill(values)
    try:
        return cl.ipc.shm_child_sum(shm.name, len(values), fail=fail)
    finally:
        shm.close()
        shm.unlink()


def _total_starter(values, *, fail=False):
    # The notebook's starter: frees the segment only when nothing goes wrong.
    shm = _fill(values)
    total = cl.ipc.shm_child_sum(shm.name, len(values), fail=fail)
    shm.close()
    shm.unlink()
    return total


def _total_close_only(values, *, fail=False):
    shm = _fill(values)
    try:
        return cl.ipc.shm_child_sum(shm.name, len(values), fail=fail)
    finally:
        shm.close()  # leaks on Linux and macOS; vanishes on Windows, by luck


def _total_swallows(values, *, fail=False):
    shm = _fill(values)
    try:
        return cl.ipc.shm_child_sum(shm.name, len(values), fail=fail)
    except Exception:
        return None
    finally:
        shm.close()
        shm.unlink()


def _total_view_alive(values, *, fail=False):
    shm = shared_memory.SharedMemory(create=True, size=8 * len(values))
    view = shm.buf.cast("d")
    for i, v in enumerate(values):
        view[i] = v
    try:
        return cl.ipc.shm_child_sum(shm.name, len(values), fail=fail)
    finally:
        try:
            shm.close()  # BufferError: the view still exports the buffer
        finally:
            view.release()
            shm.close()
            shm.unlink()


def test_shared_memory_freed_passes_a_right_answer():
    fb = cl.check.ipc.shared_memory_freed(_total_good)
    assert fb.ok, fb.message


def test_shared_memory_freed_starter_is_told_about_finally():
    fb = cl.check.ipc.shared_memory_freed(_total_starter)  # the check frees the leak itself
    assert not fb.ok
    assert fb.message.startswith("When the child failed, segment ")
    assert "finally" not in fb.message  # the concept is in the hints
    texts = [hint("ipc.shared_memory_freed").text for _ in range(3)]
    assert "whether or not an exception happened" in texts[0]
    assert "finally:" in texts[1] and "```python" in texts[2]


@pytest.mark.parametrize(
    ("platform", "where"),
    [
        ("linux", "a file in /dev/shm"),
        ("darwin", "in memory (POSIX shared memory) until someone unlinks it"),
        ("win32", "on Windows it goes away with its last handle, but the same code leaks it"),
    ],
)
def test_close_without_unlink_fails_on_every_platform(monkeypatch, platform, where):
    # On Windows a closed segment is gone anyway, so the check looks for the unlink() call
    # itself (a spy), and names /dev/shm only where it exists.
    monkeypatch.setattr(checks, "current_platform", lambda: platform)
    fb = cl.check.ipc.shared_memory_freed(_total_close_only)
    assert not fb.ok
    assert "was never unlinked: it stays " + where in fb.message
    assert ("/dev/shm" in fb.message) == (platform == "linux")


def test_shared_memory_freed_wants_the_error_passed_on():
    fb = cl.check.ipc.shared_memory_freed(_total_swallows)
    assert not fb.ok and "returned normally" in fb.message


def test_shared_memory_freed_explains_a_view_still_alive():
    fb = cl.check.ipc.shared_memory_freed(_total_view_alive)
    assert not fb.ok and "a view of the segment was still alive" in fb.message


def test_the_spy_is_removed_afterwards():
    init, unlink = shared_memory.SharedMemory.__init__, shared_memory.SharedMemory.unlink
    cl.check.ipc.shared_memory_freed(_total_good)
    assert shared_memory.SharedMemory.__init__ is init
    assert shared_memory.SharedMemory.unlink is unlink


# --------------------------------------------------------------------------- Exercise 3


def _start(numbers, n_workers):
    ctx = multiprocessing.get_context()
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = [
        ctx.Process(target=cl.ipc.square_worker, args=(tasks, results)) for _ in range(n_workers)
    ]
    for w in workers:
        w.start()
    for x in numbers:
        tasks.put(x)
    return tasks, results, workers


def _squares_good(numbers, n_workers):
    tasks, results, workers = _start(numbers, n_workers)
    for _ in workers:
        tasks.put(None)
    pairs = [results.get(timeout=10) for _ in numbers]
    for w in workers:
        w.join(timeout=10)
    return sorted(sq for _, sq in pairs)


def _squares_starter(numbers, n_workers):
    _, _, workers = _start(numbers, n_workers)
    for w in workers:
        w.join(timeout=0.5)
    return []


def _squares_join_first(numbers, n_workers):
    tasks, results, workers = _start(numbers, n_workers)
    for _ in workers:
        tasks.put(None)
    for w in workers:
        w.join(timeout=0.3)  # the mistake: join before reading
    pairs = [results.get(timeout=10) for _ in numbers]
    for w in workers:
        w.join(timeout=10)
    return sorted(sq for _, sq in pairs)


def test_queue_workers_passes_a_right_answer():
    fb = cl.check.ipc.queue_workers(_squares_good)
    assert fb.ok, fb.message


def test_queue_workers_starter():
    fb = cl.check.ipc.queue_workers(_squares_starter)
    assert not fb.ok and "Expected the 20 squares" in fb.message
    assert "<an int of" not in fb.message  # a wrong answer never prints a huge number


def test_queue_workers_catches_join_before_drain():
    fb = cl.check.ipc.queue_workers(_squares_join_first)
    assert not fb.ok
    assert "join(timeout) gave up on" in fb.message


def test_queue_workers_numbers_or_pairs_back():
    back = cl.check.ipc.queue_workers(lambda numbers, n: sorted(numbers))
    assert not back.ok and "You returned the numbers themselves" in back.message
    pairs = cl.check.ipc.queue_workers(lambda numbers, n: [(x, x * x) for x in sorted(numbers)])
    assert not pairs.ok and "Expected the 20 squares" in pairs.message


def test_the_big_numbers_really_overflow_a_pipe():
    # A result pair of a big number pickles to more than a Linux pipe holds (64 KiB), so a
    # worker that squared one cannot end before its results are read.
    import pickle

    assert len(pickle.dumps((checks.BIG + 1, (checks.BIG + 1) ** 2))) > 64 * 1024
    assert len(pickle.dumps(list(checks.NUMBERS))) < 64 * 1024  # the tasks still fit
