"""PDF extraction per page: typed pages against bare pypdf (the per-page scan
check must cost them nothing), scanned pages against bare pdftoppm +
tesseract on the same pages (OCR is the cost, not edgebox)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

from edgebox.intake.extract import Limits, extract
from tests.support.documents import paged_pdf

LINES = ["Referral: fever for three days, cough, BP 120/80, HR 96, temp 38.4."] * 30


def pdf_pages(text_pages: int = 40, scanned_pages: int = 3) -> dict:
    root = Path(tempfile.mkdtemp(prefix="edgebox-bench-pdf-"))
    typed = paged_pdf(root / "typed.pdf", [{"text": LINES}] * text_pages)
    scan = [{"scan": ["Scanned referral", "Convulsing for 20 minutes"]}]
    scanned = paged_pdf(root / "scanned.pdf", scan * scanned_pages)
    limits = Limits(timeout_s=600)
    typed_s = _timed(lambda: extract(typed, limits)) / text_pages
    bare_typed_s = _timed(lambda: _bare_text(typed)) / text_pages
    figure = {
        "figure": "PDF extraction per page",
        "text_pages": text_pages,
        "edgebox_text_page_ms": round(typed_s * 1000, 2),
        "bare_pypdf_text_page_ms": round(bare_typed_s * 1000, 2),
        "ratio_text_page_to_bare": round(typed_s / bare_typed_s, 3),
    }
    if shutil.which("tesseract") and shutil.which("pdftoppm"):
        scanned_s = _timed(lambda: extract(scanned, limits)) / scanned_pages
        bare_scan_s = _timed(lambda: _bare_ocr(scanned, scanned_pages)) / scanned_pages
        figure |= {
            "scanned_pages": scanned_pages,
            "edgebox_scanned_page_s": round(scanned_s, 3),
            "bare_pdftoppm_tesseract_page_s": round(bare_scan_s, 3),
            "ratio_scanned_page_to_bare": round(scanned_s / bare_scan_s, 3),
        }
    shutil.rmtree(root, ignore_errors=True)
    return figure


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _bare_text(path: Path) -> str:
    return "\n\n".join(page.extract_text() for page in PdfReader(path).pages)


def _bare_ocr(path: Path, pages: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["pdftoppm", "-r", "200", "-gray", "-png", str(path), f"{tmp}/p"],
            check=True,
        )
        return "\n\n".join(
            subprocess.run(
                ["tesseract", str(image), "stdout", "-l", "eng+fra"],
                capture_output=True,
                check=True,
                text=True,
            ).stdout
            for image in sorted(Path(tmp).glob("p*.png"))
        )
