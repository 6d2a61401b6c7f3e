"""Tesseract OCR for images and scanned PDFs (Debian's `tesseract-ocr`).

Called as a program rather than through a binding: a subprocess has its own
time limit and cannot crash the service.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from edgebox.errors import ExtractError


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


@cache
def installed_languages() -> frozenset[str]:
    exe = shutil.which("tesseract")
    if not exe:
        return frozenset()
    out = subprocess.run(
        [exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    )
    return frozenset(line.strip() for line in out.stdout.splitlines()[1:])


def ocr_image(path: Path, *, languages: str, timeout_s: float) -> str:
    """The text Tesseract reads in one image file."""
    exe = _tesseract(path)
    wanted = [lang for lang in languages.split("+") if lang in installed_languages()]
    command = [exe, str(path), "stdout"] + (["-l", "+".join(wanted)] if wanted else [])
    try:
        out = subprocess.run(
            command, capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractError(
            f"{path}: OCR took longer than {timeout_s:.0f} s",
            code="ocr_timeout",
            permanent=False,
        ) from exc
    if out.returncode != 0:
        raise ExtractError(
            f"{path}: OCR could not read this image (tesseract exit {out.returncode})",
            code="ocr_failed",
        )
    return out.stdout.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class PageOcr:
    """One PDF page's OCR: its text, or the error that kept it unread."""

    page: int
    text: str = ""
    error: ExtractError | None = None


def ocr_pdf_pages(
    path: Path, pages: list[int], *, languages: str, deadline: float
) -> list[PageOcr]:
    """Render each of `pages` (1-based; poppler's pdftoppm) and OCR it, in
    order, until `deadline` (time.monotonic()); a page that cannot be read is
    returned with its error, so that the others still count."""
    if not pages:
        return []
    try:
        _tesseract(path)
        pdftoppm = _pdftoppm(path)
    except ExtractError as exc:
        return [PageOcr(page, error=exc) for page in pages]
    with tempfile.TemporaryDirectory(prefix="edgebox-ocr-") as tmp:
        return [
            _ocr_page(path, page, pdftoppm, Path(tmp), languages, deadline)
            for page in pages
        ]


def _ocr_page(
    path: Path, page: int, pdftoppm: str, tmp: Path, languages: str, deadline: float
) -> PageOcr:
    left = deadline - time.monotonic()
    if left <= 0:
        return PageOcr(page, error=_out_of_time(path, page))
    try:
        image = _render(path, page, pdftoppm, tmp, timeout_s=left)
        left = deadline - time.monotonic()
        if left <= 0:
            return PageOcr(page, error=_out_of_time(path, page))
        return PageOcr(page, ocr_image(image, languages=languages, timeout_s=left))
    except ExtractError as exc:
        return PageOcr(page, error=exc)


def _render(
    path: Path, page: int, pdftoppm: str, tmp: Path, *, timeout_s: float
) -> Path:
    prefix = tmp / f"page-{page}"
    command = [pdftoppm, "-r", "200", "-gray", "-png", "-singlefile"]
    command += ["-f", str(page), "-l", str(page), str(path), str(prefix)]
    try:
        subprocess.run(command, capture_output=True, timeout=timeout_s, check=True)
    except subprocess.TimeoutExpired as exc:
        raise ExtractError(
            f"{path}: rendering page {page} for OCR took longer than the time left",
            code="ocr_timeout",
            permanent=False,
        ) from exc
    except subprocess.CalledProcessError as exc:
        raise ExtractError(
            f"{path}: page {page} could not be rendered for OCR", code="corrupt_pdf"
        ) from exc
    return prefix.with_suffix(".png")


def _out_of_time(path: Path, page: int) -> ExtractError:
    return ExtractError(
        f"{path}: no time left to OCR page {page}",
        code="ocr_timeout",
        permanent=False,
    )


def _pdftoppm(path: Path) -> str:
    exe = shutil.which("pdftoppm")
    if not exe:
        raise ExtractError(
            f"{path}: OCR not available (poppler-utils' pdftoppm is not installed)",
            code="ocr_unavailable",
        )
    return exe


def _tesseract(path: Path) -> str:
    exe = shutil.which("tesseract")
    if not exe:
        raise ExtractError(
            f"{path}: OCR not available (Tesseract is not installed; install "
            "tesseract-ocr, then `edgebox requeue`)",
            code="ocr_unavailable",
        )
    return exe
