"""Saved queue filters: a name for what the queue shows, recalled with a key.

Kept in the store (migration m021) rather than a file: the box's terminals
share them, `edgebox backup` keeps them, and there is no second file format
to check. A saved filter is plain JSON of the keys below, so that it does not
depend on the store's filter type, which may change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from edgebox.errors import StoreError
from edgebox.store.schema import now
from edgebox.store.sorting import SORT_COLUMNS

if TYPE_CHECKING:
    from edgebox.store.core import Store

MAX_NAME = 40


@dataclass(frozen=True)
class SavedFilter:
    """What the queue shows: its filters, words and order."""

    name: str
    state: str | None = None
    category: str | None = None
    urgency: str | None = None
    to_review: bool = False
    words: str | None = None
    sort: str = "urgency"
    reverse: bool = False


_TEXT_KEYS = ("state", "category", "urgency", "words")


def save_filter(store: Store, saved: SavedFilter, *, by: str | None) -> str:
    """Save under `saved.name`, replacing one of the same name (any case);
    returns the name as stored."""
    name = _clean_name(saved.name)
    values = {k: v for k, v in asdict(saved).items() if k != "name"}
    with store.atomic():
        store.db.execute("DELETE FROM saved_filters WHERE name = ?", [name])
        store.db.execute(
            "INSERT INTO saved_filters (name, filter, saved_by, saved_at)"
            " VALUES (?, ?, ?, ?)",
            [name, json.dumps(values, sort_keys=True), by, now()],
        )
    return name


def saved_filters(db: Database) -> list[SavedFilter]:
    """Every saved filter, by name."""
    if "saved_filters" not in db.table_names():  # a read-only older store
        return []
    rows = db.conn.execute(
        "SELECT name, filter FROM saved_filters ORDER BY name COLLATE NOCASE"
    ).fetchall()
    return [_parse(name, text) for name, text in rows]


def delete_filter(store: Store, name: str) -> bool:
    """Forget a saved filter; False when there was none of that name."""
    with store.atomic():
        return bool(
            store.db.execute(
                "DELETE FROM saved_filters WHERE name = ?", [name]
            ).rowcount
        )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise StoreError(
            f"{name!r} cannot name a filter (1 to {MAX_NAME} printable characters)"
        )
    return cleaned


def _parse(name: str, text: str) -> SavedFilter:
    """The saved filter, or a StoreError naming it and the key that is wrong
    (a row written by hand, or by a later edgebox)."""
    try:
        values: Any = json.loads(text)
    except ValueError as exc:
        raise StoreError(f"saved filter {name!r} is not JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise StoreError(f"saved filter {name!r} is not a JSON object")
    known = {f.name for f in fields(SavedFilter)} - {"name"}
    kept = {k: v for k, v in values.items() if k in known}
    for key in _TEXT_KEYS:
        if kept.get(key) is not None and not isinstance(kept[key], str):
            raise StoreError(f"saved filter {name!r}: {key} must be text")
    for key in ("to_review", "reverse"):
        if not isinstance(kept.get(key, False), bool):
            raise StoreError(f"saved filter {name!r}: {key} must be true or false")
    if kept.get("sort", "urgency") not in SORT_COLUMNS:
        raise StoreError(
            f"saved filter {name!r}: sort must be one of {', '.join(SORT_COLUMNS)}"
        )
    return SavedFilter(name=name, **kept)
