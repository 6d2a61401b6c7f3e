"""`edgebox serve` and `edgebox run`: the supervisor as a long-running service.

Real processes, real signals, a real store; the end-to-end test adds the real
bundled model and a real central server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgebox import config
from edgebox.learn.classifiers import model_path
from edgebox.service.lock import InstanceLock, ServiceRunning
from edgebox.service.supervisor import Retrainer, Supervisor
from edgebox.service.workers import LOCK_NAME, Workers
from edgebox.store import Store
from tests.support.central import running_central
from tests.support.paths import SCRIPTS
from tests.support.processes import run_cli, wait_for
from tests.support.records import data_rows, reviewed_store

EMERGENCY_NOTE = (
    "Referral to district hospital. 2-year-old boy, convulsions this morning,"
    " now unresponsive. Temperature 40.1 C, respiratory rate 62/min.\n"
)


def service_state(home: Path) -> dict[str, str]:
    db = home / "data" / "edgebox.db"
    if not db.exists():
        return {}
    with Store(db) as store:
        return store.service_state()


def start_serve(home: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.Popen(
        [sys.executable, "-m", "edgebox", "--home", str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[str, str]:
    process.send_signal(sig)
    try:
        return process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()


# -- the service process --------------------------------------------------


def test_serve_writes_a_heartbeat_and_stops_cleanly_on_sigterm(
    edgebox_home: Path,
) -> None:
    ticks = ("--progress-every", "0.05")
    process = start_serve(edgebox_home, "serve", "--no-sync", *ticks)
    try:
        state = wait_for(
            lambda: (
                service_state(edgebox_home).get("state") == "running"
                and service_state(edgebox_home)
            ),
            timeout_s=120,
            what="the service's heartbeat",
        )
        time.sleep(1.0)  # idle, some 20 progress ticks
    finally:
        out, err = stop(process)
    # An idle night writes no log: a progress line only when something
    # changed (here the first), and the summary at the stop.
    assert len([line for line in err.splitlines() if "docs/s" in line]) == 2
    assert process.returncode == 0, err
    assert state["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert state["device"] == "loading"  # nothing to triage: no model loaded
    final = service_state(edgebox_home)
    assert final["state"] == "stopped"
    assert final["heartbeat_at"] >= state["heartbeat_at"]
    assert "watching" in err


def test_a_second_service_on_the_same_workspace_is_refused(edgebox_home: Path) -> None:
    settings = config.load(edgebox_home)
    with InstanceLock(settings.data_dir / LOCK_NAME):
        result = run_cli("serve", "--until-idle", "--no-sync")
        with pytest.raises(ServiceRunning, match="another edgebox service"):
            Workers(settings, triage=False).run(until_idle=True)
    assert result.returncode == 1
    assert "another edgebox service" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    assert "Traceback" not in result.stderr
    # Refused before it did anything: the running service's heartbeat is not
    # overwritten with "stopped".
    assert service_state(edgebox_home).get("state") != "stopped"
    # The lock goes with its holder: now a service may start.
    assert run_cli("serve", "--until-idle", "--no-sync").returncode == 0


def test_a_one_pass_process_beside_a_running_service_is_refused(
    edgebox_home: Path,
) -> None:
    """`process` beside the service would triage the same files twice and send
    both results (a README walkthrough did it)."""
    settings = config.load(edgebox_home)
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    (settings.inbox_dir / "lab1.txt").write_text("Lab: Hb 12.1 g/dL, normal.")
    with InstanceLock(settings.data_dir / LOCK_NAME):
        result = run_cli("process")
    assert result.returncode == 1
    assert "another edgebox service" in result.stderr
    assert "Traceback" not in result.stderr
    assert (settings.inbox_dir / "lab1.txt").exists()  # left to the service


def test_a_sigterm_while_the_main_thread_holds_the_stop_lock_does_not_hang(
    edgebox_home: Path,
) -> None:
    """The race behind a service that never stopped: SIGTERM's handler runs
    on the main thread while that thread is inside `Event.wait`, holding the
    event's lock. Holding it here is that moment, made certain."""
    supervisor = Supervisor(config.load(edgebox_home), triage=False)
    event = supervisor.stop_event
    with event._cond:  # the lock Event.wait holds around its checks
        supervisor.stop_from_signal()  # returns: it does not wait for the lock
        assert not event.is_set()
    assert event.wait(timeout=10)


def test_the_model_line_says_an_idle_service_has_not_loaded_it_yet() -> None:
    """An idle service never loads the model: "… on loading" for hours read
    as stuck (README walkthrough)."""
    from edgebox.service.heartbeat import model_words

    idle = {"model": "m.gguf", "device": "loading", "gpu_layers": ""}
    assert model_words(idle) == (
        "m.gguf (not loaded yet: it loads for the first document)"
    )
    assert model_words({**idle, "device": "none"}) == (
        "m.gguf (not used: the service only takes files in)"
    )
    assert model_words({**idle, "device": "GPU", "gpu_layers": "31"}) == (
        "m.gguf on GPU, 31 layers"
    )
    assert model_words({**idle, "device": "CPU"}) == "m.gguf on CPU"


def test_a_killed_service_leaves_no_stale_lock(edgebox_home: Path) -> None:
    process = start_serve(edgebox_home, "serve", "--no-sync")
    wait_for(
        lambda: service_state(edgebox_home).get("state") == "running",
        timeout_s=120,
        what="the service to start",
    )
    stop(process, signal.SIGKILL)
    assert run_cli("serve", "--until-idle", "--no-sync").returncode == 0


def test_run_without_a_terminal_runs_the_service_alone(edgebox_home: Path) -> None:
    process = start_serve(edgebox_home, "run")
    try:
        wait_for(
            lambda: service_state(edgebox_home).get("state") == "running",
            timeout_s=120,
            what="the service started by `edgebox run`",
        )
    finally:
        _, err = stop(process)
    assert process.returncode == 0, err
    assert "watching" in err
    assert service_state(edgebox_home)["state"] == "stopped"


# -- retraining -----------------------------------------------------------


def test_the_service_retrains_once_enough_reviews_arrive(edgebox_home: Path) -> None:
    settings = config.load(edgebox_home)
    rows = data_rows("urgency_train.jsonl")
    retrainer = Retrainer(settings)
    reviewed_store(settings, rows[:10])
    assert not retrainer.check()  # 10 reviews: fewer than min_examples (30)
    assert not model_path(settings.data_dir, "urgency").exists()
    reviewed_store(settings, rows[10:])
    assert retrainer.check()
    saved = model_path(settings.data_dir, "urgency")
    stamp = saved.stat().st_mtime_ns
    assert not retrainer.check()  # nothing new since
    assert saved.stat().st_mtime_ns == stamp
    status = run_cli("status", "--json")
    assert status.returncode == 0, status.stderr
    learned = json.loads(status.stdout)["learned"]
    assert learned["urgency"]["n_examples"] == len(rows)
    assert learned["urgency"]["in_use"] is True
    target = settings.triage.emergency_recall
    assert learned["urgency"]["emergency_recall_target"] == target
    assert learned["category"] is None  # the reviews confirmed "other" only


def test_staff_activity_moves_with_reviews_and_undos_only(edgebox_home: Path) -> None:
    """What the retrain check watches: a review or an undo moves it, the AI's
    own results do not (so a busy box does not re-read its reviews)."""
    settings = config.load(edgebox_home)
    reviewed_store(settings, data_rows("urgency_train.jsonl")[:2])
    with Store(settings.db_path) as store:
        reviewed = store.staff_activity()
        assert reviewed[0] == 2
        doc = store.add_document(file_name="new.txt", sha256="f" * 64, size=1)
        store.record_triage(doc, {"category": "other", "urgency": "routine",
                                  "summary": "-"})  # fmt: skip
        assert store.staff_activity() == reviewed
        store.undo_last_change(1, actor="nurse")
        undone = store.staff_activity()
    assert undone[0] == 3 and undone[1] > reviewed[1]


def test_the_retrain_loop_runs_beside_the_service(edgebox_home: Path) -> None:
    settings = config.load(edgebox_home)
    reviewed_store(settings, data_rows("urgency_train.jsonl"))
    supervisor = Supervisor(settings, triage=False, retrain_check_s=0.05)
    saved = model_path(settings.data_dir, "urgency")
    import threading

    runner = threading.Thread(target=supervisor.run)
    runner.start()
    try:
        wait_for(saved.exists, timeout_s=120, what="the retrained urgency model")
    finally:
        supervisor.stop()
        runner.join()
    assert service_state(edgebox_home)["state"] == "stopped"


# -- end to end: model, service, sync -------------------------------------


@pytest.mark.model
@pytest.mark.slow
def test_serve_triages_a_dropped_emergency_and_syncs_it(
    edgebox_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "central"
    folder.mkdir()
    with running_central(f"sqlite:///{folder / 'central.db'}", folder) as central:
        token = central.add_device("clinic-e2e")
        env = {
            "EDGEBOX_SYNC_URL": central.url,
            "EDGEBOX_SYNC_DEVICE": "clinic-e2e",
            "EDGEBOX_SYNC_TOKEN": token,
            "EDGEBOX_SYNC_INTERVAL_S": "2",
            "EDGEBOX_INGEST_QUIET_S": "0.5",
        }
        inbox = edgebox_home / "inbox"
        inbox.mkdir(parents=True)
        process = start_serve(edgebox_home, "serve", env=env)
        try:
            named = inbox / "Amina Diallo referral.txt"  # a patient's name
            named.write_text(EMERGENCY_NOTE, encoding="utf-8")
            records = wait_for(
                lambda: central.db.records("clinic-e2e"),
                timeout_s=300,
                what="the result to reach the central server",
            )
            state = wait_for(
                lambda: (
                    float(service_state(edgebox_home)["docs_per_s"]) > 0
                    and service_state(edgebox_home)
                ),
                timeout_s=30,
                what="the heartbeat after the first document",
            )
        finally:
            out, err = stop(process)
    assert process.returncode == 0, err
    assert [r["content"]["urgency"] for r in records] == ["emergency"]
    assert "emergency #1: " in " ".join(out.split())
    # The log is for the IT volunteer: no file names, no document text.
    assert "Amina" not in out + err
    assert "convulsions" not in out + err  # neither the text nor its red flags
    assert state["device"] == "CPU"
    assert len(state["model_sha256"]) == 64
    assert not named.exists()
    with Store(edgebox_home / "data" / "edgebox.db") as store:
        assert store.outbox_counts().get("pending", 0) == 0


def test_the_systemd_unit_runs_a_real_serve_command() -> None:
    unit = (SCRIPTS / "edgebox.service").read_text()
    (start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    program, *args = start.removeprefix("ExecStart=").split()
    assert program.endswith("/edgebox") and args[0] == "serve"
    checked = run_cli(*args, "--help")
    assert checked.returncode == 0, checked.stderr
    assert "KillSignal=SIGTERM" in unit
    # systemd must wait out a prompt llama.cpp is reading before it kills the service.
    (stop,) = [line for line in unit.splitlines() if line.startswith("TimeoutStop")]
    assert float(stop.split("=")[1]) > config.ModelConfig().timeout_s


def test_a_long_service_log_is_set_aside_at_the_next_start(tmp_path: Path) -> None:
    from edgebox.cli.launch import rotate_log

    log = tmp_path / "serve.log"
    rotate_log(log, keep_bytes=10)  # none yet: nothing to do
    log.write_text("old line\n" * 3)
    (tmp_path / "serve.log.1").write_text("older\n")
    rotate_log(log, keep_bytes=100)  # small enough: kept
    assert log.exists()
    rotate_log(log, keep_bytes=10)
    assert not log.exists()
    assert (tmp_path / "serve.log.1").read_text() == "old line\n" * 3


def test_the_log_line_of_each_step_names_the_document_by_id_only() -> None:
    from edgebox.cli.render import result_line
    from edgebox.service.step import Step, StepOutcome
    from edgebox.triage.engine import TriageResult

    doc = {"id": 7, "file_name": "Jane Doe referral.pdf"}
    triaged = TriageResult(
        category="referral", urgency="urgent", summary="", red_flags=[], fields={},
        language="en", needs_review=True, review_reasons=[], sources={},
        provenance={},
    )  # fmt: skip
    assert result_line(Step(doc, StepOutcome.EXTRACTED)) is None
    assert result_line(Step(doc, StepOutcome.FAILED)) == "will retry #7"
    quarantined = result_line(Step(doc, StepOutcome.QUARANTINED))
    assert quarantined == "quarantined #7 (reason in quarantine/)"
    line = result_line(Step(doc, StepOutcome.TRIAGED, triaged))
    assert line == "urgent    #7: referral [review]"
