"""10,000 results over a hostile link to a server that is killed mid-batch:
afterwards the server holds each record exactly once and the outbox is empty."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from edgebox.config import SyncConfig
from edgebox.store import Store
from edgebox.sync.central.auth import new_token
from edgebox.sync.central.database import open_central
from edgebox.sync.client import PushReport, SyncClient
from edgebox.sync.privacy import outgoing
from tests.support.central import sync_settings
from tests.support.fault_proxy import FaultProxy
from tests.support.loopback import CentralProcess
from tests.support.records import copy_store

KILL_AT_POSTS = (3, 9)


@pytest.mark.slow
def test_ten_thousand_results_arrive_exactly_once_through_faults_and_kills(
    central_db_url: str,
    big_store_template: Path,
    tmp_path: Path,
) -> None:
    central = open_central(central_db_url)
    _, token = central.register_device("clinic-chaos", new_token)
    server = CentralProcess(central_db_url, log=tmp_path / "central.log").start()
    kills: list[int] = []
    lock = threading.Lock()

    def kill_and_restart(post_number: int) -> None:
        if post_number in KILL_AT_POSTS:
            with lock:
                server.kill()  # SIGKILL while this batch is on its way in
                kills.append(post_number)
                server.start()

    proxy = FaultProxy(
        server.port,
        seed=20261129,
        stall=0.03,
        on_post=kill_and_restart,
        script=("refuse", "pass", "cut_response", "cut_request", "stall", "pass"),
    )
    store = Store(copy_store(big_store_template, tmp_path / "box" / "edgebox.db"))
    expected = {
        # What the default settings let leave the box (test_sync_privacy.py).
        (row["document_id"], row["revision"]): outgoing(
            json.loads(row["payload"]), SyncConfig()
        )
        for row in store.db.query("SELECT document_id, revision, payload FROM outbox")
    }
    settings = sync_settings(proxy.url, "clinic-chaos", token, timeout_s=2.0)
    reports: list[PushReport] = []
    try:
        with SyncClient(
            store, settings, max_attempts=8, backoff_base_s=0.05, backoff_cap_s=0.5,
            max_run_s=60,
        ) as client:  # fmt: skip
            for _ in range(40):  # bounded: each run is bounded too
                reports.append(client.push())
                if reports[-1].ok and reports[-1].pending == 0:
                    break
        held = central.records("clinic-chaos")
        devices = central.devices()
    finally:
        proxy.close()
        server.stop()
        central.close()
        counts = store.outbox_counts()
        store.close()

    assert kills == list(KILL_AT_POSTS)
    assert proxy.faults["refuse"] and proxy.faults["cut_request"]
    assert proxy.faults["cut_response"] and proxy.faults["stall"]
    assert counts == {"pending": 0, "sent": 10_000, "dead": 0}
    assert len(held) == 10_000 == len(expected)
    assert {(r["document_id"], r["revision"]): r["content"] for r in held} == expected
    assert devices[0]["conflicts"] == 0 and devices[0]["records"] == 10_000
    # Some answers were lost after the server committed: those records came
    # back as duplicates and were acknowledged, not stored twice.
    assert sum(r.duplicates for r in reports) > 0
