"""Console benchmarks: page time against a bare SQL query for the same rows.

N triage records from 50 clinics are bulk-inserted straight into a central
database (not over HTTP), indexed for the console once (timed on its own),
then a real server on 127.0.0.1 serves the emergencies page (7 days) and one
clinic's page to a signed-in client. Each page's p50/p95 (the whole request on
loopback) is set against the bare query that returns the same rows, run on
the same database in the same run (for the emergencies, the plain single
statement with `urgency IN (...)`, where the page merges one index range per
urgency, so its ratio can be below 1). SQLite always; PostgreSQL too when
EDGEBOX_TEST_POSTGRES_URL is set (in a schema of its own, dropped after).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from edgebox.sync.central.auth import new_token
from edgebox.sync.central.console.security import hash_password
from edgebox.sync.central.console_db import LIST_COLUMNS, ConsoleDB
from edgebox.sync.central.database import open_central
from tests.support.loopback import CentralProcess

CLINICS = 50
PAGE_ROWS = 51  # a page of 50 and one more to know there is a next page
_URGENCIES = ("routine", "urgent", "emergency")


def console_pages(*, results: int, rounds: int = 30) -> list[dict[str, Any]]:
    """One figure per backend (SQLite, and PostgreSQL when configured)."""
    figures = []
    backends = ["sqlite"] + (["postgresql"] if os.environ.get(_PG) else [])
    for backend in backends:
        with _database(backend) as url:
            figures.append(_measure(backend, url, results, rounds))
    return figures


_PG = "EDGEBOX_TEST_POSTGRES_URL"


@contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'central.db'}"
        return
    import secrets
    from urllib.parse import quote

    import psycopg

    base = os.environ[_PG]
    schema = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _measure(backend: str, url: str, results: int, rounds: int) -> dict[str, Any]:
    central = open_central(url)
    try:
        console = ConsoleDB(central)
        _bulk_load(central, results)
        started = time.perf_counter()
        console.catch_up()
        index_s = time.perf_counter() - started
        console.add_user("bench", "viewer", hash_password("bench-password"))
        since = (datetime.now(UTC) - timedelta(days=7)).isoformat()
        pages = {
            "emergencies": (
                "/console/emergencies?window=7d",
                "c.urgency IN (?, ?) AND c.received_at >= ?",
                ["emergency", "urgent", since],
            ),
            "clinic": (
                "/console/clinics/clinic-007",
                "c.device_id = (SELECT id FROM devices WHERE name = ?)",
                ["clinic-007"],
            ),
        }
        figure: dict[str, Any] = {
            "figure": f"console pages ({backend}, {results} results,"
            f" {CLINICS} clinics)",
            "console_index_s": round(index_s, 2),
        }
        with CentralProcess(url) as server, _signed_in(server.url) as client:
            for name, (path, where, params) in pages.items():
                page = _timed(lambda p=path: _get(client, p), rounds)
                bare = _timed(lambda w=where, a=params: _bare(console, w, a), rounds)
                figure |= _stats(name, page, bare)
        return figure
    finally:
        central.close()


def _bulk_load(central: Any, results: int) -> None:
    """Devices and records straight into the tables, in one transaction."""
    rng = random.Random(7)
    ids = [central.register_device(f"clinic-{n:03d}", new_token)[0] for n in range(50)]
    now = datetime.now(UTC)
    rows = []
    for n in range(results):
        stamp = now - timedelta(seconds=rng.uniform(0, 14 * 86400))
        urgency = rng.choices(_URGENCIES, (6, 3, 1))[0]
        content = {
            "author": "ai", "category": rng.choice(("referral", "lab_result")),
            "urgency": urgency, "summary": f"Synthetic result {n}: fever 39.1 C.",
            "red_flags": [], "fields": {},
        }  # fmt: skip
        created = stamp.isoformat(timespec="milliseconds")
        received = (stamp + timedelta(seconds=5)).isoformat(timespec="milliseconds")
        rows.append(
            (ids[n % CLINICS], "triage", n + 1, 1, created, received, "bulk", "0" * 64,
             json.dumps(content))
        )  # fmt: skip
    sql = central._sql(
        "INSERT INTO records (device_id, kind, document_id, revision, created_at,"
        " received_at, batch_key, content_sha256, content)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    with central._tx() as conn:
        conn.cursor().executemany(sql, rows)


@contextmanager
def _signed_in(url: str) -> Iterator[httpx.Client]:
    import re

    with httpx.Client(base_url=url, timeout=120) as client:
        form = client.get("/console/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        answer = client.post(
            "/console/login",
            data={"csrf_token": csrf.group(1), "name": "bench",
                  "password": "bench-password"},
        )  # fmt: skip
        assert answer.status_code == 303, answer.text
        yield client


def _get(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200 and "<table" in answer.text, answer.status_code


def _bare(console: ConsoleDB, where: str, params: list[Any]) -> None:
    """The page's rows from the same tables, with nothing around them."""
    rows = console._query(
        f"SELECT {LIST_COLUMNS} FROM console_documents c JOIN devices d"
        f" ON d.id = c.device_id WHERE {where}"
        " ORDER BY c.received_at DESC, c.device_id DESC, c.document_id DESC"
        " LIMIT ?",
        [*params, PAGE_ROWS],
    )
    assert len(rows) == PAGE_ROWS


def _timed(action: Callable[[], None], rounds: int) -> list[float]:
    action()  # warm: connections, caches, the first catch-up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def _stats(name: str, page: list[float], bare: list[float]) -> dict[str, Any]:
    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    page_p50, bare_p50 = statistics.median(page), statistics.median(bare)
    return {
        f"{name}_page_p50_ms": round(page_p50 * 1000, 3),
        f"{name}_page_p95_ms": round(p95(page) * 1000, 3),
        f"{name}_bare_sql_p50_ms": round(bare_p50 * 1000, 3),
        f"{name}_bare_sql_p95_ms": round(p95(bare) * 1000, 3),
        f"ratio_{name}_page_to_bare_p50": round(page_p50 / bare_p50, 2),
    }
