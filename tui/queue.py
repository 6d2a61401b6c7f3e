"""The queue: every document, most urgent first, then oldest, with filters."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from rich.padding import Padding
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from edgebox.i18n import N_, _
from edgebox.store import DocState
from edgebox.store.filters import DocumentFilter
from edgebox.store.sorting import QueueSort
from edgebox.tui.language import TranslatedKeys
from edgebox.tui.narrowing import COLUMNS, QueueAsk, QueueNarrowing
from edgebox.tui.snapshots import QUEUE_PAGE, QueueSnapshot, load_queue
from edgebox.tui.text import clip, literal, local_time, urgency_text
from edgebox.tui.topbar import TopBar
from edgebox.vocabulary import Urgency

if TYPE_CHECKING:
    from edgebox.tui.app import EdgeboxApp


# Fixed widths, each with one blank column after its text (no cell padding:
# two blanks between every pair of columns cost the summary ten characters);
# the summary takes what is left (28 characters at 80 columns, 16 before).
# "to review" stands in the state column: a review column of its own repeated
# "yes" on most rows and read like "reviewed".
_WIDTHS = {"urgency": 11, "category": 13, "received": 13, "state": 12}
_PADDING = 0
_CHROME = 2  # the scrollbar


class QueueTable(DataTable):
    """The queue's table; enter opens the document under the cursor."""

    BINDINGS = [Binding("enter", "select_cursor", "open")]


class QueueScreen(QueueNarrowing, TranslatedKeys, Screen):
    """Documents by urgency then age, or by any column (o, O); x/k/u cycle
    the state, category and urgency filters, w narrows by words, f and F
    recall and save them; the counts per state update as documents arrive.
    With `patient`, only that patient's documents (escape goes back)."""

    BINDINGS = [
        Binding("r", "review", "review"),
        Binding("t", "toggle_view", "to review/all"),
        Binding("space", "mark", "mark", show=False),
        Binding("C", "confirm_marked", "confirm marked", show=False),
        Binding("slash", "search", "search"),
        Binding("s", "status", "status"),
        Binding("o", "sort", "sort"),
        Binding("O", "reverse", "reverse", show=False),
        Binding("w", "words", "words", show=False),
        Binding("f", "recall", "saved filters", show=False),
        Binding("F", "save_filter", "save filter", show=False),
        Binding("p", "patients", "patients", show=False),
        Binding("escape", "back", "back"),
        # The filter line above the table names x, k and u with their values:
        # out of the footer, which then fits 80 columns with ? and q.
        Binding("x", "cycle('state')", "state", show=False),
        Binding("k", "cycle('category')", "categ.", show=False),
        Binding("u", "cycle('urgency')", "urgency", show=False),
        Binding("0", "clear_filters", "all", show=False),
        # Shown in the line under the table, only when there is another page.
        Binding("right_square_bracket", "page(1)", "next page", show=False),
        Binding("left_square_bracket", "page(-1)", "previous page", show=False),
    ]

    def __init__(self, *, to_review: bool = False, patient: str | None = None) -> None:
        super().__init__()
        self.filters = DocumentFilter(to_review=to_review)
        self.sort = QueueSort()
        self.words: str | None = None
        """Full-text words every listed document holds (w); None: any."""
        self.patient = patient
        """Only this patient's documents (the patient view), or everyone's."""
        self.marked: set[int] = set()
        """Documents marked (space) for a bulk confirmation (C)."""
        self.page_start = 0
        self.snapshot: QueueSnapshot | None = None
        self._summary_width = 0
        self.to_top = False
        """The next paint puts the cursor on the first row (a new sort)."""

    @property
    def edgebox(self) -> EdgeboxApp:
        return cast("EdgeboxApp", self.app)

    def compose(self) -> Any:
        yield TopBar(
            _("patient {ref}").format(ref=self.patient) if self.patient else _("queue")
        )
        yield Static(id="counts")
        yield Static(id="filters")
        yield QueueTable(
            id="queue", cursor_type="row", zebra_stripes=True, cell_padding=_PADDING
        )
        yield Static(id="more")
        yield Static(id="empty")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_filters()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        if self.snapshot is None:
            return
        if self._summary_width != self._wanted_width():
            self._paint(self.snapshot)
        else:
            self._show_counts(self.snapshot)  # fitted to the width

    # -- loading -----------------------------------------------------------

    def reload(self) -> None:
        self._load(self._asked(), self.page_start)

    def _asked(self) -> QueueAsk:
        return QueueAsk(self.filters, self.sort, self.words, self.patient)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _load(self, asked: QueueAsk, offset: int) -> None:
        try:
            with self.edgebox.opener() as store:
                snapshot = load_queue(
                    store,
                    asked.filters,
                    offset=offset,
                    sort=asked.sort,
                    words=asked.words,
                    patient=asked.patient,
                )
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.edgebox.report("loading the queue", exc)
            return
        self.app.call_from_thread(self._show, (asked, offset), snapshot)

    def _show(self, asked: tuple[QueueAsk, int], snapshot: QueueSnapshot) -> None:
        if asked != (self._asked(), self.page_start) or snapshot == self.snapshot:
            return  # stale, or nothing changed: no repaint, no flicker
        self.snapshot = snapshot
        self.page_start = snapshot.offset  # the last page, when documents left
        self._paint(snapshot)

    # -- painting ----------------------------------------------------------

    def _wanted_width(self) -> int:
        return max(16, self.size.width - sum(_WIDTHS.values()) - _CHROME)

    def _paint(self, snapshot: QueueSnapshot) -> None:
        table = self.query_one(QueueTable)
        # A new order starts at its top; otherwise the cursor stays on its
        # document wherever a refresh moved it.
        selected = None if self.to_top else self.selected_id()
        self.to_top = False
        width = self._wanted_width()
        if width != self._summary_width or not table.columns:
            self._summary_width = width
            table.clear(columns=True)
            for name in COLUMNS:
                table.add_column(_(name), width=_WIDTHS.get(name, width), key=name)
            self._show_sort()
        else:
            table.clear()
        for row in snapshot.rows:
            table.add_row(*self._cells(row, width), key=str(row[0]))
        if selected is not None and str(selected) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected)), animate=False)
        elif selected is None:
            table.move_cursor(row=0, animate=False)
        self._show_counts(snapshot)
        self._show_more(snapshot)
        empty = self.query_one("#empty", Static)
        empty.display = not snapshot.rows
        if not snapshot.rows:
            empty.update(self._empty_message())

    def _cells(self, row: tuple[Any, ...], width: int) -> list[Text]:
        _id, urgency, category, summary, received, state, needs_review = row
        loud = "bold" if urgency == Urgency.EMERGENCY else ""
        shown = _one_line(summary)
        if row[0] in self.marked:
            shown = "✓ " + shown  # marked for a bulk confirmation (C)
        return [
            urgency_text(urgency),
            literal(clip(str(category or "-"), _WIDTHS["category"] - 1), one_line=True),
            literal(clip(shown, width - 1), style=loud, one_line=True),
            Text(local_time(received)),
            # Provisional first: the one name for the fast stage's result
            # everywhere (docs/triage.md, "Two stages"); the view says it waits.
            Text(_("to review"), style="bold")
            if needs_review and state != "provisional"
            else Text(_(state)),
        ]

    def _show_counts(self, snapshot: QueueSnapshot) -> None:
        """Needs review first, then what needs doing; what does not fit at this
        width is left out (the status screen lists every state)."""
        if self.patient is not None:  # the box's counts would read as hers
            said = _("{n} document(s) with this reference")
            line = literal(said.format(n=snapshot.total), style="bold")
            self.query_one("#counts", Static).update(line)
            return
        width = self.size.width - 2 - len(" …")
        line = Text()
        for name, count in _count_items(snapshot):
            gap = "  " if line else ""
            if line.cell_len + len(f"{gap}{_(name)} {count}") > width:
                line.append(" …", style="dim")
                break
            line.append(gap)
            line.append(f"{_(name)} ", style="dim")
            line.append(str(count), style="bold")
        self.query_one("#counts", Static).update(line)

    def _show_more(self, snapshot: QueueSnapshot) -> None:
        """Say when the queue holds more documents than this page shows."""
        more = self.query_one("#more", Static)
        more.display = snapshot.total > len(snapshot.rows)
        if not more.display:
            return
        start = snapshot.offset + 1
        end = snapshot.offset + len(snapshot.rows)
        line = Text(
            _("{start}–{end} of {total} shown").format(
                start=start, end=end, total=snapshot.total
            ),
            style="bold",
        )
        if end < snapshot.total:
            line.append("  ] ", style="bold")
            line.append(_("next page"))
        if snapshot.offset:
            line.append("  [ ", style="bold")
            line.append(_("previous"))
        line.append(_("  x k u filter to narrow"), style="dim")
        more.update(Padding(line, (0, 1)))

    def _show_filters(self) -> None:
        f = self.filters
        line = Text(_("view "), style="dim")
        line.append("t ", style="bold")
        line.append(_("to review") if f.to_review else _("all"), style="bold")
        line.append("  ")
        for key, name, value in (
            ("x", "state", f.state),
            ("k", "category", f.category),
            ("u", "urgency", f.urgency),
        ):
            line.append(f"{key} ", style="bold")
            line.append(f"{_(name)}: ")
            shown = value if key == "k" else value and _(value)  # stored words
            line.append(shown or _("all"), style="bold" if value else "")
            line.append("  ")
        if self.words:
            line.append("w ", style="bold")
            line.append_text(literal(f'"{self.words}"', style="bold", one_line=True))
            line.append("  ")
        if self._narrowed():
            line.append("0 ", style="bold")
            line.append(_("clear"))
        self.query_one("#filters", Static).update(line)

    def _empty_message(self) -> Text:
        if self._narrowed():
            return Text(_("No document matches these filters (0 clears them)."))
        if self.filters.to_review:
            return Text(_("Nothing waits for a person. t shows every document."))
        return literal(
            "No documents yet. Files dropped into "
            f"{self.edgebox.config.inbox_dir} appear here once the service "
            "(edgebox serve, or edgebox run) has read them."
        )

    # -- actions -----------------------------------------------------------

    def selected_id(self) -> int | None:
        table = self.query_one(QueueTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(key.value) if key.value is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._open(int(event.row_key.value))

    def _open(self, doc_id: int, *, review: bool = False) -> None:
        from edgebox.tui.document import DocumentScreen

        self.app.push_screen(DocumentScreen(doc_id, review=review))

    def action_review(self) -> None:
        doc_id = self.selected_id()
        if doc_id is not None:
            self._open(doc_id, review=True)

    def action_search(self) -> None:
        from edgebox.tui.search import SearchScreen

        self.app.push_screen(SearchScreen())

    def action_status(self) -> None:
        from edgebox.tui.status import StatusScreen

        self.app.push_screen(StatusScreen())

    def action_cycle(self, name: str) -> None:
        choices = self._choices(name)
        current = getattr(self.filters, name)
        # A recalled filter may name a category the settings no longer list.
        at = choices.index(current) if current in choices else 0
        following = choices[(at + 1) % len(choices)]
        self._set_filters(replace(self.filters, **{name: following}))

    def action_clear_filters(self) -> None:
        self.words = None
        self._set_filters(DocumentFilter(to_review=self.filters.to_review))

    def action_back(self) -> None:
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape leaves a patient's documents; the main queue has no "back".
        return self.patient is not None if action == "back" else True

    def action_toggle_view(self) -> None:
        self._set_filters(replace(self.filters, to_review=not self.filters.to_review))

    def action_mark(self) -> None:
        """Mark or unmark the document under the cursor, then go down a row."""
        doc_id = self.selected_id()
        if doc_id is None:
            return
        self.marked ^= {doc_id}
        if self.snapshot is not None:
            self._paint(self.snapshot)
        table = self.query_one(QueueTable)
        table.move_cursor(row=min(table.cursor_row + 1, table.row_count - 1))

    def action_confirm_marked(self) -> None:
        """Confirm every marked document as it is, after one question; never
        an emergency (each is confirmed on its own)."""
        from edgebox.tui.confirm import ConfirmScreen

        if not self.marked:
            self.notify(_("Mark documents with space first, then C confirms them."))
            return
        if self.edgebox.read_only:
            self.notify(_("The store is read-only here: cannot confirm."))
            return
        rows = {row[0]: row for row in (self.snapshot.rows if self.snapshot else ())}
        emergencies = sorted(d for d in self.marked if rows.get(d, [None, ""])[1]
                             == Urgency.EMERGENCY)  # fmt: skip
        chosen = sorted(self.marked - set(emergencies))
        question = Text(
            _("Confirm {n} document(s) as they are?").format(n=len(chosen)), "bold"
        )
        if emergencies:
            question.append(
                "\n"
                + _(
                    "{n} emergency(ies) left out: each is confirmed on its own."
                ).format(n=len(emergencies))
            )
        question.append(
            "\n" + _("Bulk confirmations are marked as such and do not train the box.")
        )

        def answered(yes: bool | None) -> None:
            if yes and chosen:
                self.edgebox.ask_who_then(lambda: self._confirm_many(chosen))

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, group="write", exit_on_error=False)
    def _confirm_many(self, doc_ids: list[int]) -> None:
        app = self.edgebox
        try:
            with app.opener() as store:
                done, left_out = store.confirm_many(
                    doc_ids, reviewer=cast(str, app.reviewer), signed=app.signed
                )
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            app.report("confirming", exc)
            return
        message = f"{len(done)} confirmed"
        if left_out:
            message += f", {len(left_out)} left out: " + "; ".join(
                f"#{d} {why}" for d, why in sorted(left_out.items())
            )
        app.call_from_thread(self._confirmed, message)

    def _confirmed(self, message: str) -> None:
        self.marked.clear()
        self.notify(message, markup=False)
        self.snapshot = None
        self.reload()

    def action_page(self, step: int) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        offset = snapshot.offset + step * QUEUE_PAGE
        if not 0 <= offset < snapshot.total:
            self.notify(_("No more documents that way."))
            return
        self.page_start = offset
        self.snapshot = None
        self.reload()

    def _set_filters(self, filters: DocumentFilter) -> None:
        self.filters = filters
        self.page_start = 0
        self.snapshot = None
        self._show_filters()
        self.reload()

    def _choices(self, name: str) -> list[str | None]:
        values: list[str] = {
            "state": [state.value for state in DocState],
            "category": list(self.edgebox.config.categories),
            "urgency": [urgency.value for urgency in Urgency],
        }[name]
        return [None, *values]


def _count_items(snapshot: QueueSnapshot) -> list[tuple[str, int]]:
    """(name, count) in the order a nurse needs them; empty problem states left out."""
    counts = dict(snapshot.counts)
    in_progress = counts.get("received", 0) + counts.get("extracted", 0)
    items = [
        (N_("needs review"), snapshot.needs_review),
        ("failed", counts.get("failed", 0)),
        ("quarantined", counts.get("quarantined", 0)),
        ("triaged", counts.get("triaged", 0)),
        ("reviewed", counts.get("reviewed", 0)),
        (N_("in progress"), in_progress),
        ("duplicate", counts.get("duplicate", 0)),
    ]
    always = ("needs review", "triaged", "reviewed")
    return [(name, n) for name, n in items if n or name in always]


def _one_line(text: object) -> str:
    return " ".join(str(text or "").split())
