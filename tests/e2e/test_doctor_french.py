"""`edgebox doctor` in French: the labels and states follow `[ui] language`,
in the same 12-column gutter; `--json` stays as scripts read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgebox.cli.commands import cli


def _doctor(*args: str) -> str:
    return CliRunner().invoke(cli, ["doctor", *args], catch_exceptions=False).output


def test_doctor_reads_french(edgebox_home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EDGEBOX_UI_LANGUAGE", "fr")
    lines = _doctor().splitlines()
    assert lines[1].startswith("plateforme  ")
    assert lines[2] == f"dossier     {edgebox_home}  config : valeurs par défaut"
    assert f"entrée      {edgebox_home / 'inbox'}  absent" in lines
    assert any(line.startswith("attention : the inbox ") for line in lines)


def test_doctor_stays_english_by_default(edgebox_home: Path):
    lines = _doctor().splitlines()
    assert lines[2] == f"home        {edgebox_home}  config: defaults"
    assert f"inbox       {edgebox_home / 'inbox'}  missing" in lines


def test_doctor_json_is_the_same_in_french(
    edgebox_home: Path, monkeypatch: pytest.MonkeyPatch
):
    english = json.loads(_doctor("--json"))
    monkeypatch.setenv("EDGEBOX_UI_LANGUAGE", "fr")
    french = json.loads(_doctor("--json"))
    assert french["warnings"] == english["warnings"]
    assert french["inbox"] == english["inbox"]
