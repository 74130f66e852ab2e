"""Turn ipywidgets outputs of an executed notebook into static outputs a page can show.

A static page has no kernel, so a widget output (``application/vnd.jupyter.widget-view+json``)
would show "Loading widget..." forever, or live controls that do nothing. Each one is replaced by:

1. a note that the explorer is interactive in the notebook (``./course lab``);
2. its last state as plain HTML: the settings of its controls (slider and dropdown values), its
   text (``HTML``/``Label`` values, such as an explorer's computed summary) and its progress bars;
3. what its ``Output`` widgets had captured when the run ended (usually the explorer's plot), as
   ordinary notebook outputs, so the page shows images, alt texts and text exactly as for any
   other cell.

All of it comes from the widget state that ``nbclient`` stores with ``store_widget_state=True``:
nothing is rendered in a browser, nothing is guessed. A widget whose state was not stored (closed
in the run) keeps only the note.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
NOTE_CLASS = "site-widget-note"
_REF = "IPY_MODEL_"
_MAX_DEPTH = 20  # widget trees are shallow; this only stops a cycle in a malformed state

_BOXES = {"VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel"}
_TEXTS = {"HTMLModel", "HTMLMathModel"}
_PROGRESS = {"FloatProgressModel", "IntProgressModel"}
_ACTIONS = {"ButtonModel", "PlayModel", "FileUploadModel"}


def widget_state(nb: NotebookNode) -> dict[str, dict[str, Any]]:
    """The stored widget models of ``nb`` by model id (empty when none were stored)."""
    widgets = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {})
    return dict(widgets.get("state", {}))


def count_widget_views(nb: NotebookNode) -> int:
    """How many outputs of ``nb`` are widget views (top-level outputs only)."""
    return sum(
        WIDGET_VIEW_MIME in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def captured_outputs(nb: NotebookNode) -> Iterator[dict[str, Any]]:
    """Every output captured by an ``Output`` widget in the stored state of ``nb``."""
    for model in widget_state(nb).values():
        if model.get("model_name") == "OutputModel":
            yield from model.get("state", {}).get("outputs", [])


def replace_widget_outputs(nb: NotebookNode, *, note_html: str) -> int:
    """Replace every widget-view output of ``nb`` (in place) by static outputs.

    Args:
        nb: an executed notebook, ideally run with ``store_widget_state=True``.
        note_html: the note shown where each widget was (HTML, already escaped).

    Returns:
        The number of widget outputs replaced. Afterwards ``nb`` has no widget-view output and
        no widget state, so no page built from it loads the widget manager.
    """
    state = widget_state(nb)
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new_outputs: list[NotebookNode] = []
        for out in cell.get("outputs", []):
            if WIDGET_VIEW_MIME in out.get("data", {}):
                model_id = str(out["data"][WIDGET_VIEW_MIME].get("model_id", ""))
                new_outputs += static_outputs(model_id, state, note_html=note_html)
                replaced += 1
            else:
                new_outputs.append(out)
        cell.outputs = new_outputs
    nb.metadata.pop("widgets", None)
    return replaced


def static_outputs(
    model_id: str, state: Mapping[str, Mapping[str, Any]], *, note_html: str, depth: int = 0
) -> list[NotebookNode]:
    """The static outputs that stand for the widget ``model_id``: a note, then its last state."""
    note = f'<p class="{NOTE_CLASS}">{note_html}</p>'
    if model_id not in state:
        return [_html_output(f'<div class="site-widget">{note}</div>')]
    parts: list[str | dict[str, Any]] = []
    _walk(model_id, state, parts, depth=depth)
    outputs: list[NotebookNode] = []
    pending = [note] if depth == 0 else []
    for part in parts:
        if isinstance(part, str):
            pending.append(part)
            continue
        if pending:
            outputs.append(_html_output(_wrap(pending)))
            pending = []
        outputs += _captured(part, state, note_html=note_html, depth=depth)
    if pending:
        outputs.append(_html_output(_wrap(pending)))
    return outputs


def _captured(
    out: dict[str, Any], state: Mapping[str, Mapping[str, Any]], *, note_html: str, depth: int
) -> list[NotebookNode]:
    """One output an ``Output`` widget captured, as a notebook output (nested widgets replaced)."""
    data = out.get("data", {})
    if WIDGET_VIEW_MIME in data:
        if depth >= _MAX_DEPTH:
            return []
        inner = str(data[WIDGET_VIEW_MIME].get("model_id", ""))
        return static_outputs(inner, state, note_html=note_html, depth=depth + 1)
    kind = out.get("output_type", "display_data")
    fields = {k: v for k, v in out.items() if k != "output_type"}
    return [new_output(kind, **fields)]


def _wrap(pieces: list[str]) -> str:
    return '<div class="site-widget">' + "".join(pieces) + "</div>"


def _html_output(text: str) -> NotebookNode:
    return new_output("display_data", data={"text/html": text}, metadata={})


def _walk(
    model_id: str,
    state: Mapping[str, Mapping[str, Any]],
    parts: list[str | dict[str, Any]],
    *,
    depth: int,
) -> None:
    """Append the static pieces of one widget (and its children) to ``parts``, in order."""
    model = state.get(model_id)
    if model is None or depth > _MAX_DEPTH:
        return
    name = str(model.get("model_name", ""))
    s: Mapping[str, Any] = model.get("state", {})
    if _hidden(s, state):
        return
    if name in _BOXES:
        children = [c[len(_REF) :] for c in s.get("children", []) if str(c).startswith(_REF)]
        row = name == "HBoxModel"
        if row:
            parts.append('<div class="site-widget-row">')
        for child in children:
            _walk(child, state, parts, depth=depth + 1)
        if row:
            parts.append("</div>")
    elif name == "OutputModel":
        parts += list(s.get("outputs", []))
    elif name in _TEXTS:
        if str(s.get("value", "")).strip():
            parts.append(f'<div class="site-widget-text">{s["value"]}</div>')
    elif name == "LabelModel":
        if str(s.get("value", "")).strip():
            parts.append(f'<div class="site-widget-text">{html.escape(str(s["value"]))}</div>')
    elif name in _PROGRESS:
        parts.append(_progress_html(s))
    elif name in _ACTIONS:
        return  # a button does nothing without a kernel: leave it out
    else:
        shown = control_value(name, s)
        if shown is not None:
            label = html.escape(str(s.get("description", "") or "value"))
            parts.append(
                f'<span class="site-widget-control">{label}: <b>{html.escape(shown)}</b></span>'
            )


def _hidden(s: Mapping[str, Any], state: Mapping[str, Mapping[str, Any]]) -> bool:
    layout = str(s.get("layout", ""))
    if not layout.startswith(_REF):
        return False
    ls = state.get(layout[len(_REF) :], {}).get("state", {})
    return ls.get("display") == "none" or ls.get("visibility") == "hidden"


def control_value(model_name: str, s: Mapping[str, Any]) -> str | None:
    """The value a control shows, as text (``None`` when the model is not a value control).

    >>> control_value("DropdownModel", {"_options_labels": ["a", "b"], "index": 1})
    'b'
    >>> control_value("IntRangeSliderModel", {"value": [2, 5]})
    '2–5'
    >>> control_value("FloatSliderModel", {"value": 0.25, "readout_format": ".1f"})
    '0.2'
    """
    labels = s.get("_options_labels")
    if labels is not None:  # Dropdown, SelectionSlider, ToggleButtons, Select(Multiple), Radio
        index = s.get("index")
        if isinstance(index, list | tuple):
            chosen = [str(labels[i]) for i in index if isinstance(i, int) and 0 <= i < len(labels)]
            return ", ".join(chosen) if chosen else "(none)"
        if isinstance(index, int) and 0 <= index < len(labels):
            return str(labels[index])
        return "(none)"
    if "value" not in s or model_name.endswith("StyleModel") or model_name == "LayoutModel":
        return None
    value = s["value"]
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple) and len(value) == 2:
        return "–".join(_number(v, s) for v in value)
    if isinstance(value, int | float):
        return _number(value, s)
    if isinstance(value, str):
        return value
    return None


def _number(value: Any, s: Mapping[str, Any]) -> str:
    fmt = str(s.get("readout_format", "") or "")
    try:
        return format(value, fmt) if fmt else str(value)
    except (ValueError, TypeError):  # a d3 format Python does not know
        return str(value)


def _progress_html(s: Mapping[str, Any]) -> str:
    value = float(s.get("value", 0) or 0)
    lo, hi = float(s.get("min", 0) or 0), float(s.get("max", 100) or 100)
    share = 0.0 if hi <= lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    label = html.escape(str(s.get("description", "") or ""))
    return (
        f'<span class="site-widget-control">{label} '
        f'<progress value="{share:.3f}" max="1">{share:.0%}</progress> {share:.0%}</span>'
    )
