"""The scikit-learn pipelines behind `edgebox.learn.classifiers`, and the
urgency threshold.

Kept apart so that importing `classifiers` (for its data helpers and the
retrain policy) does not import scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler
from sklearn.svm import LinearSVC

from edgebox.clinical.redflags import load_rules
from edgebox.learn.features import (
    header_tokens,
    header_words,
    note_features,
    openings,
    purpose_cues,
    vital_features,
)

CATEGORY_CS = (0.03, 0.1, 0.3, 1.0)
"""The document-type SVM's strengths, chosen by inner cross-validation."""
URGENCY_C = 1.0
"""The urgency model's strength. Fixed rather than chosen by inner
cross-validation: as good a vote at a third of the training time
(scripts/crossval.py; the figures are in docs/evaluation.md)."""
THRESHOLD_FOLDS = 5
"""Inner folds for the emergency threshold: models fitted on 4/5 of the data
are closer to the final one than with 3, whose threshold fell short of the
recall target (docs/evaluation.md)."""
RECALL_MARGIN_SD = 0.5
"""The final model learned from more data than the fold models the threshold
is chosen on, and is surer of itself: held-out emergencies score lower. Cut
with no margin, measured recall fell short of the target; half a binomial
standard deviation of spare misses makes up for it (docs/evaluation.md)."""


def build_pipeline(
    task: str, labels: Sequence[str], *, seed: int, C: float = URGENCY_C
) -> Pipeline | VotingClassifier:
    """An unfitted pipeline for `task`, sized to the data it will see."""
    min_df = 2 if len(labels) >= 50 else 1
    if task == "category":
        return _category_pipeline(min_df, CalibratedSVM(seed=seed))
    return _urgency_vote(min_df, seed=seed, C=C)


class OptionalTfidf(TfidfVectorizer):
    """TF-IDF for a feature that some boxes never see (section headers: short
    triage notes have none). With nothing to learn from it gives no columns,
    where TfidfVectorizer refuses to fit ("empty vocabulary") and would stop
    the whole model from training."""

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        try:
            return super().fit_transform(raw_documents, y)
        except ValueError:
            if any(str(doc).strip() for doc in raw_documents):
                raise  # not the empty case: a real problem
            self.empty_ = True
            return csr_matrix((len(raw_documents), 0))

    def fit(self, raw_documents: Any, y: Any = None) -> OptionalTfidf:
        self.fit_transform(raw_documents, y)
        return self

    def transform(self, raw_documents: Any) -> Any:
        if getattr(self, "empty_", False):
            return csr_matrix((len(raw_documents), 0))
        return super().transform(raw_documents)


def _category_pipeline(min_df: int, model: Any) -> Pipeline:
    def tokens() -> TfidfVectorizer:
        return OptionalTfidf(token_pattern=r"\S+", lowercase=False, sublinear_tf=True)

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
    # of 500 makes it a 15, and the model then swears by it (an example is in
    # docs/evaluation.md). Half weight beside the words.
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


class CalibratedSVM(ClassifierMixin, BaseEstimator):
    """A class-balanced linear SVM for the label, and how likely that label is
    right for the confidence.

    The SVM's strength is chosen by its macro-F1 on held-out folds; the
    held-out decisions at that strength also fit a `ConfidenceMap` from the
    SVM's margins to how often its label was right. Measured by
    cross-validation on the development data, sigmoid-calibrated one-vs-rest
    probabilities were far too low, and their own most-probable label loses
    the rare document types (docs/evaluation.md).
    """

    def __init__(
        self, Cs: Sequence[float] = CATEGORY_CS, cv: int = 3, seed: int = 0
    ) -> None:
        self.Cs = Cs
        self.cv = cv
        self.seed = seed

    def fit(self, X: Any, y: Sequence[str]) -> CalibratedSVM:
        y = np.asarray(y)
        splits = held_out_splits(y, self.cv, seed=self.seed)
        held_out = {
            C: held_out_scores(self._svm(C), X, y, splits, "decision_function")
            for C in self.Cs
        }
        self.C_ = self._best(held_out, y)
        self.svm_ = self._svm(self.C_).fit(X, y)
        self.classes_ = self.svm_.classes_
        scores = held_out[self.C_]
        right = self.classes_[scores.scores.argmax(axis=1)] == y[scores.rows]
        self.confidence_ = ConfidenceMap.fitted(lead(scores.scores), right)
        return self

    def _svm(self, C: float) -> LinearSVC:
        return LinearSVC(C=C, class_weight="balanced", random_state=self.seed)

    def _best(self, held_out: dict[float, HeldOut], y: np.ndarray) -> float:
        """The strength with the best held-out macro-F1 (the middle one when
        nothing could be held out)."""
        classes = np.unique(y)

        def score(C: float) -> float:
            scores = held_out[C]
            if not scores.rows.size:
                return -abs(C - self.Cs[len(self.Cs) // 2])
            chosen = classes[scores.scores.argmax(axis=1)]
            return f1_score(y[scores.rows], chosen, average="macro")

        return max(self.Cs, key=score)

    def predict(self, X: Any) -> np.ndarray:
        return self.svm_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The chosen label's column holds how likely it is right; the other
        labels share the rest evenly (nothing says which is likelier)."""
        scores = _as_columns(self.svm_.decision_function(X))
        chosen = scores.argmax(axis=1)
        right = self.confidence_(lead(scores))
        k = len(self.classes_)
        probabilities = np.repeat(((1 - right) / (k - 1))[:, None], k, axis=1)
        probabilities[np.arange(len(chosen)), chosen] = right
        return probabilities


def _as_columns(scores: np.ndarray) -> np.ndarray:
    """A binary SVM's one score column as two (negative class, positive)."""
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


@dataclass(frozen=True)
class HeldOut:
    """Scores given to training rows by models that did not see them."""

    rows: np.ndarray
    """Indices of the rows held out, in the order of `scores`."""
    scores: np.ndarray
    """One column per label, in sorted order."""


def held_out_splits(
    labels: Sequence[str], folds: int, *, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train and test indices: each row whose label was seen at least twice is
    held out once, stratified; a label seen once (a new box) always trains,
    so every fold model knows every label. Empty when nothing can be held out."""
    labels = np.asarray(labels)
    counts = Counter(labels.tolist())
    alone = np.flatnonzero([counts[label] == 1 for label in labels.tolist()])
    rest = np.flatnonzero([counts[label] > 1 for label in labels.tolist()])
    if rest.size == 0:
        return []
    n = min(folds, *(counts[label] for label in set(labels[rest].tolist())))
    if n < 2:
        return []
    splitter = StratifiedKFold(n, shuffle=True, random_state=seed)
    return [
        (np.concatenate([rest[train], alone]), rest[test])
        for train, test in splitter.split(rest, labels[rest])
    ]


def held_out_scores(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    method: str,
) -> HeldOut:
    """`method` ("predict_proba", "decision_function") of a fresh copy of
    `estimator` fitted on each split's training rows, on its test rows."""
    rows: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    for train, test in splits:
        fitted = clone(estimator).fit(_take(X, train), y[train])
        rows.append(test)
        scores.append(_as_columns(getattr(fitted, method)(_take(X, test))))
    if not rows:
        return HeldOut(np.array([], dtype=int), np.empty((0, len(set(y.tolist())))))
    return HeldOut(np.concatenate(rows), np.vstack(scores))


def _take(X: Any, rows: np.ndarray) -> Any:
    return [X[i] for i in rows] if isinstance(X, list) else X[rows]


def held_out_probabilities(
    texts: Sequence[str], labels: Sequence[str], *, seed: int
) -> HeldOut | None:
    """Urgency probabilities of the training notes from models fitted on the
    other folds (up to `THRESHOLD_FOLDS`, fewer when a level is rare), as the
    final model will score a new note; None when nothing can be held out."""
    splits = held_out_splits(labels, THRESHOLD_FOLDS, seed=seed)
    if not splits:
        return None
    return held_out_scores(
        build_pipeline("urgency", labels, seed=seed),
        list(texts),
        np.asarray(labels),
        splits,
        "predict_proba",
    )


def emergency_threshold(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    target_recall: float,
    seed: int,
    held_out: HeldOut | None = None,
) -> float | None:
    """The P(emergency) threshold, chosen on folds of the training data only:
    the highest cut that, with the red-flag rules, finds `target_recall` of
    the held-out emergencies with `RECALL_MARGIN_SD` to spare. `held_out` is
    `held_out_probabilities`, computed here if not given."""
    is_emergency = np.array(labels) == "emergency"
    if min(is_emergency.sum(), (~is_emergency).sum()) < 2:
        return None
    if held_out is None:
        held_out = held_out_probabilities(texts, labels, seed=seed)
        if held_out is None:
            return None
    p_emergency = held_out.scores[:, sorted(set(labels)).index("emergency")]
    rules = load_rules()
    caught_by_rules = np.array(
        [
            any(f.level == "emergency" for f in rules.findings(texts[i]))
            for i in held_out.rows
        ],
        dtype=bool,
    )
    return pick_threshold(
        p_emergency, is_emergency[held_out.rows], caught_by_rules, target_recall
    )


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


MAP_C = 10.0
"""The confidence map's strength: 1.0 pulled a level that is nearly always
right well below its record, and 100 let a small box claim near certainty;
10 keeps both near what the data says (docs/evaluation.md)."""


@dataclass(frozen=True)
class _Platt:
    """P(right) from one kind of decision's score."""

    model: LogisticRegression | None
    """None when no rising slope could be fitted: `rate` stands."""
    n: int
    rate: float
    """How often these decisions were right, Laplace-smoothed."""

    @classmethod
    def fitted(cls, scores: np.ndarray, right: np.ndarray) -> _Platt:
        rate = _smoothed_rate(right)
        # The pseudo-decisions: one wrong at the weakest score, one right at
        # the strongest (also what makes a fit possible when all were right).
        X = np.concatenate([scores, [scores.min(), scores.max()]])[:, None]
        y = np.concatenate([right, [0, 1]])
        model = LogisticRegression(C=MAP_C, max_iter=1000).fit(X, y)
        if model.coef_[0, 0] < 0:  # surer, yet less often right: noise
            return cls(None, len(right), rate)
        return cls(model, len(right), rate)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        if self.model is None:
            return np.full(len(scores), self.rate)
        # n decisions cannot show more certainty than (n + 1) / (n + 2).
        ceiling = (self.n + 1) / (self.n + 2)
        return np.minimum(self.model.predict_proba(scores[:, None])[:, 1], ceiling)


class ConfidenceMap:
    """How often a decision is right, from the model's score for it.

    Raw scores say little about that. The urgency vote was under-confident
    where it matters (on held-out folds its middling scores were right far
    more often than they said: docs/evaluation.md), while a level called
    "emergency" is right far less often than another level of the same score.
    A logistic regression on the score (Platt scaling), one per kind of
    decision, fitted on the held-out decisions of the training data, turns it
    into the probability of being right that the review cut and the UI show.

    Two pseudo-decisions per kind, one wrong at the weakest score and one
    right at the strongest, keep a small box honest: when every held-out
    decision was right, a weak score still earns less confidence than a
    strong one. No confidence exceeds (n + 1) / (n + 2) for n decisions of
    its kind, and a slope that came out negative (noise) gives way to the
    kind's smoothed rate, without touching the other kind.
    """

    def __init__(self, kinds: dict[bool, _Platt], n: int, rate: float) -> None:
        self.kinds = kinds
        self.n = n
        """How many held-out decisions it was fitted on."""
        self.rate = rate
        """How often they were right (Laplace-smoothed): the answer for a kind
        never seen among them."""

    @classmethod
    def fitted(
        cls,
        scores: Sequence[float],
        right: Sequence[bool],
        kinds: Sequence[bool] | None = None,
    ) -> ConfidenceMap:
        """The map fitted on held-out decisions; `kinds` marks the decisions
        that get their own map (the urgency levels called "emergency")."""
        scores = np.asarray(scores, dtype=float)
        right = np.asarray(right, dtype=int)
        kinds = np.zeros(len(scores), bool) if kinds is None else np.asarray(kinds)
        rate = _smoothed_rate(right)
        maps = {
            kind: _Platt.fitted(scores[kinds == kind], right[kinds == kind])
            for kind in set(kinds.tolist())
        }
        return cls(maps, len(scores), rate)

    def __call__(
        self, scores: Sequence[float], kinds: Sequence[bool] | None = None
    ) -> np.ndarray:
        """P(right) of each decision."""
        scores = np.asarray(scores, dtype=float)
        kinds = np.zeros(len(scores), bool) if kinds is None else np.asarray(kinds)
        right = np.full(len(scores), self.rate)
        for kind, platt in self.kinds.items():
            mine = kinds == kind
            if mine.any():
                right[mine] = platt(scores[mine])
        return right


def _smoothed_rate(right: np.ndarray) -> float:
    """How often decisions were right, Laplace-smoothed: (k + 1) / (n + 2)."""
    return float((right.sum() + 1) / (len(right) + 2))


def log_odds(probabilities: Sequence[float]) -> np.ndarray:
    """The urgency vote's probability of the level it gave, as log-odds: the
    scale on which Platt scaling is linear."""
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def lead(scores: np.ndarray) -> np.ndarray:
    """The SVM's lead of its label over the runner-up."""
    ranked = np.sort(scores, axis=1)
    return ranked[:, -1] - ranked[:, -2]
