"""Who is reviewing: a name and a PIN, asked at start and after the UI sat
idle, when the box has registered reviewers (`edgebox users add`). Staff share
one SSH account, so the login name cannot say who signed a review."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from edgebox.i18n import _
from edgebox.tui.language import TranslatedKeys


class SignInScreen(TranslatedKeys, ModalScreen[str | None]):
    """Dismissed with the registered name, or None (escape: read only)."""

    BINDINGS = [Binding("escape", "cancel", "read only")]
    AUTO_FOCUS = "#signin-name"

    def __init__(self, check: Callable[[str, str], str | None], why: str) -> None:
        super().__init__()
        self.check = check
        """(name, PIN) -> the registered name, or None."""
        self.why = why

    def compose(self) -> Any:
        with Vertical(id="signin-box"):
            yield Label(self.why)
            yield Label(_("Your name"))
            yield Input(id="signin-name", max_length=80)
            yield Label(_("PIN (enter signs in)"))
            yield Input(id="signin-pin", password=True, max_length=64)
            yield Static(id="signin-problem")
        yield Footer(compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "signin-name":
            self.query_one("#signin-pin", Input).focus()
            return
        name = self.query_one("#signin-name", Input).value
        pin = self.query_one("#signin-pin", Input)
        signed = self.check(name, pin.value)
        if signed is None:
            pin.value = ""
            self.query_one("#signin-problem", Static).update(
                _("Name or PIN not recognised (or the name is disabled).")
            )
            return
        self.dismiss(signed)

    def action_cancel(self) -> None:
        self.dismiss(None)
