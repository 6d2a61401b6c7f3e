"""The store: one SQLite file (WAL) and every SQL statement edgebox runs.

`Store` opens the file (numbered migrations, sqlite-utils `Migrations`,
applied on open) and combines the query classes, each in a module of its own
on `StoreBase`: documents, revisions (and the review and the two stages built
on them), search, the queue, outbox, retention and file attempts. What is left
here reads across them: the queue the CLI prints, the training examples and
how often staff overrode the AI, and what the running service says.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from edgebox.config import TriageConfig
from edgebox.errors import StoreError
from edgebox.store.attempts import AttemptQueries
from edgebox.store.documents import DocumentQueries
from edgebox.store.filters import DocumentFilter
from edgebox.store.latest import DOCUMENTS_WITH_LATEST, DOCUMENTS_WITH_RESULT, is_latest
from edgebox.store.outbox import OutboxQueries
from edgebox.store.queue import QueueQueries
from edgebox.store.retention import RetentionQueries
from edgebox.store.revisions import decode_revision
from edgebox.store.schema import QUEUE_ORDER, migrations, refuse_a_foreign_database
from edgebox.store.search import SearchQueries
from edgebox.store.stages import StageQueries

# A person's own decision, read one by one (a bulk confirmation is not), on a
# document whose text is still kept: what the learned models train on.
_TRAINING_EXAMPLE = """t.author LIKE 'staff:%' AND d.text IS NOT NULL
    AND json_extract(t.provenance, '$.bulk') IS NULL"""


class Store(
    AttemptQueries,
    DocumentQueries,
    SearchQueries,
    OutboxQueries,
    QueueQueries,
    RetentionQueries,
    StageQueries,  # with ReviewQueries and RevisionQueries beneath it
):
    """A connection to edgebox.db. One per thread; cheap to open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        try:
            self.db = Database(conn)
            refuse_a_foreign_database(self.db, path)
            _enable_wal(self.db)
            # FULL: a committed result survives a power cut, which is what lets a
            # file leave the inbox once its transaction has committed.
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            if migrations.pending(self.db):
                self._migrate()
        except BaseException as exc:
            conn.close()  # a failed open leaves no connection behind
            if isinstance(exc, sqlite3.DatabaseError):
                raise StoreError(f"cannot open the store {path}: {exc}") from exc
            raise

    def _migrate(self) -> None:
        # The service, `edgebox tui` and `edgebox run` may open a new file at
        # the same moment: the write lock (BEGIN IMMEDIATE, which waits out the
        # busy timeout) makes one of them migrate and the others see it done.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            migrations.apply(self.db)  # each migration is a savepoint in here
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def applied_migrations(self) -> list[str]:
        return [m.name for m in migrations.applied(self.db)]

    def journal_mode(self) -> str:
        return next(self.db.query("PRAGMA journal_mode"))["journal_mode"]

    # -- reading across documents and their revisions ----------------------

    def queue(
        self, filters: DocumentFilter | None = None, *, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Documents with their latest result that pass the filters, in the
        queue's order (the CLI's; the UI pages with `queue_page`)."""
        clause, params = (filters or DocumentFilter()).where_clause()
        rows = self.db.query(
            f"""
            SELECT d.id AS document_id, d.file_name, d.state, d.received_at,
                   d.error_code, d.error_message, t.revision, t.author, t.category,
                   t.urgency, t.summary, t.red_flags, t.fields, t.confidence,
                   t.needs_review, t.sources, t.provenance, t.error,
                   COALESCE(t.provisional, 0) AS provisional
            {DOCUMENTS_WITH_LATEST}
            {clause}
            ORDER BY {QUEUE_ORDER}
            LIMIT ?""",
            [*params, limit],
        )
        return [decode_revision(row) for row in rows]

    def needs_review_count(self) -> int:
        row = next(
            self.db.query(
                "SELECT COUNT(*) AS n FROM triage_revisions t"
                f" WHERE t.needs_review = 1 AND {is_latest('t')}"
            )
        )
        return int(row["n"])

    def training_examples(self) -> list[dict[str, Any]]:
        """Documents a person confirmed or corrected, with the labels they chose:
        what the learned models train on."""
        rows = self.db.query(
            f"""
            SELECT d.id AS document_id, d.text, t.category, t.urgency,
                   t.created_at AS reviewed_at
            {DOCUMENTS_WITH_RESULT}
            WHERE {_TRAINING_EXAMPLE}
            ORDER BY t.created_at, d.id"""
        )
        return list(rows)

    def reviewed_count(self) -> int:
        """How many training examples there are (see training_examples),
        without reading their texts: the UI says how many more are needed."""
        row = next(
            self.db.query(
                f"SELECT COUNT(*) AS n {DOCUMENTS_WITH_RESULT}"
                f" WHERE {_TRAINING_EXAMPLE}"
            )
        )
        return int(row["n"])

    def staff_activity(self) -> tuple[int, int]:
        """(count, last id) of what staff did (reviews, undos): a cheap way to
        tell whether the training examples may have changed."""
        row = next(
            self.db.query(
                "SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS last FROM audit"
                " WHERE actor LIKE 'staff:%'"
            )
        )
        return int(row["n"]), int(row["last"])

    def override_stats(
        self, *, review_cut: float = TriageConfig.review_cut
    ) -> dict[str, Any]:
        """How often staff changed the AI's category or urgency, overall, per
        label the AI gave and per confidence band, one starting at `review_cut`
        (does a label given 0.9 hold 9 times in 10 on this box's documents?)."""
        rows = list(
            self.db.query(
                f"""
                SELECT ai.category AS ai_category, ai.urgency AS ai_urgency,
                       json_extract(ai.provenance, '$.field_confidence.category')
                         AS ai_category_confidence,
                       json_extract(ai.provenance, '$.field_confidence.urgency')
                         AS ai_urgency_confidence,
                       json_extract(ai.provenance,
                                    '$.learned.category.confidence_mapped_on')
                         AS ai_category_mapped,
                       json_extract(ai.provenance,
                                    '$.learned.urgency.confidence_mapped_on')
                         AS ai_urgency_mapped,
                       staff.category AS category, staff.urgency AS urgency
                FROM triage_revisions ai
                JOIN triage_revisions staff ON staff.document_id = ai.document_id
                  AND {is_latest("staff", of="ai.document_id")}
                WHERE ai.author = 'ai' AND ai.revision = (
                    SELECT MAX(revision) FROM triage_revisions
                    WHERE document_id = ai.document_id AND author = 'ai'
                      AND revision < (SELECT MIN(revision) FROM triage_revisions
                                      WHERE document_id = ai.document_id
                                        AND author LIKE 'staff:%'))
                  AND staff.author LIKE 'staff:%'
                  AND json_extract(staff.provenance, '$.bulk') IS NULL"""
            )
        )
        return {
            "reviewed": len(rows),
            "category": _override_rates(rows, "category", review_cut),
            "urgency": _override_rates(rows, "urgency", review_cut),
        }

    # -- what the running service says about itself -------------------------

    def service_state(self) -> dict[str, str]:
        """Model, device (GPU/CPU), docs/s and heartbeat, as the service last
        wrote them (the UI and `status` read them without loading the model)."""
        return {
            row["key"]: row["value"]
            for row in self.db.query("SELECT key, value FROM service_state")
        }

    def update_service_state(self, values: Mapping[str, Any]) -> None:
        with self.atomic():
            self.db.conn.executemany(
                "INSERT INTO service_state (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(key, str(value)) for key, value in values.items()],
            )


def _enable_wal(db: Database, *, attempts: int = 50) -> None:
    """Switch a new file to WAL. Two processes creating the file at once can
    make the switch fail with "locked" without waiting: retry a while."""
    for attempt in range(attempts):
        try:
            if db.journal_mode != "wal":
                db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _override_rates(
    rows: list[dict[str, Any]], field: str, review_cut: float
) -> dict[str, Any]:
    overridden = 0
    per_label: dict[str, dict[str, Any]] = {}
    for row in rows:
        label = row[f"ai_{field}"] or "unknown"
        entry = per_label.setdefault(label, {"reviewed": 0, "overridden": 0})
        changed = row[f"ai_{field}"] != row[field]
        entry["reviewed"] += 1
        entry["overridden"] += changed
        overridden += changed
    for entry in per_label.values():
        entry["rate"] = round(entry["overridden"] / entry["reviewed"], 3)
    rate = round(overridden / len(rows), 3) if rows else None
    return {
        "overridden": overridden,
        "rate": rate,
        "per_label": per_label,
        "by_confidence": _kept_by_confidence(rows, field, review_cut),
    }


def _kept_by_confidence(
    rows: list[dict[str, Any]], field: str, review_cut: float
) -> list[dict[str, Any]]:
    """Per band of the AI's confidence in its label, how often staff kept it:
    on a calibrated box, close to the band's mean confidence. Labels with no
    calibrated confidence (the LLM's, rule-raised levels, models from before
    calibration) are a band of their own, with `from` None."""
    bounds = sorted({0.0, 0.5, review_cut, 0.9} - {1.0})
    bands: dict[float | None, list[tuple[float, bool]]] = {}
    for row in rows:
        confidence = row[f"ai_{field}_confidence"]
        if not row[f"ai_{field}_mapped"]:  # no map, or one fitted on nothing
            confidence = None
        lower = (
            None if confidence is None else max(b for b in bounds if b <= confidence)
        )
        kept = row[f"ai_{field}"] == row[field]
        bands.setdefault(lower, []).append((confidence or 0.0, kept))
    return [
        {
            "from": lower,
            "to": None
            if lower is None
            else next((b for b in bounds if b > lower), 1.0),
            "reviewed": len(entries),
            "mean_confidence": (
                None
                if lower is None
                else round(statistics.fmean(c for c, _ in entries), 3)
            ),
            "kept": sum(k for _, k in entries),
        }
        for lower in (*bounds, None)
        if (entries := bands.get(lower))
    ]
