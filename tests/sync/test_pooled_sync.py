"""Pooled learning, the way up: with `[sync] share_reviews` a box sends the
text and labels of what its staff reviewed one by one, and a real central
server (SQLite and PostgreSQL) keeps each review once per clinic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edgebox import config
from edgebox.cli.commands import cli
from edgebox.store import Store
from edgebox.sync.client import SyncClient
from tests.support.central import Central, device_name, sync_settings

TEXTS = [
    "Triage note. 70-year-old male by ambulance. Chest pain. BP 80/50, HR 130.",
    "Triage note. 25-year-old female walked in. Sore throat. BP 120/80, HR 80.",
    "Triage note. 40-year-old male. Ankle sprain after a fall. Pain 4/10.",
]
AI = {
    "category": "referral",
    "urgency": "urgent",
    "summary": "",
    "red_flags": [],
    "fields": {},
    "language": "en",
    "confidence": None,
    "needs_review": True,
    "sources": {"category": "learned", "urgency": "learned"},
    "provenance": {"model": "m.gguf"},
}


@pytest.fixture
def central(shared_central: Central) -> Central:
    return shared_central


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Store]:
    """Three AI results: the first reviewed by hand (urgency changed), the
    second confirmed in bulk, the third not reviewed."""
    with Store(tmp_path / "edgebox.db") as store:
        for n, text in enumerate(TEXTS):
            doc = store.add_document(
                file_name=f"note{n}.txt", sha256=f"{n:064x}", size=len(text), text=text
            )
            store.record_triage(doc, AI)
        store.record_review(1, reviewer="amina", changes={"urgency": "emergency"})
        store.confirm_many([2], reviewer="amina")
        yield store


def push(store: Store, central: Central, name: str, token: str, **settings: Any):
    with SyncClient(store, sync_settings(central.url, name, token, **settings)) as c:
        report = c.push()
    assert report.ok, report
    return report


def pooled(central: Central, name: str) -> list[dict[str, Any]]:
    return [r for r in central.db.pooled_reviews() if r["clinic"] == name]


def test_a_box_sharing_reviews_sends_each_hand_review_once_with_its_text(
    box: Store, central: Central
) -> None:
    name = device_name()
    token = central.add_device(name)
    push(box, central, name, token, share_reviews=True)
    held = pooled(central, name)
    assert [(r["document_id"], r["revision"]) for r in held] == [(1, 2)]
    review = held[0]
    assert review["text"] == TEXTS[0]
    assert (review["category"], review["urgency"]) == ("referral", "emergency")
    assert review["reviewed_at"] == box.revision(1, 2)["created_at"]
    # The record keeps the labels; the text lives in the pooled table only.
    records = central.db.records(name)
    assert all("shared_review" not in r["content"] for r in records)
    assert len(records) == 5  # three AI results, a review and a bulk confirmation

    # Sent again (as after a lost acknowledgement): nothing doubles.
    box.db.execute("UPDATE outbox SET state = 'pending'")
    report = push(box, central, name, token, share_reviews=True)
    assert report.acknowledged == 5
    assert len(pooled(central, name)) == 1
    assert len(central.db.records(name)) == 5
    assert central.db.pooled_counts()[name] == 1
    status = CliRunner().invoke(cli, ["central", "status", "--db", central.db_url])
    line = next(x for x in status.output.splitlines() if x.startswith(name))
    assert line.endswith("shared reviews 1")


def test_a_box_not_sharing_sends_no_text(box: Store, central: Central) -> None:
    name = device_name()
    push(box, central, name, central.add_device(name))
    assert pooled(central, name) == []
    assert central.db.pooled_counts().get(name) is None
    assert len(central.db.records(name)) == 5


def test_a_later_review_of_the_same_document_replaces_its_labels(
    box: Store, central: Central
) -> None:
    name = device_name()
    token = central.add_device(name)
    push(box, central, name, token, share_reviews=True)
    box.record_review(1, reviewer="amina", changes={"urgency": "urgent"})
    push(box, central, name, token, share_reviews=True)
    held = pooled(central, name)
    assert [(r["revision"], r["urgency"]) for r in held] == [(3, "urgent")]


def test_share_reviews_is_off_by_default_and_set_by_file_or_environment(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config.load(edgebox_home).sync.share_reviews is False
    assert "\nshare_reviews = false\n" in config.render_default()
    monkeypatch.setenv("EDGEBOX_SYNC_SHARE_REVIEWS", "true")
    assert config.load(edgebox_home).sync.share_reviews is True


def test_retention_removes_shared_texts_with_their_records(
    box: Store, central: Central
) -> None:
    from datetime import UTC, datetime, timedelta

    from edgebox.sync.central.retention import prune

    name = device_name()
    push(box, central, name, central.add_device(name), share_reviews=True)
    assert len(pooled(central, name)) == 1
    later = datetime.now(UTC) + timedelta(days=31)  # the clock, moved on
    assert prune(central.db, 60, at=later)["pooled_reviews"] == 0
    assert prune(central.db, 30, at=later)["pooled_reviews"] >= 1
    assert pooled(central, name) == [] and central.db.records(name) == []
