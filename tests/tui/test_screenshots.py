"""scripts/screenshots.py makes the SVGs docs/ui.md shows, from a demo store
and without the model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # tests/<folder>/this file
SCREENS = ("queue", "document", "review", "status", "patients", "patient", "help")


def test_the_script_saves_each_main_screen_as_an_svg(tmp_path: Path) -> None:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "scripts/screenshots.py", "--out", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.stem for p in tmp_path.glob("*.svg")) == sorted(SCREENS)
    queue = (tmp_path / "queue.svg").read_text()
    assert queue.startswith("<svg") and "EMERG" in queue
    # Rich writes each space as &#160;.
    patient = (tmp_path / "patient.svg").read_text().replace("&#160;", " ")
    assert "patient MAT-2231" in patient
    assert "2 document(s) with this reference" in patient
    for name in SCREENS:  # the committed pictures are the same set
        assert (REPO / "docs" / "screens" / f"{name}.svg").is_file()
