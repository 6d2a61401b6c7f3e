"""What the learned classifiers see in a document's text.

Three views, chosen by cross-validation on the development data (see
scripts/crossval.py): word n-grams (the vocabulary of a complaint or a report),
section headers as tokens (a discharge summary has HOSPITAL COURSE, an
operative report ESTIMATED BLOOD LOSS: document type is mostly structure), and
the vital signs with the bundled red-flag signs as numbers (a triage note's
acuity is mostly its vitals and its complaint). Character n-grams add the
spelling variants of terse complaints ("abd pain", "Abd. pain").

The functions here are module-level so that a fitted pipeline pickles.
"""

from __future__ import annotations

import re
from typing import Any

from edgebox.redflags import load_rules
from edgebox.vitals import parse_vitals

# An upper-case run ending with a colon: "HOSPITAL COURSE:", "IMPRESSION:".
_HEADER = re.compile(r"(?:^|\s)([A-ZÀ-Ý][A-ZÀ-Ý /&,()-]{2,60}?)\s*:")

# Typical adult values stand in for a vital that is not written, and a
# "<name>_missing" indicator says it was not: a note without SpO2 is not a
# note with SpO2 0.
_TYPICAL = {
    "sbp": 125.0, "dbp": 80.0, "hr": 80.0, "rr": 18.0, "temp": 36.8,
    "spo2": 98.0, "avpu": 1.0, "gcs": 15.0, "pain": 0.0, "age": 40.0,
    "glucose": 5.5,
}  # fmt: skip


def header_tokens(texts: list[str]) -> list[str]:
    """Each document's section headers as single tokens (H_HOSPITAL_COURSE)."""
    return [
        " ".join("H_" + re.sub(r"\W+", "_", h.strip()) for h in _HEADER.findall(t))
        for t in texts
    ]


def vital_features(texts: list[str]) -> list[dict[str, float]]:
    """Vital signs, their distance from normal, and the bundled rules' signs."""
    rules = load_rules()  # the bundled rules: features must not change per box
    rows: list[dict[str, float]] = []
    for text in texts:
        vitals = parse_vitals(text)
        row: dict[str, float] = {}
        for name, typical in _TYPICAL.items():
            value = vitals.get(name)
            row[f"{name}_missing"] = float(value is None)
            row[name] = typical if value is None else value
        row |= _deviations(row)
        for finding in rules.findings(text, vitals):
            row[f"sign={finding.sign}"] = 1.0
            row[f"level={finding.level}"] = 1.0
        rows.append(row)
    return rows


def _deviations(row: dict[str, Any]) -> dict[str, float]:
    """One-sided distances from normal: a linear model cannot bend a U-shape."""
    return {
        "shock_index": row["hr"] / max(row["sbp"], 40.0),
        "hr_high": max(0.0, row["hr"] - 100.0),
        "hr_low": max(0.0, 55.0 - row["hr"]),
        "sbp_low": max(0.0, 110.0 - row["sbp"]),
        "sbp_high": max(0.0, row["sbp"] - 160.0),
        "rr_high": max(0.0, row["rr"] - 20.0),
        "spo2_low": max(0.0, 96.0 - row["spo2"]),
        "fever": max(0.0, row["temp"] - 37.5),
        "cold": max(0.0, 36.0 - row["temp"]),
        "old_age": max(0.0, row["age"] - 65.0),
        "young_age": max(0.0, 5.0 - row["age"]),
    }
