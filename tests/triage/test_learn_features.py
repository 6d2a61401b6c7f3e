"""What the learned classifiers read from a document: exact, hand-checked values."""

import math
import unicodedata

import pytest

from edgebox.learn.features import header_words, note_features, openings, purpose_cues

NOTE = (
    "Triage note. 78-year-old male, brought by public ambulance. Chief complaint: "
    "discomfort, chest. Mental status: responds to voice. Pain 8/10. Vitals: "
    "BP 85/56, HR 131/min, RR 26/min, Temp 38.3 C, SpO2 91%."
)


def test_a_triage_sheet_becomes_bands() -> None:
    row = note_features([NOTE])[0]
    assert set(row) == {
        "arrival_ambulance", "age_75", "avpu_not_alert", "pain_recorded",
        "pain_severe", "sbp_very_low", "hr_very_high", "rr_very_high",
        "temp_fever", "spo2_recorded", "spo2_very_low", "shock_index",
        "cc_chest_pain", "older_chest_pain", "sirs_2", "ambulance_not_alert",
    }  # fmt: skip
    assert all(value == 1.0 for value in row.values())


def test_a_calm_note_has_no_danger_band() -> None:
    calm = (
        "Triage note. 32-year-old female, came by private car. Chief complaint: "
        "rash. Mental status: alert. Vitals: BP 120/80, HR 80/min, RR 18/min."
    )
    assert note_features([calm])[0] == {"cc_minor": 1.0}


def test_complaints_are_found_however_tersely_written() -> None:
    rows = note_features(["pain, chest", "Abd. pain", "hematemesis", "DZ - Dizziness"])
    groups = [{k for k in row if k.startswith("cc_")} for row in rows]
    assert groups == [
        {"cc_chest_pain"},
        {"cc_abdominal"},
        {"cc_gi_bleed"},
        {"cc_dizziness"},
    ]


def test_header_words_and_openings() -> None:
    text = "HISTORY: Fell. ER COURSE: Stable. " + "x" * 400
    assert header_words([text]) == ["HW_HISTORY HW_ER HW_COURSE"]
    assert openings([text])[0] == text[:300]


def test_purpose_cues_in_english_and_french() -> None:
    english, french = purpose_cues(
        [
            "Brought to the ER, then the emergency department. ED COURSE: stable. "
            "Dear Dr. X, thank you for the note; I was asked to see her. Follow-up.",
            "Adressé par le SAMU aux urgences. Cher confrère, je vous remercie. "
            "Patiente déjà connue du service, suivie en consultation.",
        ]
    )
    assert english == {
        # "to the ER", "emergency department", "ED COURSE"
        "cue_emergency_setting": math.log1p(3),
        "cue_emergency_course": math.log1p(1),
        "cue_consult_request": math.log1p(1),  # "asked to see"
        "cue_thanks": math.log1p(1),
        "cue_follow_up": math.log1p(1),
        "cue_correspondence": math.log1p(1),
    }
    assert french == {
        "cue_emergency_setting": math.log1p(2),  # SAMU, urgences
        "cue_consult_request": math.log1p(1),  # "adressé par"
        "cue_thanks": math.log1p(1),
        "cue_follow_up": math.log1p(1),  # "suivie"
        "cue_continuing_care": math.log1p(1),
        "cue_correspondence": math.log1p(1),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The patient is doing well.", {}),
        ("seen in the er, ed. note", {}),  # lower case: not the emergency room
        ("Tumour ER+, PR+; ER/PR positive.", {}),  # a receptor
        ("History of ED, on sildenafil.", {}),  # a diagnosis
        ("Lives in Dearborn.", {}),
        # A visit, not a request for an opinion.
        ("Revu en consultation.", {"cue_follow_up": math.log1p(1)}),
    ],
)
def test_look_alikes_are_not_purpose_cues(text: str, expected: dict) -> None:
    assert purpose_cues([text])[0] == expected


def test_purpose_cues_read_decomposed_accents_and_any_case() -> None:
    decomposed = unicodedata.normalize("NFD", "Adressée par le médecin.")
    shouting = "DEAR DR. X, RE: YOUR PATIENT. EMERGENCY DEPARTMENT COURSE: calm."
    assert purpose_cues([decomposed])[0] == {"cue_consult_request": math.log1p(1)}
    assert purpose_cues([shouting])[0] == {
        "cue_correspondence": math.log1p(2),
        "cue_emergency_setting": math.log1p(1),
        "cue_emergency_course": math.log1p(1),
    }
