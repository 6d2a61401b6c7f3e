"""DOCX documents (python-docx): paragraphs and table cells, in order."""

from __future__ import annotations

import zipfile
from pathlib import Path

from edgebox.errors import ExtractError


def docx_text(path: Path) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExtractError(
            f"{path}: a ZIP file that is not a readable DOCX document",
            code="unsupported",
        ) from exc
    lines = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
            if cells:
                lines.append(" | ".join(cells))
    return "\n".join(lines)
