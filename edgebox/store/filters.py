"""The one filter type: which documents a list shows.

The queue (UI and `edgebox queue`) and search (`edgebox search`, the UI's
search) select documents through `DocumentFilter` and the SQL built here, so
the same filter selects the same documents wherever it is set. Each condition
is on a document `d` and its latest revision `t` (see `latest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from edgebox.errors import StoreError
from edgebox.store.latest import LATEST_URGENCY
from edgebox.store.schema import DocState
from edgebox.vocabulary import Urgency


@dataclass(frozen=True)
class DocumentFilter:
    """What a list of documents shows; None (or False) means any.

    Urgency "unknown" means that no urgency is known for the document: its
    latest result says "unknown" (a triage that failed, a label no source
    could give yet), or it has no result at all (still being read, failed,
    quarantined, a duplicate). That is how the queue shows and sorts such a
    document, above routine: an unreadable emergency referral must not drop
    out of the "unknown" list. Search, the CLI and the UI all mean this.
    """

    state: str | None = None
    category: str | None = None
    urgency: str | None = None
    since: str | None = None
    """ISO date: documents received on or after it."""
    until: str | None = None
    """ISO date: documents received before the end of that day."""
    to_review: bool = False
    """Only what waits for a person: a result that asks for review, or a
    file that could not be read (failed, quarantined)."""

    def __post_init__(self) -> None:
        _check_one_of("state", self.state, [s.value for s in DocState])
        _check_one_of("urgency", self.urgency, [u.value for u in Urgency])
        for name in ("since", "until"):
            _check_date(name, getattr(self, name))

    def where(self) -> tuple[list[str], list[Any]]:
        """The SQL conditions (on `d` and `t`) and their parameters."""
        where, params = where_set(
            [
                ("d.state = ?", self.state),
                ("t.category = ?", self.category),
                (f"{LATEST_URGENCY} = ?", self.urgency),
                ("d.received_at >= ?", self.since),
                ("substr(d.received_at, 1, 10) <= ?", self.until),
            ]
        )
        if self.to_review:
            where.append(
                "(t.needs_review = 1 OR (t.revision IS NULL"
                f" AND d.state IN ('{DocState.FAILED}', '{DocState.QUARANTINED}')))"
            )
        return where, params

    def where_clause(self) -> tuple[str, list[Any]]:
        """`WHERE ...` (or nothing when nothing filters) and its parameters."""
        where, params = self.where()
        return (f"WHERE {' AND '.join(where)}" if where else ""), params


def where_set(conditions: Sequence[tuple[str, Any]]) -> tuple[list[str], list[Any]]:
    """The SQL conditions (one `?` each) whose value is set, and those values:
    the filters a caller left empty do not filter."""
    kept = [(sql, value) for sql, value in conditions if value]
    return [sql for sql, _ in kept], [value for _, value in kept]


def _check_one_of(name: str, value: str | None, allowed: list[str]) -> None:
    if value is not None and value not in allowed:
        raise StoreError(f"filter {name}: {value!r} is not one of {', '.join(allowed)}")


def _check_date(name: str, value: str | None) -> None:
    if value is None:
        return
    try:
        date.fromisoformat(value)
    except ValueError:
        raise StoreError(
            f"filter {name}: {value!r} is not a date like 2026-11-29"
        ) from None
