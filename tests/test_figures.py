"""Every public plot function keeps the figure contract, and a test shows it.

Each lesson's tests draw its figures from results (hand-made or measured) and check them with
``style.figure_problems`` (a title, labelled axes, a summary sentence) and the colour-vision
check ``tests/view/cvd.py: assert_distinguishable`` (colours that must be told apart stay at
least ΔE 10 apart in CAM02-UCS under simulated deuteranopia, protanopia and tritanopia). This
test finds every public ``plot_*`` function of the package and asserts that some test function
calls it *and* makes both checks, so a new plot cannot ship without them.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import concurrency_lab as cl

TESTS = Path(__file__).resolve().parent


def _plot_functions() -> list[str]:
    names = {n for n in cl.__all__ if n.startswith("plot_")}
    for lesson in cl.LESSONS:
        module = importlib.import_module(f"concurrency_lab.{lesson}")
        names |= {n for n in module.__all__ if n.startswith("plot_")}
    names.add("plot_watch")  # what cl.watch(...).plot() and %%timeline draw
    return sorted(names)


def _calls(node: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            out.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
        elif isinstance(n, ast.Attribute) and n.attr.startswith("plot_"):
            out.add(n.attr)  # passed along, e.g. draw=cl.races.plot_lost_updates
    return out


def _checked_tests() -> dict[str, list[str]]:
    """plot function -> the test functions that call it and check both contracts."""
    found: dict[str, list[str]] = {}
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        helpers = {
            n.name: _calls(n)
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and not n.name.startswith("test_")
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            calls = _calls(node)
            for helper in calls & set(helpers):  # one level of module helpers
                calls |= helpers[helper]
            if {"figure_problems", "assert_distinguishable"} <= calls:
                for name in calls:
                    if name.startswith("plot_"):
                        found.setdefault(name, []).append(f"{path.name}::{node.name}")
    return found


CHECKED = _checked_tests()


@pytest.mark.parametrize("name", _plot_functions())
def test_every_plot_function_has_a_contract_test(name):
    assert CHECKED.get(name), (
        f"no test draws {name} and checks it with style.figure_problems and "
        f"assert_distinguishable (tests/view/cvd.py)"
    )
