"""Root conftest: make an external SIGTERM (CI timeout, kill) tear pytest down cleanly.

Without this, a SIGTERM kills pytest at once and leaves nbval's Jupyter kernels and
their child processes running with no parent. As a KeyboardInterrupt, pytest unwinds
its fixtures and shuts the kernels down.

Only the pytest process itself converts the signal: a child made with ``fork``
inherits this handler, and there SIGTERM must keep its default meaning (die now),
or ``Process.terminate()`` and ``Pool.terminate()`` would no longer stop it.
"""

import os
import signal

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


def pytest_configure(config):
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
