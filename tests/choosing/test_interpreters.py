"""Other interpreters: discovery on every platform (with fakes), isolated probes and sweeps,
and child programs that never outlive their timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import concurrency_lab as cl
from concurrency_lab.choosing import interpreters, scripts
from concurrency_lab.choosing.interpreters import (
    InterpreterInfo,
    InterpreterSweepResult,
    candidate_paths,
    parse_py_list,
)
from concurrency_lab.core.children import end_process_tree


def _exe(folder, name, text="#!/bin/sh\nexit 0\n"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    path.chmod(0o755)
    return path


def _no_tools(name, path=None):
    return None


def test_nothing_found_says_so_and_what_would_change(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setattr(interpreters.shutil, "which", _no_tools)
    found = cl.choosing.find_interpreters()
    assert found.interpreters == ()
    text = str(found)
    assert text.startswith("No free-threaded CPython (3.13t, 3.14t) and no Python 3.14+ found")
    assert "uv python install 3.14t" in text
    assert "turns the GIL back on when it imports an extension module" in text
    assert "single-threaded code somewhat slower" in text
    assert "by pickling or as shareable types" in text


def test_versioned_names_are_found_on_path_with_which(tmp_path):
    for name in ("python3.14t", "python3.13t", "python3.12", "python3.13"):
        _exe(tmp_path / "bin", name)
    found = candidate_paths(path_env=str(tmp_path / "bin"), home=str(tmp_path))
    assert sorted(os.path.basename(p) for p in found) == ["python3.13t", "python3.14t"]


def test_windows_names_come_through_which_and_the_py_launcher(tmp_path):
    """On Windows, which('python3.13t') finds python3.13t.exe through PATHEXT; `py -0p`
    lists what the python.org installers put elsewhere."""
    win = _exe(tmp_path / "Scripts", "python3.13t.exe")
    launcher = _exe(tmp_path / "Py314", "python3.14t.exe")

    def which(name, path=None):
        if name == "python3.13t":
            return str(win)
        return "C:/Windows/py.exe" if name == "py" else None

    def run(args, **kw):
        assert args == ["C:/Windows/py.exe", "-0p"]  # by its full path
        out = f" -V:3.14t *        {launcher}\n -V:3.12          C:\\Python312\\python.exe\n"
        return subprocess.CompletedProcess(args, 0, out, "")

    found = candidate_paths(which=which, run=run, platform="win32", home=str(tmp_path))
    assert found == [str(win), str(launcher)]


def test_py_launcher_output_is_parsed_old_and_new_style():
    text = (
        " -V:3.14 *        C:\\Program Files\\Python314\\python.exe\n"
        " -V:3.13t         C:\\Users\\me\\Python313\\python3.13t.exe\n"
        " -3.12-64         C:\\Python312\\python.exe\n"
    )
    assert parse_py_list(text) == [
        "C:\\Program Files\\Python314\\python.exe",
        "C:\\Users\\me\\Python313\\python3.13t.exe",
    ]


def test_uv_is_asked_when_installed(tmp_path):
    uv_python = _exe(tmp_path / "uv" / "cpython-3.14.0+freethreaded" / "bin", "python3.14t")
    asked = []

    def which(name, path=None):
        return "/usr/bin/uv" if name == "uv" else None

    def run(args, **kw):
        asked.append(args[-1])
        out = f"{uv_python}\n" if args[-1] == "3.14t" else ""
        return subprocess.CompletedProcess(args, 0 if out else 2, out, "")

    found = candidate_paths(which=which, run=run, platform="linux", home=str(tmp_path))
    assert asked == ["3.13t", "3.14t", "3.14"] and found == [str(uv_python)]


@pytest.mark.skipif(os.name != "posix", reason="world-writable folders are a POSIX notion")
def test_a_planted_uv_is_never_run(tmp_path):
    open_dir = tmp_path / "shared"
    _exe(open_dir, "uv")
    open_dir.chmod(0o777)

    def run(args, **kw):
        raise AssertionError(f"ran {args}")

    assert candidate_paths(path_env=str(open_dir), run=run, home=str(tmp_path)) == []


def test_a_relative_py_launcher_is_never_run_on_windows(tmp_path):
    def which(name, path=None):
        return "py.exe" if name == "py" else None

    def run(args, **kw):
        raise AssertionError(f"ran {args}")

    assert candidate_paths(which=which, run=run, platform="win32", home=str(tmp_path)) == []


def test_pyenv_and_pyenv_win_folders(monkeypatch, tmp_path):
    monkeypatch.delenv("PYENV_ROOT", raising=False)
    posix = _exe(tmp_path / ".pyenv" / "versions" / "3.13.1t" / "bin", "python3.13t")
    _exe(tmp_path / ".pyenv" / "versions" / "3.12.1" / "bin", "python3.12")
    win = _exe(tmp_path / ".pyenv" / "pyenv-win" / "versions" / "3.14.0", "python.exe")
    found = candidate_paths(which=_no_tools, home=str(tmp_path))
    assert found == [str(posix), str(win)]


@pytest.mark.skipif(os.name != "posix", reason="world-writable folders are a POSIX notion")
def test_planted_files_in_world_writable_or_relative_folders_are_never_run(tmp_path):
    open_dir = tmp_path / "shared"
    _exe(open_dir, "python3.14t")
    open_dir.chmod(0o777)
    assert candidate_paths(path_env=str(open_dir), home=str(tmp_path)) == []
    assert interpreters._unsafe_folder(".") and interpreters._unsafe_folder("")


def test_the_running_interpreter_is_never_swept_twice(monkeypatch):
    """Python 3.14 on PATH is a 'new model', and may be this very interpreter (P6)."""

    def which(name, path=None):
        return sys.executable if name == "python3.14" else None

    assert candidate_paths(which=which, home="/nonexistent") == []
    here = InterpreterInfo(
        sys.executable, "{}.{}.{}".format(*sys.version_info[:3]), False, True, True, sys.base_prefix
    )
    monkeypatch.setattr(interpreters, "candidate_paths", lambda: ["/other/python3.14"])
    monkeypatch.setattr(interpreters, "probe", lambda path, timeout_s: here)
    monkeypatch.setattr(interpreters.shutil, "which", _no_tools)
    assert cl.choosing.find_interpreters().interpreters == ()


def test_probing_this_interpreter_runs_it_isolated():
    (info,) = cl.choosing.find_interpreters(
        candidates=[sys.executable], include_all=True
    ).interpreters
    assert info.version == "{}.{}.{}".format(*sys.version_info[:3])
    assert info.gil_enabled == cl.gil_enabled() and info.base_prefix == sys.base_prefix
    assert info.interpreter_pool == (sys.version_info >= (3, 14))
    assert cl.choosing.find_interpreters(candidates=["/no/such/python3.14t"]).interpreters == ()


def test_a_found_free_threaded_python_is_described():
    ft = InterpreterInfo("/x/python3.14t", "3.14.0", True, False, True, "/x")
    on = InterpreterInfo("/y/python3.13t", "3.13.1", True, True, False, "/y")
    text = str(interpreters.InterpretersResult((ft, on), ("PATH",)))
    assert "/x/python3.14t: Python 3.14.0t (no GIL): free-threaded build, GIL off" in text
    assert "GIL ON (PYTHON_GIL=1 or an extension turned it on)" in text
    assert ft.is_new_model and not on.is_new_model


def test_sweep_runs_isolated_and_is_drawn():
    sweep = cl.choosing.interpreter_sweep(n_workers=(1, 2), task_s=0.01)
    assert sweep.python == sys.executable and sweep.n_workers == (1, 2) and sweep.n_tasks == 2
    assert len(sweep.elapsed_s["thread"]) == 2 and sweep.speedups()[0] == 1.0
    assert ("interpreter" in sweep.elapsed_s) == (sys.version_info >= (3, 14))
    assert str(sweep).startswith("Python {}.{}.{}".format(*sys.version_info[:3]))
    fig = cl.choosing.plot_interpreter_sweeps([sweep, sweep])
    assert len(fig.axes[0].lines) == 3  # ideal + two measured sweeps


def test_an_impossible_thread_gain_under_the_gil_is_called_noise():
    s = InterpreterSweepResult(
        "py", "3.11.7 (GIL)", (1, 2, 4), 4, {"thread": (1.0, 0.95, 0.66)}, {}, 2
    )
    assert s.noise() == (4,)
    assert "faster than possible (under the GIL one thread at a time runs Python code)" in str(s)
    free = InterpreterSweepResult(
        "py", "3.14.0t (no GIL)", (1, 2), 2, {"thread": (1.0, 0.52)}, {}, 2
    )
    assert free.noise() == () and "faster than possible" not in str(free)


def test_sweep_timeout_kills_the_child():
    with pytest.raises(cl.WorkerTimeoutError, match="the lab killed it and its children"):
        cl.choosing.interpreter_sweep(n_workers=(1,), task_s=1, timeout_s=0.05)


def test_sweep_reports_a_broken_interpreter(tmp_path):
    bad = _exe(tmp_path, "python3.14t", "#!/bin/sh\necho oops >&2\nexit 2\n")
    with pytest.raises(cl.LabError, match="failed with exit code 2:\noops"):
        cl.choosing.interpreter_sweep(str(bad), n_workers=(1,))
    with pytest.raises(ValueError, match="'n_workers' must list at least one pool size"):
        cl.choosing.interpreter_sweep(n_workers=())


def test_plot_sweeps_needs_data():
    with pytest.raises(ValueError, match="'sweeps' is empty"):
        cl.choosing.plot_interpreter_sweeps([])


# --------------------------------------------------------------------------- child programs


def _sleeper_with_a_grandchild():
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    return [sys.executable, "-c", code]


def test_a_timeout_kills_the_child_and_its_children():
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(cl.WorkerTimeoutError):
        scripts.run_child(_sleeper_with_a_grandchild(), timeout_s=1.5)
    time.sleep(0.2)
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert left == []


def test_the_windows_way_kills_the_tree_through_psutil():
    """Windows has no process groups: the descendants are found and killed one by one."""
    import psutil

    proc = subprocess.Popen(_sleeper_with_a_grandchild(), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    kids = psutil.Process(proc.pid).children(recursive=True)
    end_process_tree(proc, platform="win32")
    proc.stdout.close()
    assert proc.poll() is not None
    _, alive = psutil.wait_procs(kids, timeout=5)
    assert alive == []


def test_without_psutil_windows_falls_back_to_taskkill(monkeypatch):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    calls = []
    monkeypatch.setitem(sys.modules, "psutil", None)
    end_process_tree(proc, platform="win32", run=lambda args, **kw: calls.append(args))
    assert calls == [["taskkill", "/T", "/F", "/PID", str(proc.pid)]]
    assert proc.poll() is not None
