"""Taking a file out of the inbox: exactly once, and never losing it.

The file is hashed and copied into the content-addressed archive in one read,
recorded in one transaction (as a new document, or as a duplicate of the first
one with the same content), and only then removed from the inbox. After a crash
between the commit and the removal, the same file is recognised (same relative
path, size, mtime and content) and simply cleared.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from edgebox.archive import copy_into_archive, safe_name, write_quarantine_copy
from edgebox.config import Config
from edgebox.store import DocState, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What happened to one inbox file."""

    path: Path
    result: str
    """recorded | duplicate | quarantined | cleared | gone | changed | locked"""
    doc_id: int | None = None


class Ingestor:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    def ingest(self, path: Path) -> Outcome:
        """Record one inbox file (which the caller found stable) and clear it."""
        relative = str(path.relative_to(self.config.inbox_dir))
        try:
            info = path.lstat()
        except FileNotFoundError:
            return Outcome(path, "gone")  # deleted between the event and the read
        if stat.S_ISLNK(info.st_mode):
            return self._refuse_link(path, relative)
        if not stat.S_ISREG(info.st_mode):
            return Outcome(path, "gone")
        if info.st_size > self.config.ingest.max_bytes:
            return self._refuse_oversize(path, relative, info.st_size)
        try:
            sha, archived = copy_into_archive(path, self.config.archive_dir)
            after = path.stat()
        except FileNotFoundError:
            return Outcome(path, "gone")
        except OSError as exc:  # locked or unreadable for now: the next scan retries
            log.warning("cannot read %s yet: %s", relative, exc.strerror)
            return Outcome(path, "locked")
        if (after.st_size, after.st_mtime_ns) != (info.st_size, info.st_mtime_ns):
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
            path.unlink(missing_ok=True)
            return Outcome(path, "cleared", known["id"])
        first = self.store.find_by_sha256(sha)
        doc_id = self.store.add_document(
            file_name=path.name,
            source_path=str(path),
            relative_path=relative,
            mtime_ns=mtime_ns,
            archive_path=str(archived),
            sha256=sha,
            size=size,
            state=DocState.DUPLICATE if first else DocState.RECEIVED,
            duplicate_of=first["id"] if first else None,
        )
        # Committed: only now may the file leave the inbox.
        path.unlink(missing_ok=True)
        return Outcome(path, "duplicate" if first else "recorded", doc_id)

    def _refuse_link(self, path: Path, relative: str) -> Outcome:
        # A link may point outside the inbox (/etc/shadow, another patient's
        # folder): it is never followed. Only the link itself is removed.
        message = (
            f"{path.name}: a symbolic link is never followed; copy the file itself"
        )
        doc_id = self._record_refusal(path, relative, 0, "symlink", message)
        path.unlink(missing_ok=True)
        return Outcome(path, "quarantined", doc_id)

    def _refuse_oversize(self, path: Path, relative: str, size: int) -> Outcome:
        limit = self.config.ingest.max_bytes
        message = f"{path.name}: {size} bytes is over the {limit}-byte limit"
        doc_id = self._record_refusal(path, relative, size, "too_large", message)
        # Moved, not read: the file stays whole in the quarantine folder.
        target = self.config.quarantine_dir / f"{doc_id}-{safe_name(path.name)}"
        shutil.move(path, target)
        return Outcome(path, "quarantined", doc_id)

    def _record_refusal(
        self, path: Path, relative: str, size: int, code: str, message: str
    ) -> int:
        doc_id = self.store.add_document(
            file_name=path.name,
            source_path=str(path),
            relative_path=relative,
            sha256="",
            size=size,
            state=DocState.QUARANTINED,
            error_code=code,
            error_message=message,
        )
        write_quarantine_copy(
            self.config.quarantine_dir,
            doc_id=doc_id,
            file_name=path.name,
            original=None,
            reason=message,
        )
        return doc_id
