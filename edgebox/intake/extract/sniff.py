"""What kind of document a file is, from its first bytes.

Some magic numbers are ordinary letters: a note that starts "BMI 41" or
"BM: glucose 2.1" begins like a BMP, and "GIF89a" is typeable. An image is
only an image when its header has the structure of one and its first bytes
are not plain text; otherwise a hypoglycaemia note would go to OCR and be
quarantined unread.
"""

from __future__ import annotations

import struct

_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
    b"GIF87a",
    b"GIF89a",
)
# The sizes of the BMP info headers that exist (core, v2-v5, OS/2).
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# Control bytes that text in any of the clinics' charsets never holds (tab,
# line feed, form feed and carriage return are text).
_CONTROL_BYTES = bytes(sorted(set(range(32)) - {9, 10, 12, 13}))


def sniff(head: bytes, suffix: str = "") -> str:
    """One of: pdf, docx, image, html, text, binary."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        # A DOCX is a ZIP; other ZIPs fail later with a clear "not a DOCX".
        return "docx"
    if _is_image(head) and not looks_like_text(head):
        return "image"
    if head.startswith(_TEXT_BOMS):
        return "text"
    if b"\x00" in head:
        return "binary"
    lowered = head[:1024].lstrip().lower()
    if any(marker in lowered for marker in _HTML_MARKERS) or suffix.lower() in (
        ".html",
        ".htm",
    ):
        return "html"
    return "text"


def looks_like_text(head: bytes) -> bool:
    """No control bytes: text in UTF-8 or a Western 8-bit charset."""
    return len(head.translate(None, _CONTROL_BYTES)) == len(head)


def _is_image(head: bytes) -> bool:
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return True
    return _is_bmp(head) or any(head.startswith(magic) for magic in _IMAGE_MAGIC)


def _is_bmp(head: bytes) -> bool:
    """A BMP header: "BM", reserved zeros and a known info-header size."""
    if not head.startswith(b"BM") or len(head) < 18:
        return False
    reserved, dib_size = struct.unpack_from("<I4xI", head, 6)
    return reserved == 0 and dib_size in _BMP_DIB_SIZES
