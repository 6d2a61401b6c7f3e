"""Each page of the PDFs given: characters of text layer, the share of the page
that images cover, and whether edgebox OCRs it. The thresholds in
`edgebox.extract.pdf` were chosen from this on real files.

Usage: .venv/bin/python scripts/pdf_pages.py FILE.pdf...
"""

from __future__ import annotations

import sys
from pathlib import Path

from pypdf import PdfReader

from edgebox.intake.extract.pdf import LITTLE_TEXT_CHARS, SCAN_COVER, image_cover


def main(paths: list[str]) -> None:
    print(f"scan: under {LITTLE_TEXT_CHARS} characters and images over {SCAN_COVER}")
    print(f"{'file':40} {'page':>4} {'chars':>6} {'cover':>6}  ocr")
    for name in paths:
        try:
            reader = PdfReader(name)
            pages = list(reader.pages)
        except Exception as exc:  # noqa: BLE001 - a survey goes on past bad files
            print(f"{Path(name).name[:40]:40} cannot be read ({type(exc).__name__})")
            continue
        for number, page in enumerate(pages, start=1):
            chars = len((page.extract_text() or "").strip())
            cover = image_cover(page)
            scan = chars < LITTLE_TEXT_CHARS and (
                cover >= SCAN_COVER or (chars == 0 and cover > 0)
            )
            print(
                f"{Path(name).name[:40]:40} {number:>4} {chars:>6} {cover:>6.2f}"
                f"  {'yes' if scan else '-'}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
