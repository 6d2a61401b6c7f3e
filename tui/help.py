"""Help (`?`): every key on every screen, in one place."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from edgebox.i18n import N_, _
from edgebox.tui.language import TranslatedKeys

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (N_("Queue"), (
        ("enter r", N_("open the document; review it")),
        ("t", N_("to review (what waits for a person) or all")),
        ("space", N_("mark for a bulk confirmation, then down")),
        ("C", N_("confirm the marked as they are (never emergencies)")),
        ("/ s", N_("search; status, quarantine, requeue")),
        ("x k u w", N_("filter: state, category, urgency (cycle); words")),
        ("0", N_("clear the filters and the words")),
        ("o O", N_("sort by the next column; reverse (arrow in header)")),
        ("F f", N_("save the filter and sort by name; recall (1-9, d)")),
        ("p", N_("patients: documents grouped by patient reference")),
        ("] [", N_("next, previous page (past 500 documents)")),
    )),
    (N_("Document"), (
        ("r", N_("review: urgency, category, note; correct summary, fields")),
        ("c", N_("confirm the result as it is")),
        ("z", N_("undo the last change (kept in the history)")),
        ("e", N_("escalate to emergency, even before any triage")),
        ("x", N_("export a copy of the original to a folder")),
        ("p", N_("this patient's other documents (escape: back)")),
        ("tab", N_("similar cases; enter opens one")),
        ("escape", N_("back")),
    )),
    (N_("Review"), (
        ("tab", N_("next field: urgency, category, note, summary, fields")),
        ("enter", N_("open a list, pick in it; in a text field: save")),
        ("ctrl+s", N_("save a change (or a note)")),
        ("ctrl+y", N_("confirm as it is, nothing changed")),
        ("escape", N_("cancel")),
    )),
    (N_("Patients"), (
        ("type", N_("part of a patient reference")),
        ("down", N_("to the list; enter lists the patient's documents")),
        ("escape", N_("back")),
    )),
    (N_("Search"), (
        ("enter", N_("search; words first, then meaning")),
        ("down", N_("to the results; enter opens one")),
        ("escape", N_("back")),
    )),
    (N_("Status"), (
        ("up down", N_("choose a quarantined or failed document")),
        ("r", N_("requeue it")),
        ("h", N_("write the hand-over of the last 24 hours")),
        ("escape", N_("back")),
    )),
    (N_("Questions"), (("y", N_("yes, do it")), ("n escape", N_("no")))),
    (N_("Emergency banner"), (
        ("o", N_("open the first new emergency")),
        ("A", N_("acknowledge (shift+a, so that typing never does)")),
    )),
    (N_("Everywhere"), (("?", N_("this help")), ("q", N_("quit")))),
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
        out.append(f"{_(title)}\n", style="bold underline")
        for key, what in keys:
            out.append(f"  {key:<10}", style="bold")
            out.append(f"{_(what)}\n")
    out.append(_("Urgency") + "\n", style="bold underline")
    out.append(
        _("  !! EMERG  emergency   !  urgent   ?  unknown (triage failed)") + "\n"
    )
    out.append(_("     routine            ·  -  not triaged yet") + "\n")
    return out
