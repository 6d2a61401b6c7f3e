"""Saving and recalling the queue's filter (F and f): the store work in a
thread worker, the questions on screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from edgebox.store.saved_filters import (
    SavedFilter,
    delete_filter,
    save_filter,
    saved_filters,
)
from edgebox.tui.filters import Recall, SavedFiltersScreen, from_saved, to_saved

if TYPE_CHECKING:
    from edgebox.store import Store
    from edgebox.tui.app import EdgeboxApp
    from edgebox.tui.queue import QueueScreen


def recall_filter(queue: QueueScreen) -> None:
    """List the saved filters; the one picked fills the queue."""
    app = cast("EdgeboxApp", queue.app)

    def load() -> None:
        try:
            with app.opener() as store:
                saved = saved_filters(store.db)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            app.report("reading the saved filters", exc)
            return
        app.call_from_thread(show, saved)

    def show(saved: list[SavedFilter]) -> None:
        if not saved:
            queue.notify("No saved filter yet: F saves the one shown now.")
            return
        app.push_screen(SavedFiltersScreen(saved), picked)

    def picked(choice: Recall | None) -> None:
        if choice is None:
            return
        what, saved = choice
        if what == "use":
            queue.use_filter(*from_saved(saved))
            queue.notify(f"Filter: {saved.name}", markup=False)
        else:
            _write(queue, lambda store: delete_filter(store, saved.name),
                   f"Deleted the filter {saved.name}.")  # fmt: skip

    queue.run_worker(load, thread=True, group="saved", exit_on_error=False)


def save_current_filter(queue: QueueScreen) -> None:
    """Ask for a name, then save what the queue shows under it."""
    from edgebox.tui.prompt import PromptScreen

    app = cast("EdgeboxApp", queue.app)
    if app.read_only:
        queue.notify("The store is read-only here: cannot save a filter.")
        return

    def named(name: str | None) -> None:
        if not name:
            return
        saved = to_saved(name, queue.filters, queue.sort, queue.words)
        _write(
            queue,
            lambda store: save_filter(store, saved, by=app.reviewer),
            f"Saved as {saved.name}: f recalls it.",
        )

    label = "Save this filter as (enter saves; a name in use is replaced)"
    app.push_screen(PromptScreen(label, max_length=40, empty_ok=False), named)


def _write(queue: QueueScreen, change: Callable[[Store], object], done: str) -> None:
    app = cast("EdgeboxApp", queue.app)

    def run() -> None:
        try:
            with app.opener() as store:
                change(store)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            app.report("saved filters", exc)
            return
        app.call_from_thread(queue.notify, done, markup=False)

    queue.run_worker(run, thread=True, group="write", exit_on_error=False)
