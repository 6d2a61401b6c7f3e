"""Every page of a PDF is read: typed pages from their text layer, scanned pages
(alone, or under a banner or watermark) by OCR, in page order; a page that
cannot be read is named, and its document goes to a person."""

import json
import shutil
from pathlib import Path

import pytest

from edgebox import config
from edgebox.intake.extract import Limits, extract
from edgebox.intake.extract.ocr import ocr_available
from edgebox.intake.extract.pdf import image_cover
from edgebox.service.pipeline import Pipeline
from edgebox.store import DocState, Store
from edgebox.triage.engine import TriageEngine
from edgebox.tui.document import DocumentScreen
from tests.support.documents import paged_pdf
from tests.support.processes import run_cli
from tests.support.tui import make_app, queue_ready, screen_text, until_on

needs_ocr = pytest.mark.skipif(
    not ocr_available(), reason="Tesseract is not installed (scripts/setup installs it)"
)

COVER = {
    "text": [
        "FAX COVER SHEET",
        "To: District hospital, paediatric ward",
        "From: Health post Kisoro, nurse in charge",
        "Number of pages including this one: 2",
        "Please find the referral letter attached. Call on arrival.",
    ]
}
EMERGENCY_SCAN = {
    "scan": [
        "Referral letter",
        "Patient unconscious, not breathing.",
        "Convulsing for 20 minutes.",
    ]
}


def without_ocr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """PATH without Tesseract or poppler, as on a box set up without them."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    return {"PATH": str(empty)}


@needs_ocr
def test_a_typed_cover_and_a_scanned_page_are_both_read(tmp_path: Path) -> None:
    path = paged_pdf(tmp_path / "referral.pdf", [COVER, EMERGENCY_SCAN])
    extraction = extract(path)
    assert "FAX COVER SHEET" in extraction.text
    assert "Convulsing for 20 minutes" in extraction.text
    assert extraction.unread_pages == ()


@needs_ocr
def test_a_watermark_over_a_scan_does_not_hide_the_scan(tmp_path: Path) -> None:
    watermarked = {
        "text": ["Produced with a Trial Version of PDF Annotator - www.example.com"],
        "scan": ["Glycemie capillaire 2,1 mmol/L", "Enfant convulse"],
    }
    text = extract(paged_pdf(tmp_path / "lab.pdf", [watermarked])).text
    assert text.startswith("Produced with a Trial Version")
    assert "2,1 mmol/L" in text and "Enfant convulse" in text


@needs_ocr
def test_three_pages_of_text_and_scan_keep_their_order(tmp_path: Path) -> None:
    pages = [
        {"text": ["Page one typed: intake note, fever for three days."] * 5},
        {"scan": ["Page two scanned: lab result attached"]},
        {"text": ["Page three typed: plan, review in two days."] * 5},
    ]
    text = extract(paged_pdf(tmp_path / "mix.pdf", pages)).text
    one, two, three = (text.index(f"Page {n}") for n in ("one", "two", "three"))
    assert one < two < three


def test_a_text_pdf_is_not_sent_to_ocr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without OCR on the box, a page sent to OCR would come back unread: a
    # typed letter (with a small logo) must not be.
    path = paged_pdf(
        tmp_path / "letter.pdf",
        [{"text": ["Typed referral letter, fever and cough."] * 8, "logo": ["LOGO"]}],
    )
    without_ocr(tmp_path, monkeypatch)
    extraction = extract(path)
    assert "Typed referral letter" in extraction.text
    assert extraction.unread_pages == ()


def test_image_cover_tells_a_scan_from_a_logo(tmp_path: Path) -> None:
    from pypdf import PdfReader

    path = paged_pdf(
        tmp_path / "two.pdf",
        [EMERGENCY_SCAN, {"text": ["Typed"] * 3, "logo": ["LOGO"]}],
    )
    scan, letter = PdfReader(path).pages
    assert image_cover(scan) == pytest.approx(1.0, abs=0.02)
    assert 0 < image_cover(letter) < 0.05


def test_without_ocr_the_scanned_page_is_named_not_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = paged_pdf(tmp_path / "referral.pdf", [COVER, EMERGENCY_SCAN])
    without_ocr(tmp_path, monkeypatch)
    extraction = extract(path)
    assert "FAX COVER SHEET" in extraction.text
    assert [p.to_json() for p in extraction.unread_pages] == [
        {"page": 2, "reason": "OCR not available"}
    ]


@needs_ocr
def test_pages_past_the_time_limit_are_named(tmp_path: Path) -> None:
    path = paged_pdf(tmp_path / "referral.pdf", [COVER, EMERGENCY_SCAN])
    extraction = extract(path, Limits(timeout_s=1e-6))
    assert "FAX COVER SHEET" in extraction.text
    assert [p.page for p in extraction.unread_pages] == [2]
    assert extraction.unread_pages[0].reason == "OCR ran out of time"


@pytest.mark.model
@needs_ocr
def test_the_scanned_emergency_behind_a_cover_is_an_emergency_by_the_rules(
    tmp_path: Path,
) -> None:
    path = paged_pdf(tmp_path / "referral.pdf", [COVER, EMERGENCY_SCAN])
    out = run_cli("triage", "--json", str(path))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["urgency"] == "emergency"
    assert result["sources"]["urgency"] == "rules"
    rule_flags = [f for f in result["red_flags"] if f["source"] == "rules"]
    assert any(f["level"] == "emergency" for f in rule_flags)
    assert result["unread_pages"] == []


@pytest.mark.model
def test_an_unread_page_sends_the_document_to_review_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = paged_pdf(tmp_path / "referral.pdf", [COVER, EMERGENCY_SCAN, COVER])
    env = without_ocr(tmp_path, monkeypatch)
    out = run_cli("triage", "--json", str(path), env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["unread_pages"] == [{"page": 2, "reason": "OCR not available"}]
    assert result["needs_review"]
    assert any(
        "page 2 (OCR not available)" in reason for reason in result["review_reasons"]
    )
    assert result["urgency"] != "routine"


@pytest.mark.model
@pytest.mark.anyio
async def test_the_store_and_the_ui_name_the_unread_page(
    edgebox_home: Path,
    engine: TriageEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = config.load(edgebox_home)
    settings.inbox_dir.mkdir(parents=True)
    paged_pdf(settings.inbox_dir / "referral.pdf", [COVER, EMERGENCY_SCAN])
    without_ocr(tmp_path, monkeypatch)
    with Store(settings.db_path) as store:
        pipeline = Pipeline(settings, store, engine_loader=lambda: engine)
        try:
            assert pipeline.run_once().triaged == 1
        finally:
            pipeline.close()
        (doc,) = store.documents_in_state(DocState.TRIAGED)
        latest = store.latest_revision(doc["id"])
    assert latest["needs_review"]
    assert latest["urgency"] != "routine"
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 1)
        await pilot.press("enter")
        await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        text = screen_text(pilot.app)
    assert "NOT ALL PAGES READ" in text
    assert "page 2 (OCR not available)" in text


@needs_ocr
def test_doctor_says_what_happens_to_scanned_pdf_pages(tmp_path: Path) -> None:
    shown = run_cli("doctor")
    assert "a little text (a banner, a watermark) over a scan, is OCR'd" in (
        shown.stdout
    )
    only_tesseract = tmp_path / "bin"
    only_tesseract.mkdir()
    (only_tesseract / "tesseract").symlink_to(shutil.which("tesseract"))
    out = run_cli("doctor", "--json", env={"PATH": str(only_tesseract)})
    report = json.loads(out.stdout)
    assert report["ocr"]["available"] and not report["ocr"]["pdf_pages"]
    (warning,) = [w for w in report["warnings"] if "pdftoppm" in w]
    assert "goes to review naming the pages not read" in warning
