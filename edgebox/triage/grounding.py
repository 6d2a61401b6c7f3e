"""What the result may say about the document: only what the text supports.

A small model copies values and flags from its worked examples; these helpers
keep the ones the document itself states, and add the vital signs read by
`edgebox.clinical.vitals` (deterministic, never the model's guess).
"""

from __future__ import annotations

import re
from typing import Any

from edgebox.clinical.redflags import Finding
from edgebox.clinical.vitals import Vitals


def vital_fields(vitals: Vitals) -> dict[str, str]:
    """The vital signs and the age read from the text, as fields (not the
    model's guess: it took "32" from "34-year-old woman, 32 weeks pregnant", a
    number the document does hold)."""
    fields: dict[str, str] = {}
    age = vitals.get("age")
    if age is not None:
        fields["age"] = age_words(age)
    if "sbp" in vitals:
        fields["bp"] = f"{vitals.get('sbp'):g}/{vitals.get('dbp'):g}"
    for name in ("hr", "rr", "temp", "spo2", "gcs", "pain", "glucose"):
        value = vitals.get(name)
        if value is not None:
            fields[name] = f"{value:g}"
    if "avpu" in vitals:
        fields["avpu"] = "AVPU"[int(vitals.get("avpu") or 1) - 1]
    return fields


def age_words(years: float) -> str:
    """An age in years as a person writes it: years from 2, else months, else
    days ("34 years", "18 months", "14 days")."""
    if years >= 2:
        return f"{int(years)} years"
    if years * 12 >= 1:
        count, unit = round(years * 12), "month"
    else:
        count, unit = max(1, round(years * 365)), "day"
    return f"{count} {unit}" + ("" if count == 1 else "s")


def red_flags(
    findings: list[Finding], injection: str | None, llm_flags: list[str], text: str
) -> list[dict[str, Any]]:
    """Rule findings first, then the model's flags that the document really says
    (a small model repeats the flags of its worked examples)."""
    flags = [finding.as_red_flag() for finding in findings]
    if injection:
        flags.append(
            {
                "sign": "instructions inside the document (ignored)",
                "level": None,
                "source": "rules",
                "evidence": injection,
            }
        )
    seen = {str(flag["evidence"]).lower() for flag in flags}
    lowered = text.lower()
    for flag in llm_flags:
        if flag.lower() in lowered and flag.lower() not in seen:
            seen.add(flag.lower())
            flags.append({"sign": flag, "level": None, "source": "llm"})
    return flags


_FEMALE = re.compile(
    r"\b(woman|female|girl|she|her|pregnant|mrs|femme|fille|enceinte|mme|f)\b", re.I
)
_MALE = re.compile(r"\b(man|male|boy|he|his|mr|homme|gar[çc]on|m)\b", re.I)


def ground_fields(fields: dict[str, str], text: str) -> dict[str, str]:
    """Keep only the fields the document itself supports.

    A small model copies values from its worked examples; a value that does not
    appear in the document is dropped rather than reported.
    """
    lowered = text.lower()
    grounded: dict[str, str] = {}
    for name in ("patient_ref", "date", "facility"):
        value = fields.get(name, "")
        if value and value.lower() in lowered:
            grounded[name] = value
    age = fields.get("age", "")
    numbers = re.findall(r"\d+", age)
    if numbers and all(re.search(rf"\b{n}\b", text) for n in numbers):
        grounded["age"] = age
    grounded["sex"] = _sex(fields.get("sex", "unknown"), text)
    return grounded


def _sex(model_value: str, text: str) -> str:
    female, male = bool(_FEMALE.search(text)), bool(_MALE.search(text))
    if female != male:
        return "female" if female else "male"
    return model_value if female and male else "unknown"


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# Labels a terse note writes its readings against ("T39.8 HR110 BP140/90").
_READING_LABELS = frozenset(
    "t hr bp rr fc fr ta pa p sat spo gcs eva temp pouls age".split()
)


def _numbers(text: str, *, note: bool) -> list[str]:
    """The numbers of a text. The lone digit that ends a name ("SpO2", "CO2")
    is never one: that "2" would vouch for an invented "2 days". In the note,
    a number written against a word counts only after a reading's label
    ("HR110"), never inside a code ("A09", "amox500", "G11P10")."""
    found = []
    for match in _NUMBER.finditer(text):
        start = match.start()
        if start and text[start - 1].isalpha():
            if len(match.group()) == 1:
                continue
            label = re.search(r"[^\W\d_]+$", text[:start])
            if note and (label is None or label.group().lower() not in _READING_LABELS):
                continue
        found.append(match.group())
    return found


def unsupported_numbers(summary: str, text: str) -> list[str]:
    """Numbers in the summary (ages, doses, vital signs) that the document does
    not contain. A small model copies its worked examples' figures; a summary
    that invents "5-year-old" or "BP 80/50" must not pass unchecked. Works
    across languages: a French letter and an English summary share digits."""
    present = {_plain(n) for n in _numbers(text, note=True)}
    missing: list[str] = []
    for number in _numbers(summary, note=False):
        if _plain(number) not in present and number not in missing:
            missing.append(number)
    return missing


def _plain(number: str) -> str:
    """ "37,5" and "37.5" are one number; "040" and "40" too."""
    whole, _, fraction = number.replace(",", ".").partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def opening_sentences(text: str, *, limit: int = 240) -> str:
    """The document's first sentences, up to about `limit` characters: a
    summary that cannot be wrong, for when the model's can."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    ends = [m.start() for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] >= limit // 3:
        return cut[: ends[-1]]
    return cut.rsplit(" ", 1)[0] + " …"


MIN_SUPPORTED = 0.5
"""Below this share of its words found in the document, a summary is taken to
describe something else (typically a worked example it copied)."""

_WORD = re.compile(r"[^\W\d_]{4,}")
_FILLER = frozenset(
    "with that this from have were been their there which into after about over"
    " under than then them they what when where while also only very some such"
    " more most other being does done without within because before between"
    " both each same just like avec pour dans sans plus sont elle cette depuis"
    " leur leurs mais donc ainsi comme entre avant apres"
    .split()
)  # fmt: skip
_FRENCH = frozenset(
    "le la les de des du et est avec pour une dans pas sur au aux elle ans "
    "depuis".split()
)  # "de", "ans", "depuis": terse notes ("Femme de 34 ans, toux depuis 3 jours")
_ENGLISH = frozenset("the and with for was is of to in no on at has her his".split())


def document_language(text: str) -> str:
    """ "fr" or "en", by their commonest short words: enough to know whether a
    summary in the configured language can be compared word for word."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    french = sum(1 for w in words if w in _FRENCH)
    english = sum(1 for w in words if w in _ENGLISH)
    # Two French words at least: "de novo" alone does not make a note French.
    return "fr" if french >= 2 and french > english else "en"


def supported_share(summary: str, text: str) -> float | None:
    """The share of the summary's distinct content words that the document
    contains (a word counts when the document has it or a word with the same
    first five letters: "vomiting" and "vomited"); None for a summary too short
    to tell. Distinct: a summary that repeats the document's drug five times
    around an invented history must not pass on the repeats."""
    present = {_fold(w) for w in _WORD.findall(text)}
    stems = {w[:5] for w in present}
    content = _content_words(summary)
    if len(content) < 4:
        return None
    found = sum(1 for w in content if w in present or w[:5] in stems)
    return found / len(content)


def _content_words(text: str) -> set[str]:
    return {w for w in map(_fold, _WORD.findall(text)) if w not in _FILLER}


MIN_COPIED = 0.8
"""From this share of its four-word runs in a worked example's summary, a
summary for a document unlike that example is taken to be the example's."""


def copied_example(
    summary: str, text: str, examples: list[tuple[str, list[str]]]
) -> bool:
    """Whether the summary is a worked example's (in any language) while the
    document is unlike that example's document. It works across languages,
    where the document cannot vouch for the summary's words: the bundled model
    gave a French note on bleeding in pregnancy the English summary of the
    French example on abdominal pain."""
    runs = _word_runs(summary)
    if len(runs) < 4:
        return False
    for example_text, example_summaries in examples:
        alike = supported_share(example_text, text)
        if alike is not None and alike >= MIN_SUPPORTED:
            continue  # the document is much like the example: its words may fit
        for example_summary in example_summaries:
            shared = runs & _word_runs(example_summary)
            if len(shared) >= MIN_COPIED * len(runs):
                return True
    return False


def _word_runs(text: str, size: int = 4) -> set[tuple[str, ...]]:
    """The text's runs of four words, numbers made alike: a copied summary
    keeps the example's runs with only its figures changed, where a summary of
    another document shares a few ("a 30-year-old woman with") at most."""
    words = [
        "#" if word.isdigit() else _fold(word) for word in re.findall(r"\w+", text)
    ]
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


_PHRASE = 8


def repeats_itself(summary: str) -> bool:
    """Whether a run of eight words comes twice: a small model that loops
    ("The patient is now on a 500 mg … The patient is now on a 500 mg …") has
    lost its thread; a summary saying "pain in the left arm … pain in the left
    leg" has not."""
    words = [w.lower() for w in re.findall(r"\w+", summary)]
    runs = [tuple(words[i : i + _PHRASE]) for i in range(len(words) - _PHRASE + 1)]
    return len(set(runs)) < len(runs)


def _fold(word: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return plain.lower()
