"""The queue's orders: by any column the UI shows, either way, always in SQL.

The store sorts, not the screen: a page of 500 sorted in Python would be the
right order only within that page. Each column's ties fall back on the
default order (most urgent, then oldest), so that a sort by category still
lists each category's emergencies first.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgebox.store.schema import QUEUE_ORDER
from edgebox.store.search import words_of
from edgebox.vocabulary import Urgency

# The state as the queue shows it: the fast stage's result is "provisional",
# a result that asks for a person "to review" (see tui/queue.py), in the order
# a nurse works through them rather than alphabetically.
_SHOWN_STATE = (
    "CASE WHEN COALESCE(t.provisional, 0) THEN 5"
    " WHEN t.needs_review = 1 THEN 0"
    " WHEN d.state = 'failed' THEN 1 WHEN d.state = 'quarantined' THEN 2"
    " WHEN d.state = 'received' THEN 3 WHEN d.state = 'extracted' THEN 4"
    " WHEN d.state = 'triaged' THEN 6 WHEN d.state = 'reviewed' THEN 7"
    " ELSE 8 END"
)
# What the summary column shows when there is no summary: the error, else
# the file name; compared without case.
_SHOWN_SUMMARY = (
    "COALESCE(NULLIF(t.summary, ''), d.error_message, d.file_name) COLLATE NOCASE"
)
_NULLS_LAST = "t.category IS NULL"
SORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "urgency": (),  # the default order itself
    "category": (_NULLS_LAST, "t.category"),
    "summary": (_SHOWN_SUMMARY,),
    "received": ("d.received_at",),
    "state": (_SHOWN_STATE,),
}
"""Column name (as the queue names it) -> its SQL sort keys."""


@dataclass(frozen=True)
class QueueSort:
    """One column, either way; the default is most urgent first."""

    column: str = "urgency"
    reverse: bool = False

    def __post_init__(self) -> None:
        if self.column not in SORT_COLUMNS:
            names = ", ".join(SORT_COLUMNS)
            raise ValueError(f"sort column must be one of {names}, not {self.column!r}")


def sort_clause(sort: QueueSort) -> str:
    """The ORDER BY list for `sort`; NULLs (no category) stay last either way."""
    if sort.column == "urgency":
        return _reversed_default() if sort.reverse else QUEUE_ORDER
    keys = list(SORT_COLUMNS[sort.column])
    if sort.reverse:
        # A document without a category stays last: a flag, not the key.
        keys = [k if k == _NULLS_LAST else f"{k} DESC" for k in keys]
    return ", ".join(keys) + ", " + QUEUE_ORDER


def _reversed_default() -> str:
    """Least urgent first, then newest; duplicates still after the others
    (they are no one's work, whichever way the queue is read)."""
    ranks = " ".join(f"WHEN '{u}' THEN {u.rank}" for u in Urgency)
    return (
        "CASE WHEN d.state = 'duplicate' THEN 1 ELSE 0 END,"
        f" CASE COALESCE(t.urgency, 'unknown') {ranks} ELSE 4 END DESC,"
        " d.received_at DESC, d.id DESC"
    )


def match_words(words: str | None) -> str | None:
    """An FTS5 MATCH for documents holding every word (each quoted: a word
    is never read as an FTS operator); None when there are no words."""
    found = words_of(words or "")
    return " ".join(f'"{w}"' for w in found) if found else None
