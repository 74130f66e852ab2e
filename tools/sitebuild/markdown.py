"""Markdown to HTML for the site: nbconvert's own renderer (mistune), plus math and links.

The lesson pages and the instructor guide go through the same renderer, so both get:

* **math without MathJax**: ``$...$`` and ``$$...$$`` are drawn by matplotlib's mathtext into an
  SVG image (glyphs as paths, so no font is loaded), with the TeX source as its alt text. TeX that
  mathtext cannot draw stays visible as TeX source. MathJax would have to come from a CDN or from
  npm; this needs only packages the course already installs.
* **links that work on the site**: a link to a lesson notebook goes to its page, a link to the
  README or the instructor guide to their pages, a link to any other repository file to that file
  in the repository (relative to the site folder, or under ``--repo-url``), and inline code that
  names a lesson notebook (```02-the-gil.ipynb```) links to its page.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

SlugStyle = Literal["nbconvert", "github"]


@dataclass(frozen=True)
class LinkMap:
    """Where repository files are on the site, and how to reach the others.

    Attributes:
        repo: the repository folder.
        out: the site folder (relative links to repository files start from here).
        pages: repository file (resolved) -> site page file name, e.g. ``02-the-gil.html``.
        repo_url: base URL of the repository's files (``https://github.com/o/r/blob/main``),
            or ``None`` for links relative to the site folder.
    """

    repo: Path
    out: Path
    pages: Mapping[Path, str] = field(default_factory=dict)
    repo_url: str | None = None

    def page_for_name(self, name: str) -> str | None:
        """The page of the notebook called ``name`` (``02-the-gil.ipynb`` or ``02-the-gil``)."""
        for path, page in self.pages.items():
            if path.suffix == ".ipynb" and name in (path.name, path.stem):
                return page
        return None

    def repo_path(self, path: Path) -> str:
        """``path`` as the repository shows it: ``notebooks/02-the-gil.ipynb``."""
        return path.resolve().relative_to(self.repo.resolve()).as_posix()

    def repo_href(self, path: Path) -> str:
        """A link to a repository file: under ``repo_url``, or relative to the site folder."""
        rel = self.repo_path(path)
        if self.repo_url:
            return f"{self.repo_url.rstrip('/')}/{quote(rel)}"
        return quote(Path(os.path.relpath(self.repo / rel, self.out)).as_posix())

    def href(self, url: str, *, source: Path) -> str:
        """Rewrite a link found in ``source`` (a repository file) for the site."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:  # web, mailto:, or "#anchor"
            return url
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        target = (source.parent / unquote(parts.path)).resolve()
        if target in self.pages:
            return self.pages[target] + fragment
        try:
            target.relative_to(self.repo.resolve())
        except ValueError:
            return url  # outside the repository: leave it (the site test reports it if broken)
        if target.exists():
            return self.repo_href(target) + fragment
        return url


class SiteRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer with math images, site links and chosen heading ids."""

    def __init__(
        self,
        *,
        links: LinkMap,
        source: Path,
        slugs: SlugStyle = "nbconvert",
        attachments: dict[str, dict[str, str]] | None = None,
    ) -> None:
        super().__init__(escape=False, attachments=attachments)
        self.links = links
        self.source = source
        self.slugs = slugs
        self._seen: dict[str, int] = {}

    def link(self, text: str, url: str, title: str | None = None) -> str:
        return super().link(text, self.links.href(url, source=self.source), title)

    def codespan(self, text: str) -> str:
        page = self.links.page_for_name(text.strip())
        code = super().codespan(text)
        return f'<a href="{html.escape(page)}">{code}</a>' if page else code

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        if self.slugs == "nbconvert":
            return super().heading(text, level, **attrs)
        slug = github_slug(text, self._seen)
        return f'<h{level} id="{html.escape(slug)}">{text}</h{level}>\n'

    def block_math(self, body: str) -> str:
        return math_html(body, display=True)

    def inline_math(self, body: str) -> str:
        return math_html(body, display=False)

    def latex_environment(self, name: str, body: str) -> str:
        return math_html(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


def render_markdown(
    text: str,
    *,
    links: LinkMap,
    source: Path,
    slugs: SlugStyle = "nbconvert",
    attachments: dict[str, dict[str, str]] | None = None,
) -> str:
    """Markdown ``text`` (from the repository file ``source``) as HTML for the site."""
    renderer = SiteRenderer(links=links, source=source, slugs=slugs, attachments=attachments)
    return MarkdownWithMath(renderer=renderer).render(text)


def inline_markdown(text: str, *, links: LinkMap, source: Path) -> str:
    """One line of Markdown as inline HTML (no surrounding paragraph).

    >>> inline_markdown("What do `start()` and *join* do?", links=LinkMap(Path("."), Path(".")),
    ...                 source=Path("x.md"))
    'What do <code>start()</code> and <em>join</em> do?'
    """
    rendered = render_markdown(text, links=links, source=source).strip()
    match = re.fullmatch(r"<p>(.*)</p>", rendered, re.S)
    return match.group(1) if match else rendered


def github_slug(text: str, seen: dict[str, int] | None = None) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens.

    >>> github_slug("Run times (measured)")
    'run-times-measured'
    >>> seen = {}
    >>> github_slug("Set-up", seen), github_slug("Set-up", seen)
    ('set-up', 'set-up-1')
    """
    plain = html.unescape(re.sub(r"<[^>]+>", "", text)).strip().lower()
    slug = "".join(c for c in plain if c in " -_" or unicodedata.category(c)[0] in "LN").replace(
        " ", "-"
    )
    if seen is None:
        return slug
    n = seen.get(slug, 0)
    seen[slug] = n + 1
    return slug if n == 0 else f"{slug}-{n}"


def math_html(tex: str, *, display: bool) -> str:
    """TeX as an SVG image (alt text: the TeX), or as visible TeX when mathtext cannot draw it."""
    src = tex_svg_data_uri(tex.strip(), display=display)
    shown = html.escape(f"$${tex}$$" if display else f"${tex}$")
    if src is None:
        tag = "pre" if display else "code"
        return f'<{tag} class="site-math-source">{shown}</{tag}>'
    img = f'<img class="site-math" src="{src}" alt="{html.escape(tex.strip())}">'
    return f'<div class="site-math-display">{img}</div>' if display else img


@functools.lru_cache(maxsize=256)
def tex_svg_data_uri(tex: str, *, display: bool) -> str | None:
    """``tex`` drawn by matplotlib's mathtext as an SVG ``data:`` URI (``None`` if it cannot)."""
    import matplotlib
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import math_to_image

    buf = io.BytesIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "site"}):
            math_to_image(
                f"${tex}$", buf, prop=FontProperties(size=15 if display else 12), format="svg"
            )
    except (ValueError, RuntimeError):  # mathtext's parse errors are ValueErrors
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
