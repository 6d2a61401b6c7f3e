"""`edgebox eval` logic: known figures on hand-made outcomes and small fixtures."""

import json
import re
from pathlib import Path

import pytest

from edgebox import config
from edgebox.evaluation.evaluate import (
    EvalError,
    Outcome,
    format_report,
    metrics,
    read_jsonl,
    run_eval,
)
from edgebox.triage.engine import TriageEngine
from tests.support.paths import DATA


def settings(tmp_path: Path) -> config.Config:
    return config.Config(home=tmp_path, source=None)


def test_metrics_of_hand_made_outcomes() -> None:
    outcomes = [
        Outcome("emergency", "emergency", True),
        Outcome("emergency", "urgent", False),
        Outcome("urgent", "urgent", False),
        Outcome("urgent", "urgent", True),
        Outcome("routine", "urgent", False),
        Outcome("routine", "routine", False),
    ]
    report = metrics("urgency", outcomes)
    assert report["n"] == 6
    assert report["accuracy"] == pytest.approx(4 / 6, abs=0.001)
    assert report["per_class"]["emergency"] == {
        "precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2,
    }  # fmt: skip
    assert report["per_class"]["urgent"]["precision"] == 0.5
    # F1: emergency 2/3, urgent 2/3 (p 0.5, r 1), routine 2/3 (p 1, r 0.5)
    assert report["macro_f1"] == pytest.approx(0.667, abs=0.001)
    assert report["emergency_recall"] == 0.5
    assert report["review_rate"] == pytest.approx(2 / 6, abs=0.001)
    assert report["confusion"] == [[1, 0, 1], [0, 1, 1], [0, 0, 2]]
    assert report["labels"] == ["emergency", "routine", "urgent"]
    # One of two emergencies called urgent and not reviewed: nobody looks.
    assert report["missed_unreviewed"] == 0.5
    # Looked at: the reviewed emergency and the reviewed urgent note.
    assert report["attention"] == pytest.approx(2 / 6, abs=0.001)


def test_attention_counts_an_unreviewed_emergency_and_spares_a_reviewed_miss() -> None:
    report = metrics(
        "urgency",
        [
            Outcome("emergency", "routine", True),  # missed, but a person looks
            Outcome("routine", "emergency", False),  # called emergency: looked at
            Outcome("routine", "routine", False),
        ],
    )
    assert report["missed_unreviewed"] == 0.0
    assert report["attention"] == pytest.approx(2 / 3, abs=0.001)


def test_an_unknown_prediction_is_a_column_and_an_error() -> None:
    report = metrics(
        "category",
        [Outcome("letter", "unknown", True), Outcome("letter", "letter", False)],
    )
    assert report["labels"] == ["letter", "unknown"]
    assert report["confusion"] == [[1, 1]]
    assert report["accuracy"] == 0.5
    assert "emergency_recall" not in report


def test_calibration_of_hand_made_confidences() -> None:
    outcomes = [
        Outcome("letter", "letter", False, 0.9),
        Outcome("letter", "consultation", False, 1.0),  # 1.0 is in the last bin
        Outcome("letter", "letter", True, 0.35),
        Outcome("letter", "letter", True, None),  # an LLM label: no confidence
    ]
    report = metrics("category", outcomes)
    assert report["reliability"] == [
        {"from": 0.3, "to": 0.4, "n": 1, "confidence": 0.35, "accuracy": 1.0},
        {"from": 0.9, "to": 1.0, "n": 2, "confidence": 0.95, "accuracy": 0.5},
    ]
    # (1 x |0.35 - 1| + 2 x |0.95 - 0.5|) / 3 labels with a confidence
    assert report["calibration_error"] == pytest.approx(0.517, abs=0.001)
    assert report["with_confidence"] == 0.75
    assert report["unreviewed_accuracy"] == 0.5  # the two not sent to review
    text = format_report(report)
    assert "calibration error 0.517 (75% of labels carry a confidence)" in text
    assert "  0.9-1.0       2   0.95   0.50" in text.splitlines()


def test_no_confidence_no_calibration_figure() -> None:
    report = metrics("category", [Outcome("letter", "letter", True)])
    assert report["calibration_error"] is None and report["reliability"] == []
    assert report["unreviewed_accuracy"] is None  # everything was reviewed
    assert "calibration: no label carried a confidence" in format_report(report)


@pytest.mark.parametrize("task", ["urgency", "category"])
def test_eval_on_the_fixtures(task: str, tmp_path: Path) -> None:
    report = run_eval(
        DATA / f"{task}_train.jsonl",
        DATA / f"{task}_test.jsonl",
        config=settings(tmp_path),
    )
    _, test_rows = read_jsonl(DATA / f"{task}_test.jsonl")
    assert (report["task"], report["n"], report["n_train"]) == (task, 12, 36)
    # The fixtures' classes are written apart on purpose: a working path is exact.
    assert report["macro_f1"] == 1.0 and report["accuracy"] == 1.0
    assert report["llm_calls"] == 0  # the learned models had data: no LLM vote
    assert report["docs_per_s"] > 0
    if task == "urgency":
        assert report["emergency_recall"] == 1.0
        emergencies = sum(r["urgency"] == "emergency" for r in test_rows)
        assert report["review_rate"] >= emergencies / 12  # every emergency reviewed
    text = format_report(report)
    assert f"task {task}: 12 test documents, trained on 36" in text
    assert "confusion (rows: truth, columns: predicted)" in text
    json.dumps(report)  # --json prints it as it is


def test_the_label_field_names_the_task(tmp_path: Path) -> None:
    both = tmp_path / "both.jsonl"
    both.write_text('{"text": "x", "category": "letter", "urgency": "urgent"}\n')
    with pytest.raises(EvalError, match="exactly one label field"):
        read_jsonl(both)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "x", "category": "letter"}\n{oops\n')
    with pytest.raises(EvalError, match="broken.jsonl:2 is not valid JSON"):
        read_jsonl(broken)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty.jsonl has no rows"),
        (b'{"text": "caf\xe9", "category": "letter"}\n', "is not UTF-8 text"),
        (b'{"text": "a", "category": "letter"}\n{"text": "b"}\n',
         "empty.jsonl:2 needs a non-empty text 'category' label"),
        (b'{"text": "a", "category": null}\n', ":1 needs a non-empty text"),
        (b'{"text": "a", "category": ""}\n', ":1 needs a non-empty text"),
        (b'{"text": "a", "category": ["x"]}\n', ":1 needs a non-empty text"),
    ],
)  # fmt: skip
def test_a_bad_eval_file_is_one_line_naming_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    with pytest.raises(EvalError, match=re.escape(message)):
        read_jsonl(path)


def test_a_bom_is_read_and_one_label_cannot_train(tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    one.write_bytes(b"\xef\xbb\xbf" + b'{"text": "a note", "category": "letter"}\n' * 3)
    assert read_jsonl(one)[0] == "category"
    with pytest.raises(EvalError, match="every row is labelled 'letter'"):
        run_eval(one, one, config=settings(tmp_path))


def test_train_and_test_must_be_the_same_task(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="labelled urgency"):
        run_eval(
            DATA / "urgency_train.jsonl",
            DATA / "category_test.jsonl",
            config=settings(tmp_path),
        )


@pytest.mark.slow
@pytest.mark.model
def test_without_enough_reviews_a_model_with_a_vote_votes(
    engine: TriageEngine,
) -> None:
    """A GGUF whose manifest record grants it the urgency vote (the bundled
    one has none: see the next test) is asked for every document."""
    engine.llm_may_vote = frozenset({"urgency"})
    try:
        report = run_eval(
            DATA / "urgency_train.jsonl",
            DATA / "urgency_test.jsonl",
            config=engine.config,
            engine=engine,
            min_examples=1000,
        )
    finally:
        engine.llm_may_vote = frozenset()
    assert report["llm_calls"] == report["n"] == 12
    assert report["emergency_recall"] == 1.0  # the rules catch these emergencies
    assert report["learned_model_used"] is False
    assert "the learned model needs 1000 training rows and stayed out" in (
        format_report(report)
    )


@pytest.mark.model
def test_without_enough_reviews_a_model_with_no_vote_is_not_asked(
    engine: TriageEngine,
) -> None:
    assert engine.llm_may_vote == frozenset()  # models/manifest.toml
    report = run_eval(
        DATA / "urgency_train.jsonl",
        DATA / "urgency_test.jsonl",
        config=engine.config,
        engine=engine,
        min_examples=1000,
    )
    assert report["llm_calls"] == 0
    assert report["emergency_recall"] == 1.0  # the rules alone
    assert "not rated" in format_report(report) or report["review_rate"] == 1.0
