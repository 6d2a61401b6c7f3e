"""The box's choice between the centre's learned model (from the bundle in
use, `<data_dir>/bundles/current/`) and its own: a new box triages with the
central one; a box whose own model beats it on its reviews uses its own, and
says which in `edgebox status`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edgebox import config
from edgebox.cli.commands import cli
from edgebox.learn.choice import central_dir, compare_if_due, in_use_report
from edgebox.learn.classifiers import LearnedModels, retrain_if_due, save, train
from edgebox.service.supervisor import Retrainer
from edgebox.store import Store
from edgebox.triage.engine import TriageEngine
from tests.support.paths import DATA
from tests.support.records import learned_result

ROTATED = {"emergency": "routine", "routine": "urgent", "urgent": "emergency"}


def rows(task: str = "urgency") -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for part in ("train", "test")
        for line in (DATA / f"{task}_{part}.jsonl").read_text().splitlines()
        if line.strip()
    ]


def central_model(data_dir: Path, *, labels: dict[str, str] | None = None) -> None:
    """The centre's urgency model, unpacked as a fetched bundle would be."""
    found = rows()
    truth = [r["urgency"] for r in found]
    wrong = [labels.get(x, x) for x in truth] if labels else truth
    save(train("urgency", [r["text"] for r in found], wrong), central_dir(data_dir))


def home(edgebox_home: Path) -> config.Config:
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    return config.load(edgebox_home)


def reviewed_box(settings: config.Config) -> None:
    """Staff reviewed the 48 notes one by one, with their true urgency."""
    with Store(settings.db_path) as store:
        for n, row in enumerate(rows()):
            doc = store.add_document(
                file_name=f"n{n}.txt", sha256=f"{n:064x}", size=1, text=row["text"]
            )
            store.record_triage(doc, learned_result())
            store.record_review(
                doc, reviewer="amina", changes={"urgency": row["urgency"]}
            )


def test_a_new_box_triages_with_the_central_model(edgebox_home: Path) -> None:
    settings = home(edgebox_home)
    notes = [r["text"] for r in rows()]
    alone = TriageEngine(settings, lazy_model=True)
    unrated = [alone.triage(t, summary=False).urgency for t in notes]
    assert "unknown" in unrated  # no rule fires: a new box cannot rate these

    central_model(settings.data_dir)
    engine = TriageEngine(settings, lazy_model=True)
    for text in notes:
        result = engine.triage(text, summary=False)
        assert result.urgency != "unknown"
        learned = result.provenance["learned"]["urgency"]
        assert learned["source"] == "central" and learned["n_examples"] == 48
    report = in_use_report(settings.data_dir, min_examples=30)
    assert report["urgency"]["source"] == "central"
    assert report["category"] == {"source": None, "central_examples": None}


def test_a_box_whose_own_model_beats_the_central_one_uses_its_own(
    edgebox_home: Path,
) -> None:
    settings = home(edgebox_home)
    data_dir = settings.data_dir
    central_model(data_dir, labels=ROTATED)  # a centre that learned it wrong
    reviewed_box(settings)
    with Store(settings.db_path) as store:
        examples = store.training_examples()
    assert retrain_if_due(examples, data_dir, min_examples=30)
    # Trained, not compared yet: the central model still decides.
    assert LearnedModels(data_dir).chosen("urgency")[0] == "central"

    assert compare_if_due(
        examples, data_dir, min_examples=30, emergency_recall_target=0.95
    )
    source, model = LearnedModels(data_dir).chosen("urgency")
    assert source == "own" and model is not None and model.n_examples == 48
    status = CliRunner().invoke(cli, ["status", "--json"])
    entry = json.loads(status.output)["model_in_use"]["urgency"]
    assert entry["source"] == "own"
    own, central = entry["comparison"]["own"], entry["comparison"]["central"]
    assert own["macro_f1"] > central["macro_f1"]
    assert entry["comparison"]["method"] == "3-fold cross-validation on 48 reviews"
    text = CliRunner().invoke(cli, ["status"]).output
    assert "deciding  urgency: this box's own, it beat the centre's (macro-F1" in text
    assert not compare_if_due(  # nothing changed: not compared again
        examples, data_dir, min_examples=30, emergency_recall_target=0.95
    )

    # A new bundle replaces the central model: compared again before it is used.
    central_model(data_dir)  # this one learned from these very reviews
    assert LearnedModels(data_dir).chosen("urgency")[0] == "central"
    Retrainer(settings).check()
    assert LearnedModels(data_dir).chosen("urgency")[0] == "central"
    entry = in_use_report(data_dir, min_examples=30)["urgency"]
    assert (
        entry["comparison"]["central"]["macro_f1"]
        >= (entry["comparison"]["own"]["macro_f1"])
    )
    text = CliRunner().invoke(cli, ["status"]).output
    assert "urgency: the centre's (learned from 48 documents), better than" in text


@pytest.mark.parametrize("central", [True, False])
def test_the_status_screen_names_the_model_in_use(
    edgebox_home: Path, central: bool
) -> None:
    from edgebox.tui.status import _learned

    settings = home(edgebox_home)
    if central:
        central_model(settings.data_dir)
    shown = _learned(in_use_report(settings.data_dir, min_examples=30)).plain
    if central:
        assert "Learned models" in shown
        assert "urgency      the centre's (learned from 48 documents)" in shown
    else:
        assert shown == ""  # a new box without models: the screen is as before
