from pathlib import Path

import pytest

from edgebox.errors import ExtractError
from edgebox.extract import extract_text


def test_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Fièvre élevée, enfant léthargique", encoding="utf-8")
    assert extract_text(path) == "Fièvre élevée, enfant léthargique"


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_bytes("\ufeff# Note".encode())
    assert extract_text(path) == "# Note"


def test_legacy_windows_text_never_crashes_the_decode(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("Référence : fièvre".encode("cp1252") + b"\x81")
    assert extract_text(path).startswith("Référence : fièvre")


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"", "empty", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "unsupported", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "unsupported", "PNG"),
        (bytes(range(256)) * 4, "unsupported", "binary"),
    ],
)
def test_bad_input_is_named_with_a_reason(
    tmp_path: Path, content: bytes, code: str, words: str
) -> None:
    path = tmp_path / "scan.txt"
    path.write_bytes(content)
    with pytest.raises(ExtractError) as caught:
        extract_text(path)
    assert caught.value.code == code
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 100)
    with pytest.raises(ExtractError, match="over the 10-byte limit"):
        extract_text(path, max_bytes=10)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="missing.txt"):
        extract_text(tmp_path / "missing.txt")
