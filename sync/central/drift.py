"""Drift: how often each clinic's staff override the box, over time.

From the triage revisions the boxes sync (labels only, no text needed): a
review is a document's first revision by a person one document at a time
(not a bulk confirmation); it overrides a task when its label differs from
the machine's answer just before it. Reviews are counted per clinic, per
bundle version of that machine answer (`provenance.bundle_version`; "unknown"
until boxes report it) and per time window (`window_days`, by review time).

A clinic is flagged when, in its latest window with at least `min_reviews`
reviews, a task's override rate is past `limit`, or has risen more than
`rise` over the same clinic's earlier windows under the same bundle version:
its documents no longer look like what the models learned from (a new
service, a new form, another population), or a bundle made things worse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from edgebox.vocabulary import TASKS

UNKNOWN = "unknown"


@dataclass(frozen=True)
class DriftLimits:
    limit: float = 0.3
    """An override rate past this in the latest window flags the clinic."""
    rise: float = 0.15
    """A rise of the rate over the clinic's earlier windows flags it too."""
    window_days: int = 7
    """The length of one window, by review time."""
    min_reviews: int = 20
    """Fewer reviews in a window say nothing: it is not judged."""


@dataclass(frozen=True)
class Review:
    clinic: str
    bundle: str
    at: datetime
    overridden: Mapping[str, bool]


def reviews(history: Iterable[Mapping[str, Any]]) -> list[Review]:
    """Each document's first hand review, against the machine answer before it
    (`history`: revisions in order per clinic and document)."""
    found: list[Review] = []
    machine: dict[tuple[str, int], Mapping[str, Any]] = {}
    reviewed: set[tuple[str, int]] = set()
    for row in history:
        key = (str(row["clinic"]), int(row["document_id"]))
        content = row["content"]
        author = str(content.get("author", ""))
        if not author.startswith("staff:"):
            machine[key] = content
            continue
        provenance = content.get("provenance") or {}
        if key in reviewed or key not in machine or provenance.get("bulk"):
            continue
        reviewed.add(key)
        before = machine[key]
        found.append(
            Review(
                clinic=key[0],
                bundle=str(
                    (before.get("provenance") or {}).get("bundle_version") or UNKNOWN
                ),
                at=_when(str(row["created_at"])),
                overridden={t: content.get(t) != before.get(t) for t in TASKS},
            )
        )
    return found


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def drift_report(
    history: Iterable[Mapping[str, Any]], limits: DriftLimits = DriftLimits()
) -> list[dict[str, Any]]:
    """Per clinic and bundle version: the override rates by window, and
    whether (and why) the clinic is flagged."""
    groups: dict[tuple[str, str], list[Review]] = {}
    for review in reviews(history):
        groups.setdefault((review.clinic, review.bundle), []).append(review)
    return [
        _group(clinic, bundle, found, limits)
        for (clinic, bundle), found in sorted(groups.items())
    ]


def _group(
    clinic: str, bundle: str, found: list[Review], limits: DriftLimits
) -> dict[str, Any]:
    windows = _windows(found, limits.window_days)
    judged = [w for w in windows if w["reviews"] >= limits.min_reviews]
    reasons: list[str] = []
    if judged:
        latest, earlier = judged[-1], judged[:-1]
        for task in TASKS:
            reasons += _reasons(task, latest, earlier, limits)
    return {
        "clinic": clinic,
        "bundle_version": bundle,
        "reviews": len(found),
        "windows": windows,
        "flagged": bool(reasons),
        "why": reasons,
    }


def _windows(found: list[Review], days: int) -> list[dict[str, Any]]:
    span = days * 86400
    by_start: dict[int, list[Review]] = {}
    for review in found:
        start = int(review.at.timestamp()) // span * span
        by_start.setdefault(start, []).append(review)
    return [
        {
            "from": datetime.fromtimestamp(start, UTC).date().isoformat(),
            "reviews": len(inside),
        }
        | {f"{t}_override_rate": _rate(inside, t) for t in TASKS}
        for start, inside in sorted(by_start.items())
    ]


def _rate(found: list[Review], task: str) -> float:
    return round(sum(r.overridden[task] for r in found) / len(found), 3)


def _reasons(
    task: str,
    latest: Mapping[str, Any],
    earlier: list[Mapping[str, Any]],
    limits: DriftLimits,
) -> list[str]:
    rate = latest[f"{task}_override_rate"]
    reasons = []
    if rate > limits.limit:
        reasons.append(
            f"{task} overridden in {rate:.0%} of reviews since {latest['from']}"
            f" (limit {limits.limit:.0%})"
        )
    if earlier:
        n = sum(w["reviews"] for w in earlier)
        before = sum(w[f"{task}_override_rate"] * w["reviews"] for w in earlier) / n
        if rate - before > limits.rise:
            reasons.append(
                f"{task} override rate rose from {before:.0%} to {rate:.0%}"
                f" since {latest['from']} (rise limit {limits.rise:.0%})"
            )
    return reasons


def flagged_clinics(report: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Clinic -> reasons, for every flagged clinic (any bundle version)."""
    flagged: dict[str, list[str]] = {}
    for entry in report:
        if entry["flagged"]:
            flagged.setdefault(entry["clinic"], []).extend(
                f"bundle {entry['bundle_version']}: {why}" for why in entry["why"]
            )
    return flagged
