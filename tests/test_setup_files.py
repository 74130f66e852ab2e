"""The set-up files agree with ``pyproject.toml`` and with each other.

``environment.yml`` (learners) must hold what ``pip install -e ".[lab]"`` installs, and nothing
for the tests; ``environment-test.yml`` what ``".[test]"`` installs. The learner page
``docs/setup.md`` is linked first in the README, names the learners' jobs of the entry point,
and its links inside the repository resolve.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import concurrency_lab.__main__ as entry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pytest depends on tomli before 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
# conda-forge's names for PyPI projects whose names differ there.
CONDA_NAMES = {
    "matplotlib": ["matplotlib-base"],
    "playwright": ["playwright-python"],
    "dask[distributed]": ["dask-core", "distributed"],
    "nbconvert": ["nbconvert-core"],  # without pandoc
}
TEST_TOOLS = {"pytest", "pytest-timeout", "nbval", "nbstripout", "ruff", "playwright-python"}


def requirement(spec: str) -> tuple[str, str]:
    """``"jupyterlab>=4.0"`` -> ``("jupyterlab", ">=4.0")``; extras stay in the name."""
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)", spec.strip())
    assert match, spec
    return match.group(1).lower(), match.group(2).replace(" ", "")


def extra(name: str) -> dict[str, str]:
    """The requirements of the project's ``name`` extra, its own extras expanded."""
    with open(REPO / "pyproject.toml", "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    out: dict[str, str] = {}
    for spec in extras[name]:
        project, version = requirement(spec)
        inner = re.fullmatch(r"concurrency_lab\[(\w+)\]", project)
        if inner:
            out.update(extra(inner.group(1)))
        else:
            out[project] = version
    return out


def conda_dependencies(path: Path) -> tuple[dict[str, str], list[str]]:
    """The conda packages of an environment file (name -> version spec) and its pip lines."""
    conda: dict[str, str] = {}
    pip: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"^  - pip:\s*$", line):
            continue
        top = re.match(r"^  - (\S.*)$", line)
        nested = re.match(r"^      - (\S.*)$", line)
        if top:
            name, version = requirement(top.group(1))
            conda[name] = version
        elif nested:
            pip.append(nested.group(1))
    return conda, pip


@pytest.mark.parametrize(
    ("file", "extra_name"), [("environment.yml", "lab"), ("environment-test.yml", "test")]
)
def test_environment_files_hold_the_extra_with_the_same_versions(file, extra_name):
    conda, pip = conda_dependencies(REPO / file)
    for project, version in extra(extra_name).items():
        for name in CONDA_NAMES.get(project, [project]):
            assert name in conda, f"{file} lacks {name} (for {project} in the {extra_name} extra)"
            if project not in CONDA_NAMES or name == CONDA_NAMES[project][0]:
                assert conda[name] == version, f"{file}: {name}{conda[name]}, pyproject {version}"
    assert conda["python"] == ">=3.10"  # no upper cap: 3.14 and later are allowed
    assert pip == (["-e ."] if extra_name == "lab" else ["-e .[test]"])


def test_the_learner_environment_has_no_test_tools():
    conda, _ = conda_dependencies(REPO / "environment.yml")
    assert not TEST_TOOLS & set(conda)
    assert "dask" not in conda and "dask-core" not in conda  # optional: docs/setup.md says how


def test_the_readme_links_the_setup_page_first():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)", readme)
    assert links[0] == "docs/setup.md"


def test_the_setup_page_names_the_learner_jobs_and_its_links_resolve():
    page = (REPO / "docs" / "setup.md").read_text(encoding="utf-8")
    for job in ("lab", "check"):  # the learners' jobs (test and site are for maintainers)
        assert job in entry.JOBS
        assert f"python -m concurrency_lab {job}" in page and f"./course {job}" in page, job
    for windows_step in (
        "py -3.12 -m venv .venv",
        r".venv\Scripts\python -m pip install -U pip",
        r'.venv\Scripts\python -m pip install -e ".[lab]"',
        r".venv\Scripts\python -m concurrency_lab check",
        r".venv\Scripts\python -m concurrency_lab lab",
    ):
        assert windows_step in page
    for target in re.findall(r"\]\(([^)]+)\)", page):
        if target.startswith(("http://", "https://", "#")):
            continue
        assert (REPO / "docs" / target.split("#")[0]).exists(), target
    anchors = re.findall(r"\]\(#([^)]+)\)", page)
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", page, flags=re.MULTILINE)
    }
    assert set(anchors) <= headings, set(anchors) - headings
