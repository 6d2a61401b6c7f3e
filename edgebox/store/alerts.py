"""The service's alerts: which emergencies still have to ring the NGO's
alert command, and what came of each run. One row per document, made the
first time the service sees it as an emergency, so that an emergency rings
once whatever restarts or later revisions happen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlite_utils import Database

from edgebox.store.latest import DOCUMENTS_WITH_RESULT, is_latest
from edgebox.store.schema import now

if TYPE_CHECKING:
    from edgebox.store.core import Store


@dataclass(frozen=True)
class DueAlert:
    document_id: int
    urgency: str
    category: str
    attempts: int


def due_alerts(store: Store, *, received_since: str, at: str) -> list[DueAlert]:
    """Register emergencies received since `received_since` that have no alert
    yet, then return every pending alert whose time has come, oldest first.
    The urgency and category are the document's latest result's."""
    db = store.db
    with store.atomic():
        db.execute(
            f"""INSERT OR IGNORE INTO alerts (document_id, state, next_at, created_at)
               SELECT d.id, 'pending', ?, ? {DOCUMENTS_WITH_RESULT}
               WHERE t.urgency = 'emergency' AND d.received_at >= ?
                 AND d.duplicate_of IS NULL""",
            [at, at, received_since],
        )
    rows = db.query(
        f"""SELECT a.document_id, a.attempts, t.urgency, t.category FROM alerts a
           JOIN triage_revisions t ON t.document_id = a.document_id
            AND {is_latest("t", of="a.document_id")}
           WHERE a.state = 'pending' AND a.next_at <= ?
           ORDER BY a.created_at, a.document_id""",
        [at],
    )
    return [
        DueAlert(
            document_id=int(r["document_id"]),
            urgency=r["urgency"],
            category=r["category"] or "unknown",
            attempts=int(r["attempts"]),
        )
        for r in rows
    ]


def record_alert(
    store: Store,
    alert: DueAlert,
    *,
    error: str | None,
    retry_at: str,
    max_attempts: int,
) -> str:
    """Record one run of the command: sent, pending again (retry at
    `retry_at`) or failed for good; with an audit row. Returns the state."""
    attempts = alert.attempts + 1
    if error is None:
        state = "sent"
    elif attempts >= max_attempts:
        state = "failed"
    else:
        state = "pending"
    at = now()
    db = store.db
    with store.atomic():
        db.execute(
            """UPDATE alerts SET state = ?, attempts = ?, last_error = ?,
               next_at = ?, sent_at = ? WHERE document_id = ?""",
            [
                state,
                attempts,
                error,
                retry_at,
                at if state == "sent" else None,
                alert.document_id,
            ],
        )
        db.execute(
            "INSERT INTO audit (at, actor, action, document_id, detail)"
            " VALUES (?, 'service', ?, ?, ?)",
            [
                at,
                f"alert {state}",
                alert.document_id,
                json.dumps({"attempt": attempts, "error": error}),
            ],
        )
    return state


def alert_counts(db: Database) -> dict[str, int]:
    """Alerts per state, for `edgebox status`."""
    counts = {"pending": 0, "sent": 0, "failed": 0}
    if "alerts" not in db.table_names():  # a read-only copy of an older store
        return counts
    for row in db.query("SELECT state, COUNT(*) AS n FROM alerts GROUP BY state"):
        counts[row["state"]] = int(row["n"])
    return counts


def emergency_ids(db: Database) -> dict[int, str]:
    """Documents the machine rated emergency (their latest result), with their
    category: the UI's banner compares this with what it saw at its last check.
    A person's escalation does not ring the UIs: a person already knows."""
    return {
        int(r["document_id"]): r["category"] or "unknown"
        for r in db.query(
            "SELECT t.document_id, t.category FROM triage_revisions t"
            f" WHERE t.urgency = 'emergency' AND t.author = 'ai' AND {is_latest()}"
        )
    }
