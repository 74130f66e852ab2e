"""Lesson 00's environment check: the table, the verdict, and every platform's limits (faked)."""

from __future__ import annotations

import importlib.metadata as md

import pytest

import concurrency_lab as cl
from concurrency_lab.core.install import install_hint
from concurrency_lab.core.machine import CpuFacts, GilStatus, start_methods_to_compare
from concurrency_lab.start import environment


def fake_workers(monkeypatch, seconds=0.01, fail=()):
    """Replace the real start + join with a fixed time; labels in ``fail`` fail."""
    started = []

    def start_one(kind, method):
        label = kind if kind == "thread" else f"process ({method})"
        started.append(label)
        return None if label in fail else seconds

    monkeypatch.setattr(environment, "_start_one", start_one)
    return started


def test_reports_this_machine_and_starts_every_worker():
    report = cl.check_environment()
    assert report.usable_cores == cl.usable_cores()
    assert report.start_methods == cl.available_start_methods()
    expected = ["thread"] + [f"process ({m})" for m in start_methods_to_compare()]
    assert list(report.workers_s) == expected
    assert all(v is not None and v > 0 for v in report.workers_s.values())
    assert report.ok, report.problems
    assert report.summary().startswith("Ready: everything the course needs works")
    assert str(report) == report.summary()  # a result prints as a sentence
    table = report._repr_html_()
    assert "<table>" in table and "start + join one thread" in table
    assert "smoke" not in table


def test_the_table_says_the_gil_and_the_cores_in_words(monkeypatch):
    fake_workers(monkeypatch)
    facts = CpuFacts(logical=8, allowed=8, quota=2.5, env_override=None, usable=2)
    monkeypatch.setattr(environment, "cpu_facts", lambda: facts)
    monkeypatch.setattr(environment, "gil_status", lambda: GilStatus(True, False, "0"))
    report = environment.check_environment()
    rows = dict(report.lines())
    assert (
        rows["GIL"] == "A free-threaded build with the GIL off: threads can run Python in parallel."
    )
    assert (
        rows["CPU cores"] == "2 usable cores of 8 logical CPUs (a CPU quota of 2.5 cores (cgroup))."
    )
    assert (report.free_threaded, report.gil_enabled, report.usable_cores) == (True, False, 2)
    assert "with the GIL off, 2 usable cores" in report.summary()


def test_one_usable_core_is_said_plainly_but_is_not_a_problem(monkeypatch):
    fake_workers(monkeypatch)
    one = CpuFacts(logical=4, allowed=1, quota=None, env_override=None, usable=1)
    monkeypatch.setattr(environment, "cpu_facts", lambda: one)
    report = environment.check_environment()
    assert report.ok
    assert report.notes and "With 1 usable core" in report.notes[0]
    assert report.verdict().startswith("Ready, with a limit: With 1 usable core, no two threads")
    assert "pair up with a neighbour" in dict(report.lines())["CPU cores"]


def test_macos_does_not_try_fork_and_labels_it_unsafe(monkeypatch):
    from concurrency_lab.core import machine

    started = fake_workers(monkeypatch)
    monkeypatch.setattr(machine, "fork_is_unsafe", lambda: True)
    monkeypatch.setattr(environment, "fork_is_unsafe", lambda: True)
    all_three = ("spawn", "fork", "forkserver")
    monkeypatch.setattr(machine, "available_start_methods", lambda: all_three)
    monkeypatch.setattr(environment, "available_start_methods", lambda: all_three)
    monkeypatch.setattr(machine, "default_start_method", lambda: "spawn")
    report = environment.check_environment()
    assert started == ["thread", "process (spawn)", "process (forkserver)"]
    assert report.skipped == {
        "process (fork)": "fork is unsafe on macOS (Python's docs), so not used"
    }
    rows = dict(report.lines())
    assert rows["start methods"] == "spawn, fork (unsafe on macOS), forkserver"
    assert rows["start + join one process (fork)"].startswith("not tried: fork is unsafe")
    assert report.ok


def test_windows_has_only_spawn(monkeypatch):
    from concurrency_lab.core import machine

    started = fake_workers(monkeypatch)
    monkeypatch.setattr(machine, "available_start_methods", lambda: ("spawn",))
    monkeypatch.setattr(environment, "available_start_methods", lambda: ("spawn",))
    monkeypatch.setattr(machine, "default_start_method", lambda: "spawn")
    monkeypatch.setattr(environment, "default_start_method", lambda: "spawn")
    report = environment.check_environment()
    assert started == ["thread", "process (spawn)"]
    assert report.start_methods == ("spawn",) and report.skipped == {}


def test_a_worker_that_fails_is_a_problem_with_what_to_do(monkeypatch):
    fake_workers(monkeypatch, fail=("process (spawn)",))
    report = environment.check_environment()
    assert not report.ok
    assert report.problems == (
        "starting a process (spawn) failed: restart the kernel and run this check again; if it "
        "fails again, see docs/setup.md.",
    )
    assert report.verdict() == "1 thing to fix before the course works fully."
    assert dict(report.lines())["start + join one process (spawn)"] == "FAILED"


def test_missing_and_old_packages_name_the_local_install_command(monkeypatch):
    real = md.version

    def fake(name):
        if name == "ipywidgets":
            raise md.PackageNotFoundError(name)
        return "0.1" if name == "tqdm" else real(name)

    monkeypatch.setattr(md, "version", fake)
    report = environment.check_environment(start_workers=False)
    hint = install_hint("lab")
    assert report.problems == (
        f"ipywidgets is not installed: run {hint}",
        f"tqdm 0.1 is too old (need >= 4.60): run {hint}",
    )
    assert '"' in hint and "'" not in hint  # double quotes work in every shell
    assert dict(report.lines())["ipywidgets"] == "MISSING"
    assert report.summary().startswith("2 things to fix before the course works fully.")
    assert report.workers_s == {}


def test_a_kernel_without_jupyterlab_is_only_a_note(monkeypatch):
    """On a hub the kernel's environment need not hold JupyterLab itself."""
    real = md.version

    def fake(name):
        if name == "jupyterlab":
            raise md.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(md, "version", fake)
    report = environment.check_environment(start_workers=False)
    assert report.problems == ()
    assert any(n.startswith("JupyterLab is not installed in this Python") for n in report.notes)


def test_rejects_a_bad_option():
    with pytest.raises(TypeError, match="'start_workers' must be True or False"):
        environment.check_environment(start_workers="yes")


def test_version_tuple_reads_the_leading_numbers():
    assert environment.version_tuple("8.1.5rc1") == (8, 1, 5)
    assert environment.version_tuple("4.60.0") > environment.version_tuple("4.7")
