import json
import sqlite3
from pathlib import Path

import pytest

from edgebox.errors import StoreError
from edgebox.store import DocState, Store
from edgebox.store.filters import DocumentFilter
from tests.support.records import add, ai_result


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "data" / "edgebox.db") as opened:
        yield opened


def test_migrations_run_from_empty(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "edgebox.db"
    with Store(path) as store:
        tables = set(store.db.table_names())
        assert {"documents", "triage_revisions", "outbox", "audit"} <= tables
        assert store.applied_migrations() == [
            "m001_initial",
            "m002_sync",
            "m003_ingest",
            "m004_index",
            "m005_service_state",
            "m006_uploads",
            "m007_inbox_cleared",
            "m008_unread_pages",
            "m009_provisional",
            "m013_install_id",
            "m014_file_attempts",
            "m015_retention",
            "m019_alerts",
            "m020_staff",
            "m021_saved_filters",
        ]
        assert store.journal_mode() == "wal"
    with Store(path) as reopened:  # a second open applies nothing new
        assert reopened.applied_migrations() == [
            "m001_initial",
            "m002_sync",
            "m003_ingest",
            "m004_index",
            "m005_service_state",
            "m006_uploads",
            "m007_inbox_cleared",
            "m008_unread_pages",
            "m009_provisional",
            "m013_install_id",
            "m014_file_attempts",
            "m015_retention",
            "m019_alerts",
            "m020_staff",
            "m021_saved_filters",
        ]


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
    assert [(row.document_id, row.revision) for row in outbox] == [(doc, 1)]
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
    # A document with no result yet could be an emergency: it waits with the
    # unknown ones, above routine, in the CLI as in the UI.
    assert [row["urgency"] for row in queue] == [
        "emergency",
        "urgent",
        "unknown",
        None,
        "routine",
    ]
    assert queue[3]["document_id"] == untriaged
    assert [r["document_id"] for r in store.queue_page()] == [
        r["document_id"] for r in queue
    ]


def failed_triage(store: Store, name: str = "fu.txt", sha: str = "f" * 64) -> int:
    """A document read fine whose triage timed out, as the engine records it."""
    doc = add(store, name=name, sha=sha)
    store.set_state(doc, DocState.EXTRACTED, text="Follow-up visit, feels unwell.")
    timed_out = ai_result(
        "unknown", category=None, summary="", red_flags=[], needs_review=True
    )
    store.record_triage(doc, timed_out | {"error": "triage deadline passed (120 s)"})
    return doc


def test_queue_puts_failed_unreadable_and_untriaged_above_routine_and_copies_last(
    store: Store,
) -> None:
    emergency = add(store, name="convulsions.txt", sha="e" * 64)
    store.record_triage(emergency, ai_result("emergency"))
    for n in range(3):  # the same letter dropped again, before the others came
        store.add_document(
            file_name=f"copy-{n}.txt", sha256="e" * 64, size=10,
            state=DocState.DUPLICATE, duplicate_of=emergency,
        )  # fmt: skip
    damaged = store.add_document(
        file_name="damaged.pdf", sha256="d" * 64, size=10,
        state=DocState.QUARANTINED, error_code="pdf_damaged", error_message="damaged",
    )  # fmt: skip
    failed = failed_triage(store)
    waiting = add(store, name="waiting.txt", sha="9" * 64)
    routine = add(store, name="routine.txt", sha="1" * 64)
    store.record_triage(routine, ai_result("routine"))
    expected = [
        "convulsions.txt",
        # Urgency unknown, right after the urgent ones, by age: a quarantined
        # file may be an unreadable emergency referral.
        "damaged.pdf",
        "fu.txt",
        "waiting.txt",  # no result yet: unknown too, never below routine
        "routine.txt",
        "copy-0.txt",  # not work for a nurse: last, by age
        "copy-1.txt",
        "copy-2.txt",
    ]
    assert [row["file_name"] for row in store.queue()] == expected
    assert [row["file_name"] for row in store.queue_page()] == expected
    unknown = store.queue_page(DocumentFilter(urgency="unknown"))
    assert [row["document_id"] for row in unknown][:3] == [damaged, failed, waiting]
    assert store.queue()[2]["error"] == "triage deadline passed (120 s)"


def test_a_failed_triage_no_one_reviewed_is_triaged_again_on_requeue(
    store: Store,
) -> None:
    doc = failed_triage(store)
    add(store, name="fine.txt", sha="2" * 64)
    (listed,) = store.requeueable()
    assert (listed["id"], listed["state"]) == (doc, DocState.TRIAGED)
    assert listed["error_code"] == "triage_failed"
    assert listed["error_message"] == "triage deadline passed (120 s)"
    assert [d["id"] for d in store.requeue(doc, actor="staff:amina")] == [doc]
    requeued = store.document(doc)
    # The text already read is triaged again; the failed answer is kept.
    assert requeued["state"] == DocState.EXTRACTED
    assert requeued["text"] == "Follow-up visit, feels unwell."
    assert [rev["error"] for rev in store.revisions(doc)] == [
        "triage deadline passed (120 s)"
    ]
    audit = store.audit_log(doc)[-1]
    assert (audit["actor"], audit["action"]) == ("staff:amina", "requeue")
    assert json.loads(audit["detail"]) == {
        "from": "triaged",
        "revision": 1,
        "error": "triage deadline passed (120 s)",
    }
    assert store.requeueable() == []
    with pytest.raises(StoreError, match="is extracted"):
        store.requeue(doc)  # once is enough: it waits for the service
    # A review saved before the new result would be buried under it: refused.
    with pytest.raises(StoreError, match="is being triaged again"):
        store.record_review(doc, reviewer="nurse", changes={"urgency": "urgent"})
    assert len(store.revisions(doc)) == 1


def test_a_triage_a_person_reviewed_or_that_worked_is_never_requeued(
    store: Store,
) -> None:
    reviewed, undone = failed_triage(store), failed_triage(store, "b.txt", "b" * 64)
    store.record_review(reviewed, reviewer="nurse", changes={"urgency": "urgent"})
    store.record_review(undone, reviewer="nurse", changes={"urgency": "routine"})
    store.undo_last_change(undone, actor="nurse")  # the AI's failure in effect again
    worked = add(store, name="ok.txt", sha="c" * 64)
    store.record_triage(worked, ai_result("routine"))
    assert store.document(undone)["state"] == DocState.TRIAGED
    for doc in (reviewed, undone, worked):
        with pytest.raises(StoreError, match="only failed or quarantined"):
            store.requeue(doc)
    assert store.requeueable() == []
    assert store.document(undone)["state"] == DocState.TRIAGED


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


def test_outbox_sends_emergencies_first_then_oldest(store: Store) -> None:
    for i, urgency in enumerate(["routine", "emergency", "unknown", "emergency"]):
        store.record_triage(add(store, sha=str(i) * 64), ai_result(urgency))
    pending = store.pending_outbox()
    urgencies = [json.loads(row.payload)["urgency"] for row in pending]
    assert urgencies == ["emergency", "emergency", "unknown", "routine"]
    assert pending[0].document_id < pending[1].document_id


def test_outbox_sent_dead_and_failed_rows(store: Store) -> None:
    for i in range(3):
        store.record_triage(add(store, sha=str(i) * 64), ai_result())
    first, second, third = (row.id for row in store.pending_outbox())
    store.note_outbox_failure([first, second], "connection reset")
    store.mark_outbox_sent([first])
    store.mark_outbox_dead(second, "422: summary too long")
    assert store.outbox_counts() == {"pending": 1, "sent": 1, "dead": 1}
    (dead,) = store.dead_outbox()
    assert (dead.id, dead.last_error, dead.attempts) == (
        second,
        "422: summary too long",
        1,
    )
    assert [row.id for row in store.pending_outbox()] == [third]


def test_sync_state_is_kept(store: Store) -> None:
    assert store.sync_state() == {}
    store.update_sync_state({"last_attempt": "t1", "bytes_sent": 10})
    store.update_sync_state({"bytes_sent": 25})
    assert store.sync_state() == {"last_attempt": "t1", "bytes_sent": "25"}


def test_override_stats_compare_staff_with_the_ai(store: Store) -> None:
    assert store.override_stats()["urgency"]["rate"] is None
    kept, changed, unreviewed = (add(store, sha=str(i) * 64) for i in range(3))
    for doc in (kept, changed, unreviewed):
        store.record_triage(doc, ai_result("routine"))
    store.record_review(kept, reviewer="nurse", changes={})
    store.record_review(changed, reviewer="nurse", changes={"urgency": "urgent"})
    stats = store.override_stats()
    assert stats["reviewed"] == 2
    assert stats["urgency"]["overridden"] == 1 and stats["urgency"]["rate"] == 0.5
    assert stats["urgency"]["per_label"]["routine"] == {
        "reviewed": 2,
        "overridden": 1,
        "rate": 0.5,
    }
    assert stats["category"]["rate"] == 0.0


def test_override_stats_check_the_confidence_on_this_box(store: Store) -> None:
    # Staff keep 3 of 4 urgency labels the AI gave 0.92-0.96, 1 of 2 given
    # 0.55-0.65; a rule-raised level (no confidence) and a label from a model
    # calibrated by no held-out decisions (an older version) count apart.
    calibrated = {"urgency": {"confidence_mapped_on": 120}, "category": None}
    given = [(0.92, True), (0.94, True), (0.96, True), (0.94, False)]
    given += [(0.55, True), (0.65, False), (None, True)]
    uncalibrated = [
        {"urgency": {"version": "old"}},  # from before calibration
        {"urgency": {"confidence_mapped_on": 0}},  # a map fitted on nothing
    ]
    for i, (confidence, kept) in enumerate([*given, (0.97, False), (0.97, True)]):
        learned = calibrated if i < len(given) else uncalibrated[i - len(given)]
        provenance = {
            "field_confidence": {"urgency": confidence, "category": None},
            "learned": learned,
        }
        doc = add(store, sha=f"{i:064d}")
        store.record_triage(doc, ai_result("routine", provenance=provenance))
        changes = {} if kept else {"urgency": "urgent"}
        store.record_review(doc, reviewer="nurse", changes=changes)
    bands = store.override_stats()["urgency"]["by_confidence"]
    assert bands == [
        {"from": 0.5, "to": 0.8, "reviewed": 2, "mean_confidence": 0.6, "kept": 1},
        {"from": 0.9, "to": 1.0, "reviewed": 4, "mean_confidence": 0.94, "kept": 3},
        {"from": None, "to": None, "reviewed": 3, "mean_confidence": None, "kept": 2},
    ]
    # A clinic's own review cut is where a band starts.
    cut = store.override_stats(review_cut=0.6)["urgency"]["by_confidence"]
    assert [(b["from"], b["to"], b["reviewed"]) for b in cut[:2]] == [
        (0.5, 0.6, 1),
        (0.6, 0.9, 1),
    ]
    (none,) = store.override_stats()["category"]["by_confidence"]
    assert (none["from"], none["reviewed"], none["kept"]) == (None, 9, 9)


def test_training_examples_are_the_reviewed_documents(store: Store) -> None:
    reviewed, unreviewed = (add(store, sha=str(i) * 64) for i in range(2))
    for doc in (reviewed, unreviewed):
        store.set_state(doc, DocState.EXTRACTED, text=f"text {doc}")
        store.record_triage(doc, ai_result("routine"))
    store.record_review(
        reviewed, reviewer="nurse", changes={"urgency": "urgent", "category": "letter"}
    )
    (example,) = store.training_examples()
    assert (example["document_id"], example["text"]) == (reviewed, f"text {reviewed}")
    assert (example["category"], example["urgency"]) == ("letter", "urgent")


def test_processes_opening_a_new_store_at_once_migrate_it_once(tmp_path: Path) -> None:
    # The service and `edgebox tui` (started together by `edgebox run`) may
    # both create the file: one migrates, the other waits and sees it done.
    import threading

    path = tmp_path / "new" / "edgebox.db"
    start = threading.Barrier(8)
    outcomes: list[object] = []

    def open_store() -> None:
        start.wait()
        try:
            with Store(path) as store:
                outcomes.append((store.applied_migrations(), store.journal_mode()))
        except Exception as exc:  # collected: the assertion below names it
            outcomes.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Store(path) as store:
        expected = (store.applied_migrations(), "wal")
    assert outcomes == [expected] * 8
    assert len(expected[0]) == len(set(expected[0]))


def test_a_write_after_a_read_waits_for_another_writer(store: Store) -> None:
    """Read, then write, while another connection commits in between: the
    transaction holds the write lock from its start, so the other writer waits
    instead of the first failing with "database is locked" (WAL busy snapshot)."""
    import threading

    doc = store.add_document(file_name="a.txt", sha256="a" * 64, size=1)
    other_done = threading.Event()

    def other_writer() -> None:
        with Store(store.path) as other:
            other.set_state(doc, DocState.EXTRACTED, text="from the other process")
        other_done.set()

    with store.atomic():
        assert store.document(doc)["state"] == DocState.RECEIVED
        writer = threading.Thread(target=other_writer)
        writer.start()
        # Long enough for a writer that needs no lock to finish; this one waits.
        other_done.wait(timeout=2)
        store.set_state(doc, DocState.QUARANTINED)
    writer.join(timeout=60)
    assert other_done.is_set()
    assert store.document(doc)["state"] == DocState.EXTRACTED  # it went second


def test_texts_added_in_bulk_are_triaged_and_found_by_words(store: Store) -> None:
    from edgebox.store.bulk import add_searchable_texts

    ids = add_searchable_texts(
        store, ["malaria smear positive", "fractured radius"], received_at="2026-11-01"
    )
    assert store.counts_by_state()["triaged"] == 2
    assert store.document(ids[1])["file_name"] == "doc-1.txt"
    hits = store.text_search("radius")
    assert [hit["document_id"] for hit in hits] == [ids[1]]
    assert store.pending_outbox() == [] and store.audit_log() == []
