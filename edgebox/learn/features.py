"""What the learned classifiers see in a document's text.

Chosen by cross-validation on the development data (see scripts/crossval.py).
For document type: word n-grams, section headers as tokens (a discharge
summary has HOSPITAL COURSE, an operative report ESTIMATED BLOOD LOSS: document
type is mostly structure), the headers' words, and the opening lines (title and
purpose). For urgency: the vital signs as numbers with the bundled red-flag
signs, and the triage sheet as KTAS-style bands (age, arrival by ambulance,
mental status, pain score, each vital's abnormality, injury, presenting
complaints that triage scales rank high): a triage note's acuity is mostly its
vitals and its complaint, and a linear model weighs a band more easily than a
raw number.

The functions here are module-level so that a fitted pipeline pickles.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from edgebox.clinical.redflags import load_rules
from edgebox.clinical.vitals import parse_vitals

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


def header_words(texts: list[str]) -> list[str]:
    """The words of each document's headers (HW_COURSE, HW_ED): "ER COURSE" and
    "EMERGENCY DEPARTMENT COURSE" share what whole-header tokens cannot."""
    return [
        " ".join(
            f"HW_{word}"
            for token in tokens.split()
            for word in token[2:].split("_")
            if word
        )
        for tokens in header_tokens(texts)
    ]


OPENING_CHARS = 300


def openings(texts: list[str]) -> list[str]:
    """The first lines of each document, where its title and purpose are."""
    return [text[:OPENING_CHARS] for text in texts]


# Where and why a document was written, in English and French: the words that
# separate document types sharing the same sections. An emergency report is a
# consultation written in the emergency department; a progress note follows a
# patient up or continues their care; a consultation answers a request; a
# letter is addressed. Counted on their own, these few cues are not drowned
# among thousands of n-grams. Words match in any case; the abbreviations ER,
# ED and SAU only in upper case, and ER and ED only where they name a place
# ("to the ER", "ED course"), not a receptor ("ER+") or a diagnosis ("ED").
_ER_ED = r"(?:ER|ED|A&E)"
_PURPOSE_CUES = {
    "cue_emergency_setting": rf"\b(?i:the|in|to|from|at|our|via|into)\s+{_ER_ED}\b"
    rf"|\b{_ER_ED}\s+(?i:visit|physician|doctor|staff|triage|evaluation|course)\b"
    r"|\bSAU\b|(?i:\bemergency (?:room|department|dept|services?)\b|\bcasualty\b"
    r"|\burgences\b|\bSAMU\b)",
    "cue_emergency_course": r"\b(?:ER|ED)\s+(?i:course)\b|(?i:\bemergency (?:department"
    r"|room) course\b|\bmedical decision making\b|\bpassage aux urgences\b)",
    "cue_consult_request": r"(?i:\breason for (?:the )?consult(?:ation)?\b"
    r"|\bconsult(?:ation)? (?:was )?(?:requested|for|by|regarding)\b"
    r"|\bconsulted (?:for|by|regarding|to)\b|\basked to (?:see|evaluate)\b"
    r"|\breferred (?:by|to me)\b|\bdemande d['’]avis\b"
    r"|\bavis (?:sp[ée]cialis[ée]|demand[ée])|\badress[ée]e? par\b)",
    "cue_thanks": r"(?i:\bthank you for\b|\bje vous remercie\b|\bmerci de\b)",
    "cue_soap": r"\b(?:SUBJECTIVE|OBJECTIVE)\s*:",
    "cue_follow_up": r"(?i:\bfollow[- ]?up\b"
    r"|\breturns? (?:today|for|to (?:the )?clinic)\b"
    r"|\bcomes? (?:back|in) (?:today )?for\b|\brevue? en consultation\b"
    r"|\bsuivie?s?\b)",
    "cue_continuing_care": r"(?i:\brecheck\b|\b(?:who|whom) (?:I|we) (?:am |are )?"
    r"follow(?:ing)?\b|\blast seen\b|\bpost-?operative day\b|\bprogress notes?\b"
    r"|\binterval (?:history|since)\b|\bknown to (?:our|my|the) (?:practice|clinic"
    r"|service)\b|\bpost-?op[ée]ratoires?\b|\bd[ée]j[àa] connue? du service\b)",
    "cue_correspondence": r"(?i:\bdear\b|\bsincerely\b|\bre:|\bcher confr[èe]re\b"
    r"|\bch[èe]re cons(?:œ|oe)ur\b|\bveuillez agr[ée]er\b|\bconfraternellement\b)",
}
_PURPOSE_PATTERNS = {name: re.compile(p) for name, p in _PURPOSE_CUES.items()}


def purpose_cues(texts: list[str]) -> list[dict[str, float]]:
    """How often each setting or purpose cue occurs (log-scaled) per document."""
    return [
        {
            name: math.log1p(count)
            for name, pattern in _PURPOSE_PATTERNS.items()
            if (count := len(pattern.findall(text)))
        }
        # Composed accents: a decomposed "é" would miss every [ée].
        for text in (unicodedata.normalize("NFC", t) for t in texts)
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


# How the patient arrived, and whether the visit is for an injury: both are on
# every ED triage sheet and both move acuity (KTAS, ESI).
_AMBULANCE = re.compile(
    r"\b(ambulance|EMS|paramedics?|SAMU|SMUR|pompiers|helicopter|air ?lift)\b", re.I
)
_WALKED = re.compile(r"\b(walked in|walk-?in|ambulatory|on foot|[àa] pied)\b", re.I)
_TRANSFER = re.compile(
    r"\b(transferr?ed|transfer from|referred from|transf[ée]r[ée])", re.I
)
_INJURY = re.compile(
    r"\b(injury|injured|trauma|fall|fell|fracture|laceration|wound|burn|bite|"
    r"accident|collision|assault|traumatisme|chute|bless[ée]e?|plaie|br[uû]lure)\b",
    re.I,
)


# Presenting complaints that triage scales (KTAS, ESI, CTAS) place high
# whatever the vitals, written the terse ways triage sheets write them: word
# n-grams alone cannot tell that "discomfort, chest" is "chest pain".
_COMPLAINTS = {
    "cc_chest_pain": r"\bchest\b.{0,25}\b(pain|discomfort|tightness|pressure|heaviness)"
    r"|\b(pain|discomfort|tightness|pressure|heaviness),? (on |in |of )?(the )?"
    r"(ant\.? |left |right )?chest\b|\bangina\b|\bdouleur thoracique",
    "cc_dyspnea": r"\b(dyspn[oe]?ea|dyspn[ée]e|SOB|short(ness)? of breath|breathless"
    r"|difficulty (in )?breathing|respiratory distress|wheez)",
    "cc_gi_bleed": r"\b(ha?ematemesis|mela?ena|ha?ematochezia|bloody (stool|vomit)"
    r"|vomit\w* blood|GI bleed|rectal bleed|h[ée]mat[ée]m[èe]se)",
    "cc_bleeding": r"\b(bleed\w*|ha?emorrhage|h[ée]morragie|saignement)",
    "cc_neuro_deficit": r"\b(weakness|hemipar|hemipleg|dysarthri|aphasi|facial palsy"
    r"|facial droop|slurred|numbness|paresis|paralysis|stroke|cva)",
    "cc_mental_change": r"\b(mental (status )?change|altered mental|confus|drows"
    r"|letharg|stupor|obtund|disorient)",
    "cc_syncope": r"\b(syncope|LOC|loss of consciousness|faint\w*|collapse\w*"
    r"|passed out|blackout)",
    "cc_seizure": r"\b(seizure|convuls\w*|epilep\w*|fit)\b",
    "cc_intoxication": r"\b(intoxicat\w*|overdose|poison\w*|ingest\w*|drug\b|DI\b"
    r"|suicid\w*)",
    "cc_hypoglycemia": r"\b(hypoglyc\w*|low (blood )?sugar)",
    "cc_palpitation": r"\b(palpitation\w*|tachycardi\w*|arrhythmi\w*|atrial fib)",
    "cc_headache": r"\b(headache|HA|c[ée]phal[ée]e)\b",
    "cc_fever": r"\b(fever|febrile|chills?|pyrexi\w*|fi[èe]vre)\b",
    "cc_dizziness": r"\b(dizz\w*|vertigo|DZ|lightheaded)\b",
    "cc_abdominal": r"\b(abd\w*|epigastr\w*|belly|stomach)\b",
    "cc_minor": r"\b(rash|itch\w*|sore throat|cough|cold|URI|sprain|bruise|wound check"
    r"|dressing|suture removal|refill|follow[- ]up|constipation|toothache)",
}
_COMPLAINT_PATTERNS = {
    name: re.compile(pattern, re.I) for name, pattern in _COMPLAINTS.items()
}


def note_features(texts: list[str]) -> list[dict[str, float]]:
    """A triage sheet's fields as KTAS-style bands: each a 0/1 a linear model can
    weigh on its own (a fast pulse and a slow one are both a danger)."""
    return [_note_row(text) for text in texts]


def _note_row(text: str) -> dict[str, float]:
    vitals = parse_vitals(text)
    row = {
        "arrival_ambulance": bool(_AMBULANCE.search(text)),
        "arrival_walked": bool(_WALKED.search(text)),
        "arrival_transfer": bool(_TRANSFER.search(text)),
        "injury": bool(_INJURY.search(text)),
    }
    row |= _bands(vitals)
    row |= {name: bool(p.search(text)) for name, p in _COMPLAINT_PATTERNS.items()}
    row |= _combinations(row)
    return {name: float(on) for name, on in row.items() if on}


def _bands(vitals: Any) -> dict[str, bool]:
    """Abnormality bands of each vital, in the spirit of KTAS and NEWS2."""
    age, pain, avpu = vitals.get("age"), vitals.get("pain"), vitals.get("avpu")
    sbp, hr, rr = vitals.get("sbp"), vitals.get("hr"), vitals.get("rr")
    temp, spo2 = vitals.get("temp"), vitals.get("spo2")

    def between(value: float | None, low: float, high: float) -> bool:
        return value is not None and low <= value < high

    return {
        "age_infant": between(age, 0, 2),
        "age_child": between(age, 2, 16),
        "age_65": between(age, 65, 75),
        "age_75": between(age, 75, 85),
        "age_85": between(age, 85, 200),
        "avpu_not_alert": avpu is not None and avpu >= 2,
        "pain_recorded": pain is not None,
        "pain_mild": between(pain, 1, 4),
        "pain_moderate": between(pain, 4, 8),
        "pain_severe": between(pain, 8, 11),
        "sbp_very_low": between(sbp, 0, 90),
        "sbp_low": between(sbp, 90, 100),
        "sbp_high": between(sbp, 180, 220),
        "sbp_very_high": between(sbp, 220, 400),
        "hr_low": between(hr, 0, 50),
        "hr_high": between(hr, 100, 120),
        "hr_very_high": between(hr, 120, 400),
        "rr_low": between(rr, 0, 10),
        "rr_high": between(rr, 21, 25),
        "rr_very_high": between(rr, 25, 200),
        "temp_low": between(temp, 0, 35.5),
        "temp_fever": between(temp, 38, 39),
        "temp_high_fever": between(temp, 39, 50),
        "spo2_recorded": spo2 is not None,
        "spo2_low": between(spo2, 92, 95),
        "spo2_very_low": between(spo2, 0, 92),
        "shock_index": sbp is not None and hr is not None and hr / sbp >= 1.0,
    }


def _combinations(row: dict[str, bool]) -> dict[str, bool]:
    """The few pairs triage scales treat as more than their parts."""
    older = row["age_65"] or row["age_75"] or row["age_85"]
    sirs = sum(map(bool, (row["temp_fever"] or row["temp_high_fever"],
                          row["hr_high"] or row["hr_very_high"],
                          row["rr_high"] or row["rr_very_high"])))  # fmt: skip
    return {
        "older_chest_pain": older and row["cc_chest_pain"],
        "older_dyspnea": older and row["cc_dyspnea"],
        "sirs_2": sirs >= 2,
        "severe_headache": row["cc_headache"] and row["pain_severe"],
        "ambulance_not_alert": row["arrival_ambulance"] and row["avpu_not_alert"],
    }
