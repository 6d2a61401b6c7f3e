"""Documents: recording, state changes, retries (mixed into Store).

A document's `sha256` is "" when its content was never read (over the size
limit, a symbolic link): such a file is quarantined without being opened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from edgebox.errors import StoreError
from edgebox.store.base import StoreBase
from edgebox.store.latest import DOCUMENTS_WITH_LATEST
from edgebox.store.schema import DocState, OutboxState, now
from edgebox.store.search import refresh_fts

# A triage that failed (urgency unknown, with its error) and is still the
# document's result: no person's revision, even one undone since, lies on it.
# Such a document may be triaged again; a reviewed one never is.
_TRIAGE_FAILED = f"""d.state = '{DocState.TRIAGED}' AND t.urgency = 'unknown'
    AND t.error IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM triage_revisions s WHERE s.document_id = d.id
        AND s.author LIKE 'staff:%')"""


def document_row(db: Database, doc_id: int) -> dict[str, Any]:
    """The document's row; a StoreError naming the id when there is none."""
    rows = list(db.query("SELECT * FROM documents WHERE id = ?", [doc_id]))
    if not rows:
        raise StoreError(f"no document with id {doc_id}")
    return rows[0]


class DocumentQueries(StoreBase):
    """Mixed into `Store`."""

    def add_document(
        self,
        *,
        file_name: str,
        sha256: str,
        size: int,
        source_path: str | None = None,
        relative_path: str | None = None,
        mtime_ns: int | None = None,
        archive_path: str | None = None,
        state: DocState = DocState.RECEIVED,
        text: str | None = None,
        duplicate_of: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> int:
        """Record a new document and return its id (one transaction)."""
        stamp = now()
        row = {
            "file_name": file_name,
            "source_path": source_path,
            "relative_path": relative_path,
            "mtime_ns": mtime_ns,
            "archive_path": archive_path,
            "sha256": sha256,
            "size": size,
            "state": str(state),
            "text": text,
            "duplicate_of": duplicate_of,
            "error_code": error_code,
            "error_message": error_message,
            "received_at": stamp,
            "updated_at": stamp,
        }
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.atomic():
            cursor = self.db.execute(
                f"INSERT INTO documents ({columns}) VALUES ({marks})",
                list(row.values()),
            )
            doc_id = int(cursor.lastrowid or 0)
            self._audit("edgebox", "received", doc_id, {"state": str(state)})
            refresh_fts(self.db, doc_id)  # findable by name even if never read
            if state == DocState.QUARANTINED:
                self._quarantine_event(doc_id)
        return doc_id

    def document(self, doc_id: int) -> dict[str, Any]:
        return document_row(self.db, doc_id)

    def recent_texts(self, limit: int) -> list[str]:
        """The texts of the newest documents that have one: what a bundle's
        models are tried on before the box switches to them."""
        rows = self.db.query(
            "SELECT text FROM documents WHERE text IS NOT NULL"
            " ORDER BY id DESC LIMIT ?",
            [limit],
        )
        return [row["text"] for row in rows]

    def find_by_sha256(self, sha256: str) -> dict[str, Any] | None:
        """The first document recorded with this content, if any."""
        rows = self.db.query(
            "SELECT * FROM documents WHERE sha256 = ? AND sha256 != ''"
            " ORDER BY id LIMIT 1",
            [sha256],
        )
        return next(rows, None)

    def find_recorded_file(
        self, *, relative_path: str, size: int, mtime_ns: int, sha256: str
    ) -> dict[str, Any] | None:
        """The document recorded from this very inbox file (same path, size, mtime
        and content, sha256 "" for a refusal) whose inbox file was never cleared:
        a crash interrupted its removal. A cleared one's file dropped again is
        a new drop."""
        rows = self.db.query(
            "SELECT * FROM documents WHERE relative_path = ? AND size = ?"
            " AND mtime_ns = ? AND sha256 = ? AND inbox_cleared_at IS NULL"
            " ORDER BY id LIMIT 1",
            [relative_path, size, mtime_ns, sha256],
        )
        return next(rows, None)

    def mark_inbox_cleared(self, doc_id: int) -> None:
        """The document's inbox file is removed (or left as a new drop)."""
        with self.atomic():
            self.db.execute(
                "UPDATE documents SET inbox_cleared_at = ? WHERE id = ?",
                [now(), doc_id],
            )

    def set_state(
        self,
        doc_id: int,
        state: DocState,
        *,
        text: str | None = None,
        unread_pages: list[dict] | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> list[int]:
        """Move a document to a new state (with its text and the pages it could
        not read, or its error); return the ids of its duplicates quarantined
        with it."""
        unread = json.dumps(unread_pages) if unread_pages else None
        with self.atomic():
            self.db.execute(
                "UPDATE documents SET state = ?, text = COALESCE(?, text),"
                " unread_pages = CASE WHEN ? IS NULL THEN unread_pages ELSE ? END,"
                " error_code = ?, error_message = ?, next_attempt_at = NULL,"
                " updated_at = ? WHERE id = ?",
                [state, text, text, unread, error_code, error_message, now(), doc_id],
            )
            self._audit("edgebox", f"state:{state}", doc_id, {"error": error_code})
            if text is not None:
                refresh_fts(self.db, doc_id)
            if state == DocState.QUARANTINED:
                self._quarantine_event(doc_id)
                return self._quarantine_duplicates(doc_id)
        return []

    def mark_failed(
        self, doc_id: int, *, error_code: str, error_message: str, retry_at: str
    ) -> int:
        """A transient failure: count the attempt, retry at `retry_at`."""
        with self.atomic():
            self.db.execute(
                "UPDATE documents SET state = ?, attempts = attempts + 1,"
                " error_code = ?, error_message = ?, next_attempt_at = ?,"
                " updated_at = ? WHERE id = ?",
                [DocState.FAILED, error_code, error_message, retry_at, now(), doc_id],
            )
            self._audit("edgebox", "state:failed", doc_id, {"error": error_code})
        return int(self.document(doc_id)["attempts"])

    def due_for_retry(
        self, at: str, *, beyond: str | None = None
    ) -> list[dict[str, Any]]:
        """Failed documents whose next attempt is due, and those whose next
        attempt lies after `beyond` (now plus the longest wait there is): a
        clock set ahead and corrected since would strand them for a year."""
        return list(
            self.db.query(
                "SELECT * FROM documents WHERE state = ?"
                " AND (next_attempt_at <= ? OR next_attempt_at > ?)"
                " ORDER BY next_attempt_at, id",
                [DocState.FAILED, at, beyond or "9999"],
            )
        )

    def requeue(self, doc_id: int, *, actor: str = "staff") -> list[dict[str, Any]]:
        """Send a failed or quarantined document back to the start, or a failed
        triage no one has reviewed back to be triaged again.

        Its copies, quarantined with it, become duplicates of it again (never
        documents triaged twice); requeuing a copy requeues its first document.
        Returns every document sent back (their quarantine files can go).
        """
        doc = self.document(doc_id)
        if doc["state"] == DocState.TRIAGED:
            return [self._retriage(doc, actor)]
        if doc["state"] not in (DocState.FAILED, DocState.QUARANTINED):
            raise _not_requeueable(doc)
        if doc["duplicate_of"] is not None:
            first = self.document(doc["duplicate_of"])
            if first["state"] in (DocState.FAILED, DocState.QUARANTINED):
                return self.requeue(first["id"], actor=actor)
            with self.atomic():  # its first was read after all
                self._back_to_duplicate(doc, actor)
            return [doc]
        if not doc["archive_path"]:
            raise StoreError(
                f"document {doc_id} ({doc['file_name']}) was never read, so there "
                "is no archived original to requeue: drop the file in again"
            )
        with self.atomic():
            self.db.execute(
                "UPDATE documents SET state = ?, attempts = 0, error_code = NULL,"
                " error_message = NULL, next_attempt_at = NULL, updated_at = ?"
                " WHERE id = ?",
                [DocState.RECEIVED, now(), doc_id],
            )
            self._audit(actor, "requeue", doc_id, {"from": doc["state"]})
            copies = list(
                self.db.query(
                    "SELECT * FROM documents WHERE duplicate_of = ? AND state = ?",
                    [doc_id, DocState.QUARANTINED],
                )
            )
            for copy in copies:
                self._back_to_duplicate(copy, actor)
        return [doc, *copies]

    def _retriage(self, doc: dict[str, Any], actor: str) -> dict[str, Any]:
        """A triage that failed (the model timed out or answered nonsense) is
        tried again on the text already read; a blank text is read again. Checked
        in the write's own transaction: a review saved meanwhile stops it."""
        with self.atomic():
            failed = self._failed_triage(doc["id"])
            if failed is None:
                raise _not_requeueable(doc)
            state = DocState.EXTRACTED
            if not (doc["text"] or "").strip() and doc["archive_path"]:
                state = DocState.RECEIVED
            self.db.execute(
                "UPDATE documents SET state = ?, attempts = 0, next_attempt_at = NULL,"
                " updated_at = ? WHERE id = ?",
                [state, now(), doc["id"]],
            )
            detail = {"from": doc["state"], **failed}  # the revision, its error
            self._audit(actor, "requeue", doc["id"], detail)
        return doc

    def _failed_triage(self, doc_id: int) -> dict[str, Any] | None:
        """The latest revision when it is a failed triage that no person has
        reviewed (nor reviewed and undone): the document's only result."""
        rows = self.db.query(
            f"SELECT t.revision, t.error {DOCUMENTS_WITH_LATEST} WHERE d.id = ?"
            f" AND {_TRIAGE_FAILED}",
            [doc_id],
        )
        return next(rows, None)

    def requeueable(self) -> list[dict[str, Any]]:
        """Failed and quarantined documents, and failed triages no one has
        reviewed, oldest first: what `requeue` takes back. A failed triage's
        error is given as the document's, with the code `triage_failed`."""
        rows = self.db.query(
            f"SELECT d.*, t.error AS triage_error {DOCUMENTS_WITH_LATEST}"
            f" WHERE d.state IN (?, ?) OR ({_TRIAGE_FAILED}) ORDER BY d.id",
            [DocState.FAILED, DocState.QUARANTINED],
        )
        return [_with_triage_error(row) for row in rows]

    def _back_to_duplicate(self, copy: dict[str, Any], actor: str) -> None:
        self.db.execute(
            "UPDATE documents SET state = ?, error_code = NULL, error_message = NULL,"
            " updated_at = ? WHERE id = ?",
            [DocState.DUPLICATE, now(), copy["id"]],
        )
        self._audit(actor, "requeue", copy["id"], {"from": copy["state"]})

    def documents_in_state(
        self, *states: DocState, limit: int = -1
    ) -> list[dict[str, Any]]:
        """Documents in these states, oldest first (`limit` -1: all of them)."""
        marks = ", ".join("?" for _ in states)
        return list(
            self.db.query(
                f"SELECT * FROM documents WHERE state IN ({marks}) ORDER BY id LIMIT ?",
                [*states, limit],
            )
        )

    def counts_by_state(self) -> dict[str, int]:
        counts = {state.value: 0 for state in DocState}
        for row in self.db.query(
            "SELECT state, COUNT(*) AS n FROM documents GROUP BY state"
        ):
            counts[row["state"]] = row["n"]
        return counts

    def _quarantine_duplicates(self, doc_id: int) -> list[int]:
        """Copies recorded while this document was still being read share its
        fate, each with its own reason and event, never silently swallowed."""
        first = self.document(doc_id)
        copies = list(
            self.db.query(
                "SELECT id, file_name FROM documents"
                " WHERE duplicate_of = ? AND state = ?",
                [doc_id, DocState.DUPLICATE],
            )
        )
        for copy in copies:
            self.db.execute(
                "UPDATE documents SET state = ?, error_code = ?, error_message = ?,"
                " updated_at = ? WHERE id = ?",
                [
                    DocState.QUARANTINED,
                    first["error_code"],
                    duplicate_reason(copy["file_name"], first),
                    now(),
                    copy["id"],
                ],
            )
            self._audit(
                "edgebox",
                "state:quarantined",
                copy["id"],
                {"error": first["error_code"], "duplicate_of": doc_id},
            )
            self._quarantine_event(copy["id"])
        return [copy["id"] for copy in copies]

    def _quarantine_event(self, doc_id: int) -> None:
        """An outbox row for the central server: this document could not be read."""
        doc = self.document(doc_id)
        event = (
            1
            + next(
                self.db.query(
                    "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'quarantine'"
                    " AND document_id = ?",
                    [doc_id],
                )
            )["n"]
        )
        payload = {
            "document_id": doc_id,
            "revision": event,
            "file_name": doc["file_name"],
            "sha256": doc["sha256"],
            "error_code": doc["error_code"],
            "error_message": doc["error_message"],
            "at": doc["updated_at"],
        }
        self.db.execute(
            "INSERT INTO outbox (kind, document_id, revision, payload, state,"
            " priority, created_at) VALUES ('quarantine', ?, ?, ?, ?, 3, ?)",
            [doc_id, event, json.dumps(payload), OutboxState.PENDING, now()],
        )


def _not_requeueable(doc: Mapping[str, Any]) -> StoreError:
    return StoreError(
        f"document {doc['id']} is {doc['state']}: only failed or quarantined "
        "documents can be requeued, and triaged ones whose triage failed (urgency"
        " unknown) before anyone reviewed them"
    )


def _with_triage_error(row: dict[str, Any]) -> dict[str, Any]:
    """A failed triage's reason where a failed reading keeps its own."""
    error = row.pop("triage_error")
    if row["state"] == DocState.TRIAGED:
        row |= {"error_code": "triage_failed", "error_message": error}
    return row


def duplicate_reason(file_name: str, first: Mapping[str, Any]) -> str:
    """Why a copy of a quarantined document is quarantined too."""
    return (
        f"{file_name}: same content as document {first['id']}, which was"
        f" quarantined ({first['error_message']})"
    )
