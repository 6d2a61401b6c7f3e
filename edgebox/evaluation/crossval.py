"""Cross-validated figures for `edgebox eval`, rerunnable by one command.

Stratified k-fold over one labelled JSONL file, for a few fixed seeds. Each
fold trains the learned model on the other folds (with its own inner
cross-validation for the emergency threshold, the SVM's strength and the
confidence map) and runs the deployed decision
path on the held-out fold; the held-out answers of all folds are pooled into
one report per seed, and the headline figures are their mean and spread.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgebox.config import Config, TriageConfig
from edgebox.evaluation.evaluate import Outcome, evaluate_split, metrics, read_jsonl
from edgebox.triage.engine import TriageEngine

HEADLINE = (
    "macro_f1",
    "accuracy",
    "emergency_recall",
    "missed_unreviewed",
    "attention",
    "review_rate",
    "unreviewed_accuracy",
    "calibration_error",
)


def run_crossval(
    path: Path,
    *,
    config: Config,
    folds: int = 5,
    seeds: Sequence[int] = (0, 1, 2),
    emergency_recall: float = TriageConfig.emergency_recall,
    engine: TriageEngine | None = None,
) -> dict[str, Any]:
    """Pooled held-out figures per seed, with their mean and standard deviation."""
    from sklearn.model_selection import StratifiedKFold  # lazy: heavy import

    task, rows = read_jsonl(path)
    labels = [str(row[task]) for row in rows]
    per_seed: list[dict[str, Any]] = []
    for seed in seeds:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        outcomes: list[Outcome] = []
        decide_seconds = 0.0
        for train_index, test_index in splitter.split(rows, labels):
            started = time.perf_counter()
            fold, fold_outcomes = evaluate_split(
                task,
                [rows[i] for i in train_index],
                [rows[i] for i in test_index],
                config=config,
                engine=engine,
                emergency_recall=emergency_recall,
            )
            decide_seconds += time.perf_counter() - started - fold["train_seconds"]
            outcomes += fold_outcomes
        report = metrics(task, outcomes)
        report["docs_per_s"] = round(len(rows) / decide_seconds, 2)
        report["seed"] = seed
        per_seed.append(report)
    return _summary(per_seed, folds=folds, emergency_recall=emergency_recall)


def _summary(
    per_seed: list[dict[str, Any]], *, folds: int, emergency_recall: float
) -> dict[str, Any]:
    # Per-class figures, confusion and calibration bins: the first seed's.
    summary = dict(per_seed[0])
    for key in (*HEADLINE, "docs_per_s"):
        values = [r[key] for r in per_seed if r.get(key) is not None]
        if values:
            summary[key] = round(statistics.fmean(values), 3)
            summary[f"{key}_sd"] = round(
                statistics.pstdev(values) if len(values) > 1 else 0.0, 3
            )
    summary |= {
        "folds": folds,
        "seeds": [r["seed"] for r in per_seed],
        "emergency_recall_target": emergency_recall,
        "per_seed": [
            {k: r.get(k) for k in ("seed", *HEADLINE, "docs_per_s")} for r in per_seed
        ],
    }
    summary.pop("seed", None)
    return summary
