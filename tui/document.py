"""One document: its result, red flags and where they were found, fields,
provenance, history, similar cases and the extracted text; review, confirm and
undo from here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from edgebox.store import Store
from edgebox.store.review import undo_marker
from tui.data import DocumentView, literal, load_document, local_time, urgency_text
from tui.review import ReviewChoice
from tui.topbar import TopBar

if TYPE_CHECKING:
    from tui.app import EdgeboxApp

# Enough for any real letter; a bigger text is cut so that the screen stays fast.
MAX_TEXT_CHARS = 200_000
SIMILAR_LIMIT = 5


class DocumentScreen(Screen):
    """Everything about one document; r review, c confirm, z undo."""

    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("r", "review", "review"),
        Binding("c", "confirm", "confirm"),
        Binding("z", "undo", "undo"),
    ]

    def __init__(self, doc_id: int, *, review: bool = False) -> None:
        super().__init__()
        self.doc_id = doc_id
        self.view: DocumentView | None = None
        self._review_on_load = review

    @property
    def edgebox(self) -> EdgeboxApp:
        return cast("EdgeboxApp", self.app)

    def compose(self) -> Any:
        yield TopBar(f"document {self.doc_id}")
        with VerticalScroll(id="document"):
            yield Static(id="head")
            yield Static(id="result")
            yield Static(id="flags")
            yield Static(id="fields")
            yield Static(id="provenance")
            yield Static(id="history")
            yield Static("Similar cases: loading…", id="similar-title")
            yield OptionList(id="similar")
            yield Static(id="text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#similar", OptionList).display = False
        self.query_one("#document", VerticalScroll).focus()
        self.reload()
        self._load_similar()

    # -- loading -------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="document", exit_on_error=False)
    def _load(self) -> None:
        try:
            with self.edgebox.opener() as store:
                view = load_document(store, self.doc_id)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.edgebox.report(f"opening document {self.doc_id}", exc)
            return
        self.app.call_from_thread(self._show, view)

    def _show(self, view: DocumentView) -> None:
        if view == self.view:
            return
        self.view = view
        for name, build in _SECTIONS.items():
            text = build(view)
            text.rstrip()
            self.query_one(f"#{name}", Static).update(text)
        if self._review_on_load:
            self._review_on_load = False
            self.action_review()

    @work(thread=True, exclusive=True, group="similar", exit_on_error=False)
    def _load_similar(self) -> None:
        from tui.search import similar_cases

        try:
            hits, note = similar_cases(self.edgebox, self.doc_id, limit=SIMILAR_LIMIT)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            hits, note = [], f"unavailable: {exc}"
        self.app.call_from_thread(self._show_similar, hits, note)

    def _show_similar(self, hits: list[Any], note: str) -> None:
        title = Text("Similar cases", style="bold")
        title.append(f": {note}" if note else " (enter opens)")
        self.query_one("#similar-title", Static).update(title)
        options = self.query_one("#similar", OptionList)
        options.clear_options()
        for hit in hits:
            line = urgency_text(hit.urgency)
            line.append(f" {hit.category or '-'} ")
            line.append(literal(hit.snippet or hit.file, one_line=True))
            if hit.reviewed:
                line.append(" (reviewed)", style="italic")
            options.add_option(Option(line, id=str(hit.document_id)))
        options.display = bool(hits)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.app.push_screen(DocumentScreen(int(event.option.id)))

    # -- actions -------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_review(self) -> None:
        from tui.review import ReviewScreen

        if self._can_write("review") and self.view and self.view.latest:
            self._as_reviewer(
                lambda: self.app.push_screen(
                    ReviewScreen(self.view.latest, self.edgebox.config.categories),
                    self._reviewed,
                )
            )

    def _reviewed(self, choice: ReviewChoice | None) -> None:
        if choice is None:
            return
        reviewer = cast(str, self.edgebox.reviewer)
        self._write(
            "review" if choice.changes else "confirm",
            lambda store: store.record_review(
                self.doc_id, reviewer=reviewer, changes=choice.changes, note=choice.note
            ),
        )

    def action_confirm(self) -> None:
        if self._can_write("confirm") and self.view and self.view.latest:
            self._as_reviewer(lambda: self._reviewed(ReviewChoice()))

    def action_undo(self) -> None:
        from tui.confirm import ConfirmScreen

        if not self._can_write("undo") or self.view is None:
            return
        plan = self.view.undo
        if plan is None:
            self.notify("Nothing to undo: the result in effect is the AI's.")
            return
        question = Text("Undo ")
        question.append(_revision_line(plan.undone))
        question.append("?\nThis restores ")
        question.append(_revision_line(plan.restored))
        question.append(".\nHistory is kept: the undo is a new revision.")

        def undo(yes: bool | None) -> None:
            if yes:
                reviewer = cast(str, self.edgebox.reviewer)
                self._write(
                    "undo",
                    lambda store: store.undo_last_change(self.doc_id, actor=reviewer),
                )

        self._as_reviewer(lambda: self.app.push_screen(ConfirmScreen(question), undo))

    def _can_write(self, action: str) -> bool:
        if self.edgebox.read_only:
            self.notify(
                f"The store is read-only here: cannot {action}.", severity="warning"
            )
            return False
        return True

    def _as_reviewer(self, then: Callable[[], object]) -> None:
        """Run `then` once we know who is reviewing (ask when nobody is set)."""
        from tui.review import NameScreen

        if self.edgebox.reviewer:
            then()
            return

        def named(name: str | None) -> None:
            if name:
                self.edgebox.reviewer = name
                then()

        self.app.push_screen(NameScreen(), named)

    @work(thread=True, group="write", exit_on_error=False)
    def _write(self, action: str, change: Callable[[Store], int]) -> None:
        try:
            with self.edgebox.opener() as store:
                revision = change(store)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.edgebox.report(action, exc)
            return
        self.app.notify(f"{action}: saved as revision {revision}", markup=False)
        self.app.call_from_thread(self.reload)


def _revision_line(rev: dict[str, Any]) -> Text:
    line = Text(f"revision {rev['revision']} by ")
    line.append(literal(rev["author"], one_line=True))
    line.append(f" ({rev['urgency']}, {rev['category'] or '-'})")
    return line


def _section(title: str) -> Text:
    return Text(f"{title}\n", style="bold underline")


def _head(view: DocumentView) -> Text:
    doc = view.document
    line = literal(doc["file_name"], style="bold", one_line=True)
    line.append(f"  #{doc['id']} · {doc['state']}")
    line.append(f" · received {local_time(doc['received_at'], with_year=True)}")
    if doc.get("error_code"):
        line.append("\nerror: ", style="bold")
        line.append(literal(f"{doc['error_code']}: {doc['error_message'] or ''}"))
    return line


def _result(view: DocumentView) -> Text:
    latest = view.latest
    if latest is None:
        return Text("Not triaged yet.", style="italic")
    line = urgency_text(latest["urgency"])
    line.append(f"  {latest['category'] or '-'}")
    if latest["needs_review"]:
        line.append("  NEEDS REVIEW", style="bold")
    line.append("\n")
    line.append(_section("Summary"))
    line.append(literal(latest["summary"] or "(no summary)"))
    return line


def _flags(view: DocumentView) -> Text:
    flags = view.latest["red_flags"] if view.latest else []
    out = _section("Red flags")
    if not flags:
        out.append("none found")
    for flag in flags:
        out.append("* ")
        out.append(literal(flag.get("sign"), style="bold", one_line=True))
        details = [str(v) for v in (flag.get("level"), flag.get("source")) if v]
        out.append(f" ({', '.join(details)})" if details else "")
        if flag.get("evidence"):
            out.append(": “")
            out.append(literal(flag["evidence"], one_line=True))
            out.append("”")
        if flag.get("at"):
            start, end = flag["at"]
            out.append(f" at characters {start}–{end}", style="dim")
        out.append("\n")
    return out


def _fields(view: DocumentView) -> Text:
    fields = view.latest["fields"] if view.latest else {}
    out = _section("Fields")
    if not fields:
        out.append("none found")
    for name, value in fields.items():
        out.append(literal(name, style="dim", one_line=True))
        out.append(": ")
        out.append(literal(value, one_line=True))
        out.append("\n")
    return out


def _provenance(view: DocumentView) -> Text:
    latest = view.latest
    out = _section("Provenance")
    if latest is None:
        return out.append("-")
    prov, sources = latest["provenance"], latest["sources"]
    confidence = latest["confidence"]
    rows = [
        ("model", prov.get("model")),
        ("prompt", prov.get("prompt_version")),
        ("rules", prov.get("rules_version")),
        ("sources", ", ".join(f"{k}: {v}" for k, v in sources.items())),
        ("confidence", "-" if confidence is None else f"{confidence:.2f}"),
        ("review why", ", ".join(prov.get("review_reasons") or [])),
    ]
    for name, value in rows:
        if value:
            out.append(f"{name}: ", style="dim")
            out.append(literal(value, one_line=True))
            out.append("\n")
    return out


def _history(view: DocumentView) -> Text:
    out = _section("History")
    for rev in reversed(view.revisions):
        out.append(f"r{rev['revision']} {local_time(rev['created_at'])} ")
        out.append(literal(rev["author"], one_line=True))
        out.append(f" {rev['urgency']} {rev['category'] or '-'}")
        undo = undo_marker(rev)
        if undo:
            out.append(f" (undo of r{undo['undid']} by ")
            out.append(literal(undo["by"], one_line=True))
            out.append(")")
        if rev.get("note"):
            out.append(" note: ", style="dim")
            out.append(literal(rev["note"], one_line=True))
        out.append("\n")
    return out


def _text(view: DocumentView) -> Text:
    text = view.document["text"]
    out = _section("Text")
    if not text:
        return out.append("(no text was extracted)", style="italic")
    out.append(literal(text[:MAX_TEXT_CHARS]))
    if len(text) > MAX_TEXT_CHARS:
        out.append(f"\n… {len(text) - MAX_TEXT_CHARS} more characters", style="dim")
    return out


_SECTIONS: dict[str, Callable[[DocumentView], Text]] = {
    "head": _head,
    "result": _result,
    "flags": _flags,
    "fields": _fields,
    "provenance": _provenance,
    "history": _history,
    "text": _text,
}
