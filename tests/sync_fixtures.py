"""Test support for the sync tests: a filled clinic store, a real central server
(SQLite or PostgreSQL) in a subprocess, and a fault-injecting TCP proxy.

The proxy is a fake on purpose: it is the fault injector. Everything else is
real: uvicorn on 127.0.0.1, SQLite files, PostgreSQL when one is configured.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

import pytest

from edgebox.config import SyncConfig
from edgebox.store import Store
from edgebox.sync.central.auth import new_token
from edgebox.sync.central.database import CentralDB, open_central
from tests.support.loopback import CentralProcess

# Read at import: the autouse fixture in conftest clears EDGEBOX_* for each test.
POSTGRES_URL = os.environ.get("EDGEBOX_TEST_POSTGRES_URL", "")
# CI sets this: there, a missing PostgreSQL is a failure, not a skip.
POSTGRES_REQUIRED = os.environ.get("EDGEBOX_TEST_POSTGRES_REQUIRED") == "1"
BACKENDS = ["sqlite", "postgresql"]

URGENCIES = ("routine", "urgent", "routine", "emergency", "routine")


def fill_store(path: Path, count: int) -> Path:
    """A clinic store with `count` AI results (every fifth an emergency), in
    one transaction so that it takes seconds, not minutes."""
    with Store(path) as store, store.atomic():
        for n in range(count):
            doc = store.add_document(
                file_name=f"doc{n}.txt", sha256=f"{n:064x}", size=100 + n
            )
            store.record_triage(doc, result(n))
    return path


def result(n: int, **changes: object) -> dict[str, object]:
    return {
        "category": "lab_result" if n % 2 else "referral",
        "urgency": URGENCIES[n % len(URGENCIES)],
        "summary": f"Synthetic result number {n}; malaria RDT positive, Hb 9.1.",
        "red_flags": [{"sign": "fever", "source": "rules"}] if n % 3 == 0 else [],
        "fields": {"patient_ref": f"P-{n:05d}", "age": 20 + n % 60, "sex": "F"},
        "language": "en",
        "confidence": None,
        "needs_review": n % 4 == 0,
        "sources": {"category": "llm", "urgency": "rules"},
        "provenance": {
            "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
            "model_sha256": "ab" * 32,
            "prompt_version": "p3",
            "rules_version": "r2",
        },
        **changes,
    }


def sync_settings(url: str, device: str, token: str, **changes: object) -> SyncConfig:
    values: dict[str, object] = {
        "url": url,
        "device": device,
        "token": token,
        "timeout_s": 5.0,
    }
    return SyncConfig(**(values | changes))  # type: ignore[arg-type]


@dataclass
class Central:
    """A running central server and a direct handle on its database."""

    url: str
    db_url: str
    db: CentralDB
    process: CentralProcess

    def add_device(self, name: str) -> str:
        return self.db.register_device(name, new_token)[1]


@contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty central database: a SQLite file, or a PostgreSQL schema
    of its own (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'central.db'}"
        return
    if not POSTGRES_URL:
        _skip(
            "PostgreSQL tests need EDGEBOX_TEST_POSTGRES_URL (a database this user"
            " may create schemas in); .ci/run sets it up"
        )
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        _skip(f"PostgreSQL at EDGEBOX_TEST_POSTGRES_URL is not reachable: {exc}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _skip(reason: str) -> NoReturn:
    if POSTGRES_REQUIRED:
        pytest.fail(f"{reason} (and EDGEBOX_TEST_POSTGRES_REQUIRED=1)")
    pytest.skip(reason)


@contextmanager
def running_central(db_url: str, folder: Path) -> Iterator[Central]:
    """A real central server (uvicorn subprocess) on 127.0.0.1."""
    db = open_central(db_url)
    try:
        process = CentralProcess(db_url, log=folder / "central.log").start()
        try:
            yield Central(process.url, db_url, db, process)
        finally:
            process.stop()
    finally:
        db.close()


@pytest.fixture(params=BACKENDS)
def central_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def central(central_db_url: str, tmp_path: Path) -> Iterator[Central]:
    """A fresh database and server for one test."""
    with running_central(central_db_url, tmp_path) as server:
        yield server


@pytest.fixture(scope="module", params=BACKENDS)
def shared_central(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Central]:
    """One server per module and backend; tests keep apart by device name."""
    folder = tmp_path_factory.mktemp("central")
    with database_url(request.param, folder) as url, running_central(url, folder) as c:
        yield c


def device_name() -> str:
    return f"clinic-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def big_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10,000 results, built once; tests copy the file."""
    return fill_store(tmp_path_factory.mktemp("big") / "edgebox.db", 10_000)


def copy_store(template: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return target


class FaultProxy:
    """A TCP proxy on 127.0.0.1 that refuses some connections, cuts others
    part-way in either direction, and stalls some answers (seeded, so a run can
    be replayed).

    `on_post(n)` is called when the n-th `POST /v1/batches` passes through,
    after its first bytes went upstream: the place to kill the server
    mid-batch. Past `max_posts` posts, the link goes dead (nothing passes).
    `script` fixes the plans of the first connections, so that each fault
    surely happens; the rest are drawn at random.
    """

    def __init__(
        self,
        upstream_port: int,
        *,
        seed: int,
        refuse: float = 0.1,
        cut_request: float = 0.15,
        cut_response: float = 0.15,
        stall: float = 0.0,
        on_post: Callable[[int], None] | None = None,
        max_posts: int | None = None,
        script: tuple[str, ...] = (),
    ) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.odds = (refuse, cut_request, cut_response, stall)
        self.on_post = on_post
        self.max_posts = max_posts
        self.script = list(script)
        self.posts = 0
        self.faults: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.enabled = True
        self._spawn(self._accept_loop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.listener.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, client)

    def _plan(self) -> tuple[str, int]:
        with self._lock:
            roll = self.rng.random() if self.enabled else 1.0
            plan = self.script.pop(0) if self.script else "pass"
            for name, odds in zip(_PLANS, self.odds, strict=True):
                if plan != "pass":
                    break
                if roll < odds:
                    plan = name
                    break
                roll -= odds
            self.faults[plan] += 1
            return plan, self.rng.randint(1, 40_000)

    def _serve(self, client: socket.socket) -> None:
        plan, at = self._plan()
        if plan == "refuse":
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 5)
        except OSError:  # the server is down (killed, restarting)
            client.close()
            return
        pair = (client, upstream)
        for sock in pair:
            sock.settimeout(0.5)
        # Even a good connection does not last: it is cut after a few batches.
        up_cut = at if plan == "cut_request" else at * 15
        down_cut = {"cut_response": at % 2_000, "stall": -1}.get(plan)
        self._spawn(self._pump, client, upstream, up_cut, pair, True)
        self._pump(upstream, client, down_cut, pair, False)

    def _pump(
        self,
        source: socket.socket,
        sink: socket.socket,
        cut_at: int | None,
        pair: tuple[socket.socket, socket.socket],
        upward: bool,
    ) -> None:
        moved = 0
        try:
            while not self._stop.is_set():
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                if upward and b"POST /v1/batches" in data and not self._count_post():
                    break
                if cut_at == -1:
                    continue  # stalled: the answer never arrives (a timeout)
                if cut_at is not None and moved + len(data) >= cut_at:
                    sink.sendall(data[: max(0, cut_at - moved)])
                    break
                sink.sendall(data)
                moved += len(data)
        except OSError:
            pass
        finally:
            for sock in pair:
                _close(sock)

    def _count_post(self) -> bool:
        """Count a batch going up; False when the link should drop it."""
        with self._lock:
            self.posts += 1
            number = self.posts
        if self.max_posts is not None and number > self.max_posts:
            return False
        if self.on_post is not None:
            self._spawn(self.on_post, number)
        return True


_PLANS = ("refuse", "cut_request", "cut_response", "stall")


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
