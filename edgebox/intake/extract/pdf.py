"""PDF text: each page's text layer, and OCR for the pages that are scans.

Each page is judged on its own. A typed fax cover followed by a scanned letter
is the common referral, and the scan is where the danger signs are: a page is
OCR'd when it has no text layer but shows an image, or when it has only a
little text (a fax banner, a watermark, a header) beside images that cover
much of the page. Its OCR text follows its own text, in page order. A page that
cannot be OCR'd (no Tesseract, out of time) is named in the result, never
dropped in silence. A PDF with no text on any page is OCR'd whole, as before.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebox.errors import ExtractError
from edgebox.intake.extract.ocr import PageOcr, ocr_pdf_pages

if TYPE_CHECKING:
    from edgebox.intake.extract import Extraction, Limits

# pypdf logs every repaired cross-reference table; a damaged file is reported
# once, by the ExtractError below.
logging.getLogger("pypdf").setLevel(logging.ERROR)

LITTLE_TEXT_CHARS = 200
"""A page with fewer characters of text than this may be a scan under a banner
(`scripts/pdf_pages.py` prints each page's count and cover; docs/evaluation.md
gives the measurement behind both limits)."""
SCAN_COVER = 0.15
"""Images drawn over at least this share of such a page make it a scan."""
_MAX_FORM_DEPTH = 8
"""Nested form XObjects followed this deep (a loop in a damaged file stops)."""

_UNREAD_WORDS = {
    "ocr_unavailable": "OCR not available",
    "ocr_timeout": "OCR ran out of time",
    "ocr_failed": "OCR could not read it",
    "corrupt_pdf": "the page could not be rendered",
}


@dataclass(frozen=True)
class PageLayer:
    """What a page's text layer says, and whether the page needs OCR."""

    text: str
    needs_ocr: bool


def pdf_text(path: Path, limits: Limits) -> Extraction:
    from pypdf.errors import PyPdfError

    deadline = time.monotonic() + limits.timeout_s
    try:
        layers = _page_layers(path, limits)
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
    scans = [n for n, layer in enumerate(layers, start=1) if layer.needs_ocr]
    ocr = ocr_pdf_pages(path, scans, languages=limits.ocr_languages, deadline=deadline)
    return _joined(path, layers, ocr)


def _page_layers(path: Path, limits: Limits) -> list[PageLayer]:
    from pypdf import PdfReader

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
    texts = [(page.extract_text() or "").strip() for page in reader.pages]
    if not any(texts):
        # Nothing on any page: all of it is a scan, as far as anyone can tell.
        return [PageLayer("", needs_ocr=True) for _ in texts]
    return [
        PageLayer(text, needs_ocr=_is_scan(text, page))
        for text, page in zip(texts, reader.pages, strict=True)
    ]


def _is_scan(text: str, page: Any) -> bool:
    if len(text) >= LITTLE_TEXT_CHARS:
        return False
    try:
        cover = image_cover(page)
    except Exception:  # noqa: BLE001 - a content stream pypdf cannot walk
        return True  # err towards reading the page: OCR costs seconds only
    return cover >= SCAN_COVER or (not text and cover > 0)


def _joined(path: Path, layers: list[PageLayer], ocr: list[PageOcr]) -> Extraction:
    from edgebox.intake.extract import Extraction, UnreadPage

    read = {result.page: result for result in ocr}
    parts: list[str] = []
    unread: list[UnreadPage] = []
    for number, layer in enumerate(layers, start=1):
        result = read.get(number)
        if result is not None and result.error is not None:
            reason = _UNREAD_WORDS.get(result.error.code, result.error.code)
            unread.append(UnreadPage(number, reason))
        scanned = result.text.strip() if result is not None else ""
        parts.append("\n".join(part for part in (layer.text, scanned) if part))
    text = "\n\n".join(parts)
    if not text.strip() and unread:
        # Not one page could be read: the first page's error says why (OCR not
        # installed, out of time) and decides whether a retry may help.
        first = next(result.error for result in ocr if result.error is not None)
        raise first
    return Extraction(text=text, unread_pages=tuple(unread))


def image_cover(page: Any) -> float:
    """The share of the page (0 to 1) that its images are drawn over.

    Each image is the unit square mapped by the current transformation
    matrix, so its area is that matrix's determinant; determinants multiply,
    so the walk keeps one number per graphics state. Overlaps count twice (the
    share is capped at 1), which only errs towards reading a page.
    """
    box = page.cropbox
    page_area = abs(float(box.width) * float(box.height))
    contents = page.get_contents()
    if page_area <= 0 or contents is None:
        return 0.0
    drawn = _drawn_area(contents.operations, page.get("/Resources"), 1.0, 0)
    return min(1.0, drawn / page_area)


def _drawn_area(operations: list, resources: Any, scale: float, depth: int) -> float:
    from pypdf.generic import ContentStream

    area, saved = 0.0, []
    for operands, operator in operations:
        if operator == b"q":
            saved.append(scale)
        elif operator == b"Q":
            scale = saved.pop() if saved else scale
        elif operator == b"cm":
            scale *= _determinant(operands)
        elif operator == b"INLINE IMAGE":
            area += abs(scale)
        elif operator == b"Do" and resources is not None:
            xobject = _xobject(resources, operands[0])
            if xobject is None:
                continue
            kind = xobject.get("/Subtype")
            if kind == "/Image":
                area += abs(scale)
            elif kind == "/Form" and depth < _MAX_FORM_DEPTH:
                matrix = xobject.get("/Matrix", [1, 0, 0, 1, 0, 0])
                inner = ContentStream(xobject, None)
                area += _drawn_area(
                    inner.operations,
                    xobject.get("/Resources", resources),
                    scale * _determinant(matrix),
                    depth + 1,
                )
    return area


def _xobject(resources: Any, name: Any) -> Any:
    xobjects = resources.get_object().get("/XObject")
    if xobjects is None:
        return None
    found = xobjects.get_object().get(name)
    return found.get_object() if found is not None else None


def _determinant(matrix: Any) -> float:
    a, b, c, d = (float(value) for value in list(matrix)[:4])
    return a * d - b * c


def _opens_without_password(reader: object) -> bool:
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any failure means it stays locked
        return False
