"""The errors of the sync client and the central server."""

from __future__ import annotations

from edgebox.errors import EdgeboxError


class SyncError(EdgeboxError):
    title = "sync error"


class CentralUnavailable(SyncError):
    """The central database cannot be reached now; the client should retry."""

    title = "central database unavailable"


class DocumentConflict(SyncError):
    """A raw-document chunk does not continue what the server holds."""

    title = "document upload conflict"

    def __init__(self, message: str, *, received: int) -> None:
        super().__init__(message)
        self.received = received


class DocumentInvalid(SyncError):
    """A raw document's bytes do not match its declared size or sha256."""

    title = "invalid document upload"


class Retry(Exception):
    """This try failed in a way that another try may fix (not for people: the
    client turns the last one into a SyncError when it gives up)."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.message, self.retry_after_s = message, retry_after_s
