"""What every part of the store stands on: the connection, one write
transaction at a time, and the audit row each change writes.

The query classes (documents, revisions, search, outbox, ...) each extend
`StoreBase`, and `Store` (in `core`) combines them and opens the file; a
query class needs nothing from another beyond what it imports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from sqlite_utils import Database

from edgebox.store.schema import now


class StoreBase:
    """A connection to edgebox.db (opened by `Store`)."""

    db: Database
    path: Path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
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
