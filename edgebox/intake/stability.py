"""When a dropped file is ready: quiet for a while, size and mtime unchanged,
and, for the formats that say where they end, ending.

A scanner writing slowly or a copy over SMB shows a file long before it is
complete (paperless-ngx users' "half-written scans taken too early"). The
tracker is pure: the caller brings the clock and the file's stat, so tests can
drive it with their own time. A scanner that pauses between pages for longer
than the quiet period leaves a PDF without its end-of-file marker: taken then,
the rest of the scan would be written to a file already removed from the inbox.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

_ENDINGS: tuple[tuple[bytes, bytes, int], ...] = (
    (b"%PDF-", b"%%EOF", 1024),  # readers look for the marker in the last 1 KB
    (b"\x89PNG\r\n\x1a\n", b"IEND", 12),  # the last chunk, nothing after it
)
"""(how the format starts, the marker it ends with, within how many bytes of
the end). JPEG and TIFF are left out: phones append data after a JPEG's end
marker, and a TIFF has none."""


def looks_complete(path: Path) -> bool:
    """False for a PDF or PNG whose end marker has not been written yet; True
    for every other file, and for one that cannot be looked at (the ingestor
    says why). Never follows a link, never blocks on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return True
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return True
        head = os.pread(fd, 8, 0)
        for start, end, within in _ENDINGS:
            if head.startswith(start):
                tail_at = max(0, info.st_size - within)
                return end in os.pread(fd, within, tail_at)
        return True
    except OSError:
        return True
    finally:
        os.close(fd)


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


class FileStabilityTracker:
    def __init__(self, *, quiet_s: float) -> None:
        self.quiet_s = quiet_s
        self._seen: dict[Path, _Seen] = {}

    def observe(self, path: Path, *, size: int, mtime_ns: int, now: float) -> None:
        """Note the file's current size and mtime; a change restarts its wait."""
        seen = self._seen.get(path)
        if seen is None or (seen.size, seen.mtime_ns) != (size, mtime_ns):
            self._seen[path] = _Seen(size, mtime_ns, now)

    def ready(self, now: float) -> list[Path]:
        """Files unchanged for at least `quiet_s`, oldest first."""
        return [
            path
            for path, seen in sorted(self._seen.items(), key=lambda kv: kv[1].since)
            if now - seen.since >= self.quiet_s
        ]

    def quiet_for(self, path: Path, now: float) -> float:
        """Seconds since `path` last changed (0 for a file not tracked)."""
        seen = self._seen.get(path)
        return 0.0 if seen is None else now - seen.since

    def tracked(self) -> list[Path]:
        return list(self._seen)

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def __len__(self) -> int:
        return len(self._seen)
