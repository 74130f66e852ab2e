"""Root conftest: make an external SIGTERM (CI timeout, kill) tear pytest down cleanly.

Without this, a SIGTERM kills pytest at once and leaves nbval's Jupyter kernels and
their child processes running with no parent. As a KeyboardInterrupt, pytest unwinds
its fixtures and shuts the kernels down.
"""

import signal


def _sigterm_to_interrupt(signum, frame):
    raise KeyboardInterrupt(f"received signal {signum}")


signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
