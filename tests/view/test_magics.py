"""%%worker_module: UTF-8 files, no overwriting of foreign files, no shadowing, a writable
fallback folder; and the friendly error when an optional part of the course is missing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from concurrency_lab.view import magics


@pytest.fixture
def clean_modules():
    before = set(sys.modules)
    path = list(sys.path)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("lab_magic_test"):
            del sys.modules[name]
    sys.path[:] = path


def test_non_ascii_source_is_written_as_utf8(tmp_path, clean_modules):
    source = '# Grüße, café → ✓\ndef greet():\n    return "héllo ✓"\n'
    mod = magics.write_worker_module("lab_magic_test_utf8", source, directory=tmp_path)
    assert mod.greet() == "héllo ✓"
    raw = (tmp_path / "lab_magic_test_utf8.py").read_bytes()
    assert "Grüße".encode() in raw  # UTF-8 bytes whatever the locale (cp1252 on Windows)


def test_a_file_the_magic_did_not_write_is_never_overwritten(tmp_path, clean_modules):
    mine = tmp_path / "lab_magic_test_own.py"
    mine.write_text("VALUE = 'my own file'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="was not written by %%worker_module; it is left alone"):
        magics.write_worker_module("lab_magic_test_own", "X = 1\n", directory=tmp_path)
    assert mine.read_text(encoding="utf-8") == "VALUE = 'my own file'\n"


def test_rewriting_its_own_file_takes_the_edit_at_once(tmp_path, clean_modules):
    mod = magics.write_worker_module("lab_magic_test_edit", "X = 1\n", directory=tmp_path)
    assert mod.X == 1
    mod = magics.write_worker_module("lab_magic_test_edit", "X = 2\n", directory=tmp_path)
    assert mod.X == 2  # same length, same second: the stale bytecode was dropped


def test_a_name_that_would_hide_another_module_is_refused(tmp_path, clean_modules):
    with pytest.raises(ValueError, match="already the name of an imported module"):
        magics.write_worker_module("json", "X = 1\n", directory=tmp_path)
    assert "antigravity" not in sys.modules  # importable, not imported
    with pytest.raises(ValueError, match="would hide the module of the same name"):
        magics.write_worker_module("antigravity", "X = 1\n", directory=tmp_path)
    assert not (tmp_path / "json.py").exists() and not (tmp_path / "antigravity.py").exists()


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else False, reason="root")
def test_a_read_only_folder_falls_back_to_a_per_user_folder(
    tmp_path, monkeypatch, clean_modules
):  # pragma: no cover - CI runs as root; see the test below
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mod = magics.write_worker_module("lab_magic_test_ro", "X = 3\n", directory=ro)
    assert mod.X == 3 and str(tmp_path / "cache") in mod.__file__


def test_an_unwritable_folder_falls_back_to_a_per_user_folder(tmp_path, monkeypatch, clean_modules):
    notebook_folder = tmp_path / "course" / "notebooks"
    notebook_folder.mkdir(parents=True)
    real = magics._writable
    monkeypatch.setattr(magics, "_writable", lambda f: f != notebook_folder and real(f))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "cache"))
    mod = magics.write_worker_module("lab_magic_test_ro2", "X = 4\n", directory=notebook_folder)
    assert mod.X == 4
    assert mod.__file__.startswith(str(tmp_path / "cache"))
    assert not list(notebook_folder.iterdir())


MISSING_MATPLOTLIB = """
import sys
sys.modules["matplotlib"] = None  # as if the 'lab' extra were not installed
import concurrency_lab as cl
try:
    cl.plot_timeline
except ImportError as exc:
    print(type(exc).__name__, exc)
"""


def test_a_missing_optional_part_says_how_to_install_it_from_the_course_folder():
    out = subprocess.run(
        [sys.executable, "-c", MISSING_MATPLOTLIB], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "ImportError cl.plot_timeline needs matplotlib" in out.stdout
    assert '-m pip install -e "' in out.stdout and '[lab]"' in out.stdout
    assert "pip install concurrency_lab" not in out.stdout and "'concurrency_lab[" not in out.stdout
