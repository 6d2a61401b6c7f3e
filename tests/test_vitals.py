import pytest

from edgebox.vitals import Reading, Vitals, parse_vitals


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
    [("12 days old", 12 / 365), ("3 months", 0.25), ("bébé de 8 mois", 8 / 12),
     ("2 semaines", 14 / 365), ("70 yo", 70)],
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
