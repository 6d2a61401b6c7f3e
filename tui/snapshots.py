"""What the screens read from the store, as snapshots of plain data.

Every read runs in a thread worker on a connection of its own (`StoreOpener`);
the screens only get plain data back, and compare snapshots whole to skip
needless repaints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebox.config import Config, TriageConfig
from edgebox.errors import StoreError
from edgebox.store import Store
from edgebox.store.filters import DocumentFilter
from edgebox.store.queue import check_readable
from edgebox.store.sorting import QueueSort
from edgebox.vocabulary import NOT_RATED

QUEUE_PAGE = 500
"""Rows the queue shows at once; `]` and `[` page through the rest."""


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
    store: Store,
    filters: DocumentFilter,
    *,
    offset: int = 0,
    page: int = QUEUE_PAGE,
    sort: QueueSort | None = None,
    words: str | None = None,
    patient: str | None = None,
) -> QueueSnapshot:
    narrow = {"words": words, "patient": patient}
    total = store.queue_count(filters, **narrow)
    # The last page when documents left since (a filter or a requeue).
    offset = max(0, min(offset, (total - 1) // page * page))
    rows = tuple(
        (
            row["document_id"],
            # Not triaged yet (or quarantined): no urgency to show, though it
            # sorts with the unknown ones, high in the queue, until it has one.
            "not rated"
            if row["not_rated"]
            else row["urgency"]
            if row["revision"] is not None
            else "none",
            row["category"],
            row["summary"] or row["error_message"] or row["file_name"],
            row["received_at"],
            # The marker the CLI and sync use too: the LLM has not read it yet.
            "provisional" if row["provisional"] else row["state"],
            row["needs_review"],
        )
        for row in store.queue_page(
            filters, limit=page, offset=offset, sort=sort, **narrow
        )
    )
    counts = tuple(store.counts_by_state().items())
    return QueueSnapshot(rows, counts, store.needs_review_count(), offset, total)


@dataclass(frozen=True)
class DocumentView:
    document: dict[str, Any]
    revisions: list[dict[str, Any]]
    undo: Any = None
    """The store's UndoPlan, or None when there is nothing to undo."""
    to_learn: int = 0
    """Staff reviews still needed before the box trains its own models."""
    original: Path | None = None
    """The original file in the archive (None: not archived, e.g. a copy)."""

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.revisions[-1] if self.revisions else None

    @property
    def not_rated(self) -> bool:
        """No source could rate it (a new box): a person must."""
        latest = self.latest
        return bool(
            latest
            and latest["author"] == "ai"
            and latest["urgency"] == "unknown"
            and NOT_RATED in (latest["provenance"].get("review_reasons") or [])
        )


def load_document(
    store: Store,
    doc_id: int,
    *,
    min_examples: int = TriageConfig.min_examples,
    archive_dir: Path | None = None,
) -> DocumentView:
    from edgebox.intake.archive import archive_path

    document = store.document(doc_id)
    original = None
    if archive_dir is not None and document["sha256"]:
        found = archive_path(archive_dir, document["sha256"])
        original = found if found.is_file() else None
    return DocumentView(
        document,
        store.revisions(doc_id),
        store.undo_plan(doc_id),
        max(0, min_examples - store.reviewed_count()),
        original,
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
    learned: dict[str, Any] = field(default_factory=dict)
    """Per task, which learned model decides: own or the centre's."""
    bundle: dict[str, Any] = field(default_factory=dict)
    """The centre's bundle in use, the previous one, a hold and the last
    refusal (`edgebox.service.bundles.status`)."""


def load_status(store: Store, config: Config) -> StatusSnapshot:
    from edgebox.intake.ignore import inbox_files
    from edgebox.learn.choice import in_use_report
    from edgebox.service.bundles import status as bundle_status

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
        learned=in_use_report(config.data_dir, min_examples=config.triage.min_examples),
        bundle=bundle_status(config.data_dir),
    )


_PROBLEM_KEYS = ("id", "file_name", "state", "error_code", "error_message",
                 "updated_at", "attempts")  # fmt: skip
