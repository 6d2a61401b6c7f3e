"""The central storage of raw documents: chunks appended in order, checked
against the declared size and sha256 when the last one lands. Part of the
central database (mixed into it), kept apart because results and raw
documents are separate concerns; the SQL is the same for SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from edgebox.errors import DocumentConflict, DocumentInvalid
from edgebox.store.schema import now


class DocumentChunks:
    """Resumable raw-document uploads; needs the database's `_tx`, `_run`
    and `_query`."""

    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    def document(self, device_id: int, document_id: int) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT document_id, sha256, size, received, complete FROM documents"
            " WHERE device_id = ? AND document_id = ?",
            [device_id, document_id],
        )
        if not rows:
            return None
        return rows[0] | {"complete": bool(rows[0]["complete"])}

    def append_chunk(
        self, device_id: int, document_id: int, *, sha256: str, size: int,
        start: int, data: bytes,
    ) -> dict[str, Any]:  # fmt: skip
        """Add the next chunk of a raw document; a chunk that does not continue
        the upload is a conflict that names where to resume."""
        with self._tx() as conn:
            held = self._doc_row(conn, device_id, document_id, sha256, size, start)
            if held["complete"]:
                return held
            if held["received"] + len(data) > size:
                raise DocumentInvalid("the chunk runs past the declared size")
            if data:
                # An empty chunk adds nothing, and no row. A row at this offset
                # can only be an empty one kept before that rule: the real
                # bytes take its place instead of failing on the key forever.
                self._run(
                    conn,
                    "INSERT INTO document_chunks (device_id, document_id, start,"
                    " data) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (device_id, document_id, start)"
                    " DO UPDATE SET data = excluded.data",
                    [device_id, document_id, start, data],
                )
            held["received"] += len(data)
            mismatch = held["received"] == size and (
                self._digest(conn, device_id, document_id) != sha256
            )
            if mismatch:
                self._run(
                    conn,
                    "DELETE FROM document_chunks WHERE device_id = ?"
                    " AND document_id = ?",
                    [device_id, document_id],
                )
                held["received"] = 0
            # Never complete on a mismatch: an empty document (size 0) would
            # otherwise be "complete" right after its sha256 was refused.
            held["complete"] = held["received"] == size and not mismatch
            self._run(
                conn,
                "UPDATE documents SET received = ?, complete = ?, updated_at = ?"
                " WHERE device_id = ? AND document_id = ?",
                [held["received"], int(held["complete"]), now(), device_id,
                 document_id],
            )  # fmt: skip
        if mismatch:
            raise DocumentInvalid("the document's bytes do not match its sha256")
        return held

    def _doc_row(
        self, conn: Any, device_id: int, document_id: int, sha256: str, size: int,
        start: int,
    ) -> dict[str, Any]:  # fmt: skip
        found = self._run(
            conn,
            "SELECT sha256, size, received, complete FROM documents"
            " WHERE device_id = ? AND document_id = ?",
            [device_id, document_id],
        ).fetchone()
        if found is None:
            self._run(
                conn,
                "INSERT INTO documents (device_id, document_id, sha256, size,"
                " received, complete, updated_at) VALUES (?, ?, ?, ?, 0, 0, ?)",
                [device_id, document_id, sha256, size, now()],
            )
            found = (sha256, size, 0, 0)
        held = {
            "document_id": document_id, "sha256": found[0], "size": int(found[1]),
            "received": int(found[2]), "complete": bool(found[3]),
        }  # fmt: skip
        if (held["sha256"], held["size"]) != (sha256, size):
            raise DocumentConflict(
                "the server holds another file under this document id",
                received=held["received"],
            )
        if not held["complete"] and start != held["received"]:
            raise DocumentConflict(
                f"resume at byte {held['received']}", received=held["received"]
            )
        return held

    def _digest(self, conn: Any, device_id: int, document_id: int) -> str:
        digest = hashlib.sha256()
        cursor = self._run(
            conn,
            "SELECT data FROM document_chunks WHERE device_id = ? AND document_id = ?"
            " ORDER BY start",
            [device_id, document_id],
        )
        for (data,) in cursor.fetchall():
            digest.update(bytes(data))
        return digest.hexdigest()

    def document_bytes(self, device: str, document_id: int) -> bytes:
        rows = self._query(
            "SELECT c.data FROM document_chunks c JOIN devices d"
            " ON d.id = c.device_id WHERE d.name = ? AND c.document_id = ?"
            " ORDER BY c.start",
            [device, document_id],
        )
        return b"".join(bytes(row["data"]) for row in rows)
