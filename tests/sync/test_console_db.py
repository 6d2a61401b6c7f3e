"""The console's document index against a real central database: it catches
up with every record, whatever the batch sizes and commit order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgebox.sync.central.auth import new_token
from edgebox.sync.central.console_db import ConsoleDB
from edgebox.sync.central.database import open_central
from tests.support.central import database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def console(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConsoleDB]:
    with database_url(request.param, tmp_path) as url:
        central = open_central(url)
        try:
            yield ConsoleDB(central)
        finally:
            central.close()


def _insert(console: ConsoleDB, first: int, count: int, received: str) -> None:
    central = console.central
    device = central.devices()[0]["id"] if central.devices() else None
    if device is None:
        device = central.register_device("clinic-a", new_token)[0]
    rows = [
        (device, "triage", n, 1, received, received, "k", "0" * 64,
         json.dumps({"urgency": "emergency", "summary": f"case {n}"}))
        for n in range(first, first + count)
    ]  # fmt: skip
    sql = central._sql(
        "INSERT INTO records (device_id, kind, document_id, revision, created_at,"
        " received_at, batch_key, content_sha256, content)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    with central._tx() as conn:
        conn.cursor().executemany(sql, rows)


def _count(console: ConsoleDB) -> int:
    return int(console._query("SELECT COUNT(*) AS n FROM console_documents")[0]["n"])


def test_more_rows_of_one_instant_than_a_catch_up_batch_are_all_indexed(
    console: ConsoleDB,
) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    _insert(console, 1, 5003, stamp)
    console.catch_up()
    assert _count(console) == 5003


def test_a_batch_committed_after_a_later_one_is_still_indexed(
    console: ConsoleDB,
) -> None:
    now = datetime.now(UTC)
    _insert(console, 1, 2, now.isoformat(timespec="milliseconds"))
    console.catch_up()
    # Stamped a minute earlier, committed only now (a slow batch).
    earlier = (now - timedelta(minutes=1)).isoformat(timespec="milliseconds")
    _insert(console, 3, 1, earlier)
    console.catch_up()
    assert _count(console) == 3


def test_a_page_view_with_nothing_new_indexes_nothing(console: ConsoleDB) -> None:
    """The margin is read again on each view, but rows indexed at their
    revision are not written again: a view is a read, not a write."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    _insert(console, 1, 40, stamp)
    assert console.catch_up() == 40
    assert console.catch_up() == 0
    _insert(console, 41, 2, stamp)
    assert console.catch_up() == 2
    assert _count(console) == 42


def test_a_later_revision_replaces_and_a_late_older_one_does_not(
    console: ConsoleDB,
) -> None:
    central = console.central
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    _insert(console, 1, 1, stamp)
    console.catch_up()
    device = central.devices()[0]["id"]
    sql = central._sql(
        "INSERT INTO records (device_id, kind, document_id, revision, created_at,"
        " received_at, batch_key, content_sha256, content)"
        " VALUES (?, 'triage', 1, ?, ?, ?, 'k', ?, ?)"
    )
    for revision, urgency in ((3, "routine"), (2, "urgent")):
        content = json.dumps({"urgency": urgency, "author": "staff:ama"})
        with central._tx() as conn:
            conn.execute(sql, (device, revision, stamp, stamp, "0" * 64, content))
        console.catch_up()
    (row,) = console._query("SELECT revision, urgency FROM console_documents")
    assert (row["revision"], row["urgency"]) == (3, "routine")
    assert console.catch_up() == 0  # revision 2 is older than what is shown


def test_each_clinic_shows_the_delay_of_its_latest_document(
    console: ConsoleDB,
) -> None:
    central = console.central
    north = central.register_device("clinic-north", new_token)[0]
    central.register_device("clinic-quiet", new_token)
    now = datetime.now(UTC)

    def at(minutes: float) -> str:
        return (now + timedelta(minutes=minutes)).isoformat(timespec="milliseconds")

    sql = central._sql(
        "INSERT INTO records (device_id, kind, document_id, revision, created_at,"
        " received_at, batch_key, content_sha256, content)"
        " VALUES (?, 'triage', ?, 1, ?, ?, 'k', ?, '{}')"
    )
    # (document, box time, received): the latest received is document 2.
    for document, created, received in ((1, -90, -30), (2, -12, -10), (3, -60, -20)):
        with central._tx() as conn:
            conn.execute(sql, (north, document, at(created), at(received), "0" * 64))
    by_name = {c["name"]: c for c in console.clinics()}
    assert by_name["clinic-north"]["delay_s"] == pytest.approx(120.0)
    assert by_name["clinic-quiet"]["delay_s"] is None
