"""The queue sorted by any column, narrowed by words, saved filters, and the
patient view (Pilot, 80x24, the seeded store)."""

from __future__ import annotations

from typing import Any

import pytest

from edgebox import config
from edgebox.store import Store
from edgebox.store.saved_filters import SavedFilter, saved_filters
from edgebox.tui.document import DocumentScreen
from edgebox.tui.filters import SavedFiltersScreen
from edgebox.tui.patients import PatientsScreen
from edgebox.tui.prompt import PromptScreen
from edgebox.tui.queue import QueueScreen, QueueTable
from tests.support.tui import (
    make_app,
    queue_ready,
    screen_dump,
    screen_text,
    table_rows,
    until,
    until_on,
)

SIZE = (80, 24)


def files(table: QueueTable, seeded: dict[str, int]) -> list[str]:
    names = {str(doc): name for name, doc in seeded.items()}
    return [names[str(table.coordinate_to_cell_key((i, 0)).row_key.value)]
            for i in range(table.row_count)]  # fmt: skip


async def rows_become(pilot: Any, seeded: dict[str, int], expected: list[str]) -> None:
    await until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, QueueScreen)
            and files(pilot.app.screen.query_one(QueueTable), seeded) == expected
        ),
    )


@pytest.mark.anyio
async def test_o_sorts_by_the_next_column_and_shift_o_reverses(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=SIZE) as pilot:
        await queue_ready(pilot, 5)
        assert "urgency ↓" in screen_dump(pilot.app)  # most urgent first
        assert " o sort " in screen_dump(pilot.app)  # the footer says the key
        await pilot.press("o")  # by category, A to Z, none last
        await rows_become(pilot, seeded, ["lab-malaria.pdf", "rx-0042.txt",
            "referral-kibera.txt", "scan-0007.png", "intake-0311.txt"])  # fmt: skip
        dump = screen_dump(pilot.app)
        assert "category ↓" in dump and "urgency ↓" not in dump
        await pilot.press("O")
        await rows_become(pilot, seeded, ["referral-kibera.txt", "rx-0042.txt",
            "lab-malaria.pdf", "scan-0007.png", "intake-0311.txt"])  # fmt: skip
        assert "category ↑" in screen_dump(pilot.app)
        await pilot.press("o", "o")  # summary, then received (oldest first)
        await rows_become(pilot, seeded, ["rx-0042.txt", "scan-0007.png",
            "lab-malaria.pdf", "referral-kibera.txt", "intake-0311.txt"])  # fmt: skip
        await pilot.press("o", "o")  # state, then round to urgency
        await rows_become(pilot, seeded, ["referral-kibera.txt", "lab-malaria.pdf",
            "scan-0007.png", "intake-0311.txt", "rx-0042.txt"])  # fmt: skip
        assert "urgency ↓" in screen_dump(pilot.app)


@pytest.mark.anyio
async def test_w_narrows_the_queue_to_documents_with_every_word(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=SIZE) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("w")
        await until_on(pilot, PromptScreen)
        await pilot.press(*"Malaria", "enter")
        await rows_become(pilot, seeded, ["lab-malaria.pdf"])
        assert 'w "Malaria"' in screen_text(pilot.app)
        await pilot.press("w")
        await until_on(pilot, PromptScreen)
        await pilot.press(*" fever", "enter")  # and fever: nothing has both
        await until(pilot, lambda: "No document matches" in screen_text(pilot.app))
        await pilot.press("0")  # clears the words too
        await queue_ready(pilot, 5)


@pytest.mark.anyio
async def test_a_filter_is_saved_under_a_name_and_recalled_with_f(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=SIZE) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("u", "O")  # emergencies, least urgent first
        await rows_become(pilot, seeded, ["referral-kibera.txt"])
        await pilot.press("F")
        await until_on(pilot, PromptScreen)
        await pilot.press(*"Emergencies", "enter")
        await until(pilot, lambda: _saved(settings) != [])
        assert _saved(settings) == [
            SavedFilter("Emergencies", urgency="emergency", reverse=True)
        ]
        await pilot.press("0", "O")
        await queue_ready(pilot, 5)
        await pilot.press("f")
        await until_on(pilot, SavedFiltersScreen)
        assert "Emergencies  all, emergency, by urgency ↑" in screen_dump(pilot.app)
        await pilot.press("1")
        await rows_become(pilot, seeded, ["referral-kibera.txt"])
        assert "urgency ↑" in screen_dump(pilot.app)
        assert "u urgency: emergency" in screen_text(pilot.app)


def _saved(settings: config.Config) -> list[SavedFilter]:
    with Store(settings.db_path) as store:
        return saved_filters(store.db)


@pytest.mark.anyio
async def test_with_nothing_saved_f_says_how_to_save(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=SIZE) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("f")
        await until(
            pilot,
            lambda: any("F saves" in str(n.message) for n in pilot.app._notifications),
        )
        assert isinstance(pilot.app.screen, QueueScreen)


@pytest.mark.anyio
async def test_the_patient_view_groups_and_searches_by_reference(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=SIZE) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("p")
        screen = await until_on(pilot, PatientsScreen, lambda s: s.shown)
        table = screen.query_one("#patients")
        assert [row[:4] for row in table_rows(table)] == [
            ["KE-4471", "1", "1", "!! EMERG"],
            ["LB-2231", "1", "-", "!  urgent"],
            ["RX-0042", "1", "-", "   routine"],
        ]
        assert "3 patient(s), most urgent first" in screen_text(pilot.app)
        await pilot.press(*"lb-")
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("enter", "enter")  # to the list, then open it
        queue = await until_on(
            pilot, QueueScreen, lambda s: s.query_one(QueueTable).row_count == 1
        )
        assert queue.patient == "LB-2231"
        assert "patient LB-2231" in screen_dump(pilot.app)
        assert "1 document(s) with this reference" in screen_text(pilot.app)
        await pilot.press("escape")
        await until_on(pilot, PatientsScreen)
        await pilot.press("escape")
        await queue_ready(pilot, 5)


@pytest.mark.anyio
async def test_from_a_document_p_lists_its_patients_documents(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    from tests.support.tui import add_for_patient

    with Store(settings.db_path) as store:
        add_for_patient(store, "ke-4471", "routine", False)
    async with make_app(settings).run_test(size=SIZE) as pilot:
        await queue_ready(pilot, 6)
        await pilot.press("enter")  # the emergency, first
        await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        assert "p this patient's documents" in screen_text(pilot.app)
        await pilot.press("p")
        await rows_become(pilot, seeded | {"ke-4471.txt": 6},
                          ["referral-kibera.txt", "ke-4471.txt"])  # fmt: skip
        await pilot.press("escape")
        await until_on(pilot, DocumentScreen)
        await pilot.press(
            "escape", "down", "down", "down", "enter"
        )  # the intake note: no reference
        await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        await pilot.press("p")
        await until(
            pilot,
            lambda: any("No patient reference" in str(n.message)
                        for n in pilot.app._notifications),
        )  # fmt: skip


@pytest.mark.anyio
async def test_a_read_only_store_cannot_save_a_filter(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    from edgebox.tui.snapshots import StoreOpener

    opener = StoreOpener(settings.db_path, read_only=True)
    async with make_app(settings, opener=opener).run_test(size=SIZE) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("F")
        await until(
            pilot,
            lambda: any("cannot save a filter" in str(n.message)
                        for n in pilot.app._notifications),
        )  # fmt: skip
        assert isinstance(pilot.app.screen, QueueScreen)
    assert _saved(settings) == []


@pytest.mark.anyio
async def test_a_recalled_category_the_settings_dropped_still_cycles(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    from edgebox.store.saved_filters import save_filter

    with Store(settings.db_path) as store:
        save_filter(store, SavedFilter("old", category="maternity"), by=None)
    async with make_app(settings).run_test(size=SIZE) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("f")
        await until_on(pilot, SavedFiltersScreen)
        await pilot.press("enter")
        await until(pilot, lambda: "No document matches" in screen_text(pilot.app))
        assert "k category: maternity" in screen_text(pilot.app)
        await pilot.press("k")  # on to the first configured category
        await until(pilot, lambda: "k category: referral" in screen_text(pilot.app))
