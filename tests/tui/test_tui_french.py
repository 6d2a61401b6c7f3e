"""The UI in French at 80x24: the main flow (queue, open, review, confirm), the
alert banner, and the locale choosing French when `[ui] language` is auto.
What is stored and synced stays English."""

from __future__ import annotations

import json

import pytest

from edgebox import config
from edgebox.store import Store
from edgebox.store.staff import add_staff
from edgebox.tui.alert import EmergencyBanner
from edgebox.tui.document import DocumentScreen
from edgebox.tui.help import HelpScreen
from edgebox.tui.queue import QueueScreen
from edgebox.tui.review import ReviewScreen
from edgebox.tui.signin import SignInScreen
from edgebox.tui.status import StatusScreen
from tests.support.tui import (
    make_app,
    queue_ready,
    screen_dump,
    screen_text,
    table_rows,
    until,
    until_on,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def french(settings: config.Config, monkeypatch: pytest.MonkeyPatch) -> config.Config:
    monkeypatch.setenv("EDGEBOX_UI_LANGUAGE", "fr")
    return config.load(settings.home)


async def test_the_queue_reads_french_at_80x24(
    french: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(french).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 5)
        headers = [
            str(column.label.plain).split()[0] for column in table.columns.values()
        ]
        assert headers == ["urgence", "catégorie", "résumé", "reçu", "état"]
        assert table_rows(table)[0][0] == "!! URGENCE"
        shown = screen_dump(pilot.app)
        assert "vue t tout" in shown
        assert "à réviser" in shown
        assert "réviser" in shown.splitlines()[-1]  # the footer's key labels
        assert "review" not in shown.splitlines()[-1]
        assert shown.splitlines()[-1].rstrip().endswith("? aide q quitter")  # fits
        assert "file d'attente · réviseur : amina" in shown.splitlines()[0]
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        help_text = screen_text(pilot.app)
        assert "File d'attente\n" in help_text
        assert (
            "valider les marqués tels quels (jamais les urgences vitales)" in help_text
        )


async def test_open_review_and_confirm_in_french_store_english(
    french: config.Config, seeded: dict[str, int]
) -> None:
    reviewed = seeded["referral-kibera.txt"]
    async with make_app(french).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 5)
        table.move_cursor(row=table.get_row_index(str(reviewed)))
        await pilot.press("enter")
        screen = await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        text = screen_text(pilot.app)
        for title in ("Résumé", "Signes d'alerte", "Champs", "Historique", "Texte"):
            assert f"{title}\n" in text
        assert "À RÉVISER" in text
        assert "n° patient: KE-4471" in text
        assert "!! convulsions (urgence vitale, règles)" in text
        footer = screen_dump(pilot.app).splitlines()[-1].rstrip()
        assert footer.startswith("esc retour r réviser c valider")
        assert footer.endswith("q quitter")  # the French keys fit 80 columns
        await pilot.press("r")
        form = await until_on(pilot, ReviewScreen)
        assert "Urgence" in screen_dump(pilot.app)
        assert "ctrl+s enregistrer" in screen_dump(pilot.app)
        await pilot.press("enter", "down", "enter")  # urgency: emergency -> urgent
        assert form.query_one("#urgency").value == "urgent"
        await pilot.press("tab", "tab", *"vu au téléphone", "ctrl+s")
        await until(pilot, lambda: len(screen.view.revisions) == 2)
        assert "!  urgent" in screen_text(pilot.app)
        assert "réviser" in screen_dump(pilot.app).splitlines()[-1]
        await pilot.press("escape")
        table = await queue_ready(pilot, 5)
        confirmed = int(table.coordinate_to_cell_key((1, 0)).row_key.value)
        table.move_cursor(row=1)
        await pilot.press("enter")
        screen = await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        await pilot.press("c")
        await until(pilot, lambda: len(screen.view.revisions) == 2)
        assert "· révisé ·" in screen_text(pilot.app)
        await pilot.press("z")
        await until(
            pilot,
            lambda: "Défaire révision 2 par staff:amina" in screen_dump(pilot.app),
        )
        assert "y oui · n non" in screen_dump(pilot.app)
        await pilot.press("n")
        await pilot.pause(0.1)
        assert len(screen.view.revisions) == 2
    with Store(french.db_path) as store:
        latest = store.latest_revision(reviewed)
        assert (latest["urgency"], latest["note"]) == ("urgent", "vu au téléphone")
        assert store.document(confirmed)["state"] == "reviewed"
        outbox = [r for r in store.pending_outbox() if r.document_id == reviewed]
        assert json.loads(outbox[-1].payload)["urgency"] == "urgent"


async def test_the_alert_banner_reads_french(
    french: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(french).run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        pilot.app.push_screen(EmergencyBanner({7: "referral"}))
        await until(pilot, lambda: isinstance(pilot.app.screen, EmergencyBanner))
        await pilot.pause(0.1)
        shown = screen_dump(pilot.app)
        assert "URGENCE VITALE : 1 nouvelle(s)" in shown
        assert "document 7  referral" in shown
        assert "(maj+a) acquitter" in shown


async def test_the_status_screen_reads_french(
    french: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(french).run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("s")
        screen = await until_on(pilot, StatusScreen, lambda s: s.snapshot is not None)
        shown = screen_text(pilot.app)
        assert "Documents\n" in shown and "Corrections du personnel\n" in shown
        assert "par état     " in shown and "quarantaine 1" in shown
        assert "En quarantaine et en échec (2)" in shown
        assert screen.query_one("#problems").columns  # headers in French
        labels = [str(c.label) for c in screen.query_one("#problems").columns.values()]
        assert labels == ["n°", "fichier", "état", "motif"]
        footer = screen_dump(pilot.app).splitlines()[-1]
        assert "r relancer" in footer and "h relève" in footer


async def test_sign_in_reads_french(
    french: config.Config, seeded: dict[str, int]
) -> None:
    with Store(french.db_path) as store:
        add_staff(store, "Fatou", "8080")
    app = make_app(french)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_on(pilot, SignInScreen)
        shown = screen_text(app)
        assert "Connectez-vous pour réviser." in shown
        assert "Votre nom" in shown and "PIN (entrée pour se connecter)" in shown
        await pilot.press(*"Fatou", "enter", *"1111", "enter")
        await until(pilot, lambda: "Nom ou PIN non reconnu" in screen_text(app))
        await pilot.press(*"8080", "enter")
        await until(pilot, lambda: app.reviewer == "Fatou")
        await until_on(pilot, QueueScreen)
        assert "réviseur : Fatou" in screen_text(app)


async def test_a_french_locale_chooses_french_when_the_setting_is_auto(
    settings: config.Config, seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.ui.language == "auto"
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 5)
        assert table_rows(table)[0][0] == "!! URGENCE"


async def test_english_stays_the_default(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 5)
        assert table_rows(table)[0][0] == "!! EMERG"
        assert "review" in screen_dump(pilot.app).splitlines()[-1]
