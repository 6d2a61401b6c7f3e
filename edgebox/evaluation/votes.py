"""`edgebox eval --votes`: does a GGUF's label beat the rules alone?

A new box has no learned model, so before this check the LLM's label decided
every document the rules did not flag; the bundled 135M model said "urgent"
for nearly all of them. Its vote must be earned: on a fixed stratified subset
of held-out notes (a seed, so that the record can be rerun), the LLM's label
added to the rules must beat the rules alone *and* the rules plus the best
constant label (a model that always says "urgent" carries no information, yet
lifts macro-F1 over rules that never say it). "Beat" means better in at least
95% of paired bootstrap resamples. The verdict goes into
`models/manifest.toml` as `[model.votes]`.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from edgebox.learn.classifiers import LearnedModels
from edgebox.triage.engine import TriageEngine
from edgebox.vocabulary import Urgency

SEED = 2026
DEFAULT_SIZE = 120
RESAMPLES = 1000
WIN_SHARE = 0.95


def stratified_subset(
    rows: Sequence[dict[str, Any]], task: str, size: int, *, seed: int = SEED
) -> list[dict[str, Any]]:
    """`size` rows with the labels in equal shares (as far as each allows),
    always the same for the same file and seed."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_label.setdefault(str(row[task]), []).append(row)
    rng = random.Random(seed)
    pools = {label: rng.sample(found, len(found)) for label, found in by_label.items()}
    chosen: list[dict[str, Any]] = []
    while len(chosen) < size and any(pools.values()):
        for label in sorted(pools):
            if pools[label] and len(chosen) < size:
                chosen.append(pools[label].pop())
    return chosen


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Over the true labels; a prediction outside them ("unknown") is wrong."""
    scores = []
    for label in sorted(set(truth)):
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        n_pred, n_true = predicted.count(label), truth.count(label)
        if not tp:
            scores.append(0.0)
            continue
        precision, recall = tp / n_pred, tp / n_true
        scores.append(2 * precision * recall / (precision + recall))
    return statistics.fmean(scores)


def _raised(rules: str | None, vote: str | None) -> str:
    """The rules only raise: the higher of the two levels, else unknown."""
    levels = [level for level in (rules, vote) if level in Urgency.levels()]
    if not levels:
        return Urgency.UNKNOWN
    return min(levels, key=lambda level: Urgency(level).rank)


def predictions(
    task: str, rules: Sequence[str | None], vote: Sequence[str | None]
) -> list[str]:
    """What the box would say with this vote beside the rules."""
    if task == "urgency":
        return [_raised(r, v) for r, v in zip(rules, vote, strict=True)]
    return [v or "unknown" for v in vote]  # no rule gives a category


def paired_win_share(
    truth: Sequence[str],
    better: Sequence[str],
    worse: Sequence[str],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> float:
    """Share of bootstrap resamples in which `better` has the higher macro-F1."""
    rng = random.Random(seed)
    n, wins = len(truth), 0
    for _ in range(resamples):
        pick = [rng.randrange(n) for _ in range(n)]
        t = [truth[i] for i in pick]
        if macro_f1(t, [better[i] for i in pick]) > macro_f1(
            t, [worse[i] for i in pick]
        ):
            wins += 1
    return wins / resamples


def check_votes(
    engine: TriageEngine,
    task: str,
    rows: Sequence[dict[str, Any]],
    taxonomy: Collection[str] = (),
) -> dict[str, Any]:
    """Run the LLM on every row (its vote forced on, no learned model), and
    compare. A category file whose labels are not the box's taxonomy cannot
    show anything: the model chooses among the taxonomy's labels."""
    truth = [str(row[task]) for row in rows]
    if task == "category" and not set(truth) & set(taxonomy):
        return {
            "task": task,
            "n": len(rows),
            "seed": SEED,
            "vote": False,
            "why": "the file's categories are not the box's taxonomy",
        }
    saved = engine.llm_may_vote, engine.learned
    engine.llm_may_vote = frozenset({task})
    engine.learned = LearnedModels(None, preset={})
    try:
        rules: list[str | None] = []
        llm: list[str | None] = []
        for row in rows:
            result = engine.triage(row["text"], summary=False, tasks=(task,))
            record = result.provenance.get("votes", {})
            rules.append(record.get("rules"))
            llm.append(record.get(f"llm_{task}"))
    finally:
        engine.llm_may_vote, engine.learned = saved
    alone = predictions(task, rules, [None] * len(rows))
    with_llm = predictions(task, rules, llm)
    labels = sorted(set(truth))
    constants = {c: predictions(task, rules, [c] * len(rows)) for c in labels}
    best_constant = max(labels, key=lambda c: macro_f1(truth, constants[c]))
    over_rules = paired_win_share(truth, with_llm, alone)
    over_constant = paired_win_share(truth, with_llm, constants[best_constant])
    answered = [v for v in llm if v]
    return {
        "task": task,
        "n": len(rows),
        "seed": SEED,
        "macro_f1_rules_alone": round(macro_f1(truth, alone), 3),
        "macro_f1_rules_and_llm": round(macro_f1(truth, with_llm), 3),
        "best_constant": best_constant,
        "macro_f1_rules_and_constant": round(
            macro_f1(truth, constants[best_constant]), 3
        ),
        "win_share_over_rules": over_rules,
        "win_share_over_constant": over_constant,
        "llm_labels": {label: answered.count(label) for label in sorted(set(answered))},
        "llm_unanswered": len(llm) - len(answered),
        "vote": over_rules >= WIN_SHARE and over_constant >= WIN_SHARE,
    }


def _measured(r: dict[str, Any]) -> str:
    if "why" in r:
        return f"{r['task']}: no vote, {r['why']}"
    return (
        f"{r['task']} on {r['n']} held-out notes (seed {r['seed']}): macro-F1"
        f" rules {r['macro_f1_rules_alone']}, rules+llm"
        f" {r['macro_f1_rules_and_llm']}, rules+'{r['best_constant']}'"
        f" {r['macro_f1_rules_and_constant']}"
    )


def manifest_lines(model_file: str, reports: Sequence[dict[str, Any]]) -> str:
    """The `[model.votes]` table to put under the model's manifest entry."""
    measured = "; ".join(_measured(r) for r in reports)
    lines = [f"# {model_file}: edgebox eval --votes, {date.today().isoformat()}"]
    lines.append("[model.votes]")
    lines += [f"{r['task']} = {'true' if r['vote'] else 'false'}" for r in reports]
    lines.append(f'measured = "{measured}"')
    return "\n".join(lines)
