"""Bundles without a server: the key, the file format, the box's overlay and
the CLI on both sides (real keys, real files, a real SQLite central)."""

from __future__ import annotations

import io
import json
import stat
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgebox import config
from edgebox.cli.commands import cli
from edgebox.errors import BundleError
from edgebox.service import bundles
from edgebox.service.bundle_format import load_private, new_key, pack, verify
from edgebox.store import Store
from edgebox.sync.central.bundle_build import BundleSources, create_bundle
from edgebox.sync.central.bundle_store import BundleDB
from edgebox.sync.central.database import open_central

TAXONOMY = """[categories]
referral = "A letter sending a patient on"
lab_result = "Test results"
"""


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "ngo.key"
    return path, new_key(path)


def test_keygen_writes_a_private_file_and_prints_the_public_key_last(
    tmp_path: Path,
) -> None:
    out = tmp_path / "ngo.key"
    result = CliRunner().invoke(cli, ["central", "keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("ed25519:") and len(last) == len("ed25519:") + 44
    again = CliRunner().invoke(cli, ["central", "keygen", "--out", str(out)])
    assert "never overwritten" in str(again.exception)


def _archive(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "bundle.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_unsigned_bundle_is_refused(tmp_path: Path, key: tuple[Path, str]) -> None:
    path = _archive(tmp_path, {"manifest.json": b"{}", "rules.toml": b""})
    with pytest.raises(BundleError, match="unsigned bundle"):
        verify(path, [key[1]])


def test_a_bundle_with_a_path_outside_its_names_is_refused(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    content, _ = pack({"rules.toml": b"x"}, {"version": 1}, load_private(key[0]))
    with tarfile.open(fileobj=io.BytesIO(content)) as tar:
        members = {
            i.name: tar.extractfile(i).read()  # type: ignore[union-attr]
            for i in tar
        }
    path = _archive(tmp_path, members | {"../../etc/cron.d/x": b"boom"})
    with pytest.raises(
        BundleError, match="holds '../../etc/cron.d/x', which this edgebox cannot use"
    ):
        verify(path, [key[1]])


def test_a_bundle_of_a_newer_format_is_refused_saying_so(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    manifest = json.dumps({"format": 2, "version": 5, "files": {}}).encode()
    signature = load_private(key[0]).sign(manifest)
    path = _archive(tmp_path, {"manifest.json": manifest, "manifest.sig": signature})
    with pytest.raises(BundleError, match=r"format 2: this edgebox reads format 1"):
        verify(path, [key[1]])


def test_a_cut_bundle_file_is_named_damaged(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    content, _ = pack({"rules.toml": b"x" * 5000}, {"version": 1}, load_private(key[0]))
    path = tmp_path / "cut.tar"
    path.write_bytes(content[:3000])
    with pytest.raises(BundleError, match="damaged or incomplete"):
        verify(path, [key[1]])


def _central(tmp_path: Path) -> BundleDB:
    return BundleDB(open_central(str(tmp_path / "central.db")))


def test_create_refuses_a_setting_no_box_may_take_naming_it(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[triage]\nrules = "/etc/passwd"\n')
    with pytest.raises(BundleError, match=r"sets \[triage\] rules, not allowed"):
        create_bundle(_central(tmp_path), key[0], BundleSources(settings=settings))
    settings.write_text("[triage]\nreview_cut = 3\n")
    with pytest.raises(BundleError, match="review_cut is out of range"):
        create_bundle(_central(tmp_path), key[0], BundleSources(settings=settings))


def test_create_refuses_rules_that_do_not_load(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\nsign = 'x'\n")
    with pytest.raises(BundleError, match="red-flag rules do not load"):
        create_bundle(_central(tmp_path), key[0], BundleSources(rules=rules))


def _installed_box(
    tmp_path: Path, key: tuple[Path, str], sources: BundleSources
) -> config.Config:
    """A box home with the bundle made from `sources` installed."""
    db = _central(tmp_path)
    version = create_bundle(db, key[0], sources)
    row = db.central._query("SELECT content FROM bundles WHERE version = ?", [version])[
        0
    ]
    archive = tmp_path / "got.tar"
    archive.write_bytes(bytes(row["content"]))
    home = tmp_path / "box"
    (home / "data").mkdir(parents=True)
    (home / "edgebox.toml").write_text(
        f'[sync]\nbundle_public_key = "{key[1]}"\n[triage]\nreview_cut = 0.9\n'
    )
    settings = config.load(home)
    Store(settings.db_path).close()
    bundles.install(settings.data_dir, archive, pinned=key[1], texts=[])
    return settings


def test_the_bundle_lays_its_taxonomy_and_settings_over_the_box_but_not_env(
    tmp_path: Path, key: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    taxonomy = tmp_path / "taxonomy.toml"
    taxonomy.write_text(TAXONOMY)
    settings = tmp_path / "settings.toml"
    settings.write_text("[triage]\nreview_cut = 0.7\nmin_examples = 12\n")
    box = _installed_box(
        tmp_path, key, BundleSources(taxonomy=taxonomy, settings=settings)
    )
    used = bundles.applied(box)
    assert list(used.categories) == ["referral", "lab_result"]
    assert (used.triage.review_cut, used.triage.min_examples) == (0.7, 12)
    monkeypatch.setenv("EDGEBOX_TRIAGE_REVIEW_CUT", "0.85")
    used = bundles.applied(config.load(box.home))
    assert (used.triage.review_cut, used.triage.min_examples) == (0.85, 12)


def test_the_box_cli_shows_the_bundle_and_rolls_it_back(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_bytes(b'version = "ngo-1"\n')
    box = _installed_box(tmp_path, key, BundleSources(rules=rules))
    home = ["--home", str(box.home)]
    shown = CliRunner().invoke(cli, [*home, "bundle", "status"])
    assert shown.exit_code == 0, shown.output
    assert "bundle      1" in shown.output and "rules.toml" in shown.output
    status = CliRunner().invoke(cli, [*home, "status"])
    assert status.exit_code == 0, status.output
    assert "bundle      1" in status.output
    back = CliRunner().invoke(cli, [*home, "bundle", "rollback"])
    assert back.exit_code == 0, back.output
    assert "now on bundle none" in back.output
    assert bundles.current_dir(box.data_dir) is None
    assert bundles.status(box.data_dir)["held_from"] == 1
    with Store(box.db_path) as store:
        assert store.sync_state()["bundle_version"] == "0"
    again = CliRunner().invoke(cli, [*home, "bundle", "rollback"])
    assert "nothing to roll back" in str(again.exception)


def test_central_bundle_commands_create_show_and_approve(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    db = str(tmp_path / "central.db")
    rules = tmp_path / "rules.toml"
    rules.write_bytes(b'version = "ngo-1"\n')
    run = CliRunner().invoke
    made = run(
        cli,
        ["central", "bundle", "create", "--db", db, "--key", str(key[0]),
         "--rules", str(rules), "--group", "pilot"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "bundle 1 created" in made.output
    listed = run(cli, ["central", "bundle", "list", "--db", db])
    assert "group pilot" in listed.output and "not approved" in listed.output
    shown = run(cli, ["central", "bundle", "show", "1", "--db", db])
    assert "file     rules.toml" in shown.output
    refused = run(cli, ["central", "bundle", "approve", "1", "--db", db], input="n\n")
    assert refused.exit_code != 0
    assert BundleDB(open_central(db)).bundle(1)["approved_at"] is None
    approved = run(
        cli, ["central", "bundle", "approve", "1", "--db", db, "--by", "ana"],
        input="y\n",
    )  # fmt: skip
    assert approved.exit_code == 0, approved.output
    assert BundleDB(open_central(db)).bundle(1)["approved_by"] == "ana"


def test_a_malformed_pinned_key_is_a_notice(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEBOX_SYNC_BUNDLE_PUBLIC_KEY", "ed25519:short")
    notices = config.load().notices
    assert any("EDGEBOX_SYNC_BUNDLE_PUBLIC_KEY" in n for n in notices)


def test_add_device_puts_the_box_in_a_group_and_central_status_shows_it(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "central.db")
    added = CliRunner().invoke(
        cli, ["central", "add-device", "clinic-a", "--db", db, "--group", "pilot"]
    )
    assert added.exit_code == 0, added.output
    shown = CliRunner().invoke(cli, ["central", "status", "--db", db])
    assert "bundle - (group pilot)" in shown.output


def test_the_heartbeat_names_a_bundle_only_when_the_box_runs_one(
    tmp_path: Path,
) -> None:
    from edgebox.sync.device_report import heartbeat

    with Store(tmp_path / "edgebox.db") as store:
        # A centre from before bundles refuses an unknown heartbeat field.
        assert "bundle_version" not in heartbeat(store, [], model_path=None)
        store.update_sync_state({"bundle_version": 3})
        assert heartbeat(store, [], model_path=None)["bundle_version"] == 3
