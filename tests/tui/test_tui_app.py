"""The UI with Textual's Pilot on a real store: queue, document, review, undo."""

from __future__ import annotations

import getpass
import json

import pytest
from textual.widgets import Input

from edgebox import config
from edgebox.store import DocState, Store
from edgebox.tui.alert import EmergencyBanner
from edgebox.tui.document import DocumentScreen
from edgebox.tui.help import HelpScreen
from edgebox.tui.queue import QueueScreen
from edgebox.tui.review import NameScreen, ReviewScreen
from edgebox.tui.snapshots import StoreOpener
from tests.support.tui import (
    REFERRAL_TEXT,
    ai_result,
    make_app,
    queue_ready,
    screen_dump,
    screen_text,
    seed,
    table_rows,
    until,
    until_on,
    workers_done,
)

pytestmark = pytest.mark.anyio


async def open_document(pilot, row: int) -> DocumentScreen:
    table = await queue_ready(pilot, 5)
    table.move_cursor(row=row)
    await pilot.press("enter")
    return await until_on(pilot, DocumentScreen, lambda s: s.view is not None)


async def open_document_id(pilot, doc_id: int) -> DocumentScreen:
    table = await queue_ready(pilot, 5)
    table.move_cursor(row=table.get_row_index(str(doc_id)))
    await pilot.press("enter")
    return await until_on(pilot, DocumentScreen, lambda s: s.view is not None)


async def test_the_queue_lists_emergencies_first_then_by_age(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 5)
        rows = table_rows(table)
        assert [row[0] for row in rows] == [
            "!! EMERG",
            "!  urgent",
            "·  -",  # quarantined, no result: sorts with the unknown, by age
            "?  unknown",  # the failed triage: right after the urgent ones
            "   routine",
        ]
        assert [row[4] for row in rows[2:]] == ["quarantined", "to review", "triaged"]
        assert rows[0][1:] == [
            "referral",
            "3-year-old girl with convul…",
            "04 Mar 08:15",
            "to review",
        ]
        text = screen_text(pilot.app)
        assert "needs review 2  quarantined 1  triaged 4  reviewed 0" in text
        assert "reviewer: amina" in text


async def test_filters_cycle_and_clear(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("u")  # urgency: emergency
        table = await queue_ready(pilot, 1)
        assert table_rows(table)[0][0] == "!! EMERG"
        await pilot.press("u", "u")  # urgency: unknown
        table = await queue_ready(pilot, 2)
        assert "u urgency: unknown" in screen_text(pilot.app)
        # The quarantined scan (the older) first, then the failed triage.
        assert [row[4] for row in table_rows(table)] == ["quarantined", "to review"]
        await pilot.press("0", "x", "x", "x", "x", "x", "x")  # state: quarantined
        table = await queue_ready(pilot, 1)
        assert table_rows(table)[0][2].startswith("OCR is not")
        await pilot.press("0")
        await queue_ready(pilot, 5)


async def test_a_document_shows_flags_with_their_place_fields_and_provenance(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await open_document(pilot, 0)
        text = screen_text(pilot.app)
        # By level, emergency first, with the words that triggered each (a
        # character offset meant nothing to a nurse).
        flag = "!! convulsions (emergency, rules): “Convulsions since this morning”"
        assert flag in text and "at characters" not in text
        assert text.index(flag) < text.index("*  unable to drink (llm)")
        assert "patient_ref: KE-4471" in text
        assert "model: SmolLM2-135M-Instruct.Q4_1.gguf" in text
        assert "sources: category: llm, urgency: rules" in text
        assert REFERRAL_TEXT in text
        await until(pilot, lambda: "not indexed yet" in screen_text(pilot.app))
        await pilot.press("escape")
        await queue_ready(pilot, 5)


async def test_overriding_the_urgency_makes_a_revision_with_audit_and_outbox(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["referral-kibera.txt"]
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_document(pilot, 0)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        await pilot.press("enter", "down", "enter")  # urgency: emergency -> urgent
        await pilot.press("tab", "tab", *"seen by phone", "ctrl+s")
        await until(pilot, lambda: len(screen.view.revisions) == 2)
        assert "!  urgent  referral" in screen_text(pilot.app)
        assert "r2 " in screen_text(pilot.app)
        await pilot.press("r")  # the saved note is not offered again
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        assert pilot.app.screen.query_one("#note", Input).value == ""
    with Store(settings.db_path) as store:
        latest = store.latest_revision(doc_id)
        assert (latest["author"], latest["urgency"], latest["category"]) == (
            "staff:amina",
            "urgent",
            "referral",
        )
        assert latest["note"] == "seen by phone"
        assert latest["needs_review"] is False
        assert store.document(doc_id)["state"] == DocState.REVIEWED
        audit = store.audit_log(doc_id)[-1]
        assert (audit["actor"], audit["action"]) == ("staff:amina", "triage")
        # EDGEBOX_USER named her, and the audit says so (no PIN was asked).
        assert json.loads(audit["detail"]) == {"revision": 2, "signed": "EDGEBOX_USER"}
        outbox = [r for r in store.pending_outbox() if r.document_id == doc_id]
        assert [json.loads(r.payload)["urgency"] for r in outbox] == [
            "emergency",
            "urgent",
        ]


async def test_confirm_then_undo_returns_to_the_ai_answer(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["lab-malaria.pdf"]
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_document(pilot, 1)
        await pilot.press("c")
        await until(pilot, lambda: len(screen.view.revisions) == 2)
        assert screen.view.latest["author"] == "staff:amina"
        await pilot.press("z")
        await until(
            pilot, lambda: "Undo revision 2 by staff:amina" in screen_dump(pilot.app)
        )
        await pilot.press("y")
        await until(pilot, lambda: len(screen.view.revisions) == 3)
        assert "(undo of r2 by staff:amina)" in screen_text(pilot.app)
        assert "NEEDS REVIEW" in screen_text(pilot.app)
        await pilot.press("z")  # nothing left to undo: a message, no revision
        await pilot.pause(0.2)
        assert len(screen.view.revisions) == 3
    with Store(settings.db_path) as store:
        assert store.document(doc_id)["state"] == DocState.TRIAGED
        assert [a["action"] for a in store.audit_log(doc_id)][-2:] == ["triage", "undo"]
        assert store.training_examples() == []


async def test_review_from_the_queue_and_cancel_changes_nothing(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DocumentScreen))
    with Store(settings.db_path) as store:
        assert len(store.revisions(seeded["referral-kibera.txt"])) == 1


async def test_without_a_name_the_app_asks_who_reviews(
    settings: config.Config,
    seeded: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_login_name() -> str:
        raise OSError("no user name in this container")

    monkeypatch.delenv("EDGEBOX_USER")
    monkeypatch.setattr(getpass, "getuser", no_login_name)
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        assert pilot.app.reviewer is None
        screen = await open_document(pilot, 2 + 2)  # the routine prescription
        await pilot.press("c")
        await until(pilot, lambda: isinstance(pilot.app.screen, NameScreen))
        await pilot.press(*"Grace N", "enter")
        await until(pilot, lambda: len(screen.view.revisions) == 2)
        assert screen.view.latest["author"] == "staff:Grace N"


async def test_the_queue_refreshes_as_documents_arrive_and_not_otherwise(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings, refresh_s=0.1).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 5)
        screen = pilot.app.screen
        table.move_cursor(row=3)
        painted = screen.snapshot
        screen.reload()  # the same data again: no repaint, the cursor stays
        await until(pilot, lambda: workers_done(pilot.app, "queue"))
        await pilot.pause()
        assert screen.snapshot is painted and table.cursor_row == 3
        with Store(settings.db_path) as other_process:
            seed(
                other_process,
                [{"file": "new.txt", "text": "new", "at": "2025-03-05T10:00:00+00:00",
                  "result": {"category": "letter", "urgency": "emergency",
                             "summary": "arrived later", "needs_review": True}}],
            )  # fmt: skip
        # A new emergency brings up the banner (tests/triage/test_alerts.py); the
        # queue under it has refreshed all the same.
        await until_on(pilot, EmergencyBanner)
        await until(pilot, lambda: table.row_count == 6)
        await pilot.press("A")
        await queue_ready(pilot, 6)
        assert table_rows(table)[1][2] == "arrived later"
        assert table.cursor_row == 4  # still on the same document


async def test_help_opens_and_closes_and_q_quits(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "undo the last change" in screen_dump(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)


async def test_a_read_only_store_can_be_read_but_not_reviewed(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    opener = StoreOpener(settings.db_path, read_only=True)
    async with make_app(settings, opener=opener).run_test(size=(80, 24)) as pilot:
        assert "READ-ONLY" in screen_text(pilot.app)
        screen = await open_document(pilot, 0)
        await pilot.press("c", "z")
        await pilot.press("r")
        await until(pilot, lambda: workers_done(pilot.app, "write"))
        assert isinstance(pilot.app.screen, DocumentScreen)
        assert screen.view.latest["revision"] == 1
        said = [n.message for n in pilot.app._notifications]
        assert "The store is read-only here: cannot confirm." in said
        assert "The store is read-only here: cannot undo." in said
    with Store(settings.db_path) as store:
        assert len(store.revisions(seeded["referral-kibera.txt"])) == 1


async def test_a_save_on_a_locked_store_is_a_message_not_a_crash(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    import sqlite3

    opener = StoreOpener(settings.db_path, lock_wait_s=0.1)
    app = make_app(settings, opener=opener)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_document(pilot, 1)
        locker = sqlite3.connect(settings.db_path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            await pilot.press("c")
            await until(
                pilot,
                lambda: any("locked" in n.message for n in app._notifications),
            )
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert app.is_running and screen.view.latest["revision"] == 1


async def test_no_color_keeps_emergencies_apart_by_symbol(
    settings: config.Config, seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        assert app.no_color
        lines = screen_dump(app).splitlines()
        assert lines[4].startswith("!! EMERG   referral")
        assert not any("!!" in line for line in lines[5:9])


def said(app) -> list[str]:
    """The notifications shown so far, newest last."""
    return [n.message for n in app._notifications]


def saved_revisions(settings: config.Config, doc_id: int) -> list[tuple]:
    with Store(settings.db_path) as store:
        return [(r["revision"], r["author"]) for r in store.revisions(doc_id)]


async def test_confirm_refuses_a_failed_triage_with_no_urgency(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_document(pilot, 3)  # intake: triage failed, unknown
        await pilot.press("c")
        await until(
            pilot, lambda: any("Nothing confirmed" in m for m in said(pilot.app))
        )
        await until(pilot, lambda: workers_done(pilot.app, "write"))
        assert screen.view.latest["needs_review"] is True
    assert saved_revisions(settings, seeded["intake-0311.txt"]) == [(1, "ai")]


async def test_a_failed_triage_is_reviewed_in_the_form(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    """No category and no urgency to start from: the form opens on blanks."""
    doc_id = seeded["intake-0311.txt"]
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await open_document(pilot, 3)  # intake: triage failed, unknown
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        await pilot.press("ctrl+s")  # nothing chosen yet
        await until(pilot, lambda: "Choose an urgency first." in said(pilot.app))
        await pilot.press("enter", "down", "enter", "ctrl+s")  # the first level
        await until(pilot, lambda: len(saved_revisions(settings, doc_id)) == 2)
    with Store(settings.db_path) as store:
        latest = store.latest_revision(doc_id)
    assert (latest["author"], latest["urgency"]) == ("staff:amina", "emergency")


async def test_leaving_while_a_save_waits_still_says_how_it_ended(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    """The service holds the write lock; the nurse presses c, then escape."""
    import threading

    doc_id = seeded["lab-malaria.pdf"]
    locked, release = threading.Event(), threading.Event()

    def service_writing() -> None:  # another process's long write
        with Store(settings.db_path) as other:
            other.db.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(timeout=30)
            other.db.execute("COMMIT")

    writer = threading.Thread(target=service_writing)
    writer.start()
    try:
        assert locked.wait(timeout=30)
        async with make_app(settings).run_test(size=(80, 24)) as pilot:
            await open_document(pilot, 1)
            await pilot.press("c", "escape")
            await queue_ready(pilot, 5)
            release.set()
            await until(
                pilot,
                lambda: "confirm: saved as revision 2" in said(pilot.app),
            )
    finally:
        release.set()
        writer.join()
    assert saved_revisions(settings, doc_id) == [(1, "ai"), (2, "staff:amina")]


async def test_a_review_on_a_revision_someone_else_replaced_is_refused(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["referral-kibera.txt"]
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_document(pilot, 0)  # emergency
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        with Store(settings.db_path) as other_session:
            other_session.record_review(
                doc_id, reviewer="baraka", changes={"urgency": "urgent"}
            )
        # The nurse leaves "emergency" as she sees it and adds a note.
        await pilot.press("tab", "tab", *"keep as emergency", "enter")
        await until(pilot, lambda: any("changed since" in m for m in said(pilot.app)))
        await until(pilot, lambda: screen.view.latest["revision"] == 2)
        assert pilot.app.screen is screen
        assert "!  urgent  referral" in screen_text(pilot.app)
        # Her note waits in the next form: she need not type it again.
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        assert pilot.app.screen.query_one("#note", Input).value == "keep as emergency"
    assert saved_revisions(settings, doc_id) == [(1, "ai"), (2, "staff:baraka")]


async def test_a_refused_confirm_keeps_the_note_of_a_refused_review(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["referral-kibera.txt"]

    def retriaged() -> None:  # the service triages it again (a requeue)
        with Store(settings.db_path) as other_session:
            other_session.record_triage(
                doc_id, ai_result(category="referral", urgency="emergency",
                                  summary="Again.", needs_review=True)
            )  # fmt: skip

    # No refresh of its own: the screen is only as new as its last save.
    async with make_app(settings, refresh_s=3600).run_test(size=(80, 24)) as pilot:
        screen = await open_document(pilot, 0)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        retriaged()
        await pilot.press("tab", "tab", *"called the family", "enter")
        await until(pilot, lambda: screen.view.latest["revision"] == 2)  # refused
        retriaged()
        await pilot.press("c")  # refused as well: revision 3 came meanwhile
        await until(pilot, lambda: screen.view.latest["revision"] == 3)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        assert pilot.app.screen.query_one("#note", Input).value == "called the family"
    assert saved_revisions(settings, doc_id) == [(1, "ai"), (2, "ai"), (3, "ai")]


async def test_the_document_reloads_when_a_modal_over_it_closes(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    app = make_app(settings, refresh_s=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_document(pilot, 1)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        seen = app._seen_version  # the refresh timer's last look at the store
        with Store(settings.db_path) as other_session:
            other_session.record_review(
                seeded["lab-malaria.pdf"], reviewer="baraka", changes={}
            )
        await until(pilot, lambda: app._seen_version != seen)  # noticed under help
        await pilot.press("escape")
        await until(pilot, lambda: screen.view.latest["revision"] == 2, timeout=5)
        assert "staff:baraka" in screen_text(app)


async def test_undo_refuses_when_the_document_changed_after_the_question(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["referral-kibera.txt"]
    with Store(settings.db_path) as store:
        store.record_review(doc_id, reviewer="alice", changes={"urgency": "urgent"})
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_document_id(pilot, doc_id)
        await pilot.press("z")
        await until(
            pilot, lambda: "Undo revision 2 by staff:alice" in screen_dump(pilot.app)
        )
        with Store(settings.db_path) as other_session:
            other_session.record_review(
                doc_id, reviewer="bob", changes={"category": "letter"}
            )
        await pilot.press("y")
        await until(pilot, lambda: any("changed since" in m for m in said(pilot.app)))
        await until(pilot, lambda: screen.view.latest["revision"] == 3)
    assert saved_revisions(settings, doc_id) == [
        (1, "ai"),
        (2, "staff:alice"),
        (3, "staff:bob"),
    ]


async def test_confirm_pressed_twice_saves_once_and_a_confirmed_result_stays(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["lab-malaria.pdf"]
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_document(pilot, 1)
        await pilot.press("c", "c")
        await until(pilot, lambda: workers_done(pilot.app, "write"))
        await until(pilot, lambda: screen.view.latest["revision"] == 2)
        await pilot.press("c")  # already confirmed with these values
        await until(
            pilot,
            lambda: (
                "Already confirmed by staff:amina (revision 2): nothing to save."
                in said(pilot.app)
            ),
        )
        await until(pilot, lambda: workers_done(pilot.app, "write"))
    assert saved_revisions(settings, doc_id) == [(1, "ai"), (2, "staff:amina")]


async def test_review_and_confirm_say_why_a_document_without_a_result_cannot(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await open_document(pilot, 2)  # the quarantined scan, with the unknown
        await pilot.press("r", "c")
        await until(pilot, lambda: len(said(pilot.app)) >= 2)
        review, confirm = said(pilot.app)[-2:]
        assert review.startswith(
            "Cannot review: the document is quarantined (ocr_unavailable)"
        )
        assert confirm.startswith("Cannot confirm: the document is quarantined")
        assert "status screen" in confirm
        assert isinstance(pilot.app.screen, DocumentScreen)


def more_documents(settings: config.Config, count: int, *, state: DocState) -> None:
    """`count` documents not triaged yet, in one transaction (quick)."""
    with Store(settings.db_path) as store, store.atomic():
        for n in range(count):
            store.add_document(
                file_name=f"extra-{n:03}.txt", sha256=f"e{n:063x}", size=1,
                state=state, text=f"extra {n}",
            )  # fmt: skip


async def test_a_queue_longer_than_a_page_says_so_and_pages_to_the_rest(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    more_documents(settings, 500, state=DocState.RECEIVED)
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 500)
        assert "1–500 of 505 shown  ] next page" in screen_dump(pilot.app)
        await pilot.press("]")
        table = await queue_ready(pilot, 5)
        assert "501–505 of 505 shown  [ previous" in screen_dump(pilot.app)
        assert table_rows(table)[-1][0] == "   routine"  # the end of the queue
        await pilot.press("]")  # no page after the last
        await until(pilot, lambda: "No more documents that way." in said(pilot.app))
        await pilot.press("[")
        await queue_ready(pilot, 500)


async def test_the_counts_fit_80_columns_with_needs_review_first(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    for state in (DocState.FAILED, DocState.DUPLICATE, DocState.RECEIVED):
        more_documents(settings, 1, state=state)  # every state has a count
    with Store(settings.db_path) as store:
        store.record_review(seeded["lab-malaria.pdf"], reviewer="amina", changes={})
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 8)
        counts = screen_dump(pilot.app).splitlines()[1]
        assert counts.startswith(" needs review 2  failed 1  quarantined 1  triaged 3")
        assert counts.rstrip().endswith("…")  # the rest are on the status screen


async def test_help_lists_the_keys_of_questions_review_search_and_status(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        lines = [line.strip() for line in screen_text(pilot.app).splitlines()]
    section = {title: lines.index(title) for title in ("Review", "Search", "Status")}
    assert "tab       next field: urgency, category, note, summary, fields" in lines
    assert "enter     open a list, pick in it; in a text field: save" in lines
    assert "ctrl+y    confirm as it is, nothing changed" in lines
    assert lines[section["Search"] + 3] == "escape    back"
    assert (
        lines[section["Status"] + 3]
        == "h         write the hand-over of the last 24 hours"
    )
    assert lines[section["Status"] + 4] == "escape    back"
    assert "y         yes, do it" in lines
    assert "n escape  no" in lines


async def test_an_empty_queue_names_the_service_that_reads_the_drop_folder(
    settings: config.Config,
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "No documents yet" in screen_text(pilot.app))
        text = " ".join(screen_text(pilot.app).split())
        assert (
            f"Files dropped into {settings.inbox_dir} appear here once the service"
            " (edgebox serve, or edgebox run) has read them."
        ) in text
        assert "edgebox watch" not in text


async def test_the_review_form_never_confirms_unchanged_without_ctrl_y(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    """r, tab, enter used to save an unchanged confirmation: a staff label
    that is synced and trains the model. Now it warns; ctrl+y confirms."""
    doc_id = seeded["referral-kibera.txt"]
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await open_document(pilot, 0)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        await pilot.press("tab", "tab", "enter")  # to the empty note, enter
        await until(pilot, lambda: any("Nothing changed" in m for m in said(pilot.app)))
        await pilot.press("ctrl+s")
        assert isinstance(pilot.app.screen, ReviewScreen)
        assert saved_revisions(settings, doc_id) == [(1, "ai")]
        await pilot.press("ctrl+y")
        await until(pilot, lambda: len(saved_revisions(settings, doc_id)) == 2)
    with Store(settings.db_path) as store:
        latest = store.latest_revision(doc_id)
    assert (latest["urgency"], latest["category"]) == ("emergency", "referral")


async def test_staff_correct_the_summary_and_fields_the_machine_read(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["referral-kibera.txt"]
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await open_document(pilot, 0)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))
        form = pilot.app.screen
        form.query_one("#summary", Input).focus()
        await pilot.press("ctrl+u", *"Boy, 3 years, convulsions, coma")
        form.query_one("#field-sex", Input).focus()
        await pilot.press("ctrl+u", "M")
        form.query_one("#field-age", Input).focus()
        await pilot.press("ctrl+u", "enter")  # an emptied field is dropped
        await until(pilot, lambda: len(saved_revisions(settings, doc_id)) == 2)
    with Store(settings.db_path) as store:
        ai, staff = store.revisions(doc_id)
    assert staff["author"] == "staff:amina"
    assert staff["summary"] == "Boy, 3 years, convulsions, coma"
    assert staff["fields"] == {"patient_ref": "KE-4471", "sex": "M"}
    # The AI's values stay as they were, beside the correction.
    assert ai["fields"] == {"patient_ref": "KE-4471", "age": "3", "sex": "F"}
    assert ai["summary"].startswith("3-year-old girl with convulsions")
