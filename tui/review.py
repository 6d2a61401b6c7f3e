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
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static

from edgebox.i18n import N_, _
from edgebox.tui.language import TranslatedKeys
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


FIELDS = ("patient_ref", "age", "sex", "date", "facility")
FIELD_LABELS = (N_("patient ref"), N_("age"), N_("sex"), N_("date"), N_("facility"))
"""The fields' labels on the form, for the catalogue."""
"""What the machine read that a person may correct, besides the summary."""


class ReviewScreen(TranslatedKeys, ModalScreen[ReviewChoice | None]):
    """Urgency, category and a note, then what the machine read (summary and
    fields). ctrl+s saves a change; a confirmation with nothing changed and no
    note needs its own key (ctrl+y): it is a staff label that is synced and
    trains the model, never the result of a stray enter."""

    BINDINGS = [
        Binding("ctrl+s", "save", "save"),
        Binding("ctrl+y", "confirm", "confirm as is"),
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
        self.fields: dict[str, str] = {
            name: str((latest.get("fields") or {}).get(name) or "") for name in FIELDS
        }

    def compose(self) -> Any:
        with VerticalScroll(id="review-box"):
            title = Text(_("Review: "), style="bold")
            title.append(
                literal(self.latest["summary"] or _("(no summary)"), one_line=True)
            )
            yield Static(title, id="review-title")
            with Horizontal(classes="review-row"):
                yield Label(_("Urgency"), classes="review-label")
                yield Select(
                    [(_(level.value), level.value) for level in Urgency.levels()],
                    value=self.latest["urgency"]
                    if self.latest["urgency"] in Urgency.levels()
                    else Select.NULL,
                    id="urgency",
                    prompt=_("(choose)"),
                    compact=True,
                )
            with Horizontal(classes="review-row"):
                yield Label(_("Category"), classes="review-label")
                yield Select(
                    [(label, label) for label in self.labels],
                    value=self.latest["category"] or Select.NULL,
                    id="category",
                    prompt=_("(none)"),
                    compact=True,
                )
            with Horizontal(classes="review-row"):
                yield Label(_("Note"), classes="review-label")
                yield Input(self.note, id="note", max_length=500, compact=True)
            yield Static(
                Text(_("Correct what was read (kept beside the AI's values):")),
                classes="review-section",
            )
            with Horizontal(classes="review-row"):
                yield Label(_("Summary"), classes="review-label")
                yield Input(
                    self.latest["summary"] or "",
                    id="summary",
                    max_length=1000,
                    compact=True,
                )
            for name in FIELDS:
                with Horizontal(classes="review-row"):
                    yield Label(_(name.replace("_", " ")), classes="review-label")
                    yield Input(
                        self.fields[name],
                        id=f"field-{name}",
                        max_length=200,
                        compact=True,
                    )
            yield Static(
                Text(_("ctrl+s save · ctrl+y confirm as is · esc cancel"), style="bold")
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#urgency", Select).focus()

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        choice = self._choice()
        if choice is None:
            return
        if not choice.changes and not choice.note:
            self.notify(
                _("Nothing changed. ctrl+y confirms the result as it is."),
                severity="warning",
            )
            return
        self.dismiss(choice)

    def action_confirm(self) -> None:
        choice = self._choice()
        if choice is not None:
            self.dismiss(choice)

    def _choice(self) -> ReviewChoice | None:
        """The person's choice, or None (and a warning) when it is incomplete."""
        changes: dict[str, Any] = {}
        for name in ("category", "urgency"):
            value = self.query_one(f"#{name}", Select).value
            if value is Select.NULL:
                if name == "urgency":
                    self.notify(_("Choose an urgency first."), severity="warning")
                    return None
                continue
            if value != self.latest[name]:
                changes[name] = value
        summary = " ".join(self.query_one("#summary", Input).value.split())
        if summary != " ".join((self.latest["summary"] or "").split()):
            changes["summary"] = summary
        corrected = {
            name: self.query_one(f"#field-{name}", Input).value.strip()
            for name in FIELDS
        }
        if corrected != self.fields:
            kept = dict(self.latest.get("fields") or {})
            for name, value in corrected.items():
                if value:
                    kept[name] = value
                else:
                    kept.pop(name, None)
            changes["fields"] = kept
        note = self.query_one("#note", Input).value.strip() or None
        return ReviewChoice(self.latest["revision"], changes, note)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NameScreen(TranslatedKeys, ModalScreen[str | None]):
    """Asks who is reviewing when neither $EDGEBOX_USER nor a login name says."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def compose(self) -> Any:
        with Vertical(id="name-box"):
            yield Label(_("Your name, recorded with each review (enter saves)"))
            yield Input(id="name", max_length=80)
        yield Footer(compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = " ".join(event.value.split())
        if name:
            self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
