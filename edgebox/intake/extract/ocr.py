"""Tesseract OCR for images and scanned PDFs (Debian's `tesseract-ocr`).

Called as a program rather than through a binding: a subprocess has its own
time limit and cannot crash the service.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
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


def ocr_pdf(path: Path, *, pages: int, languages: str, timeout_s: float) -> str:
    """Render each page of a scanned PDF (poppler's pdftoppm) and OCR it."""
    _tesseract(path)
    pdftoppm = shutil.which("pdftoppm")
    if not pdftoppm:
        raise ExtractError(
            f"{path}: OCR not available (poppler-utils' pdftoppm is not installed)",
            code="ocr_unavailable",
        )
    with tempfile.TemporaryDirectory(prefix="edgebox-ocr-") as tmp:
        try:
            subprocess.run(
                [
                    pdftoppm,
                    "-r",
                    "200",
                    "-gray",
                    "-png",
                    "-l",
                    str(pages),
                    str(path),
                    f"{tmp}/page",
                ],
                capture_output=True,
                timeout=timeout_s,
                check=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise ExtractError(
                f"{path}: rendering the scanned pages took longer than "
                f"{timeout_s:.0f} s",
                code="ocr_timeout",
                permanent=False,
            ) from exc
        except subprocess.CalledProcessError as exc:
            raise ExtractError(
                f"{path}: the scanned pages could not be rendered for OCR",
                code="corrupt_pdf",
            ) from exc
        images = sorted(Path(tmp).glob("page*.png"))
        return "\n\n".join(
            ocr_image(image, languages=languages, timeout_s=timeout_s)
            for image in images
        )


def _tesseract(path: Path) -> str:
    exe = shutil.which("tesseract")
    if not exe:
        raise ExtractError(
            f"{path}: OCR not available (Tesseract is not installed; install "
            "tesseract-ocr, then `edgebox requeue`)",
            code="ocr_unavailable",
        )
    return exe
