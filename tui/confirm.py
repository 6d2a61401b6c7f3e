"""A yes/no question for actions that add to the record (undo, requeue)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from edgebox.i18n import _
from edgebox.tui.language import TranslatedKeys


class ConfirmScreen(TranslatedKeys, ModalScreen[bool]):
    """y does it, n or escape does not."""

    BINDINGS = [
        Binding("y", "answer(True)", "yes"),
        Binding("n", "answer(False)", "no"),
        Binding("escape", "answer(False)", "cancel", show=False),
    ]

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> Any:
        with Vertical(id="confirm-box"):
            yield Static(self.question)
            yield Static(Text(_("y yes · n no"), style="bold"))
        yield Footer(compact=True)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
