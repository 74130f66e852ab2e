"""Real-browser test: JupyterLab in headless Chromium runs every lesson notebook like a learner.

For each lesson notebook (a temporary copy, served by the ``lab_server`` fixture) the test opens
it in JupyterLab, chooses Run > Run All Cells, waits until every code cell has run and the kernel
is idle, then checks what the page shows: no error output (except in cells tagged
``raises-exception``), no traceback inside a widget, every widget rendered, every plot image
loaded. A screenshot of the whole notebook goes to ``test-artifacts/browser/<notebook>.png``.

The explorer tests then drive a widget: move its worker slider, press Run, and check that the
plot it draws changes (and, for the timeline explorer, that the kernel ran the new worker count).

Run:  python -m pytest tests/browser      (about 3 minutes for 9 notebooks on 2 cores)
Environment: CONCURRENCY_LAB_REQUIRE_BROWSER=1 turns a missing Chromium into a failure (CI);
CONCURRENCY_LAB_CHROMIUM overrides the browser path (default /usr/bin/chromium).
The page reads the notebook model through ``window.jupyterapp`` (the server runs with
``--LabApp.expose_app_in_browser``): in the DOM an error output looks exactly like a stderr
warning, in the model it has ``output_type == "error"``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
VIEWPORT = {"width": 1400, "height": 1000}
KERNEL_IDLE_TIMEOUT_S = 90.0
RUN_ALL_TIMEOUT_S = 180.0
RENDER_TIMEOUT_S = 30.0
EXPLORER_RUN_TIMEOUT_S = 150.0
MAX_SCREENSHOT_HEIGHT = 16000

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")

# What the page shows, read from the notebook model JupyterLab renders (window.jupyterapp).
_STATE_JS = """
(path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  const panel = Array.from(app.shell.widgets('main')).find(
    (w) => w.context && w.context.path === path && w.content && w.content.widgets);
  if (!panel) return null;
  const session = panel.sessionContext && panel.sessionContext.session;
  const kernel = session && session.kernel;
  const cells = panel.content.widgets.map((c, i) => {
    const m = c.model;
    if (m.type !== 'code') return {index: i, type: m.type};
    const outs = [];
    for (let j = 0; j < m.outputs.length; j++) {
      const o = m.outputs.get(j);
      const js = o.toJSON();
      outs.push({type: o.type, mimes: Object.keys(o.data), ename: js.ename || null,
                 evalue: js.evalue || null});
    }
    const prompt = c.node.querySelector('.jp-InputPrompt');
    return {index: i, type: 'code', count: m.executionCount, tags: m.getMetadata('tags') || [],
            prompt: prompt ? prompt.textContent.trim() : '', outs,
            source: m.sharedModel.getSource().slice(0, 100)};
  });
  return {kernel: kernel ? kernel.status : null, cells};
}
"""

# Rendering as the learner sees it: per code cell, rendered widgets, images, and widget text.
_DOM_JS = """
(path) => {
  const app = window.jupyterapp;
  const panel = Array.from(app.shell.widgets('main')).find(
    (w) => w.context && w.context.path === path && w.content && w.content.widgets);
  const loaded = (imgs) => imgs.filter((im) => im.complete && im.naturalWidth > 0).length;
  return panel.content.widgets.map((c, i) => {
    const area = c.node.querySelector('.jp-Cell-outputArea');
    const kids = area ? Array.from(area.querySelectorAll(':scope > .jp-OutputArea-child')) : [];
    return {
      index: i,
      // One entry per output of the cell, in the order of the model's outputs.
      outputs: kids.map((k) => {
        const o = k.querySelector('.jp-OutputArea-output');
        return {
          widget: Boolean(k.querySelector('.jupyter-widgets')),
          // A widget closed by the kernel (e.g. a finished progress bar) leaves an empty,
          // hidden output: nothing to see, nothing wrong.
          closed: Boolean(o && o.classList.contains('lm-mod-hidden') && !o.childElementCount),
          images_loaded: loaded(Array.from(k.querySelectorAll('.jp-RenderedImage img'))),
        };
      }),
      images_loaded: loaded(Array.from(c.node.querySelectorAll('.jp-RenderedImage img'))),
      widget_text: Array.from(c.node.querySelectorAll('.widget-output'))
        .map((o) => o.textContent).join('\\n'),
      text: area ? area.textContent : '',
    };
  });
}
"""


def _tags_from_file(path: Path) -> list[list[str]]:
    nb = json.loads(path.read_text())
    return [c.get("metadata", {}).get("tags", []) for c in nb["cells"] if c["cell_type"] == "code"]


def _state(page, name: str) -> dict | None:
    return page.evaluate(_STATE_JS, name)


def _summary(state: dict | None) -> str:
    if state is None:
        return "(the notebook panel was not found in the page)"
    lines = [f"kernel: {state['kernel']}"]
    for c in state["cells"]:
        if c["type"] == "code":
            outs = ", ".join(o["ename"] or o["type"] for o in c["outs"])
            lines.append(f"  cell {c['index']:2} {c['prompt']:7} {c['source'][:50]!r} -> {outs}")
    return "\n".join(lines)


def open_notebook(context, server, name: str, *, shot: Path | None = None):
    """Open ``name`` in a fresh page and wait until its kernel is idle; return the page.

    If that fails, save a screenshot to ``shot`` (when given) and close the page.
    """
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(server.lab_url(name))
        page.wait_for_function(
            "(path) => { const s = (" + _STATE_JS + ")(path); return s && s.kernel === 'idle'; }",
            arg=name,
            timeout=KERNEL_IDLE_TIMEOUT_S * 1000,
            polling=250,
        )
        # What a learner sees in the status bar, too.
        page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for()
    except Exception:
        try:
            if shot is not None:
                page.screenshot(path=str(shot))
        finally:
            page.close()
        raise
    return page


def run_all_cells(page, name: str) -> dict:
    """Run > Run All Cells; wait until nothing is pending and the kernel is idle.

    Returns the notebook's state as the page shows it.
    """
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    settled = 0
    state = None
    while time.monotonic() < deadline:
        state = _state(page, name)
        code = [c for c in state["cells"] if c["type"] == "code"] if state else []
        all_ran = bool(code) and all(isinstance(c["count"], int) for c in code)
        pending = any("*" in c["prompt"] for c in code)
        if state and state["kernel"] == "idle" and not pending:
            if all_ran:
                return state
            # Stopped early (an error aborts the rest): confirm it stays that way.
            settled += 1
            if settled >= 6:
                return state
        else:
            settled = 0
        time.sleep(0.5)
    pytest.fail(
        f"{name}: Run All Cells did not finish within {RUN_ALL_TIMEOUT_S:.0f} s.\n{_summary(state)}"
    )


def _fit_viewport_to_notebook(page) -> None:
    """Make the window as tall as the notebook so that one screenshot shows all of it."""
    extra = page.evaluate(
        """() => {
          const outer = document.querySelector(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
          if (!outer) return 0;
          outer.scrollTop = 0;
          return outer.scrollHeight - outer.clientHeight;
        }"""
    )
    height = min(VIEWPORT["height"] + max(0, int(extra)) + 50, MAX_SCREENSHOT_HEIGHT)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.wait_for_timeout(500)  # let JupyterLab lay out and paint the now-visible cells


def screenshot(page, path: Path) -> str | None:
    """Save the whole notebook as a PNG; return None, or why it failed (it never raises, so it
    can run in a ``finally`` without hiding the test's own failure)."""
    try:
        _fit_viewport_to_notebook(page)
        page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(VIEWPORT)
    except Exception as exc:
        return f"screenshot {path.name} failed: {exc}"
    return None


# Pages of notebooks whose explorer is driven after the notebook test, kept open (kernel and
# all) so that the explorer test need not run the notebook a second time.
_ran: dict[str, object] = {}


def close_notebook(page, server, name: str) -> None:
    _ran.pop(name, None)
    try:
        page.close()
    finally:
        server.shutdown_kernels_of(name)


@dataclass(frozen=True)
class Explorer:
    notebook_glob: str
    call: str  # text in the cell that shows the explorer
    slider_label: str  # the worker slider's description contains this
    required: bool  # fail (not skip) when the notebook or call is missing
    runs_on_display: bool  # draws a plot as soon as it is shown


EXPLORERS = {
    "timeline_explorer": Explorer(
        "01-threads-and-processes.ipynb",
        "timeline_explorer(n_workers=4)",
        "workers",
        True,
        False,
    ),
    "scaling_explorer": Explorer("03-*.ipynb", "scaling_explorer(", "most workers", False, False),
}


def _find_explorer_notebook(ex: Explorer) -> str | None:
    for p in sorted(NOTEBOOKS.glob(ex.notebook_glob)):
        if ex.call in p.read_text():
            return p.name
    return None


_EXPLORER_NOTEBOOKS = {_find_explorer_notebook(ex) for ex in EXPLORERS.values()} - {None}


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_runs_in_jupyterlab(browser_context, lab_server, artifacts_dir, name):
    """Run All Cells shows no error, renders every widget and every plot."""
    shot = artifacts_dir / f"{Path(name).stem}.png"
    page = open_notebook(browser_context, lab_server, name, shot=shot)
    keep = False
    try:
        state = run_all_cells(page, name)
        code = [c for c in state["cells"] if c["type"] == "code"]
        assert len(code) == len(_tags_from_file(lab_server.root / name)), _summary(state)

        errors = [
            f"cell {c['index']} ({c['source'][:60]!r}): {o['ename']}: {o['evalue']}"
            for c in code
            for o in c["outs"]
            if o["type"] == "error" and "raises-exception" not in c["tags"]
        ]
        assert not errors, f"{name}: cells show errors:\n" + "\n".join(errors)
        not_run = [c["index"] for c in code if not isinstance(c["count"], int)]
        assert not not_run, f"{name}: cells {not_run} did not run.\n{_summary(state)}"

        # Every widget and image the kernel sent must be rendered by the page.
        def unrendered(cell: dict, dom: dict) -> list[str]:
            if len(dom["outputs"]) != len(cell["outs"]):
                return [f"{len(dom['outputs'])} of {len(cell['outs'])} outputs shown"]
            out = []
            for j, (o, d) in enumerate(zip(cell["outs"], dom["outputs"])):
                if WIDGET_MIME in o["mimes"] and not (d["widget"] or d["closed"]):
                    out.append(f"output {j}: widget not rendered")
                if any(m in o["mimes"] for m in IMAGE_MIMES) and not d["images_loaded"]:
                    out.append(f"output {j}: image not loaded")
            return out

        deadline = time.monotonic() + RENDER_TIMEOUT_S
        while True:
            dom = {d["index"]: d for d in page.evaluate(_DOM_JS, name)}
            missing = {
                c["index"]: problems for c in code if (problems := unrendered(c, dom[c["index"]]))
            }
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert not missing, f"{name}: not rendered after {RENDER_TIMEOUT_S:.0f} s: " + "; ".join(
            f"cell {i}: {', '.join(p)}" for i, p in missing.items()
        )
        n_widgets = sum(o["widget"] for d in dom.values() for o in d["outputs"])
        n_images = sum(d["images_loaded"] for d in dom.values())
        assert n_widgets > 0, f"{name}: no cell shows a widget"
        assert n_images > 0, f"{name}: no cell shows a plot"
        shown = "\n".join(d["text"] for d in dom.values())
        assert "Error displaying widget" not in shown, f"{name}: a widget failed to display"
        broken = [
            f"cell {i}: {d['widget_text'][-300:]}"
            for i, d in dom.items()
            if "Traceback (most recent call last)" in d["widget_text"]
        ]
        assert not broken, f"{name}: a widget shows a traceback:\n" + "\n".join(broken)
        keep = name in _EXPLORER_NOTEBOOKS
    finally:
        shot_failed = screenshot(page, shot)
        if keep:
            _ran[name] = page
        else:
            close_notebook(page, lab_server, name)
    assert shot_failed is None, shot_failed


def _widget_images(cell) -> list[str]:
    return cell.locator(".widget-output .jp-RenderedImage img").evaluate_all(
        "(imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).map((i) => i.src)"
    )


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.25)


@pytest.mark.parametrize("explorer", sorted(EXPLORERS))
def test_explorer_redraws_after_changing_workers(
    browser_context, lab_server, artifacts_dir, explorer
):
    """Move the worker slider, press Run: the explorer's plot is redrawn."""
    ex = EXPLORERS[explorer]
    name = _find_explorer_notebook(ex)
    if name is None:
        msg = f"no notebook matching notebooks/{ex.notebook_glob} calls {ex.call!r}"
        if ex.required:
            pytest.fail(msg)
        pytest.skip(msg + " (yet)")
    page = _ran.pop(name, None)
    if page is None:  # the notebook test did not leave it running (deselected or failed)
        page = open_notebook(browser_context, lab_server, name)
        try:
            run_all_cells(page, name)
        except BaseException:
            close_notebook(page, lab_server, name)
            raise
    cell = None
    try:
        cells = page.locator(".jp-CodeCell").filter(
            has=page.locator(".jp-InputArea", has_text=ex.call)
        )
        assert cells.count() >= 1, f"{name}: no cell shows {ex.call!r}"
        cell = cells.first
        cell.scroll_into_view_if_needed()
        slider = cell.locator(".widget-slider").filter(
            has=page.locator(".widget-label", has_text=ex.slider_label)
        )
        slider.first.wait_for(timeout=RENDER_TIMEOUT_S * 1000)
        assert slider.count() == 1, f"{name}: expected one '{ex.slider_label}' slider"
        button = cell.locator("button.jupyter-button", has_text=re.compile(r"^\s*Run\s*$"))
        assert button.count() == 1, f"{name}: expected one 'Run' button in the explorer"

        if not ex.runs_on_display:  # draw a first plot to compare against
            button.click()
        before = _wait_for(
            lambda: _widget_images(cell), EXPLORER_RUN_TIMEOUT_S, "the explorer's first plot"
        )
        _wait_for(button.is_enabled, EXPLORER_RUN_TIMEOUT_S, "the Run button to be enabled")

        handle = slider.locator(".noUi-handle").first
        value = int(float(handle.get_attribute("aria-valuenow")))
        top = int(float(handle.get_attribute("aria-valuemax")))
        new = value + 1 if value < top else value - 1
        handle.focus()
        handle.press("ArrowRight" if new > value else "ArrowLeft")
        readout = slider.locator(".widget-readout").first
        _wait_for(
            lambda: readout.text_content().strip() == str(new),
            10,
            f"the slider readout to show {new}",
        )
        # The slider sends its new value to the kernel on change; the click's message follows
        # it on the same channel, a short pause only keeps the order obvious.
        page.wait_for_timeout(300)
        button.click()
        after = _wait_for(
            lambda: (imgs := _widget_images(cell)) and imgs != before and imgs,
            EXPLORER_RUN_TIMEOUT_S,
            "the explorer to redraw its plot",
        )
        assert after != before
        if explorer == "timeline_explorer":
            # Its status line states how many workers the kernel actually ran.
            status = cell.locator(".widget-html", has_text="finished")
            _wait_for(
                lambda: status.count() > 0 and status.first.text_content().startswith(f"{new} "),
                10,
                f"the status line to report {new} workers",
            )
        text = cell.locator(".widget-output").all_text_contents()
        assert not any("Traceback (most recent call last)" in t for t in text), text
        assert not any("⚠" in t for t in text), text
    finally:
        try:
            if cell is not None:
                cell.screenshot(path=str(artifacts_dir / f"{explorer}.png"))
        except Exception:
            pass
        close_notebook(page, lab_server, name)
