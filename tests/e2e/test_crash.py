"""Crash safety: SIGKILL the ingesting service at random moments, 20 times."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgebox import config
from edgebox.triage.manifest import sha256_file

FILES = 200
KILLS = 20


def start(home: Path) -> subprocess.Popen:
    env = os.environ | {"EDGEBOX_HOME": str(home), "EDGEBOX_INGEST_QUIET_S": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "edgebox", "watch", "--no-triage", "--until-idle"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_every_file_exactly_once_after_20_kills(edgebox_home: Path) -> None:
    settings = config.load()
    settings.inbox_dir.mkdir(parents=True)
    expected = {}
    for i in range(FILES):
        path = settings.inbox_dir / f"doc-{i:03}.txt"
        path.write_text(f"Document {i}. " + "words " * random.randint(10, 2000))
        expected[sha256_file(path)] = path.name
    rng = random.Random(20261129)
    for _ in range(KILLS):
        process = start(edgebox_home)
        time.sleep(rng.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)  # fault injector: a power cut
        process.wait()
    final = start(edgebox_home)
    assert final.wait(timeout=300) == 0

    conn = sqlite3.connect(settings.db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = conn.execute("SELECT sha256, file_name, state, archive_path FROM documents")
    recorded = list(rows)
    assert sorted(sha for sha, *_ in recorded) == sorted(expected)  # once each
    for sha, name, state, archive_path in recorded:
        assert name == expected[sha]
        assert state == "extracted"
        assert sha256_file(Path(archive_path)) == sha
    assert not [p for p in settings.inbox_dir.rglob("*") if p.is_file()]
    # A copy killed mid-way leaves a temporary file: the next start removes it.
    assert not list(settings.archive_dir.glob(".incoming-*"))
