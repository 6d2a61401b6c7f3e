"""Named reviewers: `edgebox users`, PIN checks and signatures in the store,
and the UI's sign-in at start and after idle time (Pilot, 80x24)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgebox import config
from edgebox.cli.commands import cli
from edgebox.errors import StoreError
from edgebox.store import Store
from edgebox.store.staff import add_staff, disable_staff, sign_in
from edgebox.tui.document import DocumentScreen
from edgebox.tui.queue import QueueScreen
from edgebox.tui.signin import SignInScreen
from tests.support.processes import run_cli
from tests.support.tui import make_app, screen_text, until, until_on


def users(*args: str, pin: str | None = None) -> str:
    result = CliRunner().invoke(cli, ["users", *args], input=pin)
    assert result.exit_code == 0, result.output
    return result.output


def test_users_add_list_disable_from_the_cli(edgebox_home: Path) -> None:
    assert run_cli("init").returncode == 0
    said = users("add", "Amina Diallo", "--role", "admin", pin="2468\n2468\n")
    assert "Amina Diallo can now sign in to review (admin)" in said
    users("add", "Jean", "--pin-stdin", pin="1357\n")
    listed = json.loads(users("list", "--json"))
    assert [(m["name"], m["role"], m["disabled_at"]) for m in listed] == [
        ("Amina Diallo", "admin", None),
        ("Jean", "staff", None),
    ]
    users("disable", "jean")  # names are matched without case
    (jean,) = [m for m in json.loads(users("list", "--json")) if m["name"] == "Jean"]
    assert jean["disabled_at"] is not None
    with Store(config.load().db_path) as store:
        row = next(store.db.query("SELECT pin_hash FROM staff WHERE name = 'Jean'"))
        audit = [r["action"] for r in store.db.query("SELECT action FROM audit")]
    assert "1357" not in row["pin_hash"] and row["pin_hash"].startswith("scrypt$")
    assert audit.count("staff added") == 2 and "staff disabled" in audit


def test_users_refuses_a_short_pin_a_taken_name_and_an_unknown_one(
    edgebox_home: Path,
) -> None:
    assert run_cli("init").returncode == 0
    short = run_cli("users", "add", "Amina", "--pin-stdin", stdin="12\n")
    assert short.returncode == 1 and "a PIN has at least 4 characters" in short.stderr
    users("add", "Amina", "--pin-stdin", pin="2468\n")
    again = run_cli("users", "add", "amina", "--pin-stdin", stdin="9999\n")
    assert "Amina is already registered" in again.stderr
    unknown = run_cli("users", "disable", "Nobody")
    assert unknown.returncode == 1 and "no reviewer named 'Nobody'" in unknown.stderr


def test_sign_in_checks_the_pin_and_refuses_a_disabled_name(tmp_path: Path) -> None:
    with Store(tmp_path / "edgebox.db") as store:
        add_staff(store, "Amina", "2468")
        assert sign_in(store.db, " amina ", "2468") == "Amina"
        assert sign_in(store.db, "Amina", "2469") is None
        assert sign_in(store.db, "Nobody", "2468") is None
        disable_staff(store, "Amina")
        assert sign_in(store.db, "Amina", "2468") is None


def test_a_disabled_reviewer_cannot_sign_and_signatures_are_audited(
    tmp_path: Path,
) -> None:
    from tests.support.records import ai_result

    with Store(tmp_path / "edgebox.db") as store:
        add_staff(store, "Amina", "2468")
        doc = store.add_document(file_name="a.txt", sha256="a" * 64, size=1)
        store.record_ai_result(doc, ai_result("urgent"))
        store.record_review(doc, reviewer="Amina", changes={}, signed="pin")
        store.set_by_staff(
            doc, reviewer="script", urgency="emergency", signed="EDGEBOX_USER"
        )
        disable_staff(store, "Amina")
        with pytest.raises(StoreError, match="Amina is disabled and cannot sign"):
            store.record_review(doc, reviewer="Amina", changes={"urgency": "routine"})
        with pytest.raises(StoreError, match="Amina is disabled"):
            store.set_by_staff(doc, reviewer="amina", urgency="urgent")
        with pytest.raises(StoreError, match="Amina is disabled"):
            store.undo_last_change(doc, actor="Amina")
        signed = [
            (r["actor"], json.loads(r["detail"]).get("signed"))
            for r in store.db.query(
                "SELECT actor, detail FROM audit WHERE action = 'triage'"
            )
        ]
    assert ("staff:Amina", "pin") in signed
    assert ("staff:script", "EDGEBOX_USER") in signed


def test_escalate_from_the_cli_is_marked_as_signed_by_edgebox_user(
    edgebox_home: Path,
) -> None:
    assert run_cli("init").returncode == 0
    with Store(config.load().db_path) as store:
        doc = store.add_document(file_name="a.txt", sha256="a" * 64, size=1)
    done = run_cli("escalate", str(doc), env={"EDGEBOX_USER": "nightscript"})
    assert done.returncode == 0, done.stderr
    with Store(config.load().db_path) as store:
        (row,) = store.db.query(
            "SELECT actor, detail FROM audit WHERE action = 'triage'"
        )
    assert row["actor"] == "staff:nightscript"
    assert json.loads(row["detail"])["signed"] == "EDGEBOX_USER"


async def _sign_in(pilot, name: str, pin: str) -> None:
    for key in name:
        await pilot.press(key if key != " " else "space")
    await pilot.press("enter")
    for key in pin:
        await pilot.press(key)
    await pilot.press("enter")


@pytest.mark.anyio
async def test_the_ui_asks_who_reviews_and_signs_the_review_with_that_name(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    with Store(settings.db_path) as store:
        add_staff(store, "Fatou", "8080")
    app = make_app(settings)  # EDGEBOX_USER=amina is set: the UI asks anyway
    async with app.run_test(size=(80, 24)) as pilot:
        await until_on(pilot, SignInScreen)
        await _sign_in(pilot, "Fatou", "1111")
        await pilot.pause(0.1)
        assert "Name or PIN not recognised" in screen_text(app)
        await pilot.press(*["backspace"] * 5)
        await _sign_in(pilot, "", "8080")
        await until(pilot, lambda: app.reviewer == "Fatou")
        await until_on(pilot, QueueScreen)
        assert "reviewer: Fatou" in screen_text(app)
        await pilot.press("enter")
        screen = await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        await pilot.press("e")
        await until(pilot, lambda: screen.view.latest["author"] == "staff:Fatou")
    with Store(settings.db_path) as store:
        (row,) = store.db.query(
            "SELECT detail FROM audit WHERE actor = 'staff:Fatou' AND action = 'triage'"
        )
    assert json.loads(row["detail"])["signed"] == "pin"


@pytest.mark.anyio
async def test_the_ui_signs_out_after_idle_minutes(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    with Store(settings.db_path) as store:
        add_staff(store, "Fatou", "8080")
    quick = dataclasses.replace(settings, ui=config.UiConfig(sign_out_after_min=0.01))
    app = make_app(quick)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_on(pilot, SignInScreen)
        await _sign_in(pilot, "Fatou", "8080")
        await until(pilot, lambda: app.reviewer == "Fatou")
        # 0.6 s without a key: signed out, asked again.
        await until_on(pilot, SignInScreen)
        assert app.reviewer is None
        assert "Signed out after 0.01 idle minutes" in screen_text(app)
