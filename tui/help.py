"""Help (`?`): every key on every screen, in one place."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from edgebox.tui.language import TranslatedKeys

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Queue", (
        ("enter r", "open the document; review it"),
        ("t", "to review (what waits for a person) or all"),
        ("space", "mark for a bulk confirmation, then down"),
        ("C", "confirm the marked as they are (never emergencies)"),
        ("/ s", "search; status, quarantine, requeue"),
        ("x k u w", "filter: state, category, urgency (cycle); words"),
        ("0", "clear the filters and the words"),
        ("o O", "sort by the next column; reverse (arrow in header)"),
        ("F f", "save the filter and sort by name; recall (1-9, d)"),
        ("p", "patients: documents grouped by patient reference"),
        ("] [", "next, previous page (past 500 documents)"),
    )),
    ("Document", (
        ("r", "review: urgency, category, note; correct summary, fields"),
        ("c", "confirm the result as it is"),
        ("z", "undo the last change (kept in the history)"),
        ("e", "escalate to emergency, even before any triage"),
        ("x", "export a copy of the original to a folder"),
        ("p", "this patient's other documents (escape: back)"),
        ("tab", "similar cases; enter opens one"),
        ("escape", "back"),
    )),
    ("Review", (
        ("tab", "next field: urgency, category, note, summary, fields"),
        ("enter", "open a list, pick in it; in a text field: save"),
        ("ctrl+s", "save a change (or a note)"),
        ("ctrl+y", "confirm as it is, nothing changed"),
        ("escape", "cancel"),
    )),
    ("Patients", (
        ("type", "part of a patient reference"),
        ("down", "to the list; enter lists the patient's documents"),
        ("escape", "back"),
    )),
    ("Search", (
        ("enter", "search; words first, then meaning"),
        ("down", "to the results; enter opens one"),
        ("escape", "back"),
    )),
    ("Status", (
        ("up down", "choose a quarantined or failed document"),
        ("r", "requeue it"),
        ("h", "write the hand-over of the last 24 hours"),
        ("escape", "back"),
    )),
    ("Questions", (("y", "yes, do it"), ("n escape", "no"))),
    ("Emergency banner", (
        ("o", "open the first new emergency"),
        ("A", "acknowledge (shift+a, so that typing never does)"),
    )),
    ("Everywhere", (("?", "this help"), ("q", "quit"))),
)  # fmt: skip


class HelpScreen(TranslatedKeys, ModalScreen[None]):
    """Keys by screen; the urgency symbols; escape closes."""

    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("question_mark", "close", "close", show=False),
    ]

    def compose(self) -> Any:
        with VerticalScroll(id="help-box"):
            yield Static(_help_text())
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)


def _help_text() -> Text:
    out = Text()
    for title, keys in KEYS:
        out.append(f"{title}\n", style="bold underline")
        for key, what in keys:
            out.append(f"  {key:<10}", style="bold")
            out.append(f"{what}\n")
    out.append("Urgency\n", style="bold underline")
    out.append("  !! EMERG  emergency   !  urgent   ?  unknown (triage failed)\n")
    out.append("     routine            ·  -  not triaged yet\n")
    return out
