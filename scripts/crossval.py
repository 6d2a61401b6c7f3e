"""Cross-validated triage figures on a labelled JSONL file
(see edgebox.evaluation.crossval).

.venv/bin/python scripts/crossval.py ../shared/data/eval/urgency.jsonl
.venv/bin/python scripts/crossval.py FILE --review-cut 0.9   # another review cut
.venv/bin/python scripts/crossval.py urgency.jsonl --ceiling  # a threshold at best
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from edgebox import config  # noqa: E402
from edgebox.config import TriageConfig  # noqa: E402
from edgebox.evaluation.ceiling import format_ceiling, urgency_ceiling  # noqa: E402
from edgebox.evaluation.crossval import run_crossval  # noqa: E402
from edgebox.evaluation.evaluate import format_report  # noqa: E402


def unit_interval(text: str) -> float:
    """A number from 0 to 1, or a usage error that says so."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text!r}")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="+")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--emergency-recall", type=float, default=TriageConfig.emergency_recall
    )
    parser.add_argument(
        "--review-cut",
        type=unit_interval,
        default=config.TriageConfig().review_cut,
        help="labels less likely than this to be right go to review",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="urgency only: the best macro-F1 any emergency threshold gives at"
        " each recall target (chosen on the held-out answers: bounds, not results)",
    )
    args = parser.parse_args()
    if args.ceiling:
        return ceiling(args)
    settings = config.Config(
        home=Path(tempfile.mkdtemp()),
        source=None,
        triage=config.TriageConfig(review_cut=args.review_cut),
    )
    reports = [
        run_crossval(
            path,
            config=settings,
            folds=args.folds,
            seeds=args.seeds,
            emergency_recall=args.emergency_recall,
        )
        for path in args.file
    ]
    if args.json:
        print(json.dumps(reports, indent=2))
        return 0
    for path, report in zip(args.file, reports, strict=True):
        print(f"== {path.name}: {report['folds']}-fold, seeds {report['seeds']}")
        print(format_report(report), end="\n\n")
    return 0


def ceiling(args: argparse.Namespace) -> int:
    reports = [
        urgency_ceiling(path, folds=args.folds, seeds=args.seeds) for path in args.file
    ]
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        print("\n".join(format_ceiling(report) for report in reports), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
