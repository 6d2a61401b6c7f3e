"""Trust at first use: a new box does not guess. Without a learned model and
without an LLM vote earned in the manifest, a document no rule flags is "not
rated yet" and waits for a person (real model, real store, Pilot)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from edgebox import config
from edgebox.cli.demo import SAMPLES
from edgebox.clinical.vitals import parse_vitals
from edgebox.evaluation.votes import (
    macro_f1,
    manifest_lines,
    paired_win_share,
    predictions,
    stratified_subset,
)
from edgebox.store import Store
from edgebox.triage.combine import Votes, decide
from edgebox.triage.engine import TriageEngine
from edgebox.triage.manifest import llm_vote_tasks
from edgebox.tui.document import DocumentScreen
from edgebox.vocabulary import NOT_RATED
from tests.support.paths import REPO
from tests.support.processes import run_cli
from tests.support.tui import make_app, queue_ready, screen_text, table_rows, until_on

DENTAL = (
    "Prescription. Dental clinic. Amoxicillin 500 mg three times daily for 5"
    " days after extraction of tooth 36. Review in one week."
)
ECLAMPSIA = (
    "Referral: woman 34 weeks pregnant, convulsions this morning,"
    " BP 170/115, severe headache."
)


def test_no_vote_at_all_is_not_rated_yet_not_a_guess() -> None:
    decision = decide(Votes())
    assert (decision.category, decision.urgency) == (None, "unknown")
    assert decision.review["urgency"] == [NOT_RATED]
    assert decision.review["category"] == [NOT_RATED]
    # A rule still rates it; only the rest waits for a person.
    flagged = decide(Votes(rules="emergency"))
    assert flagged.urgency == "emergency" and NOT_RATED in flagged.review["category"]


def _manifest_with(tmp_path: Path, votes: str) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    (models / "manifest.toml").write_text(
        "[[model]]\n"
        'name = "SmolLM2"\n'
        'file = "SmolLM2-135M-Instruct.Q4_1.gguf"\n'
        'sha256 = "00"\n'
        'licence = "Apache-2.0"\n'
        "context_length = 8192\n"
        'chat_format = "chatml"\n' + votes + "\n"
    )
    return models


def test_a_model_votes_only_where_its_manifest_record_says_so(tmp_path: Path) -> None:
    bundled = "SmolLM2-135M-Instruct.Q4_1.gguf"
    models = _manifest_with(tmp_path, "[model.votes]\nurgency = true\ncategory = false")
    assert llm_vote_tasks(models, bundled) == frozenset({"urgency"})
    assert llm_vote_tasks(models, "someone-elses.gguf") == frozenset()
    assert llm_vote_tasks(tmp_path / "nowhere", bundled) == frozenset()


def test_any_gguf_without_a_record_loads_but_gets_no_vote(tmp_path: Path) -> None:
    """A model copied into models/ works (summary, fields) but its labels do
    not count until `edgebox eval --votes` shows they beat the rules."""
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(
        REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf", models / "mine.gguf"
    )
    settings = config.Config(home=tmp_path, source=None)
    settings = dataclasses.replace(
        settings,
        paths=dataclasses.replace(settings.paths, models=models),
        model=dataclasses.replace(settings.model, file="mine.gguf"),
    )
    engine = TriageEngine(settings)
    assert engine.llm_may_vote == frozenset()
    result = engine.triage(DENTAL)
    assert (result.category, result.urgency) == (None, "unknown")
    assert NOT_RATED in result.review_reasons
    assert result.sources["urgency"] == "none"
    assert result.provenance["tokens_out"] > 0  # the model still read it


def test_a_new_box_triages_the_demo_honestly(
    edgebox_home: Path, tmp_path: Path
) -> None:
    """The bundled model has no vote (models/manifest.toml): the rules rate
    the emergencies, the rest waits for a person, with the count to learn."""
    assert run_cli("init").returncode == 0
    files = []
    for name, text in [("dental.txt", DENTAL), ("eclampsia.txt", ECLAMPSIA)]:
        path = tmp_path / name
        path.write_text(text)
        files.append(str(path))
    done = run_cli("triage", "--json", *files)
    assert done.returncode == 0, done.stderr
    dental, eclampsia = (json.loads(line) for line in done.stdout.splitlines())
    assert (dental["urgency"], dental["category"], dental["not_rated"]) == (
        "unknown",
        None,
        True,
    )
    assert dental["needs_review"] and dental["reviews_to_learn"] == 30
    assert eclampsia["urgency"] == "emergency" and not eclampsia["not_rated"]
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["reviews_to_learn"] == 30
    assert "30 more reviews before the box learns" in run_cli("status").stdout


def test_the_demo_samples_no_rule_flags_are_not_rated(engine: TriageEngine) -> None:
    """Before: 7 of 10 demo documents came out "urgent" (the model's vote)."""
    urgent = [
        name
        for name, text in SAMPLES.items()
        if engine.triage(text, summary=False, tasks=("urgency",)).urgency == "urgent"
        and not engine.rules.findings(text, parse_vitals(text))
    ]
    assert urgent == []


@pytest.mark.anyio
async def test_the_ui_shows_not_rated_and_the_reviews_to_learn(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    with Store(settings.db_path) as store:
        doc = store.add_document(file_name="dental.txt", sha256="d" * 64, size=5)
        store.set_state(doc, "extracted", text=DENTAL)
        store.record_ai_result(
            doc,
            {
                "category": None,
                "urgency": "unknown",
                "summary": "Amoxicillin 500 mg after extraction of tooth 36.",
                "needs_review": True,
                "provenance": {"review_reasons": [NOT_RATED, NOT_RATED]},
                "sources": {"category": "none", "urgency": "none"},
            },
        )
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        table = await queue_ready(pilot, 6)
        row = table.get_row_index(str(doc))
        assert table_rows(table)[row][0] == "?  not rated"
        table.move_cursor(row=row)
        await pilot.press("enter")
        await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        text = " ".join(screen_text(pilot.app).split())
        assert "NOT RATED YET" in text
        assert "30 more reviews before the box learns" in text


def test_the_vote_check_compares_with_the_rules_and_a_constant() -> None:
    truth = ["emergency", "urgent", "routine"] * 20
    rules = ["emergency", None, None] * 20
    always_urgent = predictions("urgency", rules, ["urgent"] * 60)
    alone = predictions("urgency", rules, [None] * 60)
    # Saying "urgent" for all lifts macro-F1 over the rules alone, yet carries
    # nothing: the constant baseline is what a vote must beat as well.
    assert macro_f1(truth, always_urgent) > macro_f1(truth, alone)
    assert paired_win_share(truth, always_urgent, always_urgent) == 0.0
    right = predictions("urgency", rules, truth)
    assert paired_win_share(truth, right, always_urgent) == 1.0
    rows = [{"urgency": t, "text": str(i)} for i, t in enumerate(truth)]
    subset = stratified_subset(rows, "urgency", 9)
    assert sorted(r["urgency"] for r in subset) == sorted(
        ["emergency", "urgent", "routine"] * 3
    )
    assert subset == stratified_subset(rows, "urgency", 9)  # fixed by its seed
    record = manifest_lines(
        "m.gguf",
        [
            {
                "task": "urgency",
                "n": 9,
                "seed": 2026,
                "vote": False,
                "macro_f1_rules_alone": 0.1,
                "macro_f1_rules_and_llm": 0.2,
                "best_constant": "urgent",
                "macro_f1_rules_and_constant": 0.3,
            }
        ],
    )
    assert "[model.votes]\nurgency = false\nmeasured = " in record


def test_eval_votes_and_new_box_from_the_cli(
    edgebox_home: Path, tmp_path: Path
) -> None:
    """A small labelled file through the real model: the record to paste, and
    a new box's figures."""
    rows = [
        {"text": ECLAMPSIA, "urgency": "emergency"},
        {
            "text": "Triage note. Fever 39 C for 3 days, HR 118/min.",
            "urgency": "urgent",
        },
        {"text": DENTAL, "urgency": "routine"},
        {"text": "Unconscious child, GCS 7, seizures.", "urgency": "emergency"},
        {"text": "Cough for a week, no fever, eating well.", "urgency": "routine"},
        {
            "text": "Abdominal pain since yesterday, vomiting twice.",
            "urgency": "urgent",
        },
    ]
    path = tmp_path / "urgency.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    votes = run_cli("eval", "--votes", "--test", str(path), "--subset", "6", "--json")
    assert votes.returncode == 0, votes.stderr
    report = json.loads(votes.stdout)
    assert report["n"] == 6 and isinstance(report["vote"], bool)
    assert "[model.votes]\nurgency = " in report["manifest"]
    assert sum(report["llm_labels"].values()) + report["llm_unanswered"] == 6
    new_box = run_cli("eval", "--new-box", "--test", str(path), "--json")
    assert new_box.returncode == 0, new_box.stderr
    figures = json.loads(new_box.stdout)
    assert figures["new_box"] and figures["n_train"] == 0
    assert figures["per_class"]["emergency"]["recall"] == 1.0  # the rules
