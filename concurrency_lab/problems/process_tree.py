"""A process and the processes it started: zombies, orphans, and stopping a whole tree.

Zombies and re-parenting are POSIX ideas (Linux, macOS). On Windows the demos say what
Windows does instead, rather than report a wrong result: it has no zombie state, and a
process whose parent died keeps running with its parent's (now stale) process id.

:func:`kill_tree` is the one helper the clinic uses to stop a process and everything it
started (built on psutil's ``children(recursive=True)`` and ``wait_procs``).

Introduced in ``08-common-problems.ipynb``.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..core.children import stop_processes
from ..core.errors import LabError
from ..core.machine import check_start_method, get_context
from ..core.results import Result
from ..core.validate import check_timeout
from ..core.workloads import noop
from .vocabulary import StartMethodName, check_fixed

__all__ = [
    "OrphanResult",
    "ZombieResult",
    "kill_tree",
    "orphan_demo",
    "start_grandchild",
    "start_two_levels",
    "stop_pool",
    "wait_gone",
    "zombie_demo",
]

_SLEEPER = "import time; time.sleep(60)"


# --------------------------------------------------------------------------- stopping a tree


def wait_gone(procs: Iterable[Any], timeout_s: float = 5.0) -> list[Any]:
    """Wait until each ``psutil.Process`` has ended; return those still running at the end.

    A process that has ended but is not yet reaped (a zombie, waiting for whoever adopted
    it) counts as ended: it runs no code any more.
    """
    import psutil

    procs = list(procs)
    _, alive = psutil.wait_procs(procs, timeout=min(0.2, timeout_s))
    deadline = time.monotonic() + timeout_s
    left = []
    for p in alive:
        while True:
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            if time.monotonic() > deadline:
                left.append(p)
                break
            time.sleep(0.005)
    return left


def kill_tree(pid: int, *, include_root: bool = True, timeout_s: float = 5.0) -> tuple[int, ...]:
    """Kill process ``pid`` and every process below it; return the pids killed.

    The whole tree is listed *first* (``psutil.Process(pid).children(recursive=True)``):
    once a parent is dead its children can no longer be found through it. Then every
    process is killed (``Process.kill()``: SIGKILL on POSIX, TerminateProcess on Windows)
    and waited for. Elsewhere the same job is done by a process group
    (``subprocess.Popen(..., start_new_session=True)`` then ``os.killpg``, POSIX) or a
    Windows Job Object.

    Args:
        pid: the root of the tree.
        include_root: kill ``pid`` itself too (``False``: only what it started).
        timeout_s: the longest wait for the processes to end.

    Introduced in ``08-common-problems.ipynb``.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [*root.children(recursive=True), *([root] if include_root else [])]
    except psutil.Error:
        return ()
    for p in tree:
        with contextlib.suppress(psutil.Error):
            p.kill()
    wait_gone(tree, timeout_s)
    return tuple(p.pid for p in tree)


def stop_pool(pool: Any, timeout_s: float = 5.0) -> None:
    """``pool.terminate()`` for a ``multiprocessing.Pool``, and then ``join()``, never hanging.

    ``terminate()`` sends SIGTERM to the workers and waits for them without a timeout. A
    worker that cannot act on SIGTERM (one that a Python-level handler owns, stuck in C code,
    e.g. a lock copied held by ``fork``) would block it forever: after ``timeout_s`` such
    workers are killed, which lets ``terminate()`` return.
    """
    stopper = threading.Thread(target=pool.terminate, name="lab-pool-stop", daemon=True)
    stopper.start()
    stopper.join(timeout_s)
    if stopper.is_alive():
        for worker in list(getattr(pool, "_pool", ())):  # the pool's worker processes
            with contextlib.suppress(Exception):
                worker.kill()
        stopper.join(timeout_s)
    pool.join()


# --------------------------------------------------------------------------- zombies


@dataclass(frozen=True)
class ZombieResult(Result):
    """A child that finished before its parent waited for it.

    Attributes:
        supported: this system has zombies (POSIX); ``False`` on Windows, where nothing ran.
        status_before_join: the child's state before ``join()``, e.g. ``"zombie"``.
        exists_after_join: whether any trace of it was left after ``join()``.
    """

    supported: bool
    status_before_join: str
    exists_after_join: bool

    def summary(self) -> str:
        if not self.supported:
            return (
                "Windows has no zombies: a process that has ended keeps only its exit code, "
                "for as long as someone holds a handle to it (multiprocessing does until "
                "join()), and then disappears. Nothing was started."
            )
        before = (
            "was a zombie: finished, but still in the process table holding its exit code"
            if self.status_before_join == "zombie"
            else f"was {self.status_before_join!r}"
        )
        after = "was gone" if not self.exists_after_join else "was still listed"
        return f"Before join() the child {before}. After join() it {after}."


def zombie_demo(
    *, start_method: StartMethodName = "spawn", timeout_s: float = 10.0
) -> ZombieResult:
    """Start a child that exits at once, look at it before ``join()``, then join it.

    A finished child stays in the process table as a *zombie* (it keeps its exit code for
    the parent) until the parent waits for it, which ``join()`` does. Only ``fork`` and
    ``spawn`` children are our own; a ``forkserver`` child is the server's, which reaps it.

    Introduced in ``08-common-problems.ipynb``.
    """
    if start_method not in ("fork", "spawn"):
        raise ValueError(
            f"'start_method' must be 'fork' or 'spawn' for this demo (got {start_method!r}): "
            f"a forkserver child is the server's child, not ours."
        )
    timeout_s = check_timeout(timeout_s)
    if sys.platform == "win32":
        return ZombieResult(False, "", False)
    import psutil

    ctx = get_context(check_start_method(start_method))
    p = ctx.Process(target=noop, daemon=True)  # type: ignore[attr-defined]
    p.start()
    pid = p.pid
    status = "unknown"
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                status = psutil.Process(pid).status()
            except psutil.NoSuchProcess:
                status = "gone"
                break
            if status == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.01)
    finally:
        p.join(timeout_s)
        stop_processes([p])
    try:
        exists = psutil.Process(pid).status() is not None
    except psutil.NoSuchProcess:
        exists = False
    return ZombieResult(True, status, exists)


# --------------------------------------------------------------------------- orphans


def start_grandchild(conn: Any) -> None:
    """In a child: start one more process (a sleeper), send its pid, then wait to be stopped."""
    grandchild = subprocess.Popen([sys.executable, "-c", _SLEEPER])
    conn.send(grandchild.pid)
    conn.close()
    time.sleep(60)


_START_ONE_MORE = (
    "import subprocess, sys, time\n"
    f"c = subprocess.Popen([sys.executable, '-c', {_SLEEPER!r}])\n"
    "print(c.pid, flush=True)\n"
    "time.sleep(60)\n"
)


def start_two_levels(conn: Any) -> None:
    """In a child: start a process that starts one more; send both pids, then wait."""
    grandchild = subprocess.Popen([sys.executable, "-c", _START_ONE_MORE], stdout=subprocess.PIPE)
    assert grandchild.stdout is not None
    line = grandchild.stdout.readline()  # the great-grandchild's pid (b"" if it failed)
    conn.send((grandchild.pid, int(line)))
    conn.close()
    time.sleep(60)


@dataclass(frozen=True)
class OrphanResult(Result):
    """What happened to a grandchild when its parent (our child) was killed.

    Attributes:
        fixed: ``True`` = the whole tree was stopped (children first).
        child_pid, grandchild_pid: the two processes.
        orphan_survived: the grandchild was still running after its parent had died.
        grandchild_parent_after: the grandchild's parent pid then (``None`` if it had ended).
        platform: ``sys.platform`` (POSIX re-parents orphans; Windows does not).
    """

    fixed: bool
    child_pid: int
    grandchild_pid: int
    orphan_survived: bool
    grandchild_parent_after: int | None
    platform: str

    def summary(self) -> str:
        if not self.orphan_survived:
            how = "stopping the whole tree (children first)" if self.fixed else "killing it"
            return (
                f"After {how}, nothing was left: the worker ({self.child_pid}) and its child "
                f"({self.grandchild_pid}) are both gone."
            )
        text = (
            f"We killed the worker ({self.child_pid}), but its child ({self.grandchild_pid}) "
            f"kept running: an orphan."
        )
        if self.platform == "win32":
            text += (
                f" Windows does not re-parent orphans: it still names the dead worker "
                f"({self.child_pid}) as its parent, so check whether the parent is alive, "
                f"not whether the parent pid changed."
            )
        elif self.grandchild_parent_after in (None, self.child_pid):
            text += f" It still named the dead worker ({self.child_pid}) as its parent."
        else:
            text += (
                f" The system re-parented it to process {self.grandchild_parent_after} "
                f"(init, or a 'subreaper' such as systemd)."
            )
        return text + " Killing a process does not kill its children. (The lab stopped it.)"


def orphan_demo(
    *,
    fixed: bool = False,
    start_method: StartMethodName | None = None,
    timeout_s: float = 10.0,
) -> OrphanResult:
    """Kill a worker that started a process of its own: is the grandchild left behind?

    Killing a process (``kill()``, ``terminate()``, a crash) does not kill its children:
    they become *orphans* and run on. With ``fixed=True`` the worker's children are listed
    and killed first (:func:`kill_tree`), then the worker. The grandchild counts as an
    orphan when it is still running after its parent has died and been joined: on POSIX the
    system gives it a new parent, on Windows its parent pid stays the dead one's. The lab
    always stops the grandchild at the end.

    Introduced in ``08-common-problems.ipynb``.
    """
    import psutil

    fixed = check_fixed(fixed)
    ctx = get_context(check_start_method(start_method))
    timeout_s = check_timeout(timeout_s)
    reader, writer = ctx.Pipe(duplex=False)
    p = ctx.Process(  # type: ignore[attr-defined]
        target=start_grandchild, args=(writer,), daemon=False
    )
    grandchild_pid = None
    try:
        p.start()
        writer.close()
        if not reader.poll(timeout_s):
            raise LabError("the worker did not report its child in time; run it again")
        grandchild_pid = int(reader.recv())
        if fixed:
            kill_tree(p.pid, include_root=False)
        p.kill()
        p.join(timeout_s)
        survived, parent_after = False, None
        with contextlib.suppress(psutil.NoSuchProcess):
            grandchild = psutil.Process(grandchild_pid)
            survived = bool(wait_gone([grandchild], timeout_s=0.3))
            if survived:
                parent_after = grandchild.ppid()
    finally:
        reader.close()
        if p.pid is not None:
            stop_processes([p])
        if grandchild_pid is not None:
            kill_tree(grandchild_pid)
    return OrphanResult(
        fixed=fixed,
        child_pid=p.pid,
        grandchild_pid=grandchild_pid,
        orphan_survived=survived,
        grandchild_parent_after=parent_after,
        platform=sys.platform,
    )
