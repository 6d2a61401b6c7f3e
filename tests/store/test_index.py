"""Search and similar cases with the real embedding model and real SQLite FTS5."""

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from edgebox.config import IndexConfig
from edgebox.search.embed import Embedder, EmbeddingError
from edgebox.search.index import SearchError, SearchIndex
from edgebox.store import DocState, Store
from edgebox.store.filters import DocumentFilter
from tests.support.processes import run_cli

DOCS = {
    "fievre.txt": (
        "Enfant de 3 ans, fièvre élevée depuis deux jours, toux.",
        "intake_note",
        "urgent",
    ),
    "chest.txt": (
        "54-year-old man with central chest pain and sweating.",
        "referral",
        "urgent",
    ),
    "malaria.txt": (
        "Malaria rapid test positive, haemoglobin 10.8 g/dL.",
        "lab_result",
        "routine",
    ),
    "fracture.txt": (
        "X-ray: fracture of the left radius, no displacement.",
        "imaging_report",
        "routine",
    ),
    "chest2.txt": (
        "Crushing chest pain radiating to the arm for one hour.",
        "referral",
        "emergency",
    ),
}


def result(category: str, urgency: str, summary: str = "") -> dict:
    return {"category": category, "urgency": urgency, "summary": summary,
            "fields": {"patient_ref": "P-1"}, "needs_review": False}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "edgebox.db") as opened:
        yield opened


@pytest.fixture
def index(store: Store, embedder: Embedder) -> SearchIndex:
    return SearchIndex(store, embedder, IndexConfig())


def add(store: Store, index: SearchIndex, name: str, text: str, category: str,
        urgency: str) -> int:  # fmt: skip
    doc = store.add_document(file_name=name, sha256=name.ljust(64, "0"), size=len(text))
    store.set_state(doc, DocState.EXTRACTED, text=text)
    record = result(category, urgency)
    chunks = index.embed_document(file_name=name, text=text, triage=record)
    store.record_triage(doc, record, chunks=chunks)
    return doc


@pytest.fixture
def corpus(store: Store, index: SearchIndex) -> dict[str, int]:
    return {name: add(store, index, name, *values) for name, values in DOCS.items()}


def test_a_french_query_without_accents_finds_the_accented_text(
    index: SearchIndex, corpus: dict[str, int]
) -> None:
    hits = index.search("fievre elevee")
    assert hits[0].document_id == corpus["fievre.txt"]
    assert "[fièvre]" in hits[0].snippet


def test_meaning_finds_what_words_miss(
    index: SearchIndex, corpus: dict[str, int]
) -> None:
    hits = index.search("cardiac pain in the thorax")
    assert {hit.document_id for hit in hits[:2]} == {
        corpus["chest.txt"],
        corpus["chest2.txt"],
    }


def test_a_word_in_too_many_documents_is_left_to_the_embedding(
    index: SearchIndex, corpus: dict[str, int]
) -> None:
    # "chest" is in two documents: above a cut-off of one, it is not ranked by
    # full text (at 100k documents that ranking is what made search slow).
    index.common_matches = 1
    assert index._fts(["chest"], 10) == []
    assert [hit for hit, _, _ in index._fts(["chest", "crushing"], 10)] == [
        corpus["chest2.txt"]
    ]
    hits = index.search("chest pain")
    assert {hit.document_id for hit in hits[:2]} == {
        corpus["chest.txt"],
        corpus["chest2.txt"],
    }  # the embedding still finds them
    index.common_matches = 2
    assert len(index._fts(["chest"], 10)) == 2


def test_hits_carry_their_triage(index: SearchIndex, corpus: dict[str, int]) -> None:
    (hit, *_) = index.search("malaria")
    assert (hit.file, hit.category, hit.urgency, hit.state) == (
        "malaria.txt", "lab_result", "routine", "triaged",
    )  # fmt: skip
    assert hit.score > 0


def test_filters(index: SearchIndex, corpus: dict[str, int]) -> None:
    hits = index.search("chest pain", filters=DocumentFilter(urgency="emergency"))
    assert [hit.document_id for hit in hits] == [corpus["chest2.txt"]]
    hits = index.search("chest pain", filters=DocumentFilter(category="lab_result"))
    assert hits == []
    assert index.search("chest pain", filters=DocumentFilter(since="2999-01-01")) == []
    assert index.search("chest pain", filters=DocumentFilter(until="2999-01-01"))


@pytest.mark.parametrize("query", ["", "   ", "?!", "---", '"', "*"])
def test_a_query_without_words_gets_a_clear_message(
    index: SearchIndex, query: str
) -> None:
    with pytest.raises(SearchError, match="type one or more words"):
        index.search(query)


@pytest.mark.parametrize(
    "query", ['"chest', "chest*", "NEAR(chest", "-chest", "chest OR"]
)
def test_fts5_syntax_in_a_query_is_just_text(
    index: SearchIndex, corpus: dict[str, int], query: str
) -> None:
    hits = index.search(query)
    assert hits[0].document_id in (corpus["chest.txt"], corpus["chest2.txt"])


def test_a_document_without_text_is_found_by_its_name_and_fields(
    store: Store, index: SearchIndex
) -> None:
    doc = store.add_document(file_name="scan_kouri_0042.png", sha256="e" * 64, size=9)
    store.set_state(doc, DocState.EXTRACTED, text="")
    record = result("referral", "urgent", summary="blank scan")
    name, chunks = index.embed_document(file_name="scan_kouri_0042.png", text="",
                                        triage=record)  # fmt: skip
    assert len(chunks) == 1
    store.record_triage(doc, record, chunks=(name, chunks))
    assert [hit.document_id for hit in index.search("kouri")] == [doc]
    assert [hit.document_id for hit in index.search("P-1")] == [doc]


def test_a_long_document_is_embedded_in_several_chunks(index: SearchIndex) -> None:
    text = "The patient walked to the clinic. " * 200
    _, chunks = index.embed_document(file_name="long.txt", text=text)
    assert len(chunks) > 3
    assert chunks[0].start == 0 and chunks[-1].end == len(text.rstrip())
    vector = np.frombuffer(chunks[0].vector, dtype=np.float32)
    assert vector.shape == (384,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)


def test_similar_puts_reviewed_cases_first_with_their_labels(
    store: Store, index: SearchIndex, corpus: dict[str, int]
) -> None:
    store.record_review(corpus["chest.txt"], reviewer="nurse",
                        changes={"urgency": "emergency"})  # fmt: skip
    hits = index.similar(corpus["chest2.txt"], limit=3)
    assert hits[0].document_id == corpus["chest.txt"]
    assert (hits[0].reviewed, hits[0].urgency) == (True, "emergency")
    assert corpus["chest2.txt"] not in [hit.document_id for hit in hits]
    # A reviewed case about something else is not "similar" at all.
    store.record_review(corpus["malaria.txt"], reviewer="nurse", changes={})
    near = {hit.document_id: hit for hit in index.similar(corpus["chest2.txt"])}
    assert corpus["malaria.txt"] not in near
    assert all(hit.score >= 0.25 for hit in near.values())


def test_vectors_are_written_in_the_triage_transaction(
    store: Store, index: SearchIndex
) -> None:
    doc = store.add_document(file_name="a.txt", sha256="a" * 64, size=1)
    store.set_state(doc, DocState.EXTRACTED, text="chest pain")
    store.db.execute(  # fault injector: writing the vectors fails
        "CREATE TRIGGER fail_chunks BEFORE INSERT ON chunks "
        "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
    )
    chunks = index.embed_document(file_name="a.txt", text="chest pain")
    with pytest.raises(sqlite3.IntegrityError):
        store.record_triage(doc, result("referral", "urgent"), chunks=chunks)
    assert store.revisions(doc) == []
    assert store.outbox_counts()["pending"] == 0


class StopAfter:
    """Fault injector: interrupts a reindex after `count` documents."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __call__(self, done: int, total: int) -> None:
        if done == self.count:
            raise KeyboardInterrupt


def test_reindex_after_a_model_change_is_resumable(
    store: Store, index: SearchIndex, corpus: dict[str, int]
) -> None:
    for doc in corpus.values():  # as if written by an older model
        store.db.execute(
            "UPDATE chunks SET model = 'old-model@1' WHERE document_id = ?", [doc]
        )
    assert store.count_to_index(index.embedder.name) == len(corpus)
    with pytest.raises(KeyboardInterrupt):
        index.reindex(progress=StopAfter(2))
    assert store.count_to_index(index.embedder.name) == len(corpus) - 2
    assert index.reindex() == len(corpus) - 2
    models = {row[0] for row in store.db.conn.execute("SELECT model FROM chunks")}
    assert models == {index.embedder.name}
    assert index.search("malaria")[0].document_id == corpus["malaria.txt"]


def test_an_unknown_model_is_named() -> None:
    with pytest.raises(EmbeddingError, match="no-such-model"):
        Embedder("no-such-model")


@pytest.mark.slow
def test_search_and_similar_from_the_cli(
    edgebox_home: Path, embedder: Embedder
) -> None:
    from edgebox import config

    settings = config.load()
    with Store(settings.db_path) as store:
        index = SearchIndex(store, embedder, settings.index)
        ids = {name: add(store, index, name, *values) for name, values in DOCS.items()}
    found = run_cli("search", "chest pain", "--json", "--limit", "2")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert {"document_id", "file", "score", "category", "urgency", "snippet"} <= hits[
        0
    ].keys()
    assert {hit["file"] for hit in hits} == {"chest.txt", "chest2.txt"}
    near = run_cli("similar", str(ids["chest.txt"]), "--json")
    assert json.loads(near.stdout)[0]["file"] == "chest2.txt"
    bad = run_cli("search", "--", "-")
    assert bad.returncode == 1 and "type one or more words" in bad.stderr
    unknown = run_cli("similar", "9999")
    assert unknown.returncode == 1 and "no document with id 9999" in unknown.stderr
    with Store(settings.db_path) as store:
        waiting = store.add_document(file_name="new.txt", sha256="e" * 64, size=1)
    early = run_cli("similar", str(waiting))
    assert early.returncode == 1
    assert f"document {waiting} is received: only a triaged document" in early.stderr
    # A mistyped filter is said, not answered with an empty list.
    for args, words in (
        (["--since", "yesterday"], "'yesterday' is not a date like 2026-11-29"),
        (["--state", "reviewd"], "'reviewd' is not one of"),
        (["--category", "radiology"], "'radiology' is not a category of this box"),
    ):
        wrong = run_cli("search", "chest pain", *args)
        assert wrong.returncode == 2 and words in wrong.stderr, wrong.stderr


def test_filters_reach_past_the_best_hits_of_the_whole_store(
    store: Store, index: SearchIndex
) -> None:
    """Sixty routine notes about chest pain outrank the one emergency that
    mentions it in passing; filtered on emergencies, the search still finds it."""
    for n in range(60):
        add(store, index, f"routine{n}.txt", f"Chest pain, chest pain review {n}.",
            "referral", "routine")  # fmt: skip
    wanted = add(
        store, index, "long.txt",
        "Home visit. Goats, maize harvest, school fees and the well discussed at"
        " length; the roof leaks. In passing: chest pain last week. Water tank,"
        " bicycle repair and the market day also discussed.",
        "intake_note", "emergency",
    )  # fmt: skip
    unfiltered = [hit.document_id for hit in index.search("chest pain", limit=10)]
    assert wanted not in unfiltered  # the premise: it is far down the ranking
    hits = index.search("chest pain", filters=DocumentFilter(urgency="emergency"))
    assert [hit.document_id for hit in hits] == [wanted]
