"""Where the checkout and the small fixture data files are, for tests in any folder."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SCRIPTS = REPO / "scripts"
