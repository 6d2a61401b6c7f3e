"""The central server's API, through a real uvicorn server on 127.0.0.1, against
SQLite and (when configured) PostgreSQL: every status the issue names."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgebox.sync.payload import canonical_json
from tests.support.central import Central, device_name, running_central
from tests.support.records import result

KEY = "batch-0001"


@pytest.fixture
def central(shared_central: Central) -> Central:
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


def peak_rss_mb(pid: int) -> float:
    """The most memory a process has held so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def test_a_gzip_of_ten_million_records_is_refused_before_it_is_parsed(
    tmp_path: Path,
) -> None:
    """29 KB on the wire, 30 MB unpacked: parsed whole, the records took the
    server from 70 to 830 MB and held its health check up for two seconds."""
    name = device_name()
    head = b'{"device": "' + name.encode() + b'", "heartbeat": {"pending": 0}, '
    raw = head + b'"records": [' + b"{}," * (10_000_000 - 1) + b"{}]}"
    bomb = gzip.compress(raw, 9)
    del raw
    assert len(bomb) < 64 * 1024
    with running_central(f"sqlite:///{tmp_path / 'c.db'}", tmp_path) as central:
        token = central.add_device(name)
        pid = central.process.process.pid  # type: ignore[union-attr]
        health = central.url + "/v1/health"
        assert httpx.get(health).status_code == 200
        before = peak_rss_mb(pid)
        waits: list[float] = []
        done, probing = threading.Event(), threading.Event()

        def probe() -> None:
            with httpx.Client(timeout=30) as client:
                while not done.is_set():
                    began = time.monotonic()
                    assert client.get(health).status_code == 200
                    waits.append(time.monotonic() - began)
                    probing.set()
                    time.sleep(0.01)

        prober = threading.Thread(target=probe)
        prober.start()
        # The refusal can come in milliseconds: on a busy machine the prober
        # must be under way first, or it measures nothing.
        assert probing.wait(30)
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": KEY,
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        try:
            answer = httpx.post(
                central.url + "/v1/batches", content=bomb, headers=headers, timeout=60
            )
        finally:
            done.set()
            prober.join()
        grown = peak_rss_mb(pid) - before
    # Generous bounds: the parsed records took 760 MB and held the health
    # check up for 1.4 to 2.2 s; refused while unpacking, a few MB and ms.
    assert grown < 150, f"the server grew by {grown:.0f} MB"
    assert waits and max(waits) < 1.0, f"health checks took up to {max(waits)} s"
    # Too large, not invalid: the client sends a batch refused so in halves.
    assert answer.status_code == 413, answer.text
    assert "JSON values" in answer.json()["detail"]


def test_the_largest_batch_allowed_fits_the_item_limit(
    central: Central, a: str
) -> None:
    """5000 records, each a full triage result: the count of JSON values that
    stops a bomb leaves room for them."""
    token = central.add_device(a)
    flags = [
        {"sign": "convulsions", "level": "emergency", "source": "rules",
         "evidence": "convulsing, febrile", "at": [10, 20]},
        {"sign": "fever", "level": None, "source": "llm"},
    ]  # fmt: skip
    records = [record(n, 1, content=result(n, red_flags=flags)) for n in range(1, 5001)]
    answer = post(central, token, batch(a, records))
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["results"]) == 5000


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
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": KEY,
        "Content-Type": "application/json",
    }
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
        headers = auth | {"Content-Type": "application/octet-stream"}
        return httpx.put(target, params=params, content=chunk, headers=headers)

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


def put_chunk(
    central: Central,
    token: str,
    document_id: int,
    start: int,
    chunk: bytes,
    *,
    sha256: str,
    size: int,
) -> httpx.Response:
    """One chunk of a raw document, sent as the client sends it."""
    return httpx.put(
        f"{central.url}/v1/documents/{document_id}",
        params={"sha256": sha256, "size": size, "start": start},
        content=chunk,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/octet-stream",
        },
    )


def test_an_empty_chunk_does_not_block_the_upload(central: Central, a: str) -> None:
    token = central.add_device(a)
    data = bytes(range(256)) * 40
    sha, size = hashlib.sha256(data).hexdigest(), len(data)
    for start, chunk in [(0, b""), (0, data[:4000]), (4000, b""), (4000, b"")]:
        answer = put_chunk(central, token, 9, start, chunk, sha256=sha, size=size)
        assert answer.status_code == 200, answer.text
        assert answer.json()["received"] == start + len(chunk)
    done = put_chunk(central, token, 9, 4000, data[4000:], sha256=sha, size=size)
    assert done.status_code == 200, done.text
    assert done.json()["complete"] is True
    assert central.db.document_bytes(a, 9) == data


def test_an_empty_chunk_an_older_server_kept_is_replaced(
    central: Central, a: str
) -> None:
    """Such a row (an empty chunk stored at the offset) made every later try at
    that offset a 500: the upload could never complete."""
    token = central.add_device(a)
    data = b"scan bytes " * 100
    sha, size = hashlib.sha256(data).hexdigest(), len(data)
    first = put_chunk(central, token, 10, 0, data[:500], sha256=sha, size=size)
    assert first.status_code == 200
    db: Any = central.db
    with db._tx() as conn:
        db._run(
            conn,
            "INSERT INTO document_chunks (device_id, document_id, start, data)"
            " VALUES (?, ?, ?, ?)",
            [int(token.split(".")[0]), 10, 500, b""],
        )
    done = put_chunk(central, token, 10, 500, data[500:], sha256=sha, size=size)
    assert done.status_code == 200, done.text
    assert done.json()["complete"] is True
    assert central.db.document_bytes(a, 10) == data


def test_an_empty_document_with_a_wrong_sha256_is_never_complete(
    central: Central, a: str
) -> None:
    token = central.add_device(a)
    wrong = hashlib.sha256(b"not empty").hexdigest()
    for _ in range(2):  # refused every time, never stored as complete
        answer = put_chunk(central, token, 11, 0, b"", sha256=wrong, size=0)
        assert answer.status_code == 422, answer.text
        assert "sha256" in answer.json()["detail"]
    held = httpx.get(
        f"{central.url}/v1/documents/11", headers={"Authorization": f"Bearer {token}"}
    )
    assert held.status_code == 200 and held.json()["complete"] is False
    empty = hashlib.sha256(b"").hexdigest()
    right = put_chunk(central, token, 12, 0, b"", sha256=empty, size=0)
    assert right.status_code == 200 and right.json()["complete"] is True


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ('Application/JSON; charset="UTF-8"', 200),
        (None, 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/json; charset=utf-16", 415),
    ],
)
def test_a_batch_must_be_declared_as_json(
    central: Central, a: str, content_type: str | None, status: int
) -> None:
    token = central.add_device(a)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": KEY}
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = httpx.post(
        central.url + "/v1/batches",
        content=json.dumps(batch(a, [record()])).encode(),
        headers=headers,
    )
    assert answer.status_code == status, answer.text
    if status == 415:
        assert central.db.records(a) == []


def test_a_document_chunk_must_be_declared_as_bytes(central: Central, a: str) -> None:
    token = central.add_device(a)
    data = b"scan"
    params = {"sha256": hashlib.sha256(data).hexdigest(), "size": 4, "start": 0}
    for content_type in (None, "application/json", "text/plain"):
        headers = {"Authorization": f"Bearer {token}"}
        if content_type:
            headers["Content-Type"] = content_type
        answer = httpx.put(
            central.url + "/v1/documents/5",
            params=params,
            content=data,
            headers=headers,
        )
        assert answer.status_code == 415, answer.text
    assert put_chunk(central, token, 5, 0, data, sha256=params["sha256"], size=4)
    assert central.db.document_bytes(a, 5) == data


@pytest.mark.parametrize(
    "changes",
    [
        {"revision": "1"},
        {"document_id": "1"},
        {"revision": True},
        {"revision": 1.5},
        {"replaces": "0", "revision": 2},
    ],
)
def test_record_numbers_must_be_json_numbers(
    central: Central, a: str, changes: dict[str, Any]
) -> None:
    token = central.add_device(a)
    answer = post(central, token, batch(a, [record(3, 1), record(2, 1) | changes]))
    assert answer.status_code == 422, answer.text
    assert [item["index"] for item in answer.json()["invalid"]] == [1]
    assert central.db.records(a) == []


@pytest.mark.parametrize("pending", ["3", True, 3.5, None])
def test_heartbeat_numbers_must_be_json_numbers(
    central: Central, a: str, pending: Any
) -> None:
    token = central.add_device(a)
    body = batch(a, [record()]) | {"heartbeat": {"pending": pending}}
    answer = post(central, token, body)
    assert answer.status_code == 422, answer.text
    assert "heartbeat.pending" in answer.json()["detail"]


def test_an_integer_written_with_a_point_zero_is_still_one(
    central: Central, a: str
) -> None:
    """JSON Schema's integer: 2.0 is one (a generator from the document sends
    it), and it is stored as 2."""
    token = central.add_device(a)
    answer = post(central, token, batch(a, [record(document_id=4.0, revision=2.0)]))
    assert answer.status_code == 200, answer.text
    (held,) = central.db.records(a)
    assert (held["document_id"], held["revision"], held["replaces"]) == (4, 2, 1)


def test_a_second_gzip_member_is_refused(central: Central, a: str) -> None:
    """A reader that stops at the first member would see another batch than
    one that reads them all: neither is guessed."""
    token = central.add_device(a)
    first = gzip.compress(json.dumps(batch(a, [record(1)])).encode())
    for tail in (gzip.compress(json.dumps(batch(a, [record(2)])).encode()), b"x"):
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": KEY,
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        answer = httpx.post(
            central.url + "/v1/batches", content=first + tail, headers=headers
        )
        assert answer.status_code == 422, answer.text
        assert "one member only" in answer.json()["detail"]
    assert central.db.records(a) == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-8-sig"])
def test_json_must_be_utf8_without_a_bom(
    central: Central, a: str, encoding: str
) -> None:
    token = central.add_device(a)
    body = json.dumps(batch(a, [record()])).encode(encoding)
    answer = post(central, token, body)
    assert answer.status_code == 422, answer.text
    assert "not valid JSON" in answer.json()["detail"]
    assert central.db.records(a) == []


def test_a_method_a_path_does_not_take_is_405_naming_all_it_takes(
    central: Central,
) -> None:
    for method, path, allowed in [
        ("DELETE", "/v1/documents/1", "GET, PUT"),
        ("PATCH", "/v1/documents/1", "GET, PUT"),
        ("GET", "/v1/batches", "POST"),
        ("POST", "/v1/health", "GET"),
    ]:
        answer = httpx.request(method, central.url + path)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["allow"] == allowed, (method, path)
        assert answer.json() == {"detail": "Method Not Allowed", "invalid": []}


def test_the_openapi_document_describes_the_error_answers(central: Central) -> None:
    spec = httpx.get(central.url + "/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")) and status != "409":
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == problem, (where, status)
            if operation.get("parameters") or "requestBody" in operation:
                assert "422" in operation["responses"], where
            if operation.get("security"):
                headers = operation["responses"]["401"]["headers"]
                assert "WWW-Authenticate" in headers, where
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "415" in spec["paths"]["/v1/documents/{document_id}"]["put"]["responses"]
