"""The inbox watcher: watchdog events, a scan at start and periodic rescans.

Events get lost on network shares and container mounts (paperless-ngx's "files
never picked up"), so a full rescan backs them up. The watchdog handler only
records paths in a queue: all work happens on the caller's thread. A path that
has been handed out stays in the in-flight set until `done()`, so stray events
never queue it twice. A path whose folder has become a link (a subfolder
swapped for a link to somewhere else) is dropped: what is behind it is not in
the inbox, and the link itself is found and refused like any other.
"""

from __future__ import annotations

import logging
import queue
import stat
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from edgebox.intake.archive import log_name
from edgebox.intake.ignore import file_or_link, is_ignored, walk_files
from edgebox.intake.stability import FileStabilityTracker, looks_complete

log = logging.getLogger(__name__)


class _RecordPaths(FileSystemEventHandler):
    def __init__(self, paths: queue.SimpleQueue[Path]) -> None:
        self.paths = paths

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.paths.put(Path(str(raw)))


class InboxWatcher:
    def __init__(
        self,
        inbox: Path,
        *,
        quiet_s: float,
        rescan_s: float,
        incomplete_wait_s: float = 300.0,
        ignore: tuple[str, ...] = (),
        clock: Callable[[], float] = time.monotonic,
        use_events: bool = True,
    ) -> None:
        self.inbox = inbox
        self.rescan_s = rescan_s
        self.incomplete_wait_s = incomplete_wait_s
        self.ignore = ignore
        self.clock = clock
        self.tracker = FileStabilityTracker(quiet_s=quiet_s)
        self.in_flight: set[Path] = set()
        self._events: queue.SimpleQueue[Path] = queue.SimpleQueue()
        self._observer: Observer | None = None
        self._use_events = use_events
        self._last_scan = float("-inf")

    def start(self) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        if self._use_events:
            self._observer = Observer()
            self._observer.schedule(
                _RecordPaths(self._events), str(self.inbox), recursive=True
            )
            self._observer.start()

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def poll(self) -> list[Path]:
        """Files that are ready now; each is handed out once until `done()`."""
        now = self.clock()
        candidates: set[Path] = set()
        while not self._events.empty():
            candidates.update(self._expand(self._events.get_nowait()))
        if now - self._last_scan >= self.rescan_s:
            self._last_scan = now
            candidates.update(self._expand(self.inbox))
        for path in candidates | set(self.tracker.tracked()):
            self._observe(path, now)
        ready = [
            path
            for path in self.tracker.ready(now)
            if path not in self.in_flight and self._whole(path, now)
        ]
        self.in_flight.update(ready)
        return ready

    def done(self, path: Path) -> None:
        self.tracker.forget(path)
        self.in_flight.discard(path)

    def later(self, path: Path) -> None:
        """Hand `path` out again at a later poll: it could not be taken now."""
        self.in_flight.discard(path)

    def waiting(self) -> int:
        """Files seen in the inbox and not yet taken."""
        return len(self.tracker)

    def tracked(self) -> list[Path]:
        """Those files."""
        return list(self.tracker.tracked())

    def _whole(self, path: Path, now: float) -> bool:
        """Whether a quiet file looks whole; one that does not is taken after
        `incomplete_wait_s` anyway (a damaged PDF is then quarantined)."""
        if looks_complete(path):
            return True
        waited = self.tracker.quiet_for(path, now)
        if waited < self.incomplete_wait_s:
            return False
        log.warning(
            "taking %s, still without its end-of-file marker after %.0f s",
            log_name(str(path.relative_to(self.inbox))),
            waited,
        )
        return True

    def _expand(self, path: Path) -> set[Path]:
        """A path, or every file under it (a folder dropped with 500 files)."""
        try:
            if _behind_a_link(self.inbox, path):
                return set()
            if path.is_dir() and not path.is_symlink():
                return {p for p in walk_files(path) if file_or_link(p)}
        except OSError:  # a folder that can be listed but not entered
            return set()
        return {path}

    def _observe(self, path: Path, now: float) -> None:
        if _behind_a_link(self.inbox, path):
            self.tracker.forget(path)  # its folder is a link now: not in the inbox
            return
        try:
            relative = path.relative_to(self.inbox)
            info = path.lstat()
        except (ValueError, OSError):
            self.tracker.forget(path)  # outside the inbox, or gone
            return
        # lstat, not is_dir(): a link to a folder is handed out (and refused as
        # a link), never skipped forever while the inbox still lists it.
        if stat.S_ISDIR(info.st_mode) or is_ignored(relative, self.ignore):
            return
        self.tracker.observe(
            path, size=info.st_size, mtime_ns=info.st_mtime_ns, now=now
        )


def _behind_a_link(inbox: Path, path: Path) -> bool:
    """Whether a folder between the inbox and `path` is a symbolic link (so
    that `path` is really outside the inbox); False for a path outside it.
    A folder that cannot be looked at counts as one: nothing is taken there."""
    try:
        folders = path.relative_to(inbox).parents[:-1]  # "." is the inbox itself
    except ValueError:
        return False
    try:
        return any((inbox / folder).is_symlink() for folder in folders)
    except OSError:
        return True
