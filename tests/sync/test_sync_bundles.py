"""Bundles from the centre to real boxes: a real central server on 127.0.0.1
(SQLite and PostgreSQL), real stores in separate homes, real signatures and
real learned models. The only fake is `CutStreamServer`, the fault injector
that cuts a download part-way."""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgebox.clinical.redflags import load_rules
from edgebox.config import Config
from edgebox.learn.classifiers import load, model_path, save, train
from edgebox.service import bundles
from edgebox.service.bundle_format import new_key, sha256
from edgebox.store import Store
from edgebox.sync.bundle_fetch import fetch_bundle
from edgebox.sync.central.bundle_build import BundleSources, create_bundle
from edgebox.sync.central.bundle_store import BundleDB
from edgebox.sync.client import SyncClient
from edgebox.sync.loop import push_once
from edgebox.sync.payload import BUNDLES_PATH
from tests.support.central import Central, device_name, sync_settings
from tests.support.console import add_user, csrf_of, signed_in
from tests.support.loopback import free_port
from tests.support.paths import DATA

# `central` (tests/sync/conftest.py) is a fresh database and server per test:
# bundle versions are global, so these tests never share one.


RULES = b"""version = "ngo-2027.01"

[[rule]]
sign = "zebra fever"
level = "emergency"
patterns = ['\\bzebra fever\\b']
"""


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A candidate models directory as `edgebox central train` writes it,
    trained here on the test data."""
    folder = tmp_path_factory.mktemp("candidate")
    for task in ("category", "urgency"):
        rows = [json.loads(line) for line in (DATA / f"{task}_train.jsonl").open()]
        model = train(task, [r["text"] for r in rows], [r[task] for r in rows])
        save(model, folder)
    (folder / "report.json").write_text(json.dumps({"urgency_macro_f1": 0.61}))
    return folder


@pytest.fixture
def ngo_key(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "keys" / "ngo.key"
    path.parent.mkdir()
    return path, new_key(path)


class Box:
    """A clinic box in a home of its own, registered with the centre."""

    def __init__(self, home: Path, central: Central, public_key: str) -> None:
        self.name = device_name()
        token = central.add_device(self.name)
        self.config = Config(
            home=home,
            source=None,
            sync=sync_settings(
                central.url, self.name, token, bundle_public_key=public_key
            ),
        )
        self.config.data_dir.mkdir(parents=True)
        Store(self.config.db_path).close()

    def sync(self) -> str | None:
        report = push_once(self.config, max_attempts=1)
        assert report.ok, report.error
        return report.bundle

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    def running(self) -> int:
        return bundles.version_of(bundles.current_dir(self.data_dir))


def publish(central: Central, key: Path, *, approve: bool = True, **given: Any) -> int:
    db = BundleDB(central.db)
    version = create_bundle(db, key, BundleSources(**given))
    if approve:
        db.approve(version, "test")
    return version


def rules_file(tmp_path: Path, text: bytes = RULES) -> Path:
    path = tmp_path / "ngo-redflags.toml"
    path.write_bytes(text)
    return path


def test_a_new_box_fetches_the_approved_bundle_and_triages_with_it(
    central: Central, ngo_key: tuple[Path, str], models_dir: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("[triage]\nreview_cut = 0.7\n")
    publish(
        central, ngo_key[0], models=models_dir, rules=rules_file(tmp_path),
        settings=settings,
    )  # fmt: skip
    box = Box(tmp_path / "box", central, ngo_key[1])

    assert box.sync() == "switched to bundle 1"

    current = bundles.current_dir(box.data_dir)
    assert current is not None and current.name == "v1"
    assert model_path(current, "urgency").is_file()
    urgency = load(current, "urgency")
    assert urgency is not None and urgency.n_examples == 36
    used = bundles.applied(box.config)
    assert used.triage.review_cut == 0.7
    assert used.bundle_version == 1  # each result names it (drift per version)
    assert box.config.bundle_version == 0
    findings = load_rules(used.rules_path).findings("a child with zebra fever")
    assert [f.sign for f in findings] == ["zebra fever"]
    # Nothing new: one small request, nothing changes.
    assert box.sync() is None
    assert box.running() == 1


def test_the_heartbeat_tells_the_centre_which_bundle_a_box_runs(
    central: Central, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    publish(central, ngo_key[0], rules=rules_file(tmp_path))
    box = Box(tmp_path / "box", central, ngo_key[1])
    box.sync()
    box.sync()  # the next heartbeat carries the switch
    [row] = [d for d in central.db.devices() if d["name"] == box.name]
    assert row["bundle_version"] == 1


def test_an_unapproved_bundle_is_not_served(
    central: Central, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    publish(central, ngo_key[0], rules=rules_file(tmp_path), approve=False)
    box = Box(tmp_path / "box", central, ngo_key[1])
    assert box.sync() is None
    assert bundles.current_dir(box.data_dir) is None


def test_a_bundle_for_another_group_reaches_only_that_group(
    central: Central, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    publish(central, ngo_key[0], rules=rules_file(tmp_path), group="pilot")
    box = Box(tmp_path / "box", central, ngo_key[1])
    assert box.sync() is None
    BundleDB(central.db).set_group(box.name, "pilot")
    assert box.sync() == "switched to bundle 1"


def _tampered(content: bytes) -> bytes:
    """The same signed manifest and signature, another rules file."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(content)) as source,
        tarfile.open(fileobj=out, mode="w") as target,
    ):
        for info in source:
            data = source.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "rules.toml":
                data = data.replace(b"emergency", b"routine\n  ")
                info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _serve_instead(central: Central, version: int, content: bytes) -> None:
    """The centre's row for `version` now holds `content` (its sha256 too, so
    the download itself checks out)."""
    with central.db._tx() as conn:  # type: ignore[attr-defined]
        central.db._run(  # type: ignore[attr-defined]
            conn,
            "UPDATE bundles SET content = ?, sha256 = ? WHERE version = ?",
            [content, sha256(content), version],
        )


def _content(central: Central, version: int) -> bytes:
    rows = central.db._query(  # type: ignore[attr-defined]
        "SELECT content FROM bundles WHERE version = ?", [version]
    )
    return bytes(rows[0]["content"])


def test_tampered_other_key_and_replayed_bundles_are_refused_and_the_box_keeps_its(
    central: Central, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    rules = rules_file(tmp_path)
    publish(central, ngo_key[0], rules=rules)
    box = Box(tmp_path / "box", central, ngo_key[1])
    assert box.sync() == "switched to bundle 1"

    publish(central, ngo_key[0], rules=rules)
    _serve_instead(central, 2, _tampered(_content(central, 2)))
    assert "bundle 2 refused: tampered bundle: rules.toml" in (box.sync() or "")
    assert box.running() == 1

    other = tmp_path / "keys" / "other.key"
    new_key(other)
    publish(central, other, rules=rules)
    said = box.sync() or ""
    assert "bundle 3 refused: bad signature" in said
    assert box.running() == 1

    publish(central, ngo_key[0], rules=rules)
    _serve_instead(central, 4, _content(central, 1))  # bundle 1 replayed as 4
    said = box.sync() or ""
    assert "is not newer than bundle 1" in said
    assert box.running() == 1
    assert bundles.status(box.data_dir)["refused"]["reason"] in said
    # A bundle refused for good is not downloaded again at each sync.
    assert box.sync() is None
    findings = load_rules(bundles.applied(box.config).rules_path).findings(
        "zebra fever"
    )
    assert [f.level for f in findings] == ["emergency"]


def test_a_bundle_with_models_for_another_scikit_learn_is_refused(
    central: Central, ngo_key: tuple[Path, str], models_dir: Path, tmp_path: Path
) -> None:
    publish(central, ngo_key[0], models=models_dir, sklearn_version="0.24.2")
    box = Box(tmp_path / "box", central, ngo_key[1])
    said = box.sync() or ""
    assert "bundle 1 refused: its models were built with scikit-learn 0.24.2" in said
    assert bundles.current_dir(box.data_dir) is None
    assert not (bundles.root(box.data_dir) / "v1").exists()


def test_rollback_holds_until_the_centre_publishes_a_newer_bundle(
    central: Central, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    rules = rules_file(tmp_path)
    publish(central, ngo_key[0], rules=rules)
    box = Box(tmp_path / "box", central, ngo_key[1])
    box.sync()
    publish(central, ngo_key[0], rules=rules)
    assert box.sync() == "switched to bundle 2"

    assert bundles.rollback(box.data_dir) == 1
    assert box.running() == 1
    assert box.sync() is None  # bundle 2 is not taken again
    assert box.running() == 1

    publish(central, ngo_key[0], rules=rules)
    assert box.sync() == "switched to bundle 3"
    assert bundles.status(box.data_dir)["held_from"] is None


def test_a_bundle_signed_by_the_old_key_can_hand_over_to_the_next_key(
    central: Central, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    rules = rules_file(tmp_path)
    next_file = tmp_path / "keys" / "next.key"
    next_public = new_key(next_file)
    publish(central, ngo_key[0], rules=rules, next_public_key=next_public)
    box = Box(tmp_path / "box", central, ngo_key[1])
    box.sync()
    publish(central, next_file, rules=rules)
    assert box.sync() == "switched to bundle 2"


class CutStreamServer:
    """Fault injector: answers the bundle request with the real headers and
    the first half of the real bundle, then closes the connection."""

    def __init__(self, content: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(content)))
                self.send_header("X-Bundle-Version", "2")
                self.send_header("X-Bundle-Sha256", sha256(content))
                self.end_headers()
                self.wfile.write(content[: len(content) // 2])
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cut_server() -> Iterator[list[CutStreamServer]]:
    made: list[CutStreamServer] = []
    yield made
    for server in made:
        server.close()


def test_a_download_cut_midway_keeps_the_bundle_and_fetches_again(
    central: Central,
    ngo_key: tuple[Path, str],
    tmp_path: Path,
    cut_server: list[CutStreamServer],
) -> None:
    rules = rules_file(tmp_path)
    publish(central, ngo_key[0], rules=rules)
    box = Box(tmp_path / "box", central, ngo_key[1])
    box.sync()
    publish(central, ngo_key[0], rules=rules)
    cut_server.append(CutStreamServer(_content(central, 2)))
    settings = box.config.sync
    cut = sync_settings(
        cut_server[0].url, settings.device, settings.token,
        bundle_public_key=settings.bundle_public_key,
    )  # fmt: skip
    with Store(box.config.db_path) as store, SyncClient(store, cut) as client:
        said = fetch_bundle(client, box.data_dir, settings.bundle_public_key)
    assert said is not None and "bundle download interrupted" in said
    assert box.running() == 1
    assert box.sync() == "switched to bundle 2"
    assert not (bundles.root(box.data_dir) / bundles.DOWNLOAD).exists()


def test_the_bundle_endpoint_wants_a_device_token(central: Central) -> None:
    answer = httpx.get(central.url + BUNDLES_PATH, params={"after": 0})
    assert answer.status_code == 401


def test_the_console_shows_the_report_and_only_an_admin_approves_with_csrf(
    central: Central, ngo_key: tuple[Path, str], models_dir: Path, tmp_path: Path
) -> None:
    publish(central, ngo_key[0], models=models_dir, approve=False)
    box = Box(tmp_path / "box", central, ngo_key[1])
    viewer = signed_in(central, add_user(central, "vera", "viewer"))
    assert viewer.get("/console/bundles").status_code == 403
    admin = signed_in(central, add_user(central, "ada", "admin"))
    page = admin.get("/console/bundles")
    assert "urgency_macro_f1" in page.text and "0.61" in page.text
    forged = admin.post("/console/bundles/1/approve", data={"csrf_token": "x"})
    assert forged.status_code == 403
    assert box.sync() is None
    done = admin.post(
        "/console/bundles/1/approve", data={"csrf_token": csrf_of(page.text)}
    )
    assert done.status_code == 303
    assert BundleDB(central.db).bundle(1)["approved_by"] == "ada"
    assert box.sync() == "switched to bundle 1"


def test_a_mistyped_pinned_key_refuses_nothing_for_good(
    central: Central, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    publish(central, ngo_key[0], rules=rules_file(tmp_path))
    box = Box(tmp_path / "box", central, ngo_key[1][:-4])
    said = box.sync() or ""
    assert "[sync] bundle_public_key is not an Ed25519 public key" in said
    assert bundles.status(box.data_dir)["refused"] is None
    fixed = dataclasses.replace(box.config.sync, bundle_public_key=ngo_key[1])
    box.config = dataclasses.replace(box.config, sync=fixed)
    assert box.sync() == "switched to bundle 1"
