"""The store queries the UI relies on: undo, the filtered queue, read-only use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edgebox.errors import StoreError
from edgebox.store import DocState, Store
from edgebox.store.filters import DocumentFilter
from edgebox.store.queue import check_readable
from tests.support.tui import seed


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "data" / "edgebox.db") as opened:
        yield opened


@pytest.fixture
def ids(store: Store) -> dict[str, int]:
    return seed(store)


def test_undoing_a_confirmation_returns_to_the_ai_answer_and_to_review(
    store: Store, ids: dict[str, int]
) -> None:
    doc = ids["lab-malaria.pdf"]  # the AI was confident: no review asked
    store.record_review(doc, reviewer="amina", changes={})
    assert len(store.training_examples()) == 1

    assert store.undo_last_change(doc, actor="baraka") == 3

    latest = store.latest_revision(doc)
    assert (latest["author"], latest["urgency"]) == ("ai", "urgent")
    assert latest["needs_review"] is True
    assert latest["provenance"]["undo"] == {
        "revision": 3,
        "undid": 2,
        "restores": 1,
        "by": "staff:baraka",
    }
    assert store.document(doc)["state"] == DocState.TRIAGED
    assert store.training_examples() == []
    assert store.override_stats()["reviewed"] == 0
    audit = store.audit_log(doc)[-1]
    assert (audit["actor"], audit["action"]) == ("staff:baraka", "undo")
    assert [r["revision"] for r in store.revisions(doc)] == [1, 2, 3]  # none deleted
    assert [
        row.revision for row in store.pending_outbox() if row.document_id == doc
    ] == [1, 2, 3]


def test_undo_walks_back_one_staff_change_at_a_time(
    store: Store, ids: dict[str, int]
) -> None:
    doc = ids["referral-kibera.txt"]
    store.record_review(doc, reviewer="alice", changes={"urgency": "urgent"})
    store.record_review(doc, reviewer="bob", changes={"category": "letter"})

    store.undo_last_change(doc, actor="bob")  # back to alice's answer
    latest = store.latest_revision(doc)
    assert (latest["author"], latest["urgency"], latest["category"]) == (
        "staff:alice",
        "urgent",
        "referral",
    )
    assert store.document(doc)["state"] == DocState.REVIEWED
    assert [(e["category"], e["urgency"]) for e in store.training_examples()] == [
        ("referral", "urgent")
    ]
    assert store.override_stats()["urgency"]["overridden"] == 1

    store.undo_last_change(doc, actor="bob")  # and to the AI's
    latest = store.latest_revision(doc)
    assert (latest["author"], latest["urgency"]) == ("ai", "emergency")
    assert store.undo_plan(doc) is None
    with pytest.raises(StoreError, match="no staff change to undo"):
        store.undo_last_change(doc, actor="bob")
    assert len(store.revisions(doc)) == 5


def test_a_review_after_an_undo_can_itself_be_undone(
    store: Store, ids: dict[str, int]
) -> None:
    doc = ids["rx-0042.txt"]
    store.record_review(doc, reviewer="alice", changes={"urgency": "urgent"})
    store.undo_last_change(doc, actor="alice")
    store.record_review(doc, reviewer="alice", changes={"urgency": "emergency"})
    plan = store.undo_plan(doc)
    assert (plan.undone["revision"], plan.restored["revision"]) == (4, 1)


def test_a_document_with_only_the_ai_answer_has_nothing_to_undo(
    store: Store, ids: dict[str, int]
) -> None:
    with pytest.raises(StoreError, match="no staff change"):
        store.undo_last_change(ids["rx-0042.txt"], actor="amina")


def test_the_queue_filters_by_state_category_and_urgency(
    store: Store, ids: dict[str, int]
) -> None:
    def files(**filters: str) -> list[str]:
        return [row["file_name"] for row in store.queue_page(DocumentFilter(**filters))]

    # The quarantined scan has no result: it sorts with the unknown, by age.
    assert files() == [
        "referral-kibera.txt",
        "lab-malaria.pdf",
        "scan-0007.png",
        "intake-0311.txt",
        "rx-0042.txt",
    ]
    assert files(urgency="unknown") == ["scan-0007.png", "intake-0311.txt"]
    assert files(state="quarantined") == ["scan-0007.png"]
    assert files(category="prescription") == ["rx-0042.txt"]
    assert files(state="reviewed") == []


def test_full_text_search_needs_no_model(store: Store, ids: dict[str, int]) -> None:
    hits = store.text_search("malaria falciparum")
    assert [hit["document_id"] for hit in hits] == [ids["lab-malaria.pdf"]]
    assert "[falciparum]" in hits[0]["snippet"]  # marked as the hybrid search does
    assert store.text_search("*** NEAR(") == []  # FTS syntax is only text


def _notes(store: Store, texts: list[str]) -> list[int]:
    return [
        store.add_document(
            file_name=f"note-{n}.txt", sha256=f"{n:064x}", size=len(text),
            state=DocState.EXTRACTED, text=text, archive_path=f"archive/{n:064x}",
        )
        for n, text in enumerate(texts)
    ]  # fmt: skip


def test_a_word_in_too_many_documents_lists_the_newest_unranked(store: Store) -> None:
    falciparum, best, *newer = _notes(
        store,
        [
            "Thick smear: falciparum.",
            "Cough, cough, cough: a cough every night.",
            "Cough since the rains began, with a little fever and tiredness.",
            "Mild cough after a cold last month, otherwise well today.",
        ],
    )
    ranked = [hit["document_id"] for hit in store.text_search("cough")]
    assert ranked[0] == best  # the note that says it most
    # Three "cough" notes are more than 2 to rank: newest first.
    newest = [hit["document_id"] for hit in store.text_search("cough", common=2)]
    assert newest == [newer[1], newer[0], best]
    # No note has both words: the fallback leaves out the too-common word
    # rather than listing the newest "cough" notes.
    hits = store.text_search("falciparum cough", common=2, limit=2)
    assert [hit["document_id"] for hit in hits] == [falciparum]
    ranked_all = store.text_search("cough", common=None)
    assert [hit["document_id"] for hit in ranked_all] == ranked


def test_a_read_only_connection_reads_and_never_writes(
    store: Store, ids: dict[str, int]
) -> None:
    with Store.open_read_only(store.path) as reader:
        assert len(reader.queue_page()) == 5
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.record_review(ids["rx-0042.txt"], reviewer="amina", changes={})
    assert len(store.revisions(ids["rx-0042.txt"])) == 1


def test_a_file_that_is_not_sqlite_is_named_in_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "edgebox.db"
    path.write_bytes(b"%PDF-1.4 definitely not a database\n" * 200)
    with pytest.raises(StoreError, match="not an SQLite file") as raised:
        check_readable(path)
    assert str(path) in str(raised.value)


def test_a_store_locked_by_another_program_is_named_in_a_clear_error(
    store: Store,
) -> None:
    store.db.execute("PRAGMA journal_mode=DELETE")  # a WAL file lets readers in
    locker = sqlite3.connect(store.path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another program") as raised:
            check_readable(store.path, timeout=0.1)
        assert str(store.path) in str(raised.value)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    check_readable(store.path)  # once released, it opens


def test_a_review_of_a_revision_that_is_no_longer_the_latest_is_refused(
    store: Store, ids: dict[str, int]
) -> None:
    doc = ids["referral-kibera.txt"]  # revision 1: emergency
    store.record_review(doc, reviewer="alice", changes={"urgency": "urgent"})
    with pytest.raises(StoreError, match="changed since you opened it") as raised:
        # Bob's form showed revision 1 and he changed only the note.
        store.record_review(doc, reviewer="bob", changes={}, expected_revision=1)
    assert raised.value.title == "changed meanwhile"
    assert "revision 2, by staff:alice: urgent, referral" in raised.value.message
    assert [r["author"] for r in store.revisions(doc)] == ["ai", "staff:alice"]
    assert (
        store.record_review(
            doc, reviewer="bob", changes={}, note="seen", expected_revision=2
        )
        == 3
    )


def test_a_person_cannot_confirm_an_unknown_urgency(
    store: Store, ids: dict[str, int]
) -> None:
    doc = ids["intake-0311.txt"]  # triage failed: urgency unknown
    with pytest.raises(StoreError, match="choose an urgency"):
        store.record_review(doc, reviewer="amina", changes={})
    with pytest.raises(StoreError, match="choose an urgency"):
        store.record_review(doc, reviewer="amina", changes={"urgency": "unknown"})
    assert len(store.revisions(doc)) == 1
    store.record_review(doc, reviewer="amina", changes={"urgency": "urgent"})
    assert store.latest_revision(doc)["needs_review"] is False


def test_an_undo_asked_on_an_older_revision_is_refused(
    store: Store, ids: dict[str, int]
) -> None:
    doc = ids["referral-kibera.txt"]
    store.record_review(doc, reviewer="alice", changes={"urgency": "urgent"})
    store.record_review(doc, reviewer="bob", changes={"category": "letter"})
    # The question named alice's revision 2; bob's revision 3 came since.
    with pytest.raises(StoreError, match="now revision 3, by staff:bob"):
        store.undo_last_change(doc, actor="alice", expected_revision=2)
    assert len(store.revisions(doc)) == 3
    assert store.undo_last_change(doc, actor="alice", expected_revision=3) == 4
    assert store.latest_revision(doc)["author"] == "staff:alice"
    # Bob asked on revision 3 too: he is told alice undid it, not who wrote
    # the values the undo brought back.
    with pytest.raises(StoreError) as raised:
        store.undo_last_change(doc, actor="bob", expected_revision=3)
    assert "now revision 4, an undo by staff:alice:" in raised.value.message


def test_the_queue_pages_and_counts_what_passes_the_filters(
    store: Store, ids: dict[str, int]
) -> None:
    every = [row["document_id"] for row in store.queue_page()]
    pages = [
        [row["document_id"] for row in store.queue_page(limit=2, offset=start)]
        for start in (0, 2, 4)
    ]
    assert pages == [every[0:2], every[2:4], every[4:]]
    assert store.queue_count() == 5
    assert store.queue_count(DocumentFilter(urgency="unknown")) == 2
    assert store.queue_count(DocumentFilter(state="reviewed")) == 0
