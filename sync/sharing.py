"""What a box shares for pooled learning (`[sync] share_reviews = true`).

A staff review (a revision a person authored, one document at a time: never a
bulk confirmation, read by no one one by one) leaves with the document's text
and the labels the person chose, under the record's `shared_review` key, so
that the centre can train on the reviews of every clinic. It rides the
review's own record: the centre keys it by (device, document, revision)
like every record, so a re-send is recognised and never counted twice. The
setting covers the rows not sent yet, as the other `[sync]` privacy settings
do; a document whose text retention already removed is sent without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgebox.sync.payload import MAX_SHARED_CHARS

SHARED_KEY = "shared_review"


def is_shared_review(content: Mapping[str, Any]) -> bool:
    """A revision a person made on this one document (not bulk-confirmed)."""
    provenance = content.get("provenance")
    bulk = isinstance(provenance, dict) and provenance.get("bulk")
    return str(content.get("author", "")).startswith("staff:") and not bulk


def shared_review(
    content: Mapping[str, Any], text: str | None, reviewed_at: str
) -> dict[str, Any] | None:
    """The `shared_review` object for this record, or None when it has none."""
    if not text or not text.strip() or not is_shared_review(content):
        return None
    return {
        "text": text[:MAX_SHARED_CHARS],
        "category": content.get("category"),
        "urgency": content.get("urgency"),
        "reviewed_at": reviewed_at,
    }
