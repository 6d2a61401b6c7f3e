"""The learned classifiers with real scikit-learn on small fixture files."""

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest

from edgebox.clinical.redflags import load_rules
from edgebox.learn import classifiers as learn
from edgebox.learn.pipelines import (
    ConfidenceMap,
    emergency_threshold,
    held_out_splits,
    log_odds,
    pick_threshold,
)
from tests.support.paths import DATA


def examples(name: str) -> list[dict]:
    rows = [json.loads(line) for line in (DATA / name).read_text().splitlines()]
    return [
        {"document_id": i, "text": r["text"], "reviewed_at": f"2026-01-01T00:{i:02d}"}
        | {k: r[k] for k in ("category", "urgency") if k in r}
        for i, r in enumerate(rows)
    ]


URGENCY = examples("urgency_train.jsonl")
RASH = "Triage note. 30-year-old female. Chief complaint: mild rash on the arm."


def test_a_trained_model_round_trips_through_its_file(tmp_path: Path) -> None:
    texts = [e["text"] for e in URGENCY]
    model = learn.train("urgency", texts, [e["urgency"] for e in URGENCY])
    learn.save(model, tmp_path)
    loaded = learn.load(tmp_path, "urgency")
    assert loaded is not None and loaded.n_examples == len(URGENCY)
    assert loaded.predict(texts[:5]) == model.predict(texts[:5])
    assert all(0.0 <= p.confidence <= 1.0 for p in loaded.predict(texts))


def test_a_model_from_another_version_is_ignored(tmp_path: Path) -> None:
    model = learn.train(
        "urgency", [e["text"] for e in URGENCY], [e["urgency"] for e in URGENCY]
    )
    model.version = "learn-v0"
    learn.save(model, tmp_path)
    assert learn.load(tmp_path, "urgency") is None


def test_a_damaged_model_file_is_ignored_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = learn.model_path(tmp_path, "category")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    assert learn.load(tmp_path, "category") is None
    assert f"ignoring the unreadable learned model {path}" in caplog.text


# What learn-v5 pickled: its classes under their old module paths.
BEFORE_THE_MOVE = {
    "edgebox.learn (now a package)": b"cedgebox.learn\nLearnedModel\n)\x81.",
    "edgebox.learn_pipelines (gone)": (
        b"cedgebox.learn_pipelines\nOptionalTfidf\n)\x81."
    ),
}


@pytest.mark.parametrize("pickled", BEFORE_THE_MOVE.values(), ids=list(BEFORE_THE_MOVE))
def test_a_model_saved_before_the_modules_moved_is_retrained_once_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, pickled: bytes
) -> None:
    path = learn.model_path(tmp_path, "urgency")
    path.parent.mkdir(parents=True)
    path.write_bytes(pickled)
    with caplog.at_level(logging.INFO, logger=learn.__name__):
        assert learn.load(tmp_path, "urgency") is None
    assert f"the learned model {path} was saved by an older edgebox" in caplog.text
    assert "retrained once from the reviews" in caplog.text
    assert learn.retrain_if_due(URGENCY, tmp_path, min_examples=30)
    assert learn.load(tmp_path, "urgency").version == learn.LEARN_VERSION
    assert not learn.retrain_if_due(URGENCY, tmp_path, min_examples=30)


def test_retraining_waits_for_enough_reviews(tmp_path: Path) -> None:
    assert not learn.retrain_if_due(URGENCY[:20], tmp_path, min_examples=30)
    assert learn.retrain_if_due(URGENCY, tmp_path, min_examples=30)
    assert learn.load(tmp_path, "urgency") is not None
    assert learn.load(tmp_path, "category") is None  # no category labels here
    assert not learn.retrain_if_due(URGENCY, tmp_path, min_examples=30)


def test_retraining_picks_up_a_correction(tmp_path: Path) -> None:
    learn.retrain_if_due(URGENCY, tmp_path, min_examples=30)
    models = learn.LearnedModels(tmp_path)
    assert models.get("urgency").predict([RASH])[0].label == "routine"
    # A measles outbreak: staff now correct every rash to urgent.
    corrected = [
        e | {"urgency": "urgent", "reviewed_at": "2026-02-01T00:00"}
        if "rash" in e["text"]
        else e
        for e in URGENCY
    ]
    changed = sum(a != b for a, b in zip(URGENCY, corrected, strict=True))
    assert changed >= 2
    assert learn.retrain_if_due(corrected, tmp_path, min_examples=30, min_new=changed)
    assert models.get("urgency").predict([RASH])[0].label == "urgent"


def test_notes_without_section_headers_train_both_models(tmp_path: Path) -> None:
    """Short triage notes have no "HEADER:" lines: the header features must
    not refuse to fit (and one task's trouble must not stop the other)."""
    kinds = ("intake_note", "referral", "lab_result")
    rows = [e | {"category": kinds[i % 3]} for i, e in enumerate(URGENCY)]
    assert not any(":" in line and line.isupper() for e in rows for line in
                   e["text"].splitlines())  # fmt: skip
    assert learn.retrain_if_due(rows, tmp_path, min_examples=30)
    assert learn.load(tmp_path, "category") is not None
    assert learn.load(tmp_path, "urgency") is not None


def test_a_category_dropped_from_the_taxonomy_is_unlearned(tmp_path: Path) -> None:
    kinds = ("intake_note", "referral", "lab_result")
    rows = [e | {"category": kinds[i % 3]} for i, e in enumerate(URGENCY)]
    learn.retrain_if_due(rows, tmp_path, min_examples=30)
    assert set(learn.load(tmp_path, "category").labels) == set(kinds)
    # The NGO drops "lab_result" from edgebox.toml: no new review, yet the
    # model that still gives it retrains without it.
    kept = {"intake_note", "referral"}
    assert learn.retrain_if_due(rows, tmp_path, min_examples=20, categories=kept)
    assert set(learn.load(tmp_path, "category").labels) == kept


def test_too_few_examples_mean_no_learned_vote(tmp_path: Path) -> None:
    learn.retrain_if_due(URGENCY, tmp_path, min_examples=30)
    assert learn.LearnedModels(tmp_path, min_examples=100).get("urgency") is None


def test_failed_triages_are_not_training_labels() -> None:
    rows = [{"text": "x", "urgency": "unknown"}, {"text": " ", "urgency": "urgent"}]
    assert learn.labelled(rows + [{"text": "y", "urgency": "routine"}], "urgency") == [
        ("y", "routine")
    ]


def test_the_threshold_is_the_highest_that_reaches_the_recall_target() -> None:
    p = np.array([0.9, 0.6, 0.3, 0.2, 0.1, 0.05])
    emergency = np.array([True, True, True, True, False, False])
    by_rules = np.array([False, False, False, True, False, False])
    # 4 emergencies; the rules catch one; 75 % recall allows missing one.
    exact = {"margin_sd": 0.0}
    assert pick_threshold(p, emergency, by_rules, 0.75, **exact) == pytest.approx(0.6)
    assert pick_threshold(p, emergency, by_rules, 1.0, **exact) == pytest.approx(0.3)
    assert pick_threshold(p, emergency, emergency, 0.95) is None  # rules suffice


def test_the_threshold_keeps_a_margin_for_the_final_model() -> None:
    # 100 emergencies, none caught by rules, scored 0.01 .. 1.00: 95 % recall
    # allows 5 misses; half a standard deviation (sqrt(100 * .95 * .05) = 2.18)
    # spares one more, so only 3 may fall under the cut.
    p = np.arange(1, 101) / 100
    emergency = np.ones(100, dtype=bool)
    none = np.zeros(100, dtype=bool)
    assert pick_threshold(p, emergency, none, 0.95, margin_sd=0.0) == 0.06
    assert pick_threshold(p, emergency, none, 0.95, margin_sd=0.5) == 0.04


def test_a_single_label_cannot_be_learned() -> None:
    with pytest.raises(ValueError, match="two different labels"):
        learn.train("urgency", ["a", "b"], ["urgent", "urgent"])


def test_the_urgency_threshold_comes_from_the_training_data() -> None:
    # Emergencies no rule catches: only a threshold on the model can reach them.
    quiet = [
        f"Triage note. {age}-year-old male, brought by ambulance. Chief complaint: "
        f"chest discomfort. Mental status: alert. Vitals: BP 160/95, HR 88/min."
        for age in (48, 55, 61, 67, 72, 79)
    ]
    rules = load_rules()
    assert not any(f.level == "emergency" for t in quiet for f in rules.findings(t))
    texts = [e["text"] for e in URGENCY] + quiet
    labels = [e["urgency"] for e in URGENCY] + ["emergency"] * len(quiet)
    threshold = emergency_threshold(texts, labels, target_recall=1.0, seed=0)
    model = learn.train("urgency", texts, labels, emergency_recall=1.0)
    assert threshold is not None and 0.0 < threshold < 1.0
    assert model.emergency_threshold == threshold
    assert all(p.label == "emergency" for p in model.predict(quiet))


def test_a_level_seen_once_still_gets_an_emergency_threshold() -> None:
    quiet = [
        f"Triage note. {age}-year-old male, brought by ambulance. Chief complaint: "
        f"chest discomfort. Mental status: alert. Vitals: BP 160/95, HR 88/min."
        for age in (48, 55, 61, 67, 72, 79)
    ]
    routine = [e for e in URGENCY if e["urgency"] == "routine"][:1]
    others = [e for e in URGENCY if e["urgency"] != "routine"]
    texts = [e["text"] for e in others + routine] + quiet
    labels = [e["urgency"] for e in others + routine] + ["emergency"] * len(quiet)
    assert labels.count("routine") == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fold is short of a level
        threshold = emergency_threshold(texts, labels, target_recall=1.0, seed=0)
    assert threshold is not None and 0.0 < threshold < 1.0


def test_the_threshold_alone_decides_an_emergency() -> None:
    classes = ["emergency", "routine", "urgent"]
    assert learn.choose(classes, [0.25, 0.5, 0.25], "routine", 0.2).label == (
        "emergency"
    )
    # Most probable, yet under the threshold: the likelier other level.
    assert learn.choose(classes, [0.45, 0.2, 0.35], "emergency", 0.5) == (
        learn.Prediction("urgent", 0.35)
    )
    # No threshold (the rules alone reach the recall): the given label stands.
    assert learn.choose(classes, [0.45, 0.2, 0.35], "emergency", None) == (
        learn.Prediction("emergency", 0.45)
    )


def test_the_confidence_map_gives_the_accuracy_decisions_had() -> None:
    # Held-out decisions: levels scored 0.6 were right 9 times in 10, levels
    # scored 0.4 half the time; emergencies called at 0.2 were right 3 in 10.
    scores = log_odds([0.6] * 20 + [0.4] * 20 + [0.2] * 20)
    calls = [False] * 40 + [True] * 20
    right = (
        [True] * 18 + [False] * 2 + [True] * 10 + [False] * 10
        + [True] * 6 + [False] * 14
    )  # fmt: skip
    confidence = ConfidenceMap.fitted(scores, right, kinds=calls)
    assert confidence.n == 60
    level_06, level_04, emergency_02 = confidence(
        log_odds([0.6, 0.4, 0.2]), [False, False, True]
    )
    assert level_06 == pytest.approx(0.9, abs=0.04)
    assert level_04 == pytest.approx(0.5, abs=0.04)
    assert emergency_02 == pytest.approx(0.3, abs=0.04)


def test_decisions_all_right_still_rank_weak_below_strong() -> None:
    scores = np.linspace(0.5, 3.0, 20)  # an SVM's leads, every label right
    confidence = ConfidenceMap.fitted(scores, [True] * 20)
    weak, strong = confidence([0.5, 3.0])
    assert 0.5 < weak < strong <= 21 / 22  # no more than 20 decisions can show


def test_a_map_where_more_confident_means_less_often_right_is_not_trusted() -> None:
    confidence = ConfidenceMap.fitted(
        [0.5] * 10 + [3.0] * 10, [True] * 10 + [False] * 10
    )
    # (10 right + 1) / (20 + 2), whatever the score.
    assert list(confidence([0.5, 3.0])) == [0.5, 0.5]


def test_a_noisy_kind_does_not_flatten_the_other() -> None:
    # Levels: the three weakest wrong, the rest right. Emergencies: surer ones
    # wrong more often (noise), so their kind falls back to its own rate.
    levels = list(np.linspace(-1.0, 3.0, 40))
    level_right = [False] * 3 + [True] * 37
    emergencies = [-2.0, -1.5, -1.0, 1.0, 1.5, 2.0]
    emergency_right = [True, True, True, False, False, True]
    confidence = ConfidenceMap.fitted(
        levels + emergencies,
        level_right + emergency_right,
        kinds=[False] * 40 + [True] * 6,
    )
    weak_level, strong_level = confidence([-1.0, 3.0], [False, False])
    assert weak_level < 0.6 < 0.9 < strong_level
    (emergency,) = confidence([2.0], [True])
    assert emergency == pytest.approx((4 + 1) / (6 + 2))  # its smoothed rate


def test_nothing_held_out_means_a_coin_toss() -> None:
    confidence = ConfidenceMap.fitted([], [])
    assert (confidence.n, list(confidence([1.0]))) == (0, [0.5])


def test_urgency_confidence_is_mapped_from_held_out_decisions() -> None:
    # The same notes twice with the other level: held-out folds get some wrong.
    texts = [e["text"] for e in URGENCY]
    labels = [e["urgency"] for e in URGENCY]
    flipped = {"routine": "urgent", "urgent": "routine", "emergency": "urgent"}
    noisy_texts = texts + texts[::3]
    noisy_labels = labels + [flipped[label] for label in labels[::3]]
    model = learn.train("urgency", noisy_texts, noisy_labels)
    assert model.confidence_map is not None
    assert model.describe()["confidence_mapped_on"] == len(noisy_texts)
    raw = model.pipeline.predict_proba(texts)
    mapped = model.predict(texts)
    assert all(0.0 < p.confidence < 1.0 for p in mapped)
    classes = list(model.pipeline.classes_)
    raw_of_label = [
        row[classes.index(p.label)] for row, p in zip(raw, mapped, strict=True)
    ]
    expected = model.confidence_map(
        log_odds(raw_of_label), [p.label == "emergency" for p in mapped]
    )
    assert [p.confidence for p in mapped] == pytest.approx(list(expected))
    assert [p.confidence for p in mapped] != pytest.approx(raw_of_label)


def documents_and_snippets() -> tuple[list[str], list[str]]:
    """The fixture documents, and a short snippet from the middle of each: weak
    evidence, small margins, for the margin map to tell apart."""
    rows = examples("category_train.jsonl")
    texts, labels = [r["text"] for r in rows], [r["category"] for r in rows]
    snippets = [t[len(t) // 2 : len(t) // 2 + 60] for t in texts]
    return texts + snippets, labels + labels


def test_document_type_confidence_comes_from_held_out_margins() -> None:
    texts, labels = documents_and_snippets()
    model = learn.train("category", texts, labels)
    svm = model.pipeline[-1]
    assert svm.confidence_.kinds[False].model is not None  # a slope, not a rate
    assert model.describe()["confidence_mapped_on"] == len(texts)
    predictions = model.predict(texts)
    assert [p.label for p in predictions] == list(model.pipeline.predict(texts))
    features = model.pipeline[:-1].transform(texts)
    margins = np.sort(svm.svm_.decision_function(features), axis=1)
    expected = svm.confidence_(margins[:, -1] - margins[:, -2])
    assert [p.confidence for p in predictions] == pytest.approx(list(expected))
    half = len(texts) // 2  # the documents, then their snippets
    documents = np.mean([p.confidence for p in predictions[:half]])
    snippets = np.mean([p.confidence for p in predictions[half:]])
    assert snippets < documents  # weak evidence, less confidence


def test_two_document_types_are_enough() -> None:
    # A binary SVM gives one score column, not one per type.
    pair = [
        r
        for r in examples("category_train.jsonl")
        if r["category"] in ("letter", "imaging_report")
    ]
    model = learn.train(
        "category", [r["text"] for r in pair], [r["category"] for r in pair]
    )
    predictions = model.predict([r["text"] for r in pair])
    assert [p.label for p in predictions] == [r["category"] for r in pair]
    assert all(0.5 < p.confidence < 1.0 for p in predictions)
    probabilities = model.pipeline.predict_proba([r["text"] for r in pair])
    assert probabilities.shape == (len(pair), 2)
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(len(pair)))


def test_a_type_seen_once_always_trains_and_the_rest_is_held_out() -> None:
    labels = ["letter"] * 4 + ["consultation"] * 3 + ["operative_report"]
    splits = held_out_splits(labels, 5, seed=0)
    assert len(splits) == 3  # as many folds as the rarest repeated type allows
    held = sorted(i for _, test in splits for i in test)
    assert held == list(range(7))  # every row but the one seen once, once
    assert all(7 in train for train, _ in splits)
