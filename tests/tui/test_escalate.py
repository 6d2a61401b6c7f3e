"""Staff act before the machine: `edgebox escalate` and the UI's `e` on a
document no stage has rated yet (real store, a real subprocess, Pilot)."""

import json
from pathlib import Path

import pytest

from edgebox import config
from edgebox.store import Store
from edgebox.tui.document import DocumentScreen
from tests.support.processes import run_cli
from tests.support.records import untriaged
from tests.support.tui import make_app, queue_ready, screen_text, until, until_on


def test_escalate_an_untriaged_document_from_the_cli(edgebox_home: Path) -> None:
    doc = untriaged()
    done = run_cli(
        "escalate", str(doc), "--note", "phoned", env={"EDGEBOX_USER": "amina"}
    )
    assert done.returncode == 0, done.stderr
    assert f"document {doc}: emergency, saved as revision 1" in done.stdout
    (row,) = json.loads(run_cli("queue", "--json").stdout)["documents"]
    assert (row["urgency"], row["author"], row["state"], row["provisional"]) == (
        "emergency",
        "staff:amina",
        "received",
        False,
    )


def test_escalate_names_a_bad_document_or_urgency(edgebox_home: Path) -> None:
    untriaged()
    missing = run_cli("escalate", "42", env={"EDGEBOX_USER": "amina"})
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: no document with id 42")
    bad = run_cli("escalate", "1", "--urgency", "soon")
    assert bad.returncode == 2 and "'soon' is not one of" in bad.stderr


@pytest.mark.anyio
async def test_escalate_an_untriaged_document_from_the_ui(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc = untriaged("fax-0412.txt")
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 6)
        table.move_cursor(row=table.get_row_index(str(doc)))
        await pilot.press("enter")
        screen = await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        text = screen_text(pilot.app)
        assert "not checked yet" in text and "none found" not in text
        await pilot.press("e")
        await until(pilot, lambda: bool(screen.view.revisions))
        assert "!! EMERG" in screen_text(pilot.app)
    with Store(settings.db_path) as store:
        latest = store.latest_revision(doc)
        assert (latest["author"], latest["urgency"]) == ("staff:amina", "emergency")
        assert store.document(doc)["state"] == "received"  # still to be read
