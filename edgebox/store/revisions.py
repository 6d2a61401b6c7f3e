"""Triage revisions: writing a result as the document's next revision and
reading revisions back (a person's review, in `review`, is written here too).

A triage result is never overwritten: the AI's answer is revision 1 and a
staff review is a new revision, so what the model said is always kept. Writing a
revision also writes its outbox row, its search rows and an audit row in the
same transaction (transactional outbox): a crash leaves all of them or none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from edgebox.errors import StoreError
from edgebox.store.base import StoreBase
from edgebox.store.documents import document_row
from edgebox.store.latest import is_latest
from edgebox.store.schema import DocState, OutboxState, now
from edgebox.store.search import Chunk, refresh_fts, replace_chunks
from edgebox.vocabulary import Urgency

_JSON_COLUMNS = ("red_flags", "fields", "sources", "provenance")
REVISION_COLUMNS = (
    "category", "urgency", "summary", "red_flags", "fields", "language",
    "confidence", "needs_review", "sources", "provenance", "error", "note",
    "provisional",
)  # fmt: skip


class RevisionQueries(StoreBase):
    """Mixed into `Store`; extended by the review and the two stages."""

    def record_triage(
        self,
        doc_id: int,
        result: Mapping[str, Any],
        *,
        author: str = "ai",
        chunks: tuple[str, list[Chunk]] | None = None,
        audit: tuple[str, str, Mapping[str, Any]] | None = None,
    ) -> int:
        """Store a triage result as the document's next revision; return its number.

        The revision, its outbox row, the document's new state, its search
        index rows (`chunks`: the embedding model's name and the vectors) and
        an audit row are one transaction. `audit` (actor, action, detail)
        replaces the default audit row: an undo restores another author's values
        but is recorded as the undo of the person who did it.
        """
        values = [_column_value(key, result.get(key)) for key in REVISION_COLUMNS]
        with self.atomic():
            state = _state_after(
                author,
                provisional=bool(result.get("provisional")),
                now_in=DocState(document_row(self.db, doc_id)["state"]),
            )
            revision = (
                1
                + next(
                    self.db.query(
                        "SELECT COALESCE(MAX(revision), 0) AS n FROM triage_revisions"
                        " WHERE document_id = ?",
                        [doc_id],
                    )
                )["n"]
            )
            stamp = now()
            columns = ", ".join(REVISION_COLUMNS)
            marks = ", ".join("?" for _ in REVISION_COLUMNS)
            self.db.execute(
                f"INSERT INTO triage_revisions (document_id, revision, author,"
                f" created_at, {columns}) VALUES (?, ?, ?, ?, {marks})",
                [doc_id, revision, author, stamp, *values],
            )
            self.db.execute(
                "UPDATE documents SET state = ?, updated_at = ? WHERE id = ?",
                [state, stamp, doc_id],
            )
            payload = {"document_id": doc_id, "revision": revision, "author": author}
            payload |= self.revision(doc_id, revision)
            self.db.execute(
                "INSERT INTO outbox (kind, document_id, revision, payload, state,"
                " priority, created_at) VALUES ('triage', ?, ?, ?, ?, ?, ?)",
                [
                    doc_id,
                    revision,
                    json.dumps(payload),
                    OutboxState.PENDING,
                    Urgency(payload["urgency"]).rank,
                    stamp,
                ],
            )
            actor, action, detail = audit or (author, "triage", {})
            self._audit(actor, action, doc_id, {"revision": revision, **detail})
            refresh_fts(self.db, doc_id)
            if chunks is not None:
                replace_chunks(self.db, doc_id, chunks[0], chunks[1])
        return revision

    def revision(self, doc_id: int, revision: int) -> dict[str, Any]:
        rows = self.db.query(
            "SELECT * FROM triage_revisions WHERE document_id = ? AND revision = ?",
            [doc_id, revision],
        )
        row = next(rows, None)
        if row is None:
            raise StoreError(f"document {doc_id} has no revision {revision}")
        return decode_revision(row)

    def revisions(self, doc_id: int) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT * FROM triage_revisions WHERE document_id = ? ORDER BY revision",
            [doc_id],
        )
        return [decode_revision(row) for row in rows]

    def latest_revision(self, doc_id: int) -> dict[str, Any] | None:
        """The revision in effect (see `latest`); None before any result."""
        rows = self.db.query(
            f"SELECT * FROM triage_revisions t WHERE t.document_id = ?"
            f" AND {is_latest('t')}",
            [doc_id],
        )
        row = next(rows, None)
        return None if row is None else decode_revision(row)


def _column_value(key: str, value: Any) -> Any:
    if key in _JSON_COLUMNS:
        return json.dumps(
            value if value is not None else ({} if key != "red_flags" else [])
        )
    if key in ("needs_review", "provisional"):
        return 1 if value else 0
    return value


def decode_revision(row: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_COLUMNS:
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    for key in ("needs_review", "provisional"):
        if row.get(key) is not None:
            row[key] = bool(row[key])
    return row


_UNREAD = (DocState.RECEIVED, DocState.FAILED, DocState.QUARANTINED)


def _state_after(author: str, *, provisional: bool, now_in: DocState) -> DocState:
    """A provisional AI revision leaves the document waiting for the LLM
    stage (extracted); a staff one makes it reviewed, except on a document not
    read yet (escalated before it was): it is still to be read."""
    if author != "ai":
        return now_in if now_in in _UNREAD else DocState.REVIEWED
    return DocState.EXTRACTED if provisional else DocState.TRIAGED
