"""Raw documents, sent only when `[sync] send_documents = true`, after the
results, in chunks that resume where the server says it stopped (a link that
drops every few minutes still gets a large scan through, a piece at a time).

What is sent is the archived original (`data/archive/`, named by its sha256),
never the inbox path: the inbox file is gone once recorded, and a new scan
dropped under the same name belongs to another patient. Each document is
marked uploaded only once the server holds all of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError

from edgebox.errors import SyncError
from edgebox.store.outbox import ArchivedOriginal
from edgebox.sync.backoff import Retry
from edgebox.sync.payload import DOCUMENTS_PATH, DocumentProgress
from edgebox.triage.manifest import sha256_file

if TYPE_CHECKING:
    from edgebox.sync.client import PushReport, SyncClient

CHUNK_BYTES = 256 * 1024


class HeldElsewhere(SyncError):
    """The server holds another file under this document id (a box reinstalled
    under the same device name starts its ids again): never marked sent."""


def push_documents(client: SyncClient, report: PushReport, deadline: float) -> None:
    """Upload every triaged or reviewed document not yet held by the server; a
    document whose archived copy is missing or damaged is named in the report's
    problems and skipped, and the others still go."""
    store = client.store
    if store.outbox_counts().get("pending", 0):
        return  # results first: documents wait until the outbox is empty
    uploader = _Uploader(client, report, deadline)
    report.problems = []
    for doc in store.documents_to_upload():
        problem = _check_archived(doc)
        if problem:
            report.problems.append(problem)
            continue
        try:
            uploader.upload(doc.id, Path(doc.archive_path), doc.sha256)
        except HeldElsewhere as exc:
            report.problems.append(str(exc))
            continue
        store.mark_uploaded(doc.id)
        report.documents += 1


def _check_archived(doc: ArchivedOriginal) -> str | None:
    """Why this document's archived original cannot be sent, if it cannot (by
    id only: file names are often patients' names, and this goes to the log)."""
    path = Path(doc.archive_path) if doc.archive_path else None
    if path is None or not path.is_file():
        return f"document {doc.id}: its archived original is missing"
    try:
        digest = sha256_file(path)
    except OSError as exc:
        return f"document {doc.id}: its archived original cannot be read ({exc})"
    if digest != doc.sha256:
        return (
            f"document {doc.id}: its archived original no longer matches"
            " its sha256 (damaged disk?)"
        )
    return None


class _Uploader:
    """Chunked, resumable upload of one file at a time, every request counted."""

    def __init__(self, client: SyncClient, report: PushReport, deadline: float):
        self.client, self.report, self.deadline = client, report, deadline

    def upload(self, doc_id: int, path: Path, sha256: str) -> None:
        url = f"{DOCUMENTS_PATH}/{doc_id}"
        size = path.stat().st_size
        # The server checks the bytes it assembles against this hash.
        params = {"sha256": sha256, "size": size}
        held = self._call(lambda: self.client.http.get(url), self._held)
        if held is not None and held.sha256 != sha256:
            raise HeldElsewhere(
                f"document {doc_id}: the central server holds another file under"
                " this id (a box reinstalled under the same device name?)"
            )
        start, complete = (held.received, held.complete) if held else (0, False)
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
    def _held(response: httpx.Response) -> DocumentProgress | None:
        """What the server holds of this document; None when nothing."""
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Retry(f"HTTP {response.status_code}")
        return _progress(response.content)

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
