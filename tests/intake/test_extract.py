"""Reading text out of real files of every supported kind, and refusing the rest."""

import os
import zipfile
from pathlib import Path

import pytest

from edgebox.errors import ExtractError
from edgebox.intake.extract import Limits, extract_text
from edgebox.intake.extract.ocr import ocr_available
from edgebox.intake.extract.sniff import sniff
from edgebox.intake.extract.timebox import TimeboxedExtractor
from tests.support.documents import docx_file, encrypted_pdf, scanned_image, text_pdf

needs_ocr = pytest.mark.skipif(
    not ocr_available(), reason="Tesseract is not installed (scripts/setup installs it)"
)


def test_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Fièvre élevée, enfant léthargique", encoding="utf-8")
    assert extract_text(path) == "Fièvre élevée, enfant léthargique"


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_bytes("\ufeff# Note".encode())
    assert extract_text(path) == "# Note"


def test_latin1_text_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    text = "Référence : fièvre élevée depuis trois jours, enfant très fatigué."
    path.write_bytes(text.encode("latin-1"))
    assert extract_text(path) == text


def test_utf16_text(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("Patient ref UT-16, résultats normaux", encoding="utf-16")
    assert extract_text(path) == "Patient ref UT-16, résultats normaux"


def test_html_gives_visible_text_only(tmp_path: Path) -> None:
    path = tmp_path / "letter.html"
    path.write_bytes(
        b"<html><head><meta charset='utf-8'><style>p{}</style>"
        b"<script>alert(1)</script></head><body><p>Referral:&nbsp;fever</p>"
        b"<p>Child \xc3\xa2g\xc3\xa9 de 3 ans</p></body></html>"
    )
    assert extract_text(path) == "Referral: fever\nChild âgé de 3 ans"


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "labs.csv"
    path.write_text("test,value\nHb,11.2\n")
    assert extract_text(path) == "test,value\nHb,11.2\n"


def test_pdf_text_layer(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "lab.pdf", ["Laboratory report", "Haemoglobin 9.1 g/dL"])
    text = extract_text(path)
    assert "Laboratory report" in text and "Haemoglobin 9.1 g/dL" in text


def test_docx_paragraphs_and_tables(tmp_path: Path) -> None:
    path = docx_file(
        tmp_path / "referral.docx",
        ["Referral letter", "Severe headache"],
        [["BP", "168/112"]],
    )
    assert extract_text(path) == "Referral letter\nSevere headache\nBP | 168/112"


def test_content_decides_not_the_name(tmp_path: Path) -> None:
    disguised = text_pdf(tmp_path / "looks_like.txt", ["Real PDF inside"])
    assert "Real PDF inside" in extract_text(disguised)
    assert sniff(b"%PDF-1.7", ".txt") == "pdf"
    assert sniff(b"hello", ".pdf") == "text"


@pytest.mark.parametrize(
    "note",
    [
        "BMI 41.2 kg/m2. Patient referred for bariatric assessment.",
        "BM: blood glucose 2.1 mmol/L, patient confused.",
        "GIF89a was the format of the old scanner; results attached.",
    ],
)
def test_a_note_that_starts_like_an_image_is_text(tmp_path: Path, note: str) -> None:
    path = tmp_path / "note.txt"
    path.write_text(note + "\n")
    assert sniff(note.encode()) == "text"
    assert extract_text(path) == note + "\n"
    latin1 = tmp_path / "old.txt"
    latin1.write_bytes((note + " Glycémie basse.").encode("latin-1"))
    assert extract_text(latin1).endswith("Glycémie basse.")


@pytest.mark.parametrize("kind", ["BMP", "GIF", "PNG", "JPEG", "TIFF", "WEBP"])
def test_real_images_are_sniffed_as_images(tmp_path: Path, kind: str) -> None:
    path = scanned_image(tmp_path / f"scan.{kind.lower()}", ["BM glucose 2.1"])
    assert sniff(path.read_bytes()[:8192]) == "image"


@needs_ocr
def test_an_image_is_read_by_ocr(tmp_path: Path) -> None:
    path = scanned_image(tmp_path / "scan.png", ["Patient unresponsive", "SpO2 82"])
    text = extract_text(path)
    assert "unresponsive" in text and "82" in text


@needs_ocr
def test_a_pdf_of_scanned_images_is_read_by_ocr(tmp_path: Path) -> None:
    path = scanned_image(tmp_path / "scan.pdf", ["Convulsions since morning"])
    assert "Convulsions since morning" in extract_text(path)


def test_without_tesseract_a_scan_says_ocr_not_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = scanned_image(tmp_path / "scan.png", ["Anything"])
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ExtractError, match="OCR not available") as caught:
        extract_text(path)
    assert caught.value.code == "ocr_unavailable"


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        (lambda p: p.write_bytes(b""), "empty", "the file is empty"),
        (
            lambda p: p.write_bytes(os.urandom(4096) + b"\x00"),
            "unsupported",
            "unsupported",
        ),
        (
            lambda p: p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj <<"),
            "corrupt_pdf",
            "damaged",
        ),
        (
            lambda p: p.write_bytes(b"PK\x03\x04garbage"),
            "unsupported",
            "not a readable DOCX",
        ),
        (lambda p: p.write_text("   \n\t  "), "no_text", "no text found"),
    ],
)
def test_bad_input_is_named_with_a_reason(
    tmp_path: Path, make, code: str, words: str
) -> None:
    path = tmp_path / "bad.pdf"
    make(path)
    with pytest.raises(ExtractError) as caught:
        extract_text(path)
    assert caught.value.code == code
    assert str(path) in str(caught.value) and words in str(caught.value)
    assert caught.value.permanent


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = text_pdf(tmp_path / "whole.pdf", ["Line one", "Line two"] * 20)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ExtractError) as caught:
        extract_text(cut)
    assert caught.value.code in ("corrupt_pdf", "no_text", "ocr_unavailable")
    assert str(cut) in str(caught.value)


def test_password_protected_pdf(tmp_path: Path) -> None:
    path = encrypted_pdf(tmp_path / "locked.pdf", ["Secret"])
    with pytest.raises(ExtractError, match="protected by a password") as caught:
        extract_text(path)
    assert caught.value.code == "encrypted" and caught.value.permanent


def test_page_limit(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "long.pdf", ["x"] * 80)  # several pages
    with pytest.raises(ExtractError, match="page limit") as caught:
        extract_text(path, Limits(max_pages=1))
    assert caught.value.code == "too_many_pages"


def test_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: 2 GB that take no disk
    with pytest.raises(ExtractError, match="over the 1024-byte limit") as caught:
        extract_text(path, Limits(max_bytes=1024))
    assert caught.value.code == "too_large"


def test_missing_file_is_transient_and_named(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="missing.txt") as caught:
        extract_text(tmp_path / "missing.txt")
    assert not caught.value.permanent


def test_the_worker_process_reports_errors_and_results(tmp_path: Path) -> None:
    extractor = TimeboxedExtractor(Limits())
    try:
        good = text_pdf(tmp_path / "ok.pdf", ["Worker process text"])
        assert "Worker process text" in extractor.extract(good).text
        locked = encrypted_pdf(tmp_path / "locked.pdf", ["x"])
        with pytest.raises(ExtractError) as caught:
            extractor.extract(locked)
        assert (caught.value.code, caught.value.permanent) == ("encrypted", True)
    finally:
        extractor.close()


def test_a_stop_kills_the_extraction_in_hand(tmp_path: Path) -> None:
    """A stopping service does not wait out a long OCR: the worker is killed
    (nothing is recorded), and a fresh one reads the next file."""
    import threading

    from edgebox.errors import Cancelled

    path = text_pdf(tmp_path / "ok.pdf", ["Worker process text"])
    stopping = threading.Event()
    stopping.set()
    extractor = TimeboxedExtractor(Limits())
    try:
        with pytest.raises(Cancelled, match="ok.pdf"):
            extractor.extract(path, stop=stopping)
        assert extractor._pool is None  # killed, not left reading
        assert "Worker process text" in extractor.extract(path).text
    finally:
        extractor.close()


@needs_ocr
def test_a_stop_during_a_long_ocr_kills_it(tmp_path: Path) -> None:
    """The stop comes while the worker reads a 12-page scan (seconds of OCR),
    not before: the wait for the worker is what must be cut short."""
    import threading

    from edgebox.errors import Cancelled

    path = scanned_image(tmp_path / "scan.pdf", ["Slow scan"] * 12)
    stopping = threading.Event()
    extractor = TimeboxedExtractor(Limits())
    later = threading.Timer(0.2, stopping.set)
    try:
        later.start()
        with pytest.raises(Cancelled, match="scan.pdf"):
            extractor.extract(path, stop=stopping)
        assert extractor._pool is None
    finally:
        later.cancel()
        extractor.close()


@needs_ocr
def test_an_overrunning_extraction_is_killed_and_retried_later(tmp_path: Path) -> None:
    path = scanned_image(tmp_path / "scan.pdf", ["Slow scan"] * 12)
    extractor = TimeboxedExtractor(Limits(timeout_s=0.01))
    try:
        with pytest.raises(ExtractError) as caught:
            extractor.extract(path)
        assert caught.value.code in ("ocr_timeout", "timeout")
        assert not caught.value.permanent
    finally:
        extractor.close()


def _docx_with_broken_xml(tmp_path: Path) -> Path:
    whole = docx_file(tmp_path / "whole.docx", ["Referral"] * 5, [["a", "b"]])
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]  # cut mid-element: lxml's SyntaxError
            target.writestr(item, data)
    return broken


def test_a_parser_crash_on_a_damaged_file_is_a_named_permanent_error(
    tmp_path: Path,
) -> None:
    broken = _docx_with_broken_xml(tmp_path)
    extractor = TimeboxedExtractor(Limits())
    try:
        with pytest.raises(ExtractError) as caught:
            extractor.extract(broken)  # raised in the worker, re-raised here
    finally:
        extractor.close()
    assert (caught.value.code, caught.value.permanent) == ("corrupt", True)
    assert str(broken) in str(caught.value) and "damaged" in str(caught.value)


def test_running_short_of_memory_is_retried_not_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgebox.intake import extract

    def short_of_memory(path: Path, limits: Limits) -> str:  # fault injector
        raise MemoryError

    monkeypatch.setitem(extract._READERS, "text", short_of_memory)
    path = tmp_path / "note.txt"
    path.write_text("Referral: fever.")
    with pytest.raises(ExtractError) as caught:
        extract_text(path)
    assert (caught.value.code, caught.value.permanent) == ("memory", False)
