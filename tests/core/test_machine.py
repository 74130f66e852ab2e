"""Machine facts under simulated platforms: cgroup v1/v2 quotas (nested), PYTHON_CPU_COUNT,
affinity, Windows' 61-worker limit, macOS's unsafe fork, a small /dev/shm."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from concurrency_lab.core import machine, validate


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# --------------------------------------------------------------------------- cgroup quotas


def test_cgroup_v2_quota_in_the_process_own_cgroup(tmp_path):
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/user.slice/jupyter-ana.service\n",
            "sys/fs/cgroup/user.slice/jupyter-ana.service/cpu.max": "250000 100000\n",
            "sys/fs/cgroup/cpu.max": "max 100000\n",
        },
    )
    assert machine.cgroup_cpu_quota(root=root) == pytest.approx(2.5)


def test_cgroup_v2_quota_on_a_parent_counts_and_the_tightest_wins(tmp_path):
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/kubepods/pod1/ctr\n",
            "sys/fs/cgroup/kubepods/pod1/ctr/cpu.max": "max 100000\n",
            "sys/fs/cgroup/kubepods/pod1/cpu.max": "400000 100000\n",
            "sys/fs/cgroup/kubepods/cpu.max": "150000 100000\n",
        },
    )
    assert machine.cgroup_cpu_quota(root=root) == pytest.approx(1.5)


def test_cgroup_v1_quota_found_through_mountinfo(tmp_path):
    mountinfo = (
        "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
        "31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
    )
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "5:memory:/hub/ana\n4:cpu,cpuacct:/hub/ana\n",
            "proc/self/mountinfo": mountinfo,
            "sys/fs/cgroup/cpu,cpuacct/hub/ana/cpu.cfs_quota_us": "-1\n",
            "sys/fs/cgroup/cpu,cpuacct/hub/ana/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/cpu,cpuacct/hub/cpu.cfs_quota_us": "200000\n",
            "sys/fs/cgroup/cpu,cpuacct/hub/cpu.cfs_period_us": "100000\n",
        },
    )
    assert machine.cgroup_cpu_quota(root=root) == pytest.approx(2.0)


def test_no_quota_anywhere(tmp_path):
    root = _tree(
        tmp_path,
        {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "max 100000\n"},
    )
    assert machine.cgroup_cpu_quota(root=root) is None
    assert machine.cgroup_cpu_quota(root=tmp_path / "nothing") is None  # not Linux at all


def test_this_machine_is_read_without_error():
    quota = machine.cgroup_cpu_quota()
    assert quota is None or quota > 0


# --------------------------------------------------------------------------- usable cores


@pytest.fixture
def fake_cpus(monkeypatch):
    """Set the logical CPUs, the affinity and the quota that cpu_facts() sees."""

    def set_(logical, allowed, quota, env=None):
        monkeypatch.setattr(machine.os, "cpu_count", lambda: logical)
        monkeypatch.setattr(machine, "_allowed_cpus", lambda: allowed)
        monkeypatch.setattr(machine, "cgroup_cpu_quota", lambda root="/": quota)
        if env is None:
            monkeypatch.delenv("PYTHON_CPU_COUNT", raising=False)
        else:
            monkeypatch.setenv("PYTHON_CPU_COUNT", env)

    return set_


def test_a_hub_quota_on_a_128_cpu_host_gives_the_quota_rounded_down(fake_cpus):
    fake_cpus(128, 128, 2.5)
    facts = machine.cpu_facts()
    assert facts.usable == 2 and machine.usable_cores() == 2
    assert facts.describe() == (
        "2 usable cores of 128 logical CPUs (a CPU quota of 2.5 cores (cgroup))."
    )


def test_affinity_without_cpu_0_counts_the_allowed_cpus(fake_cpus):
    fake_cpus(64, 4, None)
    assert machine.usable_cores() == 4
    assert "allowed to run on 4 of 64 CPUs" in machine.cpu_facts().describe()


def test_a_quota_below_one_core_still_leaves_one(fake_cpus):
    fake_cpus(8, 8, 0.5)
    assert machine.usable_cores() == 1


def test_python_cpu_count_overrides_like_python_3_13_does(fake_cpus):
    fake_cpus(2, 2, None, env="64")
    assert machine.usable_cores() == 64
    assert "PYTHON_CPU_COUNT=64" in machine.cpu_facts().describe()
    fake_cpus(2, 2, None, env="not a number")
    assert machine.usable_cores() == 2


def test_lesson_processes_are_capped_on_many_cores(fake_cpus):
    fake_cpus(128, 128, None)
    assert machine.lesson_processes() == machine.LESSON_MAX_PROCESSES
    assert machine.lesson_processes(4) == machine.LESSON_MAX_PROCESSES
    fake_cpus(4, 4, None)
    assert machine.lesson_processes() == 4 and machine.lesson_processes(2) == 8


# --------------------------------------------------------------------------- Windows and macOS


def test_windows_caps_process_pools_at_61(monkeypatch, fake_cpus):
    fake_cpus(32, 32, None)
    monkeypatch.setattr(machine.sys, "platform", "win32")
    assert machine.max_workers("process") == 61
    monkeypatch.setattr(validate.sys, "platform", "win32")
    with pytest.raises(ValueError, match=r"<= 61 .*Windows lets a process pool have at most 61"):
        validate.check_n_workers(64, "process")
    assert validate.check_n_workers(61, "process") == 61
    monkeypatch.setattr(machine.sys, "platform", "linux")
    assert machine.max_workers("process") == 256


def test_fork_is_left_out_or_labelled_on_macos(monkeypatch):
    monkeypatch.setattr(machine.sys, "platform", "darwin")
    monkeypatch.setattr(
        machine.multiprocessing, "get_all_start_methods", lambda: ["spawn", "fork", "forkserver"]
    )
    monkeypatch.setattr(machine.multiprocessing, "get_start_method", lambda allow_none: None)
    assert machine.fork_is_unsafe()
    assert machine.start_methods_to_compare() == ("spawn", "forkserver")
    assert machine.start_method_label("fork") == "fork (unsafe on macOS)"
    assert machine.start_method_label("spawn") == "spawn"


def test_only_spawn_on_windows(monkeypatch):
    monkeypatch.setattr(machine.sys, "platform", "win32")
    monkeypatch.setattr(machine.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(machine.multiprocessing, "get_start_method", lambda allow_none: None)
    assert machine.available_start_methods() == ("spawn",)
    assert machine.default_start_method() == "spawn"
    assert machine.start_methods_to_compare() == ("spawn",)
    with pytest.raises(ValueError, match="'fork' is not available on this platform"):
        machine.check_start_method("fork")


def test_linux_from_3_14_lists_forkserver_first(monkeypatch):
    monkeypatch.setattr(machine.sys, "platform", "linux")
    monkeypatch.setattr(
        machine.multiprocessing, "get_all_start_methods", lambda: ["forkserver", "fork", "spawn"]
    )
    monkeypatch.setattr(machine.multiprocessing, "get_start_method", lambda allow_none: None)
    assert machine.default_start_method() == "forkserver"
    assert machine.start_methods_to_compare() == ("forkserver", "fork", "spawn")


# --------------------------------------------------------------------------- /dev/shm and GIL


def test_shm_free_bytes(monkeypatch):
    if sys.platform.startswith("linux"):
        assert machine.shm_free_bytes() is None or machine.shm_free_bytes() >= 0
    monkeypatch.setattr(machine.sys, "platform", "darwin")
    assert machine.shm_free_bytes() is None


def test_gil_status_sentences(monkeypatch):
    monkeypatch.setattr(machine, "free_threaded_build", lambda: False)
    monkeypatch.setattr(machine, "gil_enabled", lambda: True)
    monkeypatch.delenv("PYTHON_GIL", raising=False)
    assert "standard build" in machine.gil_status().describe()
    monkeypatch.setattr(machine, "free_threaded_build", lambda: True)
    monkeypatch.setattr(machine, "gil_enabled", lambda: False)
    assert "GIL off" in machine.gil_status().describe()
    monkeypatch.setattr(machine, "gil_enabled", lambda: True)
    monkeypatch.setenv("PYTHON_GIL", "1")
    assert "PYTHON_GIL=1" in machine.gil_status().describe()
    monkeypatch.delenv("PYTHON_GIL")
    assert "extension module" in machine.gil_status().describe()


def test_the_start_method_menu_labels_fork_on_macos(monkeypatch):
    from concurrency_lab.view.explorer import start_method_dropdown

    monkeypatch.setattr(machine.sys, "platform", "darwin")
    monkeypatch.setattr(
        machine.multiprocessing, "get_all_start_methods", lambda: ["spawn", "fork", "forkserver"]
    )
    monkeypatch.setattr(machine.multiprocessing, "get_start_method", lambda allow_none: None)
    labels = [label for label, _ in start_method_dropdown().options]
    assert labels == ["default (spawn)", "spawn", "fork (unsafe on macOS)", "forkserver"]


@pytest.mark.skipif("forkserver" not in machine.available_start_methods(), reason="no forkserver")
@pytest.mark.parametrize(
    ("running_before", "expected"), [(False, True), (True, False), (None, None)]
)
def test_forkserver_preloaded_says_whether_the_lab_was_in_time(
    monkeypatch, running_before, expected
):
    """The lab's preload reaches the server only if the server was not running yet."""
    import multiprocessing.forkserver as fs

    monkeypatch.setattr(machine, "_preloaded", None)
    monkeypatch.setattr(machine, "forkserver_running", lambda: running_before)
    monkeypatch.setattr(fs._forkserver, "_preload_modules", fs._forkserver._preload_modules)
    assert machine.forkserver_preloaded() is None
    machine.get_context("forkserver")
    assert machine.forkserver_preloaded() is expected
    machine.get_context("spawn")
    assert machine.forkserver_preloaded() is expected


def test_forkserver_running_reads_the_server_state(monkeypatch):
    import multiprocessing.forkserver as fs

    monkeypatch.setattr(fs._forkserver, "_forkserver_pid", 1234, raising=False)
    assert machine.forkserver_running() is True
    monkeypatch.setattr(fs._forkserver, "_forkserver_pid", None, raising=False)
    assert machine.forkserver_running() is False
    monkeypatch.delattr(fs._forkserver, "_forkserver_pid")
    assert machine.forkserver_running() is None  # a Python that renamed it: cannot tell
