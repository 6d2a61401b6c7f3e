"""A patient's documents, grouped by the box's own patient reference.

`patient_ref` is the identifier the document carries (read by the model,
corrected by staff) and it stays on the box: what leaves is a pseudonym
(sync/privacy.py). References are compared with surrounding spaces dropped
and ASCII case folded, so that "ke-4471 " and "KE-4471" are one patient.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from edgebox.vocabulary import Urgency

PATIENT_KEY_SQL = "lower(trim(json_extract(t.fields, '$.patient_ref')))"
"""A latest revision's patient reference as it is compared (`t` is the
latest revision)."""
_LATEST = """FROM documents d
    JOIN triage_revisions t ON t.document_id = d.id AND t.revision = (
        SELECT MAX(revision) FROM triage_revisions WHERE document_id = d.id)"""
_RANK = " ".join(f"WHEN '{u}' THEN {u.rank}" for u in Urgency)
_BY_RANK = {u.rank: u.value for u in Urgency}


@dataclass(frozen=True)
class Patient:
    """One patient reference and what the box holds under it."""

    ref: str
    documents: int
    to_review: int
    urgency: str
    """The most urgent latest result among the documents."""
    last_received: str


def patients(db: Database, *, search: str = "", limit: int = 200) -> list[Patient]:
    """Patients whose reference holds `search` (any case), the one with the
    most urgent document first, then the most recently seen; duplicates (a
    copy of a listed document) are not counted."""
    where = [f"{PATIENT_KEY_SQL} != ''", "d.state != 'duplicate'"]
    params: list[object] = []
    if search.strip():
        where.append(f"{PATIENT_KEY_SQL} LIKE ? ESCAPE '\\'")
        params.append(f"%{_escape_like(search.strip())}%")
    rows = db.conn.execute(
        f"""SELECT MIN(trim(json_extract(t.fields, '$.patient_ref'))), COUNT(*),
                   SUM(t.needs_review = 1),
                   MIN(CASE t.urgency {_RANK} ELSE 2 END), MAX(d.received_at)
            {_LATEST}
            WHERE {" AND ".join(where)}
            GROUP BY {PATIENT_KEY_SQL}
            ORDER BY 4, 5 DESC, 1
            LIMIT ?""",
        [*params, limit],
    ).fetchall()
    return [
        Patient(str(ref), int(n), int(review or 0), _BY_RANK[int(rank)], last)
        for ref, n, review, rank, last in rows
    ]


def patient_ref_of(db: Database, doc_id: int) -> str | None:
    """The patient reference of a document's latest result; None if none."""
    row = db.conn.execute(
        f"SELECT trim(json_extract(t.fields, '$.patient_ref')) {_LATEST}"
        " WHERE d.id = ?",
        [doc_id],
    ).fetchone()
    return str(row[0]) if row and row[0] not in (None, "") else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
