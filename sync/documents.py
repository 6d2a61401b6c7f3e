"""Raw documents, sent only when `[sync] send_documents = true`, after the
results, in chunks that resume where the server says it stopped (a link that
drops every few minutes still gets a large scan through, a piece at a time).

Documents go in id order; `documents_sent_upto` in the sync state is the last
one the server holds completely.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError

from edgebox.manifest import sha256_file
from edgebox.store import DocState
from sync.errors import Retry, SyncError
from sync.payload import DOCUMENTS_PATH, DocumentProgress

if TYPE_CHECKING:
    from sync.client import PushReport, SyncClient

CHUNK_BYTES = 256 * 1024
_SENT_UPTO = "documents_sent_upto"


def push_documents(client: SyncClient, report: PushReport, deadline: float) -> None:
    """Upload every triaged or reviewed document not yet held by the server."""
    store = client.store
    if store.outbox_counts().get("pending", 0):
        return  # results first: documents wait until the outbox is empty
    done = int(store.sync_state().get(_SENT_UPTO) or 0)
    ids = sorted(
        doc["id"]
        for state in (DocState.TRIAGED, DocState.REVIEWED)
        for doc in store.documents_in_state(state)
        if doc["id"] > done
    )
    uploader = _Uploader(client, report, deadline)
    for doc_id in ids:
        source = store.document(doc_id).get("source_path")
        path = Path(source) if source else None
        if path is not None and path.is_file():
            uploader.upload(doc_id, path)
            report.documents += 1
        store.update_sync_state({_SENT_UPTO: doc_id})


class _Uploader:
    """Chunked, resumable upload of one file at a time, every request counted."""

    def __init__(self, client: SyncClient, report: PushReport, deadline: float):
        self.client, self.report, self.deadline = client, report, deadline

    def upload(self, doc_id: int, path: Path) -> None:
        url = f"{DOCUMENTS_PATH}/{doc_id}"
        size = path.stat().st_size
        # The hash of the bytes sent, so the server's check is of this file.
        params = {"sha256": sha256_file(path), "size": size}
        start, complete = self._call(lambda: self.client.http.get(url), self._held)
        with path.open("rb") as handle:
            for _ in range(size // CHUNK_BYTES + 3):  # + room for a few resumes
                if complete:
                    return
                handle.seek(start)
                where = params | {"start": start}
                chunk = handle.read(CHUNK_BYTES)
                start, complete = self._call(
                    lambda where=where, chunk=chunk: self._put(url, where, chunk),
                    self._progress,
                )
            if complete:
                return
        raise SyncError(f"document {doc_id}: the upload did not complete")

    def _put(self, url: str, params: dict[str, Any], chunk: bytes) -> httpx.Response:
        self.report.bytes_sent += len(chunk)
        headers = {"Content-Type": "application/octet-stream"}
        return self.client.http.put(url, params=params, content=chunk, headers=headers)

    def _call(self, send: Any, accept: Any) -> Any:
        def counted() -> httpx.Response:
            self.report.requests += 1
            return send()

        try:
            return self.client.with_retries(counted, accept, self.deadline)
        except Retry as exc:
            raise SyncError(f"document upload: {exc.message}") from None

    @staticmethod
    def _held(response: httpx.Response) -> tuple[int, bool]:
        """Where to start: how many bytes the server holds (0 when none)."""
        if response.status_code == 404:
            return 0, False
        if response.status_code != 200:
            raise Retry(f"HTTP {response.status_code}")
        progress = _progress(response.content)
        return progress.received, progress.complete

    @staticmethod
    def _progress(response: httpx.Response) -> tuple[int, bool]:
        if response.status_code == 200:
            progress = _progress(response.content)
            return progress.received, progress.complete
        body = _json(response)
        if response.status_code == 409 and isinstance(body.get("received"), int):
            return body["received"], False  # resume where the server stopped
        raise Retry(f"HTTP {response.status_code}: {body.get('detail', '')}"[:200])


def _progress(content: bytes) -> DocumentProgress:
    try:
        return DocumentProgress.model_validate_json(content)
    except ValidationError:
        raise Retry("a 200 answer that is not the server's (captive portal?)") from None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
