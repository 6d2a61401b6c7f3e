"""What a summary may say, in any language pair, and the summary that cannot invent.

A 135M model gave a French referral about a 3-year-old boy in a coma the English
summary "3-year-old girl with diarrhea, vomiting, abdominal pain": word overlap
cannot check a summary in another language than its document. What can be
checked in every pair is what carries meaning: numbers (`grounding`), sex,
weekdays and months, drugs and clinical signs, each known here in English and
French. A summary that states one the document does not is rejected, and so is
one that leaves out a danger sign the rules found.

The stand-in is extractive: the document's own sentences that carry its red
flags, vital signs, diagnosis or reason for referral and the action asked for,
in the document's order (the opening lines are often a letterhead).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from edgebox.clinical.redflags import Finding
from edgebox.clinical.vitals import Vitals
from edgebox.vocabulary import Urgency

SUMMARY_LIMIT = 300
"""The longest extractive summary, in characters (about two sentences)."""

# Each concept: its forms in English and French, as folded (accent-free,
# lower-case) regular expressions. A summary naming a concept needs the
# document to hold one of its forms, in either language.
_SIGNS: dict[str, str] = {
    "convulsions": r"convuls|seizure|fits?\b|crises? (?:convuls|epilep)|epilep",
    "coma": r"\bcoma|unconscious|unresponsive|inconscien|aréactif|areactif",
    "diarrhoea": r"diarrh",
    "vomiting": r"vomi",
    "abdominal pain": r"abdominal|abdomen|ventre|douleurs? abdo",
    "fever": r"fever|febri|fievre|pyrexi|hyperthermi",
    "cough": r"cough|\btoux|tousse",
    "bleeding": r"bleed|haemorrh|hemorrh|saign|blood loss|metrorrag|hematemes|melena",
    "headache": r"headache|cephal",
    "chest pain": r"chest pain|douleurs? thorac|thoracic pain",
    "breathing difficulty": r"dyspn|breath|respirat|tirage|wheez|sifflement",
    "rash": r"\brash|eruption|exanth",
    "jaundice": r"jaundic|icter|ictere",
    "dehydration": r"dehydrat|deshydrat",
    "lethargy": r"letharg|somnol|drows|obnubil|letharg",
    "confusion": r"confus|disorient|desorient",
    "swelling": r"swell|oedem|edema|gonfl|tumefact",
    "anaemia": r"anaemi|anemi|pallor|paleur",
    "malaria": r"malaria|paludism",
    "pneumonia": r"pneumon|pneumopath",
    "fracture": r"fractur",
    "wound": r"wound|plaie|laceration",
    "burn": r"\bburn|brulure",
    "pregnancy": r"pregnan|enceinte|grossesse|gestation|\bsa\b|weeks? of amenorr",
}
_DRUGS: dict[str, str] = {
    "antibiotics": r"antibiot|amoxi|ampicil|ceftriax|cefixi|penicil|gentami"
    r"|cotrimox|metronid|ciproflox|azithro|doxycyc|erythromyc|cloxacil",
    "paracetamol": r"paracetam|acetaminoph|doliprane",
    "ibuprofen": r"ibuprof",
    "antimalarial": r"artesun|artemet|quinin|coartem|antipalud|antimalar",
    "insulin": r"insulin",
    "metformin": r"metformin",
    "oxytocin": r"oxytoc|syntocinon",
    "magnesium sulfate": r"magnesium|mgso4",
    "iv fluids": r"\biv fluid|ringer|perfusion|intraven|serum sale|saline",
    "oxygen": r"oxygen|\bo2\b",
    "steroids": r"cortico|steroid|prednis|dexameth|hydrocortis",
    "diazepam": r"diazep|valium|phenobarb",
    "salbutamol": r"salbutam|ventolin",
    "ors": r"\bors\b|\bsro\b|rehydration salt|sels de rehydr",
}
_DATES: dict[str, str] = {
    "monday": r"monday|lundi", "tuesday": r"tuesday|mardi",
    "wednesday": r"wednesday|mercredi", "thursday": r"thursday|jeudi",
    "friday": r"friday|vendredi", "saturday": r"saturday|samedi",
    "sunday": r"sunday|dimanche", "january": r"january|janvier",
    "february": r"february|fevrier", "march": r"\bmarch\b|\bmars\b",
    "april": r"april|avril", "june": r"\bjune\b|\bjuin\b",
    "july": r"\bjuly\b|juillet", "august": r"august|\baout\b",
    "september": r"septemb", "october": r"octob", "november": r"novemb",
    "december": r"decemb",
}  # fmt: skip
_CONCEPTS = {
    kind: {name: re.compile(pattern) for name, pattern in table.items()}
    for kind, table in (("sign", _SIGNS), ("drug", _DRUGS), ("date", _DATES))
}
_FEMALE = re.compile(
    r"\b(woman|female|girl|she|her|mother|pregnant|mrs|femme|fille|enceinte|mme"
    r"|parturiente|patiente)\b"
)
_MALE = re.compile(r"\b(man|male|boy|he|his|mr|homme|garcon|monsieur)\b")
_DOC_FEMALE = re.compile(_FEMALE.pattern[:-3] + r"|f|sexe feminin)\b")
_DOC_MALE = re.compile(_MALE.pattern[:-3] + r"|m|sexe masculin)\b")


def fold(text: str) -> str:
    """Lower case without accents: "Fièvre" and "fievre" are one word."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower()


def invented_terms(
    summary: str, text: str, findings: Sequence[Finding] = ()
) -> list[str]:
    """The signs, drugs, dates and sex the summary states and the document
    does not, in any language pair ("girl" for a "garçon", "antibiotics" for
    a letter that names none). The rules' findings vouch for their signs'
    names: "T° 39,5" says "fever"."""
    said = fold(summary)
    source = fold(" ".join([text, *(finding.sign for finding in findings)]))
    invented = [
        f"{kind} {name!r}"
        for kind, table in _CONCEPTS.items()
        for name, pattern in table.items()
        if pattern.search(said) and not pattern.search(source)
    ]
    sex = _stated_sex(said, _FEMALE, _MALE)
    if sex and sex != _stated_sex(source, _DOC_FEMALE, _DOC_MALE):
        invented.append(f"sex {sex!r}")
    return invented


def _stated_sex(text: str, female: re.Pattern[str], male: re.Pattern[str]) -> str:
    """ "female" or "male" when the text says one only, else ""."""
    is_female, is_male = bool(female.search(text)), bool(male.search(text))
    if is_female == is_male:
        return ""
    return "female" if is_female else "male"


def unnamed_danger_signs(summary: str, findings: Sequence[Finding]) -> list[str]:
    """The danger signs (emergency findings of the rules) the summary does not
    name: a summary of a convulsing child that speaks only of fever misleads
    whoever reads the summary alone."""
    said = fold(summary)
    return [
        finding.sign
        for finding in findings
        if finding.level == Urgency.EMERGENCY and not _names(said, finding)
    ]


def _names(said: str, finding: Finding) -> bool:
    """Whether the folded summary names the finding: its evidence, a word of
    its sign's name, or a concept its evidence belongs to."""
    evidence = fold(finding.evidence)
    if evidence and evidence in said:
        return True
    words = set(re.findall(r"[a-z]{5,}", fold(finding.sign) + " " + evidence))
    words -= _GENERIC
    if any(word[:5] in said for word in words):
        return True
    return any(
        pattern.search(evidence) and pattern.search(said)
        for pattern in _CONCEPTS["sign"].values()
    )


# Words of a sign's name too common to name it alone ("severe headache" does
# not name "severe dehydration").
_GENERIC = frozenset("severe blood signs danger major reduced unable sever".split())

# Sentences that say why the document was written and what is asked.
_PURPOSE = re.compile(
    r"diagnos|impression|assessment|referr|refer\b|reason for|please|kindly"
    r"|request|for review|for admission|plan\b|motif|adresse|refere|transfer"
    r"|evacu|conclusion|merci de|priere|conduite a tenir|avis|hospitalis"
)
# A full stop ends a sentence only before a space: "T 39.5" is one reading.
_SENTENCE = re.compile(r"(?:[^.!?;\n]|[.!?](?=[^\s.!?]))+[.!?;]*")


def extractive_summary(
    text: str,
    findings: Sequence[Finding],
    vitals: Vitals,
    *,
    limit: int = SUMMARY_LIMIT,
) -> str:
    """The document's sentences that carry its red flags, then its vital
    signs, then its diagnosis, reason for referral or request, in the
    document's order, within `limit` characters. A document that fits within
    the limit is its own summary."""
    if len(" ".join(text.split())) <= limit:
        return " ".join(text.split())
    sentences = [
        (m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()
    ]
    bounds = _Bounds({a for a, _ in sentences}, {b for _, b in sentences})
    chosen: list[tuple[int, int]] = []
    for wanted in _wanted_spans(text, findings, vitals):
        for sentence in sentences:
            if not _overlaps(sentence, wanted):
                continue
            # A sentence too long for the summary gives the part around the
            # sign: a danger sign late in a long opening sentence must not be
            # cut off for the sentence's first words.
            piece = _around(text, sentence, wanted, limit, bounds)
            if piece not in chosen and _length(text, chosen + [piece], bounds) <= limit:
                chosen.append(piece)
    if not chosen and sentences:
        chosen = [sentences[0]]
    return _clip(_joined(text, sorted(chosen), bounds), limit)


@dataclass(frozen=True)
class _Bounds:
    """Where the document's sentences start and end: a piece that starts or
    ends elsewhere is shown with "…" there."""

    starts: set[int]
    ends: set[int]


def _around(
    text: str,
    sentence: tuple[int, int],
    wanted: tuple[int, int],
    limit: int,
    bounds: _Bounds,
) -> tuple[int, int]:
    """The sentence, or where it is longer than `limit`, the words around
    `wanted` within it, starting a third of the limit before it."""
    if _length(text, [sentence], bounds) <= limit:
        return sentence
    start = max(sentence[0], wanted[0] - limit // 3)
    while start > sentence[0] and not text[start - 1].isspace():
        start -= 1  # back to the start of the word
    end = min(sentence[1], wanted[1])
    while end < sentence[1] and _length(text, [(start, end + 1)], bounds) <= limit:
        end += 1
    while end < sentence[1] and end > wanted[1] and not text[end].isspace():
        end -= 1  # back to the end of a word
    return start, end


def _wanted_spans(
    text: str, findings: Sequence[Finding], vitals: Vitals
) -> list[tuple[int, int]]:
    """Spans worth a sentence, most important first."""
    ranked = sorted(findings, key=lambda f: f.level != Urgency.EMERGENCY)
    spans = [(f.start, f.end) for f in ranked]
    spans += sorted(
        (r.start, r.end)
        for name, readings in vitals.all_readings.items()
        if name != "age"
        for r in readings
    )
    spans += [(m.start(), m.end()) for m in _PURPOSE.finditer(_fold_in_place(text))]
    return spans


def _fold_in_place(text: str) -> str:
    """`fold` keeping every character's position ("œ" stays, lower-cased)."""
    return "".join((fold(c) or c.lower())[:1] for c in text)


def _overlaps(sentence: tuple[int, int], span: tuple[int, int]) -> bool:
    return sentence[0] <= span[0] < sentence[1]


def _joined(
    text: str, spans: list[tuple[int, int]], bounds: _Bounds | None = None
) -> str:
    return " ".join(_piece(text, a, b, bounds) for a, b in spans)


def _piece(text: str, a: int, b: int, bounds: _Bounds | None) -> str:
    words = " ".join(text[a:b].split())
    if bounds is None:
        return words
    lead = "" if a in bounds.starts else "… "
    trail = "" if b in bounds.ends else " …"
    return f"{lead}{words}{trail}"


def _length(
    text: str, spans: list[tuple[int, int]], bounds: _Bounds | None = None
) -> int:
    return len(_joined(text, spans, bounds))


def _clip(summary: str, limit: int) -> str:
    """A single sentence longer than the limit, cut at a word."""
    if len(summary) <= limit:
        return summary
    return summary[:limit].rsplit(" ", 1)[0] + " …"
