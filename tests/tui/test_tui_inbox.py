"""The queue as a work inbox (Pilot, 80x24): it opens on what waits for a
person, and routine results are confirmed in bulk, never an emergency, with
bulk confirmations kept out of training and override rates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgebox import config
from edgebox.store import Store
from edgebox.tui.confirm import ConfirmScreen
from tests.support.tui import (
    ai_result,
    make_app,
    queue_ready,
    screen_text,
    table_rows,
    until,
)


@pytest.fixture
def inbox_settings(
    settings: config.Config, monkeypatch: pytest.MonkeyPatch
) -> config.Config:
    monkeypatch.delenv("EDGEBOX_UI_START_VIEW")  # the default: to review
    return config.load(settings.home)


def routine_to_review(store: Store, n: int, *, urgency: str = "routine") -> list[int]:
    ids = []
    for i in range(n):
        doc = store.add_document(file_name=f"rx-{i}.txt", sha256=f"{i:064x}", size=5)
        store.set_state(doc, "extracted", text=f"Prescription number {i}.")
        store.record_ai_result(
            doc,
            ai_result(
                category="prescription",
                urgency=urgency,
                summary=f"Prescription {i}.",
                needs_review=True,
            ),
        )
        ids.append(doc)
    return ids


@pytest.mark.anyio
async def test_the_inbox_opens_on_what_waits_for_a_person(
    inbox_settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(inbox_settings).run_test(size=(80, 24)) as pilot:
        # Of the 5 seeded: the emergency and the failed triage ask for review,
        # the quarantined scan needs a person; the others do not.
        table = await queue_ready(pilot, 3)
        assert [row[0] for row in table_rows(table)] == [
            "!! EMERG",
            "·  -",
            "?  unknown",
        ]
        assert "view t to review" in screen_text(pilot.app)
        await pilot.press("t")
        await queue_ready(pilot, 5)
        assert "view t all" in screen_text(pilot.app)


@pytest.mark.anyio
async def test_fifty_routine_documents_are_cleared_in_52_keystrokes(
    inbox_settings: config.Config, seeded: dict[str, int]
) -> None:
    """The figure for the README: mark each (space moves down), C, y."""
    with Store(inbox_settings.db_path) as store:
        routine = routine_to_review(store, 50)
    keys: list[str] = []

    async def press(*sequence: str) -> None:
        keys.extend(sequence)
        await pilot.press(*sequence)

    async with make_app(inbox_settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 53)
        table.move_cursor(row=3)  # past the seeded three (the emergency first)
        await press(*["space"] * 50)
        await press("C")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        assert "Confirm 50 document(s) as they are?" in screen_text(pilot.app)
        await press("y")
        await queue_ready(pilot, 3)
    assert len(keys) == 52
    with Store(inbox_settings.db_path) as store:
        latest = [store.latest_revision(doc) for doc in routine]
        assert {(r["author"], r["provenance"].get("bulk")) for r in latest} == {
            ("staff:amina", True)
        }
        # Confirmed at a glance: not what the box learns from, nor an override.
        assert store.training_examples() == [] and store.reviewed_count() == 0
        assert store.override_stats()["reviewed"] == 0


@pytest.mark.anyio
async def test_with_the_sort_reversed_fifty_are_cleared_in_53_keys_alone(
    inbox_settings: config.Config, seeded: dict[str, int]
) -> None:
    """No cursor placed by the test: O puts the routine ones on top (least
    urgent first), then space 50 times, C, y."""
    with Store(inbox_settings.db_path) as store:
        routine = routine_to_review(store, 50)
    keys: list[str] = []

    async def press(*sequence: str) -> None:
        keys.extend(sequence)
        await pilot.press(*sequence)

    async with make_app(inbox_settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 53)
        await press("O")
        await until(pilot, lambda: table_rows(table)[0][0] == "   routine")
        assert table.cursor_row == 0
        await press(*["space"] * 50)
        await press("C")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        assert "Confirm 50 document(s) as they are?" in screen_text(pilot.app)
        await press("y")
        await queue_ready(pilot, 3)
    assert len(keys) == 53
    with Store(inbox_settings.db_path) as store:
        assert {store.latest_revision(d)["author"] for d in routine} == {"staff:amina"}


@pytest.mark.anyio
async def test_bulk_confirm_leaves_emergencies_out(
    inbox_settings: config.Config, seeded: dict[str, int]
) -> None:
    emergency = seeded["referral-kibera.txt"]
    with Store(inbox_settings.db_path) as store:
        (routine,) = routine_to_review(store, 1)
    async with make_app(inbox_settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 4)
        table.move_cursor(row=table.get_row_index(str(emergency)))
        await pilot.press("space")
        table.move_cursor(row=table.get_row_index(str(routine)))
        await pilot.press("space")
        assert table_rows(table)[table.get_row_index(str(routine))][2].startswith("✓ ")
        await pilot.press("C")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        text = screen_text(pilot.app)
        assert "Confirm 1 document(s) as they are?" in text
        assert "1 emergency(ies) left out" in text
        await pilot.press("y")
        await queue_ready(pilot, 3)
    with Store(inbox_settings.db_path) as store:
        assert store.latest_revision(emergency)["author"] == "ai"
        assert store.latest_revision(routine)["author"] == "staff:amina"


def test_a_review_after_a_bulk_confirm_trains_again(tmp_path: Path) -> None:
    with Store(tmp_path / "edgebox.db") as store:
        (doc,) = routine_to_review(store, 1)
        done, left_out = store.confirm_many([doc, 999], reviewer="amina")
        assert done == [doc] and left_out == {999: "no urgency to confirm"}
        assert store.training_examples() == []
        store.record_review(doc, reviewer="amina", changes={"urgency": "urgent"})
        (example,) = store.training_examples()
        assert example["urgency"] == "urgent"
        assert "bulk" not in store.latest_revision(doc)["provenance"]
        again: Any = store.confirm_many([doc], reviewer="amina")
        assert again == ([], {doc: "a person has already decided"})


@pytest.mark.anyio
async def test_the_hand_over_and_an_export_from_the_ui(
    inbox_settings: config.Config, seeded: dict[str, int], tmp_path: Path
) -> None:
    from edgebox.intake.archive import copy_into_archive
    from edgebox.tui.document import DocumentScreen
    from edgebox.tui.export import ExportScreen
    from edgebox.tui.status import StatusScreen
    from tests.support.tui import until_on

    original = tmp_path / "fiche de référence.pdf"
    original.write_bytes(b"%PDF-1.4 the scanned referral")
    with original.open("rb") as reader:
        sha, archived = copy_into_archive(reader, inbox_settings.archive_dir)
    with Store(inbox_settings.db_path) as store:
        doc = store.add_document(file_name=original.name, sha256=sha, size=28)
        store.record_ai_result(
            doc,
            ai_result(
                category="referral",
                urgency="urgent",
                summary="Scan.",
                needs_review=True,
            ),
        )
    out = tmp_path / "usb"
    async with make_app(inbox_settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 4)
        table.move_cursor(row=table.get_row_index(str(doc)))
        await pilot.press("enter")
        await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        assert str(archived) in " ".join(screen_text(pilot.app).split())
        await pilot.press("x")
        screen = await until_on(pilot, ExportScreen)
        screen.query_one("#folder").value = str(out)
        await pilot.press("enter")
        await until(pilot, lambda: (out / original.name).exists())
        assert (out / original.name).read_bytes() == original.read_bytes()
        await pilot.press("escape")
        await pilot.press("s")
        await until_on(pilot, StatusScreen)
        await pilot.press("h")
        reports = inbox_settings.data_dir / "reports"
        await until(pilot, lambda: any(reports.glob("handover-*.html")))
    (page,) = reports.glob("handover-*.html")
    assert "Waiting for a person" in page.read_text()
    assert page.stat().st_mode & 0o077 == 0  # patients' summaries: owner only
