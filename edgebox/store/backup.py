"""The store's half of a backup: a consistent copy of edgebox.db taken while
the service writes, and the archived originals a copy names.

SQLite's online backup API copies the pages of one read snapshot, so a copy
taken mid-write holds every committed transaction up to a point and nothing
half done; a plain file copy of a WAL database can hold neither.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from edgebox.errors import StoreError


def copy_database(source: Path, target: Path) -> None:
    """Copy the store at `source` into a new self-contained file `target` (its
    journal in rollback mode: one file, no -wal beside it)."""
    if not source.is_file():
        raise StoreError(f"cannot back up the store {source}: there is no such file")
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        _check_integrity(dst, target)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot copy the store {source} to {target}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def check_copy(path: Path) -> None:
    """Refuse a copy that SQLite does not find whole, naming it."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _check_integrity(conn, path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"the store copy {path} cannot be read: {exc}") from exc
    finally:
        conn.close()


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise StoreError(f"the store copy {path} is damaged: {verdict}")


def holds_nothing(path: Path) -> bool:
    """Whether the store at `path` has no document and no outbox row: the
    empty store `edgebox init` makes, which a restore may replace."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM documents) + (SELECT COUNT(*) FROM outbox)"
        ).fetchone()
    except sqlite3.DatabaseError:
        return False  # not a store edgebox can read: never replaced
    finally:
        conn.close()
    return row[0] == 0


def archived_sha256(path: Path) -> list[str]:
    """The sha256 of every original the store copy at `path` holds in the
    archive: what a backup must carry beside it."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT DISTINCT sha256 FROM documents WHERE archive_path IS NOT NULL"
            " ORDER BY sha256"
        ).fetchall()
    finally:
        conn.close()
    return [row[0] for row in rows]


def move_archive_paths(path: Path, places: dict[str, str]) -> None:
    """Point each document of the store copy at `path` to where its original
    now lies (`places`: sha256 to path), in one transaction: a restored box
    keeps its archive under its own folder, not the old box's."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                "UPDATE documents SET archive_path = ? WHERE sha256 = ?"
                " AND archive_path IS NOT NULL",
                [(place, sha) for sha, place in places.items()],
            )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot update the store copy {path}: {exc}") from exc
    finally:
        conn.close()
