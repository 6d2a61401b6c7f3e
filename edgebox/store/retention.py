"""Retention: deleting originals, extracted text and at last whole records
once they are due (mixed into Store).

Due means older than the NGO's `[retention]` days, and done with: its
results acknowledged by the centre (no outbox row pending) and not waiting
for a person's review, and no longer in the pipeline. Originals and text go
first and the results (urgency, summary, fields) stay; when the results are
due too, the document's whole record goes. The audit stays; one audit row
says what was deleted, by document id and count, never by content.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edgebox.store.base import StoreBase
from edgebox.store.latest import is_latest
from edgebox.store.schema import DocState, OutboxState, now
from edgebox.store.search import refresh_fts

# Done with: through the pipeline, results sent, nobody's review pending.
_DONE_WITH = f"""d.state IN ('{DocState.TRIAGED}', '{DocState.REVIEWED}',
        '{DocState.DUPLICATE}', '{DocState.QUARANTINED}')
    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.document_id = d.id
                    AND o.state = '{OutboxState.PENDING}')
    AND (d.state = '{DocState.REVIEWED}' OR NOT EXISTS (
        SELECT 1 FROM triage_revisions t WHERE t.document_id = d.id
        AND t.needs_review = 1 AND {is_latest("t", of="d.id")}))"""
_DUE = {
    "originals": "d.archive_path IS NOT NULL AND d.original_deleted_at IS NULL",
    "text": "d.text IS NOT NULL AND d.text_deleted_at IS NULL",
    "results": "1",  # every document that is still here has a record
}


def cutoff(days: int, *, at: datetime | None = None) -> str | None:
    """The arrival time before which a document's part is due; None keeps
    it for ever (0 days)."""
    if days <= 0:
        return None
    return ((at or datetime.now(UTC)) - timedelta(days=days)).isoformat(
        timespec="milliseconds"
    )


class RetentionQueries(StoreBase):
    """Mixed into `Store`."""

    def retention_due(self, part: str, before: str | None) -> list[int]:
        """Ids of the documents whose `part` (originals | text | results) is due."""
        if before is None:
            return []
        rows = self.db.execute(
            f"SELECT d.id FROM documents d WHERE d.received_at < ?"
            f" AND {_DUE[part]} AND {_DONE_WITH} ORDER BY d.id",
            [before],
        ).fetchall()
        return [row[0] for row in rows]

    def next_retention_due(self, part: str) -> str | None:
        """The arrival time of the oldest document whose `part` is still kept
        (its deletion is due that long after it)."""
        row = self.db.execute(
            f"SELECT MIN(d.received_at) FROM documents d WHERE {_DUE[part]}"
        ).fetchone()
        return row[0] if row else None

    def delete_text(self, before: str | None) -> list[int]:
        """Blank the extracted text, search text and embeddings of due documents."""
        with self.atomic():
            ids = self.retention_due("text", before)
            for doc_id in ids:
                self.db.execute(
                    "UPDATE documents SET text = NULL, text_deleted_at = ?"
                    " WHERE id = ?",
                    [now(), doc_id],
                )
                self.db.execute("DELETE FROM chunks WHERE document_id = ?", [doc_id])
                refresh_fts(self.db, doc_id)
            if ids:
                self._audit("retention", "text_deleted", None, _ids(ids))
        return ids

    def delete_originals(self, before: str | None) -> list[int]:
        """Mark due documents' originals deleted, then delete each archive file
        that no kept document shares (the archive is by content: a duplicate
        shares its first copy's file)."""
        with self.atomic():
            ids = self.retention_due("originals", before)
            paths = set()
            for doc_id in ids:
                row = self.db.execute(
                    "SELECT archive_path FROM documents WHERE id = ?", [doc_id]
                ).fetchone()
                paths.add(row[0])
                self.db.execute(
                    "UPDATE documents SET original_deleted_at = ? WHERE id = ?",
                    [now(), doc_id],
                )
            if ids:
                self._audit("retention", "originals_deleted", None, _ids(ids))
        for path in paths:
            if not self._archive_still_kept(path):
                Path(path).unlink(missing_ok=True)
        return ids

    def delete_results(self, before: str | None) -> list[int]:
        """Delete due documents' whole records: every row that refers to the
        document (revisions, sent outbox rows, search rows, alerts, whatever
        a later table adds), the row itself, and its archive file unless a
        kept document shares it. Audit rows stay, with the id moved into
        their detail; a later duplicate is no longer tied to it."""
        with self.atomic():
            ids = self.retention_due("results", before)
            referring = self._tables_referring_to_documents()
            paths = set()
            for doc_id in ids:
                row = self.db.execute(
                    "SELECT archive_path FROM documents WHERE id = ?", [doc_id]
                ).fetchone()
                if row[0]:
                    paths.add(row[0])
                self.db.execute(
                    "UPDATE audit SET document_id = NULL, detail ="
                    " json_set(detail, '$.document_id', document_id)"
                    " WHERE document_id = ?",
                    [doc_id],
                )
                self.db.execute(
                    "UPDATE documents SET duplicate_of = NULL WHERE duplicate_of = ?",
                    [doc_id],
                )
                for table, column in referring:
                    self.db.execute(
                        f"DELETE FROM [{table}] WHERE [{column}] = ?", [doc_id]
                    )
                self.db.execute("DELETE FROM documents_fts WHERE rowid = ?", [doc_id])
                self.db.execute("DELETE FROM documents WHERE id = ?", [doc_id])
            if ids:
                self._audit("retention", "results_deleted", None, _ids(ids))
        for path in paths:
            if not self._archive_still_kept(path):
                Path(path).unlink(missing_ok=True)
        return ids

    def _tables_referring_to_documents(self) -> list[tuple[str, str]]:
        """(table, column) of every foreign key to documents.id but the
        audit's and a duplicate's own (handled apart)."""
        return [
            (table, key.column)
            for table in self.db.table_names()
            for key in self.db[table].foreign_keys
            if key.other_table == "documents" and table not in ("audit", "documents")
        ]

    def _archive_still_kept(self, path: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM documents WHERE archive_path = ?"
            " AND original_deleted_at IS NULL LIMIT 1",
            [path],
        ).fetchone()
        return row is not None


def _ids(ids: list[int]) -> dict[str, Any]:
    return {"count": len(ids), "document_ids": ids}
