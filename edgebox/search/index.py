"""Search: SQLite FTS5 and embedding vectors, fused by reciprocal rank.

Vectors are searched in-process: they are loaded once from the store into one
float32 matrix (then topped up with new chunks), and a query is one
matrix-vector product. This Python's sqlite3 cannot load extensions, so
sqlite-vec would need another SQLite build; at the scale of one clinic (10k to
100k documents) the matrix answers well within the latency goal, measured by
`scripts/bench` (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from edgebox.config import IndexConfig
from edgebox.errors import EdgeboxError
from edgebox.search.embed import Embedder
from edgebox.store import Store
from edgebox.store.filters import DocumentFilter
from edgebox.store.search import COMMON_MATCHES, Chunk

RRF_K = 60
# Below this cosine a neighbour is noise, not a match: without a floor every
# search would return every document through its vector.
MIN_SIMILARITY = 0.25
_WORD = re.compile(r"\w+", re.UNICODE)


class SearchError(EdgeboxError):
    title = "search error"


@dataclass(frozen=True)
class Hit:
    document_id: int
    file: str
    score: float
    category: str | None
    urgency: str | None
    state: str
    snippet: str
    reviewed: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def _blas() -> Any:
    """numpy's BLAS, found once numpy is loaded (threadpoolctl)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class VectorMatrix:
    """Every chunk vector of one model, in memory, topped up incrementally."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.chunk_ids = np.zeros(0, dtype=np.int64)
        self.doc_ids = np.zeros(0, dtype=np.int64)
        self.vectors = np.zeros((0, 0), dtype=np.float32)

    def refresh(self, store: Store) -> None:
        cached = len(self.chunk_ids)
        if (
            cached
            and store.count_chunks_upto(self.model, int(self.chunk_ids[-1])) != cached
        ):
            self.__init__(self.model)  # a reindex replaced vectors: start over
        last = int(self.chunk_ids[-1]) if len(self.chunk_ids) else 0
        while rows := store.chunks_after(self.model, last):
            ids, docs, blobs = zip(*rows, strict=True)
            block = np.frombuffer(b"".join(blobs), dtype=np.float32)
            block = block.reshape(len(rows), -1)
            self.chunk_ids = np.concatenate([self.chunk_ids, np.array(ids)])
            self.doc_ids = np.concatenate([self.doc_ids, np.array(docs)])
            self.vectors = (
                block if not self.vectors.size else np.vstack([self.vectors, block])
            )
            last = int(ids[-1])

    def nearest(
        self,
        query: np.ndarray,
        *,
        limit: int,
        within: Collection[int] | None = None,
    ) -> list[tuple[int, float, int]]:
        """(document id, cosine, best chunk id), best first, one per document;
        only documents `within` when given."""
        if not len(self.chunk_ids):
            return []
        # One BLAS thread: numpy's threads spin after a product, and on a small
        # box they then starve the query embedding of the next search (the p95
        # with and without them: docs/benchmarks.md).
        with _blas().limit(limits=1, user_api="blas"):
            scores = self.vectors @ query
        if within is not None:
            keep = np.isin(self.doc_ids, np.fromiter(within, dtype=np.int64))
            scores = np.where(keep, scores, -np.inf)
        # Sorting every score costs more than the product itself at 100k chunks:
        # sort only the best few, widening if chunks of the same documents fill it.
        wanted = min(len(scores), limit * 8)
        if wanted < len(scores):
            top = np.argpartition(-scores, wanted)[:wanted]
            order = top[np.argsort(-scores[top])]
            if len(set(self.doc_ids[order].tolist())) < limit:
                order = np.argsort(-scores)
        else:
            order = np.argsort(-scores)
        seen: dict[int, tuple[int, float, int]] = {}
        for index in order:
            if scores[index] == -np.inf:
                break  # only documents outside `within` are left
            doc = int(self.doc_ids[index])
            if doc not in seen:
                seen[doc] = (doc, float(scores[index]), int(self.chunk_ids[index]))
                if len(seen) == limit:
                    break
        return list(seen.values())

    def document_vector(self, doc_id: int) -> np.ndarray | None:
        rows = self.vectors[self.doc_ids == doc_id]
        if not len(rows):
            return None
        mean = rows.mean(axis=0)
        return mean / (np.linalg.norm(mean) or 1.0)

    @property
    def nbytes(self) -> int:
        return self.vectors.nbytes + self.chunk_ids.nbytes + self.doc_ids.nbytes


class SearchIndex:
    def __init__(self, store: Store, embedder: Embedder, settings: IndexConfig) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.matrix = VectorMatrix(embedder.name)
        self.common_matches = COMMON_MATCHES

    def embed_document(
        self, *, file_name: str, text: str, triage: dict[str, Any] | None = None
    ) -> tuple[str, list[Chunk]]:
        """Chunks and vectors for a document; a document without text is
        embedded by its name, summary and fields."""
        (chunks,) = self.embed_documents([(file_name, text, triage)])
        return self.embedder.name, chunks

    def embed_documents(
        self, documents: list[tuple[str, str, dict[str, Any] | None]]
    ) -> list[list[Chunk]]:
        """Chunks of several (file name, text, triage) documents, embedded in
        shared batches."""
        spans = [self._spans(name, text, triage) for name, text, triage in documents]
        flat = [span for doc_spans in spans for span in doc_spans]
        vectors = iter(self.embedder.encode([span[2] for span in flat]))
        return [
            [Chunk(start, end, next(vectors).tobytes()) for start, end, _ in doc_spans]
            for doc_spans in spans
        ]

    def _spans(
        self, file_name: str, text: str, triage: dict[str, Any] | None
    ) -> list[tuple[int, int, str]]:
        if text.strip():
            settings = self.settings
            return [
                (span.start, span.end, span.text)
                for span in self.embedder.chunks(
                    text, size=settings.chunk_tokens, overlap=settings.chunk_overlap
                )
            ]
        triage = triage or {}
        fields = " ".join(str(v) for v in (triage.get("fields") or {}).values())
        label = " ".join(filter(None, [file_name, triage.get("summary"), fields]))
        return [(0, 0, label)]

    def search(
        self, query: str, *, limit: int = 10, filters: DocumentFilter | None = None
    ) -> list[Hit]:
        """Hybrid search: FTS5 and vector ranks fused by reciprocal rank."""
        words = _WORD.findall(query)
        if not words:
            raise SearchError(
                f"nothing to search for in {query!r}: type one or more words"
            )
        pool = max(50, limit * 5)
        # Filters narrow both rankings before their cut: applied afterwards, a
        # filter would only see the first `pool` hits of the whole store.
        within = self.store.filtered_ids(filters or DocumentFilter())
        lexical = self._fts(words, pool, within)
        self.matrix.refresh(self.store)
        semantic = [
            near
            for near in self.matrix.nearest(
                self.embedder.encode([query])[0], limit=pool, within=within
            )
            if near[1] >= MIN_SIMILARITY
        ]
        scores: dict[int, float] = {}
        for rank, doc in enumerate(d for d, _, _ in lexical):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, doc in enumerate(d for d, _, _ in semantic):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (RRF_K + rank + 1)
        snippets = {doc: snippet for doc, _, snippet in lexical}
        best_chunk = {doc: chunk for doc, _, chunk in semantic}
        rows = self.store.search_rows(list(scores), filters or DocumentFilter())
        ranked = sorted(rows, key=lambda doc: -scores[doc])[:limit]
        return [
            self._hit(rows[doc], scores[doc], snippets.get(doc), best_chunk.get(doc))
            for doc in ranked
        ]

    def similar(self, doc_id: int, *, limit: int = 10) -> list[Hit]:
        """The nearest documents, reviewed ones (with confirmed labels) first."""
        self.matrix.refresh(self.store)
        vector = self.matrix.document_vector(doc_id)
        if vector is None:
            state = self.store.document(doc_id)["state"]
            if state not in ("triaged", "reviewed"):
                # Only triaged documents are embedded: reindex would not help.
                raise SearchError(
                    f"document {doc_id} is {state}: only a triaged document has"
                    " similar cases"
                )
            raise SearchError(
                f"document {doc_id} is not indexed yet (run `edgebox reindex`)"
            )
        # The same floor as search: an unrelated reviewed case must not come
        # before a close unreviewed one just because it is reviewed.
        near = [
            n
            for n in self.matrix.nearest(vector, limit=limit * 4 + 1)
            if n[0] != doc_id and n[1] >= MIN_SIMILARITY
        ]
        rows = self.store.search_rows([doc for doc, _, _ in near], DocumentFilter())
        hits = [self._hit(rows[doc], score, None, chunk) for doc, score, chunk in near
                if doc in rows]  # fmt: skip
        hits.sort(key=lambda hit: (not hit.reviewed, -hit.score))
        return hits[:limit]

    def reindex(self, *, progress: Callable[[int, int], None] | None = None) -> int:
        """Embed every triaged document that lacks vectors from the current
        model; resumable (done documents are skipped), then drop old vectors."""
        model = self.embedder.name
        total, done = self.store.count_to_index(model), 0
        size = self.settings.batch_size
        while batch := self.store.documents_to_index(model, limit=size):
            embedded = self.embed_documents(
                [
                    (
                        d["file_name"],
                        d["text"] or "",
                        self.store.latest_revision(d["id"]),
                    )
                    for d in batch
                ]
            )
            for doc, chunks in zip(batch, embedded, strict=True):
                self.store.write_chunks(doc["id"], model, chunks)
                done += 1
                if progress:
                    progress(done, total)
        self.store.drop_other_models(model)
        return done

    def _fts(
        self, words: list[str], limit: int, within: Collection[int] | None = None
    ) -> list[tuple[int, float, str]]:
        # Each word quoted: FTS5 syntax in a query ("NEAR(", "*", "-") is text.
        quoted = [f'"{word}"' for word in words]
        # Ranking every document that has a very common word costs more than
        # the rest of the search together and tells little: such words are
        # left to the embedding half.
        selective = [
            word
            for word in quoted
            if self.store.fts_match_count(word, cap=self.common_matches)
            <= self.common_matches
        ]
        if not selective:
            return []
        hits = self.store.fts_search(" ".join(selective), limit=limit, within=within)
        return hits or self.store.fts_search(
            " OR ".join(selective), limit=limit, within=within
        )

    def _hit(
        self, row: dict[str, Any], score: float, snippet: str | None, chunk: int | None
    ) -> Hit:
        if snippet is None:
            snippet = self._chunk_text(row, chunk)
        return Hit(
            document_id=row["document_id"],
            file=row["file_name"],
            score=round(score, 5),
            category=row["category"],
            urgency=row["urgency"],
            state=row["state"],
            snippet=" ".join(snippet.split())[:200],
            reviewed=str(row["author"] or "").startswith("staff:"),
        )

    def _chunk_text(self, row: dict[str, Any], chunk: int | None) -> str:
        span = self.store.chunk_span(chunk) if chunk is not None else None
        text = row["text"] or row["summary"] or ""
        if span is None or span[2] <= span[1]:
            return text[:200]
        return text[span[1] : span[2]][:200]


def hits_json(hits: list[Hit]) -> str:
    return json.dumps([hit.to_json() for hit in hits], ensure_ascii=False, indent=2)
