"""The scikit-learn pipelines behind `edgebox.learn`, and the urgency threshold.

Kept apart so that importing `edgebox.learn` (for its data helpers and the
retrain policy) does not import scikit-learn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC

from edgebox.features import header_tokens, vital_features
from edgebox.redflags import load_rules


def build_pipeline(task: str, labels: Sequence[str], *, seed: int) -> Pipeline:
    """An unfitted pipeline for `task`, sized to the data it will see."""
    smallest = min(Counter(labels).values())
    min_df = 2 if len(labels) >= 50 else 1
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)
    if task == "category":
        headers = make_pipeline(
            FunctionTransformer(header_tokens),
            TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True),
        )
        features = FeatureUnion([("words", words), ("headers", headers)])
        return Pipeline(
            [("features", features), ("model", _category_model(smallest, seed))]
        )
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, max_features=50_000
    )
    vitals = make_pipeline(
        FunctionTransformer(vital_features),
        DictVectorizer(sparse=False),
        StandardScaler(),
    )
    features = FeatureUnion([("words", words), ("chars", chars), ("vitals", vitals)])
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)
    return Pipeline([("features", features), ("model", model)])


def _category_model(smallest: int, seed: int) -> Any:
    if smallest < 2:
        # Too few of some label to calibrate on held-out folds: a logistic
        # regression gives probabilities directly.
        return LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000)
    return CalibratedSVM(C=0.3, cv=min(3, smallest), seed=seed)


class CalibratedSVM(ClassifierMixin, BaseEstimator):
    """A class-balanced linear SVM for the label, sigmoid-calibrated for the
    probability.

    Measured by cross-validation on the development data, the calibrated
    ensemble's own most-probable label loses the rare document types (macro-F1
    0.71 against 0.80): calibration pulls their scores down. The balanced SVM
    fitted on all the data chooses the label; the calibrated probability of
    that label is its confidence, low for a rare type, which sends it to review.
    """

    def __init__(self, C: float = 0.3, cv: int = 3, seed: int = 0) -> None:
        self.C = C
        self.cv = cv
        self.seed = seed

    def fit(self, X: Any, y: Sequence[str]) -> CalibratedSVM:
        def svm() -> LinearSVC:
            return LinearSVC(C=self.C, class_weight="balanced", random_state=self.seed)

        self.svm_ = svm().fit(X, y)
        self.calibrated_ = CalibratedClassifierCV(svm(), method="sigmoid", cv=self.cv)
        self.calibrated_.fit(X, y)
        self.classes_ = self.svm_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self.svm_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.calibrated_.predict_proba(X)


def emergency_threshold(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    target_recall: float,
    seed: int,
) -> float | None:
    """The highest P(emergency) cut that, with the red-flag rules, still finds
    `target_recall` of the emergencies in held-out folds of the training data."""
    smallest = min(Counter(labels).values())
    if smallest < 2:
        return None
    folds = StratifiedKFold(min(3, smallest), shuffle=True, random_state=seed)
    probabilities = cross_val_predict(
        build_pipeline("urgency", labels, seed=seed),
        list(texts),
        list(labels),
        cv=folds,
        method="predict_proba",
    )
    classes = sorted(set(labels))
    p_emergency = probabilities[:, classes.index("emergency")]
    rules = load_rules()
    caught_by_rules = np.array(
        [any(f.level == "emergency" for f in rules.findings(text)) for text in texts]
    )
    return pick_threshold(
        p_emergency, np.array(labels) == "emergency", caught_by_rules, target_recall
    )


def pick_threshold(
    p_emergency: np.ndarray,
    is_emergency: np.ndarray,
    caught_by_rules: np.ndarray,
    target_recall: float,
) -> float | None:
    """The highest threshold whose recall (rules or model) reaches the target;
    None when the rules alone reach it (the model's most probable level then)."""
    missed = p_emergency[is_emergency & ~caught_by_rules]
    total = int(is_emergency.sum())
    allowed = int(np.floor(total * (1 - target_recall) + 1e-9))
    if missed.size <= allowed:
        return None
    # Sorted descending, the cut must sit at or below the (size - allowed)-th score.
    ranked = np.sort(missed)[::-1]
    return float(ranked[missed.size - allowed - 1])
