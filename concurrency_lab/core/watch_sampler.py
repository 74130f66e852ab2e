"""The watcher's sampler: a separate process that reads how long each thread was on a CPU.

:func:`concurrency_lab.core.watch.watch` starts this file as its own Python process::

    python -I -S .../watch_sampler.py --root PID --interval 0.001

It is a separate *process* on purpose: a sampler thread inside the watched interpreter would
need the GIL to take a sample, and CPU-bound threads hold the GIL; a separate process reads
the kernel's counters whenever the OS gives it a CPU, so a busy interpreter cannot hide or
distort its own picture. It runs by path, in isolated mode, with the standard library only
(plus psutil for the ``psutil`` reader), so it starts in about 10 ms, the same way under
every start method, whatever files sit in the learner's folder.

Readers:

* ``proc`` (Linux): every ``interval`` it re-reads, with ``os.pread`` on file descriptors it
  keeps open, ``/proc/<pid>/task/<tid>/schedstat`` of every thread of the watched process and
  of all its descendants, and finds new threads and child processes through
  ``/proc/<pid>/task`` and ``/proc/<pid>/task/<tid>/children``. Of the three fields it keeps
  the first (nanoseconds on a CPU since the thread began) and the third (how many times the
  thread was switched onto a CPU). The kernel brings the first up to date when the thread
  leaves a CPU and at each scheduler tick (every 1–10 ms, ``CONFIG_HZ``), so a thread that
  stays on a CPU shows a staircase; the third says whether it stayed (see
  :func:`concurrency_lab.core.watch_build.smooth_ticks`).
* ``psutil`` (other systems): every ``interval`` (20 ms by default) the CPU time of each
  descendant process; the watcher reports these as totals only.

Protocol: after its first full scan it writes ``ready <ns>`` to stdout. Any line or end of
file on stdin means stop: it takes one last sample, writes ``data <n>`` and ``n`` bytes of
samples in :mod:`marshal` format (plain ints, bytes, lists and dicts: nothing to import,
nothing but data), and exits. It also stops if its parent dies.

Introduced in ``02-the-gil.ipynb`` (through ``cl.watch()`` and ``%%timeline``).
"""

from __future__ import annotations

import marshal
import os
import select
import sys
import time
from array import array

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3 ms at start-up
if TYPE_CHECKING:
    from typing import Any

FORMAT = 2
# How often (in polls) to check that the parent is still alive.
_PARENT_CHECK_EVERY = 64
# Without /proc/.../children (kernels built without CONFIG_PROC_CHILDREN), scan /proc for
# parent ids at most this often, in seconds.
_SCAN_EVERY_S = 0.02
# Read a new process's command line again after this many polls (after its exec).
_RENAME_AFTER_POLLS = 5
# Look for new threads and processes, and for exits, about this often (seconds).
_SLOW_EVERY_S = 0.004


class ProcReader:
    """Per-thread on-CPU nanoseconds of a process tree, from Linux ``/proc``."""

    kind = "proc"

    def __init__(self, root: int, exclude: int, interval_s: float) -> None:
        self.root = root
        self.exclude = exclude
        self.max_read_ns = int(interval_s * 1e9) // 4
        # Discovery and exit checks cost more than a sample: do them every ~4 ms. A thread
        # that lives less than that is still named and timed by the watcher's own hook.
        self.slow_every = max(1, round(_SLOW_EVERY_S / interval_s))
        self.k = 0
        # Tasks: one row per thread ever seen. Parallel lists keep the hot loop cheap.
        self.task_key: list[tuple[int, int]] = []
        self.task_first: list[int] = []
        self.task_last: list[int] = []  # last poll at which the read worked
        self.task_ended: list[bool] = []
        # Flat (poll, ns on CPU, times switched in) triples, only when something changed.
        self.task_changes: list[array[int]] = []
        self.task_value: list[Any] = []  # the last line read, as bytes
        self.live: list[tuple[int, int]] = []  # (row, fd) of threads still readable
        self.child_fds: dict[tuple[int, int], int] = {}
        self.known_tasks: set[tuple[int, int]] = set()
        # Processes: pid -> row dict.
        self.procs: dict[int, dict[str, Any]] = {}
        self.live_procs: list[int] = []
        self.unnamed: list[int] = []  # processes whose names we read again soon
        self.use_children_files = os.path.exists(f"/proc/{root}/task/{root}/children")
        self.last_scan = 0.0
        self.add_process(root, parent=0, parent_tid=0, existed=True)

    # ---------------------------------------------------------------- discovery
    def add_process(self, pid: int, *, parent: int, parent_tid: int, existed: bool) -> None:
        if pid in self.procs or pid == self.exclude:
            return
        cmdline, comm = self.read_names(pid)
        try:
            stat_fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        except OSError:
            stat_fd = -1
        self.procs[pid] = {
            "pid": pid,
            "parent": parent,
            "parent_tid": parent_tid,
            "first": self.k,
            "existed": existed,
            "ended": -1,
            "cmdline": cmdline,
            "comm": comm,
            "stat_fd": stat_fd,
            "leader_row": -1,
        }
        self.live_procs.append(pid)
        if not existed:
            self.unnamed.append(pid)
        self.add_tasks(pid, existed=existed)

    def read_names(self, pid: int) -> tuple[bytes, bytes]:
        cmdline = comm = b""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read(400)
            with open(f"/proc/{pid}/comm", "rb") as f:
                comm = f.read(64).strip()
        except OSError:
            pass
        return cmdline, comm

    def refresh_names(self) -> None:
        """Read names again a few polls after a process appeared.

        A child started with fork + exec (the resource tracker, the forkserver, any
        ``subprocess``) shows its parent's command line until its ``exec`` is done.
        """
        for pid in self.unnamed[:]:
            proc = self.procs[pid]
            if self.k - proc["first"] >= _RENAME_AFTER_POLLS:
                self.unnamed.remove(pid)
                if pid in self.live_procs:
                    cmdline, comm = self.read_names(pid)
                    if cmdline:
                        proc["cmdline"], proc["comm"] = cmdline, comm

    def add_tasks(self, pid: int, *, existed: bool) -> None:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return
        proc = self.procs[pid]
        for name in tids:
            tid = int(name)
            key = (pid, tid)
            if key in self.known_tasks:
                continue
            try:
                fd = os.open(f"/proc/{pid}/task/{tid}/schedstat", os.O_RDONLY)
            except OSError:
                continue
            self.known_tasks.add(key)
            row = len(self.task_key)
            self.task_key.append(key)
            self.task_first.append(self.k)
            self.task_last.append(self.k)
            self.task_ended.append(False)
            self.task_changes.append(array("q"))
            self.task_value.append(b"")
            self.live.append((row, fd))
            if tid == pid:
                proc["leader_row"] = row
            if existed:
                self.task_first[row] = 0
            if self.use_children_files:
                try:
                    self.child_fds[key] = os.open(f"/proc/{pid}/task/{tid}/children", os.O_RDONLY)
                except OSError:
                    pass

    def discover(self, *, existed: bool = False) -> None:
        for pid in list(self.live_procs):
            self.add_tasks(pid, existed=existed)
        if self.use_children_files:
            for key, fd in list(self.child_fds.items()):
                try:
                    data = os.pread(fd, 4096, 0)
                except OSError:
                    data = b""
                    os.close(fd)
                    del self.child_fds[key]
                if data:
                    for word in data.split():
                        child = int(word)
                        if child not in self.procs and child != self.exclude:
                            self.add_process(
                                child, parent=key[0], parent_tid=key[1], existed=existed
                            )
        else:
            now = time.monotonic()
            if existed or now - self.last_scan >= _SCAN_EVERY_S:
                self.last_scan = now
                self.scan_for_children(existed=existed)

    def scan_for_children(self, *, existed: bool) -> None:
        """Find children by reading every process's parent id (slow; no children files)."""
        found = True
        while found:  # repeat so grandchildren found in this pass are also followed
            found = False
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                pid = int(name)
                if pid in self.procs or pid == self.exclude:
                    continue
                try:
                    with open(f"/proc/{pid}/stat", "rb") as f:
                        stat = f.read(512)
                    ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
                except (OSError, ValueError):
                    continue
                if ppid in self.procs:
                    self.add_process(pid, parent=ppid, parent_tid=0, existed=existed)
                    found = True

    # ---------------------------------------------------------------- sampling
    def sample(self, *, force: bool = False) -> int | None:
        """Read every live thread's counter; return the sample's time, or None if dropped.

        The time is the middle of the reads. If the reads took longer than a quarter of the
        interval (the OS took the CPU away from us in the middle), the values are not
        stored: they would belong to no single moment, and would show as a false spike.
        """
        pread = os.pread
        live = self.live
        before = time.perf_counter_ns()
        try:
            datas = [pread(fd, 64, 0) for _, fd in live]
        except OSError:  # a thread has gone: read one by one
            datas = []
            for _, fd in live:
                try:
                    datas.append(pread(fd, 64, 0))
                except OSError:
                    datas.append(b"")
        after = time.perf_counter_ns()
        commit = force or after - before <= self.max_read_ns
        if not commit and all(datas):
            return None
        k = self.k
        values = self.task_value
        changes = self.task_changes
        last = self.task_last
        gone = False
        for (row, fd), data in zip(live, datas):
            if not data:
                gone = True
                os.close(fd)
                self.task_ended[row] = True
            elif commit:
                if data != values[row]:  # the whole line: ns on CPU, wait, switch-ins
                    values[row] = data
                    ns, _, runs = data.split(None, 3)[:3]
                    ch = changes[row]
                    ch.append(k)
                    ch.append(int(ns))
                    ch.append(int(runs))
                last[row] = k
        if gone:
            self.live = [pair for pair, data in zip(live, datas) if data]
        return (before + after) // 2 if commit else None

    def check_exits(self) -> None:
        """Mark processes that have exited (zombies, or gone) at this poll."""
        k = self.k
        for pid in list(self.live_procs):
            if pid == self.root:
                continue
            proc = self.procs[pid]
            row = proc["leader_row"]
            if row < 0:
                continue  # never readable: nothing to say about it
            if not self.task_ended[row]:
                ch = self.task_changes[row]
                if (ch and ch[-3] == k) or proc["stat_fd"] < 0:
                    continue  # it just ran (alive), or we cannot tell before it is gone
                try:
                    stat = os.pread(proc["stat_fd"], 512, 0)
                    end = stat.rindex(b")")
                    state = stat[end + 2 : end + 3]
                except (OSError, ValueError):
                    state = b"X"
                if state not in (b"Z", b"X"):
                    continue
            proc["ended"] = k
            self.live_procs.remove(pid)
            if proc["stat_fd"] >= 0:
                os.close(proc["stat_fd"])
                proc["stat_fd"] = -1

    def poll(self, *, first: bool = False, force: bool = False) -> int | None:
        """Sample; every few polls also look for new threads, processes and exits.

        Returns the sample's time, or None if it was dropped.
        """
        slow = first or force or self.k % self.slow_every == 0
        if slow:
            self.discover(existed=first)
        when = self.sample(force=first or force)
        if when is None:
            return None
        if slow:
            self.check_exits()
            if self.unnamed:
                self.refresh_names()
        self.k += 1
        return when

    def close(self) -> None:
        for _, fd in self.live:
            os.close(fd)
        for fd in self.child_fds.values():
            os.close(fd)
        for proc in self.procs.values():
            if proc["stat_fd"] >= 0:
                os.close(proc["stat_fd"])

    def result(self) -> dict[str, Any]:
        for pid in self.live_procs:  # the latest names (after any exec) of those still alive
            cmdline, comm = self.read_names(pid)
            if cmdline:
                self.procs[pid]["cmdline"], self.procs[pid]["comm"] = cmdline, comm
        return {
            "tasks": [
                (
                    key[0],
                    key[1],
                    self.task_first[row],
                    self.task_last[row],
                    self.task_ended[row],
                    self.task_changes[row].tobytes(),
                )
                for row, key in enumerate(self.task_key)
            ],
            "procs": [
                (
                    p["pid"],
                    p["parent"],
                    p["parent_tid"],
                    p["first"],
                    p["existed"],
                    p["ended"],
                    p["cmdline"],
                    p["comm"],
                )
                for p in self.procs.values()
            ],
        }


class PsutilReader(ProcReader):
    """Per-process CPU time of a process tree, through psutil (macOS, Windows, BSD).

    One pseudo-thread per process (tid 0) holds the process's CPU nanoseconds, so the
    result has the same shape as :class:`ProcReader`'s.
    """

    kind = "psutil"

    def __init__(self, root: int, exclude: int, interval_s: float) -> None:
        import psutil  # only this reader needs it

        self.psutil = psutil
        self.handles: dict[int, Any] = {}
        super().__init__(root, exclude, interval_s)

    def add_process(self, pid: int, *, parent: int, parent_tid: int, existed: bool) -> None:
        if pid in self.procs or pid == self.exclude:
            return
        try:
            self.handles[pid] = self.psutil.Process(pid)
        except self.psutil.Error:
            return
        cmdline, comm = self.read_names(pid)
        self.procs[pid] = {
            "pid": pid,
            "parent": parent,
            "parent_tid": parent_tid,
            "first": self.k,
            "existed": existed,
            "ended": -1,
            "cmdline": cmdline,
            "comm": comm,
            "stat_fd": -1,
            "leader_row": len(self.task_key),
        }
        self.live_procs.append(pid)
        if not existed:
            self.unnamed.append(pid)
        self.known_tasks.add((pid, 0))
        self.task_key.append((pid, 0))
        self.task_first.append(0 if existed else self.k)
        self.task_last.append(self.k)
        self.task_ended.append(False)
        self.task_changes.append(array("q"))
        self.task_value.append(-1)
        self.live.append((len(self.task_key) - 1, pid))

    def read_names(self, pid: int) -> tuple[bytes, bytes]:
        try:
            handle = self.handles[pid]
            return " ".join(handle.cmdline())[:400].encode(), handle.name().encode()
        except (self.psutil.Error, KeyError):
            return b"", b""

    def discover(self, *, existed: bool = False) -> None:
        for pid in list(self.live_procs):
            try:
                kids = self.handles[pid].children()
            except self.psutil.Error:
                continue
            for kid in kids:
                if kid.pid not in self.procs:
                    self.add_process(kid.pid, parent=pid, parent_tid=0, existed=existed)

    def sample(self, *, force: bool = False) -> int | None:
        before = time.perf_counter_ns()
        k = self.k
        still = []
        for row, pid in self.live:
            try:
                handle = self.handles[pid]
                if handle.status() == self.psutil.STATUS_ZOMBIE:
                    raise self.psutil.ZombieProcess(pid)
                times = handle.cpu_times()
            except self.psutil.Error:
                self.task_ended[row] = True
                continue
            ns = int((times.user + times.system) * 1e9)
            if ns != self.task_value[row]:
                self.task_value[row] = ns
                self.task_changes[row].extend((k, ns, 0))
            self.task_last[row] = k
            still.append((row, pid))
        self.live = still
        return (before + time.perf_counter_ns()) // 2

    def check_exits(self) -> None:
        for pid in list(self.live_procs):
            row = self.procs[pid]["leader_row"]
            if self.task_ended[row] and pid != self.root:
                self.procs[pid]["ended"] = self.k
                self.live_procs.remove(pid)

    def close(self) -> None:
        self.handles.clear()


class _StopSignal:
    """Wait up to a timeout for a line (or end of file) on stdin."""

    def __init__(self, fd: int | None = None, *, use_thread: bool = sys.platform == "win32"):
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.event: Any = None  # a threading.Event on Windows
        if use_thread:  # Windows: select() works only on sockets there
            import threading

            self.event = threading.Event()
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            os.read(self.fd, 64)
        finally:
            assert self.event is not None
            self.event.set()

    def wait(self, timeout: float) -> bool:
        """True when told to stop (or the parent went away)."""
        if self.event is not None:
            return bool(self.event.wait(max(timeout, 0.0)))
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0.0))
        return bool(ready)


def _write(data: bytes) -> None:
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def run(root: int, parent: int, interval_s: float, reader_kind: str) -> int:
    """Sample until told to stop; return the process exit code."""
    reader_type = ProcReader if reader_kind == "proc" else PsutilReader
    reader = reader_type(root, os.getpid(), interval_s)
    stop = _StopSignal()
    times = array("q")
    times.append(reader.poll(first=True) or time.perf_counter_ns())
    _write(f"ready {times[0]}\n".encode())
    interval_ns = int(interval_s * 1e9)
    next_ns = times[0] + interval_ns
    polls = dropped = 0
    parent_gone = False
    while True:
        if stop.wait((next_ns - time.perf_counter_ns()) / 1e9):
            break
        now = time.perf_counter_ns()
        when = reader.poll()
        if when is None:
            dropped += 1
        else:
            times.append(when)
        next_ns += interval_ns
        if next_ns < now:  # fell behind (the OS gave us no CPU): do not try to catch up
            next_ns = now + interval_ns
        polls += 1
        if polls % _PARENT_CHECK_EVERY == 0 and os.getppid() != parent:
            parent_gone = True
            break
    if not parent_gone:  # the last sample, taken when told to stop
        times.append(reader.poll(force=True) or time.perf_counter_ns())
    if parent_gone:
        reader.close()
        return 0
    payload = {
        "format": FORMAT,
        "reader": reader.kind,
        "root": root,
        "interval_s": interval_s,
        "times": times.tobytes(),
        "own_cpu_s": time.process_time(),
        "dropped": dropped,
        **reader.result(),
    }
    reader.close()
    blob = marshal.dumps(payload)
    try:
        _write(f"data {len(blob)}\n".encode() + blob)
    except (BrokenPipeError, OSError):  # the parent stopped listening
        pass
    return 0


def main(argv: list[str]) -> int:
    """``--root PID --parent PID --interval SECONDS [--reader proc|psutil]``.

    Parsed by hand: ``argparse`` alone would add milliseconds to every watch's start.
    """
    options = dict(zip(argv[::2], argv[1::2]))
    try:
        root, parent = int(options["--root"]), int(options["--parent"])
        interval = float(options["--interval"])
        reader = options.get("--reader", "proc")
    except (KeyError, ValueError):
        print(main.__doc__, file=sys.stderr)
        return 2
    if reader not in ("proc", "psutil") or len(argv) % 2:
        print(main.__doc__, file=sys.stderr)
        return 2
    # Run by path, Python puts this file's folder first on sys.path, where the lab's own
    # modules could shadow ones that psutil imports. (The Linux reader runs with -I, which
    # already leaves it out.)
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    # Ctrl-C is not ours: the watcher starts us in a session (POSIX) or process group
    # (Windows) of our own, so the terminal's interrupt reaches only the watched program.
    return run(root, parent, interval, reader)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
