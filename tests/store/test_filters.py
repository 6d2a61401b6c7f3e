"""One filter type: the same filter selects the same documents in the UI's
queue, the CLI's queue, search (store and hybrid index) and `edgebox search`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebox import config
from edgebox.config import IndexConfig
from edgebox.errors import StoreError
from edgebox.search.index import SearchIndex
from edgebox.store import DocState, Store
from edgebox.store.filters import DocumentFilter
from edgebox.tui.snapshots import load_queue
from edgebox.vocabulary import NOT_RATED
from tests.support.processes import run_cli


def result(urgency: str, **changes: object) -> dict:
    return {
        "category": "referral",
        "urgency": urgency,
        "summary": "Seen at the clinic.",
        "needs_review": False,
    } | changes


def seed(store: Store) -> dict[str, int]:
    """One document of each kind a filter must place; every name and text
    has the word "clinic", so a search for it finds them all."""

    def add(name: str, **kwargs: object) -> int:
        sha = str(len(ids)).rjust(64, "0")
        return store.add_document(file_name=name, sha256=sha, size=10, **kwargs)

    def read(name: str) -> int:
        doc = add(name)
        store.set_state(doc, DocState.EXTRACTED, text=f"{name}: clinic visit.")
        return doc

    ids: dict[str, int] = {}
    ids["clinic-received.txt"] = add("clinic-received.txt")
    ids["clinic-scan.png"] = add(
        "clinic-scan.png", state=DocState.QUARANTINED,
        error_code="unreadable", error_message="no text layer",
    )  # fmt: skip
    ids["clinic-copy.txt"] = add(
        "clinic-copy.txt", state=DocState.DUPLICATE, duplicate_of=1
    )
    for name, record in (
        ("clinic-failed.txt", result("unknown", category=None, needs_review=True,
                                     error="triage deadline passed (120 s)")),
        ("clinic-new.txt", result("unknown", category=None, needs_review=True,
                                  provenance={"review_reasons": [NOT_RATED]})),
        ("clinic-routine.txt", result("routine", category="lab_result")),
        ("clinic-urgent.txt", result("urgent", needs_review=True)),
        ("clinic-emergency.txt", result("emergency")),
    ):  # fmt: skip
        ids[name] = read(name)
        store.record_triage(ids[name], record)
    ids["clinic-reviewed.txt"] = read("clinic-reviewed.txt")
    store.record_triage(ids["clinic-reviewed.txt"], result("unknown", error="x"))
    store.record_review(
        ids["clinic-reviewed.txt"], reviewer="amina", changes={"urgency": "urgent"}
    )
    return ids


FILTERS = [
    DocumentFilter(),
    DocumentFilter(urgency="unknown"),
    DocumentFilter(urgency="urgent"),
    DocumentFilter(urgency="emergency"),
    DocumentFilter(urgency="routine"),
    DocumentFilter(state="quarantined"),
    DocumentFilter(state="triaged", urgency="unknown"),
    DocumentFilter(category="referral"),
    DocumentFilter(to_review=True),
    DocumentFilter(to_review=True, urgency="unknown"),
    DocumentFilter(since="2999-01-01"),
]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "edgebox.db") as opened:
        yield opened


def test_unknown_is_every_document_whose_urgency_is_not_known(store: Store) -> None:
    ids = seed(store)
    unknown = {
        ids[name]
        for name in (
            "clinic-received.txt",  # not read yet
            "clinic-scan.png",  # quarantined: maybe an unreadable emergency
            "clinic-copy.txt",  # a duplicate has no result of its own
            "clinic-failed.txt",  # the model failed
            "clinic-new.txt",  # no source could rate it yet
        )
    }
    assert store.filtered_ids(DocumentFilter(urgency="unknown")) == unknown
    # A person's answer replaces the failed one: no longer unknown.
    assert ids["clinic-reviewed.txt"] in store.filtered_ids(
        DocumentFilter(urgency="urgent")
    )


@pytest.mark.parametrize("chosen", FILTERS, ids=repr)
def test_the_ui_queue_the_cli_queue_and_search_select_the_same_documents(
    store: Store, chosen: DocumentFilter
) -> None:
    seed(store)
    ui = {row[0] for row in load_queue(store, chosen, page=1000).rows}
    cli_queue = {row["document_id"] for row in store.queue(chosen, limit=1000)}
    found = store.search_rows(list(range(1, 100)), chosen)
    in_search = store.filtered_ids(chosen)
    assert ui == cli_queue == set(found)
    assert in_search is None or in_search == ui
    assert store.queue_count(chosen) == len(ui)


def test_hybrid_search_and_the_cli_search_select_what_the_queue_shows(
    edgebox_home: Path, embedder: object
) -> None:
    """The search the UI and `edgebox search` run, with the real embedding
    model, against the UI's queue, for "unknown" and for a plain level."""
    settings = config.load()
    with Store(settings.db_path) as store:
        ids = seed(store)
        index = SearchIndex(store, embedder, IndexConfig())
        names = {doc: name for name, doc in ids.items()}
        for urgency in ("unknown", "urgent"):
            chosen = DocumentFilter(urgency=urgency)
            queue = {names[row[0]] for row in load_queue(store, chosen).rows}
            hits = index.search("clinic", limit=100, filters=chosen)
            assert {hit.file for hit in hits} == queue, urgency
            listed = run_cli(
                "search", "clinic", "--urgency", urgency, "--json", "--limit", "100"
            )
            assert listed.returncode == 0, listed.stderr
            assert {hit["file"] for hit in json.loads(listed.stdout)} == queue


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("urgency", "soon", "filter urgency: 'soon' is not one of emergency"),
        ("state", "done", "filter state: 'done' is not one of received"),
        ("since", "yesterday", "filter since: 'yesterday' is not a date"),
    ],
)
def test_a_bad_filter_value_names_the_field(field: str, value: str, words: str) -> None:
    with pytest.raises(StoreError, match=words):
        DocumentFilter(**{field: value})
