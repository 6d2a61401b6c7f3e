"""The words staff read, in their language (English or French).

Python's `gettext` with the catalogue kept in the package
(edgebox/locale/fr/LC_MESSAGES/edgebox.mo, compiled from edgebox.po by
scripts/i18n.py). The English text is the message id itself, so English needs
no catalogue and reads byte for byte as it did before French existed.

One language per process, chosen once from `[ui] language` (or the locale) by
the UI and the CLI, like `tui.text.use_date_style`: the UI serves one nurse at
one terminal. What the store keeps and the sync payload carries (urgency and
category words) stays English; it is translated where it is shown.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "edgebox"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "fr")
"""The languages of the UI and the CLI; English is the message ids."""
CHOICES = ("auto", *LANGUAGES)
"""What `[ui] language` may say; auto reads the locale."""

# gettext's own order: LANGUAGE first, then the POSIX locale variables.
_LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_active: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def choose(setting: str, environ: Mapping[str, str] | None = None) -> str:
    """The language to show: the setting, or with "auto" the first locale
    variable set ("fr_FR.UTF-8" -> fr); English for any other language."""
    if setting != "auto":
        if setting not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(CHOICES)}")
        return setting
    env = os.environ if environ is None else environ
    for name in _LOCALE_VARIABLES:
        value = env.get(name, "")
        if value:
            code = value.split(":")[0][:2].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def activate(language: str) -> None:
    """Show every later message in `language` (en or fr)."""
    global _active, _language
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    _language = language
    _active = (
        gettext.NullTranslations()
        if language == "en"
        else gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    )


def language() -> str:
    """The language messages are shown in now."""
    return _language


def _(message: str) -> str:
    """`message` in the active language (itself in English)."""
    # gettext("") is the catalogue's header, never an empty label's text.
    return _active.gettext(message) if message else message


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is declared (a class
    attribute, a table) and translated later, where it is shown."""
    return message
