"""The benchmarks still load: they are not run in the test suite (speed goals live there as
printed ratios), but a benchmark that no longer imports is found here, not on the day."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parent.parent / "benchmarks").glob("bench_*.py"))


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_loads(path):
    module = runpy.run_path(str(path), run_name="benchmark_under_test")  # main() is not run
    assert callable(module.get("main")), f"{path.name} has no main()"
