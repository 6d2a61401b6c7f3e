"""What the learned classifiers read from a document: exact, hand-checked values."""

import math

from edgebox.features import header_words, note_features, openings, purpose_cues

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
    english, french, plain, lower_case_er = purpose_cues(
        [
            "Seen in the ER, then the emergency department. ED COURSE: stable. "
            "Dear Dr. X, thank you for asking me to consult. Follow-up in 2 weeks.",
            "Adressé par le SAMU aux urgences. Cher confrère, je vous remercie. "
            "Patient déjà connu du service, revu en consultation.",
            "The patient is doing well.",
            "her hair was dry",  # "er" and "ed" are not the emergency room
        ]
    )
    assert english == {
        "cue_emergency_setting": math.log1p(3),  # ER, ED, emergency department
        "cue_emergency_course": math.log1p(1),
        "cue_consult_request": math.log1p(1),
        "cue_thanks": math.log1p(1),
        "cue_follow_up": math.log1p(1),
        "cue_correspondence": math.log1p(1),
    }
    assert french == {
        "cue_emergency_setting": math.log1p(2),  # SAMU, urgences
        "cue_consult_request": math.log1p(2),  # "adressé par", "consultation"
        "cue_thanks": math.log1p(1),
        "cue_follow_up": math.log1p(1),
        "cue_continuing_care": math.log1p(1),
        "cue_correspondence": math.log1p(1),
    }
    assert plain == {} and lower_case_er == {}
