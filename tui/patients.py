"""The patient view (`p`): documents grouped by the box's patient reference,
with a search on it; enter lists one patient's documents.

The reference is the box's own (it never leaves it: sync sends a pseudonym,
see sync/privacy.py), so it may be shown and searched here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from edgebox.i18n import N_, _
from edgebox.store.patients import Patient, patients
from edgebox.tui.language import TranslatedKeys
from edgebox.tui.text import clip, literal, local_time, urgency_text
from edgebox.tui.topbar import TopBar

if TYPE_CHECKING:
    from edgebox.tui.app import EdgeboxApp

PATIENT_LIMIT = 200
# patient, docs, to review, most urgent, last received; the scrollbar.
_WIDTHS = ((N_("patient"), 0), (N_("docs"), 5), (N_("to review"), 10),
           (N_("most urgent"), 12), (N_("last received"), 14))  # fmt: skip


class PatientsScreen(TranslatedKeys, Screen):
    """Type part of a reference; down moves to the list; enter opens one."""

    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("down", "results", "list", show=False),
    ]

    def __init__(self, search: str = "") -> None:
        super().__init__()
        self.search = search
        self.shown: tuple[Patient, ...] | None = None

    @property
    def edgebox(self) -> EdgeboxApp:
        return cast("EdgeboxApp", self.app)

    def compose(self) -> Any:
        yield TopBar(_("patients"))
        yield Input(self.search, placeholder="patient reference, or part of it",
                    id="patient-query")  # fmt: skip
        yield Static(id="patient-state")
        yield DataTable(id="patients", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#patients", DataTable)
        fixed = sum(width for _name, width in _WIDTHS)
        for name, width in _WIDTHS:
            width = width or max(12, self.size.width - fixed - 12)
            table.add_column(_(name), width=width, key=name)
        self.query_one("#patient-query", Input).focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load(self.search)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_results()

    def action_results(self) -> None:
        self.query_one("#patients", DataTable).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(thread=True, exclusive=True, group="patients", exit_on_error=False)
    def _load(self, search: str) -> None:
        try:
            with self.edgebox.opener() as store:
                found = patients(store.db, search=search, limit=PATIENT_LIMIT)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.edgebox.report("listing patients", exc)
            return
        self.app.call_from_thread(self._show, search, tuple(found))

    def _show(self, search: str, found: tuple[Patient, ...]) -> None:
        if search != self.search or found == self.shown:
            return
        self.shown = found
        table = self.query_one("#patients", DataTable)
        table.clear()
        width = table.columns[next(iter(table.columns))].width
        for patient in found:
            table.add_row(
                literal(clip(patient.ref, width - 1), style="bold", one_line=True),
                Text(str(patient.documents)),
                Text(
                    str(patient.to_review or "-"),
                    style="bold" if patient.to_review else "",
                ),  # fmt: skip
                urgency_text(patient.urgency),
                Text(local_time(patient.last_received)),
                key=patient.ref,
            )
        self._state(search, len(found))

    def _state(self, search: str, count: int) -> None:
        if count == 0:
            line = Text(
                _("No document names a patient like that. The reference is read "
                  "from each document; r in a document corrects it.")
                if search
                else _("No document names a patient yet.")
            )  # fmt: skip
        else:
            more = _(" (the first ones)") if count == PATIENT_LIMIT else ""
            said = _("{n} patient(s){more}, most urgent first; enter lists one's"
                     " documents")  # fmt: skip
            line = Text(said.format(n=count, more=more))
        self.query_one("#patient-state", Static).update(line)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from edgebox.tui.queue import QueueScreen

        if event.row_key.value is not None:
            self.app.push_screen(QueueScreen(patient=event.row_key.value))
