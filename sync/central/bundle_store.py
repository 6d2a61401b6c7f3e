"""The centre's bundles: rows with their signed content, and device groups.

Beside the sync tables on the same database (SQLite or PostgreSQL, one SQL
text through the central database's helpers), like the console's tables. A
bundle's version is the next integer, taken in the transaction that stores it,
so versions only grow; the primary key makes two creators racing on one
PostgreSQL database fail one of them rather than share a number. A bundle is
served only once a person approved it. The signing key is never stored here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgebox.errors import BundleError
from edgebox.store.schema import now

BUNDLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS bundles (
    version BIGINT PRIMARY KEY,
    created_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    target_group TEXT,
    manifest TEXT NOT NULL,
    approved_at TEXT,
    approved_by TEXT,
    content {blob} NOT NULL
)
"""

_COLUMNS = (
    "version, created_at, sha256, size, target_group, manifest, approved_at,"
    " approved_by"
)


class BundleDB:
    """Bundle rows over an open central database."""

    def __init__(self, central: Any) -> None:
        self.central = central
        blob = "BYTEA" if central.placeholder == "%s" else "BLOB"
        with central._tx() as conn:
            central._run(conn, BUNDLE_SCHEMA.format(blob=blob))

    def _query(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> Any:
        return self.central._query(sql, params)

    def add(self, make: Callable[[int], tuple[bytes, str, str, str | None]]) -> int:
        """Store the bundle `make(version)` returns as (content, sha256,
        manifest JSON, group), under the next version; that version."""
        with self.central._tx() as conn:
            row = self.central._run(
                conn, "SELECT COALESCE(MAX(version), 0) FROM bundles"
            ).fetchone()
            version = int(row[0]) + 1
            content, digest, manifest, group = make(version)
            self.central._run(
                conn,
                "INSERT INTO bundles (version, created_at, sha256, size,"
                " target_group, manifest, content) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [version, now(), digest, len(content), group, manifest, content],
            )
        return version

    def bundles(self) -> list[dict[str, Any]]:
        return self._query(f"SELECT {_COLUMNS} FROM bundles ORDER BY version")

    def bundle(self, version: int) -> dict[str, Any]:
        rows = self._query(
            f"SELECT {_COLUMNS} FROM bundles WHERE version = ?", [version]
        )
        if not rows:
            raise BundleError(f"no bundle {version}")
        return rows[0]

    def approve(self, version: int, by: str) -> None:
        """Let the bundle go out (once; approving twice changes nothing)."""
        found = self.bundle(version)
        if found["approved_at"]:
            return
        with self.central._tx() as conn:
            self.central._run(
                conn,
                "UPDATE bundles SET approved_at = ?, approved_by = ? WHERE version = ?",
                [now(), by, version],
            )

    def newest_for(self, device_id: int, after: int) -> dict[str, Any] | None:
        """The newest approved bundle for this device's group (or for all)
        newer than `after`, with its content; None when there is none."""
        rows = self._query(
            "SELECT b.version, b.sha256, b.size, b.content FROM bundles b, devices d"
            " WHERE d.id = ? AND b.approved_at IS NOT NULL AND b.version > ?"
            " AND (b.target_group IS NULL OR b.target_group = d.device_group)"
            " ORDER BY b.version DESC LIMIT 1",
            [device_id, after],
        )
        if not rows:
            return None
        return rows[0] | {"content": bytes(rows[0]["content"])}

    def set_group(self, device: str, group: str | None) -> None:
        """Put a device in a rollout group (None: in no group, all bundles
        for all clinics still reach it)."""
        with self.central._tx() as conn:
            cursor = self.central._run(
                conn,
                "UPDATE devices SET device_group = ? WHERE name = ?",
                [group, device],
            )
            if cursor.rowcount != 1:
                raise BundleError(f"no device named {device!r}")
