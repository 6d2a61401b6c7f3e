"""`edgebox report` in French: the printed page and the CLI's line follow
`[ui] language` (or the locale); the CSV stays the same machine-readable
columns and words in every language, for the spreadsheets that read it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.support.cli import invoke
from tests.support.processes import run_cli
from tests.support.records import handover_documents


def _invoke(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_html_hand_over_reads_french(
    edgebox_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handover_documents(edgebox_home)
    monkeypatch.setenv("EDGEBOX_UI_LANGUAGE", "fr")
    out = tmp_path / "releve.html"
    said = _invoke("report", "--output", str(out))
    assert said.endswith(
        "1 urgence(s) vitale(s), 1 urgent(s), 1 en attente d'une personne\n"
    )
    page = out.read_text(encoding="utf-8")
    assert '<html lang="fr">' in page
    assert "<h1>Relève edgebox</h1>" in page
    assert "<h2>Urgences vitales (1)</h2>" in page
    assert "<h2>En attente d&#x27;une personne (1)</h2>" in page
    assert "<th>Révisé par</th>" in page
    assert "<td>urgence vitale</td>" in page
    assert "<h2>Révisions par personne</h2>" in page
    assert "&lt;b&gt;Eclampsia&lt;/b&gt;, 34 weeks" in page  # the text as written
    assert "Emergencies" not in page and "Waiting for a person" not in page


def test_a_french_locale_gives_a_french_page_when_the_setting_is_auto(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handover_documents(edgebox_home)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    page = _invoke("report")
    assert '<html lang="fr">' in page and "Urgences vitales (1)" in page


def test_the_csv_is_the_same_in_french(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handover_documents(edgebox_home)
    english = _invoke("report", "--format", "csv")
    monkeypatch.setenv("EDGEBOX_UI_LANGUAGE", "fr")
    french = _invoke("report", "--format", "csv")
    assert french == english
    rows = list(csv.DictReader(io.StringIO(french)))
    assert {row["urgency"] for row in rows} >= {"emergency", "urgent"}


def test_escalate_from_the_cli_answers_in_french(edgebox_home: Path) -> None:
    from tests.support.records import untriaged

    doc = untriaged()
    done = run_cli(
        "escalate",
        str(doc),
        env={"EDGEBOX_USER": "amina", "EDGEBOX_UI_LANGUAGE": "fr"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"document {doc} : urgence vitale, enregistré comme révision 1\n"
    )
