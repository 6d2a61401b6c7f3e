"""One document: its result, red flags and where they were found, fields,
provenance, history, similar cases and the extracted text; review, confirm and
undo from here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from edgebox.i18n import _
from edgebox.store import Store
from edgebox.terminal import visible
from edgebox.tui.language import TranslatedKeys
from edgebox.tui.review import ReviewChoice
from edgebox.tui.sections import SECTIONS
from edgebox.tui.snapshots import DocumentView, load_document
from edgebox.tui.text import literal, urgency_text
from edgebox.tui.topbar import TopBar
from edgebox.vocabulary import Urgency

if TYPE_CHECKING:
    from edgebox.tui.app import EdgeboxApp

SIMILAR_LIMIT = 5


class DocumentScreen(TranslatedKeys, Screen):
    """Everything about one document; r review, c confirm, z undo."""

    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("r", "review", "review"),
        Binding("c", "confirm", "confirm"),
        Binding("z", "undo", "undo"),
        Binding("e", "escalate", "escalate"),
        Binding("x", "export", "export"),
        Binding("p", "patient", "patient", show=False),
    ]

    def __init__(self, doc_id: int, *, review: bool = False) -> None:
        super().__init__()
        self.doc_id = doc_id
        self.view: DocumentView | None = None
        self._review_on_load = review
        self._saving = False
        self._draft_note = ""
        """The note of a review not saved (refused, or failed): the next review
        form starts with it, so the nurse need not type it again."""

    @property
    def edgebox(self) -> EdgeboxApp:
        return cast("EdgeboxApp", self.app)

    def compose(self) -> Any:
        yield TopBar(_("document {id}").format(id=self.doc_id))
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
        self._load_similar()

    def on_screen_resume(self) -> None:
        # Also when a modal (help, a question) closes: the app reloads only
        # the screen on top, so changes made meanwhile are fetched here.
        self.reload()

    # -- loading -------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="document", exit_on_error=False)
    def _load(self) -> None:
        view = self._fetch()
        if view is not None:
            self.app.call_from_thread(self._show, view)

    def _fetch(self) -> DocumentView | None:
        """The document as the store has it now; None (and a message) on error.
        Called in a worker thread."""
        try:
            with self.edgebox.opener() as store:
                return load_document(
                    store,
                    self.doc_id,
                    min_examples=self.edgebox.config.triage.min_examples,
                    archive_dir=self.edgebox.config.archive_dir,
                )
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.edgebox.report(f"opening document {self.doc_id}", exc)
            return None

    def _show(self, view: DocumentView) -> None:
        if view == self.view:
            return
        self.view = view
        for name, build in SECTIONS.items():
            text = build(view)
            text.rstrip()
            self.query_one(f"#{name}", Static).update(text)
        if self._review_on_load:
            self._review_on_load = False
            self.action_review()

    @work(thread=True, exclusive=True, group="similar", exit_on_error=False)
    def _load_similar(self) -> None:
        from edgebox.tui.search import similar_cases

        try:
            hits, note = similar_cases(self.edgebox, self.doc_id, limit=SIMILAR_LIMIT)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            hits, note = [], f"unavailable: {exc}"
        self.app.call_from_thread(self._show_similar, hits, note)

    def _show_similar(self, hits: list[Any], note: str) -> None:
        title = Text(_("Similar cases"), style="bold")
        title.append(f": {note}" if note else _(" (enter opens)"))
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

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Reached with tab: without a highlighted case, enter would do nothing.
        options = event.widget
        if isinstance(options, OptionList) and options.highlighted is None:
            options.highlighted = 0 if options.option_count else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.app.push_screen(DocumentScreen(int(event.option.id)))

    # -- actions -------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_review(self) -> None:
        from edgebox.tui.review import ReviewScreen

        latest = self._result_to("review")
        if latest is None:
            return
        categories = self.edgebox.config.categories
        self._as_reviewer(
            lambda: self.app.push_screen(
                ReviewScreen(latest, categories, note=self._draft_note),
                self._reviewed,
            )
        )

    def action_confirm(self) -> None:
        latest = self._result_to("confirm")
        if latest is None:
            return
        if latest["urgency"] not in Urgency.levels():
            self.notify(
                _(
                    "Nothing confirmed: triage failed, so there is no urgency to"
                    " confirm. Press r to choose one."
                ),
                severity="warning",
            )
            return
        self._as_reviewer(
            lambda: self._reviewed(ReviewChoice(latest["revision"]), form=False)
        )

    def action_patient(self) -> None:
        """This patient's documents (the patient view, narrowed to one)."""
        from edgebox.tui.queue import QueueScreen

        latest = self.view.latest if self.view else None
        ref = str((latest or {}).get("fields", {}).get("patient_ref") or "").strip()
        if not ref:
            self.notify(_("No patient reference was read; r corrects the fields."))
            return
        self.app.push_screen(QueueScreen(patient=ref))

    def action_export(self) -> None:
        """Copy the original out of the archive into a folder the person
        chooses (a USB stick, a shared folder): `edgebox export` from here."""
        from edgebox.tui.export import ExportScreen

        view = self.view
        if view is None or view.original is None:
            self.notify(_("This document's original is not in the archive."))
            return
        folder = self.edgebox.config.home / "exports"

        def chosen(target: Path | None) -> None:
            if target is not None:
                self._export(view.original, view.document["file_name"], target)

        self.app.push_screen(ExportScreen(folder), chosen)

    @work(thread=True, group="write", exit_on_error=False)
    def _export(self, original: Path, name: str, folder: Path) -> None:
        from edgebox.intake.archive import export_copy

        try:
            target = export_copy(original, name, folder)
        except OSError as exc:
            self.edgebox.report("exporting", exc)
            return
        self.app.call_from_thread(
            self.notify,
            _("Copied to {target}").format(target=target),
            title=_("export"),
            markup=False,
        )

    def action_escalate(self) -> None:
        """Emergency now, whether or not any stage has rated the document:
        the service's later stages keep a person's answer."""
        if self._saving_now() or not self._can_write("escalate") or self.view is None:
            return
        latest = self.view.latest
        seen = latest["revision"] if latest else None

        def escalate() -> None:
            reviewer = cast(str, self.edgebox.reviewer)
            self._save(
                "escalate",
                lambda store: store.set_by_staff(
                    self.doc_id,
                    reviewer=reviewer,
                    urgency=Urgency.EMERGENCY,
                    expected_revision=seen,
                    signed=self.edgebox.signed,
                ),
            )

        self._as_reviewer(escalate)

    def _reviewed(self, choice: ReviewChoice | None, *, form: bool = True) -> None:
        """Save the person's choice; `form`: it came from the review form, whose
        note (even an emptied one) becomes the draft until it is saved."""
        if choice is None or self._saving_now():
            return
        if self._already_confirmed(choice):
            latest = cast(DocumentView, self.view).latest or {}
            self.notify(
                _(
                    "Already confirmed by {author} (revision {n}): nothing to save."
                ).format(
                    author=visible(latest["author"], one_line=True),
                    n=latest["revision"],
                ),
                markup=False,
            )
            return
        reviewer = cast(str, self.edgebox.reviewer)
        if form:
            self._draft_note = choice.note or ""
        self._save(
            "review" if choice.changes else "confirm",
            lambda store: store.record_review(
                self.doc_id,
                reviewer=reviewer,
                changes=choice.changes,
                note=choice.note,
                expected_revision=choice.revision,
                signed=self.edgebox.signed,
            ),
        )

    def _already_confirmed(self, choice: ReviewChoice) -> bool:
        """A plain confirm of what a person already confirmed adds nothing."""
        latest = self.view.latest if self.view else None
        return (
            latest is not None
            and latest["revision"] == choice.revision
            and not choice.changes
            and not choice.note
            and str(latest["author"]).startswith("staff:")
            and not latest["needs_review"]
        )

    def action_undo(self) -> None:
        from edgebox.tui.confirm import ConfirmScreen

        latest = self._result_to("undo")
        if latest is None:
            return
        plan = cast(DocumentView, self.view).undo
        if plan is None:
            self.notify(_("Nothing to undo: the result in effect is the AI's."))
            return
        seen = latest["revision"]
        question = Text(_("Undo "))
        question.append(_revision_line(plan.undone))
        question.append("?\n" + _("This restores "))
        question.append(_revision_line(plan.restored))
        question.append(".\n" + _("History is kept: the undo is a new revision."))

        def undo(yes: bool | None) -> None:
            if yes and not self._saving_now():
                reviewer = cast(str, self.edgebox.reviewer)
                self._save(
                    "undo",
                    lambda store: store.undo_last_change(
                        self.doc_id,
                        actor=reviewer,
                        expected_revision=seen,
                        signed=self.edgebox.signed,
                    ),
                )

        self._as_reviewer(lambda: self.app.push_screen(ConfirmScreen(question), undo))

    def _result_to(self, action: str) -> dict[str, Any] | None:
        """The result shown, if it can be reviewed now; else None, and why."""
        if self._saving_now() or not self._can_write(action) or self.view is None:
            return None
        if self.view.latest is None:
            self.notify(_no_result(self.view.document, action), markup=False)
        return self.view.latest

    def _saving_now(self) -> bool:
        """True (and say so) while the last change is still being saved: a
        second key press must not save it twice."""
        if self._saving:
            self.notify(_("Still saving the last change; try again in a moment."))
        return self._saving

    def _can_write(self, action: str) -> bool:
        if self.edgebox.read_only:
            self.notify(
                _("The store is read-only here: cannot {action}.").format(
                    action=_(action)
                ),
                severity="warning",
            )
            return False
        return True

    def _as_reviewer(self, then: Callable[[], object]) -> None:
        """Run `then` once we know who is reviewing (ask when nobody is set)."""
        if self.edgebox.reviewer:
            then()
            return
        self.edgebox.ask_who(then)

    def _save(self, action: str, change: Callable[[Store], int]) -> None:
        self._saving = True
        # The app's own worker: a nurse who leaves the document while the save
        # waits for the store still hears how it ended (saved, refused, failed).
        app = self.edgebox
        app.run_worker(
            lambda: self._write(app, action, change),
            thread=True,
            group="write",
            exit_on_error=False,
        )

    def _write(
        self, app: EdgeboxApp, action: str, change: Callable[[Store], int]
    ) -> None:
        """Save, then show the document as it is now: after a refusal (someone
        saved meanwhile) too, so that the nurse sees what changed."""
        saved = False
        try:
            with app.opener() as store:
                revision = change(store)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            app.report(action, exc)
        else:
            saved = True
            app.notify(
                _("{action}: saved as revision {n}").format(
                    action=_(action), n=revision
                ),
                markup=False,
            )
        if self.is_attached:
            app.call_from_thread(self._saved, self._fetch(), saved=saved)
        else:
            self._saving = False

    def _saved(self, view: DocumentView | None, *, saved: bool) -> None:
        self._saving = False
        if saved:
            self._draft_note = ""
        if view is not None:
            self._show(view)


def _no_result(document: dict[str, Any], action: str) -> str:
    """Why a document without a triage result cannot be reviewed."""
    state = document["state"]
    if state in ("quarantined", "failed"):
        why = f"{_(state)} ({document['error_code'] or _('no reason given')})"
        return _(
            "Cannot {action}: the document is {why} and has no triage result."
            " Requeue it on the status screen (s in the queue)."
        ).format(action=_(action), why=why)
    if state == "duplicate":
        return _("Cannot {action}: a duplicate; review the first copy instead.").format(
            action=_(action)
        )
    return _(
        "Cannot {action}: not triaged yet (the service has not finished it)."
    ).format(action=_(action))


def _revision_line(rev: dict[str, Any]) -> Text:
    line = Text(_("revision {n} by ").format(n=rev["revision"]))
    line.append(literal(rev["author"], one_line=True))
    line.append(f" ({_(rev['urgency'])}, {rev['category'] or '-'})")
    return line
