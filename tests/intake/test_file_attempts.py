"""Failed reads of an inbox file are counted in the store (issue 23): a
restart, or one `edgebox process` after another, goes on counting, and the
file is quarantined after `[ingest] max_attempts` instead of being tried for
ever one fresh count per run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgebox import config
from edgebox.intake import ingest
from edgebox.intake.ingest import Ingestor
from edgebox.store import DocState, Store
from tests.support.inbox import FlakyShareReads, drop, without_file_access


def test_a_new_file_under_the_same_path_starts_a_fresh_count(
    settings: config.Config,
) -> None:
    with Store(settings.db_path) as store:
        assert store.count_file_attempt("a.pdf", "1:2:3:4", "EIO") == 1
        assert store.count_file_attempt("a.pdf", "1:2:3:4", "EIO") == 2
        assert store.count_file_attempt("b.pdf", "1:5:3:4", "EIO") == 1
        assert store.count_file_attempt("a.pdf", "1:9:3:4", "EIO") == 1
        store.forget_file_attempts("a.pdf")
        assert store.count_file_attempt("a.pdf", "1:9:3:4", "EIO") == 1


def test_tries_counted_before_a_restart_still_count_after_it(
    settings: config.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each try with its own store connection and ingestor, as a service
    restarted between tries has: the file is still quarantined after
    `max_attempts` tries in all."""
    real_open = ingest._InboxFile.open
    monkeypatch.setattr(
        ingest._InboxFile,
        "open",
        lambda self, info: FlakyShareReads(real_open(self, info)),
    )
    path = drop(settings, "scan.pdf", b"%PDF-1.4 referral")
    limit = settings.ingest.max_attempts
    results = []
    for _ in range(limit):
        with Store(settings.db_path) as store:
            results.append(Ingestor(settings, store).ingest(path).result)
    assert results == ["locked"] * (limit - 1) + ["quarantined"]
    with Store(settings.db_path) as store:
        (doc,) = store.documents_in_state(DocState.QUARANTINED)
        assert not list(store.db.query("SELECT * FROM file_attempts"))
    assert doc["error_message"] == (
        f"scan.pdf: cannot read the file (Input/output error), {limit} tries;"
        " copy it again from its source"
    )


def test_a_file_read_at_last_leaves_no_count_behind(
    settings: config.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = ingest._InboxFile.open
    with monkeypatch.context() as patched:
        patched.setattr(
            ingest._InboxFile,
            "open",
            lambda self, info: FlakyShareReads(real_open(self, info)),
        )
        path = drop(settings, "scan.txt", "Referral: fever.")
        with Store(settings.db_path) as store:
            assert Ingestor(settings, store).ingest(path).result == "locked"
            assert (
                store.db.execute("SELECT count(*) FROM file_attempts").fetchone()[0]
                == 1
            )
    with Store(settings.db_path) as store:
        assert Ingestor(settings, store).ingest(path).result == "recorded"
        assert store.db.execute("SELECT count(*) FROM file_attempts").fetchone()[0] == 0


def edgebox(args: list[str], locked: Path, tries: int) -> subprocess.CompletedProcess:
    """`edgebox ARGS` as a user who meets `locked` as a mode-000 file."""
    return subprocess.run(
        without_file_access([sys.executable, "-m", "edgebox", *args], locked),
        capture_output=True,
        text=True,
        env={**os.environ, "EDGEBOX_INGEST_QUIET_S": "0",
             "EDGEBOX_INGEST_RESCAN_S": "0.2",
             "EDGEBOX_INGEST_MAX_ATTEMPTS": str(tries)},
        timeout=300,
    )  # fmt: skip


def quarantined(settings: config.Config) -> list[dict]:
    with Store(settings.db_path) as store:
        return store.documents_in_state(DocState.QUARANTINED)


def test_edgebox_process_run_again_and_again_quarantines_a_file_that_never_reads(
    settings: config.Config,
) -> None:
    locked = drop(settings, "locked.txt", "Secret referral")
    locked.chmod(0)
    for run in (1, 2):
        result = edgebox(["process"], locked, tries=3)
        assert result.returncode == 0, result.stderr
        assert f"cannot read locked.txt yet ({run}/3)" in result.stderr
        assert not quarantined(settings) and locked.exists()
    result = edgebox(["process"], locked, tries=3)
    assert result.returncode == 0, result.stderr
    assert "quarantined 1" in result.stderr
    (doc,) = quarantined(settings)
    assert doc["error_code"] == "unreadable"
    assert doc["error_message"] == (
        "locked.txt: cannot read the file (Permission denied), 3 tries;"
        " fix its permissions and drop it in again"
    )
    assert not locked.exists()
    assert (settings.quarantine_dir / f"{doc['id']}-locked.txt").exists()


def test_the_service_after_a_restart_goes_on_from_the_last_try(
    settings: config.Config,
) -> None:
    """One try by `edgebox process`, then the service (`watch --until-idle`)
    with two tries in all: its first try is the second, and quarantines."""
    locked = drop(settings, "locked.txt", "Secret referral")
    locked.chmod(0)
    first = edgebox(["process"], locked, tries=2)
    assert "cannot read locked.txt yet (1/2)" in first.stderr
    service = edgebox(["watch", "--no-triage", "--until-idle"], locked, tries=2)
    assert service.returncode == 0, service.stderr
    assert "cannot read locked.txt yet" not in service.stderr
    (doc,) = quarantined(settings)
    assert doc["error_message"].startswith(
        "locked.txt: cannot read the file (Permission denied), 2 tries"
    )
