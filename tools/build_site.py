"""Execute every lesson on this machine and build a static site from the run.

Usage (from the course folder; ``./course site`` does the same):

    .venv/bin/python tools/build_site.py            # writes _site/
    .venv/bin/python tools/build_site.py --out DIR --jobs 2 --only 02

See ``tools/sitebuild/cli.py`` for the steps and ``--help`` for the options.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sitebuild.cli import main

if __name__ == "__main__":
    sys.exit(main())
