"""Plain text and HTML: decoded whatever the charset, never a decode crash."""

from __future__ import annotations

from html.parser import HTMLParser

from charset_normalizer import from_bytes

# The clinics write English and French: among legacy charsets only the Western
# ones are plausible, and letting the detector pick Central European cp1250
# turns "fièvre" into "fičvre".
_CANDIDATES = ["cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850", "utf_16"]
_BOMS = {b"\xef\xbb\xbf": "utf-8-sig", b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16"}


def decode(raw: bytes) -> str:
    """UTF-8 (or a BOM's encoding) when it fits, else the detected charset."""
    for bom, encoding in _BOMS.items():
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw, cp_isolation=_CANDIDATES).best()
    if best is not None:
        return str(best)
    # Windows-1252 leaves five bytes undefined; replace them rather than fail.
    return raw.decode("cp1252", errors="replace")


class _TextOnly(HTMLParser):
    _SKIP = {"script", "style", "head", "template"}
    _BREAK = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "td", "th"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of an HTML page, one line per block."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
