"""What a shift hands over: the documents received since a time that are
emergencies or urgent, those still waiting for a person, and who reviewed how
many. Read-only queries over the store, kept here so that the report's SQL
lives with the rest of the store's SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from edgebox.store.latest import DOCUMENTS_WITH_RESULT


@dataclass(frozen=True)
class HandoverRow:
    """One document as the hand-over lists it (the latest result)."""

    document_id: int
    received_at: str
    file_name: str
    category: str | None
    urgency: str
    summary: str
    red_flags: list[str]
    needs_review: bool
    provisional: bool
    reviewed_by: str | None
    """The staff member behind the latest revision; None while it is the AI's."""


@dataclass(frozen=True)
class Handover:
    since: str
    until: str
    emergencies: list[HandoverRow] = field(default_factory=list)
    urgent: list[HandoverRow] = field(default_factory=list)
    to_review: list[HandoverRow] = field(default_factory=list)
    """Documents of any urgency whose latest result still asks for a person."""
    reviews_by: dict[str, int] = field(default_factory=dict)
    """Staff revisions made in the period, per reviewer (reviews, edits and
    escalations alike; an undo counts for whoever undid)."""


def handover(db: Database, *, since: str, until: str) -> Handover:
    """The hand-over for documents received in [since, until) (ISO UTC times,
    as the store writes them), most urgent and then oldest first."""
    rows = [
        _row(r)
        for r in db.query(
            f"""SELECT d.id, d.received_at, d.file_name, t.category, t.urgency,
                       t.summary, t.red_flags, t.needs_review,
                       COALESCE(t.provisional, 0) AS provisional, t.author
                {DOCUMENTS_WITH_RESULT}
                WHERE d.received_at >= ? AND d.received_at < ?
                  AND d.duplicate_of IS NULL
                ORDER BY d.received_at, d.id""",
            [since, until],
        )
    ]
    reviewers = {
        r["author"].removeprefix("staff:"): int(r["n"])
        for r in db.query(
            """SELECT author, COUNT(*) AS n FROM triage_revisions
               WHERE author LIKE 'staff:%' AND created_at >= ? AND created_at < ?
               GROUP BY author ORDER BY n DESC, author""",
            [since, until],
        )
    }
    return Handover(
        since=since,
        until=until,
        emergencies=[r for r in rows if r.urgency == "emergency"],
        urgent=[r for r in rows if r.urgency == "urgent"],
        to_review=[r for r in rows if r.needs_review],
        reviews_by=reviewers,
    )


def _row(r: dict[str, Any]) -> HandoverRow:
    flags = json.loads(r["red_flags"] or "[]")
    author = r["author"] or ""
    staff = author.startswith("staff:")
    return HandoverRow(
        document_id=int(r["id"]),
        received_at=r["received_at"],
        file_name=r["file_name"],
        category=r["category"],
        urgency=r["urgency"],
        summary=r["summary"] or "",
        red_flags=[_flag_name(f) for f in flags],
        needs_review=bool(r["needs_review"]),
        provisional=bool(r["provisional"]),
        reviewed_by=author.removeprefix("staff:") if staff else None,
    )


def _flag_name(flag: Any) -> str:
    if isinstance(flag, dict):
        return str(flag.get("sign") or "")
    return str(flag)
