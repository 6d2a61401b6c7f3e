"""The edgebox terminal UI: queue, document, review, search and status screens.

A separate process on the same SQLite file as the service (WAL), so several can
be open at once. It never loads the triage model; the embedding model loads
only when someone searches, in a thread worker. A timer asks the store whether
anything changed (`PRAGMA data_version` on a connection kept for that) and the
screen on top reloads only then, and repaints only what differs.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
import threading
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding

from edgebox.config import Config
from edgebox.errors import EdgeboxError
from edgebox.store import Store
from edgebox.store.alerts import emergency_ids
from edgebox.tui.queue import QueueScreen
from edgebox.tui.snapshots import StoreOpener, open_store

REFRESH_S = 2.0


def reviewer_name() -> str | None:
    """Who is reviewing: $EDGEBOX_USER, else the login name; None: ask."""
    name = os.environ.get("EDGEBOX_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser().strip() or None
    except (OSError, KeyError, ImportError):
        return None


class EdgeboxApp(App[None]):
    """The app; `opener` gives each worker its own store connection."""

    CSS_PATH = "edgebox.tcss"
    TITLE = "edgebox"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        config: Config,
        *,
        opener: StoreOpener | None = None,
        reviewer: str | None = None,
        refresh_s: float = REFRESH_S,
    ) -> None:
        super().__init__()
        self.config = config
        self.opener = opener or StoreOpener(config.db_path)
        self.reviewer = reviewer or reviewer_name()
        self.refresh_s = refresh_s
        self.search_tools: Any = None
        """The embedder and vectors, made on first search (edgebox.tui.search)."""
        self.search_lock = threading.Lock()
        self._watch_store: Store | None = None
        self._seen_version: int | None = None
        self._watch_lock = threading.Lock()
        self._closing = False
        self._emergencies: dict[int, str] | None = None
        """Emergencies (id -> category) the store held at the last check; None
        before the first, which only learns what is already there."""

    @property
    def read_only(self) -> bool:
        return self.opener.read_only

    def on_mount(self) -> None:
        self.push_screen(QueueScreen())
        if self.read_only:
            self.notify(
                f"{self.opener.path} cannot be written: you can read, not review.",
                title="read-only store",
                severity="warning",
                timeout=10,
                markup=False,
            )
        self.set_interval(self.refresh_s, self.watch_store)

    def action_help(self) -> None:
        from edgebox.tui.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- errors ------------------------------------------------------------

    def report(self, action: str, exc: BaseException) -> None:
        """An error a person can act on, as a notification; never a crash.
        Safe to call from a worker thread."""
        if isinstance(exc, EdgeboxError):
            message, title = exc.message, exc.title
        elif isinstance(exc, sqlite3.Error):
            message, title = f"{exc} ({self.opener.path})", "store error"
        else:
            message, title = f"{type(exc).__name__}: {exc}", "unexpected error"
        self.notify(message, title=f"{action}: {title}", severity="error", markup=False)

    # -- live refresh ------------------------------------------------------

    @work(thread=True, group="watch", exit_on_error=False)
    def watch_store(self) -> None:
        """Tell the screen on top to reload when another process committed."""
        if not self._watch_lock.acquire(blocking=False):
            return  # the previous check is still running (a slow disk)
        try:
            if self._closing:
                return
            if self._watch_store is None:
                self._watch_store = self.opener()
            version = self._watch_store.data_version()
            arrived: dict[int, str] = {}
            if version != self._seen_version:
                arrived = self._new_emergencies(self._watch_store)
        except (EdgeboxError, sqlite3.Error):
            self._watch_store = None  # try a fresh connection next time
            return
        finally:
            self._watch_lock.release()
        if version != self._seen_version:
            self._seen_version = version
            self.call_from_thread(self._store_changed)
        if arrived:
            self.call_from_thread(self._emergency_arrived, arrived)

    def _new_emergencies(self, store: Store) -> dict[int, str]:
        now = emergency_ids(store.db)
        before, self._emergencies = self._emergencies, now
        if before is None:
            return {}
        return {doc: category for doc, category in now.items() if doc not in before}

    def _emergency_arrived(self, arrived: dict[int, str]) -> None:
        """Ring and show the banner (or add to the one already up)."""
        from edgebox.tui.alert import EmergencyBanner
        from edgebox.tui.document import DocumentScreen

        self.bell()
        if isinstance(self.screen, EmergencyBanner):
            self.screen.add(arrived)
            return

        def opened(doc_id: int | None) -> None:
            if doc_id is not None:
                self.push_screen(DocumentScreen(doc_id))

        self.push_screen(EmergencyBanner(arrived), opened)

    def _store_changed(self) -> None:
        from edgebox.tui.alert import EmergencyBanner

        # Under the emergency banner the screen still shows what arrived.
        shown = [s for s in self.screen_stack if not isinstance(s, EmergencyBanner)]
        reload = getattr(shown[-1], "reload", None) if shown else None
        if reload is not None:
            reload()

    def on_unmount(self) -> None:
        # Under the lock: closing a connection while a worker thread queries it
        # can bring the whole process down.
        self._closing = True
        if self._watch_lock.acquire(timeout=5):
            if self._watch_store is not None:
                self._watch_store.close()
                self._watch_store = None
            self._watch_lock.release()


def run_app(config: Config) -> None:
    """Run the UI on the configured store. A store that cannot be read (locked,
    not SQLite) raises StoreError naming the file, before the screen is taken
    over: the CLI prints it as one line. One that cannot be written opens
    read-only."""
    EdgeboxApp(config, opener=open_store(config.db_path)).run()
