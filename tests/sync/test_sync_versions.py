"""Mixed versions and clock skew at the centre (issue 22 part 5, issue 21):
batches from newer and older boxes, through a real server on 127.0.0.1, on
SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import gzip
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgebox.store import Store
from edgebox.sync.central.clock import clock_skew, shown_skew, skew_too_large
from edgebox.sync.client import SyncClient
from edgebox.sync.device_report import heartbeat
from edgebox.sync.payload import PROTOCOL_VERSION
from tests.support.central import Central, device_name, sync_settings
from tests.support.console import add_user, signed_in
from tests.support.processes import sync_cli
from tests.support.records import fill_store


@pytest.fixture
def central(shared_central: Central) -> Central:
    """The module's server; each test writes as devices of its own."""
    return shared_central


def stamp(offset: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + offset).isoformat(timespec="milliseconds")


def record(document_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "triage",
        "document_id": document_id,
        "revision": 1,
        "created_at": stamp(),
        "content": {"urgency": "urgent", "summary": "Hb 7.2", "revision": 1},
    } | extra


def post(central: Central, token: str, body: dict[str, Any]) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": secrets.token_hex(8),
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    data = gzip.compress(json.dumps(body).encode())
    return httpx.post(central.url + "/v1/batches", content=data, headers=headers)


def device(central: Central, name: str) -> dict[str, Any]:
    return next(d for d in central.db.devices() if d["name"] == name)


def test_a_newer_box_with_fields_the_centre_does_not_know_is_accepted(
    central: Central,
) -> None:
    name = device_name()
    token = central.add_device(name)
    beat = {
        "pending": 0,
        "protocol": PROTOCOL_VERSION + 1,
        "clock": stamp(),
        "bundle_version": 7,
        "battery": {"percent": 81},  # unknown to this centre
        "bundles": [7, 6],
    }
    records = [record(1, priority="high", signature="ab" * 8), record(2)]
    body = {"device": name, "heartbeat": beat, "records": records, "compressed": 1}
    answer = post(central, token, body)
    assert answer.status_code == 200, answer.text
    statuses = [r["status"] for r in answer.json()["results"]]
    assert statuses == ["created", "created"]
    held = central.db.records(name)
    assert [r["document_id"] for r in held] == [1, 2]
    assert held[0]["content"] == records[0]["content"]
    seen = device(central, name)
    assert (seen["protocol"], seen["bundle_version"]) == (PROTOCOL_VERSION + 1, 7)
    assert seen["box_clock"] == beat["clock"]
    # The same batch again is a replay, extra fields or not.
    again = post(central, token, body)
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 2


def test_an_older_box_without_the_new_fields_is_accepted(central: Central) -> None:
    name = device_name()
    token = central.add_device(name)
    body = {"device": name, "heartbeat": {"pending": 2}, "records": [record(1)]}
    answer = post(central, token, body)
    assert answer.status_code == 200, answer.text
    assert len(central.db.records(name)) == 1
    seen = device(central, name)
    assert seen["pending"] == 2
    assert (seen["protocol"], seen["box_clock"], seen["clock_skew_s"]) == (
        None,
        None,
        None,
    )
    assert seen["bundle_version"] is None


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("records.1", {"revision": "1"}),
        ("records.1", {"document_id": True}),
        ("records.1", {"created_at": "yesterday"}),
    ],
)
def test_a_known_field_of_the_wrong_type_is_still_refused(
    central: Central, where: str, change: dict[str, Any]
) -> None:
    name = device_name()
    token = central.add_device(name)
    records = [record(1, future="x"), record(2, future="y") | change]
    beat = {"pending": 0, "protocol": 9, "unknown": True}
    answer = post(
        central, token, {"device": name, "heartbeat": beat, "records": records}
    )
    assert answer.status_code == 422, answer.text
    assert [item["index"] for item in answer.json()["invalid"]] == [1]
    assert central.db.records(name) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("protocol", "2"), ("protocol", -1), ("clock", "yesterday"), ("clock", 12)],
)
def test_a_new_heartbeat_field_of_the_wrong_type_is_refused(
    central: Central, field: str, value: Any
) -> None:
    name = device_name()
    token = central.add_device(name)
    beat = {"pending": 0, field: value}
    answer = post(central, token, {"device": name, "heartbeat": beat, "records": []})
    assert answer.status_code == 422, answer.text
    assert f"heartbeat.{field}" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(timedelta(hours=-2), 7200.0), (timedelta(seconds=90), -90.0)],
)
def test_the_centre_keeps_each_boxs_clock_skew(
    central: Central, offset: timedelta, expected: float
) -> None:
    """Received time minus the box's clock: a box two hours behind shows
    +2 h, a box ahead a negative skew."""
    name = device_name()
    token = central.add_device(name)
    beat = {"pending": 0, "protocol": 2, "clock": stamp(offset)}
    answer = post(central, token, {"device": name, "heartbeat": beat, "records": []})
    assert answer.status_code == 200, answer.text
    skew = device(central, name)["clock_skew_s"]
    assert skew == pytest.approx(expected, abs=5.0)
    # The next heartbeat replaces it: skew is as of the last one.
    beat["clock"] = stamp()
    assert post(
        central, token, {"device": name, "heartbeat": beat, "records": []}
    ).is_success
    assert device(central, name)["clock_skew_s"] == pytest.approx(0.0, abs=5.0)


def test_a_real_box_sends_its_protocol_and_clock(
    central: Central, tmp_path: Path
) -> None:
    name = device_name()
    token = central.add_device(name)
    with Store(fill_store(tmp_path / "box.db", 3)) as store:
        beat = heartbeat(store, [], model_path=None)
        assert beat["protocol"] == PROTOCOL_VERSION
        sent = datetime.fromisoformat(beat["clock"])
        assert abs((datetime.now(UTC) - sent).total_seconds()) < 5
        with SyncClient(store, sync_settings(central.url, name, token)) as client:
            assert client.push().error is None
    seen = device(central, name)
    assert seen["protocol"] == PROTOCOL_VERSION
    assert seen["clock_skew_s"] == pytest.approx(0.0, abs=5.0)
    assert len(central.db.records(name)) == 3


def test_central_status_shows_the_skew_and_warns_past_the_limit(
    central: Central,
) -> None:
    behind, on_time = device_name(), device_name()
    for name, offset in ((behind, timedelta(hours=-3)), (on_time, timedelta(0))):
        token = central.add_device(name)
        beat = {
            "pending": 0,
            "protocol": 2,
            "clock": stamp(offset),
            "bundle_version": 4,
        }
        body = {"device": name, "heartbeat": beat, "records": []}
        assert post(central, token, body).is_success
    shown = sync_cli("central", "status", "--db", central.db_url)
    assert shown.returncode == 0, shown.stderr
    lines = {line.split()[0]: line for line in shown.stdout.splitlines()}
    assert "clock skew +3 h 00 min" in lines[behind]
    assert "protocol 2, bundle 4" in lines[behind]
    assert "clock skew +0 s" in lines[on_time]
    assert f"warning: {behind}'s clock is off by +3 h 00 min" in shown.stderr
    assert on_time not in shown.stderr
    relaxed = sync_cli(
        "central", "status", "--db", central.db_url,
        env={"EDGEBOX_CENTRAL_MAX_CLOCK_SKEW_S": "86400"},
    )  # fmt: skip
    assert behind not in relaxed.stderr
    listed = json.loads(
        sync_cli("central", "status", "--json", "--db", central.db_url).stdout
    )
    skews = {d["name"]: d["clock_skew_s"] for d in listed}
    assert skews[behind] == pytest.approx(10800.0, abs=5.0)


def test_the_skew_is_measured_and_shown_in_plain_words() -> None:
    received = "2026-12-01T12:00:00.000+00:00"
    assert clock_skew(received, "2026-12-01T11:00:00.000Z") == 3600.0
    assert clock_skew(received, "2026-12-01T12:00:30") == -30.0  # no zone: UTC
    assert clock_skew(received, "2026-12-01T14:00:00.000+02:00") == 0.0
    assert clock_skew(received, None) is None
    assert clock_skew(received, "2026-13-01T12:00:00") is None
    assert [shown_skew(s) for s in (None, 3.4, -90, 150, -7500)] == [
        "-",
        "+3 s",
        "-90 s",
        "+2 min",
        "-2 h 05 min",
    ]
    assert skew_too_large(-301, 300) and not skew_too_large(300, 300)
    assert not skew_too_large(None, 0)


def test_the_clinics_page_shows_the_skew_and_24h_stays_as_received(
    central: Central,
) -> None:
    """A box three days behind: its clinic row warns, and its emergency,
    stamped three days ago by the box, is still in the last 24 hours."""
    behind = device_name()
    token = central.add_device(behind)
    late = timedelta(days=-3)
    emergency = record(1, created_at=stamp(late)) | {
        "content": {"urgency": "emergency", "summary": "Convulsions", "revision": 1}
    }
    beat = {"pending": 0, "protocol": 2, "clock": stamp(late)}
    body = {"device": behind, "heartbeat": beat, "records": [emergency]}
    assert post(central, token, body).is_success
    viewer = add_user(central, f"viewer-{secrets.token_hex(3)}")
    client = signed_in(central, viewer)
    try:
        page = client.get("/console/")
        assert page.status_code == 200
        row = next(r for r in page.text.split("<tr") if f">{behind}</a>" in r)
        assert 'skewed"' in row.split(">")[0]
        assert "+72 h 00 min" in row and "wrong" in row
        french = client.get("/console/?lang=fr").text
        assert "Décalage d&#39;horloge" in french or "Décalage d'horloge" in french
        table = client.get("/console/?format=csv").text
        assert "clock_skew_s" in table.splitlines()[0]
        listed = client.get(f"/console/emergencies?clinic={behind}&window=24h")
        assert "/documents/1" in listed.text
    finally:
        client.close()
