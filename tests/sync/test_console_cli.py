"""`edgebox central user add|list|disable` and `central revoke-device` as an
administrator runs them (subprocesses, a real SQLite central database)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from edgebox.sync.central.console_db import ConsoleDB
from edgebox.sync.central.database import open_central
from tests.support.loopback import CentralProcess
from tests.support.paths import REPO


def central_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edgebox.cli.sync", "central", *args],
        input=stdin, capture_output=True, text=True, env=os.environ.copy(),
        timeout=120, cwd=REPO,
    )  # fmt: skip


def test_users_are_added_listed_and_disabled_with_an_audit_trail(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "central.db")
    added = central_cli("user", "add", "amina", "--role", "admin", "--db", db,
                        stdin="a long password\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    again = central_cli("user", "add", "amina", "--role", "viewer", "--db", db,
                        stdin="a long password\n")  # fmt: skip
    assert again.returncode == 1 and "user 'amina' exists" in again.stderr
    short = central_cli("user", "add", "bo", "--role", "viewer", "--db", db,
                        stdin="short\n")  # fmt: skip
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    assert central_cli("user", "disable", "amina", "--db", db).returncode == 0
    listed = central_cli("user", "list", "--db", db).stdout.split()
    assert listed == ["amina", "admin", "disabled"]
    central = open_central(db)
    try:
        actions = [r["action"] for r in ConsoleDB(central).audit_log()]
    finally:
        central.close()
    assert actions == ["user_disable", "user_add"]


def test_a_revoked_device_gets_401_at_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    token = central_cli("add-device", "clinic-a", "--db", db).stdout.strip()
    batch = {"device": "clinic-a", "heartbeat": {"pending": 0}, "records": []}
    with CentralProcess(db, log=tmp_path / "central.log") as server:

        def push() -> int:
            return httpx.post(
                server.url + "/v1/batches", json=batch,
                headers={"Authorization": f"Bearer {token}",
                         "Idempotency-Key": "abcdefgh1234"},
            ).status_code  # fmt: skip

        assert push() == 200
        revoked = central_cli("revoke-device", "clinic-a", "--db", db)
        assert revoked.returncode == 0, revoked.stderr
        assert push() == 401
    missing = central_cli("revoke-device", "clinic-z", "--db", db)
    assert missing.returncode == 1 and "no device named 'clinic-z'" in missing.stderr
