"""Deterministic red-flag rules: danger signs that can only raise urgency.

The rules live in a versioned TOML file (English and French patterns) with
thresholds on the vital signs that `edgebox.clinical.vitals` reads (SpO2, blood
pressure, heart and breathing rates, temperature, AVPU, GCS, pain, glucose).
A match that a negation governs ("no convulsions", "denies chest pain", "pas de
convulsions", "convulsions: none") does not count. Each finding names its sign
and where it is.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from edgebox.clinical.vitals import Reading, Vitals, parse_vitals
from edgebox.errors import ConfigError
from edgebox.vocabulary import Urgency

# Words that negate the sign that follows them within the same clause.
_NEGATIONS = {
    "no", "not", "denies", "denied", "deny", "without", "negative", "absent",
    "nor", "never", "pas", "sans", "aucun", "aucune", "ni", "absence", "nie",
    "jamais", "non",
}  # fmt: skip
# A comma or an "and" ends the clause too: "no fever, convulsing since dawn"
# and "not eating and convulsing" must keep their emergency; a French list
# goes on ("absence de fièvre et de convulsions"). The cost is
# "denies fever, convulsions" or "denies fever and convulsions" counting
# convulsions, an error on the side that sends the document to a person.
_CLAUSE_BREAK = re.compile(
    r"[.,;:!?\n]|\bbut\b|\bmais\b|\bhowever\b|\bcependant\b|\bthen\b|\bpuis\b"
    r"|\band\b|\bet\b(?!\s+(?:de\b|d['’]|des\b|du\b))",
    re.I,
)
# A negation written after the sign: "convulsions: none", "cyanose absente",
# "convulsions: non",
# "seizure activity was not seen", "cardiac arrest at home: absent". Other
# words than linking ones may stand between only before a field's colon: in
# "convulsions with negative malaria test" or "convulsing child RDT negative"
# the negative is a test's result, not the sign's.
_LINKING = r"(?:is|are|was|were|been|has|have|had|currently|now|today|activity"
_LINKING += r"|episodes?|history|hx|est|sont|[ée]tait|[ée]taient|a|ont|[ée]t[ée]"
_LINKING += r"|actuellement|ant[ée]c[ée]dents?)"
_AFTER_NEGATION = re.compile(
    rf"(?:(?:[ \t]+{_LINKING}){{0,3}}\s*[:=\-–]?|(?:[ \t]+[\w'-]+){{0,3}}\s*[:=\-–])"
    r"\s*(?:none|nil|absent[es]*|negative|n[ée]gati(?:f|ve)s?|denied"
    r"|not (?:present|seen|found)|aucune?"
    # A checklist's answer: "Unable to drink or breastfeed: No."
    r"|(?:no|non)(?=\s*(?:[.,;\n]|$)))\b",
    re.I,
)
# Phrases that hold a negation word but do not negate the sign (NegEx's
# pseudo-negations): "mother not sure why child convulsing", "no relief of
# chest pain", "n'a pas cessé de convulser". Each stays one placeholder word, so
# a real negation before it still counts within the window. Not "no change in"
# nor "did not know about": "no change in seizure medication" and "did not know
# about convulsions in the family" are a routine letter's words.
_PSEUDO_NEGATION = re.compile(
    r"\bnot (?:sure|certain|clear|only)\b"
    r"|\b(?:do|does|did) not know (?:if|whether)\b"
    r"|\b(?:has|have|had) not (?:stopped|ceased|settled|resolved|improved)\b"
    r"|\bno (?:improvement|relief|response)\b"
    r"|\bpas (?:s[ûu]re?|certaine?|seulement|cess[ée]|arr[êe]t[ée])\b"
    r"|\bsai[st] pas si\b"
    r"|\b(?:pas|sans|aucune?) (?:d')?am[ée]lioration\b"
    # "Patient No 45 convulsing", "not vaccinated, unconscious on arrival"
    r"|\bno\.?\s*\d+\b"
    r"|\b(?:not|non|pas) (?:vaccinated|immuni[sz]ed|vaccin[ée]e?s?)\b",
    re.I,
)
_WORD = re.compile(r"[\w']+")
_NEGATION_WINDOW = 5  # words before the sign


@dataclass(frozen=True)
class Rule:
    sign: str
    level: str
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Threshold:
    """A vital sign past a limit, within an age range (years) when one is set.

    An unknown age counts as inside the range: a missing age must not switch a
    danger sign off.
    """

    sign: str
    level: str
    vital: str
    at_least: float | None
    at_most: float | None
    min_age: float | None
    max_age: float | None
    requires: tuple[tuple[re.Pattern[str], ...], ...] = ()
    """Contexts the text must state, un-negated, in any order (each a list of
    patterns): a pressure of 150/100 is pre-eclampsia in a pregnant woman
    with a severe headache, not in a man."""

    def applies(self, text: str) -> bool:
        return all(_stated(text, patterns) for patterns in self.requires)

    def crossing(self, vitals: Vitals) -> Reading | None:
        """The first reading past the limit. Every reading is judged, not the
        first: reference values or a reading on arrival written before the
        dangerous one must not hide it."""
        if not self._age_applies(vitals.get("age")):
            return None
        return next((r for r in vitals.every(self.vital) if self._past(r.value)), None)

    def _past(self, value: float) -> bool:
        return (self.at_least is not None and value >= self.at_least) or (
            self.at_most is not None and value <= self.at_most
        )

    def _age_applies(self, age: float | None) -> bool:
        if age is None:
            return self.max_age is None  # child-only limits need a known age
        return (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age < self.max_age
        )


@dataclass(frozen=True)
class Finding:
    sign: str
    level: str
    evidence: str
    start: int
    end: int

    def as_red_flag(self) -> dict[str, object]:
        return {
            "sign": self.sign,
            "level": self.level,
            "source": "rules",
            "evidence": self.evidence,
            "at": [self.start, self.end],
        }


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    injection: tuple[re.Pattern[str], ...]
    thresholds: tuple[Threshold, ...] = ()

    def findings(self, text: str, vitals: Vitals | None = None) -> list[Finding]:
        """Every sign found in the text, at most one finding per sign."""
        found = self._pattern_findings(text)
        signs = {finding.sign for finding in found}
        vitals = parse_vitals(text) if vitals is None else vitals
        for threshold in self.thresholds:
            if threshold.sign in signs or not threshold.applies(text):
                continue
            reading = threshold.crossing(vitals)
            if reading is not None:
                evidence = text[reading.start : reading.end][:60]
                found.append(
                    Finding(
                        threshold.sign,
                        threshold.level,
                        evidence,
                        reading.start,
                        reading.end,
                    )
                )
                signs.add(threshold.sign)
        return found

    def _pattern_findings(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for rule in self.rules:
            match = next(
                (
                    m
                    for p in rule.patterns
                    for m in p.finditer(text)
                    if not _negated(text, m.start(), m.end())
                ),
                None,
            )
            if match is not None:
                evidence = text[match.start() : match.end()][:60]
                found.append(
                    Finding(rule.sign, rule.level, evidence, match.start(), match.end())
                )
        return found

    @property
    def signs(self) -> frozenset[str]:
        """Every sign these rules can raise, by words or by a vital sign."""
        return frozenset(r.sign for r in self.rules) | {t.sign for t in self.thresholds}

    def injection_attempt(self, text: str) -> str | None:
        """The first passage that addresses the triage system, if any, read
        without format characters: a zero-width space or a soft hyphen inside
        "rou\u200btine" hides nothing from a model and must not from this."""
        plain = without_format_characters(text)
        for pattern in self.injection:
            match = pattern.search(plain)
            if match:
                return match.group(0)[:60]
        return None


def without_format_characters(text: str) -> str:
    """The text without Unicode format characters (category Cf: zero-width
    spaces and joiners, soft hyphens, direction marks, the byte order mark,
    tag characters), which are invisible on screen."""
    if text.isascii():
        return text
    return "".join(
        ch for ch in text if ch.isascii() or unicodedata.category(ch) != "Cf"
    )


def highest_level(findings: list[Finding]) -> Urgency | None:
    return Urgency.highest(f.level for f in findings)


def _stated(text: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    return any(
        not _negated(text, m.start(), m.end())
        for p in patterns
        for m in p.finditer(text)
    )


def _negated(text: str, start: int, end: int) -> bool:
    if _AFTER_NEGATION.match(text, end):
        return True
    before = text[max(0, start - 80) : start]
    clause = _PSEUDO_NEGATION.sub(" _ ", _CLAUSE_BREAK.split(before)[-1])
    words = [w.lower() for w in _WORD.findall(clause)][-_NEGATION_WINDOW:]
    return any(word in _NEGATIONS for word in words)


def load_rules(path: Path | None = None) -> RuleSet:
    """The rule file at `path`, or the bundled default rules."""
    if path is None:
        return _bundled()
    return _parse(path.read_bytes(), str(path))


def bundled_rules_text() -> bytes:
    """The rule file shipped with edgebox, for `edgebox init` to copy."""
    return (resources.files("edgebox") / "data" / "redflags.toml").read_bytes()


@cache
def _bundled() -> RuleSet:
    return _parse(bundled_rules_text(), "the bundled redflags.toml")


def _parse(raw: bytes, where: str) -> RuleSet:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        rules = tuple(
            Rule(
                sign=entry["sign"],
                level=_level(entry["level"], where),
                patterns=_patterns(entry["patterns"]),
            )
            for entry in data.get("rule", [])
        )
        injection = tuple(
            re.compile(p, re.IGNORECASE)
            for entry in data.get("injection", [])
            for p in entry["patterns"]
        )
        contexts = {
            entry["name"]: _patterns(entry["patterns"])
            for entry in data.get("context", [])
        }
        thresholds = tuple(
            _threshold(entry, contexts, where) for entry in data.get("threshold", [])
        )
        return RuleSet(
            version=str(data["version"]),
            rules=rules,
            injection=injection,
            thresholds=thresholds,
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, re.error) as exc:
        raise ConfigError(f"invalid red-flag rules in {where}: {exc}") from exc


VITALS = ("sbp", "dbp", "hr", "rr", "temp", "spo2", "gcs", "avpu", "pain", "glucose")


def _patterns(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def _threshold(
    entry: dict, contexts: dict[str, tuple[re.Pattern[str], ...]], where: str
) -> Threshold:
    unknown = [name for name in entry.get("requires", []) if name not in contexts]
    if unknown:
        raise ConfigError(
            f"a threshold requires the unknown context '{unknown[0]}', in {where}"
            f" (contexts: {', '.join(contexts) or 'none'})"
        )
    if entry["vital"] not in VITALS:
        raise ConfigError(
            f"unknown vital sign '{entry['vital']}' in a threshold, in {where}"
            f" (known: {', '.join(VITALS)})"
        )
    if "at_least" not in entry and "at_most" not in entry:
        raise ConfigError(f"a threshold needs at_least or at_most, in {where}")

    def number(key: str) -> float | None:
        return float(entry[key]) if key in entry else None

    return Threshold(
        sign=entry["sign"],
        level=_level(entry["level"], where),
        vital=entry["vital"],
        at_least=number("at_least"),
        at_most=number("at_most"),
        min_age=number("min_age"),
        max_age=number("max_age"),
        requires=tuple(contexts[name] for name in entry.get("requires", [])),
    )


def _level(level: str, where: str) -> str:
    if level not in (Urgency.URGENT, Urgency.EMERGENCY):
        raise ConfigError(
            f"a red-flag rule's level must be urgent or emergency, in {where}"
        )
    return level
