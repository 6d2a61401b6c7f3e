"""The central server's API, through a real uvicorn server on 127.0.0.1, against
SQLite and (when configured) PostgreSQL: every status the issue names."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
from typing import Any

import httpx
import pytest

from edgebox.sync.payload import canonical_json
from tests.sync_fixtures import Central, device_name, shared_central  # noqa: F401

KEY = "batch-0001"


@pytest.fixture
def central(shared_central: Central) -> Central:  # noqa: F811
    """The module's server; each test writes as devices of its own."""
    return shared_central


@pytest.fixture
def a() -> str:
    return device_name()


@pytest.fixture
def b() -> str:
    return device_name()


def record(document_id: int = 1, revision: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "triage",
        "document_id": document_id,
        "revision": revision,
        "replaces": revision - 1 if revision > 1 else None,
        "created_at": "2026-11-29T05:00:00.000+00:00",
        "content": {"urgency": "urgent", "summary": "Hb 7.2", "revision": revision},
    } | changes


def batch(device: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"device": device, "heartbeat": {"pending": 3}, "records": records}


def post(
    central: Central,
    token: str | None,
    body: Any,
    *,
    key: str = KEY,
    gzipped: bool = True,
) -> httpx.Response:
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    if gzipped:
        data = gzip.compress(data)
        headers["Content-Encoding"] = "gzip"
    if token is not None:
        scheme = "" if token.startswith(("Basic ", "Bearer ")) else "Bearer "
        headers["Authorization"] = scheme + token
    return httpx.post(central.url + "/v1/batches", content=data, headers=headers)


def test_health_and_openapi(central: Central) -> None:
    health = httpx.get(central.url + "/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["api"] == "v1"
    spec = httpx.get(central.url + "/openapi.json").json()
    assert {"/v1/batches", "/v1/health", "/v1/documents/{document_id}"} <= set(
        spec["paths"]
    )
    assert "Batch" in spec["components"]["schemas"]


def test_batch_is_stored_and_an_identical_replay_changes_nothing(
    central: Central,
    a: str,
) -> None:
    token = central.add_device(a)
    body = batch(a, [record(1, 1), record(1, 2), record(2, 1)])
    first = post(central, token, body)
    assert first.status_code == 200, first.text
    assert first.json()["batch_id"] == KEY
    assert [r["status"] for r in first.json()["results"]] == ["created"] * 3
    before = central.db.records(a)
    again = post(central, token, body)
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 3
    assert central.db.records(a) == before
    # Every revision is kept, and the review points at what it replaces.
    kept = [(r["document_id"], r["revision"], r["replaces"]) for r in before]
    assert kept == [(1, 1, None), (1, 2, 1), (2, 1, None)]
    (device,) = [d for d in central.db.devices() if d["name"] == a]
    assert device["records"] == 3 and device["pending"] == 3


def test_same_key_with_other_content_is_a_conflict_per_record(
    central: Central,
    a: str,
) -> None:
    token = central.add_device(a)
    assert post(central, token, batch(a, [record(1, 1)])).status_code == 200
    changed = record(1, 1, content={"urgency": "routine"})
    answer = post(central, token, batch(a, [changed, record(3, 1)]), key="batch-0002")
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()["results"]] == ["conflict", "created"]
    held = {r["document_id"]: r["content"] for r in central.db.records(a)}
    assert held[1]["urgency"] == "urgent"  # the first version stands
    (device,) = [d for d in central.db.devices() if d["name"] == a]
    assert device["conflicts"] == 1


def test_plain_json_is_accepted_too(central: Central, a: str) -> None:
    token = central.add_device(a)
    answer = post(central, token, batch(a, [record()]), gzipped=False)
    assert answer.status_code == 200
    assert answer.json()["results"][0]["status"] == "created"


@pytest.mark.parametrize(
    "token",
    [None, "Basic dXNlcjpwYXNz", "Bearer garbage", "Bearer 1.wrong", "Bearer 99.x"],
)
def test_without_a_valid_token_401(central: Central, a: str, token: str | None) -> None:
    central.add_device(a)
    answer = post(central, token, batch(a, [record()]))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert central.db.records(a) == []


def test_token_of_device_a_writing_as_device_b_is_403(
    central: Central,
    a: str,
    b: str,
) -> None:
    token_a = central.add_device(a)
    central.add_device(b)
    answer = post(central, token_a, batch(b, [record()]))
    assert answer.status_code == 403
    assert central.db.records(b) == [] == central.db.records(a)


def test_server_keeps_only_a_hash_of_the_token(central: Central, a: str) -> None:
    token = central.add_device(a)
    name, stored = central.db.token_hash(int(token.split(".")[0])) or ("", "")
    assert name == a
    assert stored == hashlib.sha256(token.encode()).hexdigest() != token


def test_413_is_decided_from_content_length_before_the_body(
    central: Central,
    a: str,
) -> None:
    token = central.add_device(a)
    head = (
        "POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: {KEY}\r\n"
        "Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n"
    )
    port = int(central.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())  # and not one byte of the body
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413")


def test_413_for_a_gzip_bomb(central: Central, a: str) -> None:
    token = central.add_device(a)
    bomb = (
        b'{"device": "' + a.encode() + b'", "x": "' + b"0" * (40 * 1024 * 1024) + b'"}'
    )
    answer = post(central, token, bomb)
    assert len(gzip.compress(bomb)) < 1024 * 1024  # small on the wire
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"a": NaN}', "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[]", "Input should be"),
        (b'{"device": "x", "heartbeat": {"pending": -1}, "records": []}', "pending"),
        (b'{"device": "x", "heartbeat": {}, "records": {}}', "heartbeat.pending"),
    ],
)
def test_malformed_bodies_are_422(
    central: Central, a: str, body: bytes, why: str
) -> None:
    token = central.add_device(a)
    answer = post(central, token, body)
    assert answer.status_code == 422, answer.text
    assert why in answer.json()["detail"]


def test_not_gzip_422_and_unknown_encoding_415(central: Central, a: str) -> None:
    token = central.add_device(a)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": KEY}
    url = central.url + "/v1/batches"
    bad_gzip = httpx.post(
        url, content=b"nope", headers=headers | {"Content-Encoding": "gzip"}
    )
    assert bad_gzip.status_code == 422
    brotli = httpx.post(
        url, content=b"{}", headers=headers | {"Content-Encoding": "br"}
    )
    assert brotli.status_code == 415
    no_key = httpx.post(
        url, content=b"{}", headers={"Authorization": headers["Authorization"]}
    )
    assert no_key.status_code == 422


def test_invalid_records_are_named_and_nothing_is_stored(
    central: Central,
    a: str,
) -> None:
    token = central.add_device(a)
    records = [
        record(1, 1),
        record(2, 1, kind="gossip"),
        record(3, 2, replaces=2),
        record(4, 1, content="not an object"),
        record(5, 1, created_at="yesterday"),
    ]
    answer = post(central, token, batch(a, records))
    assert answer.status_code == 422
    problem = answer.json()
    assert [item["index"] for item in problem["invalid"]] == [1, 2, 3, 4]
    assert "replaces" in problem["invalid"][1]["reason"]
    assert "Synthetic" not in answer.text  # reasons never echo the input
    assert central.db.records(a) == []


def test_raw_document_upload_resumes_and_checks_sha256(
    central: Central,
    a: str,
) -> None:
    token = central.add_device(a)
    data = bytes(range(256)) * 40
    digest = hashlib.sha256(data).hexdigest()
    url = central.url + "/v1/documents/7"
    auth = {"Authorization": f"Bearer {token}"}

    def put(
        start: int, chunk: bytes, sha: str = digest, doc: int = 7
    ) -> httpx.Response:
        params = {"sha256": sha, "size": len(data), "start": start}
        target = f"{central.url}/v1/documents/{doc}"
        return httpx.put(target, params=params, content=chunk, headers=auth)

    assert httpx.get(url, headers=auth).status_code == 404
    assert put(0, data[:4000]).json()["received"] == 4000
    stale = put(0, data[:4000])  # a replay after a lost answer: where to resume
    assert stale.status_code == 409 and stale.json()["received"] == 4000
    done = put(4000, data[4000:])
    assert done.status_code == 200 and done.json()["complete"] is True
    assert httpx.get(url, headers=auth).json()["complete"] is True
    assert central.db.document_bytes(a, 7) == data
    other = "0" * 64
    wrong = put(0, data, sha=other)
    assert wrong.status_code == 409
    mismatch = put(0, data, sha=other, doc=8)  # the bytes are not that sha256
    assert mismatch.status_code == 422


def test_content_is_stored_canonically(central: Central, a: str) -> None:
    token = central.add_device(a)
    content = {"b": 1, "a": "\u0000 and \ud800 and é", "nested": [1.5, {"z": None}]}
    answer = post(central, token, batch(a, [record(content=content)]))
    assert answer.status_code == 200
    (held,) = central.db.records(a)
    assert canonical_json(held["content"]) == canonical_json(content)
