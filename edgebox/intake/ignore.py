"""Files in the inbox that are never documents: OS and editor junk."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
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
    return sorted(
        path
        for path in walk_files(inbox)
        if file_or_link(path) and not is_ignored(path.relative_to(inbox), ignore)
    )


def file_or_link(path: Path) -> bool:
    """A file, or a link (to be refused). False for what cannot be looked at:
    a subfolder that can be listed but not entered raises PermissionError on
    `Path.is_file()`, which stopped the service at start; it waits instead."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def walk_files(folder: Path) -> Iterator[Path]:
    """Every entry under `folder` that is not a folder (links never followed).

    Staff tidy subfolders away while a scan runs: os.walk skips a folder that
    vanished (or cannot be listed), where Path.rglob raises FileNotFoundError
    and would stop the service. No log line: this runs every few seconds.
    """
    for root, folders, files in os.walk(folder, onerror=_skip):
        base = Path(root)
        yield from (base / name for name in files)
        yield from (base / name for name in folders if (base / name).is_symlink())


def _skip(error: OSError) -> None:
    """A folder deleted or made unreadable mid-walk: nothing to list there."""
