"""The queue as the UI pages through it, and read-only access to a store that
cannot be written (mixed into Store).

Kept apart from `core` so that the UI's needs grow in one place; all SQL still
lives in the store package.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Self

from sqlite_utils import Database

from edgebox.errors import StoreError
from edgebox.store.base import StoreBase
from edgebox.store.filters import DocumentFilter
from edgebox.store.latest import DOCUMENTS_WITH_LATEST, LATEST_URGENCY
from edgebox.store.patients import PATIENT_KEY_SQL
from edgebox.store.schema import QUEUE_ORDER, refuse_a_foreign_database
from edgebox.store.sorting import QueueSort, match_words, sort_clause
from edgebox.vocabulary import NOT_RATED


class QueueQueries(StoreBase):
    """Mixed into `Store`."""

    # -- opening -------------------------------------------------------------

    @classmethod
    def open_read_only(cls, path: Path, *, timeout: float = 2.0) -> Self:
        """A connection that can only read (a read-only file or folder): no
        migrations, no WAL switch; every write fails."""
        store = cls.__new__(cls)
        store.path = path
        store.db = Database(_read_only_connection(path, timeout))
        try:
            refuse_a_foreign_database(store.db, path)
        except BaseException:
            store.db.close()
            raise
        return store

    def wait_for_locks(self, seconds: float) -> None:
        """How long a write waits for another writer before it fails."""
        self.db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def data_version(self) -> int:
        """Changes when another connection commits: a cheap 'anything new?'."""
        return int(self.db.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- the queue -------------------------------------------------------------

    def queue_page(
        self,
        filters: DocumentFilter | None = None,
        *,
        limit: int = 500,
        offset: int = 0,
        sort: QueueSort | None = None,
        words: str | None = None,
        patient: str | None = None,
    ) -> list[dict[str, Any]]:
        """Documents with their latest result that pass the filters, most urgent
        first (no result sorts as unknown), then oldest, unless `sort` says
        otherwise; `words` and `patient` narrow further; `offset` pages on."""
        clause, params = _narrowed(filters, words=words, patient=patient)
        order = QUEUE_ORDER if sort is None else sort_clause(sort)
        rows = self.db.query(
            f"""
            SELECT d.id AS document_id, d.file_name, d.state, d.received_at,
                   d.updated_at, d.error_code, d.error_message, t.revision,
                   t.author, t.category, {LATEST_URGENCY} AS urgency,
                   t.summary, t.needs_review,
                   COALESCE(t.provisional, 0) AS provisional,
                   (t.urgency = 'unknown' AND t.author = 'ai' AND EXISTS (
                       SELECT 1 FROM json_each(t.provenance, '$.review_reasons')
                       WHERE value = ?)) AS not_rated
            {DOCUMENTS_WITH_LATEST}
            {clause}
            ORDER BY {order}
            LIMIT ? OFFSET ?""",
            [NOT_RATED, *params, limit, offset],
        )
        return [
            row
            | {
                "needs_review": bool(row["needs_review"]),
                "provisional": bool(row["provisional"]),
                "not_rated": bool(row["not_rated"]),
            }
            for row in rows
        ]

    def queue_count(
        self,
        filters: DocumentFilter | None = None,
        *,
        words: str | None = None,
        patient: str | None = None,
    ) -> int:
        """How many documents pass the filters: what a page leaves out."""
        clause, params = _narrowed(filters, words=words, patient=patient)
        row = self.db.conn.execute(
            f"SELECT COUNT(*) {DOCUMENTS_WITH_LATEST} {clause}", params
        ).fetchone()
        return int(row[0])


def _narrowed(
    filters: DocumentFilter | None, *, words: str | None, patient: str | None
) -> tuple[str, list[Any]]:
    """The queue's WHERE clause with the words (full text, every word) and the
    patient reference (compared as edgebox.store.patients says) added."""
    clause, params = (filters or DocumentFilter()).where_clause()
    extra: list[str] = []
    match = match_words(words)
    if match:
        extra.append(
            "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
        )
        params.append(match)
    if patient is not None:
        extra.append(f"{PATIENT_KEY_SQL} = lower(trim(?))")
        params.append(patient)
    if not extra:
        return clause, params
    joined = " AND ".join(extra)
    return (f"{clause} AND {joined}" if clause else f"WHERE {joined}"), params


def _read_only_connection(path: Path, timeout: float) -> sqlite3.Connection:
    """Read-only, then immutable (a WAL file in a folder no one may write to
    cannot get its shared-memory file); the first one that can read wins."""
    if not path.is_file():
        raise StoreError(f"cannot open the store {path}: there is no such file")
    errors = []
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?{flags}",
            uri=True,
            timeout=timeout,
            check_same_thread=False,
        )
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.DatabaseError as exc:
            conn.close()
            errors.append(exc)
            if "not a database" in str(exc) or "locked" in str(exc):
                break
    raise StoreError(f"cannot open the store {path}: {_reason(errors[-1])}")


def check_readable(path: Path, *, timeout: float = 2.0) -> None:
    """Raise a StoreError naming the file when it cannot be read now (not an
    SQLite file, locked by another program, unreadable); a missing file is
    fine: opening the store creates it."""
    if path.exists():
        _read_only_connection(path, timeout).close()


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text:
        return "it is locked by another program; try again in a moment"
    if "not a database" in text:
        return "it is not an edgebox database (not an SQLite file)"
    return text
