"""What kind of document a file is, from its first bytes."""

from __future__ import annotations

_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
)
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def sniff(head: bytes, suffix: str = "") -> str:
    """One of: pdf, docx, image, html, text, binary."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        # A DOCX is a ZIP; other ZIPs fail later with a clear "not a DOCX".
        return "docx"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image"
    if any(head.startswith(magic) for magic in _IMAGE_MAGIC):
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
