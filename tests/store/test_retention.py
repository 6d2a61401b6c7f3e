"""Retention (`[retention]`): originals and extracted text go once due, never
before their results reached the centre nor while they wait for a review;
the results stay and the audit says what went, by id and count only."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgebox import config
from edgebox.errors import StoreError
from edgebox.intake.ingest import Ingestor
from edgebox.service.retention import retention_report, run_retention
from edgebox.store import Store
from tests.support.processes import run_cli
from tests.support.records import result

TODAY = datetime.now(UTC)
"""The documents' ages are set from this; a test's clock is this or later."""


@pytest.fixture
def settings(edgebox_home: Path) -> config.Config:
    assert run_cli("init", str(edgebox_home)).returncode == 0
    return config.load()


def add(
    settings: config.Config,
    store: Store,
    name: str,
    text: str,
    *,
    days_old: int,
    sent: bool,
    review: bool = False,
) -> int:
    """A real inbox file taken into the archive, given text and a result, and
    dated `days_old` days before TODAY."""
    path = settings.inbox_dir / name
    path.write_text(text)
    doc_id = Ingestor(settings, store).ingest(path).doc_id
    assert doc_id is not None
    arrived = (TODAY - timedelta(days=days_old)).isoformat(timespec="milliseconds")
    with store.atomic():
        store.db.execute(
            "UPDATE documents SET text = ?, received_at = ? WHERE id = ?",
            [text, arrived, doc_id],
        )
        store.record_triage(doc_id, result(doc_id, needs_review=review))
    if sent:
        rows = store.db.execute(
            "SELECT id FROM outbox WHERE document_id = ?", [doc_id]
        ).fetchall()
        store.mark_outbox_sent([row[0] for row in rows])
    return doc_id


@pytest.fixture
def docs(settings: config.Config) -> dict[str, int]:
    with Store(settings.db_path) as store:
        return {
            "old": add(settings, store, "old.txt", "Zebrafish old note",
                       days_old=400, sent=True),
            "unsent": add(settings, store, "unsent.txt", "Zebrafish unsent note",
                          days_old=400, sent=False),
            "review": add(settings, store, "review.txt", "Zebrafish review note",
                          days_old=400, sent=True, review=True),
            "new": add(settings, store, "new.txt", "Zebrafish new note",
                       days_old=10, sent=True),
        }  # fmt: skip


def archive(store: Store, doc_id: int) -> Path:
    return Path(store.document(doc_id)["archive_path"])


def test_only_due_documents_lose_their_original_and_text(
    settings: config.Config, docs: dict[str, int]
) -> None:
    with Store(settings.db_path) as store:
        due = retention_report(settings, store, at=TODAY).due
        expected = {"originals": [docs["old"]], "text": [docs["old"]], "results": []}
        assert due == expected
        report = run_retention(settings, store, at=TODAY)
        assert report.due == expected
        assert not archive(store, docs["old"]).exists()
        for kept in ("unsent", "review", "new"):
            assert archive(store, docs[kept]).exists()
            assert store.document(docs[kept])["text"].startswith("Zebrafish")
        old = store.document(docs["old"])
        assert old["text"] is None
        assert old["original_deleted_at"] and old["text_deleted_at"]
        found = {
            row[0]
            for row in store.db.execute(
                "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?",
                ["text: zebrafish"],
            )
        }
        assert docs["old"] not in found and docs["new"] in found
        assert store.revisions(docs["old"])  # the result stays
        entries = {
            a["action"]: json.loads(a["detail"])
            for a in store.audit_log()
            if a["actor"] == "retention"
        }
    assert entries == {
        "originals_deleted": {"count": 1, "document_ids": [docs["old"]]},
        "text_deleted": {"count": 1, "document_ids": [docs["old"]]},
    }
    with Store(settings.db_path) as store:  # a second pass: nothing, no audit
        again = run_retention(settings, store, at=TODAY)
        assert again.due == {"originals": [], "text": [], "results": []}
        assert sum(a["actor"] == "retention" for a in store.audit_log()) == 2


def test_due_results_take_the_whole_record_and_keep_the_audit(
    settings: config.Config, docs: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`results_days`: a done-with document older than it leaves no row
    anywhere (revisions, outbox, search, alerts, the document itself) and no
    file; the audit keeps its rows, the id moved into their detail, and says
    what went. Unsent and unreviewed documents stay, as for text."""
    monkeypatch.setenv("EDGEBOX_RETENTION_RESULTS_DAYS", "300")
    short = config.load()
    old = docs["old"]
    with Store(short.db_path) as store:
        original = archive(store, old)
        store.db.execute(
            "INSERT INTO alerts (document_id, state, next_at, created_at)"
            " VALUES (?, 'sent', ?, ?)",
            [old, TODAY.isoformat(), TODAY.isoformat()],
        )
        store.db.conn.commit()
        before = [a for a in store.audit_log() if a["document_id"] == old]
        assert before  # ingest and triage were audited
        report = run_retention(short, store, at=TODAY)
        assert report.due["results"] == [old]
        with pytest.raises(StoreError, match=f"no document with id {old}"):
            store.document(old)
        for table in ("triage_revisions", "outbox", "chunks", "alerts"):
            left = store.db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE document_id = ?", [old]
            ).fetchone()[0]
            assert left == 0, table
        fts = store.db.execute(
            "SELECT COUNT(*) FROM documents_fts WHERE rowid = ?", [old]
        ).fetchone()[0]
        assert fts == 0
        assert not original.exists()
        for kept in ("unsent", "review", "new"):
            assert store.document(docs[kept])["id"] == docs[kept]
        audit = store.audit_log()
        moved = [a for a in audit if json.loads(a["detail"]).get("document_id") == old]
        assert len(moved) == len(before)
        assert all(a["document_id"] is None for a in moved)
        went = [a for a in audit if a["action"] == "results_deleted"]
        assert [json.loads(a["detail"]) for a in went] == [
            {"count": 1, "document_ids": [old]}
        ]
        check = store.db.execute("PRAGMA foreign_key_check").fetchall()
        assert check == []


def test_a_later_clock_makes_newer_documents_due(
    settings: config.Config, docs: dict[str, int]
) -> None:
    """The clock is a parameter: 200 days on, the 10-day-old document's
    original (180 days) is due, its text (365 days) not yet."""
    later = TODAY + timedelta(days=200)
    with Store(settings.db_path) as store:
        due = retention_report(settings, store, at=later).due
    assert due == {
        "originals": [docs["old"], docs["new"]],
        "text": [docs["old"]],
        "results": [],  # kept for ever by default
    }


def test_zero_days_keeps_for_ever(
    settings: config.Config, docs: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEBOX_RETENTION_ORIGINALS_DAYS", "0")
    monkeypatch.setenv("EDGEBOX_RETENTION_TEXT_DAYS", "0")
    monkeypatch.setenv("EDGEBOX_RETENTION_RESULTS_DAYS", "0")
    forever = config.load()
    with Store(forever.db_path) as store:
        report = run_retention(forever, store, at=TODAY + timedelta(days=10_000))
        assert report.due == {"originals": [], "text": [], "results": []}
        assert archive(store, docs["old"]).exists()


def test_an_original_shared_with_a_kept_duplicate_stays(
    settings: config.Config, docs: dict[str, int]
) -> None:
    """The archive is by content: a recent duplicate of the old document
    shares its file, which stays until both are due."""
    with Store(settings.db_path) as store:
        copy = add(settings, store, "copy.txt", "Zebrafish old note",
                   days_old=10, sent=True)  # fmt: skip
        assert archive(store, copy) == archive(store, docs["old"])
        run_retention(settings, store, at=TODAY)
        assert store.document(docs["old"])["original_deleted_at"]
        assert archive(store, copy).exists()


def test_status_and_doctor_and_the_cli_say_what_is_due(
    settings: config.Config, docs: dict[str, int]
) -> None:
    status = run_cli("status", "--json")
    assert status.returncode == 0, status.stderr
    retention = json.loads(status.stdout)["document_retention"]
    assert retention["originals"]["days"] == 180
    assert retention["originals"]["due"] == 1 and retention["text"]["due"] == 1
    plain = run_cli("status").stdout
    assert "retention originals: 1 document(s) due now" in plain
    doctor = run_cli("doctor").stdout
    assert "retention   originals kept 180 days, 1 due now" in doctor
    dry = run_cli("retention", "--dry-run")
    assert dry.stdout.strip() == (
        "retention: originals 1 due, text 1 due, results 0 due (kept for ever)"
    )
    done = run_cli("retention")
    assert done.stdout.strip() == (
        "retention: originals 1 deleted, text 1 deleted,"
        " results 0 deleted (kept for ever)"
    )
    after = json.loads(run_cli("status", "--json").stdout)["document_retention"]
    assert after["originals"]["due"] == 0
    # The oldest kept original (the unsent one, 400 days old) was due long ago:
    # it goes once the centre has it.
    assert after["originals"]["next_due_at"] < TODAY.isoformat()


def test_the_service_runs_a_retention_pass_when_it_starts(
    settings: config.Config, docs: dict[str, int]
) -> None:
    """`edgebox watch --no-triage --until-idle`: the supervisor's retention
    loop makes its first pass at start, logged without any text."""
    done = run_cli("watch", "--no-triage", "--until-idle")
    assert done.returncode == 0, done.stderr
    assert "retention: originals 1 deleted, text 1 deleted" in done.stderr
    assert "Zebrafish" not in done.stderr
    with Store(settings.db_path) as store:
        assert not archive(store, docs["old"]).exists()
        assert archive(store, docs["new"]).exists()


def test_doctor_still_answers_when_the_store_is_not_edgebox(
    settings: config.Config,
) -> None:
    settings.db_path.unlink()
    with sqlite3.connect(settings.db_path) as other:
        other.execute("CREATE TABLE someone_elses (x)")
    doctor = run_cli("doctor", "--json")
    assert doctor.returncode == 0, doctor.stderr
    assert json.loads(doctor.stdout)["retention"] == {}
