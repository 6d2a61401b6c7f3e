"""The shift hand-over (`edgebox report`) and `edgebox export` of an original,
on a real store and a real archive, through Click's runner."""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgebox.cli.commands import cli
from edgebox.config import load
from edgebox.intake.archive import copy_into_archive
from edgebox.service.handover import period
from edgebox.store import Store
from tests.support.processes import run_cli
from tests.support.records import handover_documents


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_report_csv_lists_emergencies_urgent_reviews_and_reviewers(
    edgebox_home: Path,
) -> None:
    ids = handover_documents(edgebox_home)
    rows = list(csv.DictReader(io.StringIO(_invoke("report", "--format", "csv"))))
    listed = {(r["section"], r["document_id"]) for r in rows}
    assert ("emergency", str(ids["eclampsia.txt"])) in listed
    assert ("urgent", str(ids["fever.txt"])) in listed
    # The reviewed emergency no longer waits; the urgent one does.
    assert ("to_review", str(ids["fever.txt"])) in listed
    assert ("to_review", str(ids["eclampsia.txt"])) not in listed
    assert not any(r["document_id"] == str(ids["dental.txt"]) for r in rows)
    (emergency,) = [r for r in rows if r["section"] == "emergency"]
    assert emergency["reviewed_by"] == "amina"
    assert emergency["red_flags"] == "convulsions"
    # A summary that a spreadsheet would run as a formula is defused.
    (urgent,) = [r for r in rows if r["section"] == "urgent"]
    assert urgent["summary"] == '\'=HYPERLINK("x") fever 39.5'
    (reviewer,) = [r for r in rows if r["section"] == "reviewer"]
    assert (reviewer["reviewed_by"], reviewer["summary"]) == ("amina", "1")


def test_report_html_escapes_document_text_and_prints_on_a4(
    edgebox_home: Path, tmp_path: Path
) -> None:
    handover_documents(edgebox_home)
    out = tmp_path / "handover.html"
    said = _invoke("report", "--output", str(out))
    assert "1 emergencies, 1 urgent, 1 waiting for a person" in said
    page = out.read_text(encoding="utf-8")
    assert "@page { size: A4" in page
    assert "<b>Eclampsia</b>" not in page
    assert "&lt;b&gt;Eclampsia&lt;/b&gt;, 34 weeks" in page
    assert "<script" not in page and "http" not in page


def test_report_period_leaves_out_older_documents(edgebox_home: Path) -> None:
    handover_documents(edgebox_home)
    settings = load()
    with Store(settings.db_path) as store:
        store.db.execute("UPDATE documents SET received_at = '2020-01-01T00:00:00Z'")
    rows = list(csv.DictReader(io.StringIO(_invoke("report", "--format", "csv"))))
    assert [r for r in rows if r["section"] != "reviewer"] == []
    old = _invoke("report", "--format", "csv", "--since", "2019-12-31")
    sections = [r["section"] for r in csv.DictReader(io.StringIO(old))]
    assert sections.count("emergency") == 1 and sections.count("urgent") == 1


def test_report_refuses_a_period_it_cannot_read(edgebox_home: Path) -> None:
    handover_documents(edgebox_home)
    result = CliRunner().invoke(cli, ["report", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "'yesterday' is neither a duration (24h, 7d) nor an ISO date" in (
        result.output
    )


@pytest.mark.parametrize(
    ("since", "start"),
    [
        ("24h", "2026-12-06T12:00:00.000+00:00"),
        ("7d", "2026-11-30T12:00:00.000+00:00"),
        ("2026-12-01", "2026-12-01T00:00:00.000+00:00"),
    ],
)
def test_period_reads_durations_and_dates(since: str, start: str) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert period(since, now=now) == (start, "2026-12-07T12:00:00.000+00:00")


def test_export_copies_the_original_and_never_overwrites(
    edgebox_home: Path, tmp_path: Path
) -> None:
    settings = load()
    original = tmp_path / "lettre de référence.pdf"
    original.write_bytes(b"%PDF-1.4 the original bytes")
    with original.open("rb") as reader:
        sha, archived = copy_into_archive(reader, settings.archive_dir)
    with Store(settings.db_path) as store:
        doc = store.add_document(file_name=original.name, sha256=sha, size=27)
    out = tmp_path / "out"
    said = _invoke("export", str(doc), str(out))
    assert str(archived) in said
    assert (out / original.name).read_bytes() == original.read_bytes()
    _invoke("export", str(doc), str(out))
    assert (out / "lettre de référence-2.pdf").read_bytes() == original.read_bytes()


def test_export_names_a_missing_document_or_original(
    edgebox_home: Path, tmp_path: Path
) -> None:
    settings = load()
    with Store(settings.db_path) as store:
        doc = store.add_document(file_name="gone.txt", sha256="9" * 64, size=3)
    missing = run_cli("export", "999", str(tmp_path))  # the one-line error
    assert missing.returncode != 0
    assert "error: no document with id 999" in missing.stderr
    gone = CliRunner().invoke(cli, ["export", str(doc), str(tmp_path)])
    assert gone.exit_code != 0
    assert f"document {doc}: its original is not in the archive" in gone.output
