"""The content-addressed archive of originals, and the quarantine folder.

An original is written to a temporary file, fsynced, and renamed into place, so
the archive never holds half a file; its name is its sha256, so the same
content is stored once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

CHUNK = 1 << 20
INCOMING = ".incoming-"
"""The prefix of a copy under way (see `sweep_incoming`)."""


class Readable(Protocol):
    """What the archive copies from: an open file, or the ingestor's wrapper
    that tells the file's read errors from the archive's write errors."""

    def read(self, size: int = -1, /) -> bytes: ...


def archive_path(archive_dir: Path, sha256: str) -> Path:
    return archive_dir / sha256[:2] / sha256


def copy_into_archive(reader: Readable, archive_dir: Path) -> tuple[str, Path]:
    """Hash and copy an open file in one read; return (sha256, archived path).

    The caller opens the file: only it knows where it may be opened from (the
    ingestor refuses links on the way into the inbox).
    """
    archive_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, tmp_name = tempfile.mkstemp(dir=archive_dir, prefix=INCOMING)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        sha = digest.hexdigest()
        target = archive_path(archive_dir, sha)
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            tmp.unlink()
        else:
            tmp.replace(target)
            _fsync_dir(target.parent)
        return sha, target
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sweep_incoming(archive_dir: Path) -> list[Path]:
    """Remove the copies a killed process left half-made (`kill -9` or a power
    cut mid-copy: `copy_into_archive` had no chance to remove its temporary
    file). They hold patient text and nothing ever finishes them.

    Only the holder of the workspace lock copies into the archive, so this is
    called right after taking it, when no copy can be under way."""
    removed: list[Path] = []
    try:
        leftovers = [p for p in archive_dir.iterdir() if p.name.startswith(INCOMING)]
    except FileNotFoundError:
        return removed
    for path in leftovers:
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def write_quarantine_copy(
    quarantine_dir: Path,
    *,
    doc_id: int,
    file_name: str,
    original: Path | None,
    reason: str,
) -> Path:
    """Put a copy of the original and `<name>.reason.txt` where staff can see them."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    name = f"{doc_id}-{safe_name(file_name)}"
    if original is not None and original.is_file():
        shutil.copyfile(original, quarantine_dir / name)
    reason_file = quarantine_dir / f"{name}.reason.txt"
    reason_file.write_text(reason + "\n", encoding="utf-8")
    return reason_file


def clear_quarantine_copy(quarantine_dir: Path, *, doc_id: int, file_name: str) -> None:
    name = f"{doc_id}-{safe_name(file_name)}"
    for path in (quarantine_dir / name, quarantine_dir / f"{name}.reason.txt"):
        path.unlink(missing_ok=True)


def display_name(name: str) -> str:
    """A name that can be stored and shown: a byte that is not UTF-8 (a Latin-1
    "é" from a Windows share) becomes U+FFFD.

    Python gives such names as lone surrogates, which SQLite, JSON and the
    terminal all refuse; file operations keep using the real path. Logs take
    `log_name`, which also escapes control characters.
    """
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def log_name(name: str) -> str:
    """A name for one log line: control characters, line separators and the
    backslash escaped as repr does (without its quotes), so that a file named
    "a\\nERROR forged.txt" cannot forge a second line nor colour the terminal."""
    return "".join(
        ch if _printable(ch) else ch.encode("unicode_escape").decode("ascii")
        for ch in display_name(name)
    )


def _printable(ch: str) -> bool:
    """ASCII space and what Unicode calls printable, the backslash aside."""
    return ch == " " or (ch.isprintable() and ch != "\\")


# A file name holds 255 bytes; "<id>-" and ".reason.txt" take up to 35 more.
NAME_BYTES = 220
NAME_CHARS = 150


def safe_name(name: str) -> str:
    """A file name without path separators, control characters (C1 and line
    separators too) or `..`, short enough in bytes for the id prefix and the
    `.reason.txt` suffix."""
    cleaned = "".join(
        "_" if ch == "/" or not _printable(ch) else ch for ch in display_name(name)
    )
    return _shorten(cleaned.replace("..", "_").strip(" .")) or "document"


def _shorten(name: str) -> str:
    """Cut to NAME_CHARS characters and NAME_BYTES UTF-8 bytes (at a character
    boundary), keeping a short extension so the quarantined copy still opens."""
    if len(name) <= NAME_CHARS and len(name.encode()) <= NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    suffix = dot + ext if stem and len(ext) <= 10 else ""
    stem = name[: len(name) - len(suffix)][: NAME_CHARS - len(suffix)]
    room = NAME_BYTES - len(suffix.encode())
    return stem.encode()[:room].decode(errors="ignore") + suffix


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def export_copy(original: Path, file_name: str, folder: Path) -> Path:
    """Copy an archived original into `folder` (made if missing) under its
    own, made-safe name; NAME-2, NAME-3 ... where that is taken: never
    overwrites a file there."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_name(file_name)
    stem, suffix, n = target.stem, target.suffix, 2
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    shutil.copyfile(original, target)
    return target
