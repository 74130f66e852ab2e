"""Shared fixtures: a test must leave no child process, shared-memory segment or thread behind."""

from __future__ import annotations

import os
import threading
import time

import psutil
import pytest

# Long-lived helpers that multiprocessing keeps on purpose, one per parent process.
_SINGLETON_HELPERS = ("forkserver", "resource_tracker")
_GRACE_S = 5.0
# Threads that libraries start once and keep for the life of the process.
_SINGLETON_THREADS = ("IPythonHistorySavingThread",)


def _children() -> dict[int, str]:
    out = {}
    for p in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(p.cmdline())
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
        if any(h in cmd for h in _SINGLETON_HELPERS):
            continue
        out[p.pid] = cmd
    return out


def _shm() -> set[str]:
    try:
        return set(os.listdir("/dev/shm"))
    except FileNotFoundError:  # not Linux
        return set()


def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive() and t.name not in _SINGLETON_THREADS}


@pytest.fixture(autouse=True)
def no_leftovers(request):
    """Fail the test if it leaves a child process, a /dev/shm entry or a thread running."""
    kids, shm, threads = set(_children()), _shm(), _threads()
    yield
    if request.node.get_closest_marker("notebooks") or request.node.get_closest_marker("browser"):
        return
    deadline = time.monotonic() + _GRACE_S
    while True:
        new_kids = {pid: cmd for pid, cmd in _children().items() if pid not in kids}
        new_shm = _shm() - shm
        new_threads = [t for t in _threads() - threads if t.is_alive()]
        if not (new_kids or new_shm or new_threads) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for pid in new_kids:  # clean up, then report
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    problems = []
    if new_kids:
        problems.append(f"child processes left running: {new_kids}")
    if new_shm:
        problems.append(f"/dev/shm entries left behind: {sorted(new_shm)}")
    if new_threads:
        problems.append(f"threads left running: {[t.name for t in new_threads]}")
    assert not problems, "; ".join(problems)
