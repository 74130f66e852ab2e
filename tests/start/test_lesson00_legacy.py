"""Lesson 00 tests moved out of tests/core/test_foundation.py (to be kept or replaced)."""

from __future__ import annotations

import concurrency_lab as cl

# --------------------------------------------------------------------------- import hygiene


def test_check_environment_reports_this_machine():
    report = cl.check_environment()
    assert report.usable_cores == cl.usable_cores()
    assert report.start_methods == cl.available_start_methods()
    assert set(report.smoke_s) == {"thread"} | {f"process ({m})" for m in report.start_methods}
    assert all(v is not None and v > 0 for v in report.smoke_s.values())
    assert report.ok, report.problems
    assert "Ready" in str(report) and "<table>" in report._repr_html_()


def test_check_environment_reports_missing_package_with_fix(monkeypatch):
    import importlib.metadata as md

    real = md.version

    def fake(name):
        if name == "ipywidgets":
            raise md.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(md, "version", fake)
    report = cl.check_environment(smoke=False)
    assert not report.ok
    assert report.problems == (
        "ipywidgets is not installed: run pip install -e '.[lab]' in the course folder.",
    )
    assert "MISSING" in str(report)
