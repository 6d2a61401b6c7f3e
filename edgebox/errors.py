"""The errors edgebox raises on purpose.

Library exceptions are translated once, where they happen (`raise ... from exc`),
into one of these; the CLI prints their message on one line, the service logs it
and carries on.
"""

import errno
import sqlite3


class EdgeboxError(Exception):
    """Root of every error edgebox raises for a person to read."""

    title = "edgebox error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class ConfigError(EdgeboxError):
    title = "configuration error"


class StoreError(EdgeboxError):
    title = "store error"


class ModelError(EdgeboxError):
    """The model file is missing, damaged or cannot be loaded."""

    title = "model error"


class TriageError(EdgeboxError):
    """One triage attempt failed (timeout, invalid output); the engine fails closed."""

    title = "triage error"


class ExtractError(EdgeboxError):
    """The text of a document could not be read."""

    title = "extraction error"

    def __init__(self, message: str, *, code: str, permanent: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent

    def __reduce__(self) -> tuple:
        # Raised in the extraction worker process and re-raised here: pickle
        # must carry the keyword-only fields.
        return (_extract_error, (self.message, self.code, self.permanent))


def _extract_error(message: str, code: str, permanent: bool) -> ExtractError:
    return ExtractError(message, code=code, permanent=permanent)


class SyncError(EdgeboxError):
    """The sync client or the central server could not do what was asked."""

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


class Cancelled(Exception):  # noqa: N818 - a request, not an error
    """The service is stopping: the work in hand (a model's answer, a slow
    extraction) was abandoned and its document left as it was, to be done at
    the next start. Not an EdgeboxError: nothing failed, nothing is recorded."""


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk (or the store's file system) is full: a
    condition to wait out, not a reason to stop and crash-loop under systemd."""
    cause: BaseException | None = exc
    while cause is not None:  # also when wrapped (a StoreError from sqlite3)
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(cause, sqlite3.OperationalError) and "disk is full" in str(cause):
            return True
        cause = cause.__cause__
    return False


class BundleError(EdgeboxError):
    """A bundle from the centre cannot be made, read, trusted or used; the
    message says which and why (the box keeps running on what it had)."""

    title = "bundle error"
