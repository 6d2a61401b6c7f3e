"""Text out of a document file.

First version: plain-text documents (.txt, .md, .csv and other text), decoded as
UTF-8 with a Windows-1252 fallback so a legacy file never crashes a decode.
Binary formats (PDF, DOCX, images) get a clear "unsupported" reason; the
ingestion issue adds them.
"""

from __future__ import annotations

from pathlib import Path

from edgebox.errors import ExtractError

MAX_BYTES = 20 * 1024 * 1024
_SNIFF_BYTES = 8192
# Formats recognised by their first bytes, whatever the file is called.
_MAGIC = {
    b"%PDF-": "PDF",
    b"PK\x03\x04": "DOCX or ZIP",
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"II*\x00": "TIFF image",
    b"MM\x00*": "TIFF image",
}


def extract_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """The document's text, or an ExtractError naming the file and the reason."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise ExtractError(f"{path}: the file is empty", code="empty")
        if size > max_bytes:
            raise ExtractError(
                f"{path}: {size} bytes is over the {max_bytes}-byte limit",
                code="too_large",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ExtractError(
            f"{path}: cannot read the file ({exc.strerror})",
            code="unreadable",
            permanent=False,
        ) from exc
    kind = next((name for magic, name in _MAGIC.items() if raw.startswith(magic)), None)
    if kind is None and b"\x00" in raw[:_SNIFF_BYTES]:
        kind = "binary"
    if kind is not None:
        raise ExtractError(
            f"{path}: {kind} content is not supported yet (plain text only)",
            code="unsupported",
        )
    return _decode(raw)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows-1252 leaves five bytes undefined; replace them rather than fail.
        return raw.decode("cp1252", errors="replace")
