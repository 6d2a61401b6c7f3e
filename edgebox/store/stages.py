"""The two triage stages' queries (mixed into Store).

The fast stage (rules, vital signs, learned models) writes a revision marked
`provisional` in the transaction that stores the extracted text. The LLM stage
then takes documents by that provisional urgency and writes the first revision
that is not provisional. When a person reviewed (or escalated) the document
between the stages, the LLM's answer is kept as revision of its own, the AI's
opinion, and the person's labels are carried onto a new revision above it:
what is in effect stays what the person chose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgebox.store.documents import document_row
from edgebox.store.latest import DOCUMENTS_WITH_LATEST
from edgebox.store.review import ReviewQueries, check_seen, check_staff_urgency
from edgebox.store.schema import LLM_STAGE_ORDER, DocState
from edgebox.store.search import Chunk
from edgebox.store.staff import check_may_sign, signature
from edgebox.vocabulary import Urgency

# Waiting for the LLM stage: extracted (with or without a provisional result),
# or reviewed by a person on its provisional result before the LLM had run.
_LLM_PENDING = f"""d.state = '{DocState.EXTRACTED}' OR (
    d.state = '{DocState.REVIEWED}'
    AND EXISTS (SELECT 1 FROM triage_revisions p WHERE p.document_id = d.id
                AND p.provisional = 1)
    AND NOT EXISTS (SELECT 1 FROM triage_revisions a WHERE a.document_id = d.id
                    AND a.author = 'ai' AND a.provisional = 0))"""
_CARRIED = ("summary", "red_flags", "fields", "language")
"""What the LLM adds to a person's answer: their labels stay."""


class StageQueries(ReviewQueries):
    """Mixed into `Store`."""

    def set_by_staff(
        self,
        doc_id: int,
        *,
        reviewer: str,
        urgency: str,
        category: str | None = None,
        note: str | None = None,
        expected_revision: int | None = None,
        signed: str | None = None,
    ) -> int:
        """A person sets urgency (and category) on any document, triaged or
        not: staff act before the machine. Returns the new revision."""
        check_staff_urgency(doc_id, urgency)
        changes = {"urgency": urgency} | ({"category": category} if category else {})
        with self.atomic():
            if self.latest_revision(doc_id) is not None:
                return self.record_review(
                    doc_id,
                    reviewer=reviewer,
                    changes=changes,
                    note=note,
                    expected_revision=expected_revision,
                    signed=signed,
                )
            check_seen(doc_id, None, expected_revision)
            check_may_sign(self.db, reviewer)
            document_row(self.db, doc_id)  # an unknown id: a clear error
            first = {
                "category": category,
                "urgency": urgency,
                "summary": "",
                "needs_review": False,
                "sources": {"category": "staff", "urgency": "staff"},
                "note": note or None,
            }
            author = f"staff:{reviewer}"
            return self.record_triage(
                doc_id, first, author=author, audit=signature(author, signed)
            )

    def llm_pending(self, *, limit: int = 1) -> list[dict[str, Any]]:
        """Documents waiting for the LLM stage, in the order it takes them."""
        return list(
            self.db.query(
                f"SELECT d.* {DOCUMENTS_WITH_LATEST} WHERE {_LLM_PENDING}"
                f" ORDER BY {LLM_STAGE_ORDER} LIMIT ?",
                [limit],
            )
        )

    def record_ai_result(
        self,
        doc_id: int,
        result: Mapping[str, Any],
        *,
        chunks: tuple[str, list[Chunk]] | None = None,
    ) -> int:
        """Store either stage's result; return the revision now in effect.

        Read and written in one transaction, so a review saved while the model
        was answering (or the file was being read) is seen here and kept."""
        with self.atomic():
            latest = self.latest_revision(doc_id) or {}
            result = keep_fast_emergency(result, latest)
            revision = self.record_triage(doc_id, result, author="ai", chunks=chunks)
            if not str(latest.get("author", "")).startswith("staff:"):
                return revision
            carried = dict(latest) | {key: result.get(key) for key in _CARRIED}
            carried["provenance"] = dict(latest["provenance"]) | {
                "ai_opinion": revision
            }
            return self.record_triage(
                doc_id,
                carried,
                author=latest["author"],
                audit=("edgebox", "review kept", {"ai_opinion": revision}),
            )


def keep_fast_emergency(
    result: Mapping[str, Any], provisional: Mapping[str, Any]
) -> dict[str, Any]:
    """The LLM stage never lowers an emergency its fast stage found: only a
    person may."""
    kept = dict(result)
    fast = provisional.get("provisional") and provisional.get("author") == "ai"
    if fast and provisional["urgency"] == Urgency.EMERGENCY:
        if kept["urgency"] != Urgency.EMERGENCY:
            kept["urgency"] = Urgency.EMERGENCY
            kept["sources"] = dict(kept.get("sources") or {}) | {
                "urgency": (provisional.get("sources") or {}).get("urgency", "rules")
            }
            kept["needs_review"] = True
    return kept
