"""The one definition of a document's "latest revision": the result in effect.

A triage result is never overwritten, so every question about what a document
*is* now (its urgency, whether it waits for review, what search and alerts
show) is asked of the revision with the highest number. Every query of the
store takes that revision through these helpers, never through a join of its
own, so that the definition cannot drift between the queue, search, alerts,
the hand-over and retention.

A query builder rather than a schema view: a view needs a migration, and a
store opened read-only (a backup copy, a read-only mount) is never migrated, so
a view would be missing there; the planner also sees the plain correlated
subquery and answers it from the (document_id, revision) unique index.
"""

from __future__ import annotations


def is_latest(rev: str = "t", *, of: str | None = None) -> str:
    """SQL condition: revision row `rev` is the latest of its document.

    `of` is the SQL expression of the document's id (`d.id` when a documents
    row is at hand: the subquery is then answered once per document)."""
    document = of or f"{rev}.document_id"
    return (
        f"{rev}.revision = (SELECT MAX(revision) FROM triage_revisions"
        f" WHERE document_id = {document})"
    )


def join_latest(doc: str = "d", rev: str = "t", *, inner: bool = False) -> str:
    """SQL join of the latest revision `rev` onto documents row `doc`: LEFT
    (a document without a result keeps its row, `rev`'s columns NULL) unless
    `inner`, which leaves such documents out."""
    kind = "JOIN" if inner else "LEFT JOIN"
    return (
        f"{kind} triage_revisions {rev} ON {rev}.document_id = {doc}.id"
        f" AND {is_latest(rev, of=f'{doc}.id')}"
    )


DOCUMENTS_WITH_LATEST = f"FROM documents d {join_latest()}"
"""Every document as `d`, with its latest revision as `t` (NULLs without one)."""

DOCUMENTS_WITH_RESULT = f"FROM documents d {join_latest(inner=True)}"
"""Documents that have a result as `d`, with their latest revision as `t`."""

LATEST_URGENCY = "COALESCE(t.urgency, 'unknown')"
"""The urgency in effect of `d` with latest revision `t`: a document without a
result yet counts as "unknown" (its urgency is not known), in every queue's
order and in every filter (see `filters.DocumentFilter`)."""
