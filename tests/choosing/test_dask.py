"""The optional Dask part: a clear message without it, a clean measurement with it, and a
refusal (unless allowed) on machines shared with other users."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

import concurrency_lab as cl
from concurrency_lab.choosing import dask_cost
from concurrency_lab.choosing.dask_cost import DaskOverheadResult, other_users


def test_without_dask_the_message_names_the_course_folder_not_pypi(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # the import now fails
    assert dask_cost.dask_available() is False
    with pytest.raises(cl.choosing.DaskNotInstalledError) as info:
        cl.choosing.dask_overhead()
    text = str(info.value)
    assert 'pip install -e "' in text and '[dask]"' in text and "restart the kernel" in text
    assert "pip install 'concurrency_lab" not in text and "concurrency_lab[dask]" not in text
    assert isinstance(info.value, ImportError)


def test_with_dask_both_sides_are_measured_and_closed():
    pytest.importorskip("distributed")
    r = cl.choosing.dask_overhead(n_workers=1, n_tasks=2, task_s=0.01, n_tiny=10, timeout_s=60)
    assert set(r.startup_s) == set(r.work_s) == set(r.tiny_s) == {"pool", "dask"}
    assert r.per_task_ms("dask") > 0 and r.dask_start_method
    assert str(r).startswith("1 worker processes each side. Per near-empty task: process pool")
    fig = cl.choosing.plot_dask_overhead(r)
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "seconds (s)",
        "seconds (s)",
        "milliseconds (ms)",
    ]


def test_dask_rejects_bad_input():
    if not dask_cost.dask_available():
        pytest.skip("needs the dask part")
    with pytest.raises(ValueError, match=r"'n_tiny' must be a whole number between 1 and 100000"):
        cl.choosing.dask_overhead(n_tiny=0)


def _proc(uid, name):
    return SimpleNamespace(uids=lambda: SimpleNamespace(real=uid), username=lambda: name)


@pytest.mark.skipif(not hasattr(__import__("os"), "getuid"), reason="POSIX user ids")
def test_other_login_users_are_found_system_accounts_are_not():
    import os

    me = os.getuid()
    procs = [
        _proc(0, "root"),
        _proc(65534, "nobody"),
        _proc(120, "gdm"),
        _proc(me, "me"),
        _proc(1001 if me != 1001 else 1002, "alice"),
    ]
    assert other_users(processes=procs, platform="linux") == ("alice",)
    assert other_users(processes=[_proc(501 if me != 501 else 502, "bob")], platform="darwin") == (
        "bob",
    )
    assert other_users(processes=procs, platform="win32") == ()


def test_a_shared_machine_is_refused_unless_allowed_and_the_result_says_so(monkeypatch):
    r = DaskOverheadResult(
        2,
        8,
        10,
        200,
        {"pool": 0.1, "dask": 1.0},
        {"pool": 0.2, "dask": 0.25},
        {"pool": 0.05, "dask": 0.4},
        "spawn",
        "spawn",
        ("alice",),
    )
    assert "Other users run programs on this machine (alice)" in str(r)
    assert "(8 times as much)" in str(r)
    if not dask_cost.dask_available():
        return
    monkeypatch.setattr(dask_cost, "other_users", lambda: ("alice",))
    started = []
    monkeypatch.setattr(dask_cost, "run_child", lambda *a, **k: started.append(a) or 1 / 0)
    with pytest.raises(cl.choosing.SharedMachineError, match=r"this machine \(alice\), so the"):
        cl.choosing.dask_overhead()
    assert started == []  # refused before anything started
    with pytest.raises(ZeroDivisionError):  # with the learner's consent it goes ahead
        cl.choosing.dask_overhead(allow_shared=True)
    assert len(started) == 1
