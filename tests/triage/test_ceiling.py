"""The urgency ceiling: what the best emergency threshold could give."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgebox.evaluation.ceiling import by_threshold, levels, urgency_ceiling
from edgebox.evaluation.evaluate import EvalError
from tests.support.paths import DATA
from tests.support.processes import crossval

# Four notes worked by hand. Columns: emergency, routine, urgent.
TRUTH = np.array(["emergency", "emergency", "urgent", "routine"])
PROBABILITIES = np.array(
    [
        [0.9, 0.05, 0.05],
        [0.2, 0.5, 0.3],
        [0.5, 0.1, 0.4],
        [0.1, 0.8, 0.1],
    ]
)
RAISED = [None, None, None, "urgent"]  # a rule found an urgent sign in the last


def test_the_decision_is_the_boxes_threshold_then_the_rules() -> None:
    assert list(levels(PROBABILITIES, 0.5, RAISED)) == [
        "emergency", "routine", "emergency", "urgent",
    ]  # fmt: skip
    # Without a threshold: the most probable level.
    assert list(levels(PROBABILITIES, None, RAISED)) == [
        "emergency", "routine", "emergency", "urgent",
    ]  # fmt: skip
    # Out of reach: never an emergency (a tie between the others: urgent).
    assert list(levels(PROBABILITIES, np.inf, RAISED)) == [
        "urgent", "routine", "urgent", "urgent",
    ]  # fmt: skip


def test_every_threshold_is_tried_with_its_recall_and_macro_f1() -> None:
    reached = by_threshold(TRUTH, PROBABILITIES, RAISED)
    # By hand: at 0.9 the first emergency is caught, urgent right once and
    # wrong once (F1 2/3 each for emergency and urgent, 0 for routine); at 0.2
    # both emergencies, the urgent note called one too (emergency F1 0.8).
    assert [(recall, round(f1, 4)) for recall, f1 in reached] == [
        (1.0, round((2 / 3) / 3, 4)),  # 0.1: everything an emergency
        (1.0, round(0.8 / 3, 4)),  # 0.2
        (0.5, round(0.5 / 3, 4)),  # 0.5
        (0.5, round((4 / 3) / 3, 4)),  # 0.9
        (0.0, round(0.5 / 3, 4)),  # none: urgent right once, wrong twice
    ]


def test_the_script_reports_bounds_that_fall_as_the_recall_target_rises() -> None:
    result = crossval(
        str(DATA / "urgency_train.jsonl"),
        "--ceiling", "--folds", "3", "--seeds", "0", "1", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (report,) = json.loads(result.stdout)
    assert (report["n"], report["folds"], report["seeds"]) == (36, 3, [0, 1])
    bounds = [value["mean"] for value in report["best_macro_f1_by_recall"].values()]
    assert list(report["best_macro_f1_by_recall"]) == ["0.80", "0.85", "0.90", "0.95"]
    assert bounds == sorted(bounds, reverse=True) and 0 < bounds[-1] <= 1
    shown = crossval(
        str(DATA / "urgency_train.jsonl"), "--ceiling", "--folds", "3", "--seeds", "0"
    ).stdout
    assert "bounds, not results" in shown
    assert "emergency recall >= 0.95: best macro-F1" in shown


def test_the_ceiling_is_for_urgency_only() -> None:
    with pytest.raises(EvalError, match="the ceiling is for the urgency task"):
        urgency_ceiling(DATA / "category_train.jsonl", folds=2, seeds=[0])


def test_a_fold_without_every_level_is_refused(tmp_path: Path) -> None:
    rows = [
        json.loads(line)
        for line in (DATA / "urgency_train.jsonl").read_text().splitlines()
    ]
    only_two = tmp_path / "urgency.jsonl"
    only_two.write_text(
        "".join(json.dumps(r) + "\n" for r in rows if r["urgency"] != "routine")
    )
    with pytest.raises(EvalError, match="needs emergency, urgent and routine"):
        urgency_ceiling(only_two, folds=2, seeds=[0])
