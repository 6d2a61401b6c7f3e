"""The fast stage's result has one name everywhere a person or the server
sees it: `provisional`, in `queue --json`, `triage --json`, the sync record and
the UI's queue."""

import json
from pathlib import Path

import pytest

from edgebox import config
from edgebox.cli.demo import SAMPLES
from edgebox.intake.ingest import Ingestor
from edgebox.service.pipeline import Pipeline
from edgebox.store import DocState, Store
from edgebox.sync.client import wire_record
from edgebox.triage.engine import TriageEngine
from tests.support.processes import run_cli
from tests.support.tui import make_app, queue_ready

EMERGENCY = SAMPLES["referral_pregnancy_convulsion_en.txt"]


def fast_stage_only(settings: config.Config, engine: TriageEngine) -> int:
    """One document read and rated by the fast stage; the LLM has not run."""
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "referral.txt").write_text(EMERGENCY)
    with Store(settings.db_path) as store:
        Ingestor(settings, store).ingest(settings.inbox_dir / "referral.txt")
        pipeline = Pipeline(settings, store, engine_loader=lambda: engine)
        try:
            step = pipeline.extract(store.documents_in_state(DocState.RECEIVED)[0])
        finally:
            pipeline.close()
    assert step.result is not None and step.result.provisional
    return int(step.document["id"])


@pytest.mark.anyio
@pytest.mark.model
async def test_the_fast_stage_result_is_called_provisional_everywhere(
    edgebox_home: Path, engine: TriageEngine
) -> None:
    settings = config.load()
    doc = fast_stage_only(settings, engine)

    listed = run_cli("queue", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)["documents"]
    assert (row["document_id"], row["provisional"]) == (doc, True)

    with Store(settings.db_path) as store:
        (outbox,) = store.pending_outbox()
    record = wire_record(outbox, settings.sync)
    assert (record["revision"], record["content"]["provisional"]) == (1, True)

    async with make_app(settings).run_test(size=(120, 24)) as pilot:
        table = await queue_ready(pilot, 1)
        assert "provisional" in [str(cell) for cell in table.get_row_at(0)]

    # `triage` runs both stages: its answer is final, under the same key.
    sample = settings.home / "referral.txt"
    sample.write_text(EMERGENCY)
    triaged = run_cli("triage", "--json", str(sample))
    assert triaged.returncode == 0, triaged.stderr
    assert json.loads(triaged.stdout)["provisional"] is False
