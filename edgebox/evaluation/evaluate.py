"""`edgebox eval`: train as if staff had reviewed one file, triage another.

The test documents go through `TriageEngine.triage` itself (rules, learned
models, `combine.decide`), without the LLM's summary: the LLM votes a label
only for a task whose learned model lacks data, and only where its manifest
record grants it a vote, exactly as on the box. The
label field of the JSONL rows ("category" or "urgency") says which task is
measured; the label set comes from the data.

`run_crossval` repeats this over stratified folds of one file (fixed seeds), so
that the figures in a report can be rerun by a command (scripts/crossval.py).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from edgebox.config import Config, TriageConfig
from edgebox.evaluation.jsonl import EvalError, read_jsonl
from edgebox.learn.classifiers import (
    LearnedModel,
    LearnedModels,
    train,
)
from edgebox.triage.combine import review_covers
from edgebox.triage.engine import TriageEngine

CALIBRATION_BINS = 10


class Outcome(NamedTuple):
    """One test document: its label, the engine's, whether a person would
    check it, and the confidence the engine gave its label (None: none)."""

    truth: str
    predicted: str
    review: bool
    confidence: float | None = None


def run_eval(
    train_path: Path,
    test_path: Path,
    *,
    config: Config,
    engine: TriageEngine | None = None,
    emergency_recall: float | None = None,
    min_examples: int | None = None,
) -> dict[str, Any]:
    """Train on one file, run the deployed decision path on the other, with
    the box's `[triage]` settings unless told otherwise."""
    task, train_rows = read_jsonl(train_path)
    test_task, test_rows = read_jsonl(test_path)
    if test_task != task:
        raise EvalError(f"{train_path} is labelled {task}, {test_path} {test_task}")
    labels = {row[task] for row in train_rows}
    if len(labels) < 2:
        raise EvalError(
            f"{train_path}: every row is labelled {labels.pop()!r}; training needs"
            " at least two different labels"
        )
    if emergency_recall is None:
        emergency_recall = config.triage.emergency_recall
    report, _ = evaluate_split(
        task,
        train_rows,
        test_rows,
        config=config,
        engine=engine,
        emergency_recall=emergency_recall,
        min_examples=(
            config.triage.min_examples if min_examples is None else min_examples
        ),
    )
    if task == "urgency":
        report["emergency_recall_target"] = emergency_recall
    return report


def run_new_box(
    task: str,
    rows: Sequence[dict[str, Any]],
    *,
    config: Config,
    engine: TriageEngine | None = None,
) -> dict[str, Any]:
    """Triage as a box with no reviews yet: rules, vital signs and the LLM's
    vote where its manifest record grants one; no learned model."""
    learned = LearnedModels(None, preset={})
    if engine is None:
        engine = TriageEngine(config, learned=learned, lazy_model=True)
    saved = engine.learned
    engine.learned = learned
    started = time.perf_counter()
    try:
        outcomes, llm_calls = _run(engine, task, rows)
    finally:
        engine.learned = saved
    seconds = time.perf_counter() - started
    return metrics(task, outcomes) | {
        "n_train": 0,
        "new_box": True,
        "llm_votes": sorted(engine.llm_may_vote),
        "llm_calls": llm_calls,
        "docs_per_s": round(len(rows) / seconds, 2) if seconds else None,
        "not_rated": sum(o.predicted == "unknown" for o in outcomes),
    }


def evaluate_split(
    task: str,
    train_rows: Sequence[dict[str, Any]],
    test_rows: Sequence[dict[str, Any]],
    *,
    config: Config,
    engine: TriageEngine | None = None,
    emergency_recall: float = TriageConfig.emergency_recall,
    min_examples: int = TriageConfig.min_examples,
) -> tuple[dict[str, Any], list[Outcome]]:
    """Metrics for one train/test split, and each test row's outcome."""
    texts = [row["text"] for row in train_rows]
    labels = [str(row[task]) for row in train_rows]
    started = time.perf_counter()
    try:
        model = train(task, texts, labels, emergency_recall=emergency_recall)
    except ValueError as exc:  # one label only, nothing to learn from
        raise EvalError(f"cannot train the {task} model: {exc}") from exc
    train_seconds = time.perf_counter() - started
    learned = LearnedModels(None, min_examples=min_examples, preset={task: model})
    if engine is None:
        engine = TriageEngine(config, learned=learned, lazy_model=True)
    saved = engine.learned, engine.categories
    engine.learned = learned
    if task == "category":
        engine.categories = frozenset(labels)  # the label set comes from the data
    started = time.perf_counter()
    try:
        outcomes, llm_calls = _run(engine, task, test_rows)
    finally:
        # A shared engine keeps the box's own models and taxonomy.
        engine.learned, engine.categories = saved
    seconds = time.perf_counter() - started
    report = metrics(task, outcomes)
    report |= {
        "n_train": len(train_rows),
        "docs_per_s": round(len(test_rows) / seconds, 2) if seconds else None,
        "train_seconds": round(train_seconds, 2),
        "llm_calls": llm_calls,
        "emergency_threshold": model.emergency_threshold,
        # As on a new box: below min_examples the learned model stays out.
        "learned_model_used": len(train_rows) >= min_examples,
        "min_examples": min_examples,
    }
    return report, outcomes


def run_with_models(
    engine: TriageEngine,
    task: str,
    rows: Sequence[dict[str, Any]],
    models: Mapping[str, LearnedModel],
) -> list[Outcome]:
    """The deployed decision path on `rows` with these learned models (none: a
    new box), the category labels being the data's own."""
    saved = engine.learned, engine.categories
    engine.learned = LearnedModels(None, min_examples=0, preset=models)
    if task == "category":
        engine.categories = frozenset(str(row[task]) for row in rows)
    try:
        return _run(engine, task, rows)[0]
    finally:
        engine.learned, engine.categories = saved


def _run(
    engine: TriageEngine, task: str, rows: Sequence[dict[str, Any]]
) -> tuple[list[Outcome], int]:
    outcomes: list[Outcome] = []
    llm_calls = 0
    for row in rows:
        result = engine.triage(row["text"], summary=False, tasks=(task,))
        llm_calls += result.provenance["tokens_out"] > 0
        review = review_covers(result.provenance.get("review_about", []), task)
        confidence = result.provenance.get("field_confidence", {}).get(task)
        outcomes.append(
            Outcome(
                str(row[task]), getattr(result, task) or "unknown", review, confidence
            )
        )
    return outcomes, llm_calls


def metrics(task: str, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Macro-F1, accuracy, per-class precision/recall, confusion, review share,
    and how far the confidences are from the accuracy they claim."""
    truth = [o.truth for o in outcomes]
    predicted = [o.predicted for o in outcomes]
    classes = sorted(set(truth))
    shown = classes + sorted(set(predicted) - set(classes))
    per_class: dict[str, dict[str, float | int]] = {}
    for label in classes:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        n_pred, n_true = predicted.count(label), truth.count(label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_true if n_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        per_class[label] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "support": n_true,
        }
    n = len(outcomes)
    report: dict[str, Any] = {
        "task": task,
        "n": n,
        "labels": shown,
        "macro_f1": round(statistics.fmean(c["f1"] for c in per_class.values()), 3),
        "accuracy": round(
            sum(t == p for t, p in zip(truth, predicted, strict=True)) / n, 3
        ),
        "per_class": per_class,
        "confusion": [
            [
                sum(t == a and p == b for t, p in zip(truth, predicted, strict=True))
                for b in shown
            ]
            for a in classes
        ],
        "review_rate": round(sum(o.review for o in outcomes) / n, 3),
        "unreviewed_accuracy": _accuracy([o for o in outcomes if not o.review]),
    }
    report |= calibration(outcomes)
    if task == "urgency":
        report["emergency_recall"] = per_class.get("emergency", {}).get("recall")
        report |= attention(outcomes)
    return report


def attention(outcomes: Sequence[Outcome]) -> dict[str, float | None]:
    """What a clinic feels: `missed_unreviewed`, the share of emergencies given
    another urgency and not sent to review (nobody will look at them); and
    `attention`, the share of all documents a person must look at (called an
    emergency, or sent to review)."""
    emergencies = [o for o in outcomes if o.truth == "emergency"]
    missed = [o for o in emergencies if o.predicted != "emergency" and not o.review]
    looked_at = [o for o in outcomes if o.review or o.predicted == "emergency"]
    return {
        "missed_unreviewed": (
            round(len(missed) / len(emergencies), 3) if emergencies else None
        ),
        "attention": round(len(looked_at) / len(outcomes), 3) if outcomes else None,
    }


def _accuracy(outcomes: Sequence[Outcome]) -> float | None:
    if not outcomes:
        return None
    return round(sum(o.truth == o.predicted for o in outcomes) / len(outcomes), 3)


def calibration(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """How far confidence is from accuracy: a label given 0.7 should be right
    70% of the time. The expected calibration error is the mean gap over
    equal-width bins, weighted by their size. Labels with no confidence (the
    LLM's, a level the rules raised) are left out and counted apart."""
    scored = [o for o in outcomes if o.confidence is not None]
    by_bin: dict[int, list[Outcome]] = {}
    for o in scored:  # 1.0 belongs to the last bin
        index = min(int(o.confidence * CALIBRATION_BINS), CALIBRATION_BINS - 1)
        by_bin.setdefault(index, []).append(o)
    bins: list[dict[str, Any]] = []
    gap = 0.0
    for index, inside in sorted(by_bin.items()):
        confidence = statistics.fmean(o.confidence for o in inside)
        accuracy = statistics.fmean(o.truth == o.predicted for o in inside)
        gap += len(inside) * abs(confidence - accuracy)
        bins.append(
            {
                "from": round(index / CALIBRATION_BINS, 2),
                "to": round((index + 1) / CALIBRATION_BINS, 2),
                "n": len(inside),
                "confidence": round(confidence, 3),
                "accuracy": round(accuracy, 3),
            }
        )
    return {
        "calibration_error": round(gap / len(scored), 3) if scored else None,
        "with_confidence": round(len(scored) / len(outcomes), 3) if outcomes else 0.0,
        "reliability": bins,
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as plain text for a terminal."""
    lines = [
        f"task {report['task']}: {report['n']} test documents"
        + (f", trained on {report['n_train']}" if "n_train" in report else ""),
        f"macro-F1 {_figure(report, 'macro_f1')}   "
        f"accuracy {_figure(report, 'accuracy')}",
    ]
    if report.get("new_box"):
        votes = ", ".join(report["llm_votes"]) or "none"
        lines.insert(
            1,
            f"a new box (no reviews): {report['not_rated']} not rated yet;"
            f" the model votes on: {votes}",
        )
    if report.get("learned_model_used") is False:
        lines.insert(
            1,
            f"the learned model needs {report['min_examples']} training rows and"
            " stayed out: rated as a new box (the rules, and the LLM where"
            " its manifest record gives it a vote)",
        )
    if report["task"] == "urgency":
        target = report.get("emergency_recall_target")
        lines.append(
            f"emergency recall {_figure(report, 'emergency_recall')}"
            + (f" (target {target:.2f})" if target is not None else "")
        )
        lines.append(
            "emergencies missed and not reviewed"
            f" {_figure(report, 'missed_unreviewed')}   documents a person must"
            f" look at {_figure(report, 'attention')}"
        )
    lines.append(
        f"sent to review {_figure(report, 'review_rate')}   "
        f"right when not reviewed {_figure(report, 'unreviewed_accuracy')}   "
        f"docs/s {_figure(report, 'docs_per_s')}"
    )
    lines += ["", f"{'label':20} {'precision':>9} {'recall':>7} {'support':>8}"]
    for label, c in report["per_class"].items():
        lines.append(
            f"{label:20} {c['precision']:9.3f} {c['recall']:7.3f} {c['support']:8d}"
        )
    shown = report["labels"]
    width = max(5, *(len(s[:9]) for s in shown))
    lines += ["", "confusion (rows: truth, columns: predicted)"]
    lines.append(" " * 20 + " ".join(f"{s[:9]:>{width}}" for s in shown))
    for label, row in zip(report["per_class"], report["confusion"], strict=True):
        lines.append(f"{label:20}" + " ".join(f"{v:>{width}}" for v in row))
    lines += _reliability_lines(report)
    return "\n".join(lines)


def _reliability_lines(report: dict[str, Any]) -> list[str]:
    """The confidence bins: what each claimed against how often it was right."""
    if not report.get("reliability"):
        return ["", "calibration: no label carried a confidence"]
    lines = [
        "",
        f"calibration error {_figure(report, 'calibration_error')} "
        f"({report['with_confidence']:.0%} of labels carry a confidence)",
        f"{'confidence':>12} {'n':>5} {'mean':>6} {'right':>6}",
    ]
    for b in report["reliability"]:
        lines.append(
            f"{b['from']:5.1f}-{b['to']:<4.1f}  {b['n']:5d} "
            f"{b['confidence']:6.2f} {b['accuracy']:6.2f}"
        )
    return lines


def _figure(report: dict[str, Any], key: str) -> str:
    value = report.get(key)
    spread = report.get(f"{key}_sd")
    if value is None:
        return "n/a"
    return f"{value:.3f} ± {spread:.3f}" if spread is not None else f"{value:.3f}"
