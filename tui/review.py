"""Review: confirm the result, or change its category and urgency, with a note.

The screen only gathers the person's choice; the document screen saves it (one
new revision, its audit row and its outbox row, in one transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static

from edgebox.tui.text import literal
from edgebox.vocabulary import Urgency


@dataclass(frozen=True)
class ReviewChoice:
    """What the person decided: only the fields they changed, and a note."""

    revision: int
    """The revision the person saw: the store refuses the choice when another
    one has come since (the unchanged fields would be taken from that one)."""
    changes: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


class ReviewScreen(ModalScreen[ReviewChoice | None]):
    """Category, urgency and note; ctrl+s saves (unchanged values confirm)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "save"),
        Binding("escape", "cancel", "cancel"),
    ]

    def __init__(
        self,
        latest: Mapping[str, Any],
        categories: Mapping[str, str],
        *,
        note: str = "",
    ) -> None:
        super().__init__()
        self.latest = latest
        self.note = note
        labels = list(categories)
        if latest["category"] and latest["category"] not in labels:
            labels.append(latest["category"])  # a label the taxonomy has since lost
        self.labels = labels

    def compose(self) -> Any:
        with Vertical(id="review-box"):
            title = Text("Review: ", style="bold")
            title.append(
                literal(self.latest["summary"] or "(no summary)", one_line=True)
            )
            yield Static(title, id="review-title")
            yield Label("Category")
            yield Select(
                [(label, label) for label in self.labels],
                value=self.latest["category"] or Select.NULL,
                id="category",
                prompt="(none)",
            )
            yield Label("Urgency")
            yield Select(
                [(level.value, level.value) for level in Urgency.levels()],
                value=self.latest["urgency"]
                if self.latest["urgency"] in Urgency.levels()
                else Select.NULL,
                id="urgency",
                prompt="(choose)",
            )
            yield Label("Note (optional; enter saves)")
            yield Input(self.note, id="note", max_length=500)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#urgency", Select).focus()

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        changes = {}
        for name in ("category", "urgency"):
            value = self.query_one(f"#{name}", Select).value
            if value is Select.NULL:
                if name == "urgency":
                    self.notify("Choose an urgency first.", severity="warning")
                    return
                continue
            if value != self.latest[name]:
                changes[name] = value
        note = self.query_one("#note", Input).value.strip() or None
        self.dismiss(ReviewChoice(self.latest["revision"], changes, note))

    def action_cancel(self) -> None:
        self.dismiss(None)


class NameScreen(ModalScreen[str | None]):
    """Asks who is reviewing when neither $EDGEBOX_USER nor a login name says."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def compose(self) -> Any:
        with Vertical(id="name-box"):
            yield Label("Your name, recorded with each review (enter saves)")
            yield Input(id="name", max_length=80)
        yield Footer(compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = " ".join(event.value.split())
        if name:
            self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
