"""The retention pass: what the NGO's `[retention]` days say is due goes.

Run by the service once an hour (and at its start) and by `edgebox
retention`; the store decides what is due (never a document whose results
are not yet at the centre or that waits for a review, see
edgebox/store/retention.py). The clock is a parameter so that a test can set
it days ahead.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from edgebox.config import Config
from edgebox.store import Store
from edgebox.store.retention import cutoff

log = logging.getLogger(__name__)
PARTS = ("originals", "text", "results")


@dataclass(frozen=True)
class RetentionReport:
    """Per part (originals, text, results): the days kept, the documents due (or
    deleted), and when the oldest kept one arrived."""

    days: dict[str, int]
    due: dict[str, list[int]] = field(default_factory=dict)
    oldest_kept: dict[str, str | None] = field(default_factory=dict)
    deleted: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        verb = "deleted" if self.deleted else "due"
        parts = [
            f"{part} {len(self.due.get(part, []))} {verb}"
            + (" (kept for ever)" if not self.days[part] else "")
            for part in PARTS
        ]
        return "retention: " + ", ".join(parts)


def _days(config: Config) -> dict[str, int]:
    return {
        "originals": config.retention.originals_days,
        "text": config.retention.text_days,
        "results": config.retention.results_days,
    }


def retention_report(
    config: Config, store: Store, *, at: datetime | None = None
) -> RetentionReport:
    """What a pass would delete now (nothing is touched)."""
    days = _days(config)
    moment = at or datetime.now(UTC)
    return RetentionReport(
        days=days,
        due={p: store.retention_due(p, cutoff(days[p], at=moment)) for p in PARTS},
        oldest_kept={p: store.next_retention_due(p) for p in PARTS},
    )


def run_retention(
    config: Config, store: Store, *, at: datetime | None = None
) -> RetentionReport:
    """Delete what is due; the store audits each part it deleted."""
    days = _days(config)
    moment = at or datetime.now(UTC)
    # Whole records first: their originals and text go with them.
    results = store.delete_results(cutoff(days["results"], at=moment))
    deleted = {
        "originals": store.delete_originals(cutoff(days["originals"], at=moment)),
        "text": store.delete_text(cutoff(days["text"], at=moment)),
        "results": results,
    }
    report = RetentionReport(days=days, due=deleted, deleted=True)
    if any(deleted.values()):
        log.info("%s", report.line())
    return report


def retention_facts(
    config: Config, store: Store, *, at: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """Per part, for `status` and `doctor`: days kept, documents due now, and
    when the oldest kept one falls due (if it is done with by then)."""
    report = retention_report(config, store, at=at)
    return {
        part: {
            "days": days,
            "due": len(report.due[part]),
            "next_due_at": _due_at(report.oldest_kept[part], days),
        }
        for part, days in report.days.items()
    }


def _due_at(arrived: str | None, days: int) -> str | None:
    if arrived is None or days <= 0:
        return None
    moment = datetime.fromisoformat(arrived) + timedelta(days=days)
    return moment.isoformat(timespec="seconds")
