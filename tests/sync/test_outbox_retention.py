"""Sent outbox rows leave the box after `[sync] keep_sent_days`; the audit
keeps that they went; pending and dead rows are never pruned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgebox.store import Store
from edgebox.store.outbox import sent_cutoff
from edgebox.sync.client import SyncClient
from tests.support.central import Central, device_name, sync_settings
from tests.support.processes import run_cli
from tests.support.records import fill_store

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _days_ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat(timespec="milliseconds")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(fill_store(tmp_path / "edgebox.db", 6)) as opened:
        yield opened


def _sent(store: Store, ids: list[int], at: str) -> None:
    store.mark_outbox_sent(ids)
    store.db.conn.executemany(  # as if the centre had acknowledged them then
        "UPDATE outbox SET sent_at = ? WHERE id = ?", [(at, i) for i in ids]
    )
    store.db.conn.commit()


def test_the_cutoff_is_keep_days_before_now_and_none_keeps_all() -> None:
    assert sent_cutoff(30, at=NOW) == _days_ago(30)
    assert sent_cutoff(0, at=NOW) is None


def test_only_rows_sent_before_the_cutoff_go_and_the_audit_says_so(
    store: Store,
) -> None:
    _sent(store, [1, 2, 3], _days_ago(31))
    _sent(store, [4], _days_ago(29))
    store.mark_outbox_dead(5, "rejected")
    cutoff = sent_cutoff(30, at=NOW)
    assert store.sent_outbox_due(sent_before=cutoff) == 3
    assert store.prune_sent_outbox(sent_before=cutoff) == 3
    left = {row["id"]: row["state"] for row in store.db.query("SELECT * FROM outbox")}
    assert left == {4: "sent", 5: "dead", 6: "pending"}
    (entry,) = [a for a in store.audit_log() if a["action"] == "outbox_pruned"]
    assert json.loads(entry["detail"]) == {
        "n": 3, "first_id": 1, "last_id": 3, "sent_before": cutoff,
    }  # fmt: skip
    assert len(store.revisions(1)) == 1  # the result itself stays
    assert store.prune_sent_outbox(sent_before=cutoff) == 0  # nothing, no audit
    assert sum(a["action"] == "outbox_pruned" for a in store.audit_log()) == 1


@pytest.fixture
def central(shared_central: Central) -> Central:
    return shared_central


def test_a_push_prunes_what_the_centre_acknowledged_long_ago(
    central: Central, store: Store
) -> None:
    name = device_name()
    token = central.add_device(name)
    settings = sync_settings(central.url, name, token)
    with SyncClient(store, settings) as client:
        assert client.push().acknowledged == 6
        old = datetime.now(UTC) - timedelta(days=settings.keep_sent_days + 1)
        _sent(store, [1, 2], old.isoformat(timespec="milliseconds"))
        client.push()
    assert store.outbox_counts() == {"pending": 0, "sent": 4, "dead": 0}
    kept = sync_settings(central.url, name, token, keep_sent_days=0)
    _sent(store, [3], old.isoformat(timespec="milliseconds"))
    with SyncClient(store, kept) as client:
        client.push()
    assert store.outbox_counts()["sent"] == 4  # 0 keeps them for ever


def test_status_says_how_many_sent_rows_are_due(edgebox_home: Path) -> None:
    from edgebox.config import load

    assert run_cli("init").returncode == 0
    fill_store(load().db_path, 3)
    with Store(load().db_path) as store:
        _sent(store, [1, 2], "2020-01-01T00:00:00.000+00:00")
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["retention"] == {"keep_sent_days": 30, "sent_outbox_due": 2}
    assert "2 sent outbox row(s) due" in run_cli("status").stdout
