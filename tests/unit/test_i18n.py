"""The language mechanism: which language, the French catalogue, and that the
committed .mo is what its .po compiles to and holds every message the code uses."""

from __future__ import annotations

import gettext
import importlib.util
import string
import subprocess
import sys
from pathlib import Path

import pytest

from edgebox import config, i18n

REPO = Path(__file__).resolve().parents[2]  # tests/<folder>/this file
SCRIPT = REPO / "scripts" / "i18n.py"


def _script():
    spec = importlib.util.spec_from_file_location("i18n_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "fr_CA.UTF-8"}, "fr"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_SN.UTF-8"}, "fr"),
        ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "en"),
        ({"LANGUAGE": "fr:en", "LC_ALL": "en_US.UTF-8"}, "fr"),
    ],
)
def test_auto_reads_the_locale_as_gettext_does(environ, expected):
    assert i18n.choose("auto", environ) == expected


def test_a_set_language_wins_over_the_locale():
    assert i18n.choose("en", {"LANG": "fr_FR.UTF-8"}) == "en"
    assert i18n.choose("fr", {"LANG": "en_US.UTF-8"}) == "fr"


def test_a_language_without_a_catalogue_is_refused():
    with pytest.raises(ValueError, match="one of auto, en, fr"):
        i18n.choose("de", {})


def test_french_translates_and_english_is_the_message_itself():
    i18n.activate("fr")
    assert i18n._("quit") == "quitter"
    assert i18n._("Confirm {n} document(s) as they are?").format(n=3) == (
        "Confirmer 3 document(s) tels quels ?"
    )
    assert i18n._("") == ""  # never the catalogue's header
    i18n.activate("en")
    assert i18n._("quit") == "quit"
    assert i18n.language() == "en"


def test_ui_language_is_a_setting_with_its_choices(edgebox_home):
    assert config.load(edgebox_home).ui.language == "auto"
    edgebox_home.mkdir(parents=True)
    (edgebox_home / "edgebox.toml").write_text('[ui]\nlanguage = "de"\n')
    loaded = config.load(edgebox_home)  # [ui] is soft: a notice, then the default
    assert loaded.ui.language == "auto"
    (notice,) = loaded.notices
    assert "'ui.language' must be one of auto, en, fr, got 'de'" in notice


def test_the_committed_mo_is_what_the_po_compiles_to():
    script = _script()
    entries = script.read_po(script.PO.read_text(encoding="utf-8"))
    assert script.MO.read_bytes() == script.compile_mo(entries)
    with script.MO.open("rb") as mo:
        loaded = gettext.GNUTranslations(mo)
    for msgid, msgstr in entries.items():
        if msgid:
            assert loaded.gettext(msgid) == msgstr


def test_every_message_the_code_uses_has_its_french():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert len(_script().used_messages()) > 50


def test_the_check_finds_a_new_message_and_a_key_label(tmp_path):
    source = tmp_path / "screen.py"
    source.write_text(
        "from edgebox.i18n import _\n"
        'x = _("a message no one translated")\n'
        'BINDINGS = [Binding("z", "zap", "zap it"), Binding("y", "y", "")]\n'
    )
    found = _script().used_messages((tmp_path,))
    assert set(found) == {"a message no one translated", "zap it"}
    assert found["zap it"].endswith("screen.py:3")


def test_each_translation_keeps_its_placeholders():
    script = _script()
    entries = script.read_po(script.PO.read_text(encoding="utf-8"))
    fields = string.Formatter()
    for msgid, msgstr in entries.items():
        if not msgid:
            continue
        wanted = {name for _, name, _, _ in fields.parse(msgid) if name is not None}
        given = {name for _, name, _, _ in fields.parse(msgstr) if name is not None}
        assert given == wanted, msgid


def test_the_check_finds_an_assignment_that_hides_the_translator(tmp_path):
    (tmp_path / "table.py").write_text(
        "from edgebox.i18n import _\n_, name = (1, 2)\nlabel = _(name)\n"
    )
    (tmp_path / "plain.py").write_text("_, name = (1, 2)\n")
    assert _script().shadowed((tmp_path,)) == [f"{tmp_path.name}/table.py:2: assigns _"]
