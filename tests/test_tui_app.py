"""The UI with Textual's Pilot on a real store: queue, document, review, undo."""

from __future__ import annotations

import getpass
import json

import pytest

from edgebox import config
from edgebox.store import DocState, Store
from tests.test_tui_fixtures import (
    REFERRAL_TEXT,
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
from tui.data import StoreOpener
from tui.document import DocumentScreen
from tui.help import HelpScreen
from tui.queue import QueueScreen
from tui.review import NameScreen, ReviewScreen

pytestmark = pytest.mark.anyio
pytest_plugins = ["tests.test_tui_fixtures"]


async def open_document(pilot, row: int) -> DocumentScreen:
    table = await queue_ready(pilot, 5)
    table.move_cursor(row=row)
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
            "·  -",  # not triaged yet: sorts with the unknown, shows no urgency
            "?  unknown",
            "   routine",
        ]
        assert rows[0][1:] == [
            "referral",
            "3-year-old girl…",
            "03-04 08:15",
            "triaged",
            "yes",
        ]
        text = screen_text(pilot.app)
        assert "triaged 4  reviewed 0  quarantined 1  needs review 2" in text
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
        start = REFERRAL_TEXT.index("Convulsions")
        assert "* convulsions (emergency, rules): “Convulsions since this morning”" in (
            text
        )
        assert f"at characters {start}–" in text
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
        await pilot.press("tab", *"seen by phone", "ctrl+s")
        await until(pilot, lambda: len(screen.view.revisions) == 2)
        assert "!  urgent  referral" in screen_text(pilot.app)
        assert "r2 " in screen_text(pilot.app)
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
        assert json.loads(audit["detail"]) == {"revision": 2}
        outbox = [r for r in store.pending_outbox() if r["document_id"] == doc_id]
        assert [json.loads(r["payload"])["urgency"] for r in outbox] == [
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
        assert lines[4].startswith(" !! EMERG    referral")
        assert not any("!!" in line for line in lines[5:9])
