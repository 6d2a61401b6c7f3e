"""The reviews clinics share for pooled learning, kept per clinic.

A staff review sent with `[sync] share_reviews` carries its document's text
(`content.shared_review`, see sync/sharing.py). When its record is stored
for the first time, the text and labels go to `pooled_reviews`, keyed like
the record (device, document, revision), and the record itself is kept
without the text: the text lives in one table, which a clinic's data can be
deleted from. A replay stores nothing twice. Part of the central database
(mixed into it); the SQL is the same for SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from edgebox.sync.payload import Record
from edgebox.sync.sharing import SHARED_KEY

TABLE = """
CREATE TABLE IF NOT EXISTS pooled_reviews (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    document_id BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    text TEXT NOT NULL,
    category TEXT,
    urgency TEXT,
    reviewed_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, document_id, revision)
)"""


def stored_content(record: Record) -> dict[str, Any]:
    """The record's content as the records table keeps it: without the text."""
    return {k: v for k, v in record.content.items() if k != SHARED_KEY}


class PooledReviews:
    """Shared reviews in, training rows out; needs the database's `_tx`,
    `_run` and `_query`."""

    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _pool(self, conn: Any, device_id: int, record: Record, at: str) -> None:
        """Keep a newly stored record's shared review (if it has one)."""
        shared = record.content.get(SHARED_KEY)
        if not isinstance(shared, dict):
            return
        self._run(
            conn,
            "INSERT INTO pooled_reviews (device_id, document_id, revision, text,"
            " category, urgency, reviewed_at, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (device_id, document_id, revision) DO NOTHING",
            [
                device_id, record.document_id, record.revision, shared["text"],
                shared.get("category"), shared.get("urgency"),
                shared["reviewed_at"], at,
            ],
        )  # fmt: skip

    def pooled_reviews(self) -> list[dict[str, Any]]:
        """Each shared document's latest review, per clinic, oldest first:
        {clinic, document_id, revision, text, category, urgency, reviewed_at}."""
        return self._query(
            "SELECT d.name AS clinic, p.document_id, p.revision, p.text,"
            " p.category, p.urgency, p.reviewed_at FROM pooled_reviews p"
            " JOIN devices d ON d.id = p.device_id"
            " WHERE p.revision = (SELECT MAX(q.revision) FROM pooled_reviews q"
            " WHERE q.device_id = p.device_id AND q.document_id = p.document_id)"
            " ORDER BY d.name, p.reviewed_at, p.document_id"
        )

    def pooled_counts(self) -> dict[str, int]:
        """How many review rows each clinic shared (every revision)."""
        rows = self._query(
            "SELECT d.name AS clinic, COUNT(*) AS n FROM pooled_reviews p"
            " JOIN devices d ON d.id = p.device_id GROUP BY d.name ORDER BY d.name"
        )
        return {row["clinic"]: int(row["n"]) for row in rows}

    def triage_history(self) -> list[dict[str, Any]]:
        """Every triage revision of every clinic, in order (for drift):
        {clinic, document_id, revision, created_at, content}."""
        rows = self._query(
            "SELECT d.name AS clinic, r.document_id, r.revision, r.created_at,"
            " r.content FROM records r JOIN devices d ON d.id = r.device_id"
            " WHERE r.kind = 'triage' ORDER BY d.name, r.document_id, r.revision"
        )
        for row in rows:
            row["content"] = json.loads(row["content"])
        return rows
