"""Summaries that cannot invent: grounding in every language pair, the danger
sign a summary must name, and the extractive stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebox.clinical.redflags import load_rules
from edgebox.clinical.vitals import parse_vitals
from edgebox.triage.engine import TriageEngine
from edgebox.triage.summaries import (
    extractive_summary,
    invented_terms,
    unnamed_danger_signs,
)
from tests.support.processes import run_cli

COMA_REFERRAL_FR = (
    "Centre de santé de Kalima. Objet : référence. Nous vous adressons le petit"
    " garçon A., 3 ans, amené ce matin par sa mère. Il a présenté des convulsions"
    " généralisées à domicile puis un coma. T° 39,5. FR 48/min. Merci de le"
    " prendre en charge en urgence."
)


def test_a_french_document_vouches_for_none_of_an_english_summarys_inventions() -> None:
    invented = "3-year-old girl with diarrhea, vomiting, abdominal pain."
    assert invented_terms(invented, COMA_REFERRAL_FR) == [
        "sign 'diarrhoea'",
        "sign 'vomiting'",
        "sign 'abdominal pain'",
        "sex 'female'",
    ]


def test_an_english_summary_of_what_a_french_document_says_passes() -> None:
    honest = "3-year-old boy with convulsions then coma at home, fever 39.5."
    assert invented_terms(honest, COMA_REFERRAL_FR) == ["sign 'fever'"]
    findings = load_rules().findings(COMA_REFERRAL_FR)
    assert invented_terms(honest, COMA_REFERRAL_FR, findings) == []  # T° 39,5


def test_invented_drugs_and_days_are_told_in_the_same_language() -> None:
    note = "Infant, lethargic, on IV fluids since admission. Mother at bedside."
    summary = "Infant treated with antibiotics, discharged on Monday, recovering."
    assert invented_terms(summary, note) == ["drug 'antibiotics'", "date 'monday'"]


def test_a_summary_that_names_no_sex_is_not_held_to_one() -> None:
    assert invented_terms("Child with convulsions and coma.", COMA_REFERRAL_FR) == []
    assert invented_terms("A woman with a cough.", "Patient, cough, 3 days.") == [
        "sex 'female'"
    ]


def test_a_summary_must_name_the_danger_sign_the_rules_found() -> None:
    findings = load_rules().findings(COMA_REFERRAL_FR)
    emergencies = sorted(f.sign for f in findings if f.level == "emergency")
    assert "convulsions" in emergencies
    assert unnamed_danger_signs("Child, 3, with fever, referred.", findings) == [
        f.sign for f in findings if f.level == "emergency"
    ]
    named = "Boy, 3, convulsions then coma at home, fast breathing; referred."
    assert unnamed_danger_signs(named, findings) == []


def test_the_stand_in_carries_the_flags_vitals_and_request_not_the_letterhead() -> None:
    findings = load_rules().findings(COMA_REFERRAL_FR)
    summary = extractive_summary(
        COMA_REFERRAL_FR, findings, parse_vitals(COMA_REFERRAL_FR), limit=100
    )
    assert summary == (
        "Il a présenté des convulsions généralisées à domicile puis un coma."
        " T° 39,5. FR 48/min."
    )
    longer = extractive_summary(
        COMA_REFERRAL_FR, findings, parse_vitals(COMA_REFERRAL_FR), limit=240
    )
    assert longer == (
        "Objet : référence. Il a présenté des convulsions généralisées à domicile"
        " puis un coma. T° 39,5. FR 48/min. Merci de le prendre en charge en"
        " urgence."
    )


def test_a_short_document_is_its_own_summary() -> None:
    note = "Intake note.  34-year-old woman,\ncough for 3 days, BP 118/76."
    assert extractive_summary(note, [], parse_vitals(note)) == (
        "Intake note. 34-year-old woman, cough for 3 days, BP 118/76."
    )


def test_a_stand_in_cuts_a_single_long_sentence_at_a_word() -> None:
    text = "Convulsions " + "and more words " * 40 + "."
    findings = load_rules().findings(text)
    summary = extractive_summary(text, findings, parse_vitals(text), limit=40)
    assert summary == "Convulsions and more words and more …"


def test_a_danger_sign_late_in_a_long_sentence_is_kept_with_its_words() -> None:
    """A case report's opening sentence can run past the whole summary's
    length with the sign at its end; the stand-in then shows the words
    around the sign, marked as cut, not the sentence's first words."""
    text = (
        "Il s'agit d'un enfant de 4 ans, sans antécédents, "
        + "suivi en consultation pour une toux chronique et des douleurs, " * 6
        + "qui présente depuis ce matin des convulsions généralisées répétées."
        " Le reste de l'examen est sans particularité."
    )
    findings = load_rules().findings(text)
    assert "convulsions" in [f.sign for f in findings if f.level == "emergency"]
    summary = extractive_summary(text, findings, parse_vitals(text), limit=120)
    assert len(summary) <= 120
    assert unnamed_danger_signs(summary, findings) == []
    assert summary.startswith("… ") and "convulsions généralisées" in summary


class InventingModel:
    """Fault injector: the real bundled model, whose summary is then replaced
    by one that invents a sign, an age and a sex (as a small model does)."""

    def __init__(self, real: object, summary: str) -> None:
        self.real, self.summary = real, summary

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def chat_json(self, messages: list, **options: object) -> object:
        import dataclasses
        import json

        output = self.real.chat_json(messages, **options)
        answer = json.loads(output.text)
        answer["summary"] = self.summary
        return dataclasses.replace(output, text=json.dumps(answer))


@pytest.mark.model
def test_an_english_summary_inventing_of_a_french_letter_is_replaced(
    engine: TriageEngine,
) -> None:
    assert engine.config.triage.language == "en"
    invented = "A 5-year-old girl with diarrhea, referred today."
    inventing = TriageEngine(
        engine.config, model=InventingModel(engine.model, invented)
    )
    inventing.summary_mode = "abstractive"
    result = inventing.triage(COMA_REFERRAL_FR)
    assert result.provenance["rejected_summary"] == invented
    assert result.sources["summary"] == "document" and result.needs_review
    assert "convulsions" in result.summary and result.language == "fr"
    sign_and_sex = "A 3-year-old girl with diarrhea, referred today."
    inventing.model.summary = sign_and_sex
    again = inventing.triage(COMA_REFERRAL_FR)
    assert any(
        "sign 'diarrhoea', sex 'female'" in reason for reason in again.review_reasons
    )


@pytest.mark.model
def test_a_summary_leaving_out_the_danger_sign_is_replaced(
    engine: TriageEngine,
) -> None:
    quiet = "A 3-year-old boy with fever, referred today."
    inventing = TriageEngine(engine.config, model=InventingModel(engine.model, quiet))
    inventing.summary_mode = "abstractive"
    result = inventing.triage(COMA_REFERRAL_FR)
    assert any("leaves out danger signs" in r for r in result.review_reasons)
    assert "convulsions" in result.summary


def test_each_model_says_in_the_manifest_whether_to_try_abstractive_summaries(
    tmp_path: Path,
) -> None:
    from edgebox.errors import ModelError
    from edgebox.triage.manifest import summary_mode

    manifest = tmp_path / "manifest.toml"
    entry = '[[model]]\nname = "m"\nfile = "m.gguf"\nsha256 = "0"\nlicence = "x"\n'
    entry += 'context_length = 2048\nchat_format = "chatml"\n'
    manifest.write_text(entry + 'summaries = "extractive"\n')
    assert summary_mode(tmp_path, "m.gguf") == "extractive"
    assert summary_mode(tmp_path, "other.gguf") == "abstractive"
    manifest.write_text(entry + 'summaries = "invent"\n')
    with pytest.raises(ModelError, match="summaries = 'invent' for m.gguf"):
        summary_mode(tmp_path, "m.gguf")


def test_eval_without_files_to_measure_says_what_it_needs(tmp_path: Path) -> None:
    result = run_cli("--home", str(tmp_path), "eval", "--json")
    assert result.returncode == 2
    needs = "give --train and --test, --test with --votes or --new-box, or --summaries"
    assert needs in result.stderr


@pytest.mark.model
def test_eval_measures_the_models_summaries_per_language(tmp_path: Path) -> None:
    documents = tmp_path / "letters.jsonl"
    rows = [{"text": COMA_REFERRAL_FR}, {"text": "Intake note. Man, 40, cough."}]
    documents.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    home = ["--home", str(tmp_path)]
    result = run_cli(*home, "eval", "--summaries", str(documents), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["documents"] == 2
    assert sorted(report["languages"]) == ["en", "fr"]
    french = report["languages"]["fr"]
    assert french["documents"] == 1 and 0 <= french["rejected"] <= 1
    named = french["danger_sign_named"]["convulsions"]
    assert named["extractive"] == "1/1"
