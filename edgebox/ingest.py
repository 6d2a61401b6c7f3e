"""Taking a file out of the inbox: exactly once, and never losing it.

The file is hashed and copied into the content-addressed archive in one read,
recorded in one transaction (as a new document, as a duplicate of the first
one with the same content, or quarantined), and only then removed from the
inbox; the removal is marked on the document. After a crash between the commit
and that mark, the same file is recognised (same relative path, size, mtime and
content, no mark) and its last step is done again: the quarantine copy written,
the file cleared. The same file dropped again after its mark is a new drop.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebox.archive import (
    copy_into_archive,
    display_name,
    safe_name,
    write_quarantine_copy,
)
from edgebox.config import Config
from edgebox.store import DocState, Store
from edgebox.store.documents import duplicate_reason

log = logging.getLogger(__name__)

# Refusals whose file was never read: the file itself goes to the quarantine.
_MOVED = ("too_large", "unreadable")


@dataclass(frozen=True)
class Stuck:
    """A recorded inbox file that could not be removed, and how to know it is
    still the same file (not a new one dropped under its name)."""

    doc_id: int
    identity: tuple[int, int, int, int]
    """(device, inode, size, mtime_ns)"""

    @classmethod
    def of(cls, info: os.stat_result, doc_id: int) -> Stuck:
        return cls(doc_id, _identity(info))

    def same_file(self, info: os.stat_result) -> bool:
        return self.identity == _identity(info)


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


@dataclass(frozen=True)
class Outcome:
    """What happened to one inbox file."""

    path: Path
    result: str
    """recorded | duplicate | quarantined | cleared | gone | changed | locked |
    stuck (recorded, but the inbox file cannot be removed)"""
    doc_id: int | None = None


class Ingestor:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        stuck: dict[Path, Stuck] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._tries: dict[Path, int] = {}
        """Failed opens per path, to quarantine a file that never opens."""
        self.stuck = {} if stuck is None else stuck
        """Recorded files that cannot be removed (a read-only share), by path.
        Not read again while the same file stays; its removal is retried."""

    def ingest(self, path: Path) -> Outcome:
        """Record one inbox file (which the caller found stable) and clear it."""
        # Stored and shown under a printable name; read under its real one.
        relative = display_name(str(path.relative_to(self.config.inbox_dir)))
        try:
            info = path.lstat()
        except FileNotFoundError:
            return Outcome(path, "gone")  # deleted between the event and the read
        is_link = stat.S_ISLNK(info.st_mode)
        if not is_link and not stat.S_ISREG(info.st_mode):
            return Outcome(path, "gone")
        stuck = self.stuck.pop(path, None)
        if stuck is not None and stuck.same_file(info):
            return self._retry_removal(path, stuck)
        size = 0 if is_link else info.st_size
        refused = self.store.find_recorded_file(
            relative_path=relative, size=size, mtime_ns=info.st_mtime_ns, sha256=""
        )
        if refused is not None:  # a refusal whose last step a crash cut short
            return self._finish(path, info, refused, "cleared")
        if is_link:
            return self._refuse_link(path, relative, info)
        if size > self.config.ingest.max_bytes:
            return self._refuse_oversize(path, relative, info)
        return self._read(path, relative, info)

    def _read(self, path: Path, relative: str, info: os.stat_result) -> Outcome:
        try:
            sha, archived = copy_into_archive(path, self.config.archive_dir)
            after = path.stat()
        except FileNotFoundError:
            return Outcome(path, "gone")
        except OSError as exc:
            return self._unreadable(path, relative, info, exc)
        self._tries.pop(path, None)
        if _changed_since(info, after):
            return Outcome(path, "changed")  # still being written after all
        return self._record(path, relative, info, sha, archived)

    def _record(
        self, path: Path, relative: str, info: os.stat_result, sha: str, archived: Path
    ) -> Outcome:
        size, mtime_ns = info.st_size, info.st_mtime_ns
        known = self.store.find_recorded_file(
            relative_path=relative, size=size, mtime_ns=mtime_ns, sha256=sha
        )
        if known is not None:
            return self._finish(path, info, known, "cleared")
        name = display_name(path.name)
        # One write transaction from the look-up to the insert: the worker
        # cannot quarantine the first copy in between and leave this one a
        # plain duplicate of a quarantined document.
        with self.store.atomic():
            first = self.store.find_by_sha256(sha)
            state, code, message = _verdict(name, size, first)
            doc_id = self.store.add_document(
                file_name=name,
                source_path=display_name(str(path)),
                relative_path=relative,
                mtime_ns=mtime_ns,
                archive_path=str(archived),
                sha256=sha,
                size=size,
                state=state,
                duplicate_of=first["id"] if first else None,
                error_code=code,
                error_message=message,
            )
        result = {DocState.DUPLICATE: "duplicate", DocState.RECEIVED: "recorded"}
        return self._finish(
            path, info, self.store.document(doc_id), result.get(state, "quarantined")
        )

    def _finish(
        self, path: Path, info: os.stat_result, doc: dict[str, Any], result: str
    ) -> Outcome:
        """After the commit: the quarantine copy, then the inbox file goes.
        Every step may be done twice, so a crash here never records twice."""
        if doc["state"] == DocState.QUARANTINED and not self._quarantine(path, doc):
            return Outcome(path, "locked", doc["id"])
        try:
            now = path.lstat()
        except FileNotFoundError:
            now = None  # moved into the quarantine, or already gone
        if now is not None and _changed_since(info, now):
            # Rewritten since it was read: the new content is a new drop.
            log.warning(
                "document %s: its inbox file changed while it was taken;"
                " the new content is taken again",
                doc["id"],
            )
        else:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                # A read-only share: recorded once, and left unmarked so that a
                # later run recognises it instead of recording it again.
                if path not in self.stuck:
                    log.warning(
                        "document %s is recorded but its inbox file cannot be"
                        " removed (%s): check the inbox's permissions",
                        doc["id"],
                        exc.strerror,
                    )
                self.stuck[path] = Stuck.of(info, doc["id"])
                return Outcome(
                    path, "stuck" if result == "cleared" else result, doc["id"]
                )
        self.store.mark_inbox_cleared(doc["id"])
        return Outcome(path, result, doc["id"])

    def _retry_removal(self, path: Path, stuck: Stuck) -> Outcome:
        """The same recorded file, still there: try to remove it again (its
        permissions may have been fixed), without reading it or saying so."""
        try:
            path.unlink(missing_ok=True)
        except OSError:
            self.stuck[path] = stuck
            return Outcome(path, "stuck", stuck.doc_id)
        self.store.mark_inbox_cleared(stuck.doc_id)
        return Outcome(path, "cleared", stuck.doc_id)

    def _quarantine(self, path: Path, doc: dict[str, Any]) -> bool:
        """Put the reason (and the original) where staff see them; False when
        an unread file cannot be moved yet (the next scan tries again)."""
        code, message = doc["error_code"], doc["error_message"]
        write_quarantine_copy(
            self.config.quarantine_dir,
            doc_id=doc["id"],
            file_name=doc["file_name"],
            original=Path(doc["archive_path"]) if doc["archive_path"] else None,
            reason=f"{message}\n(reason code: {code}; document id {doc['id']})",
        )
        if code not in _MOVED or not path.exists():
            return True
        target = (
            self.config.quarantine_dir / f"{doc['id']}-{safe_name(doc['file_name'])}"
        )
        try:
            shutil.move(path, target)  # moved, not read: it stays whole
        except OSError as exc:  # unreadable and on another file system
            log.warning("cannot move document %s into quarantine: %s", doc["id"], exc)
            return False
        return True

    def _unreadable(
        self, path: Path, relative: str, info: os.stat_result, exc: OSError
    ) -> Outcome:
        if exc.filename != str(path):  # the archive's side: not this file's fault
            log.warning("cannot archive %s yet: %s", relative, exc.strerror)
            return Outcome(path, "locked")
        tries = self._tries.get(path, 0) + 1
        limit = self.config.ingest.max_attempts
        if tries < limit:  # locked for now (a scanner, an SMB lock): retried
            self._tries[path] = tries
            log.warning("cannot read %s yet (%s/%s): %s", relative, tries, limit,
                        exc.strerror)  # fmt: skip
            return Outcome(path, "locked")
        self._tries.pop(path, None)
        message = (
            f"{display_name(path.name)}: cannot read the file ({exc.strerror}),"
            f" {tries} tries; fix its permissions and drop it in again"
        )
        return self._refuse(path, relative, info, "unreadable", message)

    def _refuse_link(self, path: Path, relative: str, info: os.stat_result) -> Outcome:
        # A link may point outside the inbox (/etc/shadow, another patient's
        # folder): it is never followed. Only the link itself is removed.
        message = (
            f"{display_name(path.name)}: a symbolic link is never followed;"
            " copy the file itself"
        )
        return self._refuse(path, relative, info, "symlink", message)

    def _refuse_oversize(
        self, path: Path, relative: str, info: os.stat_result
    ) -> Outcome:
        limit = self.config.ingest.max_bytes
        message = (
            f"{display_name(path.name)}: {info.st_size} bytes is over the"
            f" {limit}-byte limit"
        )
        return self._refuse(path, relative, info, "too_large", message)

    def _refuse(
        self, path: Path, relative: str, info: os.stat_result, code: str, message: str
    ) -> Outcome:
        """Quarantine a file that is never read (sha256 "")."""
        doc_id = self.store.add_document(
            file_name=display_name(path.name),
            source_path=display_name(str(path)),
            relative_path=relative,
            mtime_ns=info.st_mtime_ns,
            sha256="",
            size=0 if stat.S_ISLNK(info.st_mode) else info.st_size,
            state=DocState.QUARANTINED,
            error_code=code,
            error_message=message,
        )
        return self._finish(path, info, self.store.document(doc_id), "quarantined")


def _verdict(
    name: str, size: int, first: dict[str, Any] | None
) -> tuple[DocState, str | None, str | None]:
    """State, error code and message of a newly read file."""
    if size == 0:
        return DocState.QUARANTINED, "empty", f"{name}: the file is empty"
    if first is None:
        return DocState.RECEIVED, None, None
    if first["state"] == DocState.QUARANTINED:
        # Its own reason and event: a copy of a bad file is not swallowed.
        return DocState.QUARANTINED, first["error_code"], duplicate_reason(name, first)
    return DocState.DUPLICATE, None, None


def _changed_since(before: os.stat_result, after: os.stat_result) -> bool:
    return (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)
