"""Queries the terminal UI needs: filtered queue pages, undo, read-only access.

Kept apart from `core` so that the UI's needs grow in one place; all SQL still
lives in the store package.

Undo is append-only: it writes a new revision that copies the revision in
effect before the undone change, and never deletes one. The copy keeps the
author of the values it restores, so undoing a confirmation returns the
document to the AI's answer (state triaged, not a staff label), and
`training_examples` and `override_stats` see exactly what a person decided.
Who undid what is in the revision's provenance (`undo`) and in the audit row.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from sqlite_utils import Database

from edgebox.errors import StoreError
from edgebox.store.schema import QUEUE_ORDER, refuse_a_foreign_database, where_set
from edgebox.store.search import COMMON_MATCHES

_WORD = re.compile(r"\w+", re.UNICODE)


STAFF_URGENCIES = ("emergency", "urgent", "routine")
"""What a person may choose; "unknown" is only ever the AI failing."""

_QUEUE_FROM = """FROM documents d
            LEFT JOIN triage_revisions t ON t.document_id = d.id AND t.revision = (
                SELECT MAX(revision) FROM triage_revisions WHERE document_id = d.id)"""


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows; None means any."""

    state: str | None = None
    category: str | None = None
    urgency: str | None = None


@dataclass(frozen=True)
class UndoPlan:
    """The revision an undo takes back and the one whose values it restores."""

    undone: dict[str, Any]
    restored: dict[str, Any]


class QueueQueries:
    """Mixed into `Store`."""

    db: Database
    path: Path
    revisions: Callable[[int], list[dict[str, Any]]]  # provided by Store
    record_triage: Callable[..., int]  # provided by Store

    # -- opening -------------------------------------------------------------

    @classmethod
    def open_read_only(cls, path: Path, *, timeout: float = 2.0) -> Self:
        """A connection that can only read (a read-only file or folder): no
        migrations, no WAL switch; every write fails."""
        store = cls.__new__(cls)
        store.path = path
        store.db = Database(_read_only_connection(path, timeout))
        try:
            refuse_a_foreign_database(store.db, path)
        except BaseException:
            store.db.close()
            raise
        return store

    def wait_for_locks(self, seconds: float) -> None:
        """How long a write waits for another writer before it fails."""
        self.db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def data_version(self) -> int:
        """Changes when another connection commits: a cheap 'anything new?'."""
        return int(self.db.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- the queue -------------------------------------------------------------

    def queue_page(
        self, filters: QueueFilter | None = None, *, limit: int = 500, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Documents with their latest result that pass the filters, most urgent
        first (no result sorts as unknown), then oldest; `offset` pages on."""
        clause, params = _queue_where(filters or QueueFilter())
        rows = self.db.query(
            f"""
            SELECT d.id AS document_id, d.file_name, d.state, d.received_at,
                   d.updated_at, d.error_code, d.error_message, t.revision,
                   t.author, t.category, COALESCE(t.urgency, 'unknown') AS urgency,
                   t.summary, t.needs_review
            {_QUEUE_FROM}
            {clause}
            ORDER BY {QUEUE_ORDER}
            LIMIT ? OFFSET ?""",
            [*params, limit, offset],
        )
        return [row | {"needs_review": bool(row["needs_review"])} for row in rows]

    def queue_count(self, filters: QueueFilter | None = None) -> int:
        """How many documents pass the filters: what a page leaves out."""
        clause, params = _queue_where(filters or QueueFilter())
        row = self.db.conn.execute(
            f"SELECT COUNT(*) {_QUEUE_FROM} {clause}", params
        ).fetchone()
        return int(row[0])

    def text_search(
        self, query: str, *, limit: int = 50, common: int | None = COMMON_MATCHES
    ) -> list[dict[str, Any]]:
        """Full-text hits only (no embedding model): every word, else any word.
        Snippets mark each matched word as `[word]`, as the hybrid search does.

        Best match first. Ranking more than `common` matches (a word in nearly
        every note) would stall the UI: such a query lists the newest matches,
        and the any-word fallback leaves such words out, so "falciparum
        patient" still ranks the falciparum notes. `common=None` ranks all."""
        words = [f'"{word}"' for word in _WORD.findall(query)]
        if not words:
            return []

        def too_many(match: str) -> bool:
            return (
                common is not None and self.fts_match_count(match, cap=common) > common
            )

        every = " ".join(words)
        if hits := self._fts(every, limit, ranked=not too_many(every)):
            return hits
        selective = [word for word in words if not too_many(word)]
        if selective:
            return self._fts(" OR ".join(selective), limit, ranked=True)
        return self._fts(" OR ".join(words), limit, ranked=False)

    def _fts(self, match: str, limit: int, *, ranked: bool) -> list[dict[str, Any]]:
        order = "f.rank" if ranked else "f.rowid DESC"
        rows = self.db.conn.execute(
            f"""SELECT f.rowid, snippet(documents_fts, -1, '[', ']', '…', 12),
                      d.file_name, d.state, t.category, t.urgency, t.author
            FROM documents_fts f JOIN documents d ON d.id = f.rowid
            LEFT JOIN triage_revisions t ON t.document_id = d.id AND t.revision = (
                SELECT MAX(revision) FROM triage_revisions WHERE document_id = d.id)
            WHERE documents_fts MATCH ? ORDER BY {order} LIMIT ?""",
            [match, limit],
        ).fetchall()
        names = ("document_id", "snippet", "file_name", "state", "category",
                 "urgency", "author")  # fmt: skip
        return [dict(zip(names, row, strict=True)) for row in rows]

    # -- undo ------------------------------------------------------------------

    def undo_plan(self, doc_id: int) -> UndoPlan | None:
        """What an undo would do now; None when the result in effect is the AI's
        (there is no staff change left to take back)."""
        revisions = {rev["revision"]: rev for rev in self.revisions(doc_id)}
        in_effect: list[int] = []
        for number, rev in revisions.items():
            restores = undo_marker(rev).get("restores")
            if restores in in_effect:
                del in_effect[in_effect.index(restores) + 1 :]
            else:
                in_effect.append(number)
        if len(in_effect) < 2 or not _is_staff(revisions[in_effect[-1]]):
            return None
        return UndoPlan(revisions[in_effect[-1]], revisions[in_effect[-2]])

    def undo_last_change(
        self, doc_id: int, *, actor: str, expected_revision: int | None = None
    ) -> int:
        """Take back the last staff change: a new revision with the values that
        were in effect before it; return its number. `expected_revision` is the
        latest revision the person saw when asked: refused when another came
        since, so that the undo done is the one the question named."""
        with self.atomic():
            revisions = self.revisions(doc_id)
            check_seen(doc_id, revisions[-1] if revisions else None, expected_revision)
            plan = self.undo_plan(doc_id)
            if plan is None:
                raise StoreError(f"document {doc_id} has no staff change to undo")
            restored = dict(plan.restored)
            undo = {
                # Its own number: a later review copies the provenance forward,
                # and that copy must not read as another undo.
                "revision": revisions[-1]["revision"] + 1,
                "undid": plan.undone["revision"],
                "restores": restored["revision"],
                "by": f"staff:{actor}",
            }
            restored["provenance"] = dict(restored["provenance"]) | {"undo": undo}
            if not _is_staff(restored):
                # A person had looked at it and took that back: it must show up
                # for review again, not pass as an answer no one need check.
                restored["needs_review"] = True
            return self.record_triage(
                doc_id,
                restored,
                author=restored["author"],
                audit=(f"staff:{actor}", "undo", undo),
            )


def check_seen(
    doc_id: int, latest: Mapping[str, Any] | None, expected: int | None
) -> None:
    """Refuse a change made on what is no longer the latest revision (another
    session saved meanwhile): optimistic concurrency, checked in the write's
    own transaction. `expected` None: no check (callers that show nothing)."""
    if expected is None or (latest is not None and latest["revision"] == expected):
        return
    now = "no result" if latest is None else _revision_words(latest)
    raise StoreError(
        f"document {doc_id} changed since you opened it (now {now});"
        " nothing was saved: look at it again first",
        title="changed meanwhile",
    )


def check_staff_urgency(doc_id: int, urgency: str) -> None:
    """A person's answer always has an urgency: "unknown" is only ever the AI
    failing, and confirming it would clear the need for review."""
    if urgency not in STAFF_URGENCIES:
        raise StoreError(
            f"document {doc_id}: choose an urgency ({', '.join(STAFF_URGENCIES)});"
            f" {urgency!r} cannot be confirmed"
        )


def _revision_words(rev: Mapping[str, Any]) -> str:
    """How the newer revision is named to the person refused: an undo is the
    undo of whoever did it, not the author whose values it restored."""
    undo = undo_marker(rev)
    who = f"an undo by {undo['by']}" if undo.get("by") else f"by {rev['author']}"
    return (
        f"revision {rev['revision']}, {who}: {rev['urgency']}, {rev['category'] or '-'}"
    )


def undo_marker(revision: Mapping[str, Any]) -> dict[str, Any]:
    """{revision, undid, restores, by} when this revision is an undo, else {}."""
    undo = (revision.get("provenance") or {}).get("undo") or {}
    return undo if undo.get("revision") == revision.get("revision") else {}


def _queue_where(filters: QueueFilter) -> tuple[str, list[Any]]:
    where, params = where_set(
        [
            ("d.state = ?", filters.state),
            ("t.category = ?", filters.category),
            ("COALESCE(t.urgency, 'unknown') = ?", filters.urgency),
        ]
    )
    return (f"WHERE {' AND '.join(where)}" if where else ""), params


def _is_staff(revision: Mapping[str, Any]) -> bool:
    return str(revision["author"]).startswith("staff:")


def _read_only_connection(path: Path, timeout: float) -> sqlite3.Connection:
    """Read-only, then immutable (a WAL file in a folder no one may write to
    cannot get its shared-memory file); the first one that can read wins."""
    if not path.is_file():
        raise StoreError(f"cannot open the store {path}: there is no such file")
    errors = []
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?{flags}",
            uri=True,
            timeout=timeout,
            check_same_thread=False,
        )
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.DatabaseError as exc:
            conn.close()
            errors.append(exc)
            if "not a database" in str(exc) or "locked" in str(exc):
                break
    raise StoreError(f"cannot open the store {path}: {_reason(errors[-1])}")


def check_readable(path: Path, *, timeout: float = 2.0) -> None:
    """Raise a StoreError naming the file when it cannot be read now (not an
    SQLite file, locked by another program, unreadable); a missing file is
    fine: opening the store creates it."""
    if path.exists():
        _read_only_connection(path, timeout).close()


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text:
        return "it is locked by another program; try again in a moment"
    if "not a database" in text:
        return "it is not an edgebox database (not an SQLite file)"
    return text
