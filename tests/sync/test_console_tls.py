"""The console's cookies are `Secure` when the server is reached over TLS:
served by `central serve --ssl-certfile` itself, or behind a TLS proxy with
EDGEBOX_CONSOLE_SECURE_COOKIES set (the browser then never sends the
session over plain HTTP). Real servers on 127.0.0.1, a real certificate."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from edgebox.sync.central.console.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    hash_password,
)
from edgebox.sync.central.console_db import ConsoleDB
from edgebox.sync.central.database import open_central
from tests.support.console import PASSWORD, csrf_of, login
from tests.support.loopback import CentralProcess
from tests.support.tls import OPENSSL, certificate, tls_central

pytestmark = pytest.mark.skipif(
    OPENSSL is None, reason="the test certificates are made by the openssl command"
)


def _add_admin(db_url: str) -> None:
    central = open_central(db_url)
    try:
        ConsoleDB(central).add_user("amina", "admin", hash_password(PASSWORD))
    finally:
        central.close()


def _cookies(answer: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header by the cookie's name."""
    return {
        value.split("=", 1)[0]: value
        for name, value in answer.headers.multi_items()
        if name == "set-cookie"
    }


def test_the_session_cookie_is_secure_when_served_over_tls(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path / "tls", names="IP:127.0.0.1")
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    _add_admin(db_url)
    trust = ssl.create_default_context(cafile=str(cert))
    with tls_central(db_url, cert, key, tmp_path / "central.log") as port:
        url = f"https://127.0.0.1:{port}"
        with httpx.Client(base_url=url, verify=trust, timeout=30) as client:
            form = client.get("/console/login")
            answer = login(client, "amina")
            assert answer.status_code == 303, answer.text
            assert client.get("/console/users").status_code == 200
    session = _cookies(answer)[SESSION_COOKIE]
    assert "; Secure" in session and "HttpOnly" in session
    assert "SameSite=strict" in session
    assert "; Secure" in _cookies(form)[CSRF_COOKIE]


def test_behind_a_tls_proxy_the_setting_makes_cookies_secure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy speaks TLS to the browser and HTTP to the server: the server
    cannot see TLS, so the operator says so."""
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    _add_admin(db_url)
    monkeypatch.setenv("EDGEBOX_CONSOLE_SECURE_COOKIES", "1")
    with CentralProcess(db_url, log=tmp_path / "central.log") as server:
        # A client's jar sends a Secure cookie only over https://, as a
        # browser behind the proxy would; here the proxy's part is played by
        # passing the CSRF cookie by hand.
        page = httpx.get(server.url + "/console/login")
        csrf = csrf_of(page.text)
        answer = httpx.post(
            server.url + "/console/login",
            data={"csrf_token": csrf, "name": "amina", "password": PASSWORD},
            headers={"Cookie": f"{CSRF_COOKIE}={csrf}"},
        )
    assert answer.status_code == 303, answer.text
    assert "; Secure" in _cookies(page)[CSRF_COOKIE]
    assert "; Secure" in _cookies(answer)[SESSION_COOKIE]
