"""The central server's retention: records older than `--keep-days` go.

The NGO decides how long its server keeps what the boxes sent
(`edgebox central serve --keep-days`, or EDGEBOX_CENTRAL_KEEP_DAYS; 0 keeps
for ever). A pass runs when the server starts and once a day, and on demand
(`edgebox central prune`). Each pass that deletes writes one row to
`retention_log` (when, the cutoff, counts), never content. Kept in its own
module and table so that the server and its schema stay as they are.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from edgebox.store.schema import now

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 24 * 3600.0

_LOG_TABLE = """CREATE TABLE IF NOT EXISTS retention_log (
    at TEXT NOT NULL, cutoff TEXT NOT NULL, records BIGINT NOT NULL,
    batches BIGINT NOT NULL, documents BIGINT NOT NULL)"""
# (what is counted and deleted, the column its age is read from)
_TABLES = (
    ("records", "received_at"),
    ("batches", "received_at"),
    ("documents", "updated_at"),
    # The text of shared reviews (pooled learning) goes with its records.
    ("pooled_reviews", "received_at"),
)


def cutoff(keep_days: int, *, at: datetime | None = None) -> str | None:
    """Received before this goes; None keeps all (0 days)."""
    if keep_days <= 0:
        return None
    moment = (at or datetime.now(UTC)) - timedelta(days=keep_days)
    return moment.isoformat(timespec="milliseconds")


def prune(
    db: Any, keep_days: int, *, at: datetime | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Delete (or, dry, count) what is older than `keep_days`; logged."""
    before = cutoff(keep_days, at=at)
    if before is None:
        return {table: 0 for table, _ in _TABLES}
    with db._tx() as conn:
        db._run(conn, _LOG_TABLE)
        counts = {
            table: db._run(
                conn, f"SELECT COUNT(*) FROM {table} WHERE {column} < ?", [before]
            ).fetchone()[0]
            for table, column in _TABLES
        }
        if dry_run or not any(counts.values()):
            return counts
        db._run(
            conn,
            "DELETE FROM document_chunks WHERE EXISTS (SELECT 1 FROM documents d"
            " WHERE d.device_id = document_chunks.device_id AND d.document_id ="
            " document_chunks.document_id AND d.updated_at < ?)",
            [before],
        )
        for table, column in _TABLES:
            db._run(conn, f"DELETE FROM {table} WHERE {column} < ?", [before])
        db._run(
            conn,
            "INSERT INTO retention_log (at, cutoff, records, batches, documents)"
            " VALUES (?, ?, ?, ?, ?)",
            [now(), before, counts["records"], counts["batches"], counts["documents"]],
        )
    log.info("central retention: deleted %s (received before %s)", counts, before)
    return counts


def retention_log(db: Any) -> list[dict[str, Any]]:
    with db._tx() as conn:
        db._run(conn, _LOG_TABLE)
    return db._query("SELECT * FROM retention_log ORDER BY at")


def start_pruning(db: Any, keep_days: int) -> threading.Event | None:
    """A daemon thread: a pass now, then one a day; set the event to stop."""
    if keep_days <= 0:
        return None
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                prune(db, keep_days)
            except Exception:  # the server goes on; the next pass tries again
                log.exception("central retention pass failed")
            if stop.wait(PRUNE_EVERY_S):
                return

    threading.Thread(target=loop, name="central-retention", daemon=True).start()
    return stop
