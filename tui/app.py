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
import time
from collections.abc import Callable
from typing import Any

from textual import events, work
from textual.app import App
from textual.binding import Binding

from edgebox.config import Config
from edgebox.errors import EdgeboxError
from edgebox.i18n import _, activate, choose
from edgebox.store import Store
from edgebox.store.alerts import emergency_ids
from edgebox.store.staff import sign_in, staff_registered
from edgebox.tui.queue import QueueScreen
from edgebox.tui.snapshots import StoreOpener, open_store
from edgebox.tui.text import use_date_style

REFRESH_S = 2.0
IDLE_CHECK_S = 5.0


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
        use_date_style(config.ui.dates)
        activate(choose(config.ui.language))
        self.opener = opener or StoreOpener(config.db_path)
        self.reviewer = reviewer or reviewer_name()
        self.signed = _how_named(reviewer)
        """How the reviewer's name was vouched for, kept in the audit: `pin`,
        `EDGEBOX_USER`, `login`, `typed` or `given` (by the caller)."""
        self.sign_in_required = False
        """Reviewers are registered: a name counts only with its PIN."""
        self._last_key = time.monotonic()
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
        self.push_screen(
            QueueScreen(to_review=self.config.ui.start_view == "to_review")
        )
        try:
            with self.opener() as store:
                self.sign_in_required = staff_registered(store.db)
        except (EdgeboxError, sqlite3.Error):
            self.sign_in_required = False  # the queue screen reports the store
        if self.sign_in_required:
            self.reviewer = None
            self.ask_who(lambda: None, why=_("Sign in to review."))
            timeout_min = self.config.ui.sign_out_after_min
            if timeout_min > 0:
                self.set_interval(min(IDLE_CHECK_S, timeout_min * 60), self._idle)
        if self.read_only:
            self.notify(
                f"{self.opener.path} cannot be written: you can read, not review.",
                title="read-only store",
                severity="warning",
                timeout=10,
                markup=False,
            )
        self.set_interval(self.refresh_s, self.watch_store)

    # -- who is reviewing -----------------------------------------------------

    def ask_who(self, then: Callable[[], object], *, why: str = "") -> None:
        """Learn who is reviewing, then run `then`: a name and PIN where
        reviewers are registered, else a name (nobody set one)."""
        from edgebox.tui.review import NameScreen
        from edgebox.tui.signin import SignInScreen

        def named(name: str | None, how: str) -> None:
            if name:
                self.reviewer, self.signed = name, how
                self._last_key = time.monotonic()
                self._show_reviewer()
                then()

        if self.sign_in_required:
            screen = SignInScreen(self._check_pin, why or _("Sign in to review."))
            self.push_screen(screen, lambda name: named(name, "pin"))
        else:
            self.push_screen(NameScreen(), lambda name: named(name, "typed"))

    def ask_who_then(self, then: Callable[[], object]) -> None:
        """Run `then` as the known reviewer, asking who that is if nobody is."""
        if self.reviewer:
            then()
        else:
            self.ask_who(then)

    def _check_pin(self, name: str, pin: str) -> str | None:
        try:
            with self.opener() as store:
                return sign_in(store.db, name, pin)
        except (EdgeboxError, sqlite3.Error) as exc:
            self.report("sign in", exc)
            return None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key = time.monotonic()
        await super().on_event(event)

    def _idle(self) -> None:
        """Sign out after the configured idle time: the next person at a shared
        terminal must not review under the last one's name."""
        from edgebox.tui.signin import SignInScreen

        limit = self.config.ui.sign_out_after_min * 60
        if self.reviewer is None or time.monotonic() - self._last_key < limit:
            return
        if isinstance(self.screen, SignInScreen):
            return
        self.reviewer = None
        self._show_reviewer()
        minutes = self.config.ui.sign_out_after_min
        self.ask_who(
            lambda: None,
            why=_("Signed out after {minutes:g} idle minutes.").format(minutes=minutes),
        )

    def _show_reviewer(self) -> None:
        from edgebox.tui.topbar import TopBar

        for screen in self.screen_stack:
            for bar in screen.query(TopBar):
                bar.show()

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


def _how_named(given: str | None) -> str:
    if given:
        return "given"
    return "EDGEBOX_USER" if os.environ.get("EDGEBOX_USER", "").strip() else "login"


def run_app(config: Config) -> None:
    """Run the UI on the configured store. A store that cannot be read (locked,
    not SQLite) raises StoreError naming the file, before the screen is taken
    over: the CLI prints it as one line. One that cannot be written opens
    read-only."""
    EdgeboxApp(config, opener=open_store(config.db_path)).run()
