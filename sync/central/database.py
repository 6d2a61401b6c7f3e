"""The central server's storage: every central SQL statement lives here.

One SQL text serves both databases (`?` placeholders, rewritten to `%s` for
psycopg); the two classes differ only in how they connect and open a write
transaction. A batch is one transaction: the heartbeat, the batch row and every
record commit together or not at all, so a server killed mid-batch leaves
nothing half-written, and the client (never acknowledged) sends it again.
Connections are per thread, because the ASGI server runs this code in a pool.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from edgebox.errors import CentralUnavailable, SyncError
from edgebox.store.schema import now
from edgebox.sync.central.clock import clock_skew
from edgebox.sync.central.document_store import DocumentChunks
from edgebox.sync.central.pooled import TABLE as POOLED_TABLE
from edgebox.sync.central.pooled import PooledReviews, stored_content
from edgebox.sync.payload import Heartbeat, Record, canonical_json

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS devices (
    id {serial},
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT,
    pending BIGINT,
    dead BIGINT,
    app_version TEXT,
    model_sha256 TEXT,
    rules_version TEXT,
    reviewed BIGINT,
    category_override_rate DOUBLE PRECISION,
    urgency_override_rate DOUBLE PRECISION,
    conflicts BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    kind TEXT NOT NULL,
    document_id BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    replaces BIGINT,
    created_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    batch_key TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (device_id, kind, document_id, revision)
);
CREATE TABLE IF NOT EXISTS batches (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    batch_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    records BIGINT NOT NULL,
    replays BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, batch_key)
);
CREATE TABLE IF NOT EXISTS documents (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    document_id BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    received BIGINT NOT NULL,
    complete INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (device_id, document_id)
);
CREATE TABLE IF NOT EXISTS document_chunks (
    device_id BIGINT NOT NULL,
    document_id BIGINT NOT NULL,
    start BIGINT NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (device_id, document_id, start)
);
"""
    + POOLED_TABLE
)

ADDED_COLUMNS = (
    ("devices", "install_id", "TEXT"),
    ("devices", "reinstalls", "BIGINT NOT NULL DEFAULT 0"),
    ("records", "install_id", "TEXT"),
    ("devices", "device_group", "TEXT"),
    ("devices", "protocol", "BIGINT"),
    ("devices", "box_clock", "TEXT"),
    ("devices", "clock_skew_s", "DOUBLE PRECISION"),
    ("devices", "bundle_version", "BIGINT"),
)
"""The central database's migrations, in order: columns added since SCHEMA
was first shipped (a database made before them gets them at open)."""

_STATUS_SQL = """
SELECT d.id, d.name, d.created_at, d.last_seen, d.pending, d.dead, d.app_version,
       d.model_sha256, d.rules_version, d.reviewed, d.category_override_rate,
       d.urgency_override_rate, d.conflicts, d.install_id, d.reinstalls,
       d.device_group, d.protocol, d.box_clock, d.clock_skew_s, d.bundle_version,
       (SELECT COUNT(*) FROM records r WHERE r.device_id = d.id) AS records,
       (SELECT COUNT(*) FROM batches b WHERE b.device_id = d.id) AS batches
FROM devices d ORDER BY d.name"""


class CentralDB(Protocol):
    """What the server needs from its database, SQLite or PostgreSQL."""

    def register_device(
        self, name: str, token_for: Callable[[int], str], *, rotate: bool = False
    ) -> tuple[int, str]: ...
    def token_hash(self, device_id: int) -> tuple[str, str] | None: ...
    def store_batch(
        self, device_id: int, key: str, heartbeat: Heartbeat, records: list[Record]
    ) -> list[str]: ...
    def devices(self) -> list[dict[str, Any]]: ...
    def records(self, device: str) -> list[dict[str, Any]]: ...
    def document(self, device_id: int, document_id: int) -> dict[str, Any] | None: ...
    def append_chunk(
        self, device_id: int, document_id: int, *, sha256: str, size: int,
        start: int, data: bytes,
    ) -> dict[str, Any]: ...  # fmt: skip
    def document_bytes(self, device: str, document_id: int) -> bytes: ...
    def pooled_reviews(self) -> list[dict[str, Any]]: ...
    def pooled_counts(self) -> dict[str, int]: ...
    def triage_history(self) -> list[dict[str, Any]]: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


def open_central(url: str, *, create: bool = True) -> CentralDB:
    """A central database from `--db`: a file path, `sqlite:///PATH` or a
    `postgresql://` URL. `create=False` (a command that only reads) refuses a
    SQLite file that does not exist: a mistyped --db is said, not created."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresCentral(url)
    if "://" in url.removeprefix("sqlite:///") or not url.strip():
        raise SyncError(
            f"unsupported database URL {url!r}: use a path or postgresql://"
        )
    path = Path(url.removeprefix("sqlite:///"))
    if not create and not path.is_file():
        raise SyncError(
            f"no central database at {path}: check --db or EDGEBOX_CENTRAL_DB"
            " (`edgebox central add-device` or `serve` creates it)"
        )
    return SQLiteCentral(path)


class _SqlCentral(DocumentChunks, PooledReviews):
    """The SQL shared by both databases; subclasses say how to connect."""

    placeholder = "?"
    unavailable: tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    # -- connection plumbing -------------------------------------------------

    def _connect(self) -> Any:
        raise NotImplementedError

    def _begin(self, conn: Any) -> None:
        raise NotImplementedError

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", "%s")

    def _forget(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                self._all.remove(conn)
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close
                pass

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """One transaction on this thread's connection; database outages become
        CentralUnavailable (the API answers 503 and the client retries)."""
        try:
            conn = self._conn()
            self._begin(conn)
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except self.unavailable as exc:
            self._forget()
            # One line: psycopg's messages carry a tab-indented hint line.
            reason = " ".join(str(exc).split())
            raise CentralUnavailable(f"central database error: {reason}") from exc

    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(self._sql(sql), tuple(params))

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._tx() as conn:
            cursor = self._run(conn, sql, params)
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()

    def ping(self) -> None:
        self._query("SELECT 1 AS ok")

    # -- devices -------------------------------------------------------------

    def register_device(
        self, name: str, token_for: Callable[[int], str], *, rotate: bool = False
    ) -> tuple[int, str]:
        """Add a device (or give it a new token with rotate); the token is
        returned once and only its hash is kept."""
        from edgebox.sync.central.auth import hash_token

        with self._tx() as conn:
            row = self._run(conn, "SELECT id FROM devices WHERE name = ?", [name])
            found = row.fetchone()
            if found and not rotate:
                raise SyncError(
                    f"device {name!r} exists (use --rotate for a new token)"
                )
            if not found and rotate:
                raise SyncError(f"no device named {name!r}")
            if found:
                device_id = int(found[0])
            else:
                cursor = self._run(
                    conn,
                    "INSERT INTO devices (name, token_hash, created_at)"
                    " VALUES (?, '!', ?) RETURNING id",
                    [name, now()],
                )
                device_id = int(cursor.fetchone()[0])
            token = token_for(device_id)
            self._run(
                conn,
                "UPDATE devices SET token_hash = ? WHERE id = ?",
                [hash_token(token), device_id],
            )
        return device_id, token

    def token_hash(self, device_id: int) -> tuple[str, str] | None:
        """(name, token hash) of a device, or None."""
        rows = self._query(
            "SELECT name, token_hash FROM devices WHERE id = ?", [device_id]
        )
        return (rows[0]["name"], rows[0]["token_hash"]) if rows else None

    def devices(self) -> list[dict[str, Any]]:
        return self._query(_STATUS_SQL)

    # -- records -------------------------------------------------------------

    def store_batch(
        self, device_id: int, key: str, heartbeat: Heartbeat, records: list[Record]
    ) -> list[str]:
        """Upsert a batch in one transaction; per record: created, duplicate
        (identical replay, nothing changes) or conflict (other content)."""
        stamp = now()
        statuses: list[str] = []
        with self._tx() as conn:
            self._heartbeat(conn, device_id, heartbeat, stamp)
            self._run(
                conn,
                "INSERT INTO batches (device_id, batch_key, received_at, records)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (device_id, batch_key)"
                " DO UPDATE SET replays = batches.replays + 1",
                [device_id, key, stamp, len(records)],
            )
            for record in records:
                statuses.append(
                    self._upsert(conn, device_id, key, record, stamp, heartbeat.install)
                )
            conflicts = statuses.count("conflict")
            if conflicts:
                self._run(
                    conn,
                    "UPDATE devices SET conflicts = conflicts + ? WHERE id = ?",
                    [conflicts, device_id],
                )
        return statuses

    def _heartbeat(self, conn: Any, device_id: int, beat: Heartbeat, at: str) -> None:
        self._run(
            conn,
            "UPDATE devices SET last_seen = ?, pending = ?, dead = ?, app_version = ?,"
            " model_sha256 = ?, rules_version = ?, reviewed = ?,"
            " category_override_rate = ?, urgency_override_rate = ?,"
            " reinstalls = reinstalls + CASE WHEN install_id <> CAST(? AS TEXT)"
            " THEN 1 ELSE 0 END, install_id = COALESCE(CAST(? AS TEXT), install_id),"
            " protocol = ?, box_clock = ?, clock_skew_s = ?, bundle_version = ?"
            " WHERE id = ?",
            [
                at, beat.pending, beat.dead, beat.app_version, beat.model_sha256,
                beat.rules_version, beat.reviewed, beat.category_override_rate,
                beat.urgency_override_rate, beat.install, beat.install,
                beat.protocol, beat.clock, clock_skew(at, beat.clock),
                beat.bundle_version, device_id,
            ],
        )  # fmt: skip

    def _upsert(
        self,
        conn: Any,
        device_id: int,
        key: str,
        record: Record,
        at: str,
        install: str | None,
    ) -> str:
        digest = record.content_sha256()
        kind, document_id, revision = record.key
        cursor = self._run(
            conn,
            "INSERT INTO records (device_id, kind, document_id, revision, replaces,"
            " created_at, received_at, batch_key, content_sha256, content,"
            " install_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (device_id, kind, document_id, revision) DO NOTHING",
            [
                device_id, kind, document_id, revision, record.replaces,
                record.created_at, at, key, digest,
                canonical_json(stored_content(record)), install,
            ],
        )  # fmt: skip
        if cursor.rowcount == 1:
            self._pool(conn, device_id, record, at)  # a shared review's text
            return "created"
        held = self._run(
            conn,
            "SELECT content_sha256 FROM records WHERE device_id = ? AND kind = ?"
            " AND document_id = ? AND revision = ?",
            [device_id, kind, document_id, revision],
        ).fetchone()
        return "duplicate" if held[0] == digest else "conflict"

    def records(self, device: str) -> list[dict[str, Any]]:
        """Every revision a device sent, in key order (for export and tests)."""
        rows = self._query(
            "SELECT r.kind, r.document_id, r.revision, r.replaces, r.created_at,"
            " r.received_at, r.content, r.install_id FROM records r JOIN devices d"
            " ON d.id = r.device_id WHERE d.name = ?"
            " ORDER BY r.kind, r.document_id, r.revision",
            [device],
        )
        for row in rows:
            row["content"] = json.loads(row["content"])
        return rows


class SQLiteCentral(_SqlCentral):
    """One SQLite file (WAL, synchronous=FULL: an acknowledged batch survives a
    power cut)."""

    unavailable = (sqlite3.OperationalError,)

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            conn.executescript(SCHEMA.format(serial="INTEGER PRIMARY KEY", blob="BLOB"))
            for table, column, kind in ADDED_COLUMNS:
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except (OSError, sqlite3.DatabaseError) as exc:
            raise SyncError(f"cannot open the central database {path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _begin(self, conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two batches never interleave.
        conn.execute("BEGIN IMMEDIATE")


class PostgresCentral(_SqlCentral):
    """PostgreSQL through psycopg 3, for a deployment that outgrows one file."""

    placeholder = "%s"

    def __init__(self, url: str) -> None:
        # Imported here: a SQLite deployment never loads the PostgreSQL driver.
        import psycopg

        super().__init__()
        self.url = url
        self.unavailable = (psycopg.OperationalError, psycopg.InterfaceError)
        serial = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        try:
            with self._tx() as conn:
                for statement in SCHEMA.format(serial=serial, blob="BYTEA").split(";"):
                    conn.execute(statement)
                for table, column, kind in ADDED_COLUMNS:
                    conn.execute(
                        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}"
                    )
        except CentralUnavailable as exc:
            raise SyncError(
                f"cannot open the central database {shown_url(url)}:"
                f" {exc.__cause__ and ' '.join(str(exc.__cause__).split())}"
            ) from exc

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN")


def shown_url(url: str) -> str:
    """The database URL as it can be shown on a screen or in a log: a password
    given as user:password@ or as password= is hidden."""
    hidden = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
    return re.sub(r"(?i)\b(password=)[^&\s]*", r"\1***", hidden)
