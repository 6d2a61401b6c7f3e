"""One pass of the pipeline over a real inbox folder, real model, real SQLite."""

import json
from pathlib import Path

import pytest

from edgebox import config
from edgebox.cli.demo import SAMPLES
from edgebox.service.pipeline import Pipeline, inbox_files
from edgebox.store import DocState, Store
from edgebox.triage.engine import TriageEngine
from edgebox.vocabulary import Urgency
from tests.support.processes import run_cli


def test_inbox_files_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".DS_Store").write_text("junk")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.txt").write_text("c")
    assert [p.name for p in inbox_files(tmp_path)] == ["a.txt", "b.txt"]


@pytest.mark.model
def test_each_file_is_taken_once_and_bad_ones_are_quarantined(
    edgebox_home: Path, engine: TriageEngine
) -> None:
    settings = config.load()
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True)
    (inbox / "note.txt").write_text("Patient unresponsive, SpO2 79 %.")
    (inbox / "scan.pdf").write_bytes(b"%PDF-1.4\n\x00\x01")
    with Store(settings.db_path) as store:
        pipeline = Pipeline(settings, store, engine_loader=lambda: engine)
        first = pipeline.run_once()
        second = pipeline.run_once()
        assert (first.recorded, first.triaged, first.quarantined) == (2, 1, 1)
        assert (second.recorded, second.triaged, second.quarantined) == (0, 0, 0)
        (quarantined,) = store.documents_in_state(DocState.QUARANTINED)
        assert quarantined["error_code"] == "corrupt_pdf"
        assert "scan.pdf" in quarantined["error_message"]
        (triaged,) = store.documents_in_state(DocState.TRIAGED)
        assert store.latest_revision(triaged["id"])["urgency"] == "emergency"
        # The provisional result, the LLM stage's, and the quarantine.
        assert store.outbox_counts()["pending"] == 3


@pytest.mark.model
def test_a_document_left_mid_way_is_resumed(
    edgebox_home: Path, engine: TriageEngine
) -> None:
    settings = config.load()
    with Store(settings.db_path) as store:
        doc = store.add_document(file_name="x.txt", sha256="f" * 64, size=5)
        store.set_state(doc, DocState.EXTRACTED, text="Patient is convulsing.")
        report = Pipeline(settings, store, engine_loader=lambda: engine).run_once()
        assert report.triaged == 1
        assert store.document(doc)["state"] == DocState.TRIAGED


@pytest.mark.slow
@pytest.mark.model
def test_demo_end_to_end_through_the_cli(edgebox_home: Path) -> None:
    assert run_cli("demo").returncode == 0
    result = run_cli("process", "--json")
    assert result.returncode == 0, result.stderr
    queue = json.loads(result.stdout)
    assert sorted(row["file_name"] for row in queue) == sorted(SAMPLES)
    ranks = [Urgency(row["urgency"]).rank for row in queue]
    assert ranks == sorted(ranks)
    by_name = {row["file_name"]: row for row in queue}
    # The danger signs in these three are found by the rules, whatever the model says.
    for name in (
        "referral_pregnancy_convulsion_en.txt",
        "reference_inconscient_fr.txt",
        "admission_deshydratation_fr.txt",
    ):
        assert by_name[name]["urgency"] == "emergency"
        assert by_name[name]["needs_review"] is True
    assert by_name["referral_chest_pain_en.txt"]["urgency"] in ("urgent", "emergency")
    again = run_cli("process", "--json")
    assert len(json.loads(again.stdout)) == len(SAMPLES)  # nothing taken twice
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["documents"]["triaged"] == len(SAMPLES)
    # Each document: its provisional result and the LLM stage's.
    assert status["outbox"]["pending"] == 2 * len(SAMPLES)
