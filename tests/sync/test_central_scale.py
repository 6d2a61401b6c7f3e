"""Two central server processes on one database (issue 22 part 4): the server
keeps nothing between requests that the other process would need, so boxes
and staff may reach either one (as behind a proxy) and nothing is lost,
doubled or refused. Real uvicorn processes on 127.0.0.1, real boxes (stores
of their own), PostgreSQL (and SQLite, which WAL lets two processes share)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from edgebox.store import Store
from edgebox.sync.central.auth import new_token
from edgebox.sync.central.database import CentralDB, open_central
from edgebox.sync.client import PushReport, SyncClient
from tests.support.central import BACKENDS, Central, database_url, sync_settings
from tests.support.console import PASSWORD, add_user, csrf_of, login
from tests.support.loopback import CentralProcess
from tests.support.records import copy_store, result

ROUNDS = 4
PER_ROUND = 9
BATCH = 4  # three batches a round


@dataclass
class Pair:
    """Two server processes over one database, and a handle on it."""

    db: CentralDB
    a: CentralProcess
    b: CentralProcess

    def central(self, process: CentralProcess) -> Central:
        return Central(process.url, process.db_url, self.db, process)


@pytest.fixture(params=BACKENDS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    with database_url(request.param, tmp_path) as url:
        db = open_central(url)
        a = CentralProcess(url, log=tmp_path / "a.log").start()
        b = CentralProcess(url, log=tmp_path / "b.log")
        try:
            b.start()
            yield Pair(db, a, b)
        finally:
            b.stop()
            a.stop()
            db.close()


def add_results(store: Store, start: int, count: int) -> None:
    with store.atomic():
        for n in range(start, start + count):
            doc = store.add_document(
                file_name=f"doc{n}.txt", sha256=f"{n:064x}", size=100 + n
            )
            store.record_triage(doc, result(n))


def push(store: Store, url: str, name: str, token: str) -> PushReport:
    settings = sync_settings(url, name, token, batch_records=BATCH)
    with SyncClient(store, settings) as client:
        report = client.push()
    assert report.error is None, report.error
    return report


def sent_keys(store: Store) -> set[tuple[int, int]]:
    """(document_id, revision) of every result the box queued."""
    rows = store.db.query("SELECT document_id, revision FROM outbox")
    return {(int(r["document_id"]), int(r["revision"])) for r in rows}


def held_keys(db: CentralDB, name: str) -> list[tuple[int, int]]:
    return [(r["document_id"], r["revision"]) for r in db.records(name)]


def test_two_processes_take_two_boxes_batches_with_nothing_lost_or_doubled(
    pair: Pair, tmp_path: Path
) -> None:
    names = ("clinic-north", "clinic-south")
    tokens = [pair.db.register_device(name, new_token)[1] for name in names]
    stores = [Store(tmp_path / name / "edgebox.db") for name in names]
    servers = (pair.a.url, pair.b.url)
    try:
        for round_ in range(ROUNDS):
            # Both boxes at once, each to another process, swapped each round.
            reports: list[PushReport] = []

            def sync(
                box: int, round_: int = round_, reports: list[PushReport] = reports
            ) -> None:
                add_results(stores[box], round_ * PER_ROUND, PER_ROUND)
                url = servers[(box + round_) % 2]
                reports.append(push(stores[box], url, names[box], tokens[box]))

            threads = [threading.Thread(target=sync, args=(box,)) for box in (0, 1)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert [r.acknowledged for r in reports] == [PER_ROUND, PER_ROUND]
            assert [r.duplicates for r in reports] == [0, 0]
        for box, name in enumerate(names):
            expected = sent_keys(stores[box])
            assert len(expected) == ROUNDS * PER_ROUND
            held = held_keys(pair.db, name)
            assert len(held) == len(set(held)) == len(expected)  # none doubled
            assert set(held) == expected  # none lost
        # Everything replayed to each process, so each batch reaches the
        # process that did not take it: acknowledged again, nothing new.
        total = ROUNDS * PER_ROUND
        for box, name in enumerate(names):
            for url in servers:
                stores[box].db.execute("UPDATE outbox SET state = 'pending'")
                stores[box].db.conn.commit()
                again = push(stores[box], url, name, tokens[box])
                assert (again.acknowledged, again.duplicates) == (total, total)
            assert len(held_keys(pair.db, name)) == total
        devices = {d["name"]: d for d in pair.db.devices()}
        assert [devices[n]["conflicts"] for n in names] == [0, 0]
        assert [devices[n]["pending"] for n in names] == [0, 0]
    finally:
        for store in stores:
            store.close()


def test_the_same_batch_at_once_to_both_processes_is_stored_once(
    pair: Pair, tmp_path: Path
) -> None:
    """A box whose proxy retried on the other process while the first was
    still storing: both answer success, the records are there once."""
    name = "clinic-east"
    token = pair.db.register_device(name, new_token)[1]
    with Store(tmp_path / "box" / "edgebox.db") as store:
        add_results(store, 0, 30)
    copies = [
        copy_store(tmp_path / "box" / "edgebox.db", tmp_path / f"copy{n}" / "e.db")
        for n in range(2)
    ]
    reports: list[PushReport] = []

    def sync(copy: Path, url: str) -> None:
        with Store(copy) as store:
            reports.append(push(store, url, name, token))

    threads = [
        threading.Thread(target=sync, args=(copy, url))
        for copy, url in zip(copies, (pair.a.url, pair.b.url), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(reports) == 2
    assert [r.acknowledged for r in reports] == [30, 30]  # both answered
    assert sum(r.duplicates for r in reports) == 30  # each stored by one
    held = held_keys(pair.db, name)
    assert len(held) == len(set(held)) == 30
    (device,) = [d for d in pair.db.devices() if d["name"] == name]
    assert device["conflicts"] == 0


def test_a_console_session_and_its_login_limit_hold_on_both_processes(
    pair: Pair,
) -> None:
    a, b = pair.central(pair.a), pair.central(pair.b)
    add_user(a, "coordinator", "admin")
    with (
        httpx.Client(base_url=a.url, timeout=30) as on_a,
        httpx.Client(base_url=b.url, timeout=30) as on_b,
    ):
        assert login(on_a, "coordinator").status_code == 303
        on_b.cookies = on_a.cookies  # the same browser, the proxy chose B
        page = on_b.get("/console/devices")
        assert page.status_code == 200, page.text
        # A form made on A is accepted on B (CSRF is a cookie, not memory).
        added = on_b.post(
            "/console/devices",
            data={"csrf_token": csrf_of(page.text), "name": "clinic-west"},
        )
        assert added.status_code == 200 and "clinic-west" in added.text
        logout = on_b.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
        assert logout.status_code == 303
        ended = on_a.get("/console/devices", follow_redirects=False)
        assert ended.status_code == 303  # logged out on B: gone on A too
    # Failed logins counted on A stop a guess on B.
    for _ in range(5):
        with httpx.Client(base_url=a.url, timeout=30) as guess:
            assert login(guess, "coordinator", "wrong guess").status_code == 401
    with httpx.Client(base_url=b.url, timeout=30) as guess:
        assert login(guess, "coordinator", PASSWORD).status_code == 429
