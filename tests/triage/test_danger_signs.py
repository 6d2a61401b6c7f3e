"""WHO ETAT / IMCI general danger signs and obstetric danger signs, in English
and French, in more than one word order, and their negated forms: the bundled
rules raise each at its level, and a negated one raises nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from edgebox.clinical.redflags import load_rules
from edgebox.vocabulary import LEVELS


@dataclass(frozen=True)
class DangerSign:
    sign: str
    level: str
    english: tuple[str, ...]
    french: tuple[str, ...]
    negated: tuple[str, ...]
    """Texts in both languages that name the sign only to deny it."""


TABLE = [
    DangerSign(
        "convulsions",
        "emergency",
        ("Child convulsing since this morning.", "Since this morning, seizures."),
        ("Enfant qui convulse depuis ce matin.", "Depuis ce matin, convulsions."),
        ("No convulsions.", "Pas de convulsions.", "Convulsions: non."),
    ),
    DangerSign(
        "unable to drink or breastfeed",
        "emergency",
        (
            "Baby unable to breastfeed since yesterday.",
            "Since yesterday the child cannot drink.",
        ),
        (
            "Nourrisson incapable de téter depuis hier.",
            "Depuis hier, l'enfant ne peut plus boire.",
        ),
        ("Unable to drink or breastfeed: no.", "Pas d'incapacité à boire ou téter."),
    ),
    DangerSign(
        "vomits everything",
        "emergency",
        (
            "Vomits everything since last night.",
            "Since last night she has been vomiting everything.",
        ),
        ("Il vomit tout depuis hier.", "Depuis hier, vomissements incoercibles."),
        ("Does not vomit everything.", "Pas de vomissements incoercibles."),
    ),
    DangerSign(
        "coma or unresponsive",
        "emergency",
        ("Patient unconscious on arrival.", "On arrival the child was unresponsive."),
        ("Patient inconscient à l'arrivée.", "À l'arrivée, enfant aréactif."),
        ("Never unconscious.", "Pas de coma."),
    ),
    DangerSign(
        "altered consciousness or confusion",
        "urgent",
        ("Lethargic child, fever.", "Since yesterday very drowsy."),
        ("Enfant léthargique.", "Le patient est confus depuis hier."),
        ("Not lethargic.", "Pas de confusion."),
    ),
    DangerSign(
        "severe respiratory distress",
        "emergency",
        ("Severe respiratory distress.", "On examination chest indrawing."),
        ("Détresse respiratoire à l'arrivée.", "À l'examen, tirage sous-costal."),
        ("No chest indrawing.", "Pas de tirage."),
    ),
    DangerSign(
        "severe dehydration",
        "emergency",
        ("Severe dehydration, sunken eyes.", "Sunken eyes, severely dehydrated."),
        ("Déshydratation sévère.", "Yeux enfoncés, déshydratation sévère."),
        ("No severe dehydration.", "Pas de déshydratation sévère."),
    ),
    DangerSign(
        "pre-eclampsia",
        "emergency",
        (
            "Pregnant 34 weeks, BP 165/112, severe headache.",
            "BP 150/95 with blurred vision; she is 32 weeks pregnant.",
        ),
        (
            "Enceinte de 34 SA, TA 16/11.",
            "TA 15/9,5, céphalées intenses, femme enceinte de 8 mois.",
        ),
        (
            "Not pregnant. BP 150/95, severe headache.",
            "Pas enceinte. TA 15/9,5, céphalées intenses.",
        ),
    ),
    DangerSign(
        "severe bleeding",
        "emergency",
        ("Bleeding in pregnancy at 30 weeks.", "Heavy vaginal bleeding since dawn."),
        ("Saignement chez une femme enceinte.", "Depuis l'aube, saignement abondant."),
        ("No heavy bleeding.", "Pas de saignement abondant."),
    ),
    DangerSign(
        "very low blood sugar",
        "emergency",
        ("Blood glucose 2.1 mmol/L.", "RBS 40 mg/dL, sweating."),
        ("Glycémie capillaire : 2,1 mmol/L", "Dextro 0,45 g/L", "GC 35 mg/dl"),
        ("Blood glucose 5.4 mmol/L.", "Glycémie capillaire : 5,4 mmol/L"),
    ),
    DangerSign(
        "low blood sugar",
        "urgent",
        ("Hypoglycaemia treated at home.", "At home, hypoglycemic episode."),
        ("Hypoglycémie à domicile.", "À domicile, hypoglycémie."),
        ("No hypoglycaemia.", "Pas d'hypoglycémie."),
    ),
    DangerSign(
        "low blood pressure (shock)",
        "emergency",
        ("BP 80/50 in a 45-year-old man.", "45-year-old man, BP 80/50."),
        ("TA 8/5 chez un homme de 45 ans.", "Homme de 45 ans, TA 80/50 mmHg."),
        ("BP 120/80 in a 45-year-old man.", "TA 12/8 chez un homme de 45 ans."),
    ),
    DangerSign(
        "severe hypertension",
        "urgent",
        (
            "BP 190/120, severe headache.",
            "Blood pressure 185/100 this morning, severe headache.",
        ),
        ("TA 19/12.", "Tension artérielle à 180/110 mmHg, céphalées intenses."),
        ("BP 130/85.", "TA 13/8.", "BP 185/100, feels well.", "TA 18/11, va bien."),
    ),
]


def cases(kind: str) -> list:
    return [
        pytest.param(entry, text, id=f"{entry.sign}: {text}")
        for entry in TABLE
        for text in getattr(entry, kind)
    ]


@pytest.mark.parametrize(("entry", "text"), cases("english") + cases("french"))
def test_a_danger_sign_is_raised_at_its_level(entry: DangerSign, text: str) -> None:
    found = {f.sign: f.level for f in load_rules().findings(text)}
    assert found.get(entry.sign) == entry.level, found


@pytest.mark.parametrize(("entry", "text"), cases("negated"))
def test_a_negated_danger_sign_is_not_raised(entry: DangerSign, text: str) -> None:
    found = {f.sign for f in load_rules().findings(text)}
    assert entry.sign not in found


def test_pre_eclampsia_needs_the_pregnancy_in_this_patient() -> None:
    # A boy's birth history ("an uncomplicated pregnancy") is not a pregnancy.
    text = (
        "12-year-old boy, product of an uncomplicated pregnancy, born at 39"
        " weeks gestation. BP 150/95, blurred vision."
    )
    assert "pre-eclampsia" not in {f.sign for f in load_rules().findings(text)}


def test_every_sign_in_the_table_is_a_bundled_sign() -> None:
    rules = load_rules()
    assert {entry.sign for entry in TABLE} <= rules.signs
    assert all(entry.level in LEVELS for entry in TABLE)
