"""The web console's storage: every SQL statement the console runs lives here.

It works beside the sync tables on the same database (SQLite or PostgreSQL,
one SQL text, `?` rewritten for psycopg through the central database's own
helpers). Staff users, sessions, login attempts and the audit trail are rows,
never process memory, so several server processes can serve one console.

The list pages read `console_documents`: one row per clinic document holding
its latest revision's category, urgency and summary, with the indexes the
pages sort by. It is brought up to date from `records` before each read
(from a watermark on the received time), so the sync path and its SQL stay
exactly as they were, and a record arrives on the pages at the next request.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from edgebox.errors import SyncError
from edgebox.store.schema import now

CONSOLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS console_users (
    id {serial},
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES console_users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_login_attempts (
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS console_attempts_by_name
    ON console_login_attempts (name, at);
CREATE INDEX IF NOT EXISTS console_attempts_by_address
    ON console_login_attempts (address, at);
CREATE TABLE IF NOT EXISTS console_audit (
    id {serial},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_documents (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    document_id BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    author TEXT NOT NULL,
    category TEXT,
    urgency TEXT,
    summary TEXT,
    reviewed INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, document_id)
);
CREATE INDEX IF NOT EXISTS console_documents_by_urgency
    ON console_documents (urgency, received_at, device_id, document_id);
CREATE INDEX IF NOT EXISTS console_documents_by_device
    ON console_documents (device_id, received_at, document_id);
CREATE INDEX IF NOT EXISTS console_records_by_received ON records (received_at);
CREATE TABLE IF NOT EXISTS console_watermark (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL
)
"""

ROLES = ("admin", "viewer")
LIST_COLUMNS = (
    "d.name AS clinic, c.device_id, c.document_id, c.revision, c.author,"
    " c.category, c.urgency, c.summary, c.reviewed, c.created_at, c.received_at"
)
_CATCH_UP_BATCH = 5000
_CLINICS_SQL = (
    "SELECT d.id, d.name, d.created_at, d.last_seen, d.pending, d.dead,"
    " d.app_version, d.model_sha256, d.rules_version, d.reviewed,"
    " d.category_override_rate, d.urgency_override_rate, d.conflicts,"
    " d.protocol, d.box_clock, d.clock_skew_s, d.bundle_version,"
    " CASE WHEN d.token_hash = '!revoked' THEN 1 ELSE 0 END AS revoked"
    " FROM devices d ORDER BY d.name"
)
"""The devices' own columns, without the per-device counts of records and
batches that `central status` shows: the console does not show them, and
counting every record on each view of its landing page grows with the table."""
_CATCH_UP_SQL = (
    "SELECT r.device_id, r.document_id, r.revision, r.created_at, r.received_at,"
    " r.content FROM records r WHERE r.kind = 'triage' AND"
    " (r.received_at, r.device_id, r.document_id, r.revision) > (?, ?, ?, ?)"
    " AND NOT EXISTS (SELECT 1 FROM console_documents c WHERE"
    " c.device_id = r.device_id AND c.document_id = r.document_id"
    " AND c.revision >= r.revision)"
    " ORDER BY r.received_at, r.device_id, r.document_id, r.revision LIMIT ?"
)
CATCH_UP_MARGIN = timedelta(minutes=10)


class ConsoleDB:
    """The console's queries over an open central database."""

    def __init__(self, central: Any) -> None:
        self.central = central
        self.postgres = central.placeholder == "%s"
        serial = (
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            if self.postgres
            else "INTEGER PRIMARY KEY"
        )
        with central._tx() as conn:
            for statement in CONSOLE_SCHEMA.format(serial=serial).split(";"):
                central._run(conn, statement)

    def _query(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> Any:
        return self.central._query(sql, params)

    def _execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
        with self.central._tx() as conn:
            return int(self.central._run(conn, sql, params).rowcount)

    # -- users -----------------------------------------------------------------

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        if role not in ROLES:
            raise SyncError(f"role {role!r}: use one of {', '.join(ROLES)}")
        if self._query("SELECT id FROM console_users WHERE name = ?", [name]):
            raise SyncError(f"user {name!r} exists")
        self._execute(
            "INSERT INTO console_users (name, role, password_hash, created_at)"
            " VALUES (?, ?, ?, ?)",
            [name, role, password_hash, now()],
        )

    def user(self, name: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM console_users WHERE name = ?", [name])
        return rows[0] if rows else None

    def users(self) -> list[dict[str, Any]]:
        return self._query(
            "SELECT name, role, disabled, created_at FROM console_users ORDER BY name"
        )

    def disable_user(self, name: str) -> None:
        """Disable an account and end its sessions at once."""
        found = self.user(name)
        if found is None:
            raise SyncError(f"no user named {name!r}")
        with self.central._tx() as conn:
            self.central._run(
                conn,
                "UPDATE console_users SET disabled = 1 WHERE id = ?",
                [found["id"]],
            )
            self.central._run(
                conn, "DELETE FROM console_sessions WHERE user_id = ?", [found["id"]]
            )

    # -- sessions and login attempts ---------------------------------------------

    def add_session(self, token_hash: str, user_id: int, ttl: timedelta) -> None:
        expires = (datetime.now(UTC) + ttl).isoformat(timespec="milliseconds")
        self._execute(
            "INSERT INTO console_sessions (token_hash, user_id, created_at,"
            " expires_at) VALUES (?, ?, ?, ?)",
            [token_hash, user_id, now(), expires],
        )

    def session_user(self, token_hash: str) -> dict[str, Any] | None:
        """The enabled user of a live session, or None."""
        rows = self._query(
            "SELECT u.id, u.name, u.role FROM console_sessions s JOIN console_users u"
            " ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?"
            " AND u.disabled = 0",
            [token_hash, now()],
        )
        return rows[0] if rows else None

    def end_session(self, token_hash: str) -> None:
        self._execute("DELETE FROM console_sessions WHERE token_hash = ?", [token_hash])

    def record_attempt(self, name: str, address: str, *, ok: bool) -> None:
        self._execute(
            "INSERT INTO console_login_attempts (name, address, at, ok)"
            " VALUES (?, ?, ?, ?)",
            [name, address, now(), int(ok)],
        )

    def failed_attempts(self, name: str, address: str, since: str) -> int:
        """Failed logins for this name or from this address since `since`."""
        rows = self._query(
            "SELECT COUNT(*) AS n FROM console_login_attempts WHERE ok = 0"
            " AND at > ? AND (name = ? OR address = ?)",
            [since, name, address],
        )
        return int(rows[0]["n"])

    # -- audit -------------------------------------------------------------------

    def audit(
        self, actor: str, action: str, target: str | None = None, **detail: Any
    ) -> None:
        self._execute(
            "INSERT INTO console_audit (at, actor, action, target, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            [now(), actor, action, target, json.dumps(detail, sort_keys=True)],
        )

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        return self._query(
            "SELECT at, actor, action, target, detail FROM console_audit"
            " ORDER BY id DESC LIMIT ?",
            [limit],
        )

    # -- devices -----------------------------------------------------------------

    def revoke_device(self, name: str) -> None:
        """No token matches a revoked device's hash ('!' is no sha256)."""
        changed = self._execute(
            "UPDATE devices SET token_hash = '!revoked' WHERE name = ?", [name]
        )
        if not changed:
            raise SyncError(f"no device named {name!r}")

    def clinics(self) -> list[dict[str, Any]]:
        """Each device with its heartbeat and its documents per urgency."""
        self.catch_up()
        devices = self._query(_CLINICS_SQL)
        counts = self._query(
            "SELECT device_id, urgency, COUNT(*) AS n, SUM(reviewed) AS reviewed"
            " FROM console_documents GROUP BY device_id, urgency"
        )
        delays = self._delays()
        for device in devices:
            mine = [c for c in counts if c["device_id"] == device["id"]]
            device["per_urgency"] = {c["urgency"]: int(c["n"]) for c in mine}
            device["documents"] = sum(device["per_urgency"].values())
            device["reviewed_docs"] = sum(int(c["reviewed"] or 0) for c in mine)
            device["delay_s"] = delays.get(device["id"])
            device["revoked"] = bool(device["revoked"])
        return devices

    def _delays(self) -> dict[int, float]:
        """Per device, the delay of its latest document between the box's
        own time and the centre's received time (the sign shows a box clock
        ahead of the centre's). One newest-first index probe per device: a
        MAX() compared row by row grew with every document held."""
        latest = (
            "(SELECT c.{column} FROM console_documents c WHERE c.device_id = d.id"
            " ORDER BY c.received_at DESC, c.document_id DESC LIMIT 1)"
        )
        rows = self._query(
            f"SELECT d.id AS device_id, {latest.format(column='created_at')}"
            f" AS created_at, {latest.format(column='received_at')} AS received_at"
            " FROM devices d"
        )
        return {
            int(r["device_id"]): _seconds_between(r["created_at"], r["received_at"])
            for r in rows
            if r["received_at"] is not None
        }

    # -- documents ---------------------------------------------------------------

    def catch_up(self) -> int:
        """Bring console_documents up to date with the records received since
        the watermark (idempotent: several processes may run it at once).

        It starts CATCH_UP_MARGIN before the watermark: a batch is stamped
        before its transaction commits, so a slow batch can commit rows older
        than a watermark another request already moved past. Rows already
        indexed at their revision are skipped in the query itself, so a page
        whose data did not change reads the margin and writes nothing: no
        write transaction (and no commit to disk) per page view. Returns how
        many records it indexed."""
        mark = self._query("SELECT received_at FROM console_watermark WHERE id = 1")
        start = _minus(mark[0]["received_at"], CATCH_UP_MARGIN) if mark else ""
        cursor: tuple[str, int, int, int] = (start, 0, 0, -1)
        indexed = 0
        while True:
            rows = self._query(_CATCH_UP_SQL, [*cursor, _CATCH_UP_BATCH])
            if not rows:
                return indexed
            self._index(rows)
            indexed += len(rows)
            last = rows[-1]
            self._set_watermark(last["received_at"])
            if len(rows) < _CATCH_UP_BATCH:
                return indexed
            cursor = (
                last["received_at"], int(last["device_id"]),
                int(last["document_id"]), int(last["revision"]),
            )  # fmt: skip

    def _index(self, rows: list[dict[str, Any]]) -> None:
        params = []
        for row in rows:
            content = json.loads(row["content"])
            author = str(content.get("author") or "ai")
            params.append(
                (
                    row["device_id"], row["document_id"], row["revision"], author,
                    content.get("category"), content.get("urgency"),
                    content.get("summary"), int(author.startswith("staff:")),
                    row["created_at"], row["received_at"],
                )
            )  # fmt: skip
        sql = self.central._sql(
            "INSERT INTO console_documents (device_id, document_id, revision,"
            " author, category, urgency, summary, reviewed, created_at,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (device_id, document_id) DO UPDATE SET"
            " revision = excluded.revision, author = excluded.author,"
            " category = excluded.category, urgency = excluded.urgency,"
            " summary = excluded.summary, reviewed = excluded.reviewed,"
            " created_at = excluded.created_at, received_at = excluded.received_at"
            " WHERE console_documents.revision < excluded.revision"
        )
        with self.central._tx() as conn:
            # One statement, many rows: psycopg pipelines them.
            conn.cursor().executemany(sql, params)

    def _set_watermark(self, received_at: str) -> None:
        self._execute(
            "INSERT INTO console_watermark (id, received_at) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET received_at = excluded.received_at"
            " WHERE console_watermark.received_at < excluded.received_at",
            [received_at],
        )

    def document_list(
        self,
        *,
        urgencies: tuple[str, ...] = (),
        clinic: str | None = None,
        category: str | None = None,
        reviewed: bool | None = None,
        since: str | None = None,
        until: str | None = None,
        words: str | None = None,
        after: tuple[str, int, int] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Documents newest received first, filtered; `after` is the keyset
        cursor (received_at, device_id, document_id) of the previous page's
        last. Several urgencies are one newest-first index range each, merged:
        one `IN` would sort every emergency and urgent result of the week."""
        self.catch_up()
        rest = (clinic, category, reviewed, since, until, words)
        if len(urgencies) < 2:
            sql, params = self._list_sql(urgencies, *rest, after=after, limit=limit)
            return self._query(sql, params)
        parts, params = [], []
        for urgency in urgencies:
            sql, more = self._list_sql((urgency,), *rest, after=after, limit=limit)
            parts.append(f"SELECT * FROM ({sql}) u{len(parts)}")
            params += more
        merged = (
            " UNION ALL ".join(parts)
            + " ORDER BY received_at DESC, device_id DESC, document_id DESC LIMIT ?"
        )
        return self._query(merged, [*params, limit])

    def _list_sql(
        self,
        urgencies: tuple[str, ...],
        *rest: Any,
        after: tuple[str, int, int] | None,
        limit: int,
    ) -> tuple[str, list[Any]]:
        where, params = self._filters(urgencies, *rest)
        if after is not None:
            where.append(
                "(c.received_at < ? OR (c.received_at = ? AND (c.device_id < ? OR"
                " (c.device_id = ? AND c.document_id < ?))))"
            )
            params += [after[0], after[0], after[1], after[1], after[2]]
        sql = (
            f"SELECT {LIST_COLUMNS} FROM console_documents c JOIN devices d"
            " ON d.id = c.device_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY c.received_at DESC, c.device_id DESC, c.document_id DESC"
            " LIMIT ?"
        )
        return sql, [*params, limit]

    def _filters(
        self,
        urgencies: tuple[str, ...],
        clinic: str | None,
        category: str | None,
        reviewed: bool | None,
        since: str | None,
        until: str | None,
        words: str | None,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if urgencies:
            where.append(f"c.urgency IN ({', '.join('?' for _ in urgencies)})")
            params += list(urgencies)
        for clause, value in (
            # A subquery, not d.name: the planner then walks the device's index.
            ("c.device_id = (SELECT id FROM devices WHERE name = ?)", clinic),
            ("c.category = ?", category),
            ("c.received_at >= ?", since),
            ("c.received_at < ?", until),
        ):
            if value:
                where.append(clause)
                params.append(value)
        if reviewed is not None:
            where.append("c.reviewed = ?")
            params.append(int(reviewed))
        for word in (words or "").split()[:8]:
            where.append("LOWER(c.summary) LIKE ?")
            params.append(f"%{word.lower()}%")
        return where, params

    def revisions(self, clinic: str, document_id: int) -> list[dict[str, Any]]:
        """Every revision of one document, oldest first, content parsed."""
        rows = self._query(
            "SELECT r.revision, r.replaces, r.created_at, r.received_at, r.content"
            " FROM records r JOIN devices d ON d.id = r.device_id WHERE d.name = ?"
            " AND r.kind = 'triage' AND r.document_id = ? ORDER BY r.revision",
            [clinic, document_id],
        )
        for row in rows:
            row["content"] = json.loads(row["content"])
        return rows


def _minus(stamp: str, margin: timedelta) -> str:
    try:
        return (datetime.fromisoformat(stamp) - margin).isoformat(
            timespec="milliseconds"
        )
    except ValueError:
        return ""


def _seconds_between(earlier: str, later: str) -> float:
    try:
        start = datetime.fromisoformat(earlier)
        end = datetime.fromisoformat(later)
    except ValueError:
        return 0.0
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return (end - start).total_seconds()
