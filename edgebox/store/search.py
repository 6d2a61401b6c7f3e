"""Search queries: chunk vectors, the FTS5 table and the word search the UI runs
before the embedding model has loaded (mixed into Store)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from edgebox.store.base import StoreBase
from edgebox.store.filters import DocumentFilter
from edgebox.store.latest import DOCUMENTS_WITH_LATEST, join_latest

_WORD = re.compile(r"\w+", re.UNICODE)
COMMON_MATCHES = 5_000
"""Full text does not rank a word (or query) matching more documents than
this: ranking that many matches costs more than the latency goal allows
(docs/benchmarks.md). Hybrid search leaves such words to the embedding;
word-only search lists the newest matches."""


def words_of(query: str) -> list[str]:
    """The words of a query as full-text search takes them."""
    return _WORD.findall(query)


@dataclass(frozen=True)
class Chunk:
    """One embedded span of a document's text."""

    start: int
    end: int
    vector: bytes


def replace_chunks(
    db: Database, doc_id: int, model: str, chunks: Sequence[Chunk]
) -> None:
    """Replace a document's vectors for one embedding model (inside the
    caller's transaction)."""
    db.execute(
        "DELETE FROM chunks WHERE document_id = ? AND model = ?", [doc_id, model]
    )
    db.conn.executemany(
        "INSERT INTO chunks (document_id, model, chunk_no, start, end, vector)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(doc_id, model, no, c.start, c.end, c.vector) for no, c in enumerate(chunks)],
    )


def refresh_fts(db: Database, doc_id: int) -> None:
    """Rewrite a document's full-text row from its current name, text and
    latest triage (called inside the transaction that changed them)."""
    row = next(
        db.query(
            "SELECT d.file_name, d.text, t.summary, t.fields"
            f" {DOCUMENTS_WITH_LATEST} WHERE d.id = ?",
            [doc_id],
        ),
        None,
    )
    if row is None:
        return
    fields = " ".join(str(v) for v in json.loads(row["fields"] or "{}").values())
    db.execute("DELETE FROM documents_fts WHERE rowid = ?", [doc_id])
    db.execute(
        "INSERT INTO documents_fts (rowid, file_name, text, summary, fields)"
        " VALUES (?, ?, ?, ?, ?)",
        [doc_id, row["file_name"], row["text"] or "", row["summary"] or "", fields],
    )


class SearchQueries(StoreBase):
    """Mixed into `Store`."""

    def write_chunks(self, doc_id: int, model: str, chunks: Sequence[Chunk]) -> None:
        """Replace a document's vectors for one embedding model."""
        with self.atomic():
            replace_chunks(self.db, doc_id, model, chunks)

    def chunks_after(
        self, model: str, after_id: int, *, limit: int = 50_000
    ) -> list[tuple[int, int, bytes]]:
        """(chunk id, document id, vector) for one model, in id order."""
        return self.db.conn.execute(
            "SELECT id, document_id, vector FROM chunks WHERE model = ? AND id > ?"
            " ORDER BY id LIMIT ?",
            [model, after_id, limit],
        ).fetchall()

    def count_chunks_upto(self, model: str, chunk_id: int) -> int:
        """Chunks of one model with an id up to `chunk_id`: fewer than a cache
        holds means a reindex replaced some."""
        row = self.db.conn.execute(
            "SELECT COUNT(*) FROM chunks WHERE model = ? AND id <= ?", [model, chunk_id]
        ).fetchone()
        return int(row[0])

    def chunk_span(self, chunk_id: int) -> tuple[int, int, int] | None:
        """(document id, start, end) of one chunk."""
        return self.db.conn.execute(
            "SELECT document_id, start, end FROM chunks WHERE id = ?", [chunk_id]
        ).fetchone()

    def documents_to_index(
        self, model: str, *, limit: int = 64
    ) -> list[dict[str, Any]]:
        """Triaged or reviewed documents that have no vectors from this model."""
        return list(
            self.db.query(
                """SELECT d.id, d.file_name, d.text FROM documents d
                WHERE d.state IN ('triaged', 'reviewed') AND NOT EXISTS (
                    SELECT 1 FROM chunks c WHERE c.document_id = d.id AND c.model = ?)
                ORDER BY d.id LIMIT ?""",
                [model, limit],
            )
        )

    def count_to_index(self, model: str) -> int:
        row = self.db.conn.execute(
            """SELECT COUNT(*) FROM documents d
            WHERE d.state IN ('triaged', 'reviewed') AND NOT EXISTS (
                SELECT 1 FROM chunks c WHERE c.document_id = d.id AND c.model = ?)""",
            [model],
        ).fetchone()
        return int(row[0])

    def drop_other_models(self, model: str) -> int:
        with self.atomic():
            return self.db.execute(
                "DELETE FROM chunks WHERE model != ?", [model]
            ).rowcount

    def fts_search(
        self, match: str, *, limit: int, within: Collection[int] | None = None
    ) -> list[tuple[int, float, str]]:
        """(document id, bm25 rank, snippet) for an FTS5 MATCH expression, among
        the documents `within` when given (the filters, applied before the cut)."""
        only = (
            "" if within is None else " AND rowid IN (SELECT value FROM json_each(?))"
        )
        params = [match] + ([] if within is None else [json.dumps(sorted(within))])
        return self.db.conn.execute(
            f"""SELECT rowid, rank,
                      snippet(documents_fts, -1, '[', ']', '…', 12)
            FROM documents_fts WHERE documents_fts MATCH ?{only}
            ORDER BY rank LIMIT ?""",
            [*params, limit],
        ).fetchall()

    def fts_match_count(self, match: str, *, cap: int) -> int:
        """How many documents match, counted up to `cap` + 1 only: cheap even
        for a word in every document (no ranking)."""
        row = self.db.conn.execute(
            "SELECT COUNT(*) FROM (SELECT rowid FROM documents_fts"
            " WHERE documents_fts MATCH ? LIMIT ?)",
            [match, cap + 1],
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
            {join_latest()}
            WHERE documents_fts MATCH ? ORDER BY {order} LIMIT ?""",
            [match, limit],
        ).fetchall()
        names = ("document_id", "snippet", "file_name", "state", "category",
                 "urgency", "author")  # fmt: skip
        return [dict(zip(names, row, strict=True)) for row in rows]

    def search_rows(
        self, doc_ids: Sequence[int], filters: DocumentFilter
    ) -> dict[int, dict[str, Any]]:
        """Documents (with latest triage) among `doc_ids` that pass the filters."""
        if not doc_ids:
            return {}
        where, params = filters.where()
        where = ["d.id IN (SELECT value FROM json_each(?))", *where]
        rows = self.db.query(
            f"""SELECT d.id AS document_id, d.file_name, d.state, d.received_at,
                   d.text, t.category, t.urgency, t.author, t.summary
            {DOCUMENTS_WITH_LATEST}
            WHERE {" AND ".join(where)}""",
            [json.dumps(list(doc_ids)), *params],
        )
        return {row["document_id"]: row for row in rows}

    def filtered_ids(self, filters: DocumentFilter) -> set[int] | None:
        """The documents that pass the filters; None when nothing filters."""
        where, params = filters.where()
        if not where:
            return None
        rows = self.db.conn.execute(
            f"SELECT d.id {DOCUMENTS_WITH_LATEST} WHERE {' AND '.join(where)}",
            params,
        )
        return {row[0] for row in rows}
