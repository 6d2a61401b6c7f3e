"""The `edgebox` command in real subprocesses, with the real model and SQLite."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO
from tests.support.processes import as_unprivileged, run_cli
from tests.support.records import record

NOTE = "Intake note. 40-year-old woman, SpO2 80 %, convulsions this morning."
REQUIRED = {
    "file",
    "category",
    "urgency",
    "summary",
    "red_flags",
    "needs_review",
    "model",
}


@pytest.mark.model
def test_triage_json_gives_one_object_per_file(tmp_path: Path) -> None:
    first, second = tmp_path / "one.txt", tmp_path / "two.md"
    first.write_text(NOTE)
    second.write_text("Prescription: paracetamol 1 g three times a day for 3 days.")
    result = run_cli("triage", str(first), str(second), "--json")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["file"] for o in objects] == [str(first), str(second)]
    for obj in objects:
        assert REQUIRED <= obj.keys()
        assert obj["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert objects[0]["urgency"] == "emergency"


@pytest.mark.model
def test_a_bad_file_is_named_and_the_others_are_still_triaged(tmp_path: Path) -> None:
    good, empty = tmp_path / "good.txt", tmp_path / "empty.txt"
    good.write_text(NOTE)
    empty.write_bytes(b"")
    missing = tmp_path / "missing.txt"
    result = run_cli("triage", str(missing), str(empty), str(good), "--json")
    assert result.returncode == 1
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [
        str(good)
    ]
    # Another process on a shared machine may hold the model for a while:
    # its notice is not one of this command's errors.
    errors = [
        line
        for line in result.stderr.strip().splitlines()
        if "waiting for the model" not in line
    ]
    assert len(errors) == 2
    assert str(missing) in errors[0] and str(empty) in errors[1]
    assert "Traceback" not in result.stderr


def test_doctor_json_reports_the_box() -> None:
    result = run_cli("doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"]["manifest"] == "match"
    assert report["llama_cpp"]["gpu_offload"] is False
    assert report["llama_cpp"]["gpu_layers_used"] == 0
    assert isinstance(report["sqlite"]["extensions_loadable"], bool)
    assert report["threads"] >= 1
    assert set(report["ocr"]) >= {"available", "languages"}


def test_doctor_fails_on_a_missing_model(tmp_path: Path) -> None:
    result = run_cli("doctor", env={"EDGEBOX_MODEL_FILE": str(tmp_path / "no.gguf")})
    assert result.returncode == 1
    assert "model file not found" in result.stdout


def test_doctor_checks_the_rule_file_and_the_inbox(edgebox_home: Path) -> None:
    assert run_cli("init").returncode == 0
    rules = edgebox_home / "redflags.toml"
    healthy = json.loads(run_cli("doctor", "--json").stdout)
    version = healthy["rules"]["version"]
    assert healthy["rules"] == {"file": str(rules), "ok": True, "version": version,
                                "bundled_version": version,
                                "missing_signs": []}  # fmt: skip
    assert healthy["inbox"]["exists"]
    assert not [w for w in healthy["warnings"] if "red-flag rules" in w]
    # A copy made by an older edgebox: the new signs wait for a person.
    text = rules.read_text(encoding="utf-8")
    text = text.replace(f'"{version}"', '"2025.01-1"')
    rules.write_text(text.replace('"vomits everything"', '"vomits"'), encoding="utf-8")
    older = json.loads(run_cli("doctor", "--json").stdout)
    assert any(
        f"are version 2025.01-1; this edgebox ships version {version}" in warning
        for warning in older["warnings"]
    )
    assert older["rules"]["missing_signs"] == ["vomits everything"]
    assert (
        f"the red-flag rules in {rules} lack signs that the bundled rules raise:"
        " vomits everything" in older["warnings"]
    )
    with rules.open("a", encoding="utf-8") as handle:
        handle.write("\n[[rule]\nsign = 'typo'\n")  # an NGO editor's slip
    (edgebox_home / "inbox").rmdir()  # a scanner share that is not mounted
    result = run_cli("doctor")
    assert result.returncode == 1
    assert f"rules       {rules}  DO NOT LOAD" in result.stdout
    assert (
        f"warning: the red-flag rules do not load: invalid red-flag rules in {rules}"
        in (result.stdout)
    )
    assert "does not exist: `edgebox serve` creates it empty" in result.stdout
    typo = run_cli("doctor", env={"EDGEBOX_TRIAGE_RULES": "redflag.toml"})
    assert typo.returncode == 1
    assert f"names {edgebox_home / 'redflag.toml'}, which does not exist" in (
        typo.stdout
    )


def test_status_json_on_a_new_home(edgebox_home: Path) -> None:
    mistyped = run_cli("status", "--json")  # no such folder: never created
    assert mistyped.returncode == 1 and not edgebox_home.exists()
    assert mistyped.stderr.startswith(f"error: no edgebox workspace at {edgebox_home}")
    assert run_cli("init").returncode == 0
    result = run_cli("status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["documents"]["received"] == 0
    assert status["outbox"] == {"pending": 0, "sent": 0, "dead": 0}
    assert status["overrides"]["reviewed"] == 0


def test_the_ui_refuses_a_workspace_that_does_not_exist(edgebox_home: Path) -> None:
    """A mistyped --home, or a nurse over SSH without EDGEBOX_HOME, used to
    open an empty workspace of her own: no patients, and no word why. (The
    service still makes its workspace: `edgebox serve` before `init` works.)"""
    result = run_cli("tui")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: no edgebox workspace at {edgebox_home}")
    assert not edgebox_home.exists()


def test_files_edgebox_makes_are_kept_from_other_accounts(tmp_path: Path) -> None:
    """The store holds every document's text and quarantine keeps file names
    (often patients' names): other accounts on the box must not read them."""
    home = tmp_path / "home"
    assert run_cli("init", str(home)).returncode == 0
    (home / "inbox" / "Jane Doe.txt").write_bytes(b"")  # quarantined: empty
    processed = run_cli("process", env={"EDGEBOX_HOME": str(home)})
    assert processed.returncode == 0, processed.stderr
    made = [home, *home.rglob("*")]
    assert home / "data" / "edgebox.db" in made
    assert home / "quarantine" / "1-Jane Doe.txt" in made
    assert [str(p) for p in made if p.stat().st_mode & 0o007] == []


def test_doctor_warns_of_a_written_token_and_files_others_can_read(
    edgebox_home: Path,
) -> None:
    assert run_cli("init").returncode == 0
    assert run_cli("status").returncode == 0  # the store exists
    quiet = json.loads(run_cli("doctor", "--json").stdout)
    assert quiet["privacy"] == {"token_in_config_file": False,
                                "patient_key_in_config_file": False,
                                "readable_by_others": []}  # fmt: skip
    toml = edgebox_home / "edgebox.toml"
    toml.write_text(
        '[sync]\ntoken = "7.s3cret"\npatient_key = "k3y"\n', encoding="utf-8"
    )
    store = edgebox_home / "data" / "edgebox.db"
    store.chmod(0o644)  # copied in from a backup with the usual modes
    result = run_cli("doctor")
    assert result.returncode == 0
    assert f"the sync token is written in {toml}: put it in" in result.stdout
    assert f"{store} can be read by every account on this machine" in result.stdout
    assert f"the patient pseudonym key is written in {toml}" in result.stdout
    assert "7.s3cret" not in result.stdout and "k3y" not in result.stdout


def test_doctor_says_how_much_room_the_archive_has_left(edgebox_home: Path) -> None:
    from edgebox.cli.doctor import low_space

    disk = json.loads(run_cli("doctor", "--json").stdout)["disk"]
    assert disk["free_bytes"] > 0 and Path(disk["path"]).exists()
    nearly_full = {"path": "/var/lib/edgebox", "free_bytes": 120 * 2**20}
    assert low_space(nearly_full) == (
        "only 120 MB free under /var/lib/edgebox: the archive keeps every"
        " original, and on a full disk the service pauses until space is freed"
    )
    assert low_space(nearly_full, floor=100 * 2**20) is None


def test_reading_commands_work_on_a_store_that_cannot_be_written(
    shared_home: Path,
) -> None:
    """A read-only copy (a backup, a read-only mount): status and queue answer;
    a command that must write says which file, in one line."""
    home = shared_home
    env = {**os.environ, "EDGEBOX_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}

    def edgebox(*args: str) -> subprocess.CompletedProcess:
        # Root ignores file modes: an ordinary user meets the read-only files.
        command = as_unprivileged([sys.executable, "-m", "edgebox", *args])
        return subprocess.run(command, capture_output=True, text=True, env=env,
                              cwd=REPO, timeout=120)  # fmt: skip

    assert run_cli("init", str(home)).returncode == 0
    assert run_cli("status", env={"EDGEBOX_HOME": str(home)}).returncode == 0
    # Readable by all (edgebox makes its files private), writable by none.
    for path in [*home.rglob("*"), home]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        status, queue, demo = (
            edgebox("status", "--json"),
            edgebox("queue"),
            edgebox("demo"),
        )
    finally:
        home.chmod(0o755)  # shared_home's clean-up restores the rest
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["documents"]["received"] == 0
    assert queue.returncode == 0, queue.stderr
    assert demo.returncode == 1 and "Traceback" not in demo.stderr
    assert demo.stderr.startswith("error: ") and len(demo.stderr.splitlines()) == 1


def test_requeue_takes_back_a_timed_out_triage_never_a_reviewed_one(
    edgebox_home: Path,
) -> None:
    from edgebox.config import load
    from edgebox.store import Store

    timed_out = {"error": "triage deadline passed (120 s)"}
    with Store(load().db_path) as store:
        first = record(store, "fu.txt", "unknown", **timed_out)
        second = record(store, "scan.txt", "unknown", **timed_out)
        reviewed = record(store, "seen.txt", "unknown", **timed_out)
        store.record_review(reviewed, reviewer="amina", changes={"urgency": "urgent"})
        fine = record(store, "fine.txt", "routine")
    one = run_cli("requeue", str(first))
    assert one.returncode == 0, one.stderr
    assert "requeued 1 document(s)" in one.stdout
    refused = run_cli("requeue", str(reviewed))
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: document {reviewed} is reviewed: only")
    every = run_cli("requeue", "--all-failed")
    assert every.returncode == 0, every.stderr
    assert "requeued 1 document(s)" in every.stdout
    with Store(load().db_path) as store:
        states = {doc: store.document(doc)["state"] for doc in (first, second)}
        assert states == {first: "extracted", second: "extracted"}  # triaged again
        assert store.document(reviewed)["state"] == "reviewed"
        assert store.document(fine)["state"] == "triaged"
        assert store.audit_log(first)[-1]["action"] == "requeue"


def test_demo_run_again_writes_no_sample_the_service_already_took(
    edgebox_home: Path,
) -> None:
    from edgebox.cli.demo import SAMPLES
    from edgebox.config import load

    first = run_cli("demo")
    assert first.returncode == 0, first.stderr
    assert "10 new sample document(s)" in first.stdout
    taken = run_cli("watch", "--until-idle", "--no-triage")
    assert taken.returncode == 0, taken.stderr
    inbox = load().inbox_dir
    assert list(inbox.iterdir()) == []
    again = run_cli("demo")
    assert again.returncode == 0, again.stderr
    assert "0 new sample document(s)" in again.stdout
    assert list(inbox.iterdir()) == []
    status = json.loads(run_cli("status", "--json").stdout)["documents"]
    assert (status["extracted"], status["duplicate"]) == (len(SAMPLES), 0)


@pytest.mark.model
def test_a_requeued_failed_triage_gets_a_new_result_from_the_next_pass(
    edgebox_home: Path,
) -> None:
    from edgebox.config import load
    from edgebox.store import Store

    with Store(load().db_path) as store:
        doc = record(
            store, "fu.txt", "unknown", text=NOTE, error="triage deadline passed"
        )
    assert run_cli("requeue", str(doc)).returncode == 0
    result = run_cli("process", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["document_id"], row["state"], row["revision"]) == (doc, "triaged", 2)
    assert row["urgency"] == "emergency"  # SpO2 80 %, convulsions: the rules
    with Store(load().db_path) as store:
        first, second = store.revisions(doc)
    assert first["error"] == "triage deadline passed"  # kept, never overwritten
    assert second["author"] == "ai"
