"""The store: one SQLite file (WAL) and every SQL statement edgebox runs.

Schema changes are numbered migrations (sqlite-utils `Migrations`), applied on
open. A triage result is never overwritten: the AI's answer is revision 1 and a
staff review is a new revision, so what the model said is always kept. Writing a
revision also writes its outbox row and an audit row in the same transaction
(transactional outbox): a crash leaves all of them or none.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
from edgebox.store.review import ReviewQueries, check_seen, check_staff_urgency
from edgebox.store.schema import (
    QUEUE_ORDER,
    DocState,
    OutboxState,
    migrations,
    now,
    refuse_a_foreign_database,
)
from edgebox.store.search import Chunk, SearchQueries
from edgebox.store.staff import check_may_sign, signature
from edgebox.store.stages import StageQueries
from edgebox.vocabulary import Urgency

# A person's own decision, read one by one (a bulk confirmation is not), on a
# document whose text is still kept: what the learned models train on.
_TRAINING_EXAMPLE = """t.author LIKE 'staff:%' AND d.text IS NOT NULL
    AND json_extract(t.provenance, '$.bulk') IS NULL"""
_JSON_COLUMNS = ("red_flags", "fields", "sources", "provenance")
_REVISION_COLUMNS = (
    "category", "urgency", "summary", "red_flags", "fields", "language",
    "confidence", "needs_review", "sources", "provenance", "error", "note",
    "provisional",
)  # fmt: skip


class Store(
    AttemptQueries,
    DocumentQueries,
    SearchQueries,
    OutboxQueries,
    QueueQueries,
    RetentionQueries,
    ReviewQueries,
    StageQueries,
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

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One write transaction (a savepoint when nested).

        BEGIN IMMEDIATE takes the write lock before the first read. With a plain
        BEGIN, a transaction that reads and then writes fails at once with
        "database is locked" (WAL's busy snapshot, which ignores the busy
        timeout) when another process committed in between: a review saved in
        the UI while the service writes a result.
        """
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def applied_migrations(self) -> list[str]:
        return [m.name for m in migrations.applied(self.db)]

    def journal_mode(self) -> str:
        return next(self.db.query("PRAGMA journal_mode"))["journal_mode"]

    # -- triage revisions --------------------------------------------------

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
        values = [_column_value(key, result.get(key)) for key in _REVISION_COLUMNS]
        with self.atomic():
            state = _state_after(
                author,
                provisional=bool(result.get("provisional")),
                now_in=DocState(self.document(doc_id)["state"]),
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
            columns = ", ".join(_REVISION_COLUMNS)
            marks = ", ".join("?" for _ in _REVISION_COLUMNS)
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
            self.refresh_fts(doc_id)
            if chunks is not None:
                self.write_chunks(doc_id, chunks[0], chunks[1])
        return revision

    def record_review(
        self,
        doc_id: int,
        *,
        reviewer: str,
        changes: Mapping[str, Any],
        note: str | None = None,
        expected_revision: int | None = None,
        signed: str | None = None,
        bulk: bool = False,
    ) -> int:
        """A person confirms or corrects the latest result: a new revision,
        with the reviewer's optional note. `signed` says how the reviewer's
        name was vouched for (`pin`, `EDGEBOX_USER`, `login`), for the audit.
        `bulk`: confirmed with others at once, unread one by one: marked so in
        its provenance, and kept out of training and override rates.

        `expected_revision` is the revision the person was shown: the review is
        refused when another one came since (unchanged fields are copied from
        the latest revision, so a form opened before a colleague's save would
        otherwise record her values under this reviewer's name)."""
        unknown = set(changes) - set(_REVISION_COLUMNS)
        if unknown:
            raise StoreError(f"cannot review unknown field(s): {', '.join(unknown)}")
        with self.atomic():
            latest = self.latest_revision(doc_id)
            if latest is None:
                raise StoreError(f"document {doc_id} has no triage result to review")
            check_seen(doc_id, latest, expected_revision)
            check_may_sign(self.db, reviewer)
            self._check_not_in_triage(doc_id)
            reviewed = {key: latest[key] for key in _REVISION_COLUMNS}
            reviewed |= dict(changes)
            check_staff_urgency(doc_id, reviewed["urgency"])
            reviewed["needs_review"] = False
            reviewed["sources"] = {"category": "staff", "urgency": "staff"}
            reviewed["error"] = None
            reviewed["note"] = note or None
            reviewed["provisional"] = False
            provenance = {
                k: v for k, v in reviewed["provenance"].items() if k != "bulk"
            }
            reviewed["provenance"] = provenance | ({"bulk": True} if bulk else {})
            author = f"staff:{reviewer}"
            return self.record_triage(
                doc_id, reviewed, author=author, audit=signature(author, signed)
            )

    def _check_not_in_triage(self, doc_id: int) -> None:
        """A failed triage sent back (requeue) is triaged again: a review saved
        meanwhile would be buried under the new result, so it waits for it."""
        state = self.document(doc_id)["state"]
        latest = self.latest_revision(doc_id) or {}
        if latest.get("provisional") or str(latest.get("author")).startswith("staff:"):
            return  # staff act before the machine; its stages keep their answer
        if state not in (DocState.TRIAGED, DocState.REVIEWED):
            raise StoreError(
                f"document {doc_id} is being triaged again ({state});"
                " nothing was saved: review it once its new result is in",
                title="changed meanwhile",
            )

    def revision(self, doc_id: int, revision: int) -> dict[str, Any]:
        rows = self.db.query(
            "SELECT * FROM triage_revisions WHERE document_id = ? AND revision = ?",
            [doc_id, revision],
        )
        row = next(rows, None)
        if row is None:
            raise StoreError(f"document {doc_id} has no revision {revision}")
        return _decode(row)

    def revisions(self, doc_id: int) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT * FROM triage_revisions WHERE document_id = ? ORDER BY revision",
            [doc_id],
        )
        return [_decode(row) for row in rows]

    def latest_revision(self, doc_id: int) -> dict[str, Any] | None:
        """The revision in effect (see `latest`); None before any result."""
        rows = self.db.query(
            f"SELECT * FROM triage_revisions t WHERE t.document_id = ?"
            f" AND {is_latest('t')}",
            [doc_id],
        )
        row = next(rows, None)
        return None if row is None else _decode(row)

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
        return [_decode(row) for row in rows]

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

    def confirm_many(
        self, doc_ids: list[int], *, reviewer: str, signed: str | None = None
    ) -> tuple[list[int], dict[int, str]]:
        """Confirm several results as they are, in one transaction: (confirmed,
        {left out: why}). Never an emergency (a person confirms each one on
        its own), nor a document with no urgency to confirm."""
        confirmed: list[int] = []
        left_out: dict[int, str] = {}
        with self.atomic():
            for doc_id in doc_ids:
                latest = self.latest_revision(doc_id)
                if latest is None or latest["urgency"] not in Urgency.levels():
                    left_out[doc_id] = "no urgency to confirm"
                elif latest["urgency"] == Urgency.EMERGENCY:
                    left_out[doc_id] = "an emergency is confirmed on its own"
                elif str(latest["author"]).startswith("staff:"):
                    left_out[doc_id] = "a person has already decided"
                else:
                    self.record_review(
                        doc_id,
                        reviewer=reviewer,
                        changes={},
                        expected_revision=latest["revision"],
                        signed=signed,
                        bulk=True,
                    )
                    confirmed.append(doc_id)
        return confirmed, left_out

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

    # -- audit -----------------------------------------------------------

    def audit_log(self, doc_id: int | None = None) -> list[dict[str, Any]]:
        if doc_id is None:
            return list(self.db.query("SELECT * FROM audit ORDER BY id"))
        return list(
            self.db.query(
                "SELECT * FROM audit WHERE document_id = ? ORDER BY id", [doc_id]
            )
        )

    def _audit(
        self, actor: str, action: str, doc_id: int | None, detail: Mapping[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT INTO audit (at, actor, action, document_id, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            [now(), actor, action, doc_id, json.dumps(dict(detail))],
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


def _column_value(key: str, value: Any) -> Any:
    if key in _JSON_COLUMNS:
        return json.dumps(
            value if value is not None else ({} if key != "red_flags" else [])
        )
    if key in ("needs_review", "provisional"):
        return 1 if value else 0
    return value


def _decode(row: dict[str, Any]) -> dict[str, Any]:
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
