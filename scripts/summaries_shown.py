"""The summaries a box shows, scored per language: for comparing two edgebox
versions on the same documents (issue 19's "before and after").

`edgebox eval --summaries` measures the current code's model and extractive
summaries. An older checkout has neither that command nor the extractive
stand-in, so this script splits the work in two:

    # 1. With any checkout first on the path: the summary each document gets.
    PYTHONPATH=CHECKOUT python scripts/summaries_shown.py emit FILE \\
        --limit N --home HOME [--start K] >> shown.jsonl
    # 2. With this checkout: score those summaries with today's checks.
    python scripts/summaries_shown.py score FILE shown.jsonl [--json]

`emit` uses only what every layered edgebox has (`config.load`,
`TriageEngine.triage`), so it runs on d1afefd (before issue 19) and on main.
`score` counts, per language of the document: summaries that state a sign,
drug, date or sex the document does not ("invented"), numbers it does not
contain, the share of content words found in it, and how many of the danger
signs the rules found the summary names.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any


def emit(path: Path, *, limit: int, home: Path, start: int = 0) -> None:
    """One JSON line per document: its id, the summary shown and its source."""
    from edgebox import config
    from edgebox.triage.engine import TriageEngine

    settings = config.load(home)
    engine = TriageEngine(settings)
    for row in _rows(path)[start:limit]:
        result = engine.triage(row["text"])
        line = {
            "id": row["id"],
            "summary": result.summary,
            "source": result.sources.get("summary"),
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)


def score(path: Path, shown: Path) -> dict[str, Any]:
    """Per language, the figures of the summaries in `shown` for `path`'s rows."""
    from edgebox.clinical.redflags import load_rules
    from edgebox.config import load
    from edgebox.triage.grounding import (
        document_language,
        supported_share,
        unsupported_numbers,
    )
    from edgebox.triage.summaries import invented_terms, unnamed_danger_signs

    rules = load_rules(load().rules_path)
    texts = {row["id"]: row["text"] for row in _rows(path)}
    tallies: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "documents": 0,
            "invented": 0,
            "numbers_missing": 0,
            "words_found": [],
            "signs": 0,
            "signs_named": 0,
            "sources": defaultdict(int),
        }
    )
    for line in shown.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        text, summary = texts[item["id"]], item["summary"] or ""
        tally = tallies[document_language(text)]
        tally["documents"] += 1
        tally["sources"][item.get("source") or "none"] += 1
        findings = rules.findings(text)
        tally["invented"] += bool(invented_terms(summary, text, findings))
        tally["numbers_missing"] += bool(unsupported_numbers(summary, text))
        share = supported_share(summary, text)
        if share is not None:
            tally["words_found"].append(share)
        signs = {f.sign for f in findings if f.level == "emergency"}
        unnamed = set(unnamed_danger_signs(summary, findings))
        tally["signs"] += len(signs)
        tally["signs_named"] += len(signs - unnamed)
    return {
        "file": str(path),
        "shown": str(shown),
        "languages": {lang: _report(t) for lang, t in sorted(tallies.items())},
    }


def _report(tally: dict[str, Any]) -> dict[str, Any]:
    documents = tally["documents"] or 1
    words = tally["words_found"]
    return {
        "documents": tally["documents"],
        "summary_sources": dict(tally["sources"]),
        "invented": round(tally["invented"] / documents, 3),
        "numbers_not_in_document": round(tally["numbers_missing"] / documents, 3),
        "words_found": round(sum(words) / len(words), 3) if words else None,
        "danger_signs_named": f"{tally['signs_named']}/{tally['signs']}",
    }


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row.get("text"), str):
            sys.exit(f"{path}:{number}: a row needs a 'text' string")
        row.setdefault("id", f"{path.stem}-{number}")
        rows.append(row)
    return rows


def _lines(report: dict[str, Any]) -> str:
    out = [f"{report['file']} ({report['shown']})"]
    for language, figures in report["languages"].items():
        out.append(
            f"  {language}: {figures['documents']} documents,"
            f" invented {figures['invented']:.0%},"
            f" numbers not in the document {figures['numbers_not_in_document']:.0%},"
            f" words found {figures['words_found']},"
            f" danger signs named {figures['danger_signs_named']},"
            f" from {figures['summary_sources']}"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    emit_cmd = commands.add_parser("emit", help="triage FILE, print its summaries")
    emit_cmd.add_argument("file", type=Path)
    emit_cmd.add_argument("--limit", type=int, default=20)
    emit_cmd.add_argument("--home", type=Path, required=True)
    emit_cmd.add_argument(
        "--start", type=int, default=0, help="skip rows before this one (resume)"
    )
    score_cmd = commands.add_parser("score", help="score summaries of FILE")
    score_cmd.add_argument("file", type=Path)
    score_cmd.add_argument("shown", type=Path)
    score_cmd.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.command == "emit":
        emit(args.file, limit=args.limit, home=args.home, start=args.start)
        return
    report = score(args.file, args.shown)
    print(json.dumps(report, indent=2) if args.json else _lines(report))


if __name__ == "__main__":
    main()
