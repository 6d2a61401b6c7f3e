"""Drift at the centre: override rates per clinic, bundle version and window,
from the reviews boxes sync to a real central server (SQLite and
PostgreSQL); a clinic whose rate rises past the limit is flagged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edgebox.cli.commands import cli
from edgebox.store import Store
from edgebox.sync.central.drift import DriftLimits, drift_report, flagged_clinics
from edgebox.sync.client import SyncClient
from tests.support.central import Central, device_name, sync_settings
from tests.support.console import add_user, signed_in
from tests.support.records import learned_result

WEEKS_AGO = (datetime.now(UTC) - timedelta(days=21)).isoformat(timespec="seconds")


@pytest.fixture
def central(shared_central: Central) -> Central:
    return shared_central


def clinic(
    central: Central, folder: Path, *, before: int, after: int, bundle: str = "7"
) -> str:
    """A box with 20 reviews three weeks ago (`before` of them changed the
    urgency) and 20 today (`after` changed), all synced; its device name."""
    name = device_name()
    with Store(folder / f"{name}.db") as store:
        for n in range(40):
            doc = store.add_document(file_name=f"{n}.txt", sha256=f"{n:064x}", size=1)
            store.record_triage(doc, learned_result(bundle_version=bundle))
            changed = n < before if n < 20 else n - 20 < after
            urgency = "emergency" if changed else "urgent"
            store.record_review(doc, reviewer="amina", changes={"urgency": urgency})
        store.db.execute(
            "UPDATE outbox SET created_at = ? WHERE document_id <= 20 AND revision = 2",
            [WEEKS_AGO],
        )
        settings = sync_settings(central.url, name, central.add_device(name))
        with SyncClient(store, settings) as client:
            assert client.push().ok
    return name


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["central", *args])
    assert result.exit_code == 0, result.output + str(result.exception)
    return result.output


def test_a_clinic_whose_override_rate_rises_is_flagged(
    central: Central, tmp_path: Path
) -> None:
    drifting = clinic(central, tmp_path, before=2, after=12)
    steady = clinic(central, tmp_path, before=2, after=2)
    report = {
        e["clinic"]: e
        for e in json.loads(run("drift", "--db", central.db_url, "--json"))
    }
    entry = report[drifting]
    assert entry["bundle_version"] == "7" and entry["reviews"] == 40
    rates = [w["urgency_override_rate"] for w in entry["windows"]]
    assert rates == [0.1, 0.6]
    assert entry["flagged"] is True
    assert entry["why"][0].startswith("urgency overridden in 60% of reviews since")
    assert "urgency override rate rose from 10% to 60%" in entry["why"][1]
    assert report[steady]["flagged"] is False and report[steady]["why"] == []

    status = run("status", "--db", central.db_url)
    assert "DRIFT bundle 7: urgency overridden in 60%" in status
    assert status.count("DRIFT") == 2  # both reasons, the one clinic
    devices = json.loads(run("status", "--db", central.db_url, "--json"))
    assert {d["name"]: bool(d["drift"]) for d in devices}[steady] is False
    # A limit is configurable: past 0.7 and a rise of 0.6, nothing is flagged.
    quiet = run(
        "drift", "--db", central.db_url, "--drift-limit", "0.7", "--drift-rise", "0.6"
    )
    assert "FLAGGED" not in quiet

    # The console's clinics page shows the flag beside the clinic.
    viewer = f"viewer-{drifting}"
    add_user(central, viewer)
    browser = signed_in(central, viewer)
    try:
        page = browser.get("/console/").text
    finally:
        browser.close()
    assert "Drift: bundle 7: urgency overridden in 60%" in page
    assert page.count('class="warning drift"') == 2


def _history(rows: list[tuple[str, int, str, dict[str, Any]]]) -> list[dict]:
    return [
        {"clinic": c, "document_id": d, "revision": i + 1, "created_at": at,
         "content": content}
        for i, (c, d, at, content) in enumerate(rows)
    ]  # fmt: skip


def test_bulk_confirmations_and_re_reviews_are_not_counted() -> None:
    at = "2026-01-05T10:00:00.000+00:00"
    ai = {"author": "ai", "urgency": "urgent", "category": "referral"}
    staff = {"author": "staff:a", "urgency": "emergency", "category": "referral"}
    bulk = staff | {"provenance": {"bulk": True}}
    history = _history(
        [("c", 1, at, ai), ("c", 1, at, staff), ("c", 1, at, staff | {"urgency": "x"})]
        + [("c", 2, at, ai), ("c", 2, at, bulk)]
    )
    limits = DriftLimits(min_reviews=1, limit=0.5)
    (entry,) = drift_report(history, limits)
    assert entry["reviews"] == 1 and entry["bundle_version"] == "unknown"
    assert entry["windows"][0]["urgency_override_rate"] == 1.0
    assert flagged_clinics([entry]) == {
        "c": [
            "bundle unknown: urgency overridden in 100% of reviews since"
            f" {entry['windows'][0]['from']} (limit 50%)"
        ]
    }
