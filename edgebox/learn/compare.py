"""Two learned models side by side on the same labelled documents.

Used where edgebox must choose between models without the LLM and without the
triage engine (the central trainer has neither llama.cpp nor jsonschema): the
centre's gate before a candidate is published, and the box's choice between
its own model and the centre's. A model's answer is what the box would decide
from it without the LLM: the learned label, and for urgency the higher of it
and the bundled red-flag rules' level (rules only raise).

The noise of a comparison is a paired bootstrap over the documents (the same
resampled documents for both models), with a fixed seed so that a report can
be rerun.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from edgebox.vocabulary import Urgency

if TYPE_CHECKING:
    from edgebox.learn.classifiers import LearnedModel

SEED = 2026
RESAMPLES = 1000
WORSE_SHARE = 0.95
"""A candidate is worse beyond the noise when it is worse in at least this
share of the paired resamples (a one-sided 95% bootstrap test)."""


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the true labels; a prediction outside them is wrong."""
    scores = []
    for label in sorted(set(truth)):
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        if not tp:
            scores.append(0.0)
            continue
        precision = tp / list(predicted).count(label)
        recall = tp / list(truth).count(label)
        scores.append(2 * precision * recall / (precision + recall))
    return statistics.fmean(scores) if scores else 0.0


def emergency_recall(truth: Sequence[str], predicted: Sequence[str]) -> float | None:
    """Share of true emergencies called emergencies; None when there are none."""
    calls = [p for t, p in zip(truth, predicted, strict=True) if t == "emergency"]
    if not calls:
        return None
    return sum(p == "emergency" for p in calls) / len(calls)


def decisions(task: str, model: LearnedModel, texts: Sequence[str]) -> list[str]:
    """What the box decides from this model without the LLM."""
    labels = [p.label for p in model.predict(list(texts))]
    if task != "urgency":
        return labels
    return [_raised(label, text) for label, text in zip(labels, texts, strict=True)]


def _raised(label: str, text: str) -> str:
    from edgebox.clinical.redflags import highest_level, load_rules
    from edgebox.clinical.vitals import parse_vitals

    rules = load_rules()  # the bundled rules, as the features use them
    level = highest_level(rules.findings(text, parse_vitals(text)))
    levels = [x for x in (label, level) if x in Urgency.levels()]
    if not levels:
        return Urgency.UNKNOWN
    return min(levels, key=lambda x: Urgency(x).rank)


def scores(task: str, truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Macro-F1 (and emergency recall for urgency), rounded for a report."""
    found: dict[str, Any] = {
        "n": len(truth),
        "macro_f1": round(macro_f1(truth, predicted), 3),
    }
    if task == "urgency":
        recall = emergency_recall(truth, predicted)
        found["emergency_recall"] = None if recall is None else round(recall, 3)
    return found


def paired_comparison(
    task: str,
    truth: Sequence[str],
    candidate: Sequence[str],
    baseline: Sequence[str],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, Any]:
    """Each metric's difference (candidate minus baseline), its 90% bootstrap
    interval, the share of resamples where the candidate is worse, and
    whether it is worse beyond the noise."""
    metrics = {"macro_f1": macro_f1}
    if task == "urgency" and "emergency" in truth:
        metrics["emergency_recall"] = emergency_recall  # type: ignore[dict-item]
    rng = random.Random(seed)
    n = len(truth)
    picks = [[rng.randrange(n) for _ in range(n)] for _ in range(resamples)]
    report: dict[str, Any] = {"resamples": resamples, "seed": seed}
    for name, metric in metrics.items():
        differences = []
        for pick in picks:
            t = [truth[i] for i in pick]
            a = metric(t, [candidate[i] for i in pick])
            b = metric(t, [baseline[i] for i in pick])
            if a is not None and b is not None:
                differences.append(a - b)
        report[name] = _difference(
            metric(truth, candidate), metric(truth, baseline), differences
        )
    report["worse_beyond_noise"] = any(
        report[name]["worse_beyond_noise"] for name in metrics
    )
    return report


def _difference(
    candidate: float | None, baseline: float | None, differences: list[float]
) -> dict[str, Any]:
    ordered = sorted(differences)
    worse = sum(d < 0 for d in ordered) / len(ordered) if ordered else 0.0
    low = ordered[int(0.05 * (len(ordered) - 1))] if ordered else None
    high = ordered[int(0.95 * (len(ordered) - 1))] if ordered else None
    return {
        "candidate": None if candidate is None else round(candidate, 3),
        "baseline": None if baseline is None else round(baseline, 3),
        "difference": (
            None
            if candidate is None or baseline is None
            else round(candidate - baseline, 3)
        ),
        "interval_90": [None if x is None else round(x, 3) for x in (low, high)],
        "worse_share": round(worse, 3),
        "worse_beyond_noise": worse >= WORSE_SHARE,
    }
