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
_SAT = r"sat(?:uration)?s?(?:\s*(?:en\s*)?O2)?"

# Units that say a number is not a temperature (a lab value, a size, a dose).
_UNITS = r"(?:[mµnu]?mol|[mµnuk]?g\b|mcg|[mcd]?m\b|m?l\b|%|/|ui\b|iu\b|u\b)"
# Units of time and month names: a number they follow is a duration or a date
# ("HR" in capitals is the heart rate that follows a reading, not hours).
_TIME_UNITS = (
    r"(?:min(?:ute)?s?\b|mn\b|(?-i:h\b|hrs?\b)|hours?\b|heures?\b|s\b|secs?\b"
    r"|days?\b|d\b|jours?\b|j\b|weeks?\b|wks?\b|semaines?\b|months?\b|mois\b"
    r"|years?\b|yrs?\b|ans?\b|times\b|fois\b)"
)
_MONTHS = (
    r"(?:jan(?:uary|vier)?|feb(?:ruary)?|f[ée]v(?:rier)?|mar(?:ch|s)?|apr(?:il)?"
    r"|avr(?:il)?|may|mai|june?|juin|july?|juil(?:let)?|aug(?:ust)?|ao[ûu]t"
    r"|sept?(?:ember|embre)?|oct(?:ober|obre)?|nov(?:ember|embre)?"
    r"|d[ée]c(?:ember|embre)?)\b"
)

# Each pattern's first group is the value; BP has two groups.
_PATTERNS: dict[str, re.Pattern[str]] = {
    "bp": re.compile(
        r"\b(?:BP|B/P|blood pressure|TA|tension(?: art[ée]rielle)?|PA)"
        rf"{_SEP}(\d{{2,3}})\s*/\s*(\d{{2,3}})",
        re.I,
    ),
    # French sheets often write the pressure in cmHg ("TA 8/5" is 80/50 mmHg,
    # "TA 13,5/8" is 135/80); English labels never do.
    "bp_cmhg": re.compile(
        r"\b(?:TA|tension(?: art[ée]rielle)?|PA)"
        rf"{_SEP}(\d{{1,2}}(?:[.,]\d)?)\s*/\s*(\d{{1,2}}(?:[.,]\d)?)(?![\d.,]*\d)",
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
    # "fever 39.8", "fièvre à 40", "febrile 38.5": a number after the word
    # fever is a temperature, unless a unit follows it ("fever 30 days" and
    # "fièvre 40 h" say how long it has lasted).
    "fever": re.compile(
        r"\b(?:fever|febrile|fi[èe]vre|f[ée]brile)"
        rf"{_SEP}{_NUM}(?![.,]?\d)\s*(?:°\s*C?\b|C\b|degrees?\b|degr[ée]s?\b)?"
        r"(?!\s*(?:" + _TIME_UNITS + "|" + _UNITS + "))",
        re.I,
    ),
    "spo2": re.compile(
        rf"\b(?:SpO2|SaO2|O2 sat(?:uration)?|{_SAT}){_SEP}(\d{{2,3}})\s*%",
        re.I,
    ),
    # Without "%": an oxygen label ("SpO2 85", "SaO2 88", "Sat O2 = 88") or a
    # bare "sat" whose number no unit or month follows ("sat 45 minutes" and
    # "Sat 31 May" are not saturations).
    "spo2_bare": re.compile(
        rf"\b(?:SpO2|SaO2|O2 sat(?:uration)?|{_SAT}){_SEP}(\d{{2,3}})\b"
        rf"(?!\s*%)(?![.,]\d)(?!\s*(?:(?:-|–|—|to|à|a)\s*\d|{_TIME_UNITS}|{_MONTHS}|{_UNITS}|mmhg|kpa))",
        re.I,
    ),
    "gcs": re.compile(
        r"\b(?:GCS|Glasgow(?: coma scale)?)" + _SEP + r"(\d{1,2})\b", re.I
    ),
    # The scale's three parts ("GCS E2V2M4", "Glasgow E1 V1 M3") add up to it.
    "gcs_parts": re.compile(
        r"(?:\b(?:GCS|Glasgow(?: coma scale)?)" + _SEP + r")?"
        r"\bE\s*([1-4])\s*,?\s*V\s*([1-5])\s*,?\s*M\s*([1-6])\b",
        re.I,
    ),
    # As clinics write it: "Glycémie capillaire : 2,1 mmol/L", "Dextro 0,45
    # g/L", "GC 35 mg/dl" (glycémie capillaire), "HGT 2.8", "RBS 40 mg/dL".
    "glucose": re.compile(
        r"\b(?:glucose|glyc[ée]mie|blood sugar|BGL|RBS|CBG|GC|HGT|dextro(?:stix)?)"
        r"(?:\s+(?:capillaire|veineuse|[àa] jeun|capillary|random|fasting))?"
        rf"{_SEP}(\d{{1,3}}(?:[.,]\d{{1,2}})?)\s*(mmol|mg|g/l)",
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

# An age is read only where the text states it as one: "45-year-old", "45 yo",
# "aged 45", "age: 45", "homme de 50 ans", "bébé de 3 jours", "2-month-old".
# A bare number of days or months is as often how long an illness has lasted
# ("fever for 3 days", "depuis 3 jours") or a pregnancy's term ("7 months
# pregnant", "32 SA"); read as an age it would switch the adult limits off.
# An unknown age keeps them on, so when in doubt the age is left unknown.
_AGE_UNIT = (
    r"(?P<unit>years?|yrs?|ans?|months?|mos?|mois|weeks?|wks?|semaines?|days?"
    r"|jours?)"
)
_CHILD = (
    r"child|baby|infant|toddler|neonate|newborn|boy|girl|kid|enfant"
    r"|b[ée]b[ée]|nourrisson|gar[çc]on|fillette|fille|nouveau-n[ée]e?"
)
_PERSON = (
    r"man|woman|male|female|patient|pt|lady|gentleman|adolescent|teenager|homme"
    r"|femme|patiente|dame|monsieur|adolescente"
)
_AGE_FORMS = {
    # "Age 6/12", "aged 3/52", "Infant 5/7": months, weeks or days over the
    # year, the week or the month, as clinicians write an infant's age.
    "fraction": re.compile(
        rf"\b(?:aged?|[âa]g[ée]e?|{_CHILD})\s*(?:[:=(]|of|de)?\s*"
        r"(?P<num>\d{1,2})\s*/\s*(?P<over>12|52|7)\b(?!\s*/)",
        re.I,
    ),
    # "45-year-old", "12 days old", "2-month-old", "8 months of age"
    "old": re.compile(
        rf"\b(?P<num>\d{{1,3}})[- ]?{_AGE_UNIT}(?:[- ]old\b|\s+of\s+age\b)", re.I
    ),
    # "45 yo", "25yo", "60 y/o", "30 y.o."
    "yo": re.compile(r"\b(?P<num>\d{1,3})\s*(?:y/?o|y\.o\.?)(?![a-z])", re.I),
    # "aged 45", "age: 45", "Age 3 months", "âgé de 50 ans", "âgée de 2 mois"
    "aged": re.compile(
        r"\b(?:aged?|[âa]g[ée]e?)\s*(?:[:=]|of|de|d'|d’)?\s*"
        rf"(?P<num>\d{{1,3}})(?:[- ]?{_AGE_UNIT})?\b(?!\s*/\s*\d)",
        re.I,
    ),
    # "homme de 50 ans", "Child of 8 months", "Infant 2 months", "bébé de 3 jours"
    "person": re.compile(
        rf"\b(?:(?P<child>{_CHILD})|{_PERSON})\s*(?:[,:(]|of|de|d'|d’|aged"
        rf"|[âa]g[ée]e? de)?\s*(?P<num>\d{{1,3}})[- ]?{_AGE_UNIT}\b",
        re.I,
    ),
}
# "Female, 34 years", "F 34 ans": only an adult age, and only when no other
# form is written; at worst it is the adult limits an unknown age gets anyway.
_BARE_YEARS = re.compile(r"\b(?P<num>\d{2,3})\s*(?P<unit>years?|yrs?|ans)\b", re.I)
# What after a number makes it a duration or a term, not an age.
_NOT_AN_AGE_AFTER = re.compile(
    r"\s*(?:ago\b|earlier\b|before\b|prior\b|previously\b|later\b|post|after\b"
    r"|since\b|of\b(?!\s+life\b)|d['’]|de\b(?!\s+vie\b)|history\b|hx\b"
    r"|duration\b|plus t[ôo]t\b|auparavant\b|avant\b|apr[èe]s\b|pregnan"
    r"|gestation|enceinte\b|SA\b|d['’]am[ée]norrh[ée]e)",
    re.I,
)
# After a child's age in days, weeks or months, what may follow it: the end of
# the phrase ("Infant 2 months, RR 55"), "old", "de vie" or a new clause.
_SHORT_AGE_ENDS = re.compile(
    r"\s*(?:$|[,.;:()\[\]/\n]|old\b|de vie\b|of life\b|and\b|et\b|with\b|avec\b"
    r"|who\b|qui\b|presenting\b|pr[ée]sent|brought\b|amen[ée]|admitted\b|admise?\b"
    r"|male\b|female\b|boy\b|girl\b|gar[çc]on\b|fille\b)",
    re.I,
)
# Before an age: a past one or another kind ("at age 13", "at 4 years of age",
# "since she was 6 years old", "à l'âge de 13 ans", "gestational age").
_NOT_THE_AGE_BEFORE = re.compile(
    r"\b(?:at|since|from|until|till|by|before|after|between|when|while"
    r"|gestational|gest\.?|bone|mean|l['’]|d['’])"
    r"(?:\s+(?:she|he|they|i|we|the patient|patient)\s+(?:was|were))?"
    r"(?:\s+(?:about|around|approximately|roughly|age|aged|an?))*\s*$",
    re.I,
)
# A relative's age, in a family history ("mother who is age 37", "brother,
# aged 52", "father 60 years"): the relative earlier in the sentence.
_RELATIVE_BEFORE = re.compile(
    r"\b(?:mother|father|brother|sister|wife|husband|son|daughter|aunt|uncle"
    r"|grand\w+|cousin|partner|sibling|parent|m[èe]re|p[èe]re|fr[èe]re|s[œo]e?ur"
    r"|[ée]pouse|mari|fils|tante|oncle|grand-\w+)\b[^.;\n]*$",
    re.I,
)
# Before a bare number of years: a duration ("for 20 years", "depuis 15 ans").
_DURATION_BEFORE = re.compile(
    r"(?:\b(?:for|x|over|past|last|about|within|during|than|depuis|pendant"
    r"|durant|y a|sur|dans|en|after|apr[èe]s|the|of|de)\s*|[-–]\s*)$",
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
    # A kind read by two patterns (with and without "%") keeps the text's order.
    all_readings = {
        kind: tuple(sorted(set(values), key=_position))
        for kind, values in found.items()
    }
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
    if name in ("bp", "bp_cmhg"):
        sbp, dbp = _number(match.group(1)), _number(match.group(2))
        if name == "bp_cmhg":
            if sbp >= 30:  # mmHg, read by the "bp" pattern
                return []
            sbp, dbp = sbp * 10, dbp * 10
        sbp, dbp = round(sbp), round(dbp)
        if not (30 <= dbp < sbp <= 320):
            return []
        return [
            ("sbp", Reading(sbp, match.start(), match.end())),
            ("dbp", Reading(dbp, match.start(), match.end())),
        ]
    if name == "gcs_parts":
        value = float(sum(int(part) for part in match.groups()))
        return [("gcs", Reading(value, match.start(), match.end()))]
    kind = _KIND.get(name, name)
    value = _number(match.group(1))
    if name == "glucose":
        value = _glucose_mmol(value, match.group(2).lower())
    low, high = _PLAUSIBLE[name]
    if not low <= value <= high:
        return []
    return [(kind, Reading(value, match.start(), match.end()))]


def _number(text: str) -> float:
    return float(text.replace(",", "."))


# The kind each extra pattern reads.
_KIND = {"fever": "temp", "spo2_bare": "spo2"}


def _position(reading: Reading) -> tuple[int, int]:
    return reading.start, reading.end


_PLAUSIBLE = {
    "hr": (15, 300),
    "rr": (2, 120),
    "temp": (25, 45),
    "fever": (35, 43),  # after the word fever, a reading that could be one
    "spo2": (30, 100),
    "spo2_bare": (30, 100),
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
    """The first age the text states as an age; a bare adult number of years
    only when there is none (see _AGE_FORMS)."""
    stated = [
        match
        for form, pattern in _AGE_FORMS.items()
        for match in pattern.finditer(text)
        if _is_age(form, match)
    ]
    if not stated:
        stated = [m for m in _BARE_YEARS.finditer(text) if _is_bare_age(m)]
    if not stated:
        return None
    match = min(stated, key=lambda m: m.start())
    parts = match.groupdict()
    if parts.get("over"):  # "6/12": months over the year's twelve
        unit = {"12": "months", "52": "weeks", "7": "days"}[parts["over"]]
    else:
        unit = (parts.get("unit") or "years").lower()
    per_year = next(f for prefix, f in _AGE_UNITS if unit.startswith(prefix))
    years = int(match.group("num")) * per_year
    return Reading(round(years, 3), match.start(), match.end())


def _is_age(form: str, match: re.Match[str]) -> bool:
    """Whether a stated age is the patient's, not a past one, a duration or a
    pregnancy's term."""
    text, end = match.string, match.end()
    before = text[max(0, match.start() - 40) : match.start()]
    if form != "person" and _NOT_THE_AGE_BEFORE.search(before):
        return False
    if form == "old":
        # "a 3-day-old laceration": a wound's age, not the patient's.
        return not _NOT_A_PERSON_AFTER.match(text, end)
    if form in ("yo", "fraction"):
        return True
    if _relatives_age(before):
        return False
    if _NOT_AN_AGE_AFTER.match(text, end):
        return False
    unit = (match.group("unit") or "years").lower()
    if form == "person" and not unit.startswith(("y", "a")):
        # Days, weeks or months after a child noun, ending the phrase: "Baby 2
        # weeks fever" may say how long the fever has lasted.
        return match.group("child") is not None and bool(
            _SHORT_AGE_ENDS.match(text, end)
        )
    return True


def _is_bare_age(match: re.Match[str]) -> bool:
    """A bare number of years that is an adult's age, not a duration."""
    before = match.string[max(0, match.start() - 40) : match.start()]
    return (
        int(match.group("num")) >= 12
        and not _DURATION_BEFORE.search(before)
        and not _NOT_THE_AGE_BEFORE.search(before)
        and not _relatives_age(before)
        and not _NOT_AN_AGE_AFTER.match(match.string, match.end())
    )


_NOT_A_PERSON_AFTER = re.compile(
    r"\s+(?:\w+\s+)?(?:wounds?|lacerations?|cuts?|burns?|injur(?:y|ies)|fractures?"
    r"|bites?|ulcers?|abscess(?:es)?|rash(?:es)?|lesions?|swellings?|bruises?"
    r"|sutures?|stitches|dressings?|casts?|plaies?|br[ûu]lures?|blessures?)\b",
    re.I,
)
_CHILD_WORD = re.compile(rf"\b(?:{_CHILD})\b", re.I)


def _relatives_age(before: str) -> bool:
    """Whether the age that follows `before` is a relative's: a relative named
    just before it, with no child between ("mother brought her baby, aged 5
    weeks" gives the baby's age)."""
    relative = _RELATIVE_BEFORE.search(before)
    if relative is None:
        return False
    named = relative.start() + len(re.match(r"[\w-]+", before[relative.start() :])[0])
    return not _CHILD_WORD.search(before, named)
