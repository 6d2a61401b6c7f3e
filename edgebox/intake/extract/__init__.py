"""Text out of a document file, chosen by its content, not only its name.

Plain text, Markdown and CSV (charset detected), HTML, PDF text layers, DOCX,
and images or scanned PDFs through Tesseract OCR. Every failure is an
ExtractError with a reason code, a message naming the file, and whether a retry
could help (`permanent=False`: an OCR timeout, a locked file). A PDF some of
whose pages could not be read still gives the others' text, with the unread
pages named (`Extraction.unread_pages`), so that a person reads the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebox.errors import ExtractError
from edgebox.intake.extract.sniff import sniff


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 200
    timeout_s: float = 120.0
    ocr_languages: str = "eng+fra"


@dataclass(frozen=True)
class UnreadPage:
    """A page whose text is missing from the extraction, and why."""

    page: int
    """1-based, as a person counts pages."""
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"page": self.page, "reason": self.reason}


@dataclass(frozen=True)
class Extraction:
    text: str
    unread_pages: tuple[UnreadPage, ...] = ()


def extract_text(path: Path, limits: Limits | None = None) -> str:
    """The document's text (see `extract`, which also names unread pages)."""
    return extract(path, limits).text


def extract(path: Path, limits: Limits | None = None) -> Extraction:
    """The document's text, or an ExtractError naming the file and the reason.

    Runs in the calling process; `edgebox.intake.extract.timebox` runs the same thing
    in a worker process that can be killed when it overruns.
    """
    limits = limits or Limits()
    size = _size(path)
    if size == 0:
        raise ExtractError(f"{path}: the file is empty", code="empty")
    if size > limits.max_bytes:
        raise ExtractError(
            f"{path}: {size} bytes is over the {limits.max_bytes}-byte limit",
            code="too_large",
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    kind = sniff(head, path.suffix)
    try:
        read = _READERS[kind](path, limits)
    except ExtractError:
        raise
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except MemoryError as exc:  # the box was short of memory: not the file's fault
        raise ExtractError(
            f"{path}: not enough memory to read it now", code="memory", permanent=False
        ) from exc
    except Exception as exc:  # noqa: BLE001 - a parser's own bug on a bad file
        # Parsers raise whatever their internals hit on a damaged file (lxml's
        # XMLSyntaxError, RecursionError, struct.error...). Left alone, one such
        # file would stop the service at every restart; it is quarantined.
        raise ExtractError(
            f"{path}: this {kind} file is damaged and cannot be read "
            f"({type(exc).__name__})",
            code="corrupt",
        ) from exc
    extraction = read if isinstance(read, Extraction) else Extraction(read)
    if not extraction.text.strip():
        raise ExtractError(f"{path}: no text found in this {kind} file", code="no_text")
    return extraction


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: OSError) -> ExtractError:
    # A locked or vanishing file may read fine later: not permanent.
    return ExtractError(
        f"{path}: cannot read the file ({exc.strerror})",
        code="unreadable",
        permanent=False,
    )


def _read_text(path: Path, limits: Limits) -> str:
    from edgebox.intake.extract.text import decode

    return decode(path.read_bytes())


def _read_html(path: Path, limits: Limits) -> str:
    from edgebox.intake.extract.text import decode, html_to_text

    return html_to_text(decode(path.read_bytes()))


def _read_pdf(path: Path, limits: Limits) -> Extraction:
    from edgebox.intake.extract.pdf import pdf_text

    return pdf_text(path, limits)


def _read_docx(path: Path, limits: Limits) -> str:
    from edgebox.intake.extract.office import docx_text

    return docx_text(path)


def _read_image(path: Path, limits: Limits) -> str:
    from edgebox.intake.extract.ocr import ocr_image

    return ocr_image(path, languages=limits.ocr_languages, timeout_s=limits.timeout_s)


def _unsupported(path: Path, limits: Limits) -> str:
    raise ExtractError(
        f"{path}: unsupported file type (binary content that is not a PDF, DOCX "
        "or image)",
        code="unsupported",
    )


_READERS = {
    "text": _read_text,
    "html": _read_html,
    "pdf": _read_pdf,
    "docx": _read_docx,
    "image": _read_image,
    "binary": _unsupported,
}
