"""Taking a file out of the inbox: exactly once, and never losing it.

The file is hashed and copied into the content-addressed archive in one read,
recorded in one transaction (as a new document, as a duplicate of the first
one with the same content, or quarantined), and only then removed from the
inbox; the removal is marked on the document. After a crash between the commit
and that mark, the same file is recognised (same relative path, size, mtime and
content, no mark) and its last step is done again: the quarantine copy written,
the file cleared. The same file dropped again after its mark is a new drop.

Every look at, read of and removal of an inbox file goes through a descriptor
of its folder, entered one part at a time from the inbox without following a
link (an `_InboxFile`): a subfolder swapped for a link to /etc or to another
patient's folder, even after the file was seen, is refused as a link and
nothing behind it is touched; the file itself is opened with O_NOFOLLOW and
must be the one that was looked at.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import shutil
import stat
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from edgebox.config import Config
from edgebox.errors import disk_full
from edgebox.intake.archive import (
    copy_into_archive,
    display_name,
    log_name,
    safe_name,
    write_quarantine_copy,
)
from edgebox.store import DocState, Store
from edgebox.store.documents import duplicate_reason

log = logging.getLogger(__name__)

# Refusals whose file was never read: the file itself goes to the quarantine.
_MOVED = ("too_large", "unreadable")
# O_PATH: a folder is entered with search permission alone, as a path would be.
_FOLDER = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW
# O_NONBLOCK: a FIFO swapped in after the look is refused, never waited on.
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


@dataclass(frozen=True)
class Stuck:
    """A recorded inbox file that could not be removed, and how to know it is
    still the same file (not a new one dropped under its name)."""

    doc_id: int
    identity: tuple[int, int, int, int]
    """(device, inode, size, mtime_ns)"""
    unmoved: bool = False
    """An unread file (too large, unreadable) that could not be moved into
    the quarantine: its move is retried, never its removal (nothing else
    holds its content)."""

    @classmethod
    def of(cls, info: os.stat_result, doc_id: int, *, unmoved: bool = False) -> Stuck:
        return cls(doc_id, _identity(info), unmoved)

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
        self.stuck = {} if stuck is None else stuck
        """Recorded files that cannot be removed (a read-only share), by path.
        Not read again while the same file stays; its removal is retried."""

    def ingest(self, path: Path) -> Outcome:
        """Record one inbox file (which the caller found stable) and clear it."""
        with ExitStack() as open_folders:
            try:
                folder = _enter_folder(open_folders, self.config.inbox_dir, path)
            except _LinkOnTheWay as found:
                # Swapped in after the file was seen: the link is what is
                # refused (and removed); what it points to is never touched.
                return dataclasses.replace(self.ingest(found.link), path=path)
            except (FileNotFoundError, NotADirectoryError):
                return Outcome(path, "gone")  # its folder was tidied away
            relative = path.relative_to(self.config.inbox_dir)
            return self._take(_InboxFile(path, display_name(str(relative)), folder))

    def _take(self, file: _InboxFile) -> Outcome:
        path = file.path
        try:
            info = file.lstat()
        except FileNotFoundError:
            return Outcome(path, "gone")  # deleted between the event and the read
        is_link = stat.S_ISLNK(info.st_mode)
        if not is_link and not stat.S_ISREG(info.st_mode):
            return Outcome(path, "gone")
        stuck = self.stuck.pop(path, None)
        if stuck is not None and stuck.same_file(info):
            if stuck.unmoved:  # the move is tried again, without a word
                doc = self.store.document(stuck.doc_id)
                return self._finish(file, info, doc, "cleared", quiet=True)
            return self._retry_removal(file, stuck)
        size = 0 if is_link else info.st_size
        refused = self.store.find_recorded_file(
            relative_path=file.relative,
            size=size,
            mtime_ns=info.st_mtime_ns,
            sha256="",
        )
        if refused is not None:  # a refusal whose last step a crash cut short
            return self._finish(file, info, refused, "cleared")
        if is_link:
            return self._refuse_link(file, info)
        if size > self.config.ingest.max_bytes:
            return self._refuse_oversize(file, info)
        return self._read(file, info)

    def _read(self, file: _InboxFile, info: os.stat_result) -> Outcome:
        try:
            reader = file.open(info)
        except FileNotFoundError:
            return Outcome(file.path, "gone")
        except _Replaced:  # a link or another file since the look: looked at again
            return Outcome(file.path, "changed")
        except OSError as exc:
            return self._unreadable(file, info, exc)
        try:
            with reader:
                sha, archived = copy_into_archive(
                    _SourceReads(reader), self.config.archive_dir
                )
            after = file.lstat()
        except _ReadFailed as failed:  # the file's side: a try, as a failed open
            return self._unreadable(file, info, failed.error)
        except FileNotFoundError:
            return Outcome(file.path, "gone")
        except OSError as exc:  # the archive's side: not this file's fault
            if disk_full(exc):
                raise  # the service waits it out, files left where they are
            log.warning(
                "cannot archive %s yet: %s", log_name(file.relative), exc.strerror
            )
            return Outcome(file.path, "locked")
        if _changed_since(info, after):
            return Outcome(file.path, "changed")  # still being written after all
        return self._record(file, info, sha, archived)

    def _record(
        self, file: _InboxFile, info: os.stat_result, sha: str, archived: Path
    ) -> Outcome:
        path = file.path
        size, mtime_ns = info.st_size, info.st_mtime_ns
        known = self.store.find_recorded_file(
            relative_path=file.relative, size=size, mtime_ns=mtime_ns, sha256=sha
        )
        if known is not None:
            return self._finish(file, info, known, "cleared")
        name = display_name(path.name)
        # One write transaction from the look-up to the insert: the worker
        # cannot quarantine the first copy in between and leave this one a
        # plain duplicate of a quarantined document.
        with self.store.atomic():
            # Read at last: earlier failed tries of this path count no more.
            self.store.forget_file_attempts(file.relative)
            first = self.store.find_by_sha256(sha)
            state, code, message = _verdict(name, size, first)
            doc_id = self.store.add_document(
                file_name=name,
                source_path=display_name(str(path)),
                relative_path=file.relative,
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
            file, info, self.store.document(doc_id), result.get(state, "quarantined")
        )

    def _finish(
        self,
        file: _InboxFile,
        info: os.stat_result,
        doc: dict[str, Any],
        result: str,
        *,
        quiet: bool = False,
    ) -> Outcome:
        """After the commit: the quarantine copy, then the inbox file goes.
        Every step may be done twice, so a crash here never records twice."""
        path = file.path
        if doc["state"] == DocState.QUARANTINED and not self._quarantine(
            file, doc, quiet=quiet
        ):
            # It stays where it is, recorded, and is not looked at again
            # (nor logged at every scan) while it stays the same file.
            self.stuck[path] = Stuck.of(info, doc["id"], unmoved=True)
            return Outcome(path, "stuck" if result == "cleared" else result, doc["id"])
        try:
            now = file.lstat()
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
                file.unlink()
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

    def _retry_removal(self, file: _InboxFile, stuck: Stuck) -> Outcome:
        """The same recorded file, still there: try to remove it again (its
        permissions may have been fixed), without reading it or saying so."""
        try:
            file.unlink()
        except OSError:
            self.stuck[file.path] = stuck
            return Outcome(file.path, "stuck", stuck.doc_id)
        self.store.mark_inbox_cleared(stuck.doc_id)
        return Outcome(file.path, "cleared", stuck.doc_id)

    def _quarantine(
        self, file: _InboxFile, doc: dict[str, Any], *, quiet: bool = False
    ) -> bool:
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
        if code not in _MOVED or not file.exists():
            return True
        target = (
            self.config.quarantine_dir / f"{doc['id']}-{safe_name(doc['file_name'])}"
        )
        try:
            file.move_to(target)
        except OSError as exc:  # unreadable and on another file system
            if not quiet:
                log.warning(
                    "cannot move document %s into quarantine (%s): it stays in"
                    " the inbox, its reason in the quarantine folder",
                    doc["id"],
                    exc.strerror or exc,
                )
            return False
        return True

    def _unreadable(
        self, file: _InboxFile, info: os.stat_result, exc: OSError
    ) -> Outcome:
        path = file.path
        # Counted in the store: a restart or the next `edgebox process` goes on
        # from here, so a file that never reads is quarantined in the end.
        identity = ":".join(str(part) for part in _identity(info))
        tries = self.store.count_file_attempt(
            file.relative, identity, exc.strerror or str(exc)
        )
        limit = self.config.ingest.max_attempts
        if tries < limit:  # locked for now (a scanner, an SMB lock): retried
            log.warning("cannot read %s yet (%s/%s): %s", log_name(file.relative),
                        tries, limit, exc.strerror)  # fmt: skip
            return Outcome(path, "locked")
        self.store.forget_file_attempts(file.relative)
        if exc.errno in (errno.EACCES, errno.EPERM):
            fix = "fix its permissions and drop it in again"
        else:  # EIO and the like: the copy on this disk or share is bad
            fix = "copy it again from its source"
        message = (
            f"{display_name(path.name)}: cannot read the file ({exc.strerror}),"
            f" {tries} tries; {fix}"
        )
        return self._refuse(file, info, "unreadable", message)

    def _refuse_link(self, file: _InboxFile, info: os.stat_result) -> Outcome:
        # A link may point outside the inbox (/etc/shadow, another patient's
        # folder): it is never followed. Only the link itself is removed.
        message = (
            f"{file.relative}: a symbolic link is never followed; copy the file itself"
        )
        return self._refuse(file, info, "symlink", message)

    def _refuse_oversize(self, file: _InboxFile, info: os.stat_result) -> Outcome:
        limit = self.config.ingest.max_bytes
        message = (
            f"{display_name(file.path.name)}: {info.st_size} bytes is over the"
            f" {limit}-byte limit"
        )
        return self._refuse(file, info, "too_large", message)

    def _refuse(
        self, file: _InboxFile, info: os.stat_result, code: str, message: str
    ) -> Outcome:
        """Quarantine a file that is never read (sha256 "")."""
        path = file.path
        doc_id = self.store.add_document(
            file_name=display_name(path.name),
            source_path=display_name(str(path)),
            relative_path=file.relative,
            mtime_ns=info.st_mtime_ns,
            sha256="",
            size=0 if stat.S_ISLNK(info.st_mode) else info.st_size,
            state=DocState.QUARANTINED,
            error_code=code,
            error_message=message,
        )
        return self._finish(file, info, self.store.document(doc_id), "quarantined")


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


class _LinkOnTheWay(Exception):
    """A folder between the inbox and a file is a symbolic link."""

    def __init__(self, link: Path) -> None:
        super().__init__(str(link))
        self.link = link


class _ReadFailed(Exception):
    """Reading the inbox file failed after it opened (EIO on a flaky share).
    Not an OSError, so that it is never taken for the archive's trouble."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _SourceReads:
    """The inbox file's reads, told apart from the archive's writes: a read
    error is the file's and counts towards its quarantine; a write error is
    the box's (a full disk) and never does."""

    def __init__(self, reader: BinaryIO) -> None:
        self._reader = reader

    def read(self, size: int = -1) -> bytes:
        try:
            return self._reader.read(size)
        except OSError as exc:
            raise _ReadFailed(exc) from exc


class _Replaced(OSError):
    """The name no longer holds the file that was looked at (a link, a FIFO or
    another file put in its place since)."""


def _enter_folder(open_folders: ExitStack, inbox: Path, path: Path) -> int:
    """A descriptor of `path`'s folder, entered from the inbox one part at a
    time without following a link; kept open until `open_folders` closes."""
    folder = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY)
    open_folders.callback(os.close, folder)
    parts = path.relative_to(inbox).parts[:-1]
    for depth, part in enumerate(parts, start=1):
        try:
            folder = os.open(part, _FOLDER, dir_fd=folder)
        except OSError as exc:
            if _is_link(part, folder):
                raise _LinkOnTheWay(inbox.joinpath(*parts[:depth])) from exc
            raise
        open_folders.callback(os.close, folder)
    return folder


def _is_link(name: str, folder: int) -> bool:
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISLNK(info.st_mode)


@dataclass(frozen=True)
class _InboxFile:
    """An inbox file named inside its folder's descriptor: a folder on its
    path swapped for a link after `_enter_folder` changes nothing here."""

    path: Path
    """Where it was seen: the key for outcomes, tries and stuck files."""
    relative: str
    """Its path in the inbox, as stored and shown (read under its real name)."""
    folder: int

    def lstat(self) -> os.stat_result:
        return os.stat(self.path.name, dir_fd=self.folder, follow_symlinks=False)

    def exists(self) -> bool:
        try:
            self.lstat()
        except FileNotFoundError:
            return False
        return True

    def open(self, looked_at: os.stat_result) -> BinaryIO:
        """The file that was looked at, never what a link put since points to."""
        try:
            fd = os.open(self.path.name, _FILE, dir_fd=self.folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a link since the look
                raise _Replaced(exc.errno, exc.strerror, str(self.path)) from exc
            raise
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (looked_at.st_dev, looked_at.st_ino):
            os.close(fd)
            raise _Replaced(errno.ESTALE, "replaced since it was seen", str(self.path))
        return os.fdopen(fd, "rb")

    def unlink(self) -> None:
        """Remove the name (of a hard link: only that link); gone is fine."""
        with suppress(FileNotFoundError):
            os.unlink(self.path.name, dir_fd=self.folder)

    def move_to(self, target: Path) -> None:
        """Moved, not read, so it stays whole; across file systems copied
        (through `open`, never through a link) and then removed."""
        try:
            os.rename(self.path.name, target, src_dir_fd=self.folder)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            with self.open(self.lstat()) as reader, target.open("wb") as writer:
                shutil.copyfileobj(reader, writer)
            self.unlink()
