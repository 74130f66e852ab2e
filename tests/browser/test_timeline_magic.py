"""``%%timeline`` in real JupyterLab: plain threading code runs, and its timeline appears.

A small notebook (written into the server's temporary folder) loads the extension and runs
two CPU-bound threads in a ``%%timeline`` cell, exactly as a learner would in lesson 02. The
test checks that the cell shows the code's own output, then one image whose alternative text
(the figure's summary) says how many threads ran, and that nothing was reported as an error.

Run:  python -m pytest tests/browser/test_timeline_magic.py     (about 30 s)
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "timeline-magic.ipynb"
TIMEOUT_S = 90.0

CELLS = [
    "%load_ext concurrency_lab",
    """\
%%timeline
import threading

def countdown(n):
    while n > 0:
        n -= 1

threads = [threading.Thread(target=countdown, args=(1_500_000,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("both threads joined")
""",
    "print(_timeline.summary())",
]


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_timeline_magic_draws_the_figure_under_the_cell(browser_context, lab_server, artifacts_dir):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(nb, lab_server.root / NOTEBOOK)
    page = browser_context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(lab_server.lab_url(NOTEBOOK))
        page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for()
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        cells = page.locator(".jp-CodeCell")
        last = cells.nth(2)
        _wait_for(
            lambda: "2 threads" in " ".join(last.locator(".jp-OutputArea").all_text_contents()),
            TIMEOUT_S,
            "the summary printed by the last cell",
        )
        watched = cells.nth(1)
        assert "both threads joined" in watched.locator(".jp-OutputArea").inner_text()
        images = watched.locator(".jp-RenderedImage img")
        _wait_for(lambda: images.count() == 1, 10, "one timeline image under the cell")
        box = images.first.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150, box
        assert page.locator(".jp-OutputArea-output[data-mime-type*='error']").count() == 0
        text = " ".join(page.locator(".jp-OutputArea").all_text_contents())
        assert "Traceback" not in text, text
    finally:
        try:
            page.locator(".jp-Notebook").first.screenshot(
                path=str(artifacts_dir / "timeline-magic.png")
            )
        finally:
            page.close()
            lab_server.shutdown_kernels_of(NOTEBOOK)
