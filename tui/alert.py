"""The emergency banner: shown over whatever screen is open when an
emergency arrives, with the terminal bell, and kept until someone
acknowledges it with a key that typing a note would not press by chance.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from edgebox.i18n import _
from edgebox.tui.language import TranslatedKeys

ACKNOWLEDGE = "A"
"""Shift+a: a plain letter typed into a note must not dismiss an emergency."""


class EmergencyBanner(TranslatedKeys, ModalScreen[int | None]):
    """Dismissed with the document to open (o) or None (acknowledged)."""

    BINDINGS = [
        Binding("A", "acknowledge", "acknowledge"),
        Binding("o", "open", "open the first"),
    ]

    def __init__(self, arrived: dict[int, str]) -> None:
        super().__init__()
        self.arrived = dict(arrived)
        """Document id -> category, in the order they arrived."""

    def compose(self) -> Any:
        with Vertical(id="alert-box"):
            yield Static(id="alert-text")
            yield Static(
                Text(
                    _("o open the first · {key} (shift+a) acknowledge").format(
                        key=ACKNOWLEDGE
                    ),
                    style="bold",
                )
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()

    def add(self, arrived: dict[int, str]) -> None:
        """More emergencies while the banner is up: one banner lists them all."""
        self.arrived |= arrived
        self._show()

    def _show(self) -> None:
        text = Text(
            _("EMERGENCY: {n} new").format(n=len(self.arrived)) + "\n",
            style="bold reverse red",
        )
        for doc_id, category in self.arrived.items():
            text.append(
                _("document {id}  {category}").format(id=doc_id, category=category)
                + "\n"
            )
        self.query_one("#alert-text", Static).update(text)

    def action_acknowledge(self) -> None:
        self.dismiss(None)

    def action_open(self) -> None:
        self.dismiss(next(iter(self.arrived)))
