"""Vital signs read from free text, in English and French.

Triage sheets write vitals tersely and in many ways ("BP 137/75", "TA 118/76",
"T° 38,6 °C", "SpO2 98%", "Mental status: responds to voice", "EVA 8/10").
Both the red-flag thresholds and the learned models' features read them from
here, so a value is parsed once and the same way everywhere. Each value keeps
where it was found, so a threshold finding can point at its evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# AVPU: alert, responds to voice, responds to pain, unresponsive (1 = best).
AVPU_RANK = {"A": 1, "V": 2, "P": 3, "U": 4}

_NUM = r"(\d{1,3}(?:[.,]\d)?)"
_SEP = r"\s*(?:[:=]|of|de|à|a)?\s*"

# Units that say a number is not a temperature (a lab value, a size, a dose).
_UNITS = r"(?:[mµnu]?mol|[mµnuk]?g\b|mcg|[mcd]?m\b|m?l\b|%|/|ui\b|iu\b|u\b)"

# Each pattern's first group is the value; BP has two groups.
_PATTERNS: dict[str, re.Pattern[str]] = {
    "bp": re.compile(
        r"\b(?:BP|B/P|blood pressure|TA|tension(?: art[ée]rielle)?|PA)"
        rf"{_SEP}(\d{{2,3}})\s*/\s*(\d{{2,3}})",
        re.I,
    ),
    "hr": re.compile(
        r"\b(?:HR|heart rate|pulse|FC|fr[ée]quence cardiaque|pouls)"
        rf"{_SEP}(\d{{2,3}})\b(?!\s*/\s*\d)",
        re.I,
    ),
    "rr": re.compile(
        r"\b(?:RR|resp(?:iratory)? rate|resp|FR|fr[ée]quence respiratoire)"
        rf"{_SEP}(\d{{1,3}})\b",
        re.I,
    ),
    "temp": re.compile(
        # A bare "T" before a degree sign, or a capital "T" before a one-decimal
        # reading ("T 39.8", "T39.8 HR110", "T 38,5 FC 110") that no other
        # unit follows: "Troponin T 28.0 ng/L" and "stage T 33.5 mm" are not
        # temperatures (a wrong one would raise a false flag and hide the real).
        r"(?:\btemp(?:erature)?|\btempérature|\bT°"
        r"|\bT(?=\s*[:=]?\s*\d{2}[.,]?\d?\s*°)"
        r"|(?-i:\bT)(?=\s*[:=]?\s*\d{2}[.,]\d(?!\d)(?!\s*" + _UNITS + r")))"
        rf"{_SEP}{_NUM}\s*°?\s*C?\b",
        re.I,
    ),
    "spo2": re.compile(
        rf"\b(?:SpO2|SaO2|O2 sat(?:uration)?|sat(?:uration)?s?){_SEP}(\d{{2,3}})\s*%",
        re.I,
    ),
    "gcs": re.compile(
        r"\b(?:GCS|Glasgow(?: coma scale)?)" + _SEP + r"(\d{1,2})\b", re.I
    ),
    "glucose": re.compile(
        r"\b(?:glucose|glyc[ée]mie|blood sugar|BGL|RBS|CBG|dextro)"
        rf"{_SEP}(\d{{1,3}}(?:[.,]\d)?)\s*(mmol|mg|g/l)",
        re.I,
    ),
    "pain": re.compile(
        r"\b(?:pain(?: score)?|douleur|EVA|EN|NRS|VAS)"
        + _SEP
        + r"(\d{1,2})\s*/\s*10\b",
        re.I,
    ),
}

_AVPU_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("U", re.compile(r"\b(unresponsive|unconscious|ar[ée]actif|inconscient)", re.I)),
    (
        "P",
        re.compile(
            r"\b(responds? (only )?to pain|r[ée]pond (seulement |uniquement )?"
            r"[àa] la douleur)",
            re.I,
        ),
    ),
    ("V", re.compile(r"\b(responds? to voice|r[ée]pond [àa] la voix)", re.I)),
    ("A", re.compile(r"\b(alert|conscient|[ée]veill[ée])\b", re.I)),
]
_AVPU_FIELD = re.compile(
    r"\b(?:mental status|consciousness|AVPU|[ée]tat de conscience|conscience)"
    r"\s*[:=]?\s*([^.;\n]{1,40})",
    re.I,
)
_AVPU_LETTER = re.compile(r"\bAVPU\s*[:=]?\s*([AVPU])\b")

_AGE = re.compile(
    r"\b(\d{1,3})[- ]?(years?|yrs?|y/?o|ans?|months?|mois|weeks?|semaines?"
    r"|days?|jours?)(?:[- ]old)?\b",
    re.I,
)
# Fraction of a year per unit, keyed by the unit's first letters.
_AGE_UNITS = (("mo", 1 / 12), ("y", 1.0), ("a", 1.0), ("w", 7 / 365), ("s", 7 / 365),
              ("d", 1 / 365), ("j", 1 / 365))  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """One parsed value and where it is in the text."""

    value: float
    start: int
    end: int


@dataclass
class Vitals:
    """The vital signs of one document; a sign that is not written is absent."""

    readings: dict[str, Reading] = field(default_factory=dict)

    def get(self, name: str) -> float | None:
        reading = self.readings.get(name)
        return reading.value if reading else None

    def __contains__(self, name: str) -> bool:
        return name in self.readings


def parse_vitals(text: str) -> Vitals:
    """Every vital sign the text states (the first value of each kind)."""
    readings: dict[str, Reading] = {}
    for name, pattern in _PATTERNS.items():
        for match in pattern.finditer(text):
            if _read(name, match, readings):
                break
    avpu = _avpu(text)
    if avpu:
        readings["avpu"] = avpu
    age = _age(text)
    if age:
        readings["age"] = age
    return Vitals(readings)


def _read(name: str, match: re.Match[str], readings: dict[str, Reading]) -> bool:
    """Store a plausible value; an implausible one is skipped, not trusted."""
    if name == "bp":
        sbp, dbp = int(match.group(1)), int(match.group(2))
        if not (30 <= dbp < sbp <= 320):
            return False
        readings["sbp"] = Reading(sbp, match.start(), match.end())
        readings["dbp"] = Reading(dbp, match.start(), match.end())
        return True
    value = float(match.group(1).replace(",", "."))
    if name == "glucose":
        value = _glucose_mmol(value, match.group(2).lower())
    low, high = _PLAUSIBLE[name]
    if not low <= value <= high:
        return False
    readings[name] = Reading(value, match.start(), match.end())
    return True


_PLAUSIBLE = {
    "hr": (15, 300),
    "rr": (2, 120),
    "temp": (25, 45),
    "spo2": (30, 100),
    "gcs": (3, 15),
    "pain": (0, 10),
    "glucose": (0.5, 60),
}


def _glucose_mmol(value: float, unit: str) -> float:
    """Blood glucose in mmol/L whatever unit the note uses (mg/dL, g/L)."""
    if unit == "mg":
        return round(value / 18.0, 1)
    if unit == "g/l":
        return round(value * 1000 / 180.0, 1)
    return value


def _avpu(text: str) -> Reading | None:
    letter = _AVPU_LETTER.search(text)
    if letter:
        return Reading(AVPU_RANK[letter.group(1)], letter.start(), letter.end())
    field_match = _AVPU_FIELD.search(text)
    if field_match is None:
        return None
    value = field_match.group(1)
    for level, pattern in _AVPU_WORDS:
        found = pattern.search(value)
        if found:
            start = field_match.start(1) + found.start()
            return Reading(AVPU_RANK[level], start, start + len(found.group(0)))
    return None


def _age(text: str) -> Reading | None:
    match = _AGE.search(text)
    if match is None:
        return None
    unit = match.group(2).lower()
    per_year = next(f for prefix, f in _AGE_UNITS if unit.startswith(prefix))
    years = int(match.group(1)) * per_year
    return Reading(round(years, 3), match.start(), match.end())
