"""Many read documents at once, for benchmarks of search at scale.

`add_document` and `set_state` write an audit row, a full-text row and
sometimes an outbox row per call, each checked; a benchmark that needs a
hundred thousand searchable documents needs only the documents and their
full-text rows, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from edgebox.store.schema import DocState

if TYPE_CHECKING:
    from edgebox.store.core import Store


def add_searchable_texts(
    store: Store, texts: Sequence[str], *, received_at: str
) -> list[int]:
    """Record each text as a triaged document `doc-<n>.txt` with its
    full-text row, without a revision, an audit or an outbox row; their ids."""
    ids = []
    with store.atomic():
        for n, text in enumerate(texts):
            name = f"doc-{n}.txt"
            doc = store.db.execute(
                "INSERT INTO documents (file_name, sha256, size, state, text,"
                " received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    name,
                    f"{n:064}",
                    len(text),
                    DocState.TRIAGED,
                    text,
                    received_at,
                    received_at,
                ],  # fmt: skip
            ).lastrowid
            store.db.execute(
                "INSERT INTO documents_fts (rowid, file_name, text, summary, fields)"
                " VALUES (?, ?, ?, '', '')",
                [doc, name, text],
            )
            ids.append(int(doc or 0))
    return ids
