"""The central server's retention (`--keep-days`): what a box sent goes once
older than that, on a real server over both databases; a row in
`retention_log` says it happened, by counts; 0 keeps for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgebox.store import Store
from edgebox.sync.central.retention import prune, retention_log
from edgebox.sync.client import SyncClient
from tests.support.central import Central, device_name, sync_settings
from tests.support.processes import run_cli
from tests.support.records import fill_store


@pytest.fixture
def central(shared_central: Central) -> Central:
    return shared_central


def _pushed(central: Central, tmp_path: Path) -> str:
    name = device_name()
    settings = sync_settings(central.url, name, central.add_device(name))
    with Store(fill_store(tmp_path / "edgebox.db", 4)) as store:
        with SyncClient(store, settings) as client:
            assert client.push().acknowledged == 4
    return name


def test_records_older_than_keep_days_go_and_the_log_says_so(
    central: Central, tmp_path: Path
) -> None:
    name = _pushed(central, tmp_path)
    later = datetime.now(UTC) + timedelta(days=31)  # the clock, moved on
    assert prune(central.db, 60, at=later)["records"] == 0
    assert len(central.db.records(name)) == 4
    due = prune(central.db, 30, at=later, dry_run=True)
    assert due["records"] >= 4 and due["batches"] >= 1
    assert len(central.db.records(name)) == 4  # a dry run deletes nothing
    logged = len(retention_log(central.db))
    deleted = prune(central.db, 30, at=later)
    assert deleted == due
    assert central.db.records(name) == []
    entries = retention_log(central.db)
    assert len(entries) == logged + 1
    assert entries[-1]["records"] == deleted["records"]
    assert prune(central.db, 0, at=later + timedelta(days=9999)) == {
        "records": 0, "batches": 0, "documents": 0, "pooled_reviews": 0,
    }  # fmt: skip


def test_central_prune_on_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    assert run_cli("central", "add-device", "clinic-a", "--db", db).returncode == 0
    done = run_cli("central", "prune", "--db", db, "--keep-days", "30", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "records 0 due, batches 0 due, documents 0 due, pooled_reviews 0 due"
    )
