"""took_turns' sentences, from hand-made results (no timing involved)."""

from __future__ import annotations

from concurrency_lab.gil.handoff import TurnsResult


def _turns(**kw):
    base = dict(
        threads=0,
        processes=0,
        thread_share=None,
        process_share=None,
        thread_cores=None,
        others_busy=None,
        cores=2,
    )
    return TurnsResult(**{**base, **kw})


def test_threads_alone_take_turns():
    text = _turns(threads=2, thread_share=0.02).summary()
    assert text.startswith("Your 2 threads were on a CPU at the same moment in 2% of the steps")
    assert text.endswith("they took turns.")


def test_processes_alone_get_a_whole_sentence_and_no_gil_wording():
    text = _turns(processes=2, process_share=0.05, others_busy=1.1).summary()
    assert text.startswith("Your 2 processes were on a CPU at the same moment in 5% of the steps")
    assert "they ran one at a time" in text and "took turns" not in text
    assert "Other programs kept about 1.1 of your 2 cores busy meanwhile" in text
    assert "side by side." in _turns(processes=2, process_share=0.9).summary()


def test_both_in_one_sentence():
    text = _turns(threads=2, thread_share=0.0, processes=2, process_share=0.8).summary()
    assert "threads were on a CPU" in text and "; your 2 processes in 80%: they ran side by" in text
