"""The headline demos as benchmarks/bench_fidelity.py runs them: each gives the true answer here."""

from __future__ import annotations

import pytest

from concurrency_lab.threads_and_processes.fidelity import HEADLINE_DEMOS


@pytest.mark.parametrize("name", sorted(HEADLINE_DEMOS))
def test_each_headline_demo_is_right_on_this_machine(name):
    verdict, detail = HEADLINE_DEMOS[name]()
    assert verdict == "right", detail
