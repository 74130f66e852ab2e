"""Lesson 07's self-checks: what they accept, what they say, and their tiered hints."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf

import concurrency_lab as cl
from concurrency_lab.check import hint

from .helpers import fake_matrix

# --------------------------------------------------------------------------- Exercise 2


def _tiny(serial, threads, processes):
    return fake_matrix(
        {"spin": (serial, threads, processes)}, models=("serial", "threads", "processes")
    )


def test_tiny_tasks_accepts_any_model_within_ten_percent_of_the_fastest():
    r = _tiny(0.18, 0.19, 0.35)
    fb = cl.check.choosing.tiny_tasks("serial", r)
    assert fb.ok and "serial was among the fastest here" in fb.message
    assert "less than a pool needs to pickle it" in fb.message
    assert cl.check.choosing.tiny_tasks("threads", r).ok  # 0.95x: within the noise


def test_tiny_tasks_wrong_prediction_names_the_concept_first_and_the_code_last():
    fb = cl.check.choosing.tiny_tasks("processes", _tiny(0.18, 0.19, 0.35))
    assert not fb.ok and fb.exercise == "choosing.tiny_tasks"
    assert fb.message.startswith("You predicted processes, but it ran at 0.51x of serial")
    assert "What does a pool do for every task" in fb.message
    assert "chunksize" not in fb.message  # no code in the first answer
    first, second, last = (hint("choosing.tiny_tasks") for _ in range(3))
    assert "pickles it" in first.text and "Batch the tasks" in second.text
    assert last.text.startswith("```python") and "chunksize=250" in last.text


def test_tiny_tasks_when_a_pool_wins_the_hints_do_not_say_serial_wins():
    # many cores: 8 processes can outrun serial even on 0.1 ms tasks
    r = _tiny(0.20, 0.30, 0.10)
    fb = cl.check.choosing.tiny_tasks("serial", r)
    assert not fb.ok
    assert fb.message.startswith("You predicted serial, but processes ran 2.00x as fast")
    assert "made up for handing each one over" in fb.message
    texts = [hint("choosing.tiny_tasks").text for _ in range(3)]
    assert "serial wins" not in " ".join(texts)
    assert "workers run at the same time" in texts[0] and "chunksize=250" in texts[2]
    fb = cl.check.choosing.tiny_tasks("threads", r)
    assert fb.message.startswith(
        "You predicted threads, but it ran at 0.67x of serial, and processes was fastest"
    )
    assert cl.check.choosing.tiny_tasks("processes", r).ok


def test_tiny_tasks_asks_for_a_prediction_first():
    fb = cl.check.choosing.tiny_tasks("", _tiny(0.18, 0.19, 0.35))
    assert not fb.ok and fb.message.startswith("Write your prediction first")
    assert "is not one of" in cl.check.choosing.tiny_tasks("gpu", _tiny(1, 1, 1)).message
    assert "Pass the measurement" in cl.check.choosing.tiny_tasks("serial", "x").message


# --------------------------------------------------------------------------- Exercise 1


async def _one_by_one(items, fetch):
    return [await fetch(i) for i in items]


async def _together(items, fetch):
    return list(await asyncio.gather(*(fetch(i) for i in items)))


async def _reversed(items, fetch):
    return list(reversed(await asyncio.gather(*(fetch(i) for i in items))))


def test_fetch_all_passes_when_every_fetch_waits_at_once():
    fb = cl.check.choosing.fetch_all(_together)
    assert fb.ok and fb.message == "All 8 fetches waited together; results in order."


def test_fetch_all_one_by_one_gets_the_concept_then_the_code():
    fb = cl.check.choosing.fetch_all(_one_by_one)
    assert not fb.ok
    assert fb.message.startswith("At most 1 of 8 fetches were waiting at the same time")
    assert "gather" not in fb.message  # the first failure does not print the line
    texts = [hint("choosing.fetch_all").text for _ in range(3)]
    assert "Create all the coroutines first" in texts[0]
    assert "asyncio.gather(*coroutines)" in texts[1] and "TaskGroup" in texts[1]
    assert texts[2].startswith("```python") and "asyncio.gather(*(fetch(item)" in texts[2]


def test_fetch_all_other_mistakes():
    def not_async(items, fetch):
        return []

    assert "async def fetch_all" in cl.check.choosing.fetch_all(not_async).message
    assert "in the order of items" in cl.check.choosing.fetch_all(_reversed).message


def test_fetch_all_that_passes_gather_a_list_is_told_to_unpack_it():
    async def gather_a_list(items, fetch):
        coroutines = [fetch(i) for i in items]
        try:
            return await asyncio.gather(coroutines)
        finally:
            for c in coroutines:
                c.close()

    fb = cl.check.choosing.fetch_all(gather_a_list)
    assert not fb.ok and fb.message.startswith("Your coroutine raised TypeError: unhashable")
    assert "unpack the list with *" in fb.message
    assert "Create all the coroutines first" in hint("choosing.fetch_all").text


def test_fetch_all_that_forgets_await_is_told_so_instead_of_crashing(recwarn):
    async def gather_not_awaited(items, fetch):
        return asyncio.gather(*(fetch(i) for i in items))

    async def coroutine_not_awaited(items, fetch):
        return fetch(items[0])

    async def not_a_list(items, fetch):
        return 5

    fb = cl.check.choosing.fetch_all(gather_not_awaited)
    assert not fb.ok and fb.message.startswith("Your coroutine returned a future")
    assert "awaited" in fb.message and "gather(*" not in fb.message
    assert "Put 'await' in front" in hint("choosing.fetch_all").text
    fb = cl.check.choosing.fetch_all(coroutine_not_awaited)
    assert not fb.ok and fb.message.startswith("Your coroutine returned a coroutine")
    assert not [w for w in recwarn if "never awaited" in str(w.message)]
    fb = cl.check.choosing.fetch_all(not_a_list)
    assert not fb.ok and fb.message.endswith("got 5.")


# --------------------------------------------------------------------------- Exercise 3


def test_run_all_accepts_map_or_results_with_a_timeout():
    def good(executor, fn, items):
        return list(executor.map(fn, items, timeout=30))

    def results_with_timeout(executor, fn, items):
        return [f.result(timeout=30) for f in [executor.submit(fn, i) for i in items]]

    def waits_with_timeout(executor, fn, items):
        fs = [executor.submit(fn, i) for i in items]
        cf.wait(fs, timeout=30)
        return [f.result() for f in fs]

    for fn in (good, results_with_timeout, waits_with_timeout):
        fb = cl.check.choosing.run_all(fn)
        assert fb.ok, fb.message


def test_run_all_mistakes_get_concepts_first():
    def lazy(executor, fn, items):
        return executor.map(fn, items)

    def futures(executor, fn, items):
        return [executor.submit(fn, i) for i in items]

    def no_timeout(executor, fn, items):
        return list(executor.map(fn, items))

    fb = cl.check.choosing.run_all(lazy)
    assert "You returned an iterator: executor.map is lazy" in fb.message
    assert "list(" not in fb.message
    assert hint("choosing.run_all").text == "Collect every result into a list before returning."
    assert "future is a promise" in cl.check.choosing.run_all(futures).message
    fb = cl.check.choosing.run_all(no_timeout)
    assert not fb.ok and "nothing waited with a timeout" in fb.message
    assert "timeout=30" not in fb.message
    assert "timeout=30" in [hint("choosing.run_all") for _ in range(2)][-1].text
    assert "without calling it" in cl.check.choosing.run_all(42).message


def test_run_all_wrong_order_or_an_error_gets_hints():
    def finished_first(executor, fn, items):
        return list(reversed(list(executor.map(fn, items, timeout=30))))

    fb = cl.check.choosing.run_all(finished_first)
    assert not fb.ok and fb.message.endswith("The right results, in another order.")
    assert "as_completed gives results as tasks finish" in hint("choosing.run_all").text

    def unpacked(executor, fn, items):
        return list(executor.map(fn, *items, timeout=30))

    fb = cl.check.choosing.run_all(unpacked)
    assert not fb.ok and "raised TypeError" in fb.message
    assert "Call fn once per item" in hint("choosing.run_all").text


def _one_at_a_time(executor, fn, items):
    return [executor.submit(fn, i).result(timeout=30) for i in items]


def _as_they_finish(executor, fn, items):
    futures = [executor.submit(fn, i) for i in items]
    return [f.result(timeout=30) for f in cf.as_completed(futures, timeout=30)]


def test_run_all_rejects_one_task_at_a_time_and_results_in_finishing_order():
    fb = cl.check.choosing.run_all(_one_at_a_time)
    assert not fb.ok and "one task at a time" in fb.message
    fb = cl.check.choosing.run_all(_as_they_finish)
    assert not fb.ok and "The right results, in another order." in fb.message
