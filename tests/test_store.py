import sqlite3
from pathlib import Path

import pytest

from edgebox.errors import StoreError
from edgebox.store import DocState, Store


def ai_result(urgency: str = "urgent", **changes: object) -> dict:
    return {
        "category": "referral",
        "urgency": urgency,
        "summary": "A test summary.",
        "red_flags": [{"sign": "chest pain", "source": "rules"}],
        "fields": {"age": "54"},
        "language": "en",
        "confidence": None,
        "needs_review": False,
        "sources": {"category": "llm", "urgency": "llm"},
        "provenance": {"model": "m.gguf", "prompt_version": "triage-v1"},
        "error": None,
    } | changes


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "data" / "edgebox.db") as opened:
        yield opened


def add(store: Store, name: str = "a.txt", sha: str = "0" * 64) -> int:
    return store.add_document(file_name=name, sha256=sha, size=10)


def test_migrations_run_from_empty(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "edgebox.db"
    with Store(path) as store:
        tables = set(store.db.table_names())
        assert {"documents", "triage_revisions", "outbox", "audit"} <= tables
        assert store.applied_migrations() == ["m001_initial"]
        assert store.journal_mode() == "wal"
    with Store(path) as reopened:  # a second open applies nothing new
        assert reopened.applied_migrations() == ["m001_initial"]


def test_a_file_that_is_not_sqlite_gives_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "edgebox.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=str(path)):
        Store(path)


def test_triage_writes_revision_outbox_and_audit_together(store: Store) -> None:
    doc = add(store)
    assert store.record_triage(doc, ai_result()) == 1
    assert store.document(doc)["state"] == DocState.TRIAGED
    revision = store.revision(doc, 1)
    assert revision["author"] == "ai"
    assert revision["red_flags"] == [{"sign": "chest pain", "source": "rules"}]
    outbox = store.pending_outbox()
    assert [(row["document_id"], row["revision"]) for row in outbox] == [(doc, 1)]
    assert [row["action"] for row in store.audit_log(doc)] == ["received", "triage"]


def test_a_review_is_a_new_revision_and_keeps_the_ai_output(store: Store) -> None:
    doc = add(store)
    store.record_triage(doc, ai_result("routine", needs_review=True))
    assert (
        store.record_review(doc, reviewer="nurse", changes={"urgency": "urgent"}) == 2
    )
    first, second = store.revisions(doc)
    assert (first["author"], first["urgency"], first["needs_review"]) == (
        "ai",
        "routine",
        True,
    )
    assert (second["author"], second["urgency"], second["needs_review"]) == (
        "staff:nurse",
        "urgent",
        False,
    )
    assert second["summary"] == first["summary"]
    assert store.document(doc)["state"] == DocState.REVIEWED
    assert store.outbox_counts()["pending"] == 2


def test_review_without_a_result_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="no triage result"):
        store.record_review(add(store), reviewer="nurse", changes={})


def test_review_of_an_unknown_field_is_refused(store: Store) -> None:
    doc = add(store)
    store.record_triage(doc, ai_result())
    with pytest.raises(StoreError, match="colour"):
        store.record_review(doc, reviewer="nurse", changes={"colour": "red"})


def test_a_failure_inside_the_transaction_leaves_nothing(store: Store) -> None:
    doc = add(store)
    # Fault injector: the outbox insert, the last write of the transaction, fails.
    store.db.execute(
        "CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="injected fault"):
        store.record_triage(doc, ai_result())
    assert store.revisions(doc) == []
    assert store.document(doc)["state"] == DocState.RECEIVED
    assert store.outbox_counts()["pending"] == 0


def test_an_unknown_urgency_is_rejected_by_the_schema(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        store.record_triage(add(store), ai_result("whenever"))


def test_queue_puts_unknown_with_the_urgent_never_with_routine(store: Store) -> None:
    order = ["routine", "unknown", "emergency", "urgent"]
    for i, urgency in enumerate(order):
        doc = add(store, name=f"{urgency}.txt", sha=str(i) * 64)
        store.record_triage(doc, ai_result(urgency))
    untriaged = add(store, name="waiting.txt", sha="9" * 64)
    queue = store.queue()
    assert [row["urgency"] for row in queue] == [
        "emergency",
        "urgent",
        "unknown",
        "routine",
        None,
    ]
    assert queue[-1]["document_id"] == untriaged


def test_counts(store: Store) -> None:
    first = add(store)
    add(store, name="b.txt", sha="1" * 64)
    store.record_triage(first, ai_result(needs_review=True))
    counts = store.counts_by_state()
    assert (counts["received"], counts["triaged"]) == (1, 1)
    assert store.needs_review_count() == 1
    store.record_review(first, reviewer="nurse", changes={})
    assert store.needs_review_count() == 0


def test_find_by_sha256_returns_the_first_document(store: Store) -> None:
    first = add(store, sha="a" * 64)
    add(store, name="copy.txt", sha="a" * 64)
    assert store.find_by_sha256("a" * 64)["id"] == first
    assert store.find_by_sha256("b" * 64) is None
