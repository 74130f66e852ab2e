"""Fixtures for the site tests: the builder's package on the path, and the browser of the
JupyterLab test (imported, not copied: one place launches Chromium with the notes' arguments)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

# Re-exported fixtures: Debian's Chromium (skip, or fail when CONCURRENCY_LAB_REQUIRE_BROWSER=1)
# and one headless browser per module.
from tests.browser.conftest import browser, chromium_path  # noqa: E402, F401
