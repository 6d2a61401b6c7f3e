"""The comparison behind the centre's publish gate and the box's choice:
exact figures, and a paired bootstrap that tells noise from a real loss."""

from __future__ import annotations

from edgebox.learn.compare import emergency_recall, macro_f1, paired_comparison

TRUTH = ["emergency", "urgent", "routine", "routine"] * 10


def test_macro_f1_and_emergency_recall_exactly() -> None:
    predicted = ["emergency", "routine", "routine", "routine"] * 10
    # emergency F1 1, urgent 0, routine precision 2/3 recall 1 -> 0.8
    assert macro_f1(TRUTH, predicted) == (1 + 0 + 0.8) / 3
    assert emergency_recall(TRUTH, predicted) == 1.0
    assert emergency_recall(["routine"], ["emergency"]) is None


def test_the_same_answers_are_never_worse() -> None:
    report = paired_comparison("urgency", TRUTH, TRUTH, TRUTH)
    assert report["macro_f1"]["difference"] == 0.0
    assert report["macro_f1"]["worse_share"] == 0.0
    assert report["worse_beyond_noise"] is False


def test_missing_every_emergency_is_worse_beyond_the_noise() -> None:
    missing = ["urgent" if t == "emergency" else t for t in TRUTH]
    report = paired_comparison("urgency", TRUTH, missing, TRUTH)
    assert report["emergency_recall"] == {
        "candidate": 0.0,
        "baseline": 1.0,
        "difference": -1.0,
        "interval_90": [-1.0, -1.0],
        "worse_share": 1.0,
        "worse_beyond_noise": True,
    }
    assert report["worse_beyond_noise"] is True


def test_one_different_answer_in_forty_is_noise() -> None:
    one_off = ["urgent"] + TRUTH[1:]
    report = paired_comparison("urgency", TRUTH, one_off, TRUTH)
    assert report["macro_f1"]["difference"] < 0
    assert report["macro_f1"]["worse_share"] < 0.95
    # The emergency it missed is one of ten: recall falls, but within the noise.
    assert report["emergency_recall"]["worse_beyond_noise"] is False
