"""Classifiers that learn category and urgency from what staff reviewed.

Every document a person confirms or corrects is a training example (plain data:
`{"text", "category", "urgency", "reviewed_at"}`; this module never reads the
store). Measured on the development data by repeated cross-validation
(scripts/crossval.py), sparse lexical features with linear models beat
everything else tried at this size for document type (gradient boosting,
MiniLM embeddings, character n-grams): word n-grams, section headers (whole
and word by word), the opening lines and a few setting and purpose cues, with
a class-balanced linear SVM whose strength is chosen by inner
cross-validation. For urgency, the triage sheet is read as structure (vitals
and their KTAS-style bands, arrival, mental status, pain,
presenting-complaint groups): a logistic regression on it and the word
n-grams, and a random forest on it alone, vote with their probabilities.

Missing an emergency is the costly error, so the urgency model does not take
the most probable level: it calls "emergency" from a probability threshold
chosen by cross-validation inside its own training data, the highest one that
still reaches the target emergency recall together with the red-flag rules,
with a small margin (the final model is surer of itself than the fold models).

Each label's confidence is how likely it is to be right: the model's score
(the SVM's lead over the runner-up for document type; for urgency, the
probability of the level, apart for "emergency") mapped by a logistic
regression fitted on held-out decisions of the training data. Raw scores were
far too low (docs/evaluation.md), and the review cut, `[triage]
review_cut`, should mean what it says. A document type seen only once always
trains and is never held out, so on a young box the map knows nothing of the
errors such rare types cause.

Models are pickled (joblib) under `<data_dir>/learned/`, with the size of the
data they learned from and a version; a file from another version of edgebox
or scikit-learn is ignored and the models retrain. The files are written and
read only by the box itself.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebox.config import TriageConfig
from edgebox.vocabulary import TASKS, Urgency

if TYPE_CHECKING:
    from edgebox.learn.pipelines import ConfidenceMap, HeldOut

LEARN_VERSION = "learn-v6"
"""learn-v6: the classes moved from edgebox.learn, edgebox.learn_pipelines and
edgebox.features into this package; a box retrains once on upgrade."""
# The defaults of min_examples, retrain_after and emergency_recall are the
# settings' own ([triage] in edgebox.toml): declared once, in TriageConfig.
SEED = 0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    """How likely `label` is right: the model's scores mapped to the accuracy
    such decisions had on held-out folds of its training data (see
    `ConfidenceMap`)."""


@dataclass
class LearnedModel:
    """One fitted classifier and what it learned from."""

    task: str
    pipeline: Any
    labels: list[str]
    n_examples: int
    reviewed_through: str = ""
    emergency_threshold: float | None = None
    emergency_recall_target: float | None = None
    """The recall the threshold was chosen for (urgency only)."""
    confidence_map: ConfidenceMap | None = None
    """Urgency only (the document-type SVM holds its own); None when nothing
    could be held out, and the raw probability stands."""
    trained_at: float = field(default_factory=time.time)
    train_seconds: float = 0.0
    version: str = LEARN_VERSION
    sklearn_version: str = ""

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """The label and how likely it is right, for each text."""
        if not texts:
            return []
        probabilities = self.pipeline.predict_proba(list(texts))
        classes = [str(c) for c in self.pipeline.classes_]
        if self.task == "urgency":
            # The soft vote's label is its most probable level: no second pass.
            chosen = [classes[i] for i in probabilities.argmax(axis=1)]
        else:
            # The document-type SVM chooses; its predict_proba says how
            # likely that label is right (see CalibratedSVM).
            chosen = self.pipeline.predict(list(texts))
        predictions = [
            choose(classes, row, str(label), self.emergency_threshold)
            for row, label in zip(probabilities, chosen, strict=True)
        ]
        return self._mapped(predictions)

    def _mapped(self, predictions: list[Prediction]) -> list[Prediction]:
        if self.confidence_map is None:
            return predictions
        from edgebox.learn.pipelines import log_odds

        right = self.confidence_map(
            log_odds([p.confidence for p in predictions]),
            [p.label == "emergency" for p in predictions],
        )
        return [
            Prediction(p.label, float(r))
            for p, r in zip(predictions, right, strict=True)
        ]

    def describe(self) -> dict[str, Any]:
        """What `edgebox status` and provenance show about this model."""
        return {
            "task": self.task,
            "version": self.version,
            "n_examples": self.n_examples,
            "labels": self.labels,
            "trained_at": round(self.trained_at, 3),
            "train_seconds": round(self.train_seconds, 2),
            "emergency_threshold": self.emergency_threshold,
            "emergency_recall_target": self.emergency_recall_target,
            "confidence_mapped_on": self._mapped_on(),
        }

    def _mapped_on(self) -> int | None:
        """How many held-out decisions the confidence was calibrated on."""
        mapping = self.confidence_map
        if self.task == "category":  # the SVM holds its own map
            mapping = getattr(self.pipeline[-1], "confidence_", None)
        return mapping.n if mapping is not None else None


def choose(
    classes: list[str], row: Any, label: str, threshold: float | None
) -> Prediction:
    """The decided label and the model's probability of it: "emergency"
    exactly when its probability reaches the threshold (recall first, as the
    threshold was chosen), else the likelier of the other levels."""
    scores = dict(zip(classes, (float(p) for p in row), strict=True))
    if threshold is not None and "emergency" in scores:
        if scores["emergency"] >= threshold:
            label = "emergency"
        else:
            others = {k: v for k, v in scores.items() if k != "emergency"}
            label = max(others, key=others.__getitem__)
    return Prediction(label, scores[label])


def labelled(
    examples: Iterable[Mapping[str, Any]],
    task: str,
    *,
    allowed: Collection[str] | None = None,
) -> list[tuple[str, str]]:
    """(text, label) pairs usable for a task: a text and a real label (one of
    `allowed`, when given)."""
    pairs = []
    for example in examples:
        text, label = example.get("text"), example.get(task)
        if not text or not str(text).strip() or not label:
            continue
        if allowed is not None and label not in allowed:
            continue  # a category the taxonomy no longer has
        if task == "urgency" and label not in Urgency.levels():
            continue  # "unknown" is a failed triage, not a level to learn
        pairs.append((str(text), str(label)))
    return pairs


def train(
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    emergency_recall: float = TriageConfig.emergency_recall,
    reviewed_through: str = "",
) -> LearnedModel:
    """Fit the classifier for `task` (and, for urgency, its emergency threshold)."""
    import sklearn  # lazy: the CLI's quick commands should not load it

    from edgebox.learn.pipelines import (
        build_pipeline,
        emergency_threshold,
        held_out_probabilities,
    )

    if len(set(labels)) < 2:
        raise ValueError(f"{task}: at least two different labels are needed")
    started = time.perf_counter()
    threshold = confidence_map = None
    if task == "urgency":
        held_out = held_out_probabilities(texts, labels, seed=SEED)
        if held_out is not None:
            threshold = emergency_threshold(
                texts,
                labels,
                target_recall=emergency_recall,
                seed=SEED,
                held_out=held_out,
            )
            confidence_map = _confidence_map(held_out, labels, threshold)
    pipeline = build_pipeline(task, labels, seed=SEED)
    pipeline.fit(list(texts), list(labels))
    return LearnedModel(
        task=task,
        pipeline=pipeline,
        labels=sorted(set(labels)),
        n_examples=len(texts),
        reviewed_through=reviewed_through,
        emergency_threshold=threshold,
        emergency_recall_target=emergency_recall if task == "urgency" else None,
        confidence_map=confidence_map,
        train_seconds=time.perf_counter() - started,
        sklearn_version=sklearn.__version__,
    )


def _confidence_map(
    held_out: HeldOut, labels: Sequence[str], threshold: float | None
) -> ConfidenceMap:
    """The `ConfidenceMap` of the decisions the held-out folds would have made."""
    from edgebox.learn.pipelines import ConfidenceMap, log_odds

    classes = sorted(set(labels))
    decisions = [
        choose(classes, row, classes[int(row.argmax())], threshold)
        for row in held_out.scores
    ]
    truth = [labels[i] for i in held_out.rows]
    return ConfidenceMap.fitted(
        log_odds([d.confidence for d in decisions]),
        [d.label == t for d, t in zip(decisions, truth, strict=True)],
        kinds=[d.label == "emergency" for d in decisions],
    )


def model_path(data_dir: Path, task: str) -> Path:
    return data_dir / "learned" / f"{task}.joblib"


def save(model: LearnedModel, data_dir: Path) -> Path:
    """Write atomically: a reader never sees half a model."""
    import joblib  # lazy: comes with scikit-learn

    path = model_path(data_dir, model.task)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    joblib.dump(model, partial)
    os.replace(partial, path)
    return path


def load(data_dir: Path, task: str) -> LearnedModel | None:
    """The saved model, or None when absent, unreadable or from another version."""
    path = model_path(data_dir, task)
    if not path.is_file():
        return None
    import joblib
    import sklearn

    try:
        model = joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as exc:
        # A file saved before learn-v6 names the modules these classes left.
        log.info(
            "the learned model %s was saved by an older edgebox (%s); it is"
            " retrained once from the reviews",
            path,
            exc,
        )
        return None
    except Exception as exc:  # noqa: BLE001 - any unreadable file means "retrain"
        # Said once per file: otherwise a box quietly falls back to the LLM's
        # labels and nobody knows why.
        log.warning("ignoring the unreadable learned model %s (%s)", path, exc)
        return None
    if (
        not isinstance(model, LearnedModel)
        or model.version != LEARN_VERSION
        or model.sklearn_version != sklearn.__version__
    ):
        log.info(
            "the learned model %s is from another edgebox or scikit-learn"
            " version; it is retrained from the reviews",
            path,
        )
        return None
    return model


def retrain_if_due(
    examples: Sequence[Mapping[str, Any]],
    data_dir: Path,
    *,
    min_examples: int = TriageConfig.min_examples,
    min_new: int = TriageConfig.retrain_after,
    emergency_recall: float = TriageConfig.emergency_recall,
    categories: Collection[str] | None = None,
) -> bool:
    """Retrain each task whose reviews moved on enough; True if any retrained.

    `categories` is the box's taxonomy: reviews labelled with a category it no
    longer has are left out, and a model that still knows one retrains.

    `examples` is `store.training_examples()`. A task retrains when it has no
    usable model and at least `min_examples` examples, or when `min_new`
    documents were reviewed (or re-reviewed) after its last training.
    """
    retrained = False
    for task in TASKS:
        allowed = categories if task == "category" else None
        pairs = labelled(examples, task, allowed=allowed)
        current = load(data_dir, task)
        if not _due(examples, pairs, current, min_examples, min_new, allowed):
            continue
        texts, labels = zip(*pairs, strict=True)
        if len(set(labels)) < 2:
            continue
        latest = max((str(e.get("reviewed_at") or "") for e in examples), default="")
        try:
            model = train(
                task,
                texts,
                labels,
                emergency_recall=emergency_recall,
                reviewed_through=latest,
            )
        except ValueError as exc:
            # One task's failure must not keep the other from learning.
            log.warning("the %s model was not retrained: %s", task, exc)
            continue
        save(model, data_dir)
        retrained = True
    return retrained


def _due(
    examples: Sequence[Mapping[str, Any]],
    pairs: list[tuple[str, str]],
    current: LearnedModel | None,
    min_examples: int,
    min_new: int,
    allowed: Collection[str] | None = None,
) -> bool:
    if len(pairs) < min_examples:
        return False
    if current is None:
        return True
    if allowed is not None and not set(current.labels) <= set(allowed):
        return True  # it still gives a category the taxonomy dropped
    newer = sum(
        1
        for e in examples
        if str(e.get("reviewed_at") or "") > current.reviewed_through
    )
    grown = len(pairs) - current.n_examples
    return max(newer, grown) >= min_new


class LearnedModels:
    """The models a box triages with, reloaded when a file is replaced: for
    each task its own (trained on its reviews) or the centre's (from the
    bundle in use), as `edgebox.learn.choice` decides."""

    def __init__(
        self,
        data_dir: Path | None,
        *,
        min_examples: int = TriageConfig.min_examples,
        preset: Mapping[str, LearnedModel] | None = None,
    ) -> None:
        """`preset` models (eval) are used as they are and never read from disk."""
        self.data_dir = None if preset is not None else data_dir
        self.min_examples = min_examples
        self._cache: dict[str, tuple[int, LearnedModel | None]] = {}
        self._preset = dict(preset or {})

    def get(self, task: str) -> LearnedModel | None:
        """The task's model in use, else None."""
        return self.chosen(task)[1]

    def chosen(self, task: str) -> tuple[str | None, LearnedModel | None]:
        """("own" or "central", its model), or (None, None) when neither may
        decide yet (no central model, and too few reviews of the box's own)."""
        if self.data_dir is None:
            model = self._preset.get(task)
            if model is None or model.n_examples < self.min_examples:
                return None, None
            return "own", model
        from edgebox.learn.choice import CENTRAL, OWN, central_dir, choose, verdict

        own = self.cached(model_path(self.data_dir, task))
        if own is not None and own.n_examples < self.min_examples:
            own = None
        central = self.cached(model_path(central_dir(self.data_dir), task))
        found = verdict(self.data_dir, task) if own and central else None
        source = choose(own, central, found)
        return source, {OWN: own, CENTRAL: central}.get(source or "")

    def cached(self, path: Path) -> LearnedModel | None:
        """The model at this path, read again only when the file changed."""
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            stamp = -1
        cached = self._cache.get(str(path))
        if cached is None or cached[0] != stamp:
            model = _load_file(path) if stamp >= 0 else None
            cached = (stamp, model)
            self._cache[str(path)] = cached
        return cached[1]


def _load_file(path: Path) -> LearnedModel | None:
    """`load` of the model at this path (model_path's layout)."""
    return load(path.parent.parent, path.stem)


def learned_report(data_dir: Path, *, min_examples: int) -> dict[str, Any]:
    """Each task's learned model as `describe()` says, and whether it is used
    yet (None: no model trained)."""
    report: dict[str, Any] = {}
    for task in TASKS:
        model = load(data_dir, task)
        report[task] = (
            None
            if model is None
            else model.describe() | {"in_use": model.n_examples >= min_examples}
        )
    return report
