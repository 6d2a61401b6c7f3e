"""scripts/crossval.py in a real subprocess, on the small fixture file."""

import json
from pathlib import Path

from tests.support.paths import DATA
from tests.support.processes import crossval


def test_the_review_cut_decides_what_goes_to_review(tmp_path: Path) -> None:
    # Three copies of the fixture: with 2 folds each learned model sees more
    # than min_examples documents, so the LLM never votes.
    fixture = tmp_path / "category.jsonl"
    fixture.write_text((DATA / "category_train.jsonl").read_text() * 3)
    quick = (str(fixture), "--folds", "2", "--seeds", "0", "--json")
    (everything,) = json.loads(crossval(*quick, "--review-cut", "1").stdout)
    (nothing,) = json.loads(crossval(*quick, "--review-cut", "0").stdout)
    # No map claims certainty, so a cut of 1 sends every label to a person;
    # a cut of 0 only what other reasons send (none here).
    assert everything["review_rate"] == 1.0
    assert nothing["review_rate"] == 0.0
    assert everything["macro_f1"] == nothing["macro_f1"]  # the labels are the same


def test_a_review_cut_outside_0_to_1_is_refused() -> None:
    result = crossval(str(DATA / "category_train.jsonl"), "--review-cut", "1.5")
    assert result.returncode == 2
    assert "--review-cut: must be a number from 0 to 1, got '1.5'" in result.stderr
