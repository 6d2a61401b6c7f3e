"""The console's doors, against a real server on 127.0.0.1 (SQLite, and
PostgreSQL when EDGEBOX_TEST_POSTGRES_URL is set): sessions, roles, CSRF,
rate limits, escaping, and the wall between device tokens and staff cookies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edgebox.sync.central.console_db import ConsoleDB
from tests.support.central import Central, running_central
from tests.support.console import add_user, csrf_of, login, push, signed_in, triage


@pytest.fixture
def central(central_db_url: str, tmp_path: Path) -> Iterator[Central]:
    """A fresh database (SQLite, then PostgreSQL) and a real server per test."""
    with running_central(central_db_url, tmp_path) as server:
        yield server


def test_without_a_session_every_page_leads_to_the_login_page(
    central: Central,
) -> None:
    client = httpx.Client(base_url=central.url, timeout=30)
    for path in ("/console/", "/console/emergencies", "/console/devices"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/login"
    page = client.get("/console/", follow_redirects=True)
    assert page.status_code == 200 and 'name="password"' in page.text


def test_a_login_sets_a_strict_httponly_session_and_is_audited(
    central: Central,
) -> None:
    add_user(central, "ama", "viewer")
    client = httpx.Client(base_url=central.url, timeout=30)
    answer = login(client, "ama")
    assert answer.status_code == 303
    cookie = next(
        value
        for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith("edgebox_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; TLS turns it on
    assert client.get("/console/").status_code == 200
    actions = [row["action"] for row in ConsoleDB(central.db).audit_log()]
    assert actions == ["login"]


def test_a_wrong_password_gives_no_session_and_the_limit_follows(
    central: Central,
) -> None:
    add_user(central, "kofi", "admin")
    client = httpx.Client(base_url=central.url, timeout=30)
    for _ in range(5):
        wrong = login(client, "kofi", "not the password")
        assert wrong.status_code == 401 and "edgebox_session" not in client.cookies
    assert ConsoleDB(central.db).failed_attempts("kofi", "-", "") == 5
    # Over the limit, even the right password is refused for a while.
    limited = login(client, "kofi")
    assert limited.status_code == 429 and "edgebox_session" not in client.cookies
    actions = [row["action"] for row in ConsoleDB(central.db).audit_log()]
    assert actions == ["login_refused"] + ["login_failed"] * 5


def test_a_viewer_gets_403_on_device_user_and_audit_pages(central: Central) -> None:
    add_user(central, "viewer1", "viewer")
    client = signed_in(central, "viewer1")
    for path in ("/console/devices", "/console/users", "/console/audit"):
        assert client.get(path).status_code == 403
    csrf = csrf_of(client.get("/console/").text)
    posted = client.post("/console/devices", data={"csrf_token": csrf, "name": "x1"})
    assert posted.status_code == 403
    assert [d["name"] for d in central.db.devices()] == []


def test_a_form_without_its_csrf_token_is_refused(central: Central) -> None:
    add_user(central, "admin1", "admin")
    client = signed_in(central, "admin1")
    for data in ({"name": "clinic-x"}, {"name": "clinic-x", "csrf_token": "forged"}):
        assert client.post("/console/devices", data=data).status_code == 403
    assert [d["name"] for d in central.db.devices()] == []
    fresh = httpx.Client(base_url=central.url, timeout=30)
    no_token = fresh.post("/console/login", data={"name": "admin1", "password": "x"})
    assert no_token.status_code == 403


def test_an_admin_registers_rotates_and_revokes_a_device(central: Central) -> None:
    add_user(central, "admin2", "admin")
    client = signed_in(central, "admin2")
    csrf = csrf_of(client.get("/console/devices").text)
    page = client.post("/console/devices", data={"csrf_token": csrf, "name": "c-9"})
    token = page.text.split('<code id="token">')[1].split("</code>")[0]
    assert push(central, "c-9", token, []).status_code == 200
    # The token was shown once: the devices page never shows it again.
    assert token not in client.get("/console/devices").text
    revoked = client.post("/console/devices/c-9/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert push(central, "c-9", token, []).status_code == 401
    actions = [row["action"] for row in ConsoleDB(central.db).audit_log()]
    assert actions[:2] == ["revoke", "register"]


def test_a_summary_holding_script_is_shown_escaped(central: Central) -> None:
    add_user(central, "viewer2", "viewer")
    token = central.add_device("clinic-xss")
    evil = '<script>alert("x")</script> seizure'
    assert push(central, "clinic-xss", token, [triage("emergency", evil)]).is_success
    client = signed_in(central, "viewer2")
    for path in ("/console/emergencies", "/console/clinics/clinic-xss/documents/1"):
        html = client.get(path).text
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; seizure" in html


def test_a_device_token_opens_no_page_and_a_cookie_pushes_no_batch(
    central: Central,
) -> None:
    add_user(central, "viewer3", "viewer")
    token = central.add_device("clinic-wall")
    bearer = {"Authorization": f"Bearer {token}"}
    page = httpx.get(central.url + "/console/emergencies", headers=bearer)
    assert page.status_code == 303 and page.headers["location"] == "/console/login"
    client = signed_in(central, "viewer3")
    batch = {"device": "clinic-wall", "heartbeat": {"pending": 0}, "records": []}
    pushed = client.post(
        "/v1/batches", json=batch, headers={"Idempotency-Key": "abcdefgh1234"}
    )
    assert pushed.status_code == 401
    assert central.db.devices()[0]["last_seen"] is None


def test_a_disabled_user_loses_their_session_at_once(central: Central) -> None:
    add_user(central, "leaver", "viewer")
    client = signed_in(central, "leaver")
    assert client.get("/console/").status_code == 200
    ConsoleDB(central.db).disable_user("leaver")
    assert client.get("/console/").status_code == 303


def test_logging_out_ends_the_session_in_the_database(central: Central) -> None:
    add_user(central, "shift", "viewer")
    client = signed_in(central, "shift")
    stolen = client.cookies.get("edgebox_session")
    csrf = csrf_of(client.get("/console/").text)
    assert client.post("/console/logout", data={"csrf_token": csrf}).status_code == 303
    replay = httpx.get(
        central.url + "/console/", cookies={"edgebox_session": stolen or ""}
    )
    assert replay.status_code == 303
    actions = [row["action"] for row in ConsoleDB(central.db).audit_log()]
    assert actions == ["logout", "login"]
