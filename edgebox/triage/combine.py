"""The one decision: category and urgency from the rules, the learned models
and the LLM, with a confidence per field and the reasons to ask a person.

The engine and `edgebox eval` both call `decide`, so the figures eval prints
are those of the deployed path.

- Urgency is the highest of the rules, the learned model and the LLM, except
  that a confident learned model decides alone when no rule fired. Rules only
  raise: nothing here can put a document below the level its rules found.
- Category comes from the learned model when it is confident, else the LLM;
  with no LLM vote, the learned model's label stands, sent to review.
- A document goes to review when a field's confidence is low, when sources
  disagree, when it is an emergency, when it asks the system for something,
  or when nothing calibrated backs a label (before the learned models exist).
- A new box does not guess: with no rule, no learned model and no LLM vote
  (see `edgebox.triage.manifest.llm_vote_tasks`), urgency is "unknown" and
  category None, each "not rated yet", for a person to rate.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from edgebox.config import TriageConfig
from edgebox.learn.classifiers import Prediction
from edgebox.vocabulary import NOT_RATED, Urgency


@dataclass(frozen=True)
class Votes:
    """What each source said about one document; None where it did not speak."""

    rules: str | None = None
    learned_category: Prediction | None = None
    learned_urgency: Prediction | None = None
    llm_category: str | None = None
    llm_urgency: str | None = None
    injection: bool = False


def review_covers(about: Collection[str], task: str) -> bool:
    """Whether review reasons about `about` (category, urgency, document) mean
    that a person checks the `task` label: `edgebox eval` counts the same way."""
    return task in about or "document" in about


@dataclass
class Decision:
    category: str | None
    urgency: str
    confidence: dict[str, float | None]
    sources: dict[str, str]
    review: dict[str, list[str]] = field(default_factory=dict)
    """Reasons to ask a person, by what they concern: category, urgency or the
    whole document (eval measures one task's review share from these)."""

    def flag(self, about: str, reason: str) -> None:
        self.review.setdefault(about, []).append(reason)

    @property
    def review_reasons(self) -> list[str]:
        return [reason for reasons in self.review.values() for reason in reasons]

    @property
    def needs_review(self) -> bool:
        return bool(self.review)

    def needs_review_for(self, task: str) -> bool:
        """Whether a person must check this document's `task` label."""
        return review_covers(self.review, task)

    @property
    def overall_confidence(self) -> float | None:
        """The weakest field's confidence; None when no field has a calibrated one."""
        known = [c for c in self.confidence.values() if c is not None]
        return min(known) if known and len(known) == len(self.confidence) else None


def decide(votes: Votes, *, review_cut: float = TriageConfig.review_cut) -> Decision:
    """Combine the votes of one document into its labels and review reasons.

    A learned label less likely than `review_cut` to be right goes to review
    (the confidence is calibrated: see `edgebox.learn.pipelines.ConfidenceMap`).
    """
    category_reasons: list[str] = []
    urgency_reasons: list[str] = []
    category, category_source, category_conf = _category(
        votes, review_cut, category_reasons
    )
    urgency, urgency_source, urgency_conf = _urgency(votes, review_cut, urgency_reasons)
    decision = Decision(
        category=category,
        urgency=urgency,
        confidence={"category": category_conf, "urgency": urgency_conf},
        sources={"category": category_source, "urgency": urgency_source},
    )
    for about, reasons in (
        ("category", category_reasons),
        ("urgency", urgency_reasons),
    ):
        for reason in reasons:
            decision.flag(about, reason)
    if votes.injection:
        decision.flag(
            "document", "the document contains instructions to the triage system"
        )
        if urgency == Urgency.ROUTINE:
            # A source may have obeyed the document: do not trust its "routine".
            decision.urgency = Urgency.URGENT
            decision.sources["urgency"] = "injection-guard"
    if decision.urgency == Urgency.EMERGENCY:
        decision.flag("urgency", "emergency: a person confirms every emergency")
    if decision.urgency == Urgency.UNKNOWN:
        decision.flag("urgency", _unrated(votes.learned_urgency, votes.llm_urgency))
    if decision.category is None:
        decision.flag("category", _unrated(votes.learned_category, votes.llm_category))
    return decision


def _unrated(learned: Prediction | None, llm: str | None) -> str:
    if learned is None and llm is None:
        return NOT_RATED
    return "no source could set it"


def _category(
    votes: Votes, review_cut: float, reasons: list[str]
) -> tuple[str | None, str, float | None]:
    learned, llm = votes.learned_category, votes.llm_category
    if learned is None:
        if llm is None:
            return None, "none", None
        reasons.append("category: no learned model yet, the LLM's label is unverified")
        return llm, "llm", None
    if learned.confidence >= review_cut:
        if llm is not None and llm != learned.label:
            reasons.append(f"category: the LLM says {llm}, the learned model not")
        return learned.label, "learned", learned.confidence
    reasons.append(f"category: low confidence ({learned.confidence:.2f})")
    if llm is not None:
        return llm, "llm", None
    return learned.label, "learned", learned.confidence


def _urgency(
    votes: Votes, review_cut: float, reasons: list[str]
) -> tuple[str, str, float | None]:
    learned, rules, llm = votes.learned_urgency, votes.rules, votes.llm_urgency
    confident = learned is not None and learned.confidence >= review_cut
    if learned is not None and confident and rules is None:
        if llm is not None and llm != learned.label:
            reasons.append(f"urgency: the LLM says {llm}, the learned model not")
        return learned.label, "learned", learned.confidence
    # Highest wins; on a tie the earlier source in this order is named.
    candidates = [
        (level, source)
        for level, source in (
            (rules, "rules"),
            (learned.label if learned else None, "learned"),
            (llm, "llm"),
        )
        if level in Urgency.levels()
    ]
    if not candidates:
        return Urgency.UNKNOWN, "none", None
    urgency, source = min(candidates, key=lambda c: Urgency(c[0]).rank)
    if learned is None:
        if source == "llm":
            reasons.append(
                "urgency: no learned model yet, the LLM's level is unverified"
            )
        elif urgency != Urgency.EMERGENCY:
            # Rules only raise: "urgent" is what they saw, not all there is.
            # Without a learned model nothing says it is not more (a third of
            # held-out emergencies are "urgent" to the rules alone).
            reasons.append(
                "urgency: a rule says urgent; with no learned model yet, a"
                " person checks that it is not more"
            )
        return urgency, source, None
    if not confident:
        reasons.append(f"urgency: low confidence ({learned.confidence:.2f})")
    if urgency != learned.label:
        reasons.append(f"urgency: {source} raised it above the learned {learned.label}")
    confidence = learned.confidence if urgency == learned.label else None
    return urgency, source, confidence
