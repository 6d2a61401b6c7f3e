"""The store: one SQLite file (WAL) and every SQL statement edgebox runs."""

from edgebox.store.core import Store
from edgebox.store.schema import URGENCY_RANK, DocState, OutboxState, now

__all__ = ["URGENCY_RANK", "DocState", "OutboxState", "Store", "now"]
