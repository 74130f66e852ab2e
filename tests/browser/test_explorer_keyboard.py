"""An Explorer in real JupyterLab, with the keyboard only: labels, tooltips, the result in words.

A small notebook (written into the server's temporary folder) builds an explorer from the
compact specs of ``concurrency_lab/view/explorer.py``. The test focuses the slider, moves it
with an arrow key, tabs to the Run button, presses Enter, and checks that the plot is redrawn
and that the sentence under the button, in a polite live region a screen reader announces,
states the new result.

Run:  python -m pytest tests/browser/test_explorer_keyboard.py     (about 30 s)
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "explorer-keyboard.ipynb"
TIMEOUT_S = 90.0

CELL = """\
from dataclasses import dataclass

from concurrency_lab.core.results import Result
from concurrency_lab.view import style
from concurrency_lab.view.explorer import Choice, Explorer, Slider, Toggle


@dataclass(frozen=True)
class Squares(Result):
    n: int
    kind: str
    odd_only: bool

    def numbers(self):
        return [i for i in range(1, self.n + 1) if i % 2 or not self.odd_only]

    def summary(self):
        total = sum(i * i for i in self.numbers())
        return f"The squares of {len(self.numbers())} numbers up to {self.n} add up to {total}."


def draw(r):
    fig, ax = style.new_axes(figsize=(4, 2.5))
    ax.bar(r.numbers(), [i * i for i in r.numbers()], **style.category(r.kind).fill())
    ax.set(title=f"squares up to {r.n}", xlabel="number", ylabel="square (count)")
    return style.finish(fig, summary=f"{len(r.numbers())} bars; the tallest is {r.n * r.n}.")


ex = Explorer(
    lambda **kw: Squares(**kw),
    {
        "n": Slider("largest number", 1, 9, value=3, help="the last number to square"),
        "kind": Choice("bar style", ["thread", "process"], help="which category style to draw"),
        "odd_only": Toggle("odd numbers only", help="leave out the even numbers"),
    },
    draw=draw,
    title="Sum of squares",
)
ex.run()
ex
"""


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def _focused(page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return {tag: e.tagName, text: (e.textContent || '').trim(),"
        " cls: e.className || ''}; }"
    )


def test_an_explorer_works_from_the_keyboard_and_says_its_result(
    browser_context, lab_server, artifacts_dir
):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
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
        cell = page.locator(".jp-CodeCell").first
        status = cell.locator(".widget-html [aria-live='polite']")
        _wait_for(
            lambda: status.count() and "up to 3 add up to 14" in status.first.text_content(),
            TIMEOUT_S,
            "the first result sentence",
        )
        assert cell.locator(".jp-RenderedImage img").count() == 1

        # Every control shows a label that says what it changes, and has a tooltip.
        # (ipywidgets 8 puts the tooltip on the label; a check box shows no tooltip when it
        # has a description, but its visible label wraps the box, so it names it.)
        controls = {
            ".widget-slider": ("largest number", "the last number to square"),
            ".widget-toggle-buttons": ("bar style", "which category style to draw"),
        }
        for selector, (label, tooltip) in controls.items():
            shown = cell.locator(f"{selector} > .widget-label").first
            assert shown.inner_text() == label and shown.get_attribute("title") == tooltip
        box = cell.locator(".widget-checkbox label.widget-label-basic").first
        assert box.inner_text() == "odd numbers only"
        assert box.locator("input[type='checkbox']").count() == 1
        slider = cell.locator(".widget-slider").first

        # Keyboard only: arrow the slider up, Tab to Run, press Enter.
        handle = slider.locator(".noUi-handle").first
        handle.focus()
        assert handle.get_attribute("aria-valuenow") in ("3", "3.0")
        handle.press("ArrowRight")
        _wait_for(
            lambda: slider.locator(".widget-readout").first.text_content().strip() == "4",
            10,
            "the slider to show 4",
        )
        for _ in range(12):
            page.keyboard.press("Tab")
            now = _focused(page)
            if now["tag"] == "BUTTON" and now["text"] == "Run":
                break
        else:
            raise AssertionError(f"Tab never reached the Run button (last focus: {now})")
        before = cell.locator(".jp-RenderedImage img").first.get_attribute("src")
        page.keyboard.press("Enter")
        _wait_for(
            lambda: "up to 4 add up to 30" in status.first.text_content(),
            TIMEOUT_S,
            "the sentence to state the new result",
        )
        _wait_for(
            lambda: (
                cell.locator(".jp-RenderedImage img").count() == 1
                and cell.locator(".jp-RenderedImage img").first.get_attribute("src") != before
            ),
            TIMEOUT_S,
            "the plot to be redrawn",
        )
        _wait_for(
            lambda: cell.locator("button", has_text=re.compile(r"^\s*Run\s*$")).is_enabled(),
            10,
            "the Run button to be enabled again",
        )
        text = " ".join(cell.locator(".widget-output").all_text_contents())
        assert "Traceback" not in text and "⚠" not in text, text
    finally:
        try:
            page.locator(".jp-OutputArea").first.screenshot(
                path=str(artifacts_dir / "explorer-keyboard.png")
            )
        finally:
            page.close()
            lab_server.shutdown_kernels_of(NOTEBOOK)
