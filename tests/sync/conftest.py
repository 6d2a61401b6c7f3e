"""The sync folder: the box's sync client, the central server and its API,
the NGO's web console, over real uvicorn servers on 127.0.0.1 against SQLite
and, when EDGEBOX_TEST_POSTGRES_URL is set, PostgreSQL.

`central_db_url` and `shared_central` are parametrized over both databases;
`central` is a fresh server per test, `shared_central` one per module (tests
keep apart by device name). Plain helpers are in tests/support/central.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import browser_or_skip, headless_chromium
from tests.support.central import BACKENDS, Central, database_url, running_central
from tests.support.records import fill_store


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


@pytest.fixture(scope="session")
def big_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10,000 results, built once; tests copy the file."""
    return fill_store(tmp_path_factory.mktemp("big") / "edgebox.db", 10_000)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """Headless chromium for the console's browser tests (skips, or fails
    in CI, where chromium is missing)."""
    browser_or_skip()
    with headless_chromium(tmp_path) as driver:
        yield driver
