"""Untrusted text (file names, document text, the model's summary) as a terminal
may show it: the CLI's tables and the UI's screens alike."""

from __future__ import annotations

import re

# C0/C1 controls and bidi overrides: file names and document text must never
# drive the terminal (escape sequences) or reorder what staff read.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: object, *, one_line: bool = False) -> str:
    """Text with control characters replaced, so that it cannot drive the
    terminal; `one_line` also folds line breaks and runs of spaces."""
    raw = "" if text is None else str(text)
    cleaned = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", raw)
    return " ".join(cleaned.split()) if one_line else cleaned
