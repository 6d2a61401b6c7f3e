"""Outbox and sync bookkeeping queries (mixed into Store)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from edgebox.store.base import StoreBase
from edgebox.store.schema import DocState, OutboxState, now


def sent_cutoff(keep_days: int, *, at: datetime | None = None) -> str | None:
    """The `sent_at` before which a sent row is pruned; None keeps all (0)."""
    if keep_days <= 0:
        return None
    moment = (at or datetime.now(UTC)) - timedelta(days=keep_days)
    return moment.isoformat(timespec="milliseconds")


_SENT_SPAN = """SELECT COUNT(*) AS n, MIN(id) AS first_id, MAX(id) AS last_id
    FROM outbox WHERE state = ? AND sent_at < ?"""


@dataclass(frozen=True)
class OutboxRow:
    """One change for the central server (a triage revision, a quarantine
    event), written in the change's own transaction."""

    id: int
    kind: str
    document_id: int
    revision: int
    payload: str
    """The change as a JSON object, as text."""
    state: OutboxState
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None
    priority: int
    """Emergencies first: the urgency's rank."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> OutboxRow:
        return cls(**{**row, "state": OutboxState(row["state"])})


@dataclass(frozen=True)
class ArchivedOriginal:
    """A triaged document's original in the archive, not yet sent whole to the
    central server (`[sync] send_documents`)."""

    id: int
    sha256: str
    size: int
    archive_path: str | None
    """None when the file was never archived (quarantined unread)."""


_OUTBOX_COLUMNS = ", ".join(f.name for f in fields(OutboxRow))


class OutboxQueries(StoreBase):
    """What the sync client reads and writes; the rows are written with each
    change (revisions, quarantine events). Mixed into `Store`."""

    # -- outbox and audit --------------------------------------------------

    def outbox_counts(self) -> dict[str, int]:
        counts = {state.value: 0 for state in OutboxState}
        for row in self.db.query(
            "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state"
        ):
            counts[row["state"]] = row["n"]
        return counts

    def pending_outbox(self, *, limit: int = 100) -> list[OutboxRow]:
        """Unsent rows, emergencies first, then oldest first."""
        rows = self.db.query(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE state = ?"
            " ORDER BY priority, id LIMIT ?",
            [OutboxState.PENDING, limit],
        )
        return [OutboxRow.from_row(row) for row in rows]

    def mark_outbox_sent(self, ids: list[int]) -> None:
        """The server acknowledged these rows."""
        with self.atomic():
            self.db.conn.executemany(
                "UPDATE outbox SET state = ?, sent_at = ?, last_error = NULL"
                " WHERE id = ? AND state = ?",
                [(OutboxState.SENT, now(), i, OutboxState.PENDING) for i in ids],
            )

    def mark_outbox_dead(self, outbox_id: int, reason: str) -> None:
        """The server rejected this row as invalid: park it, with the reason."""
        with self.atomic():
            self.db.execute(
                "UPDATE outbox SET state = ?, last_error = ? WHERE id = ?",
                [OutboxState.DEAD, reason, outbox_id],
            )

    def note_outbox_failure(self, ids: list[int], error: str) -> None:
        """A try that failed as a whole (network, server): count it, keep pending."""
        with self.atomic():
            self.db.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?"
                " WHERE id = ?",
                [(error, i) for i in ids],
            )

    def retry_dead_outbox(self) -> int:
        """Put every dead-lettered row back in the queue (after its cause, a
        proxy's size limit or a server upgrade, is fixed); how many."""
        with self.atomic():
            cursor = self.db.execute(
                "UPDATE outbox SET state = ?, attempts = 0, last_error = NULL"
                " WHERE state = ?",
                [OutboxState.PENDING, OutboxState.DEAD],
            )
        return cursor.rowcount

    def prune_sent_outbox(self, *, sent_before: str) -> int:
        """Delete rows the centre acknowledged before `sent_before` (ISO time),
        with one audit row saying how many and which: the outbox otherwise
        grows by every result the box ever made."""
        with self.atomic():
            span = next(self.db.query(_SENT_SPAN, [OutboxState.SENT, sent_before]))
            if not span["n"]:
                return 0
            self.db.execute(
                "DELETE FROM outbox WHERE state = ? AND sent_at < ?",
                [OutboxState.SENT, sent_before],
            )
            self._audit(
                "edgebox", "outbox_pruned", None, span | {"sent_before": sent_before}
            )
        return int(span["n"])

    def sent_outbox_due(self, *, sent_before: str) -> int:
        """How many sent rows the next prune deletes (for `status`)."""
        span = next(self.db.query(_SENT_SPAN, [OutboxState.SENT, sent_before]))
        return int(span["n"])

    def dead_outbox(self) -> list[OutboxRow]:
        rows = self.db.query(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE state = ? ORDER BY id",
            [OutboxState.DEAD],
        )
        return [OutboxRow.from_row(row) for row in rows]

    def install_id(self) -> str | None:
        """This install's identity (made with the store), sent with every batch."""
        row = self.db.execute("SELECT id FROM install").fetchone()
        return row[0] if row else None

    def sync_state(self) -> dict[str, str]:
        """Sync bookkeeping (last attempt, last success, last error, bytes sent)."""
        return {
            row["key"]: row["value"]
            for row in self.db.query("SELECT key, value FROM sync_state")
        }

    def update_sync_state(self, values: Mapping[str, Any]) -> None:
        with self.atomic():
            self.db.conn.executemany(
                "INSERT INTO sync_state (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(key, str(value)) for key, value in values.items()],
            )

    def documents_to_upload(self) -> list[ArchivedOriginal]:
        """Triaged or reviewed documents whose original the central server does
        not hold yet, oldest first (`[sync] send_documents`)."""
        rows = self.db.query(
            """SELECT id, sha256, size, archive_path FROM documents
            WHERE state IN (?, ?) AND uploaded_at IS NULL ORDER BY id""",
            [DocState.TRIAGED, DocState.REVIEWED],
        )
        return [ArchivedOriginal(**row) for row in rows]

    def mark_uploaded(self, doc_id: int) -> None:
        with self.atomic():
            self.db.execute(
                "UPDATE documents SET uploaded_at = ? WHERE id = ?", [now(), doc_id]
            )
