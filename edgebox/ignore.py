"""Files in the inbox that are never documents: OS and editor junk."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path, PurePath

DEFAULT_PATTERNS = (
    ".*",  # hidden files, .DS_Store, ._AppleDouble
    "Thumbs.db",
    "desktop.ini",
    "~$*",  # Office lock files
    "*.tmp",
    "*.part",
    "*.crdownload",
    "*.swp",
    "*~",
    "*.reason.txt",
)


def is_ignored(relative: PurePath, extra: Iterable[str] = ()) -> bool:
    """Whether any part of the path matches a default or a user pattern.

    The user's patterns add to the defaults, never replace them.
    """
    patterns = (*DEFAULT_PATTERNS, *extra)
    return any(fnmatch(part, p) for part in relative.parts for p in patterns)


def inbox_files(inbox: Path, ignore: tuple[str, ...] = ()) -> list[Path]:
    """Files in the inbox and its subfolders (junk and links to folders skipped),
    in a stable order. Symbolic links to files are listed: they get refused."""
    if not inbox.is_dir():
        return []
    return sorted(
        path
        for path in inbox.rglob("*")
        if (path.is_symlink() or path.is_file())
        and not is_ignored(path.relative_to(inbox), ignore)
    )
