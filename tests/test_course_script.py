"""``./course`` (bash) and ``python -m concurrency_lab`` (every shell): the course's jobs.

The bash script runs in a sandbox: a copy of ``course`` in a temporary folder, and a ``PATH``
holding only a few system tools plus fake ``python3``/``python3.1x``/``id``/``uname``. A fake
Python is a small shell script that answers the script's version probe as the version it
pretends to be (it runs the probe in the real interpreter with ``sys.version_info`` replaced),
makes a fake venv for ``-m venv`` and logs every other command line, so no test installs
anything (``COURSE_SKIP_INSTALL=1`` skips the pip steps where a test does not check them).

What this simulates: macOS (``uname`` says Darwin, Apple's Python 3.9), Git Bash on Windows
(``uname`` says MINGW64, a venv with ``Scripts/python.exe``), a non-root user (``id -u`` says
1000). It does not run bash 3.2 (not installable here): a static check rejects the bash-4
features and the empty-array expansion that bash 3.2 cannot run under ``set -u``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import concurrency_lab.__main__ as entry

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "course"
PY39 = Path.home() / ".pyenv" / "versions" / "3.9.18" / "bin" / "python"
TOOLS = ("bash", "dirname", "rm", "mkdir", "cp", "cat", "printf")

# Runs the script's version probe (argument 1) as if this were Python VERSION (a free-threaded
# build when FT is 1).
FAKE_PYTHON = """#!/bin/sh
# A fake Python {version} for tests/test_course_script.py.
if [ "$1" = "-c" ]; then
  echo "$0 -c <code>" >> "$COURSE_TEST_LOG"
  exec "{real}" -c '
import sys, sysconfig
sys.version_info = ({major}, {minor}, 0, "final", 0)
if {crlf}:
    sys.stdout.reconfigure(newline="\\r\\n")  # as a Windows Python writes to a pipe
real = sysconfig.get_config_var
sysconfig.get_config_var = lambda name: {ft} if name == "Py_GIL_DISABLED" else real(name)
code = sys.argv[1]
sys.argv = ["-c"]
exec(compile(code, "<string>", "exec"), {{"__name__": "__main__"}})
' "$2"
fi
echo "$0 $*" >> "$COURSE_TEST_LOG"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/{bindir}"
  printf 'home = /fake\\n' > "$3/pyvenv.cfg"
  cp "$0" "$3/{bindir}/{exe}"
fi
exit 0
"""


class Sandbox:
    """A copy of ``course`` with its own PATH of fake tools; :meth:`run` runs it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "commands.log"
        self.log.touch()
        shutil.copy2(COURSE, root / "course")
        for tool in TOOLS:
            found = shutil.which(tool)
            if found:
                (self.bin / tool).symlink_to(found)
        self.tool("id", "echo 1000")  # a normal user
        self.tool("uname", "echo Linux")

    def tool(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        path.chmod(0o755)

    def python(
        self, path: Path | str, version: str, *, free_threaded: bool = False, windows: bool = False
    ) -> Path:
        """Write a fake Python ``version`` at ``path`` (relative: in the sandbox's bin)."""
        target = self.bin / path if isinstance(path, str) else path
        target.parent.mkdir(parents=True, exist_ok=True)
        major, minor = version.split(".")
        target.write_text(
            FAKE_PYTHON.format(
                version=version,
                real=sys.executable,
                major=major,
                minor=minor,
                ft=int(free_threaded),
                crlf=windows,
                bindir="Scripts" if windows else "bin",
                exe="python.exe" if windows else "python",
            ),
            encoding="utf-8",
        )
        target.chmod(0o755)
        return target

    def venv(self, version: str, *, windows: bool = False) -> Path:
        """A ``.venv`` made by Python ``version`` (``Scripts/python.exe`` when ``windows``)."""
        venv = self.root / ".venv"
        (venv / "marker").parent.mkdir(parents=True, exist_ok=True)
        (venv / "pyvenv.cfg").write_text("home = /old\n", encoding="utf-8")
        (venv / "marker").write_text("made before the test run\n", encoding="utf-8")
        exe = venv / ("Scripts/python.exe" if windows else "bin/python")
        self.python(exe, version, windows=windows)
        return venv

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {"PATH": str(self.bin), "HOME": str(self.root), "COURSE_TEST_LOG": str(self.log)}
        environ.update(env)
        return subprocess.run(
            [str(self.bin / "bash"), str(self.root / "course"), *args],
            cwd=self.root,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def commands(self) -> list[str]:
        """Every command a fake Python received, relative to the sandbox."""
        text = self.log.read_text(encoding="utf-8").replace(f"{self.root}/", "")
        return [line.removeprefix("bin/") for line in text.splitlines()]


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def no_bash_errors(done: subprocess.CompletedProcess[str]) -> None:
    assert "unbound variable" not in done.stderr
    assert "command not found" not in done.stderr
    assert "syntax error" not in done.stderr


# ------------------------------------------------------------------ the bash script


def test_shellcheck_is_clean():
    if shutil.which("shellcheck") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have shellcheck (./course test installs it on Debian)")
        pytest.skip("shellcheck is not installed (Debian: apt install shellcheck)")
    done = subprocess.run(
        ["shellcheck", "course", ".ci/run"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_no_bash4_features_or_empty_array_expansions():
    """bash 3.2 (macOS's /bin/bash) has none of these; under ``set -u`` it rejects ``"${a[@]}"``
    of an empty array (fixed in bash 4.4), so the script uses no arrays at all."""
    code = "\n".join(
        line
        for line in COURSE.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    )
    for pattern in (
        r"\bdeclare\s+-[aA]",
        r"\blocal\s+-[aA]",
        r"\bmapfile\b",
        r"\breadarray\b",
        r"\$\{\w+(,,|\^\^|,|\^)\}",
        r"\[\[\s+-v",
        r"\|&",
        r"&>>",
        r"\bcoproc\b",
        r"\w+=\(",  # array assignment
        r"\$\{\w+\[@\]",  # array expansion
        r'"\$\{@:',  # "${@:2}" (use shift and ${1+"$@"})
    ):
        assert not re.search(pattern, code), pattern


def test_lab_as_a_normal_user_runs_the_entry_point_with_no_extra_options(sandbox):
    sandbox.python("python3", "3.12")
    sandbox.venv("3.12")
    done = sandbox.run("lab", COURSE_SKIP_INSTALL="1")
    no_bash_errors(done)
    assert done.returncode == 0, done.stderr
    assert sandbox.commands()[-1] == ".venv/bin/python -m concurrency_lab lab"


def test_lab_passes_options_through(sandbox):
    sandbox.python("python3", "3.12")
    sandbox.venv("3.12")
    done = sandbox.run("lab", "--no-browser", "--port", "9000", COURSE_SKIP_INSTALL="1")
    assert done.returncode == 0, done.stderr
    expected = ".venv/bin/python -m concurrency_lab lab --no-browser --port 9000"
    assert sandbox.commands()[-1] == expected


def test_install_upgrades_pip_before_the_editable_install(sandbox):
    sandbox.python("python3", "3.11")
    done = sandbox.run("check")
    assert done.returncode == 0, done.stderr
    assert [c for c in sandbox.commands() if not c.endswith(" -c <code>")] == [
        "python3 -m venv .venv",
        ".venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip",
        ".venv/bin/python -m pip install --quiet --disable-pip-version-check -e .[lab]",
        ".venv/bin/python -m concurrency_lab check",
    ]


@pytest.mark.parametrize(
    ("system", "how"),
    [
        ("Darwin", "brew install python@3.12"),
        ("MINGW64_NT-10.0-19045", "winget install Python.Python.3.12"),
        ("Linux", "uv python install 3.12"),
    ],
)
def test_a_too_old_python3_is_refused_before_anything_is_made(sandbox, system, how):
    sandbox.tool("uname", f"echo {system}")
    sandbox.python("python3", "3.9")  # Apple's Command Line Tools Python
    done = sandbox.run("lab")
    no_bash_errors(done)
    assert done.returncode == 1
    assert "python3 is Python 3.9, and no python3.10 ... python3.14 is on PATH." in done.stderr
    assert "The course needs Python 3.10 or newer." in done.stderr
    assert how in done.stderr
    assert not (sandbox.root / ".venv").exists()
    assert not any("-m venv" in c for c in sandbox.commands())


def test_no_python_at_all_is_explained(sandbox):
    done = sandbox.run("lab")
    no_bash_errors(done)
    assert done.returncode == 1
    assert "No python3 on PATH." in done.stderr and "3.10 or newer" in done.stderr


def test_PYTHON_too_old_is_refused(sandbox):
    sandbox.python("python3", "3.12")
    sandbox.python("python3.9", "3.9")
    done = sandbox.run("test", PYTHON="python3.9")
    assert done.returncode == 1
    assert "PYTHON=python3.9 is Python 3.9: too old." in done.stderr
    assert not (sandbox.root / ".venv").exists()


@pytest.mark.skipif(not PY39.exists(), reason="needs pyenv's CPython 3.9.18")
def test_a_real_python_39_is_refused(sandbox):
    done = sandbox.run("lab", PYTHON=str(PY39))
    assert done.returncode == 1
    assert f"PYTHON={PY39} is Python 3.9: too old." in done.stderr
    assert not (sandbox.root / ".venv").exists()


def test_the_newest_python3_1x_is_used_when_python3_is_too_old(sandbox):
    sandbox.python("python3", "3.9")
    sandbox.python("python3.11", "3.11")
    sandbox.python("python3.12", "3.12")
    done = sandbox.run("lab", COURSE_SKIP_INSTALL="1")
    assert done.returncode == 0, done.stderr
    assert "python3.12 -m venv .venv" in sandbox.commands()
    assert "with python3.12 (Python 3.12)" in done.stdout


def test_a_venv_left_by_a_too_old_python_is_rebuilt(sandbox):
    sandbox.python("python3", "3.12")
    venv = sandbox.venv("3.9")
    done = sandbox.run("lab", COURSE_SKIP_INSTALL="1")
    no_bash_errors(done)
    assert done.returncode == 0, done.stderr
    assert ".venv was made with Python 3.9, too old for the course: making it again" in done.stdout
    assert not (venv / "marker").exists()
    assert sandbox.commands()[-2:] == [
        "python3 -m venv .venv",
        ".venv/bin/python -m concurrency_lab lab",
    ]


def test_a_broken_venv_is_rebuilt(sandbox):
    sandbox.python("python3", "3.12")
    venv = sandbox.venv("3.12")
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(sandbox.root / "removed-python")  # base Python gone
    done = sandbox.run("lab", COURSE_SKIP_INSTALL="1")
    assert done.returncode == 0, done.stderr
    assert ".venv is broken (its Python does not run): making it again" in done.stdout
    assert "python3 -m venv .venv" in sandbox.commands()


def test_a_venv_of_another_version_is_rebuilt_when_PYTHON_asks_for_one(sandbox):
    sandbox.python("python3", "3.11")
    sandbox.python("python3.13", "3.13")
    sandbox.venv("3.11")
    done = sandbox.run("lab", PYTHON="python3.13", COURSE_SKIP_INSTALL="1")
    assert done.returncode == 0, done.stderr
    assert ".venv has Python 3.11, but PYTHON=python3.13 is Python 3.13" in done.stdout
    assert "python3.13 -m venv .venv" in sandbox.commands()
    # Without PYTHON, a working venv is kept whatever python3 is now.
    sandbox.log.write_text("", encoding="utf-8")
    done = sandbox.run("lab", COURSE_SKIP_INSTALL="1")
    assert not any("-m venv" in c for c in sandbox.commands())


def test_a_free_threaded_venv_is_told_apart(sandbox):
    sandbox.python("python3.13", "3.13")
    sandbox.python("python3.13t", "3.13", free_threaded=True)
    sandbox.venv("3.13")
    done = sandbox.run("lab", PYTHON="python3.13t", COURSE_SKIP_INSTALL="1")
    assert done.returncode == 0, done.stderr
    assert "PYTHON=python3.13t is Python 3.13t: making it again" in done.stdout


def test_a_folder_that_is_not_a_venv_is_left_alone(sandbox):
    sandbox.python("python3", "3.12")
    (sandbox.root / ".venv").mkdir()
    (sandbox.root / ".venv" / "notes.txt").write_text("mine", encoding="utf-8")
    done = sandbox.run("lab", COURSE_SKIP_INSTALL="1")
    assert done.returncode == 1
    assert ".venv is not a virtual environment (no pyvenv.cfg), so it is left alone." in done.stderr
    assert (sandbox.root / ".venv" / "notes.txt").exists()


def test_git_bash_uses_the_windows_venv_layout(sandbox):
    sandbox.tool("uname", "echo MINGW64_NT-10.0-19045")
    sandbox.python("python", "3.12", windows=True)  # python.org's installer: no python3
    done = sandbox.run("lab", COURSE_SKIP_INSTALL="1")
    assert done.returncode == 0, done.stderr
    assert sandbox.commands()[-2:] == [
        "python -m venv .venv",
        ".venv/Scripts/python.exe -m concurrency_lab lab",
    ]
    assert "with python (Python 3.12)" in done.stdout  # no CR from the CR LF line end
    # Again with PYTHON set: the venv's version (CR LF too) matches, so it is kept.
    sandbox.log.write_text("", encoding="utf-8")
    done = sandbox.run("lab", PYTHON="python", COURSE_SKIP_INSTALL="1")
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stdout + done.stderr
    assert not any("-m venv" in c for c in sandbox.commands())


def test_test_job_passes_pytest_options_and_reports_missing_tools(sandbox):
    sandbox.python("python3", "3.12")
    sandbox.venv("3.12")
    done = sandbox.run("test", "-x", "-k", "course", COURSE_SKIP_INSTALL="1")
    no_bash_errors(done)
    assert done.returncode == 0, done.stderr
    assert sandbox.commands()[-1] == ".venv/bin/python -m concurrency_lab test -x -k course"
    assert "shellcheck" in done.stderr and "are skipped" in done.stderr  # not on this PATH
    done = sandbox.run("test", COURSE_SKIP_INSTALL="1", CI="true")  # CI, and not root
    assert done.returncode == 1
    assert "CI needs:" in done.stderr and "shellcheck" in done.stderr


@pytest.mark.parametrize("args", [(), ("serve",)])
def test_usage_without_a_known_job(sandbox, args):
    done = sandbox.run(*args)
    no_bash_errors(done)
    assert done.returncode == 2
    assert "usage: ./course lab | ./course check | ./course test" in done.stderr
    assert not (sandbox.root / ".venv").exists()


# ------------------------------------------------------- python -m concurrency_lab


def run_entry(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "concurrency_lab", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_entry_point_usage_and_unknown_jobs():
    done = run_entry()
    assert (
        done.returncode == 2 and "usage: python -m concurrency_lab {lab,check,test}" in done.stderr
    )
    done = run_entry("--help")
    assert done.returncode == 0 and "docs/setup.md" in done.stdout
    done = run_entry("serve")
    assert done.returncode == 2 and "Unknown job 'serve'." in done.stderr


def test_entry_point_imports_only_the_standard_library():
    code = (
        "import sys, concurrency_lab.__main__\n"
        "heavy = {'matplotlib', 'ipywidgets', 'numpy', 'psutil', 'tqdm', 'IPython',\n"
        "         'jupyter_client', 'jupyter_core', 'jupyterlab', 'pytest'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


@pytest.mark.parametrize("as_root", [False, True])
def test_lab_command_binds_localhost_keeps_the_token_and_allows_root_only_for_root(as_root):
    command = entry.lab_command(
        Path("/course/notebooks"), python="py", port=9000, as_root=as_root, extra=["--x"]
    )
    assert command[:7] == ["py", "-m", "jupyterlab", "--ip", "127.0.0.1", "--port", "9000"]
    assert ("--allow-root" in command) == as_root
    assert f"--ServerApp.root_dir={Path('/course/notebooks')}" in command
    assert command[-1] == "--x"
    assert not any("token" in part.lower() or "password" in part.lower() for part in command)


def test_lab_job_replaces_itself_with_jupyterlab_on_posix(monkeypatch):
    seen = []

    def fake_execv(path, argv):
        seen.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(entry.os, "execv", fake_execv)
    monkeypatch.setattr(entry, "_posix", lambda: True)
    monkeypatch.setattr(entry.os, "geteuid", lambda: 1000, raising=False)
    monkeypatch.setenv("PORT", "8899")
    with pytest.raises(SystemExit):
        entry.main(["lab", "--no-browser"])
    (argv,) = seen
    assert argv[0] == sys.executable and argv[1:3] == ["-m", "jupyterlab"]
    assert "--allow-root" not in argv and argv[argv.index("--port") + 1] == "8899"
    assert f"--ServerApp.root_dir={REPO / 'notebooks'}" in argv and argv[-1] == "--no-browser"


def test_lab_job_on_windows_waits_for_jupyterlab(monkeypatch):
    seen = []
    monkeypatch.setattr(entry, "_posix", lambda: False)
    monkeypatch.delattr(entry.os, "geteuid", raising=False)  # Windows has no geteuid
    monkeypatch.setattr(entry, "_run", lambda command, cwd, env=None: seen.append(command) or 0)
    assert entry.main(["lab"]) == 0
    assert "--allow-root" not in seen[0] and "127.0.0.1" in seen[0]


def test_lab_job_without_jupyterlab_says_how_to_install_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jupyterlab" else real(name)
    )
    with pytest.raises(SystemExit) as exit_:
        entry.main(["lab"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "JupyterLab is not installed in this Python" in err
    assert f'-m pip install -e "{REPO}[lab]"' in err


def test_test_steps_run_the_project_checks_in_order():
    steps = entry.build_steps(REPO, ["-x"])
    titles = [s.title.split(" ")[0] for s in steps]
    assert titles == ["Lint", "Format", "Notebooks", "Types", "Package", "Every"]
    for step in steps:  # every step's tool is installed in this (the test) environment
        assert step.command[0] == sys.executable and step.command[1] == "-m"
        assert importlib.util.find_spec(step.command[2]) is not None, step.command[2]
    stored = {p.relative_to(REPO).as_posix() for p in REPO.glob("notebooks/**/*.ipynb")}
    stored = {p for p in stored if ".ipynb_checkpoints" not in p}
    assert stored and stored <= set(steps[2].command)
    assert steps[4].command[-1] == "-x"  # pytest options go to the main test run
    assert "--default-start-method=spawn" in steps[5].command  # notebooks as on macOS/Windows


def test_run_steps_stops_at_the_first_failure_and_prints_its_fix(capsys):
    ran = []
    steps = [
        entry.Step("one", ("a",)),
        entry.Step("two", ("b",), fix="do this"),
        entry.Step("three", ("c",)),
    ]

    def runner(command, cwd, env=None):
        ran.append(command[0])
        return 3 if command == ["b"] else 0

    assert entry.run_steps(steps, cwd=REPO, runner=runner) == 3
    assert ran == ["a", "b"]
    err = capsys.readouterr().err
    assert "FAILED: two (exit code 3)." in err and "do this" in err
    assert entry.run_steps(steps[:1], cwd=REPO, runner=runner) == 0


def test_test_job_makes_the_browser_test_mandatory_in_ci(monkeypatch):
    envs = []
    monkeypatch.setattr(entry, "_run", lambda command, cwd, env=None: envs.append(env) or 0)
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv(entry.REQUIRE_BROWSER_ENV, raising=False)
    assert entry.main(["test"]) == 0
    assert len(envs) == len(entry.build_steps(REPO)) and all(
        e[entry.REQUIRE_BROWSER_ENV] == "1" for e in envs
    )
    monkeypatch.delenv("CI")
    envs.clear()
    entry.main(["test"])
    assert all(entry.REQUIRE_BROWSER_ENV not in e for e in envs)


def test_run_returns_the_exit_code():
    code = entry._run([sys.executable, "-c", "raise SystemExit(3)"], cwd=REPO)
    assert code == 3


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM from outside is a POSIX signal")
def test_run_passes_sigterm_on_to_the_command():
    """A CI timeout's SIGTERM must reach pytest (which then shuts its kernels down), not only
    the entry point that started it."""
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        code = entry._run([sys.executable, "-c", "import time; time.sleep(30)"], cwd=REPO)
    finally:
        timer.cancel()
        timer.join()
    assert code == -signal.SIGTERM
