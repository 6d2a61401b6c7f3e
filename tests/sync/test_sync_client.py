"""The sync client against a real central server (and, where the point is a
misbehaving network, a named fake): what is marked sent, dead or left pending."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgebox import config
from edgebox.config import Config, SyncConfig
from edgebox.intake.ingest import Ingestor
from edgebox.store import DocState, Store
from edgebox.sync import uploads
from edgebox.sync.client import SyncClient, sync_status
from edgebox.sync.loop import SyncLoop
from edgebox.sync.privacy import outgoing
from tests.support.central import Central, device_name, sync_settings
from tests.support.fault_proxy import FaultProxy
from tests.support.loopback import CentralProcess, free_port
from tests.support.records import fill_store, result


@pytest.fixture
def central(shared_central: Central) -> Central:
    return shared_central


@pytest.fixture
def device(central: Central) -> tuple[str, str]:
    name = device_name()
    return name, central.add_device(name)


class Sleeps:
    """A fake clock for backoff: records each wait instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def client_for(
    store: Store, url: str, device: tuple[str, str], **options: Any
) -> SyncClient:
    settings = {k: options.pop(k) for k in list(options) if k.startswith("batch_")}
    for key in ("send_documents", "send_summary"):
        if key in options:
            settings[key] = options.pop(key)
    sleeps = options.pop("sleeps", None) or Sleeps()
    return SyncClient(
        store,
        sync_settings(url, device[0], device[1], **settings),
        sleep=sleeps.sleep,
        clock=sleeps.clock,
        jitter=lambda: 1.0,
        **options,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(fill_store(tmp_path / "edgebox.db", 12)) as opened:
        yield opened


def payloads(store: Store) -> dict[tuple[int, int], dict[str, Any]]:
    """What the outbox holds, as the default settings let it leave the box
    (tests/sync/test_sync_privacy.py checks what they leave out)."""
    rows = store.db.query("SELECT document_id, revision, payload FROM outbox")
    return {
        (r["document_id"], r["revision"]): outgoing(
            json.loads(r["payload"]), SyncConfig()
        )
        for r in rows
    }


def test_push_sends_every_result_once_and_records_the_state(
    central: Central, device: tuple[str, str], store: Store
) -> None:
    store.record_review(1, reviewer="amina", changes={"urgency": "emergency"})
    with client_for(store, central.url, device, batch_records=5) as client:
        report = client.push()
        assert report.ok and report.acknowledged == 13 and report.pending == 0
        again = client.push()  # nothing left: a heartbeat alone
    assert again.ok and again.acknowledged == 0 and again.requests == 1
    held = central.db.records(device[0])
    assert {(r["document_id"], r["revision"]): r["content"] for r in held} == payloads(
        store
    )
    review = next(r for r in held if r["revision"] == 2)
    assert review["replaces"] == 1 and review["document_id"] == 1
    assert store.outbox_counts() == {"pending": 0, "sent": 13, "dead": 0}
    state = sync_status(store)
    assert state["records_sent"] == 13 and state["last_error"] is None
    assert state["bytes_sent"] == report.bytes_sent + again.bytes_sent > 0
    assert state["last_success"] >= state["last_attempt"]


def test_heartbeat_reaches_the_central_status(
    central: Central, device: tuple[str, str], store: Store
) -> None:
    store.record_review(2, reviewer="amina", changes={"category": "prescription"})
    store.record_review(3, reviewer="amina", changes={})
    with client_for(store, central.url, device, batch_records=100) as client:
        assert client.push().ok
    (seen,) = [d for d in central.db.devices() if d["name"] == device[0]]
    assert seen["model_sha256"] == "ab" * 32 and seen["rules_version"] == "r2"
    assert seen["app_version"] and seen["reviewed"] == 2
    assert seen["category_override_rate"] == 0.5
    assert seen["urgency_override_rate"] == 0.0
    # What is left once the batch is held: an up-to-date box is not shown as
    # behind by its last batch.
    assert seen["pending"] == 0


def test_emergencies_leave_first(
    central: Central, device: tuple[str, str], store: Store
) -> None:
    proxy = FaultProxy(central.process.port, seed=1, refuse=0, cut_request=0,
                       cut_response=0, max_posts=1)  # fmt: skip
    try:
        with client_for(
            store, proxy.url, device, batch_records=2, max_attempts=1
        ) as client:
            report = client.push()
    finally:
        proxy.close()
    assert not report.ok  # the link died after the first batch
    held = central.db.records(device[0])
    assert [r["content"]["urgency"] for r in held] == ["emergency", "emergency"]
    assert store.outbox_counts()["sent"] == 2


class FakeServer:
    """A fake HTTP server (the point of these tests): a captive portal, a rate
    limiter, whatever `answer` returns for every batch; its health check
    passes while `healthy`."""

    def __init__(self, answer: Callable[[], tuple[int, dict[str, str], bytes]]):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests += 1
                status, headers, body = answer()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - the health check
                body = b'{"api": "v1"}'
                self.send_response(200 if fake.healthy else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.requests = 0
        self.healthy = True
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "answer",
    [
        (200, {"Content-Type": "text/html"}, b"<html>Welcome to CafeNet</html>"),
        (200, {"Content-Type": "application/json"}, b'{"ok": true}'),
        (
            200,
            {"Content-Type": "application/json"},
            b'{"batch_id": "someone-else", "device": "x", "results": []}',
        ),
        (302, {"Location": "http://portal.example/login"}, b""),
        (200, {"Content-Encoding": "gzip"}, b"not gzip at all"),
    ],
    ids=["html", "json", "other-batch", "redirect", "broken-gzip"],
)
def test_a_captive_portal_200_is_not_an_acknowledgement(
    store: Store, answer: tuple[int, dict[str, str], bytes]
) -> None:
    fake = FakeServer(lambda: answer)
    sleeps = Sleeps()
    try:
        with client_for(
            store, fake.url, ("clinic-a", "1.x"), max_attempts=4, sleeps=sleeps
        ) as client:
            report = client.push()
    finally:
        fake.close()
    assert not report.ok and fake.requests == 4
    assert store.outbox_counts() == {"pending": 12, "sent": 0, "dead": 0}
    assert sync_status(store)["last_error"] == report.error
    attempts = {row.attempts for row in store.pending_outbox(limit=100)}
    assert attempts == {1}  # one failed run, counted on every row it carried


def test_429_and_503_wait_as_retry_after_says(store: Store) -> None:
    answers = iter(
        [
            (429, {"Retry-After": "7"}, b""),
            (503, {"Retry-After": "2"}, b""),
            (500, {}, b""),
        ]
    )
    fake = FakeServer(lambda: next(answers))
    sleeps = Sleeps()
    try:
        with client_for(
            store, fake.url, ("clinic-a", "1.x"), max_attempts=3, sleeps=sleeps,
            backoff_base_s=1.0, backoff_cap_s=30.0,
        ) as client:  # fmt: skip
            report = client.push()
    finally:
        fake.close()
    assert "HTTP 500" in (report.error or "")
    # Retry-After is a floor; the jitter here is fixed at 1 (the full bound).
    assert sleeps.waits == [7.0, 2.0]


def test_401_stops_at_once_and_sends_nothing(
    central: Central, device: tuple[str, str], store: Store
) -> None:
    with client_for(store, central.url, (device[0], "1.forged")) as client:
        report = client.push()
    assert report.requests == 1 and "token" in (report.error or "")
    assert store.outbox_counts()["pending"] == 12


def test_a_token_of_another_device_is_named_as_such(
    central: Central, device: tuple[str, str], store: Store
) -> None:
    with client_for(store, central.url, ("clinic-typo", device[1])) as client:
        report = client.push()
    assert report.requests == 1
    assert "token belongs to another device than [sync] device" in (report.error or "")
    assert store.outbox_counts()["pending"] == 12


def test_413_halves_the_batch_and_a_lone_giant_is_dead_lettered(
    tmp_path: Path, device_small: tuple[Central, str, str], store: Store
) -> None:
    central, name, token = device_small
    giant = store.add_document(file_name="huge.txt", sha256="f" * 64, size=1)
    noise = os.urandom(12_000).hex()  # random: gzip cannot shrink it enough
    store.record_triage(giant, result(0, summary=noise, urgency="emergency"))
    # The giant is a summary: an NGO that sends summaries meets it.
    with client_for(
        store, central.url, (name, token), batch_records=12, send_summary=True
    ) as client:
        report = client.push()
    assert report.ok, report.error
    assert report.acknowledged == 12 and report.dead == 1
    assert report.requests >= 5  # 12, 6, 3, 1: refused; then the rest
    (dead,) = store.dead_outbox()
    assert dead.document_id == giant and "too large" in dead.last_error
    # Once the server takes larger batches, the dead row can go after all.
    assert store.retry_dead_outbox() == 1
    with client_for(store, central.url, (name, token), batch_records=12,
                    batch_bytes=100, send_summary=True) as client:  # fmt: skip
        assert client.push().acknowledged == 0  # still too large: dead again
    assert len(store.dead_outbox()) == 1


@pytest.fixture
def device_small(tmp_path: Path) -> Iterator[tuple[Central, str, str]]:
    """A server that takes at most 3,000 bytes per request."""
    url = f"sqlite:///{tmp_path / 'small.db'}"
    from edgebox.sync.central.database import open_central

    db = open_central(url)
    process = CentralProcess(url, max_body_bytes=3000).start()
    try:
        central = Central(process.url, url, db, process)
        yield central, "clinic-small", central.add_device("clinic-small")
    finally:
        process.stop()
        db.close()


def test_invalid_records_are_dead_lettered_and_the_rest_flows(
    central: Central, device: tuple[str, str], store: Store
) -> None:
    # A row the server must refuse (an unknown kind), and one the client cannot
    # even read: written behind the store's back, because that is the point.
    store.db.execute(
        "INSERT INTO outbox (kind, document_id, revision, payload, state, priority,"
        " created_at) VALUES ('mystery', 1, 1, '{}', 'pending', 0, ?)",
        ["2026-11-29T05:00:00.000+00:00"],
    )
    store.db.execute(
        "INSERT INTO outbox (kind, document_id, revision, payload, state, priority,"
        " created_at) VALUES ('triage', 2, 9, '{\"c\": NaN}', 'pending', 0, ?)",
        ["2026-11-29T05:00:00.000+00:00"],
    )
    with client_for(store, central.url, device) as client:
        report = client.push()
    assert report.ok and report.acknowledged == 12 and report.dead == 2
    dead = sync_status(store)["dead"]
    assert [(d["kind"], d["document_id"]) for d in dead] == [
        ("mystery", 1),
        ("triage", 2),
    ]
    assert "rejected as invalid: kind" in dead[0]["reason"]
    assert "unreadable outbox payload" in dead[1]["reason"]


def test_a_conflicting_version_is_dead_lettered(
    central: Central, device: tuple[str, str], tmp_path: Path
) -> None:
    with Store(tmp_path / "first.db") as first:
        doc = first.add_document(file_name="a.txt", sha256="a" * 64, size=1)
        first.record_triage(doc, result(1))
        with client_for(first, central.url, device) as client:
            assert client.push().ok
    with Store(tmp_path / "second.db") as second:  # a box restored from scratch
        doc = second.add_document(file_name="b.txt", sha256="b" * 64, size=1)
        second.record_triage(doc, result(2))
        with client_for(second, central.url, device) as client:
            report = client.push()
        assert report.ok and report.dead == 1
        assert "conflict" in second.dead_outbox()[0].last_error
    (held,) = central.db.records(device[0])
    # The first version stays (the summary no longer leaves the box: compare
    # what does, the labels).
    assert (held["content"]["category"], held["content"]["urgency"]) == (
        result(1)["category"],
        result(1)["urgency"],
    )


def ingest_file(settings: Config, store: Store, name: str, data: bytes) -> int:
    """A document recorded as the drop folder records it: archived, then the
    inbox file removed."""
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    path = settings.inbox_dir / name
    path.write_bytes(data)
    outcome = Ingestor(settings, store).ingest(path)
    assert outcome.result == "recorded" and not path.exists()
    return outcome.doc_id


def test_raw_documents_go_after_the_results_and_resume(
    central: Central,
    device: tuple[str, str],
    edgebox_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uploads, "CHUNK_BYTES", 1000)
    settings = config.load()
    data = bytes(range(256)) * 20  # 5,120 bytes: 6 chunks
    digest = hashlib.sha256(data).hexdigest()
    with Store(settings.db_path) as store:
        doc = ingest_file(settings, store, "scan.pdf", data)
        store.record_triage(doc, result(3))
        # Another patient's scan dropped under the same name, not yet taken in:
        # it must never be sent as this document.
        (settings.inbox_dir / "scan.pdf").write_bytes(b"another patient")
        # An earlier run got the first 2,000 bytes through before the link died.
        url = f"{central.url}/v1/documents/{doc}"
        auth = {
            "Authorization": f"Bearer {device[1]}",
            "Content-Type": "application/octet-stream",  # as the client sends
        }
        for start in (0, 1000):
            where = {"sha256": digest, "size": len(data), "start": start}
            chunk = data[start : start + 1000]
            httpx.put(url, headers=auth, content=chunk, params=where)
        with client_for(store, central.url, device, send_documents=True) as client:
            report = client.push()
        assert report.ok and report.documents == 1
        assert report.requests == 1 + 1 + 4  # the batch, where to resume, 4 chunks
        assert central.db.document_bytes(device[0], doc) == data
        # Sent once: the next run asks for nothing.
        with client_for(store, central.url, device, send_documents=True) as client:
            again = client.push()
        assert again.ok and again.documents == 0


def test_a_document_triaged_late_is_still_sent_and_a_missing_one_named(
    central: Central, device: tuple[str, str], edgebox_home: Path
) -> None:
    settings = config.load()
    with Store(settings.db_path) as store:
        early = ingest_file(settings, store, "early.txt", b"first patient")
        late = ingest_file(settings, store, "late.txt", b"second patient")
        lost = ingest_file(settings, store, "lost.txt", b"third patient")
        store.record_triage(late, result(1))
        with client_for(store, central.url, device, send_documents=True) as client:
            assert client.push().documents == 1
        # The lower id reaches "triaged" after a higher one was sent (a retry).
        store.record_triage(early, result(2))
        store.record_triage(lost, result(3))
        Path(store.document(lost)["archive_path"]).unlink()  # a damaged disk
        with client_for(store, central.url, device, send_documents=True) as client:
            report = client.push()
        status = sync_status(store)
    assert report.ok and report.documents == 1  # the link is fine: no backoff
    assert report.problems == [f"document {lost}: its archived original is missing"]
    assert status["document_problems"] == report.problems[0]
    assert central.db.document_bytes(device[0], early) == b"first patient"
    assert central.db.document_bytes(device[0], late) == b"second patient"


def test_documents_stay_home_unless_the_settings_say(
    central: Central, device: tuple[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "scan.txt"
    source.write_bytes(b"patient text")
    with Store(tmp_path / "edgebox.db") as store:
        doc = store.add_document(
            file_name="scan.txt", sha256="c" * 64, size=12, source_path=str(source)
        )
        store.record_triage(doc, result(1))
        assert store.document(doc)["state"] == DocState.TRIAGED
        with client_for(store, central.url, device) as client:
            report = client.push()
    assert report.ok and report.documents == 0 and report.requests == 1
    assert central.db.document(int(device[1].split(".")[0]), doc) is None


def test_the_loop_pushes_as_soon_as_the_link_comes_back(
    tmp_path: Path, edgebox_home: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    from edgebox.sync.central.database import open_central

    central_db = open_central(db_url)
    _, token = central_db.register_device("clinic-loop", lambda i: f"{i}.secret-loop")
    port = free_port()
    settings = Config(
        home=edgebox_home,
        source=None,
        sync=sync_settings(f"http://127.0.0.1:{port}", "clinic-loop", token,
                           interval_s=3600.0),
    )  # fmt: skip
    fill_store(settings.db_path, 3)
    reports: list[Any] = []
    # A short cap: a server slow to start under load must not meet a probe
    # already backed off past the test's patience.
    loop = SyncLoop(settings, on_report=reports.append, probe_base_s=0.05,
                    probe_cap_s=0.5, max_attempts=1)  # fmt: skip
    worker = threading.Thread(target=loop.run, daemon=True)
    worker.start()
    server = CentralProcess(db_url, port=port)
    try:
        wait_for(lambda: len(reports) >= 1, timeout_s=30)  # the first try fails
        assert not reports[0].ok
        server.start()
        # The interval is an hour: only a successful probe can explain a push.
        # Waited for on the box's side: the server holds the records a moment
        # before the box has its answer, and a stop then cuts the push short.
        wait_for(lambda: reports[-1].ok, timeout_s=30)
        assert len(central_db.records("clinic-loop")) == 3
    finally:
        loop.stop()
        worker.join(timeout=30)
        server.stop()
        central_db.close()
    assert not worker.is_alive()


def wait_for(condition: Callable[[], bool], *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout_s}s")


def test_stopping_the_loop_cuts_a_retry_after_wait_short(
    tmp_path: Path, edgebox_home: Path
) -> None:
    """A server asking for a 10-minute pause must not hold the service's
    shutdown for 10 minutes (systemd kills it after 60 s)."""
    fake = FakeServer(lambda: (503, {"Retry-After": "600"}, b""))
    settings = Config(
        home=edgebox_home,
        source=None,
        sync=sync_settings(fake.url, "clinic-a", "1.x", interval_s=3600.0),
    )
    fill_store(settings.db_path, 3)
    reports: list[Any] = []
    loop = SyncLoop(settings, on_report=reports.append)
    worker = threading.Thread(target=loop.run, daemon=True)
    worker.start()
    try:
        wait_for(lambda: fake.requests >= 1, timeout_s=30)  # now in the 600 s wait
        loop.stop()
        worker.join(timeout=30)
        assert not worker.is_alive()
    finally:
        fake.close()
    (report,) = reports
    assert "stopping" in (report.error or "")
    with Store(settings.db_path) as store:
        assert store.outbox_counts()["pending"] == 3  # nothing lost, nothing sent


class PausesRecorded(SyncLoop):
    """The loop with its waits recorded instead of slept (a clock, the point of
    the test); it stops after `pauses` of them."""

    def __init__(
        self,
        *args: Any,
        pauses: int,
        meanwhile: Callable[[int], None] = lambda n: None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pauses: list[float] = []
        self.limit, self.meanwhile = pauses, meanwhile

    def _pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.meanwhile(len(self.pauses))
        if len(self.pauses) >= self.limit:
            self.stop()


def failing_every_batch(home: Path) -> tuple[FakeServer, Config]:
    """A server whose health check passes and which answers 503 to every
    batch, and a box with three results for it (interval 300 s)."""
    fake = FakeServer(lambda: (503, {}, b""))
    settings = Config(
        home=home,
        source=None,
        sync=sync_settings(fake.url, "clinic-a", "1.x", interval_s=300.0),
    )
    fill_store(settings.db_path, 3)
    return fake, settings


def test_a_server_that_answers_but_fails_every_batch_is_not_resent_all_day(
    edgebox_home: Path,
) -> None:
    """Its database disk is full: the health check passes, every batch gets a
    503. Sending the same batch after every probe cost ~200 MB a day."""
    fake, settings = failing_every_batch(edgebox_home)
    loop = PausesRecorded(settings, pauses=5, probe_base_s=0.05, max_attempts=1)
    try:
        loop.run()
    finally:
        fake.close()
    first, *troubled = loop.pauses
    assert first <= 0.05  # the first failure may be the link: probe soon
    assert fake.requests == 5  # one batch per pause, not one per probe
    # Then pushes back off from the interval, doubling (jitter: half to all).
    for n, pause in enumerate(troubled):
        assert 300 * 2**n / 2 <= pause <= 300 * 2**n


def test_after_server_trouble_a_lost_link_is_probed_on_the_short_schedule(
    edgebox_home: Path,
) -> None:
    fake, settings = failing_every_batch(edgebox_home)

    def link_lost_after_two_troubled_pushes(pauses: int) -> None:
        fake.healthy = pauses < 3

    loop = PausesRecorded(settings, pauses=6, probe_base_s=0.05, max_attempts=1,
                          meanwhile=link_lost_after_two_troubled_pushes)  # fmt: skip
    try:
        loop.run()
    finally:
        fake.close()
    troubled, probing = loop.pauses[1:3], loop.pauses[3:]
    assert all(pause >= 150 for pause in troubled)
    assert fake.requests == 3  # no push while the health check fails
    assert all(pause <= 0.05 * 2**n for n, pause in enumerate(probing, start=1))


def test_another_file_held_under_the_same_id_is_named_never_marked_sent(
    central: Central, device: tuple[str, str], tmp_path: Path
) -> None:
    """A box reinstalled under the same device name numbers its documents from
    1 again: the server's document 1 is the old box's file."""
    for box, data in (("old", b"old box's scan"), ("new", b"new box's scan")):
        settings = config.load(tmp_path / box)
        with Store(settings.db_path) as store:
            doc = ingest_file(settings, store, "scan.txt", data)
            store.record_triage(doc, result(1))
            with client_for(store, central.url, device, send_documents=True) as c:
                report = c.push()
            uploads_left = len(store.documents_to_upload())
    assert report.documents == 0 and uploads_left == 1
    (problem,) = report.problems
    assert "holds another file under this id" in problem
    assert central.db.document_bytes(device[0], doc) == b"old box's scan"
