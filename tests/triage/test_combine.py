"""The decision rule with plain votes (pure logic, no model)."""

from hypothesis import given
from hypothesis import strategies as st

from edgebox.config import TriageConfig
from edgebox.learn.classifiers import Prediction
from edgebox.triage.combine import Votes, decide
from edgebox.vocabulary import Urgency

LEVELS = ["routine", "urgent", "emergency"]


def test_a_confident_learned_model_decides_when_no_rule_fired() -> None:
    decision = decide(
        Votes(learned_urgency=Prediction("routine", 0.9), llm_urgency="urgent")
    )
    assert (decision.urgency, decision.sources["urgency"]) == ("routine", "learned")
    assert decision.confidence["urgency"] == 0.9
    assert "urgency" in decision.review  # the LLM disagreed


def test_an_unsure_learned_model_takes_the_highest_vote() -> None:
    decision = decide(
        Votes(learned_urgency=Prediction("routine", 0.4), llm_urgency="urgent")
    )
    assert (decision.urgency, decision.sources["urgency"]) == ("urgent", "llm")
    assert decision.needs_review_for("urgency")


def test_a_rule_raises_a_confident_learned_model_and_asks_a_person() -> None:
    decision = decide(
        Votes(rules="urgent", learned_urgency=Prediction("routine", 0.95))
    )
    assert (decision.urgency, decision.sources["urgency"]) == ("urgent", "rules")
    assert decision.confidence["urgency"] is None  # the rule is not calibrated
    assert decision.needs_review_for("urgency")


def test_every_emergency_goes_to_review() -> None:
    decision = decide(Votes(learned_urgency=Prediction("emergency", 0.99)))
    assert decision.urgency == "emergency"
    assert decision.review["urgency"] == [
        "emergency: a person confirms every emergency"
    ]


def test_a_confident_learned_category_stands_alone() -> None:
    decision = decide(Votes(learned_category=Prediction("letter", 0.9)))
    assert (decision.category, decision.sources["category"]) == ("letter", "learned")
    assert not decision.needs_review_for("category")


def test_an_unsure_learned_category_gives_way_to_the_llm() -> None:
    decision = decide(
        Votes(learned_category=Prediction("letter", 0.3), llm_category="consultation")
    )
    assert (decision.category, decision.sources["category"]) == ("consultation", "llm")
    assert decision.needs_review_for("category")


def test_cold_start_labels_from_the_llm_are_always_reviewed() -> None:
    decision = decide(Votes(llm_category="referral", llm_urgency="routine"))
    assert (decision.category, decision.urgency) == ("referral", "routine")
    assert decision.needs_review_for("category") and decision.needs_review_for(
        "urgency"
    )
    assert decision.overall_confidence is None


def test_no_vote_at_all_fails_closed() -> None:
    decision = decide(Votes())
    assert (decision.category, decision.urgency) == (None, "unknown")
    assert decision.needs_review


def test_instructions_in_the_document_cannot_leave_it_routine() -> None:
    decision = decide(
        Votes(learned_urgency=Prediction("routine", 0.99), injection=True)
    )
    assert (decision.urgency, decision.sources["urgency"]) == (
        "urgent",
        "injection-guard",
    )
    assert "document" in decision.review


@given(
    rules=st.sampled_from([None, "urgent", "emergency"]),
    learned=st.sampled_from([None, *LEVELS]),
    confidence=st.floats(0.0, 1.0),
    llm=st.sampled_from([None, *LEVELS]),
    injection=st.booleans(),
)
def test_rules_are_never_lowered(
    rules: str | None,
    learned: str | None,
    confidence: float,
    llm: str | None,
    injection: bool,
) -> None:
    votes = Votes(
        rules=rules,
        learned_urgency=Prediction(learned, confidence) if learned else None,
        llm_urgency=llm,
        injection=injection,
    )
    decision = decide(votes)
    if rules is not None:
        # Never less urgent than the rules (a lower rank is more urgent).
        assert Urgency(decision.urgency).rank <= Urgency(rules).rank
        assert decision.urgency == rules or decision.sources["urgency"] != "rules"
    if decision.urgency == "emergency":
        assert decision.needs_review


def test_the_review_cut_is_inclusive() -> None:
    cut = TriageConfig().review_cut
    at_cut = decide(Votes(learned_category=Prediction("letter", cut)))
    under = decide(Votes(learned_category=Prediction("letter", cut - 0.01)))
    assert not at_cut.needs_review_for("category")
    assert under.review["category"] == [f"category: low confidence ({0.79:.2f})"]
    custom = decide(Votes(learned_category=Prediction("letter", 0.85)), review_cut=0.9)
    assert custom.needs_review_for("category")
