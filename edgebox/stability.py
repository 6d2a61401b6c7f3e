"""When a dropped file is ready: quiet for a while, size and mtime unchanged.

A scanner writing slowly or a copy over SMB shows a file long before it is
complete (paperless-ngx users' "half-written scans taken too early"). The
tracker is pure: the caller brings the clock and the file's stat, so tests can
drive it with their own time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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

    def tracked(self) -> list[Path]:
        return list(self._seen)

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def __len__(self) -> int:
        return len(self._seen)
