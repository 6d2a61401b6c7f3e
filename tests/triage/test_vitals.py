import pytest

from edgebox.clinical.vitals import Reading, Vitals, parse_vitals


def values(text: str) -> dict[str, float]:
    return {name: r.value for name, r in parse_vitals(text).readings.items()}


def test_an_english_triage_note() -> None:
    text = (
        "Triage note. 56-year-old female. Mental status: responds to pain only. "
        "Pain 7/10. Vitals: BP 137/75, HR 60/min, RR 20/min, Temp 36.5 C, SpO2 91%."
    )
    assert values(text) == {
        "sbp": 137, "dbp": 75, "hr": 60, "rr": 20, "temp": 36.5, "spo2": 91,
        "pain": 7, "avpu": 3, "age": 56,
    }  # fmt: skip


def test_a_french_note_with_comma_decimals() -> None:
    text = (
        "Femme de 45 ans, T° 38,6 °C, TA 118/76, FC 120, FR 32/min, Sat 88 %, "
        "EVA 8/10, état de conscience : répond à la voix, glycémie 0,4 g/l"
    )
    assert values(text) == {
        "sbp": 118, "dbp": 76, "hr": 120, "rr": 32, "temp": 38.6, "spo2": 88,
        "pain": 8, "avpu": 2, "age": 45, "glucose": 2.2,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "years"),
    [("12 days old", 12 / 365), ("3 months old", 0.25), ("bébé de 8 mois", 8 / 12),
     ("nourrisson de 2 semaines", 14 / 365), ("70 yo", 70)],
)  # fmt: skip
def test_ages_in_any_unit_are_years(text: str, years: float) -> None:
    assert values(text)["age"] == pytest.approx(years, abs=0.001)


def test_implausible_values_are_not_trusted() -> None:
    assert values("BP 80/120, HR 900, SpO2 15%") == {}


def test_an_ecg_interval_is_not_a_pulse() -> None:
    assert "hr" not in values("ECG: PR 160 ms, QRS 90 ms")


@pytest.mark.parametrize(
    ("text", "temp"),
    [
        ("T 39.8, HR 110", 39.8),
        ("BP 120/80, T 38.6 C", 38.6),
        ("T: 37.2", 37.2),
        ("T 38.5 HR 110", 38.5),
        ("T39.8 HR110 BP140/90", 39.8),
        ("HR 110 bpm T 38.5", 38.5),
        ("TA 120/80 T 38,5 FC 110", 38.5),
        ("Fièvre T 39,5 depuis 2 jours", 39.5),
        ("Poids 38.5 kg T 38.9", 38.9),
        ("T 34.5 hypothermie", 34.5),
        # The T of a name is not a temperature, and must not hide the real one.
        ("Troponin T 28.0 ng/L. Temp 39.9 C", 39.9),
        ("Troponine T 35.2 ng/L", None),
        ("Stage T 33.5 mm", None),
        ("t 39.8", None),
    ],
)
def test_a_bare_t_is_a_temperature_only_when_it_reads_as_one(
    text: str, temp: float | None
) -> None:
    assert values(text).get("temp") == temp


def test_glucose_in_mg_per_dl_becomes_mmol() -> None:
    assert values("RBS 40 mg/dL")["glucose"] == pytest.approx(2.2)


def test_a_reading_says_where_it_is() -> None:
    text = "Seen today. SpO2 84 % on air."
    reading = parse_vitals(text).readings["spo2"]
    assert text[reading.start : reading.end] == "SpO2 84 %"


WORSENING = (
    "On arrival SpO2 97%, RR 18, HR 80, BP 120/80. "
    "At 14:00 deteriorated: SpO2 82%, RR 44, HR 150, BP 70/40."
)


def test_the_first_reading_of_each_kind_stays_the_value() -> None:
    # Features and extracted fields read the first value, as they always have.
    assert values(WORSENING) == {"spo2": 97, "rr": 18, "hr": 80, "sbp": 120, "dbp": 80}


def test_every_reading_is_kept_in_the_order_of_the_text() -> None:
    vitals = parse_vitals(WORSENING)
    every = {name: [r.value for r in vitals.every(name)] for name in vitals.readings}
    assert every == {
        "spo2": [97, 82], "rr": [18, 44], "hr": [80, 150], "sbp": [120, 70],
        "dbp": [80, 40],
    }  # fmt: skip
    later = vitals.every("spo2")[1]
    assert WORSENING[later.start : later.end] == "SpO2 82%"


def test_every_avpu_level_is_kept_whether_a_letter_or_words() -> None:
    text = "AVPU: A on arrival. Two hours later, mental status: responds to pain."
    vitals = parse_vitals(text)
    assert vitals.get("avpu") == 1
    assert [r.value for r in vitals.every("avpu")] == [1, 3]


def test_an_implausible_later_reading_is_not_kept() -> None:
    vitals = parse_vitals("SpO2 97%. Repeat SpO2 15%. HR 80, HR 900")
    assert [r.value for r in vitals.every("spo2")] == [97]
    assert [r.value for r in vitals.every("hr")] == [80]


def test_a_hand_built_vitals_knows_its_one_reading() -> None:
    reading = Reading(84, 0, 9)
    assert Vitals({"spo2": reading}).every("spo2") == (reading,)
    assert Vitals().every("spo2") == ()


def age(text: str) -> float | None:
    return parse_vitals(text).get("age")


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("45-year-old man", 45), ("45 yo", 45), ("25yo F", 25), ("aged 45", 45),
        ("Age: 45", 45), ("45 years old", 45), ("Homme de 50 ans", 50),
        ("Âgé de 50 ans", 50), ("Enfant de 3 ans", 3), ("Female, 34 years", 34),
        ("a 2-day-old baby", 2 / 365), ("Bébé de 3 jours", 3 / 365),
        ("Nourrisson de 2 mois", 2 / 12), ("2-month-old", 2 / 12),
        ("Infant 2 months, RR 55", 2 / 12), ("now nearly 8 months of age", 8 / 12),
    ],
)  # fmt: skip
def test_an_age_is_read_where_it_is_stated_as_one(text: str, years: float) -> None:
    assert age(text) == pytest.approx(years, abs=0.001)


@pytest.mark.parametrize(
    "text",
    [
        # How long the illness has lasted.
        "Fever for 3 days", "Fever x 2 days", "Cough since 2 weeks", "3 days ago",
        "Diarrhée depuis 3 jours", "Toux pendant 2 semaines", "Il y a 3 jours",
        "Fever 3 days, BP 80/50", "Child, 3 days of fever", "Baby 2 weeks fever",
        "Man, 3 days post-op", "Diabétique depuis 15 ans", "Smoker for 20 years",
        # A pregnancy's term.
        "7 months pregnant", "Enceinte de 7 mois", "Femme enceinte de 7 mois",
        "32 weeks pregnant", "Grossesse de 32 semaines", "32 SA",
        "Gestational age 32 weeks",
        # A past age, a relative's age, or no unit that says it is an age.
        "Migraines since age 13", "At 4 years of age, she", "À l'âge de 13 ans",
        "Lives with his mother who is age 37", "3 months", "2 semaines",
    ],
)  # fmt: skip
def test_a_duration_a_pregnancy_term_or_a_past_age_is_not_the_age(text: str) -> None:
    assert age(text) is None


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("Fever for 3 days. 45-year-old man. BP 80/50, HR 160.", 45),
        ("Cough for 2 weeks, 60 yo woman, BP 82/50, RR 42", 60),
        ("Diarrhée depuis 3 jours, homme de 50 ans, TA 80/50", 50),
        ("Fever x 2 days. 25 yo F. HR 155", 25),
    ],
)
def test_a_duration_written_before_the_age_does_not_replace_it(
    text: str, years: float
) -> None:
    assert age(text) == years


@pytest.mark.parametrize(
    ("text", "spo2"),
    [
        ("SpO2 85", 85), ("sat 85, HR 120", 85), ("SpO2: 85", 85),
        ("Sat O2 = 88", 88), ("SaO2 88", 88), ("Sat O2 88 %", 88),
        ("SpO2 85 HR 120", 85), ("Saturation 90 en air ambiant", 90),
        # "sat" the verb or the day, and a target range, are not readings.
        ("Sat 45 minutes in the waiting room", None), ("Sat 31 May", None),
        ("SpO2 94-98 target", None),
    ],
)  # fmt: skip
def test_oxygen_saturation_is_read_without_a_percent_sign(
    text: str, spo2: float | None
) -> None:
    assert values(text).get("spo2") == spo2


@pytest.mark.parametrize(
    ("text", "sbp", "dbp"),
    [("TA 8/5", 80, 50), ("TA 22/13", 220, 130), ("Tension 13,5/8", 135, 80),
     ("TA 12/8", 120, 80), ("TA 118/76", 118, 76)],
)  # fmt: skip
def test_a_french_blood_pressure_in_cmhg_becomes_mmhg(
    text: str, sbp: int, dbp: int
) -> None:
    assert (values(text)["sbp"], values(text)["dbp"]) == (sbp, dbp)


def test_a_small_english_blood_pressure_is_not_taken_for_cmhg() -> None:
    assert "sbp" not in values("BP 8/5")


@pytest.mark.parametrize(
    ("text", "temp"),
    [
        ("Fever 39.8", 39.8), ("Fièvre 40°C", 40), ("Fièvre à 40", 40),
        ("Febrile 38.5, RR 40", 38.5), ("Fever 39.8 HR 110", 39.8),
        # How long the fever has lasted is not its temperature.
        ("Fever 30 days", None), ("Fièvre 3 jours", None), ("Fever 40 h", None),
    ],
)  # fmt: skip
def test_a_temperature_is_read_after_the_word_fever(
    text: str, temp: float | None
) -> None:
    assert values(text).get("temp") == temp


@pytest.mark.parametrize(
    ("text", "gcs"),
    [("GCS E2V2M4", 8), ("Glasgow E1V1M3", 5), ("GCS: E4 V5 M6", 15)],
)
def test_a_glasgow_score_written_as_its_parts_is_their_sum(
    text: str, gcs: float
) -> None:
    assert values(text)["gcs"] == gcs


def test_readings_of_one_kind_from_two_patterns_keep_the_text_order() -> None:
    vitals = parse_vitals("SpO2 97%. Later SpO2 84. Then SpO2 80%.")
    assert [r.value for r in vitals.every("spo2")] == [97, 84, 80]


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("Age: 6/12. RR 55", 0.5),
        ("Infant aged 3/52, feeding poorly", round(3 / 52, 3)),
        ("Mother brought her baby, aged 5 weeks, T 38.1", round(5 / 52, 3)),
        ("Infant (4 weeks) temp 38.2", round(4 / 52, 3)),
    ],
)
def test_an_infants_age_written_as_a_fraction_or_after_the_mother_is_read(
    text: str, years: float
) -> None:
    assert parse_vitals(text).get("age") == pytest.approx(years, abs=0.002)


def test_a_target_saturation_range_is_not_a_reading() -> None:
    for text in ("target sats 88 to 92", "Target SpO2 88–92%", "sat 88-92"):
        assert parse_vitals(text).get("spo2") is None, text


@pytest.mark.parametrize(
    "text",
    [
        "3-day-old laceration on the arm, BP 80/50",
        "A 2-week-old infected wound on the foot",
        "Gest. age 34 weeks, BP 80/50",
    ],
)
def test_a_wounds_age_or_a_gestational_age_is_not_the_patients(text: str) -> None:
    """Read as the age, it switched the adult shock limits off."""
    assert parse_vitals(text).get("age") is None
