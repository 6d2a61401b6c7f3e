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
