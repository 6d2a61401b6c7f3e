"""`edgebox eval --summaries`: how far the model's summaries can be trusted.

Each document goes through `TriageEngine.triage` with abstractive summaries
tried, whatever the model's manifest setting, so that the figures decide that
setting. Per language of the document: the share of the model's summaries
rejected (and by which check), the share of the shown summary's content words
and numbers found in the document, and for each danger sign the rules found
the share of summaries that name it: for the model's own summaries ("model")
and for the extractive ones that stand in ("extractive").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from edgebox.clinical.vitals import parse_vitals
from edgebox.config import Config
from edgebox.evaluation.jsonl import EvalError, read_rows
from edgebox.triage.engine import TriageEngine
from edgebox.triage.grounding import (
    document_language,
    supported_share,
    unsupported_numbers,
)
from edgebox.triage.summaries import extractive_summary, unnamed_danger_signs

# The checks a rejection names, by the words of its review reason.
_CHECKS = {
    "numbers": "numbers the document does not contain",
    "repeats": "repeats itself",
    "example": "worked examples'",
    "off_topic": "mostly not in the document",
    "invented": "stated what the document does not",
    "danger_sign": "leaves out danger signs",
}


def run_summary_benchmark(
    path: Path, *, config: Config, limit: int | None = None
) -> dict[str, Any]:
    """The summary figures for the first `limit` documents of a JSONL file."""
    rows = read_rows(path)[:limit]
    engine = TriageEngine(config, lazy_model=True)
    engine.summary_mode = "abstractive"  # measure the model, not the setting
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for row in rows:
        text = row["text"]
        tallies[document_language(text)].add(engine, text)
    if not tallies:
        raise EvalError(f"{path} has no rows")
    return {
        "file": str(path),
        "model": config.model.file,
        "documents": len(rows),
        "languages": {lang: t.report() for lang, t in sorted(tallies.items())},
    }


class _Tally:
    """Running counts for the documents of one language."""

    def __init__(self) -> None:
        self.documents = 0
        self.rejected: Counter[str] = Counter()
        self.words: dict[str, list[float]] = defaultdict(list)
        self.numbers: dict[str, list[float]] = defaultdict(list)
        self.signs: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, engine: TriageEngine, text: str) -> None:
        result = engine.triage(text)
        model = result.provenance.get("rejected_summary", result.summary)
        if result.sources.get("summary") != "llm" and "rejected_summary" not in (
            result.provenance
        ):
            model = ""  # the model wrote none (failed or invalid answer)
            self.rejected["no_summary"] += 1
        self.documents += 1
        if "rejected_summary" in result.provenance:
            self.rejected["any"] += 1
            self.rejected[_check(result.review_reasons)] += 1
        findings = engine.rules.findings(text)
        extract = extractive_summary(text, findings, parse_vitals(text))
        for kind, summary in (("model", model), ("extractive", extract)):
            self._measure(kind, summary, text, findings)

    def _measure(self, kind: str, summary: str, text: str, findings: list) -> None:
        if not summary:
            return
        share = supported_share(summary, text)
        if share is not None:
            self.words[kind].append(share)
        numbers = re.findall(r"\d+(?:[.,]\d+)?", summary)
        if numbers:
            missing = len(unsupported_numbers(summary, text))
            self.numbers[kind].append(1 - missing / len(set(numbers)))
        unnamed = set(unnamed_danger_signs(summary, findings))
        for finding in findings:
            if finding.level == "emergency":
                self.signs[finding.sign][kind + "_total"] += 1
                self.signs[finding.sign][kind] += finding.sign not in unnamed

    def report(self) -> dict[str, Any]:
        documents = self.documents or 1
        return {
            "documents": self.documents,
            "rejected": round(self.rejected["any"] / documents, 3),
            "rejected_by": {
                check: round(self.rejected[check] / documents, 3)
                for check in [*_CHECKS, "no_summary", "other"]
                if self.rejected[check]
            },
            "words_found": {k: _mean(v) for k, v in self.words.items()},
            "numbers_found": {k: _mean(v) for k, v in self.numbers.items()},
            "danger_sign_named": {
                sign: {
                    kind: f"{counts[kind]}/{counts[kind + '_total']}"
                    for kind in ("model", "extractive")
                    if counts[kind + "_total"]
                }
                for sign, counts in sorted(self.signs.items())
            },
        }


def _check(reasons: list[str]) -> str:
    """The check that rejected a summary, from its review reason."""
    for check, words in _CHECKS.items():
        if any(words in reason for reason in reasons):
            return check
    return "other"


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def format_summary_report(report: dict[str, Any]) -> str:
    """The figures as lines for a terminal."""
    lines = [f"{report['file']}: {report['documents']} documents, {report['model']}"]
    for language, figures in report["languages"].items():
        lines.append(
            f"  {language}: {figures['documents']} documents, rejected"
            f" {figures['rejected']:.0%} {figures['rejected_by']}"
        )
        lines.append(f"    words found {figures['words_found']}")
        lines.append(f"    numbers found {figures['numbers_found']}")
        for sign, named in figures["danger_sign_named"].items():
            lines.append(f"    {sign} named: {named}")
    return "\n".join(lines)
