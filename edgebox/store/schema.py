"""The schema of edgebox.db: state enums and numbered migrations.

Migrations run in the order they are declared; never edit one that has shipped,
add the next number instead.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from edgebox.errors import StoreError
from edgebox.store.latest import LATEST_URGENCY
from edgebox.vocabulary import Urgency


class DocState(StrEnum):
    RECEIVED = "received"
    EXTRACTED = "extracted"
    TRIAGED = "triaged"
    REVIEWED = "reviewed"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    FAILED = "failed"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


# "unknown" is what a failed triage says: it sorts with the urgent ones, never
# with the routine ones, so a model failure cannot hide an emergency.
_RANK_CASES = " ".join(f"WHEN '{u}' THEN {u.rank}" for u in Urgency)
# Not work for a nurse: a copy of a document already listed. A quarantined
# file is: no one knows its urgency (an unreadable emergency referral), so it
# sorts with the unknown ones.
_SET_ASIDE = f"d.state = '{DocState.DUPLICATE}'"
# Every queue (CLI, UI) in one order: most urgent first, a document without a
# result yet as "unknown" (never below the routine ones), then oldest; the
# duplicates after all the others.
QUEUE_ORDER = (
    f"CASE WHEN {_SET_ASIDE} THEN 1 ELSE 0 END,"
    f" CASE {LATEST_URGENCY} {_RANK_CASES} ELSE 4 END,"
    " d.received_at, d.id"
)
# The LLM stage's order: the provisional urgency, an unknown one before the
# urgent ones (it may hide an emergency the rules could not read), a document
# a person already touched before one that nobody has, then oldest.
_LLM_RANK = {"emergency": 0, "unknown": 1, "urgent": 2, "routine": 3}
LLM_STAGE_ORDER = (
    f"CASE {LATEST_URGENCY} "
    + " ".join(f"WHEN '{u}' THEN {r}" for u, r in _LLM_RANK.items())
    + " ELSE 1 END, CASE WHEN t.author LIKE 'staff:%' THEN 0 ELSE 1 END,"
    " d.received_at, d.id"
)


def _enum_check(column: str, values: Any) -> str:
    names = ", ".join(f"'{v}'" for v in values)
    return f"CHECK ({column} IN ({names}))"


migrations = Migrations("edgebox")


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(f"""
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            source_path TEXT,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            state TEXT NOT NULL {_enum_check("state", DocState)},
            text TEXT,
            duplicate_of INTEGER REFERENCES documents(id),
            error_code TEXT,
            error_message TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            received_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX documents_sha256 ON documents(sha256)")
    db.execute("CREATE INDEX documents_state ON documents(state)")
    db.execute(f"""
        CREATE TABLE triage_revisions (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            revision INTEGER NOT NULL,
            author TEXT NOT NULL,
            category TEXT,
            urgency TEXT NOT NULL {_enum_check("urgency", Urgency)},
            summary TEXT NOT NULL DEFAULT '',
            red_flags TEXT NOT NULL DEFAULT '[]',
            fields TEXT NOT NULL DEFAULT '{{}}',
            language TEXT,
            confidence REAL,
            needs_review INTEGER NOT NULL,
            sources TEXT NOT NULL DEFAULT '{{}}',
            provenance TEXT NOT NULL DEFAULT '{{}}',
            error TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (document_id, revision)
        )""")
    db.execute(f"""
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            revision INTEGER NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL {_enum_check("state", OutboxState)},
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (kind, document_id, revision)
        )""")
    db.execute("CREATE INDEX outbox_state ON outbox(state, id)")
    db.execute("""
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            document_id INTEGER REFERENCES documents(id),
            detail TEXT NOT NULL DEFAULT '{}'
        )""")


@migrations()
def m002_sync(db: Database) -> None:
    # Emergencies leave first: the outbox is sent by priority, then by age.
    db.execute("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 3")
    db.execute("DROP INDEX outbox_state")
    db.execute("CREATE INDEX outbox_pending ON outbox(state, priority, id)")
    db.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations()
def m003_ingest(db: Database) -> None:
    # Where the file came from (to recognise it after a crash), where its
    # original is archived, and when a transient failure is retried.
    for column, kind in (
        ("relative_path", "TEXT"),
        ("mtime_ns", "INTEGER"),
        ("archive_path", "TEXT"),
        ("next_attempt_at", "TEXT"),
    ):
        db.execute(f"ALTER TABLE documents ADD COLUMN {column} {kind}")
    db.execute("CREATE INDEX documents_relative_path ON documents(relative_path)")


@migrations()
def m004_index(db: Database) -> None:
    # Embedding vectors of each document's chunks (float32 bytes), tagged with
    # the model that made them so that a model change can be reindexed.
    db.execute("""
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            model TEXT NOT NULL,
            chunk_no INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            vector BLOB NOT NULL,
            UNIQUE (document_id, model, chunk_no)
        )""")
    db.execute("CREATE INDEX chunks_model ON chunks(model, id)")
    # Full text, accents folded so that "fievre" finds "fièvre". Its rowid is
    # the document id; the store keeps it in step with each document.
    db.execute("""
        CREATE VIRTUAL TABLE documents_fts USING fts5(
            file_name, text, summary, fields,
            tokenize = 'unicode61 remove_diacritics 2'
        )""")
    db.execute("""
        INSERT INTO documents_fts (rowid, file_name, text, summary, fields)
        SELECT d.id, d.file_name, COALESCE(d.text, ''), COALESCE(t.summary, ''),
               COALESCE(t.fields, '')
        FROM documents d LEFT JOIN triage_revisions t ON t.document_id = d.id
          AND t.revision = (SELECT MAX(revision) FROM triage_revisions
                            WHERE document_id = d.id)""")


@migrations()
def m005_service_state(db: Database) -> None:
    # What the running service reports about itself (model, device, docs/s,
    # heartbeat), read by the UI and `status`, which never load the model.
    db.execute("CREATE TABLE service_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # A reviewer's optional note travels with the revision it explains.
    db.execute("ALTER TABLE triage_revisions ADD COLUMN note TEXT")


@migrations()
def m006_uploads(db: Database) -> None:
    # When the central server acknowledged the whole original (only with
    # [sync] send_documents): one mark per document, so a document triaged
    # late (a retry, a requeue) is still sent and none is marked by mistake.
    db.execute("ALTER TABLE documents ADD COLUMN uploaded_at TEXT")


@migrations()
def m007_inbox_cleared(db: Database) -> None:
    # When the document's inbox file was removed (or left because it changed
    # while being taken). Only a document without this mark may "clear" the same
    # file after a crash; with it, a re-drop of the same file (cp -p keeps the
    # mtime) is a new drop, recorded as a duplicate. Documents recorded before
    # this migration had their files removed in all but a crash's window.
    db.execute("ALTER TABLE documents ADD COLUMN inbox_cleared_at TEXT")
    db.execute(
        "UPDATE documents SET inbox_cleared_at = updated_at"
        " WHERE relative_path IS NOT NULL"
    )


@migrations()
def m008_unread_pages(db: Database) -> None:
    # The pages extraction could not read (a scanned page without OCR, out of
    # time), as JSON [{"page": 2, "reason": "..."}]: triage sends such a
    # document to a person, and the UI names the pages.
    db.execute("ALTER TABLE documents ADD COLUMN unread_pages TEXT")


@migrations()
def m009_provisional(db: Database) -> None:
    # Two-stage triage: the fast stage (rules, vital signs, learned models; no
    # LLM) writes a revision marked provisional right after extraction; the
    # LLM stage's answer is the first revision that is not. See docs/triage.md.
    db.execute(
        "ALTER TABLE triage_revisions ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0"
    )


@migrations()
def m013_install_id(db: Database) -> None:
    # A per-install identity (issue 23), made once with the store (`edgebox
    # init` makes the store): a reinstalled box registered under its old device
    # name sends a new one, so the centre tells it from a replay of this one.
    # A restored backup keeps it: the same history goes on.
    db.execute("CREATE TABLE install (id TEXT NOT NULL)")
    db.execute("INSERT INTO install (id) VALUES (?)", [uuid.uuid4().hex])


@migrations()
def m014_file_attempts(db: Database) -> None:
    # Failed reads of an inbox file (issue 23), kept in the store rather than in
    # memory: a restart, or one `edgebox process` after another, counts on from
    # the last try, so a file that never reads is quarantined in the end. Keyed
    # by its inbox path; `identity` (device, inode, size, mtime) tells a new
    # file dropped under the same name, whose count starts again.
    db.execute(
        "CREATE TABLE file_attempts (relative_path TEXT PRIMARY KEY,"
        " identity TEXT NOT NULL, tries INTEGER NOT NULL,"
        " last_error TEXT, updated_at TEXT NOT NULL)"
    )


@migrations()
def m015_retention(db: Database) -> None:
    # When retention (issue 23, `[retention]`) deleted a document's original
    # file and its extracted text: each is deleted once, the UI and `status`
    # can say why they are missing, and the results stay.
    db.execute("ALTER TABLE documents ADD COLUMN original_deleted_at TEXT")
    db.execute("ALTER TABLE documents ADD COLUMN text_deleted_at TEXT")


@migrations()
def m019_alerts(db: Database) -> None:
    # One row per emergency the service alerted about (issue 20): the
    # document id is the key, so a restart or a second revision never rings
    # twice; attempts and the last error stay for `status` and the audit.
    db.execute("""
        CREATE TABLE alerts (
            document_id INTEGER PRIMARY KEY REFERENCES documents(id),
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""")


@migrations()
def m020_staff(db: Database) -> None:
    # Named reviewers (issue 20): staff share one SSH account, so the UI asks
    # who is reviewing and checks a PIN (a scrypt hash; never the PIN). A
    # disabled name keeps its history but cannot sign anything new.
    db.execute("""
        CREATE TABLE staff (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            pin_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
            created_at TEXT NOT NULL,
            disabled_at TEXT
        )""")


@migrations()
def m021_saved_filters(db: Database) -> None:
    # Saved queue filters (issue 20): kept in the store, not a file, so that
    # every terminal on the box sees the same names, a backup keeps them, and
    # a read-only copy cannot change them. `filter` is JSON (see
    # edgebox.store.saved_filters for its keys).
    db.execute("""
        CREATE TABLE saved_filters (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            filter TEXT NOT NULL,
            saved_by TEXT,
            saved_at TEXT NOT NULL
        )""")


def now() -> str:
    """The current UTC time as ISO 8601 text, as every timestamp is stored."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class NotEdgebox(StoreError):
    """A database that is another program's: not opened, not even read-only."""


def refuse_a_foreign_database(db: Database, path: Path) -> None:
    """An SQLite file that holds tables but not edgebox's (a mistyped path,
    another program's file copied over) is left as it is: migrating it would
    add edgebox's tables to someone else's data. Empty is new, and fine."""
    tables = db.table_names()
    if not tables:
        return
    done = migrations.migrations_table
    if (
        done in tables
        and db.execute(
            f"SELECT 1 FROM [{done}] WHERE migration_set = ? LIMIT 1", [migrations.name]
        ).fetchone()
    ):
        return
    shown = ", ".join(sorted(tables)[:5]) + (" …" if len(tables) > 5 else "")
    raise NotEdgebox(
        f"{path} is not an edgebox database (it holds other tables: {shown});"
        " edgebox leaves it untouched"
    )
