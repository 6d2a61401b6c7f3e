"""Where to copy a document's original: a folder, typed (a USB stick's mount
point, a shared folder); enter copies, escape does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label

from edgebox.i18n import _
from edgebox.tui.language import TranslatedKeys


class ExportScreen(TranslatedKeys, ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> Any:
        with Vertical(id="export-box"):
            yield Label(_("Copy the original into this folder (enter copies)"))
            yield Input(str(self.folder), id="folder", max_length=1000)
        yield Footer(compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value:
            self.dismiss(Path(value).expanduser())

    def action_cancel(self) -> None:
        self.dismiss(None)
