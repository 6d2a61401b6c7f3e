"""`edgebox backup` while the box writes, then `edgebox restore` onto a new
box: every document, revision, original and pending outbox row is there."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
from pathlib import Path

from edgebox.config import load
from edgebox.intake.archive import copy_into_archive
from edgebox.store import Store
from tests.support.processes import run_cli


def _add(store: Store, archive: Path, n: int) -> int:
    """A document as intake leaves it (its original archived first), then
    triaged: one revision and one pending outbox row."""
    body = f"Referral {n}: cough for {n} days.".encode()
    sha, place = copy_into_archive(io.BytesIO(body), archive)
    doc = store.add_document(
        file_name=f"note-{n}.txt", sha256=sha, size=len(body),
        archive_path=str(place), text=body.decode(),
    )  # fmt: skip
    store.record_triage(
        doc, {"category": "letter", "urgency": "routine", "summary": "A cough."}
    )
    return doc


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_backup_taken_while_the_box_writes_restores_onto_a_new_box(
    tmp_path: Path, edgebox_home: Path
) -> None:
    assert run_cli("init").returncode == 0
    settings = load()
    with Store(settings.db_path) as store:
        docs = [_add(store, settings.archive_dir, n) for n in range(12)]
        store.record_review(docs[0], reviewer="amina", changes={"urgency": "urgent"})
        sent = [row.id for row in store.pending_outbox(limit=3)]
        store.mark_outbox_sent(sent)
    settings.quarantine_dir.mkdir()
    (settings.quarantine_dir / "1-Jane Doe.txt").write_bytes(b"%")
    stop = threading.Event()

    def keep_writing() -> None:  # the service, taking documents meanwhile
        with Store(settings.db_path) as store:
            n = 100
            while not stop.is_set():
                # One document and its result per transaction, so that the
                # snapshot holds each whole or not at all and the comparisons
                # below are exact (it caught one between the two in CI).
                with store.atomic():
                    _add(store, settings.archive_dir, n)
                n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        made = run_cli("backup", str(tmp_path / "backups"))
    finally:
        stop.set()
        writer.join()
    assert made.returncode == 0, made.stderr
    (folder,) = (tmp_path / "backups").iterdir()
    assert folder.name.startswith("edgebox-backup-")

    new_box = tmp_path / "new-box"
    restored = run_cli("--home", str(new_box), "restore", str(folder))
    assert restored.returncode == 0, restored.stderr
    old_db, new_db = settings.db_path, load(new_box).db_path
    assert _rows(new_db, "PRAGMA integrity_check") == [("ok",)]
    every = "SELECT id, sha256, state FROM documents ORDER BY id"
    kept = _rows(new_db, every)
    assert {row[0] for row in kept} >= set(docs)
    assert set(kept) <= set(_rows(old_db, every))  # nothing the box never had
    revisions = "SELECT document_id, revision, author, urgency FROM triage_revisions"
    assert set(_rows(new_db, revisions)) == {
        row for row in _rows(old_db, revisions) if row[0] in {k[0] for k in kept}
    }
    assert (docs[0], 2, "staff:amina", "urgent") in _rows(new_db, revisions)
    outbox = "SELECT id, document_id, revision, state FROM outbox"
    restored_outbox = set(_rows(new_db, outbox))
    assert {row[0] for row in restored_outbox if row[3] == "sent"} == set(sent)
    # Every row, pending ones included, as the box had it (the writer's later
    # rows may be missing: the snapshot is a moment).
    had = {row for row in _rows(old_db, outbox) if row[1] in {k[0] for k in kept}}
    assert restored_outbox == had
    assert sum(row[3] == "pending" for row in restored_outbox) >= len(docs) - 3
    for doc_id, sha, place in _rows(
        new_db, "SELECT id, sha256, archive_path FROM documents"
    ):
        original = Path(place)
        assert original.is_relative_to(new_box), doc_id
        assert hashlib.sha256(original.read_bytes()).hexdigest() == sha
    assert (load(new_box).quarantine_dir / "1-Jane Doe.txt").read_bytes() == b"%"
    manifest = json.loads((folder / "backup.json").read_text(encoding="utf-8"))
    assert manifest["originals"] == len(kept) and manifest["missing"] == []


def test_restore_refuses_a_box_that_has_a_store(tmp_path: Path) -> None:
    assert run_cli("init").returncode == 0
    with Store(load().db_path) as store:
        _add(store, load().archive_dir, 1)
    assert run_cli("backup", str(tmp_path / "b")).returncode == 0
    (folder,) = (tmp_path / "b").iterdir()
    again = run_cli("restore", str(folder))
    assert again.returncode != 0
    assert "already holds documents: restore only onto a new box" in again.stderr


def test_restore_onto_a_box_init_made_replaces_its_empty_store(
    tmp_path: Path,
) -> None:
    assert run_cli("init").returncode == 0
    with Store(load().db_path) as store:
        _add(store, load().archive_dir, 1)
    assert run_cli("backup", str(tmp_path / "b")).returncode == 0
    (folder,) = (tmp_path / "b").iterdir()
    box = tmp_path / "box"
    assert run_cli("init", str(box)).returncode == 0
    restored = run_cli("--home", str(box), "restore", str(folder))
    assert restored.returncode == 0, restored.stderr
    with Store(load(box).db_path) as store:
        assert store.counts_by_state()["triaged"] == 1


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path: Path) -> None:
    result = run_cli("--home", str(tmp_path / "box"), "restore", str(tmp_path))
    assert result.returncode != 0
    assert f"{tmp_path} is not an edgebox backup folder" in result.stderr


def test_restore_refuses_a_damaged_original(tmp_path: Path) -> None:
    assert run_cli("init").returncode == 0
    with Store(load().db_path) as store:
        _add(store, load().archive_dir, 1)
    assert run_cli("backup", str(tmp_path / "b")).returncode == 0
    (folder,) = (tmp_path / "b").iterdir()
    (original,) = [p for p in (folder / "archive").rglob("*") if p.is_file()]
    original.write_bytes(b"bit rot")
    result = run_cli("--home", str(tmp_path / "box"), "restore", str(folder))
    assert result.returncode != 0
    assert f"the backup's original {original} is damaged" in result.stderr
    assert not load(tmp_path / "box").db_path.exists()
