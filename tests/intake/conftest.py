"""The intake folder: files into the box (reading every kind of file, the
inbox, its links and failed reads, the watching service, one pipeline pass).

The settings here have an inbox folder ready, and the store is the real
SQLite file those settings name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebox import config
from edgebox.store import Store


@pytest.fixture
def settings(edgebox_home: Path) -> config.Config:
    """The default configuration under this test's home, its inbox made."""
    loaded = config.load()
    loaded.inbox_dir.mkdir(parents=True)
    return loaded


@pytest.fixture
def store(settings: config.Config) -> Iterator[Store]:
    with Store(settings.db_path) as opened:
        yield opened
