"""Saved filters: the list to recall one from (`f` in the queue), and the
conversions between the queue's state and what the store keeps."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from edgebox.i18n import _
from edgebox.store.filters import DocumentFilter
from edgebox.store.saved_filters import SavedFilter
from edgebox.store.sorting import QueueSort
from edgebox.tui.language import TranslatedKeys
from edgebox.tui.text import literal

Recall = tuple[str, SavedFilter]
"""("use", filter) or ("delete", filter): what the list was closed with."""


def to_saved(
    name: str, filters: DocumentFilter, sort: QueueSort, words: str | None
) -> SavedFilter:
    return SavedFilter(
        name,
        state=filters.state,
        category=filters.category,
        urgency=filters.urgency,
        to_review=filters.to_review,
        words=words or None,
        sort=sort.column,
        reverse=sort.reverse,
    )


def from_saved(saved: SavedFilter) -> tuple[DocumentFilter, QueueSort, str | None]:
    filters = DocumentFilter(
        state=saved.state,
        category=saved.category,
        urgency=saved.urgency,
        to_review=saved.to_review,
    )
    return filters, QueueSort(saved.sort, saved.reverse), saved.words


def describe(saved: SavedFilter) -> str:
    """One line: what the filter shows, for the list."""
    parts = ["to review" if saved.to_review else "all"]
    parts += [v for v in (saved.urgency, saved.category, saved.state) if v]
    if saved.words:
        parts.append(f'"{saved.words}"')
    arrow = "↑" if saved.reverse else "↓"
    parts.append(f"by {saved.sort} {arrow}")
    return ", ".join(parts)


class SavedFiltersScreen(TranslatedKeys, ModalScreen[Recall | None]):
    """enter or 1-9 recalls a filter, d deletes it, escape closes."""

    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("d", "delete", "delete"),
        *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10)),
    ]

    def __init__(self, saved: list[SavedFilter]) -> None:
        super().__init__()
        self.saved = saved

    def compose(self) -> Any:
        with Vertical(id="saved-box"):
            yield Static(Text(_("Saved filters (enter or 1-9 recalls)"), style="bold"))
            yield OptionList(
                *(self._option(n, s) for n, s in enumerate(self.saved, 1)),
                id="saved-list",
            )
        yield Footer(compact=True)

    @staticmethod
    def _option(number: int, saved: SavedFilter) -> Option:
        line = Text(f"{number if number < 10 else ' '} ", style="bold")
        line.append_text(literal(saved.name, style="bold", one_line=True))
        line.append("  ")
        line.append_text(literal(describe(saved), style="dim", one_line=True))
        return Option(line)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_pick(event.option_index)

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self.saved):
            self.dismiss(("use", self.saved[index]))

    def action_delete(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self.dismiss(("delete", self.saved[index]))

    def action_close(self) -> None:
        self.dismiss(None)
