"""Pooled learning measured: the centre's model against a box's own 60 reviews
and a new box with none (issue 22, "Done when"); writes docs/pooled-learning.md.

.venv/bin/python scripts/pooled_eval.py ../shared/data/eval
.venv/bin/python scripts/pooled_eval.py ../shared/data/eval --seeds 0 1 2 --json

Each labelled file (urgency.jsonl, category.jsonl) is cut in three parts by a
fixed seed, stratified by label. Part 1 is the pooled reviews: `edgebox
central train` code trains the centre's model on it (holding out its usual
share for its own comparison). About 60 rows of part 2 are one box's own
reviews: the box's model trains on them as `retrain_if_due` would, and the
box's choice between the two runs on them as on a box. Part 3 is scored by the
deployed decision path (`TriageEngine`, rules and learned model, no LLM):
a new box with no reviews (rules only; the LLM has no vote), the box's own
model, the centre's, and the box's choice. No LLM is loaded.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from edgebox import config  # noqa: E402
from edgebox.evaluation.evaluate import metrics, run_with_models  # noqa: E402
from edgebox.evaluation.jsonl import read_jsonl  # noqa: E402
from edgebox.learn.choice import compare  # noqa: E402
from edgebox.learn.classifiers import load, train  # noqa: E402
from edgebox.learn.compare import paired_comparison  # noqa: E402
from edgebox.sync.central.training import Row, train_candidate  # noqa: E402
from edgebox.triage.engine import TriageEngine  # noqa: E402

BOX_REVIEWS = 60
DOC = HERE.parent / "docs" / "pooled-learning.md"
GOALS = {"urgency_macro_f1": 0.55, "emergency_recall": 0.90}


def thirds(rows: list[dict[str, Any]], task: str, seed: int) -> list[list[dict]]:
    """Three parts, each label dealt round-robin after a seeded shuffle."""
    rng = random.Random(seed)
    parts: list[list[dict[str, Any]]] = [[], [], []]
    turn = 0
    for label in sorted({str(r[task]) for r in rows}):
        found = [r for r in rows if str(r[task]) == label]
        for row in rng.sample(found, len(found)):
            parts[turn % 3].append(row)
            turn += 1
    return [rng.sample(part, len(part)) for part in parts]


def measure(
    path: Path, seed: int, engine: TriageEngine, targets: list[float]
) -> dict[str, Any]:
    """One task, one seed: each box's figures on part 3."""
    task, rows = read_jsonl(path)
    pooled, second, test = thirds(rows, task, seed)
    own_rows = second[:BOX_REVIEWS]
    texts = [r["text"] for r in own_rows]
    labels = [str(r[task]) for r in own_rows]
    own = train(task, texts, labels)  # the box's own, at its default target
    boxes: dict[str, dict[str, Any]] = {"new_box": {}, "own_60": {task: own}}
    chose: dict[str, str] = {}
    central_sizes: dict[str, int] = {}
    for target in targets:
        central = _central(task, pooled, seed, target)
        central_sizes[f"central@{target}"] = central.n_examples
        pairs = list(zip(texts, labels, strict=True))
        choice = compare(task, pairs, central, config.TriageConfig.emergency_recall)
        chose[f"choice@{target}"] = choice["use"]
        boxes[f"central@{target}"] = {task: central}
        boxes[f"choice@{target}"] = {task: own if choice["use"] == "own" else central}
    outcomes = {
        name: run_with_models(engine, task, test, models)
        for name, models in boxes.items()
    }
    truth = [o.truth for o in outcomes["new_box"]]
    mine = [o.predicted for o in outcomes["own_60"]]
    return {
        "task": task,
        "seed": seed,
        "sizes": {"pooled": len(pooled), "box_reviews": len(own_rows)}
        | {"test": len(test)}
        | central_sizes,
        "box_chose": chose,
        "scores": {
            name: _headline(metrics(task, found)) for name, found in outcomes.items()
        },
        "central_vs_own_60": {
            f"central@{t}": paired_comparison(
                task,
                truth,
                [o.predicted for o in outcomes[f"central@{t}"]],
                mine,
            )
            for t in targets
        },
    }


def _central(task: str, pooled: list[dict], seed: int, target: float) -> Any:
    """The centre's published model, as `edgebox central train` makes it."""
    with tempfile.TemporaryDirectory() as folder:
        report = train_candidate(
            [Row("pooled", r["text"], {task: str(r[task])}) for r in pooled],
            Path(folder),
            seed=seed,
            emergency_recall=target,
        )
        central = load(Path(folder), task)
    if central is None:
        raise SystemExit(f"{task}: the centre trained nothing: {report}")
    return central


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("macro_f1", "accuracy", "emergency_recall", "review_rate", "n")
    return {k: report[k] for k in keys if k in report}


def summary(runs: list[dict[str, Any]], targets: list[float]) -> dict[str, Any]:
    """Mean over seeds per task and box, and the goals checked on each seed."""
    by_task: dict[str, Any] = {}
    for task in sorted({r["task"] for r in runs}):
        mine = [r for r in runs if r["task"] == task]
        by_task[task] = {
            box: {
                key: round(statistics.fmean(r["scores"][box][key] for r in mine), 3)
                for key in figures
                if key != "n"
                and all(r["scores"][box].get(key) is not None for r in mine)
            }
            for box, figures in mine[0]["scores"].items()
        }
    urgency = [r for r in runs if r["task"] == "urgency"]
    goals = {}
    for target in targets:
        box = f"central@{target}"
        goals[box] = {
            "urgency macro-F1 >= 0.55": all(
                r["scores"][box]["macro_f1"] >= GOALS["urgency_macro_f1"]
                for r in urgency
            ),
            "emergency recall >= 0.90": all(
                r["scores"][box]["emergency_recall"] >= GOALS["emergency_recall"]
                for r in urgency
            ),
            "never worse than the 60-review model beyond the noise": not any(
                r["central_vs_own_60"][box]["worse_beyond_noise"] for r in runs
            ),
        }
    return {"mean": by_task, "goals": goals}


def markdown(runs: list[dict[str, Any]], result: dict[str, Any], command: str) -> str:
    """docs/pooled-learning.md: what pooled learning is, and the figures."""
    boxes = list(runs[0]["scores"])
    seeds = ", ".join(str(s) for s in sorted({r["seed"] for r in runs}))
    lines = [PROSE.strip(), "", "## Measured", "", f"Command: `{command}`", ""]
    lines += [MEASURED.strip(), ""]
    lines += [f"Macro-F1 / emergency recall on part 3, mean over seeds {seeds}:", ""]
    lines += ["| task | " + " | ".join(boxes) + " |", "|---" * (len(boxes) + 1) + "|"]
    for task, found in result["mean"].items():
        lines.append(f"| {task} | " + " | ".join(_cell(found[b]) for b in boxes) + " |")
    lines += ["", "Per seed (centre minus own 60: macro-F1, 90% bootstrap interval):"]
    lines += ["", "| task | seed | rows pooled / own / test | " + " | ".join(boxes)]
    lines[-1] += " | box chose | centre - own 60 |"
    lines.append("|---" * (len(boxes) + 5) + "|")
    for r in runs:
        sizes = r["sizes"]
        cells = [_cell(r["scores"][b]) for b in boxes]
        versus = "; ".join(
            f"{name}: {_difference(d['macro_f1'])}"
            + (" WORSE" if d["worse_beyond_noise"] else "")
            for name, d in r["central_vs_own_60"].items()
        )
        chose = ", ".join(f"{k}: {v}" for k, v in r["box_chose"].items())
        lines.append(
            f"| {r['task']} | {r['seed']} |"
            f" {sizes['pooled']} / {sizes['box_reviews']} / {sizes['test']} | "
            + " | ".join(cells)
            + f" | {chose} | {versus} |"
        )
    lines += ["", "Goals for a new box with the centre's model (on every seed):", ""]
    for box, goals in result["goals"].items():
        met = "; ".join(f"{g}: {'met' if ok else 'NOT met'}" for g, ok in goals.items())
        lines.append(f"- {box}: {met}")
    return "\n".join(lines) + "\n"


def _difference(d: dict[str, Any]) -> str:
    low, high = d["interval_90"]
    return f"{d['difference']:+.3f} ({low:+.3f}, {high:+.3f})"


def _cell(scores: dict[str, Any]) -> str:
    text = f"{scores['macro_f1']:.3f}"
    if scores.get("emergency_recall") is not None:
        text += f" / {scores['emergency_recall']:.3f}"
    return text


MEASURED = """
Each file of `../shared/data/eval` is cut in three parts by the seed,
stratified by label: part 1 is the pooled reviews (`edgebox central train`
code: a quarter held out for its comparison, then refitted on all of part 1),
60 rows of part 2 are one box's own reviews, part 3 is the test. Scored by the
deployed decision path without the LLM: `new_box` is today's new box (rules
only, the LLM has no vote), `own_60` the box's own model on its 60 reviews
(emergency recall target 0.95, the box default), `central@T` the centre's
model trained for emergency recall target T, and `choice@T` what the box
picks between its own and that central model by 3-fold cross-validation on
its 60 reviews. A category the new box cannot rate counts as wrong.
"""


PROSE = """
# Pooled learning: the centre trains, boxes choose

A new box knows nothing: until its staff have reviewed 30 documents per task,
documents no red-flag rule flags are not rated. Other clinics of the same NGO
have reviewed thousands. Pooled learning closes that loop.

## On the box: `[sync] share_reviews`

Off by default. **When on, the box sends the whole text of every document a
person reviewed** (one by one; bulk confirmations never) with the labels the
person chose, under the review's own sync record (`content.shared_review`; a
text is cut at 50,000 characters). Turn it on only where the NGO's data
agreement allows document text to leave the clinic. Environment:
`EDGEBOX_SYNC_SHARE_REVIEWS=true`. It covers records not sent yet.

The centre keeps each shared review once per clinic (table `pooled_reviews`,
keyed like the record: a re-send is not doubled) and keeps the record itself
without the text. `central serve --keep-days` (and `central prune`) deletes
shared texts with the records they came with.

## At the centre: `edgebox central train`

    edgebox central train [--from FILE ...] [--db URL] --out DIR \\
        [--baseline DIR] [--seed N] [--holdout 0.25] [--min-examples 30]

Trains category and urgency with the box's own learning code on the pooled
reviews plus labelled JSONL files (`--from`, the `edgebox eval` format; each
file counts as a clinic). A share of each clinic's rows is held out; the
candidate and the models published now (`--baseline`) decide those rows as a
box would without the LLM (learned label, raised by the red-flag rules), and
the candidate is publishable only when no task is worse beyond the noise of a
paired bootstrap (1000 resamples, one-sided 95%) on macro-F1 and, for
urgency, emergency recall. `DIR/learned/<task>.joblib` and `DIR/report.json`
(figures, per clinic, comparison, verdict) go into a bundle (`edgebox central
bundle create --models DIR`). Needs `pip install 'edgebox[learn]'`
(scikit-learn pinned to the box's exact version: a model is a pickle).
The urgency model's emergency recall target is 0.90 at the centre
(`--emergency-recall`; a box's own model keeps `[triage] emergency_recall`):
the table below shows a 0.95 target reaching no higher recall on held-out
notes, at a lower macro-F1.

## On the box again: which model decides

A fetched bundle's models sit under `<data>/bundles/current/learned/`. For each
task the box uses the centre's model until its own learned model beats it on
the box's own reviews, by 3-fold cross-validation (fixed seed): own wins when
its macro-F1 is higher and its emergency recall not lower. The service's
retrainer compares again whenever either model file changes.
`edgebox status` (lines `deciding`), `status --json` (`model_in_use`) and the
UI's status screen (Learned models) say which one decides, and the triage
provenance records it (`learned.<task>.source`).

## Drift: `edgebox central drift`

From the synced reviews (labels only), per clinic and per bundle version of
the machine answer (`provenance.bundle_version`, "unknown" until boxes
report it), the share of hand reviews that changed each label, by window.
A clinic is flagged when, in its latest window with at least
`--drift-min-reviews` (20) reviews, a rate is past `--drift-limit` (0.3) or
rose more than `--drift-rise` (0.15) over its earlier windows. `edgebox
central status` shows the flags (`DRIFT`). Each limit also reads
`EDGEBOX_CENTRAL_DRIFT_<NAME>`.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="urgency.jsonl and category.jsonl")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--central-recall",
        type=float,
        nargs="+",
        default=[config.TriageConfig.emergency_recall],
        help="emergency recall targets of the centre's urgency model",
    )
    parser.add_argument("--json", action="store_true", help="print every run")
    parser.add_argument("--no-doc", action="store_true", help="do not write the doc")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = config.Config(home=Path(home), source=None)
        engine = TriageEngine(settings, lazy_model=True)
        engine.llm_may_vote = frozenset()  # the LLM has no vote: no GGUF is loaded
        runs = [
            measure(args.data / f"{task}.jsonl", seed, engine, args.central_recall)
            for task in ("urgency", "category")
            for seed in args.seeds
        ]
    result = summary(runs, args.central_recall)
    command = (
        "python scripts/pooled_eval.py ../shared/data/eval"
        f" --seeds {' '.join(map(str, args.seeds))}"
        f" --central-recall {' '.join(map(str, args.central_recall))}"
    )
    if not args.no_doc:
        DOC.write_text(markdown(runs, result, command), encoding="utf-8")
    shown = {"runs": runs} | result if args.json else result
    print(json.dumps(shown, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
