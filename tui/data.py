"""Store access and display helpers shared by the screens.

Every read runs in a thread worker on a connection of its own (`StoreOpener`);
the screens only get plain data back. Text from documents is shown as
`rich.text.Text`, never parsed as markup, with control characters made visible:
a summary that says "[bold]" or carries an escape sequence is shown as typed.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text

from edgebox.config import Config
from edgebox.errors import StoreError
from edgebox.store import Store
from edgebox.store.queue import QueueFilter, check_readable
from edgebox.store.review import STAFF_URGENCIES
from edgebox.terminal import visible

URGENCIES = STAFF_URGENCIES
"""What a person may choose; "unknown" is only ever the AI failing."""
QUEUE_PAGE = 500
"""Rows the queue shows at once; `]` and `[` page through the rest."""

# Colour is never the only cue: each urgency has its own symbol and word.
URGENCY_LABEL = {
    "emergency": "!! EMERG",
    "urgent": "!  urgent",
    "unknown": "?  unknown",
    "routine": "   routine",
    "none": "·  -",
}
URGENCY_STYLE = {
    "emergency": "bold reverse red",
    "urgent": "bold yellow",
    "unknown": "bold magenta",
    "routine": "",
}


# C0/C1 controls and bidirectional overrides: shown, never sent to the terminal.
@dataclass(frozen=True)
class StoreOpener:
    """Opens a connection per use; read-only when the file cannot be written."""

    path: Path
    read_only: bool = False
    lock_wait_s: float = 5.0
    """How long a save waits for another writer (the store's own 30 s would
    leave a person wondering whether it worked)."""

    def __call__(self) -> Store:
        if self.read_only:
            return Store.open_read_only(self.path)
        store = Store(self.path)
        store.wait_for_locks(self.lock_wait_s)
        return store


def open_store(path: Path) -> StoreOpener:
    """An opener for the store at `path`, read-only when it cannot be written;
    raise StoreError naming the file when it cannot be read at all."""
    check_readable(path)  # fails fast (locked, not SQLite) instead of waiting 30 s
    try:
        Store(path).close()
    except StoreError as write_error:
        try:
            Store.open_read_only(path).close()
        except StoreError:
            raise write_error from None
        return StoreOpener(path, read_only=True)
    return StoreOpener(path)


def reviewer_name() -> str | None:
    """Who is reviewing: $EDGEBOX_USER, else the login name; None: ask."""
    name = os.environ.get("EDGEBOX_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser().strip() or None
    except (OSError, KeyError, ImportError):
        return None


def literal(text: object, *, style: str = "", one_line: bool = False) -> Text:
    """A renderable that shows `text` exactly, whatever brackets it holds."""
    return Text(visible(text, one_line=one_line), style=style, no_wrap=one_line)


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def local_time(iso: str | None, *, with_year: bool = False) -> str:
    """An absolute local time (never "3 min ago"): the same on every screen."""
    if not iso:
        return "-"
    try:
        stamp = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return visible(iso, one_line=True)
    return stamp.strftime("%Y-%m-%d %H:%M" if with_year else "%m-%d %H:%M")


def urgency_text(urgency: str | None) -> Text:
    """The urgency by symbol and word; None: no result yet (not triaged)."""
    urgency = urgency or "none"
    return Text(
        URGENCY_LABEL.get(urgency, visible(urgency)),
        style=URGENCY_STYLE.get(urgency, ""),
    )


@dataclass(frozen=True)
class QueueSnapshot:
    """What the queue shows; compared whole to skip needless repaints."""

    rows: tuple[tuple[Any, ...], ...]
    counts: tuple[tuple[str, int], ...]
    needs_review: int
    offset: int = 0
    """Where this page starts among the documents that pass the filters."""
    total: int = 0
    """How many documents pass the filters, on every page together."""


def load_queue(
    store: Store, filters: QueueFilter, *, offset: int = 0, page: int = QUEUE_PAGE
) -> QueueSnapshot:
    total = store.queue_count(filters)
    # The last page when documents left since (a filter or a requeue).
    offset = max(0, min(offset, (total - 1) // page * page))
    rows = tuple(
        (
            row["document_id"],
            # Not triaged yet (or quarantined): no urgency to show, though it
            # sorts with the unknown ones, high in the queue, until it has one.
            row["urgency"] if row["revision"] is not None else "none",
            row["category"],
            row["summary"] or row["error_message"] or row["file_name"],
            row["received_at"],
            row["state"],
            row["needs_review"],
        )
        for row in store.queue_page(filters, limit=page, offset=offset)
    )
    counts = tuple(store.counts_by_state().items())
    return QueueSnapshot(rows, counts, store.needs_review_count(), offset, total)


@dataclass(frozen=True)
class DocumentView:
    document: dict[str, Any]
    revisions: list[dict[str, Any]]
    undo: Any = None
    """The store's UndoPlan, or None when there is nothing to undo."""

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.revisions[-1] if self.revisions else None


def load_document(store: Store, doc_id: int) -> DocumentView:
    return DocumentView(
        store.document(doc_id), store.revisions(doc_id), store.undo_plan(doc_id)
    )


@dataclass(frozen=True)
class StatusSnapshot:
    service: dict[str, str]
    counts: dict[str, int]
    needs_review: int
    outbox: dict[str, int]
    sync: dict[str, str]
    overrides: dict[str, Any]
    problems: list[dict[str, Any]] = field(default_factory=list)
    """Quarantined and failed documents and failed triages, with their reasons."""
    inbox: int = 0
    """Files in the drop folder now, not yet taken in (whether or not the
    service runs to take them)."""


def load_status(store: Store, config: Config) -> StatusSnapshot:
    from edgebox.intake.ignore import inbox_files

    problems = store.requeueable()
    return StatusSnapshot(
        service=store.service_state(),
        counts=store.counts_by_state(),
        needs_review=store.needs_review_count(),
        outbox=store.outbox_counts(),
        sync=store.sync_state(),
        overrides=store.override_stats(review_cut=config.triage.review_cut),
        problems=[{k: d[k] for k in _PROBLEM_KEYS} for d in problems],
        inbox=len(inbox_files(config.inbox_dir, config.ingest.ignore)),
    )


_PROBLEM_KEYS = ("id", "file_name", "state", "error_code", "error_message",
                 "updated_at", "attempts")  # fmt: skip
