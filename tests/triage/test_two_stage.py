"""Two-stage triage on a real watched inbox with the real model: an emergency
shows at once, whatever the backlog, and the LLM stage never takes it back."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edgebox import config
from edgebox.cli.demo import SAMPLES
from edgebox.intake.ingest import Ingestor
from edgebox.service.pipeline import Pipeline
from edgebox.service.workers import Workers
from edgebox.store import Store
from edgebox.triage.engine import TriageEngine
from tests.support.processes import wait_for

EMERGENCY = SAMPLES["referral_pregnancy_convulsion_en.txt"]


def ordinary(i: int) -> str:
    return (
        f"Follow-up letter {i}. The patient attended the clinic for a routine"
        f" review of her hypertension, visit {i}. She feels well. Repeat the"
        " prescription and book the next review in three months."
    )


def watched_inbox(monkeypatch: pytest.MonkeyPatch) -> config.Config:
    monkeypatch.setenv("EDGEBOX_INGEST_QUIET_S", "0.3")
    settings = config.load()
    settings.inbox_dir.mkdir(parents=True)
    return settings


def llm_done(store: Store) -> int:
    """Documents whose LLM stage is written."""
    return sum(1 for row in store.queue(limit=1000) if row["state"] == "triaged")


def row_of(store: Store, name: str) -> dict | None:
    return next((r for r in store.queue(limit=1000) if r["file_name"] == name), None)


@pytest.mark.model
def test_an_emergency_behind_30_documents_shows_before_the_third_is_done(
    monkeypatch: pytest.MonkeyPatch, engine: TriageEngine
) -> None:
    settings = watched_inbox(monkeypatch)
    service = Workers(settings, engine_loader=lambda: engine)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        assert service.scanned.wait(timeout=60)
        for i in range(30):
            (settings.inbox_dir / f"a-{i:02}.txt").write_text(ordinary(i))
        (settings.inbox_dir / "z-referral.txt").write_text(EMERGENCY)

        def shown() -> tuple[dict, int] | None:
            with Store(settings.db_path) as store:
                row, done = row_of(store, "z-referral.txt"), llm_done(store)
            return (row, done) if row and row["urgency"] == "emergency" else None

        row, done = wait_for(shown, timeout_s=120, what="the emergency")
        assert row["provisional"] is True and done < 3
        with Store(settings.db_path) as store:
            assert store.pending_outbox()[0].document_id == row["document_id"]

        def final() -> dict | None:
            with Store(settings.db_path) as store:
                row = row_of(store, "z-referral.txt")
            return row if row and not row["provisional"] else None

        row = wait_for(final, timeout_s=120, what="the LLM stage of the emergency")
        assert (row["urgency"], row["state"]) == ("emergency", "triaged")
    finally:
        service.stop_event.set()
        thread.join()


@pytest.mark.model
def test_a_review_made_between_the_stages_survives_the_llm_stage(
    monkeypatch: pytest.MonkeyPatch, engine: TriageEngine
) -> None:
    settings = watched_inbox(monkeypatch)
    (settings.inbox_dir / "letter.txt").write_text(ordinary(1))
    with Store(settings.db_path) as store:
        pipeline = Pipeline(settings, store, engine_loader=lambda: engine)
        Ingestor(settings, store).ingest(settings.inbox_dir / "letter.txt")
        step = pipeline.step()  # read, and rated by the fast stage only
        assert step is not None and step.result is not None
        assert step.result.provisional
        doc = step.document["id"]
        store.record_review(
            doc, reviewer="nurse", changes={"urgency": "emergency"}, note="phoned"
        )
        while pipeline.step() is not None:
            pass
        pipeline.close()
        latest = store.latest_revision(doc)
        authors = [r["author"] for r in store.revisions(doc)]
    assert authors == ["ai", "staff:nurse", "ai", "staff:nurse"]
    assert (latest["urgency"], latest["note"]) == ("emergency", "phoned")
    assert latest["summary"]  # the LLM's work is there, beside the person's labels


def start_watch(home: Path, *, until_idle: bool) -> subprocess.Popen:
    env = os.environ | {"EDGEBOX_HOME": str(home), "EDGEBOX_INGEST_QUIET_S": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "edgebox", "watch"]
        + (["--until-idle"] if until_idle else []),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.model
def test_a_kill_between_the_stages_loses_nothing_and_repeats_no_outbox_row(
    edgebox_home: Path,
) -> None:
    settings = config.load()
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "referral.txt").write_text(EMERGENCY)
    process = start_watch(edgebox_home, until_idle=False)

    def provisional() -> bool:
        if not settings.db_path.exists():
            return False
        with Store(settings.db_path) as store:
            row = row_of(store, "referral.txt")
        return bool(row and row["provisional"])

    try:
        wait_for(provisional, timeout_s=120, what="the fast stage's result")
    finally:
        process.send_signal(signal.SIGKILL)  # a power cut before the LLM stage
        process.wait()
    with Store(settings.db_path) as store:
        (only,) = store.revisions(row_of(store, "referral.txt")["document_id"])
        assert only["provisional"] is True
    assert start_watch(edgebox_home, until_idle=True).wait(timeout=300) == 0
    with Store(settings.db_path) as store:
        row = row_of(store, "referral.txt")
        outbox = [(r.kind, r.revision) for r in store.pending_outbox()]
        revisions = store.revisions(row["document_id"])
    assert [r["provisional"] for r in revisions] == [True, False]
    assert (row["urgency"], row["state"]) == ("emergency", "triaged")
    assert sorted(outbox) == [("triage", 1), ("triage", 2)]
