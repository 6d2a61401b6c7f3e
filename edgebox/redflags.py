"""Deterministic red-flag rules: danger signs that can only raise urgency.

The rules live in a versioned TOML file (English and French patterns). A match
that a negation governs ("no convulsions", "denies chest pain", "pas de
convulsions") does not count. Each finding names its sign and where it is.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from edgebox.errors import ConfigError

LEVEL_RANK = {"routine": 0, "urgent": 1, "emergency": 2}

# Words that negate the sign that follows them within the same clause.
_NEGATIONS = {
    "no", "not", "denies", "denied", "deny", "without", "negative", "absent",
    "nor", "never", "pas", "sans", "aucun", "aucune", "ni", "absence", "nie",
    "jamais", "non",
}  # fmt: skip
_CLAUSE_BREAK = re.compile(
    r"[.;:!?\n]|\bbut\b|\bmais\b|\bhowever\b|\bcependant\b", re.I
)
_WORD = re.compile(r"[\w']+")
_NEGATION_WINDOW = 5  # words before the sign


@dataclass(frozen=True)
class Rule:
    sign: str
    level: str
    patterns: tuple[re.Pattern[str], ...]


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

    def findings(self, text: str) -> list[Finding]:
        """Every sign found in the text, at most one finding per sign."""
        found: list[Finding] = []
        for rule in self.rules:
            match = next(
                (
                    m
                    for p in rule.patterns
                    for m in p.finditer(text)
                    if not _negated(text, m.start())
                ),
                None,
            )
            if match is not None:
                evidence = text[match.start() : match.end()][:60]
                found.append(
                    Finding(rule.sign, rule.level, evidence, match.start(), match.end())
                )
        return found

    def injection_attempt(self, text: str) -> str | None:
        """The first passage that addresses the triage system, if any."""
        for pattern in self.injection:
            match = pattern.search(text)
            if match:
                return match.group(0)[:60]
        return None


def highest_level(findings: list[Finding]) -> str | None:
    if not findings:
        return None
    return max((f.level for f in findings), key=LEVEL_RANK.__getitem__)


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 80) : start]
    clause = _CLAUSE_BREAK.split(before)[-1]
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
                patterns=tuple(re.compile(p, re.IGNORECASE) for p in entry["patterns"]),
            )
            for entry in data.get("rule", [])
        )
        injection = tuple(
            re.compile(p, re.IGNORECASE)
            for entry in data.get("injection", [])
            for p in entry["patterns"]
        )
        return RuleSet(version=str(data["version"]), rules=rules, injection=injection)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, re.error) as exc:
        raise ConfigError(f"invalid red-flag rules in {where}: {exc}") from exc


def _level(level: str, where: str) -> str:
    if level not in ("urgent", "emergency"):
        raise ConfigError(
            f"a red-flag rule's level must be urgent or emergency, in {where}"
        )
    return level
