"""Root conftest: make an external SIGTERM (CI timeout, kill) tear pytest down cleanly.

Without this, a SIGTERM kills pytest at once and leaves nbval's Jupyter kernels and
their child processes running with no parent. As a KeyboardInterrupt, pytest unwinds
its fixtures and shuts the kernels down.

Only the pytest process itself converts the signal: a child made with ``fork``
inherits this handler, and there SIGTERM must keep its default meaning (die now),
or ``Process.terminate()`` and ``Pool.terminate()`` would no longer stop it.

nbval's kernels are shut down politely here (nbval kills them): a killed kernel takes its
``multiprocessing`` resource tracker with it, and the named semaphores that objects made
under spawn or forkserver still held then stay in /dev/shm for good.
"""

import os
import signal
import sys
import time

_PYTEST_PID = os.getpid()


def _sigterm_to_interrupt(signum, frame):
    if os.getpid() != _PYTEST_PID:  # a forked child: behave as if no handler were set
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise KeyboardInterrupt(f"received signal {signum}")


signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
if hasattr(os, "register_at_fork"):
    # A forked child (a pool worker) gets SIGTERM's default back before it runs anything: a
    # Python-level handler only runs between bytecodes, so a worker busy in C code would not
    # die on terminate() until it returned to Python.
    os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))


def pytest_addoption(parser):
    parser.addoption(
        "--default-start-method",
        choices=("fork", "spawn", "forkserver"),
        default=None,
        help=(
            "make every notebook kernel use this multiprocessing start method by default "
            "(spawn = as on macOS and Windows), through an IPython start-up file"
        ),
    )


def _stop_kernel_politely(self):
    """nbval's ``RunningKernel.stop``, asking the kernel to exit instead of killing it.

    The kernel then runs its clean-up, and its resource tracker unlinks what the kernel's
    objects still held; jupyter_client kills it anyway if it has not exited within its
    ``shutdown_wait_time`` (5 s).
    """
    self.kc.stop_channels()
    self.km.shutdown_kernel(now=False)
    del self.km


def pytest_configure(config):
    try:
        from nbval.kernel import RunningKernel
    except ImportError:
        pass
    else:
        RunningKernel.stop = _stop_kernel_politely
    method = config.getoption("--default-start-method", default=None)
    if not method:
        return
    import tempfile
    from pathlib import Path

    ipython_dir = Path(tempfile.mkdtemp(prefix="lab-ipython-"))
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-start-method.py").write_text(
        f"import multiprocessing\nmultiprocessing.set_start_method({method!r}, force=True)\n",
        encoding="utf-8",
    )
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    os.environ["CONCURRENCY_LAB_DEFAULT_START_METHOD"] = method


# --------------------------------------------------------------------------- nothing left behind

_SHM = "/dev/shm"


def _shared_memory_names():
    """Names multiprocessing gives named semaphores and shared memory (Linux keeps them here)."""
    if not sys.platform.startswith("linux") or not os.path.isdir(_SHM):
        return set()
    return {n for n in os.listdir(_SHM) if n.startswith(("sem.mp-", "psm_"))}


def pytest_sessionstart(session):
    session.config._shm_before = _shared_memory_names()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if it left semaphores or shared memory in /dev/shm (e.g. a notebook's).

    tests/conftest.py checks each test; this checks the whole session, notebooks included.
    A kernel's resource tracker may still be cleaning up as the session ends: wait a little.
    """
    before = getattr(session.config, "_shm_before", None)
    if before is None:
        return
    deadline = time.monotonic() + 10
    left = _shared_memory_names() - before
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _shared_memory_names() - before
    if left:
        names = ", ".join(sorted(left)[:10])
        print(f"\nLEFT BEHIND in {_SHM} by this run ({len(left)}): {names}", file=sys.stderr)
        session.exitstatus = 1
