"""The console's users page over a real server (SQLite, and PostgreSQL when
EDGEBOX_TEST_POSTGRES_URL is set): an admin lists, adds and disables staff
accounts; viewers and forms without their CSRF token are refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edgebox.sync.central.console_db import ConsoleDB
from tests.support.central import Central, running_central
from tests.support.console import PASSWORD, add_user, csrf_of, login, signed_in


@pytest.fixture
def central(central_db_url: str, tmp_path: Path) -> Iterator[Central]:
    with running_central(central_db_url, tmp_path) as server:
        yield server


@pytest.fixture
def admin(central: Central) -> Iterator[httpx.Client]:
    add_user(central, "amina", "admin")
    client = signed_in(central, "amina")
    try:
        yield client
    finally:
        client.close()


def _add(client: httpx.Client, **fields: str) -> httpx.Response:
    csrf = csrf_of(client.get("/console/users").text)
    return client.post("/console/users", data={"csrf_token": csrf, **fields})


def test_an_admin_adds_a_user_who_can_then_log_in(
    central: Central, admin: httpx.Client
) -> None:
    added = _add(admin, name="moses", role="viewer", password=PASSWORD)
    assert added.status_code == 200, added.text
    assert "User moses added." in added.text
    listed = admin.get("/console/users?format=csv")
    table = list(csv.DictReader(io.StringIO(listed.text)))
    assert [(r["name"], r["role"], r["disabled"]) for r in table] == [
        ("amina", "admin", "0"),
        ("moses", "viewer", "0"),
    ]
    with httpx.Client(base_url=central.url, timeout=30) as moses:
        assert login(moses, "moses").status_code == 303
        assert moses.get("/console/users").status_code == 403  # a viewer
    audit = ConsoleDB(central.db).audit_log()
    assert (audit[1]["actor"], audit[1]["action"], audit[1]["target"]) == (
        "amina",
        "user_add",
        "moses",
    )
    assert PASSWORD not in str(audit)


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"name": "amina", "role": "viewer"}, 409, "user &#39;amina&#39; exists"),
        ({"name": "bad name", "role": "viewer"}, 422, "name:"),
        ({"name": "ok", "role": "owner"}, 422, "role: one of admin, viewer"),
        ({"name": "ok", "role": "viewer", "password": "short"}, 422, "password:"),
    ],
)
def test_a_bad_user_form_is_refused_naming_the_field(
    central: Central,
    admin: httpx.Client,
    fields: dict[str, str],
    status: int,
    reason: str,
) -> None:
    answer = _add(admin, **({"password": PASSWORD} | fields))
    assert answer.status_code == status
    assert reason in answer.text
    assert [u["name"] for u in ConsoleDB(central.db).users()] == ["amina"]


def test_disabling_a_user_ends_their_session_at_once(
    central: Central, admin: httpx.Client
) -> None:
    add_user(central, "leaver", "viewer")
    leaver = signed_in(central, "leaver")
    assert leaver.get("/console/").status_code == 200
    csrf = csrf_of(admin.get("/console/users").text)
    done = admin.post("/console/users/leaver/disable", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/console/users"
    assert leaver.get("/console/").status_code == 303
    assert login(leaver, "leaver").status_code == 401
    (row,) = [u for u in ConsoleDB(central.db).users() if u["name"] == "leaver"]
    assert row["disabled"] == 1
    unknown = admin.post("/console/users/nobody/disable", data={"csrf_token": csrf})
    assert unknown.status_code == 404
    self_off = admin.post("/console/users/amina/disable", data={"csrf_token": csrf})
    assert self_off.status_code == 409
    assert admin.get("/console/users").status_code == 200


def test_viewers_and_forged_forms_cannot_change_users(
    central: Central, admin: httpx.Client
) -> None:
    add_user(central, "viewer1", "viewer")
    viewer = signed_in(central, "viewer1")
    csrf = csrf_of(viewer.get("/console/").text)
    new = {"csrf_token": csrf, "name": "mole", "role": "admin", "password": PASSWORD}
    assert viewer.post("/console/users", data=new).status_code == 403
    off = viewer.post("/console/users/amina/disable", data={"csrf_token": csrf})
    assert off.status_code == 403
    forged = {"name": "mole", "role": "admin", "password": PASSWORD}
    assert admin.post("/console/users", data=forged).status_code == 403
    wrong = admin.post("/console/users", data=forged | {"csrf_token": "forged"})
    assert wrong.status_code == 403
    no_token = admin.post("/console/users/viewer1/disable", data={})
    assert no_token.status_code == 403
    held = {u["name"]: u["disabled"] for u in ConsoleDB(central.db).users()}
    assert held == {"amina": 0, "viewer1": 0}
