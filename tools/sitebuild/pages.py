"""The site's own pages: the course map, the instructor guide and the measurement page.

Nothing here is typed in by hand: the course map comes from the lessons' first cells (title,
questions), the minutes from the README's course-map table when it lists them, the introduction
from the README's "What this is" section, the description from ``pyproject.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .lesson import TEMPLATES
from .markdown import LinkMap, inline_markdown, render_markdown


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )


def readme_minutes(readme: Path) -> dict[str, str]:
    """Minutes per notebook stem from the README's table (``| `00-start-here` | … | 10 |``).

    The column is "minutes", or "core path (min)" in the course map that
    ``tools/lesson_minutes.py`` writes (a lesson's core path, its core exercises included).
    """
    out: dict[str, str] = {}
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return out
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.strip().startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        column = next((c for c in ("minutes", "core path (min)") if c in header), None)
        if "notebook" not in header or column is None or set(line) <= set("|-: "):
            continue
        stem = cells[header.index("notebook")].strip("`")
        minutes = cells[header.index(column)] if len(cells) > header.index(column) else ""
        if stem and minutes.isdigit():
            out[stem] = minutes
    return out


def readme_section(readme: Path, heading: str) -> str:
    """The Markdown under ``## heading`` in the README (empty when there is none)."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(rf"^##\s+{re.escape(heading)}\s*$(.*?)(?=^##\s|\Z)", text, re.M | re.S)
    return match.group(1).strip() if match else ""


def project_description(pyproject: Path) -> str:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r'^description\s*=\s*"(.*)"\s*$', text, re.M)
    return match.group(1) if match else ""


def landing_page(
    *,
    repo: Path,
    links: LinkMap,
    site: Mapping[str, Any],
    lessons: Sequence[Mapping[str, Any]],
) -> str:
    readme = repo / "README.md"
    intro_md = readme_section(readme, "What this is")
    intro = (
        render_markdown(intro_md, links=links, source=readme, slugs="github") if intro_md else ""
    )
    return (
        environment()
        .get_template("landing.html.j2")
        .render(
            title="Course map",
            current="index.html",
            site=site,
            description=project_description(repo / "pyproject.toml"),
            intro=Markup(intro),
            lessons=[
                {
                    **lesson,
                    "questions_html": [
                        Markup(inline_markdown(q, links=links, source=repo / lesson["repo_path"]))
                        for q in lesson.get("questions", [])
                    ],
                }
                for lesson in lessons
            ],
        )
    )


def guide_page(*, guide: Path, links: LinkMap, site: Mapping[str, Any]) -> str:
    text = guide.read_text(encoding="utf-8")
    title = next((ln[2:].strip() for ln in text.splitlines() if ln.startswith("# ")), guide.stem)
    body = render_markdown(text, links=links, source=guide, slugs="github")
    return (
        environment()
        .get_template("guide.html.j2")
        .render(
            title=title,
            current="instructor-guide.html",
            site=site,
            body=Markup(body),
            repo_path=links.repo_path(guide),
            repo_href=links.repo_href(guide),
        )
    )


def measured_page(
    *, site: Mapping[str, Any], lessons: Sequence[Mapping[str, Any]], **run: Any
) -> str:
    return (
        environment()
        .get_template("measured.html.j2")
        .render(title="Where and when", current="measured.html", site=site, lessons=lessons, **run)
    )
