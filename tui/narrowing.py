"""The queue's order and narrowing: sort by any column (o, O), words (w),
saved filters (F, f) and the way to the patient view (p). Mixed into
QueueScreen, which holds the state and reloads; the store does the sorting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from edgebox.i18n import N_, _
from edgebox.store.filters import DocumentFilter
from edgebox.store.sorting import SORT_COLUMNS, QueueSort

COLUMNS = (N_("urgency"), N_("category"), N_("summary"), N_("received"), N_("state"))
"""The queue's columns, left to right; each is a sort key of the store."""


@dataclass(frozen=True)
class QueueAsk:
    """What the queue asks the store for: a page is stale when this changed."""

    filters: DocumentFilter
    sort: QueueSort
    words: str | None
    patient: str | None


class QueueNarrowing:
    """Sort, words, saved filters; mixed into QueueScreen."""

    filters: DocumentFilter
    sort: QueueSort
    words: str | None
    to_top: bool
    app: Any

    if TYPE_CHECKING:  # provided by QueueScreen and its Screen

        def _set_filters(self, filters: DocumentFilter) -> None: ...

        def query_one(self, selector: Any) -> Any: ...

    def _narrowed(self) -> bool:
        """Filters or words beyond the view (t) narrow what is listed."""
        return (
            bool(self.words)
            or replace(self.filters, to_review=False) != DocumentFilter()
        )

    def _show_sort(self) -> None:
        """The sorted column's header carries an arrow: ↓ as the default reads
        (most urgent, A to Z, oldest first), ↑ reversed."""
        table = self.query_one(DataTable)
        for name in COLUMNS:
            column = table.columns.get(ColumnKey(name))
            if column is None:
                continue
            arrow = (
                (" ↑" if self.sort.reverse else " ↓")
                if name == self.sort.column
                else ""
            )
            column.label = Text(_(name) + arrow, style="bold" if arrow else "")
        table.refresh()

    def action_sort(self) -> None:
        """Sort by the next column, the default way round."""
        names = list(SORT_COLUMNS)
        following = names[(names.index(self.sort.column) + 1) % len(names)]
        self._set_sort(QueueSort(following))

    def action_reverse(self) -> None:
        self._set_sort(replace(self.sort, reverse=not self.sort.reverse))

    def _set_sort(self, sort: QueueSort) -> None:
        self.sort = sort
        self.to_top = True
        self._show_sort()
        self._set_filters(self.filters)

    def action_words(self) -> None:
        """Narrow to documents holding every word typed (empty: any)."""
        from edgebox.tui.prompt import PromptScreen

        def typed(words: str | None) -> None:
            if words is not None:
                self.words = words or None
                self._set_filters(self.filters)

        label = "Only documents with every one of these words (enter; empty: any)"
        self.app.push_screen(
            PromptScreen(label, value=self.words or "", empty_ok=True), typed
        )

    def action_recall(self) -> None:
        from edgebox.tui.saved import recall_filter

        recall_filter(self)

    def action_save_filter(self) -> None:
        from edgebox.tui.saved import save_current_filter

        save_current_filter(self)

    def use_filter(
        self, filters: DocumentFilter, sort: QueueSort, words: str | None
    ) -> None:
        """Show what a recalled filter shows, from its top."""
        self.words = words
        self.sort = sort
        self.to_top = True
        self._show_sort()
        self._set_filters(filters)

    def action_patients(self) -> None:
        from edgebox.tui.patients import PatientsScreen

        self.app.push_screen(PatientsScreen())
