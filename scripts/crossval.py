"""Cross-validated triage figures on a labelled JSONL file (see edgebox.crossval).

.venv/bin/python scripts/crossval.py ../shared/data/eval/urgency.jsonl
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
from edgebox.crossval import run_crossval  # noqa: E402
from edgebox.evaluate import format_report  # noqa: E402
from edgebox.learn import EMERGENCY_RECALL  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="+")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--emergency-recall", type=float, default=EMERGENCY_RECALL)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = config.Config(home=Path(tempfile.mkdtemp()), source=None)
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


if __name__ == "__main__":
    sys.exit(main())
