"""The site builder's parts, without a kernel or a browser: widgets made static, alt texts,
links, math, lesson metadata, the lesson template, and the command line's checks."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from sitebuild import cli, execute, lesson, markdown, pages, widgets

REPO = Path(__file__).resolve().parents[2]
PNG = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
STATE = widgets.WIDGET_STATE_MIME
VIEW = widgets.WIDGET_VIEW_MIME


def model(name: str, **state: object) -> dict:
    return {"model_name": name, "model_module": "@jupyter-widgets/controls", "state": state}


def explorer_state(*, hidden_label: bool = False) -> dict:
    """A small explorer as nbclient stores it: controls, a summary, an Output with a plot."""
    return {
        "box": model(
            "VBoxModel",
            children=["IPY_MODEL_row", "IPY_MODEL_summary", "IPY_MODEL_hidden", "IPY_MODEL_out"],
        ),
        "row": model("HBoxModel", children=["IPY_MODEL_slider", "IPY_MODEL_kind", "IPY_MODEL_run"]),
        "slider": model("IntSliderModel", description="workers", value=4),
        "kind": model(
            "DropdownModel", description="kind", _options_labels=["thread", "process"], index=1
        ),
        "run": model("ButtonModel", description="Run"),
        "summary": model("HTMLModel", value="<b>4 processes: 3.1x</b>"),
        "hidden": model("LabelModel", value="secret", layout="IPY_MODEL_hide"),
        "hide": model("LayoutModel", display="none" if not hidden_label else None),
        "out": model(
            "OutputModel",
            outputs=[
                {
                    "output_type": "display_data",
                    "data": {"image/png": PNG, "text/plain": "Speedup climbs to 3.1x."},
                    "metadata": {},
                }
            ],
        ),
    }


def notebook_with_widget(state: dict | None, model_id: str = "box") -> nbformat.NotebookNode:
    cell = new_code_cell("cl.explorer()", execution_count=1)
    cell.outputs = [
        new_output(
            "display_data",
            data={VIEW: {"model_id": model_id, "version_major": 2}, "text/plain": "VBox(...)"},
        )
    ]
    nb = new_notebook(cells=[new_markdown_cell("# 03 · Core scaling"), cell])
    if state is not None:
        nb.metadata["widgets"] = {STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    return nb


# ---------------------------------------------------------------------------------- widgets


def test_widget_becomes_note_controls_summary_and_plot() -> None:
    nb = notebook_with_widget(explorer_state())
    assert widgets.replace_widget_outputs(nb, note_html="RUN IT") == 1
    outs = nb.cells[1].outputs
    assert "widgets" not in nb.metadata
    assert not any(VIEW in o.get("data", {}) for o in outs)
    first = outs[0]["data"]["text/html"]
    assert "RUN IT" in first
    assert "workers: <b>4</b>" in first and "kind: <b>process</b>" in first
    assert "<b>4 processes: 3.1x</b>" in first
    assert "Run" not in first  # a button does nothing on a page
    assert "secret" not in first  # hidden by its layout
    assert outs[1]["data"]["image/png"] == PNG
    assert outs[1]["data"]["text/plain"] == "Speedup climbs to 3.1x."
    assert len(outs) == 2


def test_widget_without_stored_state_keeps_only_the_note() -> None:
    nb = notebook_with_widget(None)
    assert widgets.replace_widget_outputs(nb, note_html="RUN IT") == 1
    (out,) = nb.cells[1].outputs
    assert "RUN IT" in out["data"]["text/html"]
    assert "Loading" not in out["data"]["text/html"]


def test_widget_shown_inside_an_output_widget_is_replaced_too() -> None:
    state = explorer_state()
    state["outer"] = model(
        "OutputModel",
        outputs=[
            {"output_type": "display_data", "data": {VIEW: {"model_id": "box"}}, "metadata": {}}
        ],
    )
    nb = notebook_with_widget(state, model_id="outer")
    widgets.replace_widget_outputs(nb, note_html="RUN IT")
    outs = nb.cells[1].outputs
    assert not any(VIEW in o.get("data", {}) for o in outs)
    assert any("image/png" in o.get("data", {}) for o in outs)


def test_widget_state_cycle_does_not_recurse_forever() -> None:
    state = {"a": model("VBoxModel", children=["IPY_MODEL_a"])}
    nb = notebook_with_widget(state, model_id="a")
    assert widgets.replace_widget_outputs(nb, note_html="n") == 1


def test_captured_outputs_and_counts() -> None:
    nb = notebook_with_widget(explorer_state())
    assert widgets.count_widget_views(nb) == 1
    assert [o["data"]["text/plain"] for o in widgets.captured_outputs(nb)] == [
        "Speedup climbs to 3.1x."
    ]


def test_control_values() -> None:
    assert (
        widgets.control_value(
            "SelectMultipleModel", {"_options_labels": ["a", "b", "c"], "index": [0, 2]}
        )
        == "a, c"
    )
    assert widgets.control_value("CheckboxModel", {"value": True}) == "on"
    assert (
        widgets.control_value("FloatSliderModel", {"value": 0.5, "readout_format": "~bad"}) == "0.5"
    )
    assert widgets.control_value("LayoutModel", {"value": 1}) is None


# --------------------------------------------------------------------------- alt text, lesson


def test_alt_text_uses_the_summary_or_a_generic_text() -> None:
    fig = {"data": {"text/plain": "<Figure size 900x220 with 1 Axes>"}}
    assert lesson.alt_text(fig, lesson_number="04") == "Figure from lesson 04"
    assert lesson.alt_text({"data": {}}, lesson_number="04") == "Figure from lesson 04"
    summary = {"data": {"text/plain": ["Two threads\n", "take turns."]}}
    assert lesson.alt_text(summary, lesson_number="04") == "Two threads take turns."
    explicit = {
        "data": {"text/plain": "repr-free text"},
        "metadata": {"image/png": {"alt": "Alt."}},
    }
    assert lesson.alt_text(explicit, lesson_number="04") == "Alt."


def test_read_lesson_takes_title_and_questions_from_the_first_cell(tmp_path: Path) -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell(
                "# 07 · Choosing a model\n\nIntro.\n\n**Questions**\n- Which one?\n"
                "- Why `asyncio`?\n\n**Objectives**\n- Not a question"
            )
        ]
    )
    path = tmp_path / "07-choosing-a-model.ipynb"
    nbformat.write(nb, path)
    got = lesson.read_lesson(path)
    assert (got.number, got.title, got.questions) == (
        "07",
        "Choosing a model",
        ("Which one?", "Why `asyncio`?"),
    )
    assert got.page == "07-choosing-a-model.html"


def _links(tmp_path: Path, repo_url: str | None = None) -> markdown.LinkMap:
    return markdown.LinkMap(
        repo=REPO,
        out=tmp_path / "site",
        pages={
            (REPO / "notebooks" / "02-the-gil.ipynb").resolve(): "02-the-gil.html",
            (REPO / "README.md").resolve(): "index.html",
        },
        repo_url=repo_url,
    )


def test_rendered_lesson_page_loads_nothing_from_the_internet(tmp_path: Path) -> None:
    nb = notebook_with_widget(explorer_state())
    nb.cells.insert(1, new_markdown_cell("Amdahl: $$\\frac{1}{s}$$ and see `02-the-gil.ipynb`."))
    err = new_code_cell("1/0", execution_count=2, metadata={"tags": ["raises-exception"]})
    err.outputs = [
        new_output(
            "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["boom"]
        )
    ]
    nb.cells.append(err)
    les = lesson.Lesson(REPO / "notebooks" / "03-core-scaling.ipynb", "03", "Core scaling", ())
    ctx = {
        "site": {
            "measured_on": "today",
            "built": "now",
            "nav": [{"href": "index.html", "label": "Map"}],
        },
        "lesson": {
            "page": les.page,
            "number": "03",
            "title": "Core scaling",
            "notebook": les.source.name,
            "repo_path": "notebooks/03-core-scaling.ipynb",
            "repo_href": "../notebooks/x.ipynb",
            "problems": [],
            "prev": None,
            "next": None,
        },
    }
    page = lesson.render_lesson(nb, les, links=_links(tmp_path), context=ctx)
    html = page.html
    assert "<script" not in html, "a lesson page needs no script (no require.js, MathJax, widgets)"
    assert "cdn" not in html.lower() and "https://" not in html.split("</head>")[0]
    assert "Loading widget" not in html
    assert widgets.NOTE_CLASS in html
    assert 'alt="Speedup climbs to 3.1x."' in html
    assert 'class="site-math"' in html and 'alt="\\frac{1}{s}"' in html
    assert '<a href="02-the-gil.html"><code>02-the-gil.ipynb</code></a>' in html
    assert 'data-output-type="error"' in html and "on purpose" in html
    assert (page.n_images, page.n_widgets) == (1, 1)
    assert len(page.files) == 1 and next(iter(page.files)).startswith("03-core-scaling_files/")
    assert "widgets" in nb.metadata, "render_lesson must not change the executed notebook"


# ------------------------------------------------------------------------------------ links


def test_links_go_to_pages_or_to_the_repository(tmp_path: Path) -> None:
    links = _links(tmp_path)
    src = REPO / "notebooks" / "01-threads-and-processes.ipynb"
    assert links.href("02-the-gil.ipynb#Explore", source=src) == "02-the-gil.html#Explore"
    assert links.href("../README.md", source=src) == "index.html"
    assert (
        links.href("https://peps.python.org/pep-0703/", source=src)
        == "https://peps.python.org/pep-0703/"
    )
    assert links.href("#local", source=src) == "#local"
    rel = links.href("../pyproject.toml", source=src)
    assert (tmp_path / "site" / rel).resolve() == (REPO / "pyproject.toml").resolve()
    web = _links(tmp_path, "https://example.org/o/r/blob/main/")
    assert (
        web.href("../pyproject.toml", source=src)
        == "https://example.org/o/r/blob/main/pyproject.toml"
    )
    assert web.repo_path(src) == "notebooks/01-threads-and-processes.ipynb"
    assert links.href("missing.ipynb", source=src) == "missing.ipynb"  # left for the site test
    assert links.page_for_name("02-the-gil") == links.page_for_name("02-the-gil.ipynb")
    assert links.page_for_name("README") is None  # only notebooks are named in code


def test_github_slugs_match_the_guides_anchor_style() -> None:
    seen: dict[str, int] = {}
    assert markdown.github_slug("Run times (measured)", seen) == "run-times-measured"
    assert (
        markdown.github_slug("What differs on macOS and Windows", seen)
        == "what-differs-on-macos-and-windows"
    )
    assert markdown.github_slug("Run times (measured)", seen) == "run-times-measured-1"


def test_guide_fragment_links_point_at_heading_ids(tmp_path: Path) -> None:
    guide = REPO / "docs" / "instructor-guide.md"
    if not guide.is_file():
        pytest.skip("no instructor guide in this checkout")
    html = markdown.render_markdown(
        guide.read_text(), links=_links(tmp_path), source=guide, slugs="github"
    )
    import re

    ids = set(re.findall(r'id="([^"]+)"', html))
    for frag in re.findall(r'href="#([^"]+)"', html):
        assert frag in ids, f"the guide links to #{frag}, but no heading has that id"


def test_math_is_drawn_or_shown_as_tex() -> None:
    drawn = markdown.math_html("\\frac{1}{s + (1 - s)/N}", display=True)
    assert drawn.startswith(
        '<div class="site-math-display"><img class="site-math" src="data:image/svg+xml;base64,'
    )
    kept = markdown.math_html("\\begin{align} a &= b \\\\ c &= d \\end{align}", display=True)
    assert kept.startswith('<pre class="site-math-source">$$\\begin{align}')


# ------------------------------------------------------------------------- problems and pages


def test_errors_count_as_problems_unless_the_cell_expects_them() -> None:
    ok = new_code_cell("1/0", metadata={"tags": ["raises-exception"]})
    ok.outputs = [new_output("error", ename="ZeroDivisionError", evalue="x", traceback=[])]
    bad = new_code_cell("1/0")
    bad.outputs = [new_output("error", ename="KeyError", evalue="'k'", traceback=[])]
    nb = new_notebook(cells=[ok, bad])
    nb.metadata["widgets"] = {
        STATE: {
            "state": {
                "o": model(
                    "OutputModel",
                    outputs=[
                        {
                            "output_type": "error",
                            "ename": "E",
                            "evalue": "in a callback",
                            "traceback": [],
                        }
                    ],
                )
            }
        }
    }
    got = [str(p) for p in execute.error_problems(nb, "x.ipynb")]
    assert got == [
        "x.ipynb, cell 1: KeyError: 'k'",
        "x.ipynb, notebook: E: in a callback (inside a widget)",
    ]


def test_readme_minutes_and_sections(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n## What this is\n\nA course.\n\n## Course map\n\n"
        "| notebook | the question it answers | minutes |\n| --- | --- | --- |\n"
        "| `00-start-here` | Ready? | 10 |\n| `01-x` | What? | about 20 |\n"
    )
    assert pages.readme_minutes(readme) == {"00-start-here": "10"}
    assert pages.readme_section(readme, "What this is") == "A course."
    assert pages.readme_section(readme, "Missing") == ""
    readme.write_text(  # the course map tools/lesson_minutes.py writes
        "| notebook | the question it answers | core path (min) | optional parts (min) |\n"
        "| --- | --- | ---: | ---: |\n| `00-start-here` | Ready? | 15 | 0 |\n"
        "| **all lessons** | | **15** | **0** |\n"
    )
    assert pages.readme_minutes(readme) == {"00-start-here": "15"}


# ------------------------------------------------------------------------------ command line


def test_bad_options_are_refused_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--jobs", "3"])
    assert exc.value.code == 2
    assert "invalid choice: 3" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="no lesson numbered 99"):
        cli.main(["--only", "99", "--out", str(tmp_path / "s")])
    with pytest.raises(SystemExit):
        cli.main(["--cell-timeout", "0"])
    assert "--cell-timeout and --notebook-timeout must be positive" in capsys.readouterr().err


def test_the_site_never_replaces_the_repository_or_a_foreign_folder(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="refusing"):
        cli.check_out_dir(REPO)
    with pytest.raises(SystemExit, match="refusing"):
        cli.check_out_dir(REPO.parent)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not an earlier site"):
        cli.check_out_dir(tmp_path)
    (tmp_path / "notes.txt").unlink()
    (tmp_path / cli.MANIFEST).write_text(json.dumps({}))
    cli.check_out_dir(tmp_path)  # an earlier site may be replaced


@pytest.mark.parametrize("module", [widgets, markdown, lesson])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------------- execution, for real


@pytest.mark.slow
def test_a_hanging_cell_times_out_and_a_stray_process_is_ended(tmp_path: Path) -> None:
    """A real kernel: one cell starts a process that would outlive the kernel, the next hangs."""
    import asyncio

    stray = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
        " start_new_session=True)"
    )
    nb = new_notebook(
        cells=[
            new_markdown_cell("# 99 · Test"),
            new_code_cell(stray),
            new_code_cell("import time\ntime.sleep(120)"),
        ]
    )
    work = tmp_path / "nb"
    work.mkdir()
    nbformat.write(nb, work / "99-test.ipynb")
    (done,) = asyncio.run(
        execute.execute_all(
            [work / "99-test.ipynb"],
            work,
            scratch=tmp_path / "scratch",
            jobs=1,
            cell_timeout_s=3,
            notebook_timeout_s=60,
        )
    )
    what = [str(p) for p in done.problems]
    assert what[0] == "99-test.ipynb, cell 2: timed out after 3 s", what
    assert any("left processes running (killed)" in w and "sleep(120)" in w for w in what), what
    assert done.elapsed_s < 30
