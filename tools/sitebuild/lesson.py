"""One lesson page: an executed notebook, made static, through nbconvert's JupyterLab template.

The page template (``templates/site_lesson``) extends nbconvert's ``lab`` template and drops
every script it would load from a CDN (require.js, MathJax, Mermaid, the widget manager); the
JupyterLab style sheets come from nbconvert's own package and are written once into ``assets/``.
Plot images are written as files next to the page (``NN-name_files/``), each with an alt text.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jinja2 import pass_context
from nbconvert import HTMLExporter
from nbformat import NotebookNode

from .markdown import LinkMap, render_markdown
from .widgets import replace_widget_outputs

TEMPLATES = Path(__file__).resolve().parent / "templates"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
# A repr that says only what the object is, e.g. "<Figure size 900x220 with 1 Axes>".
_DEFAULT_REPR = re.compile(r"^<[^<>\n]*>$")
WIDGET_NOTE = (
    "<b>Interactive explorer:</b> run the notebook to use it "
    "(<code>./course lab</code>, then open <code>{name}</code>). "
    "Below: what it showed at the end of this run."
)


@dataclass(frozen=True)
class Lesson:
    """A lesson notebook of the course and where its page goes."""

    source: Path  # the notebook in the repository
    number: str  # "02"
    title: str  # "The GIL"
    questions: tuple[str, ...]

    @property
    def page(self) -> str:
        return f"{self.source.stem}.html"

    @property
    def files_dir(self) -> str:
        return f"{self.source.stem}_files"


@dataclass(frozen=True)
class LessonPage:
    """A rendered lesson: its HTML and the image files it refers to."""

    html: str
    files: Mapping[str, bytes]
    n_images: int
    n_widgets: int


def read_lesson(source: Path) -> Lesson:
    """Number, title and questions of a lesson, from its first Markdown cell.

    The first cell starts with ``# NN · Title`` and lists ``**Questions**`` as bullets.
    """
    nb = nbformat.read(source, as_version=4)
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    number = source.name.split("-", 1)[0]
    heading = next((ln for ln in first.splitlines() if ln.startswith("# ")), f"# {source.stem}")
    title = re.sub(r"^#\s*(\d+\s*[·.:\-–—]\s*)?", "", heading).strip() or source.stem
    questions: list[str] = []
    in_questions = False
    for line in first.splitlines():
        if re.match(r"^\s*\*\*Questions\*\*", line):
            in_questions = True
        elif in_questions and re.match(r"^\s*[-*]\s+", line):
            questions.append(re.sub(r"^\s*[-*]\s+", "", line).strip())
        elif in_questions and line.strip():
            break
    return Lesson(source, number, title, tuple(questions))


def alt_text(output: Mapping[str, Any], *, lesson_number: str) -> str:
    """The alt text of an image output: the figure's own summary, else a generic text.

    The summary is the ``alt`` the course's figures put in the output metadata, or else the
    output's ``text/plain``, unless that is only a repr (``<Figure size 900x220 with 1 Axes>``).

    >>> alt_text({"data": {"text/plain": "<Figure size 900x220 with 1 Axes>"}}, lesson_number="02")
    'Figure from lesson 02'
    >>> alt_text({"data": {"text/plain": "Two threads take turns."}}, lesson_number="02")
    'Two threads take turns.'
    """
    metadata = output.get("metadata", {})
    candidates = [
        metadata.get(mime, {}).get("alt", "")
        for mime in IMAGE_MIMES
        if isinstance(metadata.get(mime), dict)
    ]
    candidates.append(output.get("data", {}).get("text/plain", ""))
    for text in candidates:
        if isinstance(text, list):
            text = "".join(text)
        text = " ".join(str(text).split())
        if text and not _DEFAULT_REPR.match(text):
            return text
    return f"Figure from lesson {lesson_number}"


def count_images(nb: NotebookNode) -> int:
    """Image outputs among the cells' outputs (after widgets were made static)."""
    return sum(
        any(m in out.get("data", {}) for m in IMAGE_MIMES)
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def prepare(nb: NotebookNode, lesson: Lesson) -> int:
    """Make ``nb`` static in place (widgets replaced, alt texts set); return the widget count."""
    n_widgets = replace_widget_outputs(nb, note_html=WIDGET_NOTE.format(name=lesson.source.name))
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if any(m in out.get("data", {}) for m in IMAGE_MIMES):
                out.setdefault("metadata", {})["site_alt"] = alt_text(
                    out, lesson_number=lesson.number
                )
    nb.metadata["title"] = f"{lesson.number} · {lesson.title} · concurrency_lab"
    return n_widgets


class SiteHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter with the site's template and Markdown renderer."""

    def __init__(self, *, links: LinkMap, source: Path, **kwargs: Any) -> None:
        super().__init__(
            template_name="site_lesson",
            extra_template_basedirs=[str(TEMPLATES)],
            extra_template_paths=[str(TEMPLATES)],
            **kwargs,
        )
        self.links = links
        self.source = source
        self.register_preprocessor("nbconvert.preprocessors.ExtractOutputPreprocessor", True)

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        cell = context.get("cell", {})
        return render_markdown(
            source, links=self.links, source=self.source, attachments=cell.get("attachments", {})
        )


def render_lesson(
    nb: NotebookNode, lesson: Lesson, *, links: LinkMap, context: Mapping[str, Any]
) -> LessonPage:
    """The page of one executed lesson. ``context`` goes to the template as ``resources.site``."""
    nb = nbformat.from_dict(nb)  # a copy: the caller's notebook stays as executed
    n_widgets = prepare(nb, lesson)
    n_images = count_images(nb)
    exporter = SiteHTMLExporter(links=links, source=lesson.source)
    resources = {
        "unique_key": lesson.source.stem,
        "output_files_dir": lesson.files_dir,
        "site": dict(context),
    }
    body, res = exporter.from_notebook_node(nb, resources=resources)
    return LessonPage(body, dict(res.get("outputs", {})), n_images, n_widgets)


def jupyterlab_css() -> dict[str, Path]:
    """nbconvert's copies of the JupyterLab style sheets that lesson pages link to."""
    exporter = HTMLExporter(template_name="lab")
    for folder in exporter.template_paths:
        static = Path(folder) / "static"
        if (static / "index.css").is_file() and (static / "theme-light.css").is_file():
            return {
                "jupyterlab.css": static / "index.css",
                "jupyterlab-light.css": static / "theme-light.css",
            }
    raise FileNotFoundError(
        "nbconvert's JupyterLab template (static/index.css) was not found: "
        "reinstall nbconvert (pip install --force-reinstall 'nbconvert>=7')"
    )


def write_page(out: Path, page_name: str, page: LessonPage) -> None:
    """Write a lesson page and its image files under ``out``."""
    (out / page_name).write_text(page.html, encoding="utf-8")
    for rel, data in page.files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def copy_assets(out: Path) -> None:
    """The style sheets every page links to, into ``out/assets``."""
    assets = out / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for name, path in jupyterlab_css().items():
        shutil.copyfile(path, assets / name)
    shutil.copyfile(TEMPLATES / "site.css", assets / "site.css")
