"""Test support for the console: staff accounts, a signed-in HTTP client, and
batches pushed the way a box pushes them (real server, real database)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

from edgebox.store.schema import now
from edgebox.sync.central.console.security import hash_password
from edgebox.sync.central.console_db import ConsoleDB
from tests.support.central import Central

PASSWORD = "correct horse battery"


def add_user(central: Central, name: str, role: str = "viewer") -> str:
    ConsoleDB(central.db).add_user(name, role, hash_password(PASSWORD))
    return name


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"csrf_token": csrf_of(page.text), "name": name, "password": password},
    )


def signed_in(central: Central, name: str) -> httpx.Client:
    client = httpx.Client(base_url=central.url, timeout=30)
    answer = login(client, name)
    assert answer.status_code == 303, answer.text
    return client


def push(
    central: Central,
    device: str,
    token: str,
    contents: list[dict[str, Any]],
    *,
    first_id: int = 1,
) -> httpx.Response:
    """POST one batch of triage records, as the box's client does."""
    records = [
        {
            "kind": "triage",
            "document_id": first_id + n,
            "revision": 1,
            "created_at": now(),
            "content": {"document_id": first_id + n, "revision": 1, **content},
        }
        for n, content in enumerate(contents)
    ]
    batch = {"device": device, "heartbeat": {"pending": 0}, "records": records}
    return httpx.post(
        central.url + "/v1/batches",
        json=batch,
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": secrets.token_hex(8),
        },
        timeout=30,
    )


def triage(urgency: str, summary: str, **changes: Any) -> dict[str, Any]:
    return {
        "author": "ai",
        "category": "referral",
        "urgency": urgency,
        "summary": summary,
        "red_flags": [{"sign": "convulsions", "evidence": "fitting since morning"}],
        "fields": {"age": 3},
        **changes,
    }
