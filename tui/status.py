"""Status: the service (from what it writes into the store; the UI never loads
the model), documents, sync, how often staff override the AI, and the
quarantined and failed documents with their reasons, to requeue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from edgebox.i18n import N_, _
from edgebox.intake.archive import clear_quarantine_copy
from edgebox.learn.choice import in_use_words
from edgebox.service.heartbeat import model_words, service_running
from edgebox.store import DocState
from edgebox.tui.language import TranslatedKeys
from edgebox.tui.snapshots import StatusSnapshot, load_status
from edgebox.tui.text import clip, literal, local_time
from edgebox.tui.topbar import TopBar

if TYPE_CHECKING:
    from edgebox.tui.app import EdgeboxApp

# id, file and state columns, cell padding and the screen's own padding: the
# reason gets what is left, and is shown whole under the table.
_REASON_CHROME = 5 + 22 + 11 + 2 * 4 + 2


class ProblemTable(DataTable):
    """The quarantined and failed documents. It sits below the fold and is as
    tall as its rows, so it never scrolls itself: each cursor key tells the
    screen to bring the row into view (even when the cursor stays put)."""

    class Moved(Message):
        """The nurse pressed a cursor key in the table."""

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self.post_message(self.Moved())

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self.post_message(self.Moved())

    def action_page_up(self) -> None:
        super().action_page_up()
        self.post_message(self.Moved())

    def action_page_down(self) -> None:
        super().action_page_down()
        self.post_message(self.Moved())


class StatusScreen(TranslatedKeys, Screen):
    """The box at a glance; r requeues the selected quarantined document."""

    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("r", "requeue", "requeue"),
        Binding("h", "handover", "hand-over"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: StatusSnapshot | None = None

    @property
    def edgebox(self) -> EdgeboxApp:
        return cast("EdgeboxApp", self.app)

    def compose(self) -> Any:
        yield TopBar(_("status"))
        with VerticalScroll(id="status"):
            yield Static("loading…", id="facts")
            yield Static(id="problems-title")
            yield ProblemTable(id="problems", cursor_type="row")
            yield Static(id="problem-reason")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#problems", DataTable)
        table.add_column(_("id"), key="id")
        table.add_column(_("file"), width=22, key="file")
        table.add_column(_("state"), key="state")
        table.add_column(_("reason"), key="reason")
        table.focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def _load(self) -> None:
        try:
            with self.edgebox.opener() as store:
                snapshot = load_status(store, self.edgebox.config)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.edgebox.report("status", exc)
            return
        self.app.call_from_thread(self._show, snapshot)

    def _show(self, snapshot: StatusSnapshot) -> None:
        if snapshot == self.snapshot:
            return
        self.snapshot = snapshot
        facts = _service(snapshot.service)
        facts.append(_documents(snapshot))
        facts.append(_sync(snapshot))
        facts.append(_overrides(snapshot.overrides))
        facts.append(_learned(snapshot.learned))
        facts.append(_bundle(snapshot.bundle))
        self.query_one("#facts", Static).update(facts)
        title = Text(_("Quarantined and failed"), style="bold underline")
        title.append(
            f" ({len(snapshot.problems)})" if snapshot.problems else _(": none")
        )
        self.query_one("#problems-title", Static).update(title)
        self._show_problems(snapshot.problems)

    def _show_problems(self, problems: list[dict[str, Any]]) -> None:
        table = self.query_one("#problems", DataTable)
        keep = self._cursor_key()
        table.clear()
        width = max(20, self.size.width - _REASON_CHROME)
        for doc in problems:
            table.add_row(
                Text(str(doc["id"])),
                literal(clip(doc["file_name"], 22), one_line=True),
                Text(_(doc["state"])),
                literal(clip(_reason(doc), width), one_line=True),
                key=str(doc["id"]),
            )
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        table.display = bool(problems)
        self._show_reason()

    def _cursor_key(self) -> str | None:
        table = self.query_one("#problems", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _selected(self) -> dict[str, Any] | None:
        """The problem under the table's cursor."""
        key = self._cursor_key()
        problems = self.snapshot.problems if self.snapshot else []
        return next((doc for doc in problems if str(doc["id"]) == key), None)

    def _show_reason(self) -> None:
        doc = self._selected()
        reason = self.query_one("#problem-reason", Static)
        reason.display = doc is not None
        if doc is not None:
            line = Text(f"#{doc['id']} ", style="bold")
            line.append(literal(doc["file_name"], style="bold", one_line=True))
            line.append(": ", style="bold")
            line.append(literal(_reason(doc)))
            reason.update(line)

    def on_data_table_row_highlighted(self) -> None:
        self._show_reason()

    def on_problem_table_moved(self) -> None:
        self.call_after_refresh(self._scroll_to_cursor)

    def _scroll_to_cursor(self) -> None:
        """The row and, under it, its full reason, in view (the row first)."""
        table = self.query_one("#problems", DataTable)
        top = table.virtual_region.y + table.header_height + table.cursor_row
        bottom = self.query_one("#problem-reason", Static).virtual_region.bottom
        self.query_one("#status", VerticalScroll).scroll_to_region(
            Region(0, top, 1, max(1, bottom - top)), animate=False
        )

    def action_requeue(self) -> None:
        from edgebox.tui.confirm import ConfirmScreen

        table = self.query_one("#problems", DataTable)
        if self.snapshot is None or not table.row_count:
            self.notify(_("Nothing to requeue."))
            return
        if self.edgebox.read_only:
            self.notify(
                _("The store is read-only here: cannot requeue."), severity="warning"
            )
            return
        doc = self._selected()
        if doc is None:
            return
        question = Text(_("Requeue "))
        question.append(literal(doc["file_name"], style="bold", one_line=True))
        question.append(f" (#{doc['id']})? {_again(doc)}")
        question.append("\n" + _("Reason: "), style="dim")
        question.append(literal(_reason(doc)))

        def answered(yes: bool | None) -> None:
            if yes:
                self._requeue(doc["id"])

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, group="write", exit_on_error=False)
    def action_handover(self) -> None:
        """The last 24 hours' hand-over (edgebox report), as a page to print."""
        from edgebox.service.handover import write_handover

        app = self.edgebox
        try:
            with app.opener() as store:
                path = write_handover(store.db, app.config.data_dir / "reports")
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            app.report("writing the hand-over", exc)
            return
        app.call_from_thread(
            self.notify,
            _("Hand-over of the last 24 hours written to {path}").format(path=path),
            title=_("hand-over"),
            timeout=15,
            markup=False,
        )

    @work(thread=True, group="write", exit_on_error=False)
    def _requeue(self, doc_id: int) -> None:
        actor = f"staff:{self.edgebox.reviewer or 'unknown'}"
        try:
            with self.edgebox.opener() as store:
                requeued = store.requeue(doc_id, actor=actor)
            for doc in requeued:
                clear_quarantine_copy(
                    self.edgebox.config.quarantine_dir,
                    doc_id=doc["id"],
                    file_name=doc["file_name"],
                )
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.edgebox.report("requeue", exc)
            return
        self.app.notify(_("requeued document {id}").format(id=doc_id), markup=False)
        self.app.call_from_thread(self.reload)


def _again(doc: dict[str, Any]) -> str:
    """What a requeue will do: a failed triage keeps the text already read."""
    if doc["state"] == DocState.TRIAGED:
        return _("The service triages it again.")
    return _("The service reads it again from the start.")


def _reason(doc: dict[str, Any]) -> str:
    return f"{doc['error_code'] or '-'}: {doc['error_message'] or ''}"


def _line(out: Text, name: str, value: object) -> None:
    out.append(f"{_(name):<13}", style="dim")
    out.append(literal(value, one_line=True))
    out.append("\n")


def _service(service: dict[str, str]) -> Text:
    out = Text(_("Service") + "\n", style="bold underline")
    if not service:
        out.append(
            _("service not running (it has never reported)") + "\n", style="bold"
        )
        return out
    if service_running(service):
        out.append(
            _("running since {time}").format(time=local_time(service.get("started_at")))
            + "\n"
        )
    else:
        last = local_time(service.get("heartbeat_at"), with_year=True)
        out.append(
            _("service not running (last heard {time})").format(time=last) + "\n",
            style="bold",
        )
    _line(out, N_("model"), model_words(service))
    _line(out, N_("speed"), f"{service.get('docs_per_s', '?')} docs/s")
    _line(out, N_("triaged"), service.get("triaged", "?"))
    return out


def _documents(snapshot: StatusSnapshot) -> Text:
    out = Text(_("Documents") + "\n", style="bold underline")
    counts = snapshot.counts
    states = ", ".join(f"{_(state)} {n}" for state, n in counts.items() if n)
    waiting = (
        _("{n} file in the drop folder")
        if snapshot.inbox == 1
        else _("{n} files in the drop folder")
    )
    _line(out, N_("inbox"), waiting.format(n=snapshot.inbox))
    _line(out, N_("by state"), states or _("none yet"))
    _line(
        out, N_("in progress"), counts.get("received", 0) + counts.get("extracted", 0)
    )
    _line(out, N_("quarantined"), counts.get("quarantined", 0))
    _line(out, N_("failed"), _failed(counts.get("failed", 0), snapshot.problems))
    _line(out, N_("needs review"), snapshot.needs_review)
    return out


def _failed(reading: int, problems: list[dict[str, Any]]) -> str:
    """Failed readings (retried on their own) and failed triages (urgency
    unknown, listed below to requeue): both are failures to a nurse."""
    triage = sum(doc["state"] == DocState.TRIAGED for doc in problems)
    return f"{reading + triage} ({triage} triage)" if triage else str(reading)


def _sync(snapshot: StatusSnapshot) -> Text:
    out = Text(_("Sync") + "\n", style="bold underline")
    sync, outbox = snapshot.sync, snapshot.outbox
    _line(out, N_("outbox"), ", ".join(f"{k} {v}" for k, v in outbox.items()))
    _line(out, N_("last success"), local_time(sync.get("last_success"), with_year=True))
    _line(out, N_("last attempt"), local_time(sync.get("last_attempt"), with_year=True))
    if sync.get("last_error"):
        when = local_time(sync.get("last_error_at"), with_year=True)
        _line(out, N_("last error"), f"{when} {sync['last_error']}")
    return out


def _overrides(stats: dict[str, Any]) -> Text:
    out = Text(_("Staff overrides") + "\n", style="bold underline")
    reviewed = stats["reviewed"]
    if not reviewed:
        _line(out, N_("reviewed"), _("none yet"))
        return out
    _line(out, N_("reviewed"), reviewed)
    for field in ("urgency", "category"):
        entry = stats[field]
        _line(out, field, f"{entry['overridden']} changed ({entry['rate']:.0%})")
    return out


def _learned(learned: dict[str, Any]) -> Text:
    """Which learned model decides each task; nothing before there is one."""
    out = Text()
    if not any(entry.get("source") for entry in learned.values()):
        return out
    out.append("Learned models\n", style="bold underline")
    for task, entry in learned.items():
        _line(out, task, in_use_words(entry))
    return out


def _bundle(found: dict[str, Any]) -> Text:
    """The centre's bundle, as `edgebox bundle status` says it; nothing while
    the box has never had or refused one."""
    out = Text()
    refused = found.get("refused")
    if not (found.get("version") or found.get("previous") or refused
            or found.get("held_from")):  # fmt: skip
        return out
    out.append("Centre's bundle\n", style="bold underline")
    version = found.get("version")
    made = f" (made {local_time(found['created_at'], with_year=True)})"
    _line(out, "in use", f"bundle {version}{made if found.get('created_at') else ''}"
          if version else "none")  # fmt: skip
    if found.get("group"):
        _line(out, "group", found["group"])
    if found.get("previous"):
        _line(out, "previous", f"bundle {found['previous']} (edgebox bundle rollback)")
    if found.get("held_from"):
        _line(out, "held", f"rolled back from bundle {found['held_from']}; a newer"
              " bundle from the centre ends the hold")  # fmt: skip
    if refused:
        out.append(f"{'refused':<13}", style="dim")
        when = local_time(refused.get("at"), with_year=True)
        out.append(f"bundle {refused.get('version') or '?'} at {when}: ", style="bold")
        out.append(literal(refused.get("reason") or "", style="bold", one_line=True))
        out.append("\n")
    return out
