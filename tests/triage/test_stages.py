"""The two triage stages in the store: provisional results, the LLM stage's
order, and what it may and may not change (real SQLite)."""

import json
from pathlib import Path

import pytest

from edgebox.errors import StoreError
from edgebox.store import DocState, Store
from tests.support.records import add, ai_result


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "data" / "edgebox.db") as opened:
        yield opened


def extracted(store: Store, sha: str, urgency: str | None, **changes) -> int:
    """A document read, with its fast stage's provisional result (or none)."""
    doc = add(store, name=f"{sha[0]}.txt", sha=sha)
    store.set_state(doc, DocState.EXTRACTED, text="Some letter.")
    if urgency is not None:
        result = ai_result(urgency, summary="", provisional=True, **changes)
        store.record_triage(doc, result)
    return doc


def test_a_provisional_result_leaves_the_document_waiting_for_the_llm(
    store: Store,
) -> None:
    doc = extracted(store, "1" * 64, "emergency")
    assert store.document(doc)["state"] == DocState.EXTRACTED
    (row,) = store.queue()
    assert (row["urgency"], row["provisional"]) == ("emergency", True)
    assert json.loads(store.pending_outbox()[0].payload)["provisional"] is True
    store.record_ai_result(doc, ai_result("emergency"))
    (row,) = store.queue()
    assert (row["state"], row["provisional"]) == ("triaged", False)


def test_the_llm_stage_takes_emergency_unknown_urgent_routine_then_oldest(
    store: Store,
) -> None:
    routine = extracted(store, "1" * 64, "routine")
    urgent = extracted(store, "2" * 64, "urgent")
    unread = extracted(store, "3" * 64, None)
    unknown = extracted(store, "4" * 64, "unknown")
    first_emergency = extracted(store, "5" * 64, "emergency")
    second_emergency = extracted(store, "6" * 64, "emergency")
    order = [row["id"] for row in store.llm_pending(limit=10)]
    assert order == [
        first_emergency,
        second_emergency,
        unread,
        unknown,
        urgent,
        routine,
    ]


def test_a_staff_escalation_moves_a_document_up_the_llm_stage(store: Store) -> None:
    first = extracted(store, "1" * 64, "routine")
    later = extracted(store, "2" * 64, "routine")
    store.record_review(later, reviewer="nurse", changes={"urgency": "emergency"})
    assert [row["id"] for row in store.llm_pending(limit=10)] == [later, first]


def test_the_llm_stage_never_lowers_the_fast_stages_emergency(store: Store) -> None:
    doc = extracted(store, "1" * 64, "emergency", sources={"urgency": "rules"})
    store.record_ai_result(doc, ai_result("routine"))
    latest = store.latest_revision(doc)
    assert (latest["urgency"], latest["sources"]["urgency"]) == ("emergency", "rules")
    assert latest["needs_review"] is True and latest["provisional"] is False


def test_a_review_between_the_stages_is_kept_with_the_ais_opinion_beside_it(
    store: Store,
) -> None:
    doc = extracted(store, "1" * 64, "routine")
    store.record_review(
        doc, reviewer="nurse", changes={"urgency": "urgent"}, note="called the GP"
    )
    assert store.document(doc)["state"] == DocState.REVIEWED
    assert [row["id"] for row in store.llm_pending()] == [doc]
    store.record_ai_result(doc, ai_result("routine", summary="A letter."))
    revisions = store.revisions(doc)
    assert [(r["author"], r["urgency"]) for r in revisions] == [
        ("ai", "routine"),
        ("staff:nurse", "urgent"),
        ("ai", "routine"),
        ("staff:nurse", "urgent"),
    ]
    latest = revisions[-1]
    assert (latest["summary"], latest["note"]) == ("A letter.", "called the GP")
    assert latest["provenance"]["ai_opinion"] == 3
    assert store.document(doc)["state"] == DocState.REVIEWED
    assert store.llm_pending() == []


def test_override_rates_compare_staff_with_the_answer_they_saw(store: Store) -> None:
    # Reviewed on the provisional result: compared with it, not with the
    # LLM's later opinion, which no one was shown when deciding.
    before = extracted(store, "1" * 64, "routine")
    store.record_review(before, reviewer="nurse", changes={})
    store.record_ai_result(before, ai_result("urgent"))
    # Reviewed after the LLM stage: compared with the LLM stage's answer.
    after = extracted(store, "2" * 64, "routine")
    store.record_ai_result(after, ai_result("urgent"))
    store.record_review(after, reviewer="nurse", changes={})
    stats = store.override_stats()
    assert stats["reviewed"] == 2
    assert stats["urgency"]["overridden"] == 0
    assert [e["urgency"] for e in store.training_examples()] == ["routine", "urgent"]


def test_undoing_a_review_made_before_the_llm_stage_waits_for_it_again(
    store: Store,
) -> None:
    doc = extracted(store, "1" * 64, "routine")
    store.record_review(doc, reviewer="nurse", changes={"urgency": "urgent"})
    store.undo_last_change(doc, actor="nurse")
    assert store.document(doc)["state"] == DocState.EXTRACTED
    assert store.queue()[0]["provisional"] is True
    assert [row["id"] for row in store.llm_pending()] == [doc]


def test_staff_escalate_a_document_not_read_yet_and_it_is_still_read(
    store: Store,
) -> None:
    doc = add(store)
    store.set_by_staff(doc, reviewer="nurse", urgency="emergency", note="phoned")
    (row,) = store.queue()
    assert (row["urgency"], row["author"], row["state"]) == (
        "emergency",
        "staff:nurse",
        "received",
    )
    store.set_state(doc, DocState.EXTRACTED, text="A letter.")
    store.record_ai_result(doc, ai_result("routine", provisional=True))
    assert [r["author"] for r in store.revisions(doc)] == [
        "staff:nurse",
        "ai",
        "staff:nurse",
    ]
    assert store.latest_revision(doc)["urgency"] == "emergency"
    assert [row["id"] for row in store.llm_pending()] == [doc]


def test_staff_set_urgency_on_a_provisional_result(store: Store) -> None:
    doc = extracted(store, "1" * 64, "routine")
    store.set_by_staff(doc, reviewer="nurse", urgency="urgent", category="lab")
    latest = store.latest_revision(doc)
    assert (latest["urgency"], latest["category"]) == ("urgent", "lab")


def test_staff_set_refuses_an_unknown_urgency_and_an_unknown_document(
    store: Store,
) -> None:
    with pytest.raises(StoreError, match="choose an urgency"):
        store.set_by_staff(add(store), reviewer="nurse", urgency="soon")
    with pytest.raises(StoreError, match="no document with id 99"):
        store.set_by_staff(99, reviewer="nurse", urgency="urgent")
