"""One line of text asked for in a box (a filter's name, words to look for);
enter gives it, escape gives nothing."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label

from edgebox.tui.language import TranslatedKeys


class PromptScreen(TranslatedKeys, ModalScreen[str | None]):
    """Dismisses with the text typed (spaces tidied; "" only when `empty_ok`),
    or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(
        self, label: str, *, value: str = "", max_length: int = 200, empty_ok: bool
    ) -> None:
        super().__init__()
        self.label = label
        self.value = value
        self.max_length = max_length
        self.empty_ok = empty_ok

    def compose(self) -> Any:
        with Vertical(id="prompt-box"):
            yield Label(self.label)
            yield Input(self.value, id="prompt", max_length=self.max_length)
        yield Footer(compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = " ".join(event.value.split())
        if text or self.empty_ok:
            self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
