"""Vital signs read from free text, in English and French.

Triage sheets write vitals tersely and in many ways ("BP 137/75", "TA 118/76",
"T° 38,6 °C", "SpO2 98%", "Mental status: responds to voice", "EVA 8/10").
Both the red-flag thresholds and the learned models' features read them from
here, so a value is parsed once and the same way everywhere. Each value keeps
where it was found, so a threshold finding can point at its evidence.

A note may state a kind more than once: reference values, a reading on
arrival and one after it worsened. The learned models and the extracted fields
take the first value of each kind (`Vitals.readings`); the red-flag thresholds
judge every value (`Vitals.every`), so no text written before or after the
dangerous reading can hide it.
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
    """The vital signs of one document; a sign that is not written is absent.

    `readings` holds the first plausible value of each kind, `all_readings`
    every one of them in the order of the text.
    """

    readings: dict[str, Reading] = field(default_factory=dict)
    all_readings: dict[str, tuple[Reading, ...]] = field(default_factory=dict)

    def get(self, name: str) -> float | None:
        reading = self.readings.get(name)
        return reading.value if reading else None

    def every(self, name: str) -> tuple[Reading, ...]:
        """Every reading of a kind; a hand-built `Vitals` may know only the first."""
        if name in self.all_readings:
            return self.all_readings[name]
        first = self.readings.get(name)
        return (first,) if first else ()

    def __contains__(self, name: str) -> bool:
        return name in self.readings


def parse_vitals(text: str) -> Vitals:
    """Every vital sign the text states, each kind's first value apart."""
    found: dict[str, list[Reading]] = {}
    for name, pattern in _PATTERNS.items():
        for match in pattern.finditer(text):
            for kind, reading in _read(name, match):
                found.setdefault(kind, []).append(reading)
    all_readings = {kind: tuple(values) for kind, values in found.items()}
    readings = {kind: values[0] for kind, values in all_readings.items()}
    avpu = _avpu(text)
    if avpu:
        readings["avpu"] = avpu
    every_avpu = _every_avpu(text)
    if every_avpu:
        all_readings["avpu"] = every_avpu
    age = _age(text)
    if age:
        readings["age"] = age
        all_readings["age"] = (age,)
    return Vitals(readings, all_readings)


def _read(name: str, match: re.Match[str]) -> list[tuple[str, Reading]]:
    """The plausible values of one match; an implausible one is skipped."""
    if name == "bp":
        sbp, dbp = int(match.group(1)), int(match.group(2))
        if not (30 <= dbp < sbp <= 320):
            return []
        return [
            ("sbp", Reading(sbp, match.start(), match.end())),
            ("dbp", Reading(dbp, match.start(), match.end())),
        ]
    value = float(match.group(1).replace(",", "."))
    if name == "glucose":
        value = _glucose_mmol(value, match.group(2).lower())
    low, high = _PLAUSIBLE[name]
    if not low <= value <= high:
        return []
    return [(name, Reading(value, match.start(), match.end()))]


def _position(reading: Reading) -> tuple[int, int]:
    return reading.start, reading.end


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
    """The first AVPU: a letter if one is written, else the first described
    mental status (one that names no level gives none, as features expect)."""
    letter = _AVPU_LETTER.search(text)
    if letter:
        return Reading(AVPU_RANK[letter.group(1)], letter.start(), letter.end())
    field_match = _AVPU_FIELD.search(text)
    return _avpu_described(field_match) if field_match else None


def _every_avpu(text: str) -> tuple[Reading, ...]:
    """Every AVPU level the text states, as a letter or in words, in text order."""
    letters = [
        Reading(AVPU_RANK[m.group(1)], m.start(), m.end())
        for m in _AVPU_LETTER.finditer(text)
    ]
    described = [_avpu_described(m) for m in _AVPU_FIELD.finditer(text)]
    found = set(letters) | {reading for reading in described if reading}
    return tuple(sorted(found, key=_position))


def _avpu_described(field_match: re.Match[str]) -> Reading | None:
    """The level a mental-status field names in words ("responds to voice")."""
    value = field_match.group(1)
    for level, pattern in _AVPU_WORDS:
        word = pattern.search(value)
        if word:
            start = field_match.start(1) + word.start()
            return Reading(AVPU_RANK[level], start, start + len(word.group(0)))
    return None


def _age(text: str) -> Reading | None:
    match = _AGE.search(text)
    if match is None:
        return None
    unit = match.group(2).lower()
    per_year = next(f for prefix, f in _AGE_UNITS if unit.startswith(prefix))
    years = int(match.group(1)) * per_year
    return Reading(round(years, 3), match.start(), match.end())
