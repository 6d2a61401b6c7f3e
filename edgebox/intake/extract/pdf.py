"""PDF text layers (pypdf); pages without one go to OCR."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from edgebox.errors import ExtractError
from edgebox.intake.extract.ocr import ocr_pdf

if TYPE_CHECKING:
    from edgebox.intake.extract import Limits

# pypdf logs every repaired cross-reference table; a damaged file is reported
# once, by the ExtractError below.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def pdf_text(path: Path, limits: Limits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise ExtractError(
                f"{path}: the PDF is protected by a password", code="encrypted"
            )
        pages = len(reader.pages)
        if pages > limits.max_pages:
            raise ExtractError(
                f"{path}: {pages} pages is over the {limits.max_pages}-page limit",
                code="too_many_pages",
            )
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
    except ExtractError:
        raise
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        OSError,
    ) as exc:
        # pypdf raises many kinds on damaged files; all mean "cannot be parsed".
        raise ExtractError(
            f"{path}: the PDF is damaged or truncated and cannot be read",
            code="corrupt_pdf",
        ) from exc
    if text.strip():
        return text
    return ocr_pdf(
        path, pages=pages, languages=limits.ocr_languages, timeout_s=limits.timeout_s
    )


def _opens_without_password(reader: object) -> bool:
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any failure means it stays locked
        return False
