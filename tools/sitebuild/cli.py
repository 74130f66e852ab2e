"""``python tools/build_site.py``: run every lesson here and build the static site from the run.

Steps: copy ``notebooks/`` to a temporary folder; execute each lesson there (nbclient, one kernel
per lesson, a timeout per cell); make each executed notebook static (widgets replaced by their
last state, alt texts on images) and render it with nbconvert; write the course map, the
instructor guide and the "where and when" page; write ``site.json`` (what was built, for tests).

Exit status: 0 when every lesson ran without an unexpected error, 1 when some did (the site is
still written, and each problem is listed on its lesson's page), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from . import facts as facts_mod
from .execute import Executed, execute_all
from .lesson import Lesson, copy_assets, read_lesson, render_lesson, write_page
from .markdown import LinkMap
from .pages import guide_page, landing_page, measured_page, readme_minutes

REPO = Path(__file__).resolve().parents[2]
LESSON_GLOB = "[0-9][0-9]-*.ipynb"
MANIFEST = "site.json"
GUIDE = Path("docs") / "instructor-guide.md"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="build_site.py",
        description="Execute every lesson on this machine and build a static site from the run.",
    )
    p.add_argument("--out", type=Path, default=REPO / "_site", help="site folder (default: _site)")
    p.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        default=1,
        help="lessons run at once (default 1: two at once share the cores, which skews timings)",
    )
    p.add_argument("--cell-timeout", type=float, default=180.0, help="seconds per cell (180)")
    p.add_argument("--notebook-timeout", type=float, default=900.0, help="seconds per lesson (900)")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NN",
        help="build only these lessons (by number, e.g. --only 02); repeatable",
    )
    p.add_argument(
        "--repo-url",
        default=os.environ.get("CONCURRENCY_LAB_REPO_URL") or None,
        help="base URL of the repository's files, e.g. https://github.com/OWNER/REPO/blob/main "
        "(default: links relative to the site folder)",
    )
    p.add_argument(
        "--executed",
        type=Path,
        default=None,
        help="also save the executed notebooks (as run, before any change) in this folder",
    )
    args = p.parse_args(argv)
    if args.cell_timeout <= 0 or args.notebook_timeout <= 0:
        p.error("--cell-timeout and --notebook-timeout must be positive numbers of seconds")
    return args


def find_lessons(notebooks: Path, only: Sequence[str]) -> list[Lesson]:
    sources = sorted(notebooks.glob(LESSON_GLOB))
    if only:
        wanted = {n.zfill(2) for n in only}
        unknown = wanted - {s.name[:2] for s in sources}
        if unknown:
            raise SystemExit(
                f"build_site.py: no lesson numbered {', '.join(sorted(unknown))} in {notebooks} "
                f"(there are: {', '.join(s.name[:2] for s in sources)})"
            )
        sources = [s for s in sources if s.name[:2] in wanted]
    if not sources:
        raise SystemExit(f"build_site.py: no lesson notebooks ({LESSON_GLOB}) in {notebooks}")
    return [read_lesson(s) for s in sources]


def check_out_dir(out: Path) -> None:
    """Refuse to empty a folder that is not a site (the repository, home, a non-site folder)."""
    out = out.resolve()
    if out in (REPO.resolve(), Path.home().resolve(), Path("/")) or REPO.resolve().is_relative_to(
        out
    ):
        raise SystemExit(f"build_site.py: refusing to write the site into {out}")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise SystemExit(
            f"build_site.py: {out} is not empty and holds no {MANIFEST}, so it is not an earlier "
            "site: choose an empty or new folder with --out"
        )


def seconds(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.monotonic()
    started = facts_mod.now_utc()
    load_before = facts_mod.load_average()
    out: Path = args.out.resolve()
    check_out_dir(out)
    lessons = find_lessons(REPO / "notebooks", args.only)
    print(f"Building the site in {out} from {len(lessons)} lesson(s), {args.jobs} at a time")

    with tempfile.TemporaryDirectory(prefix="concurrency-lab-site-") as tmp:
        scratch = Path(tmp)
        workdir = scratch / "notebooks"
        shutil.copytree(
            REPO / "notebooks",
            workdir,
            ignore=shutil.ignore_patterns("*_tasks.py", "__pycache__", ".ipynb_checkpoints"),
        )

        def report(done: Executed) -> None:
            status = "ok" if not done.problems else f"{len(done.problems)} problem(s)"
            print(f"  ran {done.source.name} in {seconds(done.elapsed_s)}: {status}", flush=True)
            for problem in done.problems:
                print(f"    {problem}", flush=True)

        executed = asyncio.run(
            execute_all(
                [les.source for les in lessons],
                workdir,
                scratch=scratch,
                jobs=args.jobs,
                cell_timeout_s=args.cell_timeout,
                notebook_timeout_s=args.notebook_timeout,
                report=report,
            )
        )
        if args.executed:
            args.executed.mkdir(parents=True, exist_ok=True)
            for done in executed:
                nbformat.write(done.nb, args.executed / done.source.name)
        logs = {done.source.name: done.log.read_text(errors="replace")[-4000:] for done in executed}

    # Pages are written next to the site and swapped in at the end: a build that stops half-way
    # leaves the previous site as it was.
    staging = out.with_name(f".{out.name}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    copy_assets(staging)
    guide = REPO / GUIDE
    pages = {les.source.resolve(): les.page for les in lessons}
    pages[(REPO / "README.md").resolve()] = "index.html"
    if guide.is_file():
        pages[guide.resolve()] = "instructor-guide.html"
    links = LinkMap(repo=REPO, out=out, pages=pages, repo_url=args.repo_url)
    fx = facts_mod.collect(REPO)
    site = {
        "measured_on": f"{started:%Y-%m-%d} ({fx.summary})",
        "built": f"{started:%Y-%m-%d %H:%M} UTC",
        "nav": [
            {"href": "index.html", "label": "Course map"},
            *(
                [{"href": "instructor-guide.html", "label": "Instructor guide"}]
                if guide.is_file()
                else []
            ),
            {"href": "measured.html", "label": "Where and when"},
        ],
    }
    minutes = readme_minutes(REPO / "README.md")
    summaries: list[dict[str, Any]] = []
    for i, (lesson, done) in enumerate(zip(lessons, executed)):
        nav = {
            "page": lesson.page,
            "number": lesson.number,
            "title": lesson.title,
            "notebook": lesson.source.name,
            "repo_path": links.repo_path(lesson.source),
            "repo_href": links.repo_href(lesson.source),
            "problems": [str(p) for p in done.problems],
            "prev": _brief(lessons[i - 1]) if i > 0 else None,
            "next": _brief(lessons[i + 1]) if i + 1 < len(lessons) else None,
        }
        page = render_lesson(done.nb, lesson, links=links, context={"site": site, "lesson": nav})
        write_page(staging, lesson.page, page)
        summaries.append(
            {
                **{k: nav[k] for k in ("page", "number", "title", "notebook", "repo_path")},
                "repo_href": nav["repo_href"],
                "questions": list(lesson.questions),
                "minutes": minutes.get(lesson.source.stem, ""),
                "elapsed_s": round(done.elapsed_s, 1),
                "elapsed": seconds(done.elapsed_s),
                "n_images": page.n_images,
                "n_widgets": page.n_widgets,
                "problems": nav["problems"],
            }
        )

    (staging / "index.html").write_text(
        landing_page(repo=REPO, links=links, site=site, lessons=summaries), encoding="utf-8"
    )
    if guide.is_file():
        (staging / "instructor-guide.html").write_text(
            guide_page(guide=guide, links=links, site=site), encoding="utf-8"
        )
    duration = time.monotonic() - t0
    jobs_note = (
        "one at a time"
        if args.jobs == 1
        else "two at a time: they shared the cores, so their timings are less clean"
    )
    (staging / "measured.html").write_text(
        measured_page(
            site=site,
            lessons=summaries,
            facts=fx.rows,
            source_note=fx.source_note,
            started=f"{started:%Y-%m-%d %H:%M:%S} UTC",
            duration=seconds(duration),
            jobs_note=jobs_note,
            load_before=facts_mod.describe_load(load_before),
            cores=fx.usable_cores,
            busy=load_before is not None and load_before > fx.usable_cores,
        ),
        encoding="utf-8",
    )
    problems = [p for s in summaries for p in s["problems"]]
    manifest = {
        "started": started.isoformat(),
        "load_before": load_before,
        "duration_s": round(duration, 1),
        "jobs": args.jobs,
        "facts": dict(fx.rows),
        "lessons": summaries,
        "problems": problems,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    print(f"Site written to {out / 'index.html'} in {seconds(duration)}")
    if problems:
        print(f"\n{len(problems)} problem(s) in the lessons (also shown on their pages):")
        for p in problems:
            print(f"  {p}")
        for name, log in logs.items():
            if any(p.startswith(name) for p in problems) and log.strip():
                print(f"\n--- last lines the kernel of {name} wrote ---\n{_tail(log)}")
        return 1
    return 0


def _brief(lesson: Lesson) -> dict[str, str]:
    return {"page": lesson.page, "number": lesson.number, "title": lesson.title}


def _tail(text: str, n: int = 25) -> str:
    lines = [ln for ln in text.splitlines() if not re.search(r"running over TCP", ln)]
    return "\n".join(lines[-n:])


if __name__ == "__main__":
    sys.exit(main())
