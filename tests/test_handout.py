"""The decision-guide handout (docs/decision-guide.md) is what tools/handout.py writes from the
lesson's own data, and fits on one printed page."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import concurrency_lab as cl
from tests.choosing.helpers import QUIET, fake_matrix

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import handout  # noqa: E402


def test_the_committed_handout_is_what_the_generator_writes():
    committed = (ROOT / "docs" / "decision-guide.md").read_text(encoding="utf-8")
    assert committed == handout.handout_markdown(), "run: python tools/handout.py"


def test_the_handout_holds_every_row_of_the_lessons_guide_and_its_code():
    text = handout.handout_markdown()
    for row in cl.choosing.decision_guide(gil=True).rows:
        assert f"**{row.work} → {row.use}.**" in text
        assert row.pattern in text
    (changed,) = [
        new
        for old, new in zip(
            cl.choosing.decision_guide(gil=True).rows, cl.choosing.decision_guide(gil=False).rows
        )
        if old != new
    ]
    free = text.split("## On a free-threaded Python", 1)[1]
    assert changed.use in free


def test_the_guide_for_a_build_with_and_without_the_gil():
    on, off = cl.choosing.decision_guide(gil=True), cl.choosing.decision_guide(gil=False)
    assert on.rows[0].models == ("processes",)
    assert "threads" in off.rows[0].models
    assert cl.choosing.decision_guide().rows == (on if cl.gil_enabled() else off).rows


def test_gil_must_be_a_bool_and_not_given_with_a_matrix():
    with pytest.raises(TypeError, match="'gil' must be True, False or None"):
        cl.choosing.decision_guide(gil="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="either a matrix or gil="):
        cl.choosing.decision_guide(fake_matrix(QUIET), gil=False)


def test_the_html_page_is_self_contained():
    page = handout.handout_html(handout.handout_markdown())
    assert page.startswith("<!DOCTYPE html>")
    assert "<h1" in page and "Which model for which work" in page
    assert not re.search(r"<script|<link|https?://[^\"']*\.(js|css)", page)


@pytest.mark.browser
@pytest.mark.parametrize("size", ["A4", "letter"])
def test_the_handout_prints_on_one_page(tmp_path, size):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium here to print the page")
    page = handout.handout_html(handout.handout_markdown())
    page = page.replace("@page {", f"@page {{ size: {size};", 1)
    html_file, pdf = tmp_path / "handout.html", tmp_path / "handout.pdf"
    html_file.write_text(page, encoding="utf-8")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html_file.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())
    assert len(pages) == 1, f"the handout takes {len(pages)} pages on {size}"
