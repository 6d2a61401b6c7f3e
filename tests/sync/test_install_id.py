"""A per-install identity, made at `init` and sent with every batch, so that
the centre tells a reinstalled box under an old device name from a replay."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edgebox.config import load
from edgebox.store import Store
from edgebox.sync.client import SyncClient
from tests.support.central import Central, device_name, sync_settings
from tests.support.processes import run_cli
from tests.support.records import fill_store, result


def test_init_makes_an_identity_that_a_restore_keeps(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert run_cli("init", str(first)).returncode == 0
    assert run_cli("init", str(second)).returncode == 0
    with Store(load(first).db_path) as a, Store(load(second).db_path) as b:
        made = a.install_id()
        assert re.fullmatch(r"[0-9a-f]{32}", made)
        assert b.install_id() != made  # a new install, a new identity
    assert run_cli("init", str(first), "--force").returncode == 0
    assert run_cli("--home", str(first), "backup", str(tmp_path / "bk")).returncode == 0
    (folder,) = (tmp_path / "bk").iterdir()
    assert (
        run_cli("--home", str(tmp_path / "c"), "restore", str(folder)).returncode == 0
    )
    with Store(load(first).db_path) as a, Store(load(tmp_path / "c").db_path) as c:
        assert a.install_id() == c.install_id() == made


@pytest.fixture
def central(shared_central: Central) -> Central:
    return shared_central


def _push(store: Store, central: Central, name: str, token: str) -> None:
    with SyncClient(store, sync_settings(central.url, name, token)) as client:
        assert client.push().error is None


def _device(central: Central, name: str) -> dict:
    return next(d for d in central.db.devices() if d["name"] == name)


def test_a_replay_is_no_reinstall_and_a_new_install_is_counted(
    central: Central, tmp_path: Path
) -> None:
    name = device_name()
    token = central.add_device(name)
    with Store(fill_store(tmp_path / "old.db", 3)) as old:
        _push(old, central, name, token)
        old.db.execute("UPDATE outbox SET state = 'pending'")  # a replay
        old.db.conn.commit()
        _push(old, central, name, token)
        first = old.install_id()
    held = _device(central, name)
    assert (held["install_id"], held["reinstalls"], held["conflicts"]) == (first, 0, 0)
    with Store(tmp_path / "new.db") as new:  # the disk died: a fresh install
        for n in range(3):
            doc = new.add_document(file_name=f"n{n}", sha256=f"{n + 7:064x}", size=1)
            new.record_triage(doc, result(n, summary=f"Another letter {n}."))
        _push(new, central, name, token)
        second = new.install_id()
    held = _device(central, name)
    assert (held["install_id"], held["reinstalls"], held["conflicts"]) == (second, 1, 3)
    installs = {r["install_id"] for r in central.db.records(name)}
    assert installs == {first}  # the old install's records stay as they were
