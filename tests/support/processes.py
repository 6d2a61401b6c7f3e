"""Running the box's commands and scripts in real subprocesses, as a user would,
and waiting on what such processes do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.support.paths import REPO, SCRIPTS


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


def crossval(*args: str) -> subprocess.CompletedProcess:
    """Run scripts/crossval.py in a real subprocess."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "crossval.py"), *args],
        capture_output=True,
        text=True,
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


def sync_cli(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m edgebox.cli.sync ARGS`: the central server's own entry."""
    return subprocess.run(
        [sys.executable, "-m", "edgebox.cli.sync", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        cwd=REPO,
    )
