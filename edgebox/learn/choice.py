"""Which learned model a box uses for each task: its own or the centre's.

The centre's models (trained on the reviews of every clinic, see
`edgebox central train`) arrive in a bundle, unpacked under
`<data_dir>/bundles/current/`. A box uses the central model until its own
learned model beats it on the box's own reviews. "Beats" is measured by
cross-validation, since the box's own model has seen every one of its reviews:
the reviews are cut into `FOLDS` stratified folds (fixed seed), a model of
the box's kind is trained on the other folds and decides each fold, and the
central model decides the same documents. Own wins when its macro-F1 is higher
and, for urgency, its emergency recall is not lower. (A centre that pooled this
box's reviews has seen them too: the comparison then leans to the central
model, which is the safe side.)

The verdict is kept in `<data_dir>/learned/choice.json` with the modification
stamps of the two model files it compared; a verdict whose stamps no longer
match (either model was replaced) is stale and the central model is used
until the comparison runs again (the service's retrainer runs it).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from edgebox.learn.classifiers import (
    LearnedModel,
    labelled,
    load,
    model_path,
    train,
)
from edgebox.learn.compare import decisions, scores
from edgebox.vocabulary import TASKS

FOLDS = 3
SEED = 0
OWN, CENTRAL = "own", "central"

log = logging.getLogger(__name__)


def central_dir(data_dir: Path) -> Path:
    """Where the bundle in use is unpacked (its models under learned/)."""
    return data_dir / "bundles" / "current"


def choice_path(data_dir: Path) -> Path:
    return data_dir / "learned" / "choice.json"


def stamp(path: Path) -> int:
    """The file's modification time (ns), -1 when absent."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def stamps(data_dir: Path, task: str) -> dict[str, int]:
    return {
        OWN: stamp(model_path(data_dir, task)),
        CENTRAL: stamp(model_path(central_dir(data_dir), task)),
    }


def read_choice(data_dir: Path) -> dict[str, Any]:
    """The saved verdicts by task ({} when none or unreadable)."""
    try:
        found = json.loads(choice_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def verdict(data_dir: Path, task: str) -> dict[str, Any] | None:
    """The task's verdict when it compared the model files there now."""
    found = read_choice(data_dir).get(task)
    if not isinstance(found, dict) or found.get("stamps") != stamps(data_dir, task):
        return None
    return found


def choose(
    own: LearnedModel | None, central: LearnedModel | None, found: Mapping | None
) -> str | None:
    """OWN or CENTRAL (None: neither model usable): the central one unless the
    own one is alone or won the comparison of these two files."""
    if central is None:
        return OWN if own is not None else None
    if own is None:
        return CENTRAL
    return OWN if found and found.get("use") == OWN else CENTRAL


def compare_if_due(
    examples: Sequence[Mapping[str, Any]],
    data_dir: Path,
    *,
    min_examples: int,
    emergency_recall_target: float,
    categories: Collection[str] | None = None,
) -> bool:
    """Compare own and central models where both exist and the last verdict
    is stale; True when a verdict was written."""
    saved = read_choice(data_dir)
    wrote = False
    for task in TASKS:
        now = stamps(data_dir, task)
        if min(now.values()) < 0 or verdict(data_dir, task) is not None:
            continue
        own = load(data_dir, task)
        central = load(central_dir(data_dir), task)
        if own is None or central is None or own.n_examples < min_examples:
            continue
        allowed = categories if task == "category" else None
        pairs = labelled(examples, task, allowed=allowed)
        try:
            found = compare(task, pairs, central, emergency_recall_target)
        except ValueError as exc:
            # The central model keeps deciding; the next change tries again.
            log.warning("own and central %s models not compared: %s", task, exc)
            continue
        saved[task] = found | {"stamps": now}
        log.info("learned %s model: the box uses its %s one", task, saved[task]["use"])
        wrote = True
    if wrote:
        _write(data_dir, saved)
    return wrote


def compare(
    task: str,
    pairs: Sequence[tuple[str, str]],
    central: LearnedModel,
    emergency_recall_target: float,
) -> dict[str, Any]:
    """Cross-validated own model against the central one on the same reviews."""
    from sklearn.model_selection import StratifiedKFold  # lazy: heavy import

    texts = [t for t, _ in pairs]
    truth = [label for _, label in pairs]
    folds = min(FOLDS, min(truth.count(x) for x in set(truth)))
    own = [""] * len(texts)
    if folds >= 2 and len(set(truth)) >= 2:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
        for train_rows, test_rows in splitter.split(texts, truth):
            model = train(
                task,
                [texts[i] for i in train_rows],
                [truth[i] for i in train_rows],
                emergency_recall=emergency_recall_target,
            )
            answers = decisions(task, model, [texts[i] for i in test_rows])
            for i, answer in zip(test_rows, answers, strict=True):
                own[i] = answer
    theirs = decisions(task, central, texts)
    result = {
        "method": f"{folds}-fold cross-validation on {len(texts)} reviews"
        if folds >= 2
        else "too few reviews of each label to cross-validate",
        "own": scores(task, truth, own),
        "central": scores(task, truth, theirs),
    }
    won = folds >= 2 and _beats(result["own"], result["central"])
    result["use"] = OWN if won else CENTRAL
    return result


def _beats(own: Mapping[str, Any], central: Mapping[str, Any]) -> bool:
    if own["macro_f1"] <= central["macro_f1"]:
        return False
    mine, theirs = own.get("emergency_recall"), central.get("emergency_recall")
    return mine is None or theirs is None or mine >= theirs


def _write(data_dir: Path, saved: Mapping[str, Any]) -> None:
    path = choice_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(saved, indent=2), encoding="utf-8")
    os.replace(partial, path)


def in_use_report(data_dir: Path, *, min_examples: int) -> dict[str, Any]:
    """Per task, which model decides ("own", "central" or None), the central
    model's size and the last comparison (for `status` and the UI)."""
    from edgebox.learn.classifiers import LearnedModels

    report: dict[str, Any] = {}
    models = LearnedModels(data_dir, min_examples=min_examples)
    for task in TASKS:
        if max(stamps(data_dir, task).values()) < 0:
            report[task] = {"source": None, "central_examples": None}
            continue  # no model file at all: scikit-learn is not even loaded
        source, _ = models.chosen(task)
        central = models.cached(model_path(central_dir(data_dir), task))
        found = verdict(data_dir, task)
        report[task] = {
            "source": source,
            "central_examples": central.n_examples if central else None,
            "comparison": {k: found[k] for k in ("method", "own", "central")}
            if found
            else None,
        }
    return report


def in_use_words(entry: Mapping[str, Any]) -> str:
    """One line: which model decides and why."""
    source = entry.get("source")
    if source is None:
        return "none yet (rules only)"
    comparison = entry.get("comparison")
    if source == CENTRAL:
        why = (
            f", better than this box's own on its reviews ({_short(comparison)})"
            if comparison
            else ""
        )
        size = entry["central_examples"]
        return f"the centre's (learned from {size} documents){why}"
    why = f", it beat the centre's ({_short(comparison)})" if comparison else ""
    return f"this box's own{why}"


def _short(comparison: Mapping[str, Any]) -> str:
    own, central = comparison["own"]["macro_f1"], comparison["central"]["macro_f1"]
    return f"macro-F1 own {own:.2f}, centre {central:.2f}"


def comparison_due(data_dir: Path) -> bool:
    """Whether both models of a task exist and their last verdict is stale
    (cheap: file stamps and one small JSON file, no model loaded)."""
    return any(
        min(stamps(data_dir, task).values()) >= 0 and verdict(data_dir, task) is None
        for task in TASKS
    )
