"""How far any emergency threshold could take the learned urgency model.

The box sends a level to "emergency" when the model's probability of it
reaches a threshold chosen, on the training data alone, to keep emergency
recall at its target. This module asks what the best threshold could give:
for each recall target, the best macro-F1 of the thresholds that reach it on
the pooled held-out answers of a cross-validation. The threshold is chosen on
the very answers it is judged on (an oracle), so the figures are bounds, not
results: no rule for placing the threshold can beat them with this model.
When the bound is below a target, the model (and the notes it reads) is what
stands in the way, not the threshold.

As on the box, the red-flag rules raise the level; the LLM is left out (it
votes only where no learned model exists).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgebox.clinical.redflags import RuleSet, highest_level, load_rules
from edgebox.evaluation.evaluate import EvalError, read_jsonl
from edgebox.learn.classifiers import SEED
from edgebox.vocabulary import Urgency

RECALL_TARGETS = (0.80, 0.85, 0.90, 0.95)


def urgency_ceiling(
    path: Path,
    *,
    folds: int = 5,
    seeds: Sequence[int] = (0, 1, 2),
    targets: Sequence[float] = RECALL_TARGETS,
    rules: RuleSet | None = None,
) -> dict[str, Any]:
    """Per recall target, the best macro-F1 any threshold gives (mean and
    spread over seeds), and the macro-F1 of the most probable level."""
    from sklearn.model_selection import StratifiedKFold  # lazy: heavy import

    task, rows = read_jsonl(path)
    if task != "urgency":
        raise EvalError(f"{path}: the ceiling is for the urgency task, not {task}")
    texts = [str(row["text"]) for row in rows]
    truth = np.array([str(row["urgency"]) for row in rows])
    rules = load_rules() if rules is None else rules
    raised = [highest_level(rules.findings(text)) for text in texts]
    most_probable: list[float] = []
    best: dict[float, list[float]] = {target: [] for target in targets}
    for seed in seeds:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        probabilities = np.zeros((len(rows), 3))
        for train_index, test_index in splitter.split(texts, truth):
            probabilities[test_index] = _held_out(texts, truth, train_index, test_index)
        most_probable.append(_macro_f1(truth, levels(probabilities, None, raised)))
        reached = by_threshold(truth, probabilities, raised)
        for target in targets:
            best[target].append(max(f1 for recall, f1 in reached if recall >= target))
    return {
        "task": "urgency",
        "n": len(rows),
        "folds": folds,
        "seeds": list(seeds),
        "most_probable_macro_f1": _spread(most_probable),
        "best_macro_f1_by_recall": {
            f"{target:.2f}": _spread(values) for target, values in best.items()
        },
    }


LEVELS = tuple(sorted(Urgency.levels()))
"""The probability columns, in scikit-learn's order: emergency, routine, urgent."""


def _held_out(
    texts: list[str], truth: np.ndarray, train_index: Any, test_index: Any
) -> np.ndarray:
    from edgebox.learn.pipelines import build_pipeline

    labels = [str(label) for label in truth[train_index]]
    if set(labels) != set(LEVELS):
        raise EvalError("every fold needs emergency, urgent and routine examples")
    pipeline = build_pipeline("urgency", labels, seed=SEED)
    pipeline.fit([texts[i] for i in train_index], labels)
    columns = [list(pipeline.classes_).index(level) for level in LEVELS]
    return pipeline.predict_proba([texts[i] for i in test_index])[:, columns]


def levels(
    probabilities: np.ndarray, threshold: float | None, raised: list[str | None]
) -> np.ndarray:
    """The box's decision: emergency at or above the threshold (without one,
    the most probable level), else the likelier other level; then the rules
    raise it."""
    emergency, routine, urgent = probabilities.T
    other = np.where(urgent >= routine, "urgent", "routine")
    if threshold is None:
        learned = np.where(probabilities.argmax(axis=1) == 0, "emergency", other)
    else:
        learned = np.where(emergency >= threshold, "emergency", other)
    return np.array(
        [
            rule if rule and Urgency(rule).rank < Urgency(str(level)).rank else level
            for level, rule in zip(learned, raised, strict=True)
        ]
    )


def by_threshold(
    truth: np.ndarray, probabilities: np.ndarray, raised: list[str | None]
) -> list[tuple[float, float]]:
    """(emergency recall, macro-F1) at every threshold that changes a decision."""
    is_emergency = truth == "emergency"
    reached = []
    for threshold in np.unique(np.append(probabilities[:, 0], np.inf)):
        decided = levels(probabilities, float(threshold), raised)
        recall = float(np.mean(decided[is_emergency] == "emergency"))
        reached.append((recall, _macro_f1(truth, decided)))
    return reached


def _macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, labels=list(LEVELS), average="macro"))


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), 3),
        "sd": round(statistics.pstdev(values), 3),
    }


def format_ceiling(report: dict[str, Any]) -> str:
    """The bounds as a short table."""
    lines = [
        f"urgency ceiling: {report['n']} notes, {report['folds']}-fold,"
        f" seeds {report['seeds']} (thresholds chosen on the held-out answers:"
        " bounds, not results)",
        "most probable level, no threshold: macro-F1"
        f" {_shown(report['most_probable_macro_f1'])}",
    ]
    for target, value in report["best_macro_f1_by_recall"].items():
        lines.append(f"emergency recall >= {target}: best macro-F1 {_shown(value)}")
    return "\n".join(lines) + "\n"


def _shown(value: dict[str, float]) -> str:
    return f"{value['mean']:.3f} ± {value['sd']:.3f}"
