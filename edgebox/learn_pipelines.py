"""The scikit-learn pipelines behind `edgebox.learn`, and the urgency threshold.

Kept apart so that importing `edgebox.learn` (for its data helpers and the
retrain policy) does not import scikit-learn.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler
from sklearn.svm import LinearSVC

from edgebox.features import (
    header_tokens,
    header_words,
    note_features,
    openings,
    purpose_cues,
    vital_features,
)
from edgebox.redflags import load_rules

CATEGORY_CS = (0.03, 0.1, 0.3, 1.0)
"""The document-type SVM's strengths, chosen by inner cross-validation."""
URGENCY_C = 1.0
"""The urgency model's strength. Chosen by inner cross-validation (0.1, 0.3,
1.0 by held-out log-loss) with 3 inner folds, the vote measured 0.633
macro-F1; fixed, with 5 inner folds for the threshold, 0.642 (scripts/crossval.py)
at a third of the training time."""
THRESHOLD_FOLDS = 5
"""Inner folds for the emergency threshold: models fitted on 4/5 of the data
are closer to the final one than with 3 (whose threshold reached 0.935 for
a target of 0.95)."""
RECALL_MARGIN_SD = 0.5
"""The final model learned from more data than the fold models the threshold
is chosen on, and is surer of itself: held-out emergencies score lower. Cut
with no margin, measured recall fell short of the target (0.931 for 0.95);
half a binomial standard deviation of spare misses (3 of 82 instead of 4)
makes up for it."""


def build_pipeline(
    task: str, labels: Sequence[str], *, seed: int, C: float = URGENCY_C
) -> Pipeline | VotingClassifier:
    """An unfitted pipeline for `task`, sized to the data it will see."""
    min_df = 2 if len(labels) >= 50 else 1
    if task == "category":
        smallest = min(Counter(labels).values())
        return _category_pipeline(min_df, _category_model(smallest, seed))
    return _urgency_vote(min_df, seed=seed, C=C)


def _category_pipeline(min_df: int, model: Any) -> Pipeline:
    def tokens() -> TfidfVectorizer:
        return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True)

    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df),
            ),
            ("headers", make_pipeline(FunctionTransformer(header_tokens), tokens())),
            (
                "header_words",
                make_pipeline(FunctionTransformer(header_words), tokens()),
            ),
            (
                "opening",
                make_pipeline(
                    FunctionTransformer(openings),
                    TfidfVectorizer(
                        ngram_range=(1, 2), sublinear_tf=True, min_df=min_df
                    ),
                ),
            ),
            (
                "purpose",
                make_pipeline(FunctionTransformer(purpose_cues), DictVectorizer()),
            ),
        ]
    )
    return Pipeline([("features", features), ("model", model)])


def _urgency_vote(min_df: int, *, seed: int, C: float) -> VotingClassifier:
    # Numbers are read as vitals, not as words: "HR 120" is a band, not a token.
    words = TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
        preprocessor=without_digits,
    )
    # MaxAbsScaler keeps a band 0/1: standardising a band that is on in 2 notes
    # of 500 makes it a 15, and the model then swears by it (P(emergency) of
    # 0.000 for a fever of 39.4 at 109/min). Half weight beside the words.
    sheet = make_pipeline(
        FunctionTransformer(triage_features),
        DictVectorizer(sparse=False),
        MaxAbsScaler(),
    )
    features = FeatureUnion(
        [("words", words), ("sheet", sheet)],
        transformer_weights={"words": 1.0, "sheet": 0.5},
    )
    # Unweighted: the emergency threshold, not the class weights, buys recall.
    linear = Pipeline(
        [("features", features), ("model", LogisticRegression(C=C, max_iter=5000))]
    )
    # A forest on the sheet sees combinations (old and breathless, fast and
    # hot) that a linear model cannot; averaged with it, the emergencies the
    # threshold must reach rank higher and vary less between folds.
    forest = make_pipeline(
        FunctionTransformer(triage_features),
        DictVectorizer(sparse=False),
        RandomForestClassifier(
            n_estimators=300, min_samples_leaf=3, random_state=seed, n_jobs=1
        ),
    )
    return VotingClassifier([("linear", linear), ("forest", forest)], voting="soft")


def without_digits(text: str) -> str:
    return _DIGITS.sub(" ", text.lower())


_DIGITS = re.compile(r"\d+")


def triage_features(texts: list[str]) -> list[dict[str, float]]:
    """The vitals as numbers and the triage sheet's fields as bands."""
    return [
        vitals | sheet
        for vitals, sheet in zip(
            vital_features(texts), note_features(texts), strict=True
        )
    ]


def _category_model(smallest: int, seed: int) -> Any:
    if smallest < 2:
        # Too few of some label to calibrate on held-out folds: a logistic
        # regression gives probabilities directly.
        return LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000)
    return CalibratedSVM(cv=min(3, smallest), seed=seed)


class CalibratedSVM(ClassifierMixin, BaseEstimator):
    """A class-balanced linear SVM for the label, and how likely that label is
    right for the confidence.

    The SVM's strength is chosen by its macro-F1 on held-out folds; the
    held-out decisions at that strength also fit a `ConfidenceMap` from the
    SVM's margins to how often its label was right. Measured by
    cross-validation on the development data, sigmoid-calibrated one-vs-rest
    probabilities were far too low (labels given 0.4-0.6 were right 79% of
    the time; calibration error 0.15), and their own most-probable label loses
    the rare document types (macro-F1 0.71 against 0.80).
    """

    def __init__(
        self, Cs: Sequence[float] = CATEGORY_CS, cv: int = 3, seed: int = 0
    ) -> None:
        self.Cs = Cs
        self.cv = cv
        self.seed = seed

    def fit(self, X: Any, y: Sequence[str]) -> CalibratedSVM:
        y = np.asarray(y)
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
        held_out = {
            C: _as_columns(
                cross_val_predict(
                    self._svm(C), X, y, cv=folds, method="decision_function"
                )
            )
            for C in self.Cs
        }
        self.C_ = self._best(held_out, y)
        self.svm_ = self._svm(self.C_).fit(X, y)
        self.classes_ = self.svm_.classes_
        scores = held_out[self.C_]
        right = self.classes_[scores.argmax(axis=1)] == y
        self.confidence_ = ConfidenceMap.fitted(margin_design(scores), right)
        return self

    def _svm(self, C: float) -> LinearSVC:
        return LinearSVC(C=C, class_weight="balanced", random_state=self.seed)

    def _best(self, held_out: dict[float, np.ndarray], y: np.ndarray) -> float:
        """The strength with the best held-out macro-F1."""
        classes = np.unique(y)

        def score(C: float) -> float:
            return f1_score(y, classes[held_out[C].argmax(axis=1)], average="macro")

        return max(self.Cs, key=score)

    def predict(self, X: Any) -> np.ndarray:
        return self.svm_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The chosen label's column holds how likely it is right; the other
        labels share the rest evenly (nothing says which is likelier)."""
        scores = _as_columns(self.svm_.decision_function(X))
        chosen = scores.argmax(axis=1)
        right = self.confidence_(margin_design(scores))
        k = len(self.classes_)
        probabilities = np.repeat(((1 - right) / (k - 1))[:, None], k, axis=1)
        probabilities[np.arange(len(chosen)), chosen] = right
        return probabilities


def _as_columns(scores: np.ndarray) -> np.ndarray:
    """A binary SVM's one score column as two (negative class, positive)."""
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def held_out_probabilities(
    texts: Sequence[str], labels: Sequence[str], *, seed: int
) -> np.ndarray | None:
    """Each training text's urgency probabilities (columns: the sorted levels)
    from a model fitted on the other `THRESHOLD_FOLDS` folds, as the final model
    will score a new note; None when the data cannot be split."""
    counts = Counter(labels)
    if min(counts.values()) >= 2:
        strata = list(labels)
    else:
        # A level seen once (a new box) cannot be spread over folds; the
        # threshold only needs the emergencies spread.
        strata = [label == "emergency" for label in labels]
    sizes = Counter(strata)
    if len(sizes) < 2 or min(sizes.values()) < 2:
        return None
    folds = StratifiedKFold(
        min(THRESHOLD_FOLDS, *sizes.values()), shuffle=True, random_state=seed
    )
    with warnings.catch_warnings():
        # A fold that did not learn the rare level gives it probability 0:
        # what the threshold needs, not a fault.
        warnings.filterwarnings("ignore", message="Number of classes in training fold")
        return cross_val_predict(
            build_pipeline("urgency", labels, seed=seed),
            list(texts),
            list(labels),
            cv=list(folds.split(texts, strata)),
            method="predict_proba",
        )


def emergency_threshold(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    target_recall: float,
    seed: int,
    probabilities: np.ndarray | None = None,
) -> float | None:
    """The P(emergency) threshold, chosen on folds of the training data only:
    the highest cut that, with the red-flag rules, finds `target_recall` of
    the emergencies in held-out folds with `RECALL_MARGIN_SD` to spare.
    `probabilities` are `held_out_probabilities`, computed here if not given."""
    is_emergency = np.array(labels) == "emergency"
    if min(is_emergency.sum(), (~is_emergency).sum()) < 2:
        return None
    if probabilities is None:
        probabilities = held_out_probabilities(texts, labels, seed=seed)
        if probabilities is None:
            return None
    p_emergency = probabilities[:, sorted(set(labels)).index("emergency")]
    rules = load_rules()
    caught_by_rules = np.array(
        [any(f.level == "emergency" for f in rules.findings(text)) for text in texts]
    )
    return pick_threshold(p_emergency, is_emergency, caught_by_rules, target_recall)


def pick_threshold(
    p_emergency: np.ndarray,
    is_emergency: np.ndarray,
    caught_by_rules: np.ndarray,
    target_recall: float,
    *,
    margin_sd: float = RECALL_MARGIN_SD,
) -> float | None:
    """The highest threshold whose recall (rules or model) reaches the target
    with `margin_sd` binomial standard deviations to spare; None when the rules
    alone reach it (the model's most probable level then)."""
    missed = p_emergency[is_emergency & ~caught_by_rules]
    total = int(is_emergency.sum())
    spread = math.sqrt(total * target_recall * (1 - target_recall))
    allowed = max(
        0, math.floor(total * (1 - target_recall) - margin_sd * spread + 1e-9)
    )
    if missed.size <= allowed:
        return None
    # Sorted descending, the cut must sit at or below the (size - allowed)-th score.
    ranked = np.sort(missed)[::-1]
    return float(ranked[missed.size - allowed - 1])


class ConfidenceMap:
    """How often a decision is right, from features of the model's scores.

    Raw scores say little about that. The urgency vote was under-confident
    where it matters: on held-out folds, levels it gave 0.6-0.7 were right
    about 90% of the time, while an emergency called from a low threshold is
    right far less often than a most-probable level of the same score. A
    logistic regression on the scores (Platt scaling), fitted on the held-out
    decisions of the training data, turns them into the probability of being
    right that the review cut and the UI show.
    """

    def __init__(self, model: LogisticRegression | None, n: int, rate: float) -> None:
        self.model = model
        self.n = n
        """How many held-out decisions it was fitted on."""
        self.rate = rate
        """How often they were right (Laplace-smoothed): the answer when they
        were all right or all wrong, and there is no slope to fit."""

    @classmethod
    def fitted(cls, design: np.ndarray, right: Sequence[bool]) -> ConfidenceMap:
        """The map fitted on held-out decisions."""
        right = np.asarray(right, dtype=int)
        rate = (right.sum() + 1) / (len(right) + 2)
        if len(set(right.tolist())) < 2:
            return cls(None, len(right), rate)
        model = LogisticRegression(C=100.0, max_iter=1000).fit(design, right)
        return cls(model, len(right), rate)

    def __call__(self, design: np.ndarray) -> np.ndarray:
        """P(right) of each decision."""
        if self.model is None:
            return np.full(len(design), self.rate)
        return self.model.predict_proba(design)[:, 1]


def urgency_design(
    scores: Sequence[float], emergency_calls: Sequence[bool]
) -> np.ndarray:
    """The log-odds of the chosen level's probability, apart for an emergency
    called from the threshold: one sigmoid per kind of call."""
    p = np.clip(np.asarray(scores, dtype=float), 1e-4, 1 - 1e-4)
    log_odds = np.log(p / (1 - p))
    call = np.asarray(emergency_calls, dtype=float)
    return np.column_stack([log_odds, call, call * log_odds])


def margin_design(scores: np.ndarray) -> np.ndarray:
    """The SVM's score for its label and its lead over the runner-up."""
    ranked = np.sort(scores, axis=1)
    return np.column_stack([ranked[:, -1], ranked[:, -1] - ranked[:, -2]])
