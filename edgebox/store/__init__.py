"""The store: one SQLite file (WAL) and every SQL statement edgebox runs."""

from pathlib import Path

from edgebox.errors import StoreError
from edgebox.store.core import Store
from edgebox.store.schema import DocState, NotEdgebox, OutboxState, now


def open_for_reading(path: Path) -> Store:
    """The store for a command that only reads (status, queue, search): opened
    read-only when the file or its folder cannot be written (a read-only mount,
    a backup copy), so that it still answers there."""
    try:
        return Store(path)
    except NotEdgebox:
        raise  # another program's file: not read either
    except (StoreError, OSError):
        return Store.open_read_only(path)  # a StoreError naming the file if not


__all__ = [
    "DocState",
    "OutboxState",
    "Store",
    "now",
    "open_for_reading",
]
