"""Test support for the sync tests: a real central server (SQLite or
PostgreSQL) in a subprocess, a fresh database for it, and the box's sync
settings that point at it. Everything is real: uvicorn on 127.0.0.1, SQLite
files, PostgreSQL when one is configured."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

import pytest

from edgebox.config import SyncConfig
from edgebox.sync.central.auth import new_token
from edgebox.sync.central.database import CentralDB, open_central
from tests.support.loopback import CentralProcess

# Read at import: the autouse fixture in conftest clears EDGEBOX_* for each test.
POSTGRES_URL = os.environ.get("EDGEBOX_TEST_POSTGRES_URL", "")
# CI sets this: there, a missing PostgreSQL is a failure, not a skip.
POSTGRES_REQUIRED = os.environ.get("EDGEBOX_TEST_POSTGRES_REQUIRED") == "1"
BACKENDS = ["sqlite", "postgresql"]


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


def device_name() -> str:
    return f"clinic-{secrets.token_hex(4)}"
