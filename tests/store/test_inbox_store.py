"""The store's side of the work inbox (issue 20): the queue sorted by any
column in SQL, narrowed by words and by patient; patients grouped by their
reference; saved filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebox.errors import StoreError
from edgebox.store import Store
from edgebox.store.filters import DocumentFilter
from edgebox.store.patients import Patient, patient_ref_of, patients
from edgebox.store.saved_filters import (
    SavedFilter,
    delete_filter,
    save_filter,
    saved_filters,
)
from edgebox.store.sorting import QueueSort
from tests.support.tui import add_for_patient, seed


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "edgebox.db") as store:
        yield store


@pytest.fixture
def ids(store: Store) -> dict[str, int]:
    return seed(store)


def order(store: Store, column: str, *, reverse: bool = False) -> list[str]:
    rows = store.queue_page(sort=QueueSort(column, reverse))
    return [row["file_name"] for row in rows]


REF, LAB, RX, INTAKE, SCAN = (
    "referral-kibera.txt",
    "lab-malaria.pdf",
    "rx-0042.txt",
    "intake-0311.txt",
    "scan-0007.png",
)


def test_the_default_sort_is_most_urgent_first_then_oldest(
    store: Store, ids: dict[str, int]
) -> None:
    assert order(store, "urgency") == [REF, LAB, SCAN, INTAKE, RX]
    assert [r["file_name"] for r in store.queue_page()] == order(store, "urgency")
    # Reversed: least urgent first, then newest.
    assert order(store, "urgency", reverse=True) == [RX, INTAKE, SCAN, LAB, REF]


def test_the_queue_sorts_by_each_column_either_way(
    store: Store, ids: dict[str, int]
) -> None:
    assert order(store, "received") == [RX, SCAN, LAB, REF, INTAKE]
    assert order(store, "received", reverse=True) == [INTAKE, REF, LAB, SCAN, RX]
    # No category stays last either way; ties in the default order.
    assert order(store, "category") == [LAB, RX, REF, SCAN, INTAKE]
    assert order(store, "category", reverse=True) == [REF, RX, LAB, SCAN, INTAKE]
    # As shown: the summary, else the error, else the file name; any case.
    assert order(store, "summary") == [REF, RX, INTAKE, LAB, SCAN]
    # To review first, then what could not be read, then the rest.
    assert order(store, "state") == [REF, INTAKE, SCAN, LAB, RX]
    assert order(store, "state", reverse=True) == [LAB, RX, SCAN, REF, INTAKE]


def test_a_sort_pages_in_sql_not_within_a_page(
    store: Store, ids: dict[str, int]
) -> None:
    by_date = QueueSort("received", reverse=True)
    pages = [
        [r["file_name"] for r in store.queue_page(sort=by_date, limit=2, offset=at)]
        for at in (0, 2, 4)
    ]
    assert pages == [[INTAKE, REF], [LAB, SCAN], [RX]]


def test_an_unknown_sort_column_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="not 'colour'"):
        QueueSort("colour")


def test_words_and_a_patient_narrow_the_queue_and_its_count(
    store: Store, ids: dict[str, int]
) -> None:
    def files(**narrow: str) -> list[str]:
        return [r["file_name"] for r in store.queue_page(**narrow)]

    assert files(words="malaria") == [LAB]
    assert files(words="amoxicillin DAYS") == [RX]  # every word, any case
    assert files(words="amoxicillin malaria") == []
    assert files(words='" ( *') == files()  # no word: no narrowing
    assert files(words="NEAR(malaria") == []  # words, never FTS syntax
    assert files(patient=" ke-4471 ") == [REF]
    assert store.queue_count(words="malaria") == 1
    assert store.queue_count(DocumentFilter(urgency="urgent"), words="amoxicillin") == 0
    assert store.queue_count(patient="RX-0042") == 1


def test_patients_are_grouped_by_reference_most_urgent_first(
    store: Store, ids: dict[str, int]
) -> None:
    again = add_for_patient(store, "ke-4471 ", "routine", True)
    listed = patients(store.db)
    assert [(p.ref, p.documents, p.to_review, p.urgency) for p in listed] == [
        ("KE-4471", 2, 2, "emergency"),
        ("LB-2231", 1, 0, "urgent"),
        ("RX-0042", 1, 0, "routine"),
    ]
    assert listed[0].last_received > "2025"  # the follow-up, received now
    assert patient_ref_of(store.db, again) == "ke-4471"
    assert patient_ref_of(store.db, ids[INTAKE]) is None
    assert [r["file_name"] for r in store.queue_page(patient="KE-4471")] == [
        REF,
        "ke-4471 .txt",
    ]


def test_the_patient_search_takes_any_part_of_the_reference_literally(
    store: Store, ids: dict[str, int]
) -> None:
    def found(search: str) -> list[str]:
        return [p.ref for p in patients(store.db, search=search)]

    assert found("42") == ["RX-0042"]
    assert found("lb-") == ["LB-2231"]
    assert found("_") == [] and found("%") == []  # not LIKE's wildcards
    assert found("") == ["KE-4471", "LB-2231", "RX-0042"]
    assert isinstance(patients(store.db, limit=1)[0], Patient)


def test_a_saved_filter_comes_back_as_saved_and_a_name_is_replaced(
    store: Store,
) -> None:
    emergencies = SavedFilter(
        "Emergencies", urgency="emergency", to_review=True, sort="received",
        reverse=True,
    )  # fmt: skip
    assert save_filter(store, emergencies, by="amina") == "Emergencies"
    save_filter(store, SavedFilter("  malaria  labs ", words="malaria"), by=None)
    assert saved_filters(store.db) == [
        emergencies,
        SavedFilter("malaria labs", words="malaria"),
    ]
    save_filter(store, SavedFilter("EMERGENCIES", urgency="urgent"), by="bob")
    assert [f.name for f in saved_filters(store.db)] == ["EMERGENCIES", "malaria labs"]
    assert saved_filters(store.db)[0].urgency == "urgent"
    assert delete_filter(store, "malaria LABS") is True
    assert delete_filter(store, "malaria labs") is False
    assert [f.name for f in saved_filters(store.db)] == ["EMERGENCIES"]


def test_a_bad_saved_filter_names_the_filter_and_the_key(store: Store) -> None:
    with pytest.raises(StoreError, match="cannot name a filter"):
        save_filter(store, SavedFilter(" "), by=None)
    store.db.execute(
        "INSERT INTO saved_filters (name, filter, saved_at) VALUES (?, ?, ?)",
        ["by hand", '{"sort": "colour"}', "2025-03-04"],
    )
    with pytest.raises(StoreError, match="'by hand': sort must be one of"):
        saved_filters(store.db)
    store.db.execute("UPDATE saved_filters SET filter = '{\"to_review\": 1}'")
    with pytest.raises(StoreError, match="to_review must be true or false"):
        saved_filters(store.db)
    store.db.execute("UPDATE saved_filters SET filter = 'nope'")
    with pytest.raises(StoreError, match="'by hand' is not JSON"):
        saved_filters(store.db)
